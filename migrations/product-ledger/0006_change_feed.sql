CREATE TABLE `events` (
	`position` integer PRIMARY KEY NOT NULL,
	`type` text NOT NULL,
	`seq` integer NOT NULL,
	`occurred_at` text NOT NULL,
	`stock` text NOT NULL,
	`with_transaction` integer NOT NULL,
	`settings` text
);
--> statement-breakpoint
CREATE INDEX `events_type_position` ON `events` (`type`,`position`);--> statement-breakpoint
CREATE TABLE `feed_state` (
	`singleton` integer PRIMARY KEY NOT NULL,
	`checked_position` integer NOT NULL,
	CONSTRAINT "feed_state_single_row" CHECK("feed_state"."singleton" = 1)
);
--> statement-breakpoint
CREATE TABLE `product_settings` (
	`singleton` integer PRIMARY KEY NOT NULL,
	`low_stock_threshold` integer,
	`shards` integer NOT NULL,
	`updated_by` text NOT NULL,
	`updated_at` text NOT NULL,
	CONSTRAINT "product_settings_single_row" CHECK("product_settings"."singleton" = 1)
);
--> statement-breakpoint
CREATE TABLE `subscription_cursors` (
	`subscription_id` text PRIMARY KEY NOT NULL,
	`position` integer NOT NULL
);
