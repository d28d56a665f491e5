CREATE INDEX `audit_events_target_idx` ON `audit_events` (`target_id`,`at`);--> statement-breakpoint
CREATE INDEX `messages_created_idx` ON `messages` (`created_at`);