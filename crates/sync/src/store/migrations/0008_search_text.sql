-- 0008: the client search reads one column, `search_text` (the client's name, code, email and
-- UUID and its live contacts' names and emails, one per line; see `store/search.rs`), from one
-- covering index in name order, instead of matching four columns and then every contact. It
-- replaces `clients_by_name`, which served the same list without the contacts; and the
-- contacts' own search index, `contacts_search`, is dropped (nothing matches contacts any more;
-- the list's count of a page's contacts reads their rows, 200 clients at a time). The column is
-- filled by this migration's data step in `migrations.rs` (`search::fill`), which holds the one
-- SQL form of the text.
ALTER TABLE clients ADD COLUMN search_text TEXT;
DROP INDEX clients_by_name;
DROP INDEX contacts_search;
CREATE INDEX clients_search ON clients (connection_id, name COLLATE NOCASE, uuid, removed_at, search_text);
