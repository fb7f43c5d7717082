CREATE TABLE `webhook_deliveries` (
	`delivery_seq` integer PRIMARY KEY AUTOINCREMENT NOT NULL,
	`source_id` text NOT NULL,
	`webhook_id` text NOT NULL,
	`type` text NOT NULL,
	`status` text NOT NULL,
	`result` text,
	`attempts` integer NOT NULL,
	`received_at` text NOT NULL,
	`updated_at` text NOT NULL
);
--> statement-breakpoint
CREATE UNIQUE INDEX `webhook_deliveries_source_id` ON `webhook_deliveries` (`source_id`,`webhook_id`);--> statement-breakpoint
CREATE INDEX `webhook_deliveries_source_seq` ON `webhook_deliveries` (`source_id`,`delivery_seq`);