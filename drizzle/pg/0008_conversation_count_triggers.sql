-- users.conversation_count / archived_conversation_count: the `total` of a user's conversation list (and the
-- admin users list's counts) read from one row instead of counting the user's conversations on every request.
-- Kept in the same transaction as the write. Statement-level triggers with transition tables: one UPDATE per
-- owner per statement. (Row-level triggers would update the same users row once per conversation, and within one
-- transaction PostgreSQL then walks an ever longer chain of row versions: 20,000 rows in one INSERT took 12 s.)
CREATE FUNCTION conversations_owner_count_insert() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users u SET conversation_count = u.conversation_count + d.n, archived_conversation_count = u.archived_conversation_count + d.a
    FROM (SELECT user_id, count(*) AS n, count(*) FILTER (WHERE archived) AS a FROM new_rows GROUP BY user_id) d
    WHERE u.id = d.user_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE FUNCTION conversations_owner_count_delete() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users u SET conversation_count = u.conversation_count - d.n, archived_conversation_count = u.archived_conversation_count - d.a
    FROM (SELECT user_id, count(*) AS n, count(*) FILTER (WHERE archived) AS a FROM old_rows GROUP BY user_id) d
    WHERE u.id = d.user_id;
  RETURN NULL;
END $$;
--> statement-breakpoint
-- an UPDATE that moves no conversation to another owner and (un)archives none writes nothing
CREATE FUNCTION conversations_owner_count_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE users u SET conversation_count = u.conversation_count + d.n, archived_conversation_count = u.archived_conversation_count + d.a
    FROM (
      SELECT user_id, sum(n) AS n, sum(a) AS a FROM (
        SELECT n.user_id, 1 AS n, CASE WHEN n.archived THEN 1 ELSE 0 END AS a
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE o.user_id IS DISTINCT FROM n.user_id OR o.archived IS DISTINCT FROM n.archived
        UNION ALL
        SELECT o.user_id, -1, CASE WHEN o.archived THEN -1 ELSE 0 END
          FROM new_rows n JOIN old_rows o ON o.id = n.id
          WHERE o.user_id IS DISTINCT FROM n.user_id OR o.archived IS DISTINCT FROM n.archived
      ) x GROUP BY user_id
    ) d
    WHERE u.id = d.user_id AND (d.n <> 0 OR d.a <> 0);
  RETURN NULL;
END $$;
--> statement-breakpoint
CREATE TRIGGER "conversations_owner_count_insert" AFTER INSERT ON "conversations"
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION conversations_owner_count_insert();
--> statement-breakpoint
CREATE TRIGGER "conversations_owner_count_delete" AFTER DELETE ON "conversations"
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION conversations_owner_count_delete();
--> statement-breakpoint
CREATE TRIGGER "conversations_owner_count_update" AFTER UPDATE ON "conversations"
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION conversations_owner_count_update();
--> statement-breakpoint
UPDATE users u SET conversation_count = c.n, archived_conversation_count = c.a
  FROM (SELECT user_id, count(*) AS n, count(*) FILTER (WHERE archived) AS a FROM conversations GROUP BY user_id) c
  WHERE c.user_id = u.id;
