CREATE TABLE `ledger_transactions` (
	`product_id` text NOT NULL,
	`seq` integer NOT NULL,
	`id` text NOT NULL,
	`type` text NOT NULL,
	`quantity` integer NOT NULL,
	`delta` integer NOT NULL,
	`location_id` text NOT NULL,
	`reason` text NOT NULL,
	`created_by` text NOT NULL,
	`actor` text,
	`metadata` text,
	`reservation_id` text,
	`idempotency_key` text NOT NULL,
	`created_at` text NOT NULL,
	PRIMARY KEY(`product_id`, `seq`)
);
--> statement-breakpoint
CREATE INDEX `ledger_transactions_time` ON `ledger_transactions` (`created_at`,`product_id`,`seq`);--> statement-breakpoint
CREATE INDEX `ledger_transactions_reason` ON `ledger_transactions` (`reason`,`created_at`);--> statement-breakpoint
CREATE INDEX `ledger_transactions_created_by` ON `ledger_transactions` (`created_by`,`created_at`);--> statement-breakpoint
CREATE INDEX `ledger_transactions_reservation` ON `ledger_transactions` (`reservation_id`) WHERE "ledger_transactions"."reservation_id" IS NOT NULL;--> statement-breakpoint
CREATE TABLE `run_products` (
	`run_id` text NOT NULL,
	`product_id` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`rows_exported` integer NOT NULL,
	`cache_before` text,
	`cache_after` text,
	`divergence` text,
	`error` text,
	PRIMARY KEY(`run_id`, `product_id`)
);
--> statement-breakpoint
CREATE INDEX `run_products_status` ON `run_products` (`run_id`,`status`);--> statement-breakpoint
CREATE TABLE `runs` (
	`run_id` text PRIMARY KEY NOT NULL,
	`kind` text NOT NULL,
	`trigger` text NOT NULL,
	`status` text NOT NULL,
	`planning_done` integer NOT NULL,
	`started_at` text NOT NULL,
	`finished_at` text
);
--> statement-breakpoint
CREATE INDEX `runs_kind_started` ON `runs` (`kind`,`started_at`);