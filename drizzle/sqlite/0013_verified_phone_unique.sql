-- A verified number is one person's: the SMS channel finds the user by it. Each app process verifies one number at
-- a time, but processes did not know of each other; the unique index below holds it across them. A number verified
-- on several accounts before (by such a race) stays verified on the account that verified it first; the others keep
-- the number unverified and can verify another.
UPDATE users SET phone_verified_at = NULL
  WHERE phone_verified_at IS NOT NULL AND EXISTS (
    SELECT 1 FROM users o WHERE o.phone = users.phone AND o.phone_verified_at IS NOT NULL
      AND (o.phone_verified_at < users.phone_verified_at OR (o.phone_verified_at = users.phone_verified_at AND o.id < users.id)));
--> statement-breakpoint
CREATE UNIQUE INDEX `users_verified_phone_unique` ON `users` (`phone`) WHERE phone_verified_at is not null;