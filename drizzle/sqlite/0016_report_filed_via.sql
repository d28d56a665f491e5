-- Who filed a report: null for the reporter in the app (every report before this migration), 'assistant' or 'sms'
-- when the assistant filed it for them (create_report, on the web or by SMS). Nullable, no default: no rewrite.
ALTER TABLE `reports` ADD `filed_via` text;
