ALTER TABLE `ledger_transactions` ADD `prev_hash` text;--> statement-breakpoint
ALTER TABLE `ledger_transactions` ADD `hash` text;