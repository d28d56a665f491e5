CREATE TABLE "latency_daily" (
	"day" integer NOT NULL,
	"ms" integer NOT NULL,
	"answers" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "latency_daily_day_ms_pk" PRIMARY KEY("day","ms")
);
--> statement-breakpoint
CREATE TABLE "usage_daily" (
	"day" integer NOT NULL,
	"user_id" text NOT NULL,
	"messages" integer DEFAULT 0 NOT NULL,
	"prompt_tokens" integer DEFAULT 0 NOT NULL,
	"completion_tokens" integer DEFAULT 0 NOT NULL,
	CONSTRAINT "usage_daily_day_user_id_pk" PRIMARY KEY("day","user_id")
);
--> statement-breakpoint
DROP INDEX "dm_hidden_user_idx";--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "access_seen_at" timestamp with time zone;--> statement-breakpoint
ALTER TABLE "conversations" ADD COLUMN "message_count" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
ALTER TABLE "dm_hidden" ADD COLUMN "received" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "dm_hidden" ADD COLUMN "unread" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "conversations_user_list_idx" ON "conversations" USING btree ("user_id","pinned","updated_at","id");--> statement-breakpoint
CREATE INDEX "conversations_created_idx" ON "conversations" USING btree ("created_at");--> statement-breakpoint
CREATE INDEX "dm_hidden_user_idx" ON "dm_hidden" USING btree ("user_id","received","unread");