//! The identity tables (migration 0007): users, their groups, login sessions and tokens. Every
//! statement Tapir runs on them is here; callers pass a connection of the job store.

use std::time::Duration;

use tokio_postgres::Client;

use crate::db::DbError;

/// A user as `tapir user list` shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserRow {
    pub name: String,
    pub email: Option<String>,
    pub disabled: bool,
    pub has_password: bool,
    pub groups: Vec<String>,
    pub created: String,
    pub last_login: Option<String>,
}

/// A user who may act: the name and groups, for the caller of a request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Active {
    pub name: String,
    pub groups: Vec<String>,
}

/// A token as `tapir token list` shows it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenRow {
    pub id: String,
    pub user: String,
    pub created: String,
    pub expires: Option<String>,
    pub revoked: bool,
    pub last_used: Option<String>,
}

const TIME: &str = "'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"'";

/// Create a user; false when the name is taken.
pub async fn add_user(
    c: &Client,
    name: &str,
    email: Option<&str>,
    password_hash: Option<&str>,
) -> Result<bool, DbError> {
    let n = c
        .execute(
            "INSERT INTO tapir.users (name, email, password_hash) VALUES ($1, $2, $3) \
             ON CONFLICT (name) DO NOTHING",
            &[&name, &email, &password_hash],
        )
        .await
        .map_err(DbError::query("cannot add the user"))?;
    Ok(n == 1)
}

/// Set (or clear) a user's password; every session of the user ends with the old one.
/// False when there is no such user.
pub async fn set_password(c: &Client, name: &str, password_hash: Option<&str>) -> Result<bool, DbError> {
    let n = c
        .execute(
            "WITH u AS (UPDATE tapir.users SET password_hash = $2 WHERE name = $1 RETURNING name), \
             gone AS (DELETE FROM tapir.sessions WHERE user_name IN (SELECT name FROM u)) \
             SELECT 1 FROM u",
            &[&name, &password_hash],
        )
        .await
        .map_err(DbError::query("cannot change the password"))?;
    Ok(n == 1)
}

/// Disable or enable a user; disabling ends the user's sessions (tokens stay, unusable while
/// the user is disabled). False when there is no such user.
pub async fn set_disabled(c: &Client, name: &str, disabled: bool) -> Result<bool, DbError> {
    let n = c
        .execute(
            "WITH u AS (UPDATE tapir.users SET disabled = $2 WHERE name = $1 RETURNING name), \
             gone AS (DELETE FROM tapir.sessions WHERE $2 AND user_name IN (SELECT name FROM u)) \
             SELECT 1 FROM u",
            &[&name, &disabled],
        )
        .await
        .map_err(DbError::query("cannot change the user"))?;
    Ok(n == 1)
}

/// Remove a user with their groups, sessions and tokens. False when there is no such user.
pub async fn remove_user(c: &Client, name: &str) -> Result<bool, DbError> {
    let n = c
        .execute("DELETE FROM tapir.users WHERE name = $1", &[&name])
        .await
        .map_err(DbError::query("cannot remove the user"))?;
    Ok(n == 1)
}

/// Every user, by name.
pub async fn list_users(c: &Client) -> Result<Vec<UserRow>, DbError> {
    let rows = c
        .query(
            &format!(
                "SELECT u.name, u.email, u.disabled, u.password_hash IS NOT NULL, \
                 coalesce(array_agg(g.group_name ORDER BY g.group_name) \
                     FILTER (WHERE g.group_name IS NOT NULL), '{{}}'), \
                 to_char(u.created_at AT TIME ZONE 'UTC', {TIME}), \
                 to_char(u.last_login AT TIME ZONE 'UTC', {TIME}) \
                 FROM tapir.users u LEFT JOIN tapir.user_groups g ON g.user_name = u.name \
                 GROUP BY u.name ORDER BY u.name"
            ),
            &[],
        )
        .await
        .map_err(DbError::query("cannot list the users"))?;
    Ok(rows
        .iter()
        .map(|r| UserRow {
            name: r.get(0),
            email: r.get(1),
            disabled: r.get(2),
            has_password: r.get(3),
            groups: r.get(4),
            created: r.get(5),
            last_login: r.get(6),
        })
        .collect())
}

/// Put a user into a group (idempotent). False when there is no such user.
pub async fn add_to_group(c: &Client, group: &str, user: &str) -> Result<bool, DbError> {
    let n = c
        .execute(
            "INSERT INTO tapir.user_groups (user_name, group_name) \
             SELECT name, $2 FROM tapir.users WHERE name = $1 ON CONFLICT DO NOTHING",
            &[&user, &group],
        )
        .await
        .map_err(DbError::query("cannot add to the group"))?;
    if n == 1 {
        return Ok(true);
    }
    user_exists(c, user).await
}

/// Take a user out of a group. False when the user was not in it.
pub async fn remove_from_group(c: &Client, group: &str, user: &str) -> Result<bool, DbError> {
    let n = c
        .execute(
            "DELETE FROM tapir.user_groups WHERE user_name = $1 AND group_name = $2",
            &[&user, &group],
        )
        .await
        .map_err(DbError::query("cannot remove from the group"))?;
    Ok(n == 1)
}

/// Every group with its members.
pub async fn list_groups(c: &Client) -> Result<Vec<(String, Vec<String>)>, DbError> {
    let rows = c
        .query(
            "SELECT group_name, array_agg(user_name ORDER BY user_name) FROM tapir.user_groups \
             GROUP BY group_name ORDER BY group_name",
            &[],
        )
        .await
        .map_err(DbError::query("cannot list the groups"))?;
    Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
}

/// Whether a user of that name exists (enabled or not).
pub async fn exists(c: &Client, name: &str) -> Result<bool, DbError> {
    user_exists(c, name).await
}

async fn user_exists(c: &Client, name: &str) -> Result<bool, DbError> {
    Ok(c.query_opt("SELECT 1 FROM tapir.users WHERE name = $1", &[&name])
        .await
        .map_err(DbError::query("cannot look up the user"))?
        .is_some())
}

/// The password hash of an enabled user, for a login; None for an unknown or disabled user or
/// one without a password (the caller verifies a decoy then, so all take the same time).
pub async fn password_of(c: &Client, name: &str) -> Result<Option<String>, DbError> {
    let row = c
        .query_opt(
            "SELECT password_hash FROM tapir.users WHERE name = $1 AND NOT disabled",
            &[&name],
        )
        .await
        .map_err(DbError::query("cannot look up the user"))?;
    Ok(row.and_then(|r| r.get(0)))
}

/// The user as a caller (name and groups) when enabled.
pub async fn active(c: &Client, name: &str) -> Result<Option<Active>, DbError> {
    let row = c
        .query_opt(
            "SELECT u.name, coalesce(array_agg(g.group_name ORDER BY g.group_name) \
                 FILTER (WHERE g.group_name IS NOT NULL), '{}') \
             FROM tapir.users u LEFT JOIN tapir.user_groups g ON g.user_name = u.name \
             WHERE u.name = $1 AND NOT u.disabled GROUP BY u.name",
            &[&name],
        )
        .await
        .map_err(DbError::query("cannot look up the user"))?;
    Ok(row.map(|r| Active {
        name: r.get(0),
        groups: r.get(1),
    }))
}

/// Record a successful login.
pub async fn logged_in(c: &Client, name: &str) -> Result<(), DbError> {
    c.execute(
        "UPDATE tapir.users SET last_login = clock_timestamp() WHERE name = $1",
        &[&name],
    )
    .await
    .map_err(DbError::query("cannot record the login"))?;
    Ok(())
}

/// Start a session that ends `max` from now at the latest.
pub async fn create_session(c: &Client, digest: &[u8], user: &str, max: Duration) -> Result<(), DbError> {
    let secs = max.as_secs_f64();
    c.execute(
        "INSERT INTO tapir.sessions (digest, user_name, expires_at) \
         VALUES ($1, $2, clock_timestamp() + make_interval(secs => $3))",
        &[&digest, &user, &secs],
    )
    .await
    .map_err(DbError::query("cannot start the session"))?;
    Ok(())
}

/// The enabled user of a live session (used within `idle`, not past its end), marking it used.
/// The mark is written at most once a minute, so a busy session costs no write per request.
pub async fn session_user(c: &Client, digest: &[u8], idle: Duration) -> Result<Option<Active>, DbError> {
    let secs = idle.as_secs_f64();
    let row = c
        .query_opt(
            "WITH s AS (SELECT digest, user_name, last_seen FROM tapir.sessions \
                 WHERE digest = $1 AND expires_at > clock_timestamp() \
                 AND last_seen > clock_timestamp() - make_interval(secs => $2)), \
             touched AS (UPDATE tapir.sessions t SET last_seen = clock_timestamp() FROM s \
                 WHERE t.digest = s.digest AND s.last_seen < clock_timestamp() - interval '1 minute') \
             SELECT user_name FROM s",
            &[&digest, &secs],
        )
        .await
        .map_err(DbError::query("cannot look up the session"))?;
    match row {
        Some(r) => active(c, r.get(0)).await,
        None => Ok(None),
    }
}

/// End a session (logout). Ending one that does not exist is not an error.
pub async fn end_session(c: &Client, digest: &[u8]) -> Result<(), DbError> {
    c.execute("DELETE FROM tapir.sessions WHERE digest = $1", &[&digest])
        .await
        .map_err(DbError::query("cannot end the session"))?;
    Ok(())
}

/// Remove sessions past their end or idle longer than `idle` (the reaper's upkeep).
pub async fn purge_sessions(c: &Client, idle: Duration) -> Result<u64, DbError> {
    let secs = idle.as_secs_f64();
    c.execute(
        "DELETE FROM tapir.sessions WHERE expires_at <= clock_timestamp() \
         OR last_seen <= clock_timestamp() - make_interval(secs => $1)",
        &[&secs],
    )
    .await
    .map_err(DbError::query("cannot remove old sessions"))
}

/// Create a token for `user`, valid for `valid` (None: until revoked). False when there is no
/// such user.
pub async fn create_token(
    c: &Client,
    id: &str,
    digest: &[u8],
    user: &str,
    valid: Option<Duration>,
) -> Result<bool, DbError> {
    let secs = valid.map(|v| v.as_secs_f64());
    let n = c
        .execute(
            "INSERT INTO tapir.tokens (id, digest, user_name, expires_at) \
             SELECT $1, $2, name, clock_timestamp() + make_interval(secs => $4) \
             FROM tapir.users WHERE name = $3",
            &[&id, &digest, &user, &secs],
        )
        .await
        .map_err(DbError::query("cannot create the token"))?;
    Ok(n == 1)
}

/// The enabled user of a live token (not revoked, not expired), marking it used (at most once
/// a minute).
pub async fn token_user(c: &Client, digest: &[u8]) -> Result<Option<Active>, DbError> {
    let row = c
        .query_opt(
            "WITH t AS (SELECT id, user_name, last_used FROM tapir.tokens WHERE digest = $1 \
                 AND revoked_at IS NULL \
                 AND (expires_at IS NULL OR expires_at > clock_timestamp())), \
             touched AS (UPDATE tapir.tokens k SET last_used = clock_timestamp() FROM t \
                 WHERE k.id = t.id AND (t.last_used IS NULL \
                     OR t.last_used < clock_timestamp() - interval '1 minute')) \
             SELECT user_name FROM t",
            &[&digest],
        )
        .await
        .map_err(DbError::query("cannot look up the token"))?;
    match row {
        Some(r) => active(c, r.get(0)).await,
        None => Ok(None),
    }
}

/// Revoke a token by its id. False when there is no such token.
pub async fn revoke_token(c: &Client, id: &str) -> Result<bool, DbError> {
    let n = c
        .execute(
            "UPDATE tapir.tokens SET revoked_at = coalesce(revoked_at, clock_timestamp()) WHERE id = $1",
            &[&id],
        )
        .await
        .map_err(DbError::query("cannot revoke the token"))?;
    Ok(n == 1)
}

/// Every token (of `user` when given).
pub async fn list_tokens(c: &Client, user: Option<&str>) -> Result<Vec<TokenRow>, DbError> {
    let rows = c
        .query(
            &format!(
                "SELECT id, user_name, to_char(created_at AT TIME ZONE 'UTC', {TIME}), \
                 to_char(expires_at AT TIME ZONE 'UTC', {TIME}), revoked_at IS NOT NULL, \
                 to_char(last_used AT TIME ZONE 'UTC', {TIME}) \
                 FROM tapir.tokens WHERE $1::text IS NULL OR user_name = $1 \
                 ORDER BY user_name, created_at"
            ),
            &[&user],
        )
        .await
        .map_err(DbError::query("cannot list the tokens"))?;
    Ok(rows
        .iter()
        .map(|r| TokenRow {
            id: r.get(0),
            user: r.get(1),
            created: r.get(2),
            expires: r.get(3),
            revoked: r.get(4),
            last_used: r.get(5),
        })
        .collect())
}
