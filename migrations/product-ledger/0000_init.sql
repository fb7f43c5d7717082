CREATE TABLE `idempotency_keys` (
	`key` text PRIMARY KEY NOT NULL,
	`fingerprint` text NOT NULL,
	`response` text NOT NULL,
	`first_seq` integer NOT NULL,
	`last_seq` integer NOT NULL,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE TABLE `ledger_rows` (
	`seq` integer PRIMARY KEY NOT NULL,
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
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE INDEX `ledger_rows_reason_seq` ON `ledger_rows` (`reason`,`seq`);--> statement-breakpoint
CREATE INDEX `ledger_rows_type_seq` ON `ledger_rows` (`type`,`seq`);--> statement-breakpoint
CREATE INDEX `ledger_rows_location_seq` ON `ledger_rows` (`location_id`,`seq`);--> statement-breakpoint
CREATE TABLE `location_stock` (
	`location_id` text PRIMARY KEY NOT NULL,
	`on_hand` integer NOT NULL,
	`reserved` integer NOT NULL,
	`last_seq` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `product_stock` (
	`singleton` integer PRIMARY KEY NOT NULL,
	`product_id` text NOT NULL,
	`on_hand` integer NOT NULL,
	`reserved` integer NOT NULL,
	`version` integer NOT NULL,
	`oversold_locations` integer NOT NULL,
	`location_count` integer NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "product_stock_single_row" CHECK("product_stock"."singleton" = 1)
);
--> statement-breakpoint
CREATE TABLE `reservation_fences` (
	`reservation_id` text PRIMARY KEY NOT NULL,
	`attempt` integer NOT NULL
);
--> statement-breakpoint
CREATE TABLE `reservation_holds` (
	`reservation_id` text NOT NULL,
	`location_id` text NOT NULL,
	`quantity` integer NOT NULL,
	`status` text NOT NULL,
	`attempt` integer NOT NULL,
	`expires_at` text NOT NULL,
	`last_seq` integer NOT NULL,
	PRIMARY KEY(`reservation_id`, `location_id`)
);
--> statement-breakpoint
CREATE INDEX `reservation_holds_location_status` ON `reservation_holds` (`location_id`,`status`);