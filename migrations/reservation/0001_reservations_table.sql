CREATE TABLE `reservations` (
	`id` text PRIMARY KEY NOT NULL,
	`phase` text NOT NULL,
	`reason` text NOT NULL,
	`ttl_seconds` integer NOT NULL,
	`expires_at` text NOT NULL,
	`created_by` text NOT NULL,
	`created_at` text NOT NULL,
	`lines` text NOT NULL,
	`idempotency_key` text NOT NULL,
	`fingerprint` text NOT NULL,
	`attempt` integer NOT NULL,
	`retries` integer NOT NULL,
	`closed_by` text,
	`closed_key` text,
	`updated_at` text NOT NULL,
	`alarm_at` integer
);
--> statement-breakpoint
CREATE INDEX `reservations_alarm_at` ON `reservations` (`alarm_at`) WHERE "reservations"."alarm_at" IS NOT NULL;