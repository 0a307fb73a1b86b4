-- 0003: what a run saw of XPM's pace: bytes on the wire (gzip) besides bytes decoded, how long
-- XPM took to start sending the client list, and how many list requests timed out.
ALTER TABLE sync_runs ADD COLUMN bytes_on_wire INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN list_wait_ms INTEGER NOT NULL DEFAULT 0;
ALTER TABLE sync_runs ADD COLUMN list_timeouts INTEGER NOT NULL DEFAULT 0;
