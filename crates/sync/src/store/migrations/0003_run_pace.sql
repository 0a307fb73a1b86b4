-- 0003: what a run saw of XPM's pace: bytes on the wire (gzip) besides bytes decoded, how long
-- XPM took to start sending the client list, and how many list requests timed out.
ALTER TABLE sync_runs ADD COLUMN bytes_on_wire INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN list_wait_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN list_timeouts INTEGER NOT NULL DEFAULT 0;

-- What the window's client search reads, in the order it shows (name, then UUID), with every
-- column it filters on: a page of 200 walks this index and stops, and the count of matches scans
-- it alone, never the ~4 KB client rows (which a sync may be writing meanwhile).
CREATE INDEX clients_by_name ON clients (connection_id, name COLLATE NOCASE, uuid, client_code, email, removed_at);
