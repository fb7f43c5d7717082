CREATE TABLE `products` (
	`product_id` text PRIMARY KEY NOT NULL,
	`registered_at` text NOT NULL
);
