-- 0001: the client directory, sync history and per-field change log.
-- Times are UTC text 'YYYY-MM-DDTHH:MM:SS.mmmZ' (fixed width, so they sort as text).
-- Hashes are SHA-256 (32-byte blobs) over a canonical JSON serialisation.
-- No table holds a token of any kind.

CREATE TABLE connections (
    id                   INTEGER PRIMARY KEY,
    provider             TEXT    NOT NULL DEFAULT 'xpm' CHECK (provider IN ('xpm')),
    xero_connection_id   TEXT    NOT NULL,
    tenant_id            TEXT    NOT NULL,
    tenant_name          TEXT    NOT NULL,
    authorised_by_name   TEXT,
    authorised_by_email  TEXT,
    status               TEXT    NOT NULL DEFAULT 'connected'
                         CHECK (status IN ('connected', 'syncing', 'needs_reauth', 'disconnected')),
    status_reason        TEXT,
    settings             TEXT    NOT NULL DEFAULT '{}',
    watermark            TEXT,
    next_changes_due_at  TEXT,
    next_full_due_at     TEXT,
    next_token_refresh_at TEXT,
    full_requested_at    TEXT,
    token_refreshed_at   TEXT,
    verify_cursor        TEXT,
    quota_min_remaining  INTEGER,
    quota_day_remaining  INTEGER,
    quota_observed_at    TEXT,
    created_at           TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL
);
CREATE UNIQUE INDEX connections_live_tenant
    ON connections (provider, tenant_id) WHERE status <> 'disconnected';

CREATE TABLE clients (
    id                   INTEGER PRIMARY KEY,
    connection_id        INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    uuid                 TEXT    NOT NULL,
    name                 TEXT,
    title                TEXT,
    gender               TEXT,
    first_name           TEXT,
    last_name            TEXT,
    other_name           TEXT,
    middle_name          TEXT,
    date_of_birth        TEXT,
    email                TEXT,
    address              TEXT,
    city                 TEXT,
    region               TEXT,
    post_code            TEXT,
    country              TEXT,
    postal_address       TEXT,
    postal_city          TEXT,
    postal_region        TEXT,
    postal_post_code     TEXT,
    postal_country       TEXT,
    phone                TEXT,
    fax                  TEXT,
    website              TEXT,
    referral_source      TEXT,
    export_code          TEXT,
    client_code          TEXT,
    web_url              TEXT,
    is_prospect          INTEGER NOT NULL DEFAULT 0,
    is_archived          INTEGER NOT NULL DEFAULT 0,
    is_deleted           INTEGER NOT NULL DEFAULT 0,
    account_manager_uuid TEXT,
    account_manager_name TEXT,
    job_manager_uuid     TEXT,
    job_manager_name     TEXT,
    billing_client_uuid  TEXT,
    billing_client_name  TEXT,
    client_type          TEXT,
    business_structure   TEXT,
    tax_number           TEXT,
    company_number       TEXT,
    business_number      TEXT,
    data                 TEXT    NOT NULL,
    content_hash         BLOB    NOT NULL,
    first_seen_at        TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL,
    removed_at           TEXT,
    UNIQUE (connection_id, uuid)
);
-- No index on name or code: a sync writes every client row, a listing sorts 15,000 rows in
-- milliseconds, and searches are substring matches no index serves.

CREATE TABLE contacts (
    id                   INTEGER PRIMARY KEY,
    connection_id        INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    uuid                 TEXT    NOT NULL,
    name                 TEXT,
    salutation           TEXT,
    addressee            TEXT,
    mobile               TEXT,
    email                TEXT,
    phone                TEXT,
    is_deleted           INTEGER NOT NULL DEFAULT 0,
    content_hash         BLOB    NOT NULL,
    first_seen_at        TEXT    NOT NULL,
    updated_at           TEXT    NOT NULL,
    removed_at           TEXT,
    UNIQUE (connection_id, uuid)
);

CREATE TABLE client_contacts (
    connection_id        INTEGER NOT NULL,
    client_uuid          TEXT    NOT NULL,
    contact_uuid         TEXT    NOT NULL,
    is_primary           INTEGER NOT NULL DEFAULT 0,
    position             TEXT,
    sort_order           INTEGER NOT NULL,
    PRIMARY KEY (connection_id, client_uuid, contact_uuid),
    FOREIGN KEY (connection_id, client_uuid) REFERENCES clients (connection_id, uuid) ON DELETE CASCADE,
    FOREIGN KEY (connection_id, contact_uuid) REFERENCES contacts (connection_id, uuid) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX client_contacts_by_contact ON client_contacts (connection_id, contact_uuid);

CREATE TABLE groups (
    connection_id        INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    uuid                 TEXT    NOT NULL,
    name                 TEXT,
    PRIMARY KEY (connection_id, uuid)
) WITHOUT ROWID;

CREATE TABLE client_groups (
    connection_id        INTEGER NOT NULL,
    client_uuid          TEXT    NOT NULL,
    group_uuid           TEXT    NOT NULL,
    PRIMARY KEY (connection_id, client_uuid, group_uuid),
    FOREIGN KEY (connection_id, client_uuid) REFERENCES clients (connection_id, uuid) ON DELETE CASCADE,
    FOREIGN KEY (connection_id, group_uuid) REFERENCES groups (connection_id, uuid) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE relationships (
    connection_id        INTEGER NOT NULL,
    client_uuid          TEXT    NOT NULL,
    sort_order           INTEGER NOT NULL,
    uuid                 TEXT,
    relationship_type    TEXT,
    related_client_uuid  TEXT,
    related_client_name  TEXT,
    number_of_shares     TEXT,
    percentage           TEXT,
    start_date           TEXT,
    end_date             TEXT,
    PRIMARY KEY (connection_id, client_uuid, sort_order),
    FOREIGN KEY (connection_id, client_uuid) REFERENCES clients (connection_id, uuid) ON DELETE CASCADE
) WITHOUT ROWID;

CREATE TABLE notes (
    connection_id        INTEGER NOT NULL,
    client_uuid          TEXT    NOT NULL,
    sort_order           INTEGER NOT NULL,
    title                TEXT,
    text                 TEXT,
    folder               TEXT,
    date                 TEXT,
    created_by           TEXT,
    PRIMARY KEY (connection_id, client_uuid, sort_order),
    FOREIGN KEY (connection_id, client_uuid) REFERENCES clients (connection_id, uuid) ON DELETE CASCADE
);

CREATE TABLE sync_runs (
    id                   INTEGER PRIMARY KEY,
    connection_id        INTEGER NOT NULL REFERENCES connections (id) ON DELETE CASCADE,
    kind                 TEXT    NOT NULL CHECK (kind IN ('full', 'changes', 'contacts')),
    trigger              TEXT    NOT NULL CHECK (trigger IN ('initial', 'schedule', 'manual', 'daily_full')),
    started_at           TEXT    NOT NULL,
    ended_at             TEXT,
    outcome              TEXT    NOT NULL DEFAULT 'running'
                         CHECK (outcome IN ('running', 'ok', 'failed', 'interrupted', 'needs_confirmation')),
    pid                  INTEGER,
    modified_since       TEXT,
    watermark            TEXT,
    api_calls            INTEGER NOT NULL DEFAULT 0,
    bytes                INTEGER NOT NULL DEFAULT 0,
    fetched              INTEGER NOT NULL DEFAULT 0,
    added                INTEGER NOT NULL DEFAULT 0,
    updated              INTEGER NOT NULL DEFAULT 0,
    unchanged            INTEGER NOT NULL DEFAULT 0,
    archived             INTEGER NOT NULL DEFAULT 0,
    removed              INTEGER NOT NULL DEFAULT 0,
    missed_by_incremental INTEGER,
    contacts_fetched     INTEGER NOT NULL DEFAULT 0,
    contacts_changed     INTEGER NOT NULL DEFAULT 0,
    contacts_unknown     INTEGER NOT NULL DEFAULT 0,
    refetched            INTEGER NOT NULL DEFAULT 0,
    client_rows_written  INTEGER NOT NULL DEFAULT 0,
    error                TEXT,
    retry_after_at       TEXT
);
CREATE INDEX sync_runs_by_connection ON sync_runs (connection_id, started_at);

CREATE TABLE sync_changes (
    id                   INTEGER PRIMARY KEY,
    run_id               INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
    record_kind          TEXT    NOT NULL CHECK (record_kind IN ('client', 'contact')),
    uuid                 TEXT    NOT NULL,
    change               TEXT    NOT NULL
                         CHECK (change IN ('added', 'updated', 'removed', 'restored')),
    field                TEXT,
    old_value            TEXT,
    new_value            TEXT
);
CREATE INDEX sync_changes_by_run ON sync_changes (run_id);
