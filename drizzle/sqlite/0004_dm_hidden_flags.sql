DROP INDEX `dm_hidden_user_idx`;--> statement-breakpoint
ALTER TABLE `dm_hidden` ADD `received` integer DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE `dm_hidden` ADD `unread` integer DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX `dm_hidden_user_idx` ON `dm_hidden` (`user_id`,`received`,`unread`);