DROP INDEX "dm_hidden_user_idx";--> statement-breakpoint
ALTER TABLE "dm_hidden" ADD COLUMN "received" boolean DEFAULT false NOT NULL;--> statement-breakpoint
ALTER TABLE "dm_hidden" ADD COLUMN "unread" boolean DEFAULT false NOT NULL;--> statement-breakpoint
CREATE INDEX "dm_hidden_user_idx" ON "dm_hidden" USING btree ("user_id","received","unread");