-- 0008: the client search reads one column, `search_text` (the client's name, code, email and
-- UUID and its live contacts' names and emails, one per line; see `store/search.rs`), from one
-- covering index in name order, instead of matching four columns and then every contact. It
-- replaces `clients_by_name`, which served the same list without the contacts. Nothing matches
-- a contact's name or email directly any more: `contacts_search` gives way to `contacts_state`,
-- the same without them, which still covers the counts of live contacts (the status, a page's
-- count per client) and the sweep's pass over live contacts. The column is
-- filled by this migration's data step in `migrations.rs` (`search::fill`), which holds the one
-- SQL form of the text.
ALTER TABLE clients ADD COLUMN search_text TEXT;
DROP INDEX clients_by_name;
DROP INDEX contacts_search;
CREATE INDEX contacts_state ON contacts (connection_id, uuid, is_deleted, removed_at);
CREATE INDEX clients_search ON clients (connection_id, name COLLATE NOCASE, uuid, removed_at, search_text);
