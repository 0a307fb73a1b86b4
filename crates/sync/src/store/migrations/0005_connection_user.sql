-- 0005: which Xero user authorised each connection (the id token's `xero_userid`, else `sub`).
-- At Xero, revoking a refresh token removes every connection of that user to the app: a
-- disconnect revokes the token only when no other live connection was authorised by the same user.
ALTER TABLE connections ADD COLUMN xero_user_id TEXT;

-- The Xero each connection was made with: its tokens go there and nowhere else, whatever the
-- settings say later (they choose where new logins go). Filled at login; a connection from
-- before is pinned to the settings in force when this version first opens the data dir.
ALTER TABLE connections ADD COLUMN issuer TEXT;
ALTER TABLE connections ADD COLUMN token_endpoint TEXT;
ALTER TABLE connections ADD COLUMN revocation_endpoint TEXT;
ALTER TABLE connections ADD COLUMN api_base TEXT;
ALTER TABLE connections ADD COLUMN client_id TEXT;
