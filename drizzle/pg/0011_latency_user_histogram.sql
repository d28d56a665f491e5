-- A team's medians read the team's slice of latency_user_daily: ~110k rows a month for a team of 50 at 1M
-- messages (~75 distinct latencies per person-day), most of the request's time. Here each person-day is one row,
-- its histogram packed into an `ms:answers,…` string (answers > 0, ascending ms; '' when none) — the packing the
-- company-wide histogram gets from string_agg when the admin's stats read it — so a team's month is ~1,500 rows.
-- latency_user_daily stays: messages_rollup and conversations_rollup (0010) keep its counts in step, and the
-- trigger below rebuilds the touched person-day's string from its range, in the same transaction.
CREATE TABLE "latency_user_histogram" (
	"user_id" text NOT NULL,
	"day" integer NOT NULL,
	"histogram" text DEFAULT '' NOT NULL,
	CONSTRAINT "latency_user_histogram_user_id_day_pk" PRIMARY KEY("user_id","day")
);
--> statement-breakpoint
-- The person-day's row is locked before its range is read: two transactions changing different latencies of one
-- person-day would otherwise each rebuild from a snapshot without the other's change, and the later write would
-- lose the earlier. Under READ COMMITTED the aggregate, a statement after the lock, sees what the holder committed.
-- (Today messages_rollup's usage_daily upsert, before this, already serializes a person-day's writers — a version
-- without this lock lost nothing in 3 × 40 concurrent answers — but the rebuild should not depend on that order.)
CREATE OR REPLACE FUNCTION latency_user_histogram_rebuild() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO latency_user_histogram (user_id, day) VALUES (NEW.user_id, NEW.day) ON CONFLICT DO NOTHING;
  PERFORM 1 FROM latency_user_histogram WHERE user_id = NEW.user_id AND day = NEW.day FOR UPDATE;
  UPDATE latency_user_histogram SET histogram = coalesce((
      SELECT string_agg(ms || ':' || answers, ',' ORDER BY ms) FROM latency_user_daily
      WHERE user_id = NEW.user_id AND day = NEW.day AND answers > 0), '')
    WHERE user_id = NEW.user_id AND day = NEW.day;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER latency_user_daily_histogram AFTER INSERT OR UPDATE ON latency_user_daily
  FOR EACH ROW EXECUTE FUNCTION latency_user_histogram_rebuild();
--> statement-breakpoint
-- backfill, in key order
INSERT INTO latency_user_histogram (user_id, day, histogram)
  SELECT user_id, day, string_agg(ms || ':' || answers, ',' ORDER BY ms) FROM latency_user_daily
  WHERE answers > 0 GROUP BY user_id, day ORDER BY user_id, day;
