-- The offline outbox's sends, by the id the device gave each (clientId): a send repeated because its answer never
-- reached the device finds what the first one created (server/services/client-sends.ts).
CREATE TABLE `client_sends` (
	`user_id` text NOT NULL,
	`client_id` text NOT NULL,
	`kind` text NOT NULL,
	`target_id` text NOT NULL,
	`created_at` integer DEFAULT (unixepoch() * 1000) NOT NULL,
	PRIMARY KEY(`user_id`, `client_id`),
	FOREIGN KEY (`user_id`) REFERENCES `users`(`id`) ON UPDATE no action ON DELETE cascade
);
