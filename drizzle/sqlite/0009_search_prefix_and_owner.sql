-- Custom migration: the full-text index of 0006 gets prefix indexes for 2- and 3-letter prefixes. A search is
-- typed word by word and its last word is matched as a prefix: without these, a short prefix such as "dra" makes
-- FTS5 merge the entries of every word that starts with it (thousands of words, every user's messages) before the
-- owner term can narrow them — about a second at 1M messages. With them it is one entry, like a whole word.
-- FTS5 cannot add a prefix index to an existing table: it is made again with the same name, columns, tokenizer and
-- external content (the view of 0006), and rebuilt from the messages. The triggers of 0006 name the table, not
-- its definition, and keep working.
DROP TABLE `messages_fts`;
--> statement-breakpoint
CREATE VIRTUAL TABLE `messages_fts` USING fts5(content, owner, content='messages_search', content_rowid='rid', tokenize='unicode61 remove_diacritics 2', prefix='2 3');
--> statement-breakpoint
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');
