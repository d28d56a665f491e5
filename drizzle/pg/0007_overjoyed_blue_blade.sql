ALTER TABLE "users" ADD COLUMN "conversation_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "users" ADD COLUMN "archived_conversation_count" integer DEFAULT 0 NOT NULL;