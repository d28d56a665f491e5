CREATE TABLE `latency_daily` (
	`day` integer NOT NULL,
	`ms` integer NOT NULL,
	`answers` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`day`, `ms`)
);
--> statement-breakpoint
CREATE TABLE `usage_daily` (
	`day` integer NOT NULL,
	`user_id` text NOT NULL,
	`messages` integer DEFAULT 0 NOT NULL,
	`prompt_tokens` integer DEFAULT 0 NOT NULL,
	`completion_tokens` integer DEFAULT 0 NOT NULL,
	PRIMARY KEY(`day`, `user_id`)
);
--> statement-breakpoint
ALTER TABLE `conversations` ADD `message_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `conversations_user_list_idx` ON `conversations` (`user_id`,`pinned`,`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `conversations_created_idx` ON `conversations` (`created_at`);