-- 0002: what a sync reads for every client it receives (hash, tombstone, archived flag) and
-- what the tombstone pass, the counts and the verify slice scan, in one covering index: none of
-- them has to read a client's ~4 KB row (an unchanged re-sync of 15,000 clients otherwise reads
-- the whole table from disk).
CREATE INDEX clients_sync_state ON clients (connection_id, uuid, content_hash, removed_at, is_archived);
