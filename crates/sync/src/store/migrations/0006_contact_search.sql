-- 0006: the client search also matches a contact's name or email. The contacts it finds come from
-- this covering index in one sequential pass (the table rows, looked up one by one through the
-- UNIQUE index, took ~45 ms for 23,000 contacts); the client list's count of a client's contacts
-- reads it too (uuid, then the two "still there" flags).
CREATE INDEX contacts_search ON contacts (connection_id, uuid, is_deleted, removed_at, name, email);
