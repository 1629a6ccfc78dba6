-- Authentication hardening (issue 12).

-- Every access token carries its user's token_version (claim "ver"); the API refuses a token
-- whose version is not the user's current one (api/auth/tokens.py). Deactivating a user,
-- changing their password, role or region, and POST /v1/users/{id}/revoke-tokens bump it, so
-- every token issued before stops working. A constant default: no table rewrite.
ALTER TABLE users ADD COLUMN token_version integer NOT NULL DEFAULT 0;

-- Failed logins, shared by every API process (api/auth/limiter.py): the limiter counts the
-- rows of the last 15 minutes per (username, address) and per username alone. Unlogged: a
-- crash or a failover forgets at most 15 minutes of failures, and the table costs no WAL.
CREATE UNLOGGED TABLE login_failures (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    username     text NOT NULL,
    client_addr  text NOT NULL,
    at           timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX login_failures_username_at ON login_failures (username, at);
CREATE INDEX login_failures_at ON login_failures (at);  -- the purge of expired rows
