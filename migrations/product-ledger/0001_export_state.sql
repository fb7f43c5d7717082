CREATE TABLE `export_state` (
	`singleton` integer PRIMARY KEY NOT NULL,
	`watermark_seq` integer NOT NULL,
	`registered_at` text,
	`registration_attempts` integer NOT NULL,
	CONSTRAINT "export_state_single_row" CHECK("export_state"."singleton" = 1)
);
