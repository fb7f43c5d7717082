ALTER TABLE `ledger_rows` ADD `prev_hash` text;--> statement-breakpoint
ALTER TABLE `ledger_rows` ADD `hash` text;