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
DROP INDEX `dm_hidden_user_idx`;--> statement-breakpoint
ALTER TABLE `dm_hidden` ADD `received` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `dm_hidden` ADD `unread` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `dm_hidden_user_idx` ON `dm_hidden` (`user_id`,`received`,`unread`);--> statement-breakpoint
ALTER TABLE `conversations` ADD `access_seen_at` integer;--> statement-breakpoint
ALTER TABLE `conversations` ADD `message_count` integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX `conversations_user_list_idx` ON `conversations` (`user_id`,`pinned`,`updated_at`,`id`);--> statement-breakpoint
CREATE INDEX `conversations_created_idx` ON `conversations` (`created_at`);