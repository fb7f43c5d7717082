CREATE TABLE `order_line_cancellations` (
	`key` text PRIMARY KEY NOT NULL,
	`created_at` text NOT NULL
);
