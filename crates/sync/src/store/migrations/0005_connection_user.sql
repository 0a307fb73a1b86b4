-- 0005: which Xero user authorised each connection (the id token's `xero_userid`, else `sub`).
-- At Xero, revoking a refresh token removes every connection of that user to the app: a
-- disconnect revokes the token only when no other live connection was authorised by the same user.
ALTER TABLE connections ADD COLUMN xero_user_id TEXT;
