-- A team's medians read the team's slice of latency_user_daily: ~110k rows a month for a team of 50 at 1M
-- messages (~75 distinct latencies per person-day), most of the request's CPU. Here each person-day is one row,
-- its histogram packed into an `ms:answers,…` string (answers > 0, ascending ms; '' when none) — the packing the
-- company-wide histogram gets from group_concat when the admin's stats read it — so a team's month is ~1,500 rows.
-- latency_user_daily stays: its triggers (0010) keep the counts in step with messages and conversations, and the
-- triggers below rebuild the touched person-day's string from its range, in the same transaction.
-- WITHOUT ROWID as 0010: rows in key order, a member's days on neighbouring pages.
CREATE TABLE `latency_user_histogram` (
	`user_id` text NOT NULL,
	`day` integer NOT NULL,
	`histogram` text DEFAULT '' NOT NULL,
	PRIMARY KEY(`user_id`, `day`)
) WITHOUT ROWID;
--> statement-breakpoint
-- (an upsert that updates fires the UPDATE trigger; `where true`: SQLite's parser needs it before ON CONFLICT)
CREATE TRIGGER `latency_user_daily_histogram_insert` AFTER INSERT ON `latency_user_daily` BEGIN
  INSERT INTO latency_user_histogram (user_id, day, histogram)
    SELECT new.user_id, new.day, coalesce(group_concat(h.ms || ':' || h.answers, ','), '')
    FROM (SELECT ms, answers FROM latency_user_daily WHERE user_id = new.user_id AND day = new.day AND answers > 0 ORDER BY ms) h
    WHERE true
    ON CONFLICT (user_id, day) DO UPDATE SET histogram = excluded.histogram;
END;
--> statement-breakpoint
CREATE TRIGGER `latency_user_daily_histogram_update` AFTER UPDATE ON `latency_user_daily` BEGIN
  INSERT INTO latency_user_histogram (user_id, day, histogram)
    SELECT new.user_id, new.day, coalesce(group_concat(h.ms || ':' || h.answers, ','), '')
    FROM (SELECT ms, answers FROM latency_user_daily WHERE user_id = new.user_id AND day = new.day AND answers > 0 ORDER BY ms) h
    WHERE true
    ON CONFLICT (user_id, day) DO UPDATE SET histogram = excluded.histogram;
END;
--> statement-breakpoint
-- backfill, in key order
INSERT INTO latency_user_histogram (user_id, day, histogram)
  SELECT h.user_id, h.day, group_concat(h.ms || ':' || h.answers, ',') FROM
    (SELECT user_id, day, ms, answers FROM latency_user_daily WHERE answers > 0 ORDER BY user_id, day, ms) h
  GROUP BY h.user_id, h.day ORDER BY h.user_id, h.day;
