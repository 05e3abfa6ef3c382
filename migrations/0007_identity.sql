-- Identity (issue 14): accounts, groups, login sessions and API tokens, shared by every Tapir
-- process that serves this database.
--
-- No secret is stored as it is: passwords as Argon2id hashes (PHC strings that record their
-- parameters), session cookies and tokens as SHA-256 digests of their random values (256
-- bits of entropy need no slow hash), so reading these tables gives no way in.
CREATE TABLE tapir.users (
    name text PRIMARY KEY,
    email text,
    password_hash text,                      -- NULL: no password login (tokens only)
    disabled boolean NOT NULL DEFAULT false,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_login timestamptz
);

CREATE TABLE tapir.user_groups (
    user_name text NOT NULL REFERENCES tapir.users (name) ON DELETE CASCADE,
    group_name text NOT NULL,
    PRIMARY KEY (user_name, group_name)
);
CREATE INDEX user_groups_by_group ON tapir.user_groups (group_name);

-- A login session: the cookie holds the random value, the table its digest.
CREATE TABLE tapir.sessions (
    digest bytea PRIMARY KEY,
    user_name text NOT NULL REFERENCES tapir.users (name) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    last_seen timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz NOT NULL          -- the absolute end, whatever the activity
);
CREATE INDEX sessions_by_user ON tapir.sessions (user_name);
CREATE INDEX sessions_by_expiry ON tapir.sessions (expires_at);

-- Bearer tokens for scripts: `tapir token create USER`. The id is public (listings, revoke);
-- the secret is shown once.
CREATE TABLE tapir.tokens (
    id text PRIMARY KEY,
    digest bytea NOT NULL UNIQUE,
    user_name text NOT NULL REFERENCES tapir.users (name) ON DELETE CASCADE,
    created_at timestamptz NOT NULL DEFAULT clock_timestamp(),
    expires_at timestamptz,                  -- NULL: until revoked
    revoked_at timestamptz,
    last_used timestamptz
);
CREATE INDEX tokens_by_user ON tapir.tokens (user_name);

-- A user's job list (and the anonymous one) in creation order, however many jobs others have.
CREATE INDEX jobs_by_owner ON tapir.jobs (owner_id, creation_time DESC);
