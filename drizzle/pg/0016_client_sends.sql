-- The offline outbox's sends, by the id the device gave each (clientId): a send repeated because its answer never
-- reached the device finds what the first one created (server/services/client-sends.ts).
CREATE TABLE "client_sends" (
	"user_id" text NOT NULL,
	"client_id" text NOT NULL,
	"kind" text NOT NULL,
	"target_id" text NOT NULL,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	CONSTRAINT "client_sends_user_id_client_id_pk" PRIMARY KEY("user_id","client_id")
);
--> statement-breakpoint
ALTER TABLE "client_sends" ADD CONSTRAINT "client_sends_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;