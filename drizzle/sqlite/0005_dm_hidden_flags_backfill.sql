-- Custom (data, not schema): the dm_hidden flags of rows written before 0004. "received" = the hider is the
-- message's recipient; "unread" = received and still unread (a hidden message cannot be read any more).
UPDATE `dm_hidden` SET
  `received` = EXISTS (SELECT 1 FROM `dms` WHERE `dms`.`id` = `dm_hidden`.`dm_id` AND `dms`.`recipient_id` = `dm_hidden`.`user_id`),
  `unread` = EXISTS (SELECT 1 FROM `dms` WHERE `dms`.`id` = `dm_hidden`.`dm_id` AND `dms`.`recipient_id` = `dm_hidden`.`user_id` AND `dms`.`read_at` IS NULL);
