CREATE TABLE `deliveries` (
	`log_seq` integer PRIMARY KEY NOT NULL,
	`product_id` text NOT NULL,
	`position` integer NOT NULL,
	`event_id` text NOT NULL,
	`seq` integer NOT NULL,
	`type` text NOT NULL,
	`body` text NOT NULL,
	`status` text NOT NULL,
	`attempts` integer NOT NULL,
	`last_attempt_at` text,
	`last_status` integer,
	`last_error` text,
	`next_attempt_at` integer,
	`created_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `deliveries_product_position` ON `deliveries` (`product_id`,`position`);--> statement-breakpoint
CREATE INDEX `deliveries_event` ON `deliveries` (`event_id`);--> statement-breakpoint
CREATE INDEX `deliveries_pending` ON `deliveries` (`status`,`product_id`,`position`);--> statement-breakpoint
CREATE INDEX `deliveries_status_log` ON `deliveries` (`status`,`log_seq`);--> statement-breakpoint
CREATE TABLE `secrets` (
	`secret` text PRIMARY KEY NOT NULL,
	`created_at` text NOT NULL,
	`expires_at` integer
);
--> statement-breakpoint
CREATE TABLE `subscription` (
	`singleton` integer PRIMARY KEY NOT NULL,
	`id` text NOT NULL,
	`url` text NOT NULL,
	`event_types` text NOT NULL,
	`product_ids` text,
	`description` text,
	`status` text NOT NULL,
	`disabled_reason` text,
	`created_at` text NOT NULL,
	`consecutive_failures` integer NOT NULL,
	`registry_dirty` integer NOT NULL,
	CONSTRAINT "subscription_single_row" CHECK("subscription"."singleton" = 1)
);
