//! From credentials to a [`Caller`]: the one place that decides who asks.
//!
//! - A session cookie (`JSESSIONID`, set by a login) that is unknown, idle too long or past its
//!   end counts as no cookie: the caller is anonymous (TapPlus keeps sending the cookie after
//!   `logout()`; its requests simply stop being the user's).
//! - A bearer token or Basic credential that does not verify is refused (401): the client
//!   asked to be someone and is not.
//! - Passwords are verified with Argon2 on the blocking pool, at most as many at once as the
//!   machine has cores, after the throttle's delay for repeated failures; an unknown user, a
//!   disabled one or one without a password is checked against a decoy hash, so every failure
//!   takes the same time and says the same thing.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Semaphore;

use super::cache::BasicCache;
use super::throttle::Throttle;
use super::{password, secret, store, Caller};
use crate::config::IdentityConfig;
use crate::tap::TapError;

/// What a request carried to say who it is.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Credentials {
    #[default]
    None,
    /// `Authorization: Basic`; `digest` is the SHA-256 of the header value (the cache key).
    Basic {
        user: String,
        password: String,
        digest: Vec<u8>,
    },
    /// `Authorization: Bearer`.
    Bearer(String),
    /// The session cookie's value.
    Session(String),
}

/// The same words for every failed password check, whatever failed.
const WRONG: &str = "wrong user name or password";

/// Why a login failed.
#[derive(Debug)]
pub enum LoginError {
    /// Wrong name or password (401, always the same message).
    Refused,
    /// The database or the machine failed.
    Failed(TapError),
}

impl From<crate::db::DbError> for LoginError {
    fn from(e: crate::db::DbError) -> Self {
        LoginError::Failed(e.into())
    }
}

pub struct Authenticator {
    store: deadpool_postgres::Pool,
    idle: Duration,
    max: Duration,
    cache: BasicCache,
    throttle: Throttle,
    hashing: Arc<Semaphore>,
}

impl Authenticator {
    /// `store`: a pool of the job store's database (the identity tables live beside the jobs).
    pub fn new(store: deadpool_postgres::Pool, cfg: &IdentityConfig) -> Authenticator {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        // Made now, not by the first login for an unknown name (which would then take longer).
        let _ = password::decoy();
        Authenticator {
            store,
            idle: Duration::from_secs(cfg.session_idle_secs.max(1)),
            max: Duration::from_secs(cfg.session_max_secs.max(1)),
            cache: BasicCache::new(Duration::from_secs(cfg.basic_cache_secs)),
            throttle: Throttle::default(),
            hashing: Arc::new(Semaphore::new(cores)),
        }
    }

    /// How long a session lives at most (the cookie's Max-Age).
    pub fn session_max(&self) -> Duration {
        self.max
    }

    async fn client(&self) -> Result<deadpool_postgres::Object, TapError> {
        self.store.get().await.map_err(TapError::from)
    }

    /// Check `user`'s password; the user as a caller when right. Slowed after repeated
    /// failures for the name or the address.
    async fn check_password(
        &self,
        user: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<Caller, LoginError> {
        let delay = self.throttle.delay(user, address);
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
        let client = self.client().await.map_err(LoginError::Failed)?;
        let hash = if super::check_name("user", user).is_ok() {
            store::password_of(&client, user).await?
        } else {
            None
        };
        let known = hash.is_some();
        let hash = hash.unwrap_or_else(|| password::decoy().to_string());
        let permit = Arc::clone(&self.hashing)
            .acquire_owned()
            .await
            .map_err(|_| LoginError::Failed(TapError::internal("password checks are shut down")))?;
        let pw = password.to_string();
        let matches = tokio::task::spawn_blocking(move || {
            let _permit = permit;
            password::verify(&hash, &pw)
        })
        .await
        .map_err(|e| LoginError::Failed(TapError::internal(format!("password check failed: {e}"))))?;
        if !(known && matches) {
            self.throttle.failed(user, address);
            tracing::info!(user, address = ?address, "password check failed");
            return Err(LoginError::Refused);
        }
        self.throttle.succeeded(user);
        match store::active(&client, user).await? {
            Some(a) => Ok(a.into()),
            // Disabled between the two statements.
            None => Err(LoginError::Refused),
        }
    }

    /// Log in: the caller and the secret for the session cookie.
    pub async fn login(
        &self,
        user: &str,
        password: &str,
        address: Option<IpAddr>,
    ) -> Result<(Caller, String), LoginError> {
        let caller = self.check_password(user, password, address).await?;
        let cookie = secret::new().map_err(|e| LoginError::Failed(TapError::internal(e)))?;
        let client = self.client().await.map_err(LoginError::Failed)?;
        store::create_session(&client, &secret::digest(&cookie), user, self.max).await?;
        store::logged_in(&client, user).await?;
        tracing::info!(user, "logged in");
        Ok((caller, cookie))
    }

    /// End the session of this cookie (nothing to do for an unknown one).
    pub async fn logout(&self, cookie: &str) -> Result<(), TapError> {
        if !secret::is_well_formed(cookie) {
            return Ok(());
        }
        let client = self.client().await?;
        store::end_session(&client, &secret::digest(cookie)).await?;
        Ok(())
    }

    /// Who the request's credentials say is asking.
    pub async fn caller(
        &self,
        credentials: &Credentials,
        address: Option<IpAddr>,
    ) -> Result<Caller, TapError> {
        match credentials {
            Credentials::None => Ok(Caller::Anonymous),
            Credentials::Session(cookie) => {
                if !secret::is_well_formed(cookie) {
                    return Ok(Caller::Anonymous);
                }
                let client = self.client().await?;
                let user = store::session_user(&client, &secret::digest(cookie), self.idle).await?;
                Ok(user.map_or(Caller::Anonymous, Caller::from))
            }
            Credentials::Bearer(token) => {
                let refused = || TapError::unauthorized("the token is unknown, expired or revoked");
                if !secret::is_well_formed(token) {
                    return Err(refused());
                }
                let client = self.client().await?;
                match store::token_user(&client, &secret::digest(token)).await? {
                    Some(a) => Ok(a.into()),
                    None => Err(refused()),
                }
            }
            Credentials::Basic {
                user,
                password,
                digest,
            } => {
                if self.cache.get(digest).as_deref() == Some(user.as_str()) {
                    // Verified a moment ago: only check the user may still act.
                    let client = self.client().await?;
                    if let Some(a) = store::active(&client, user).await? {
                        return Ok(a.into());
                    }
                    self.cache.forget_user(user);
                    return Err(TapError::unauthorized(WRONG));
                }
                match self.check_password(user, password, address).await {
                    Ok(caller) => {
                        self.cache.put(digest.clone(), user);
                        Ok(caller)
                    }
                    Err(LoginError::Refused) => Err(TapError::unauthorized(WRONG)),
                    Err(LoginError::Failed(e)) => Err(e),
                }
            }
        }
    }

    /// The user an authenticating front proxy names (it has checked the credentials). A user
    /// unknown to Tapir acts with no groups; a disabled one is refused.
    pub async fn proxied(&self, name: &str) -> Result<Caller, TapError> {
        super::check_name("user", name).map_err(TapError::unauthorized)?;
        let client = self.client().await?;
        if let Some(a) = store::active(&client, name).await? {
            return Ok(a.into());
        }
        if store::exists(&client, name).await? {
            return Err(TapError::forbidden(format!("the user {name} is disabled")));
        }
        Ok(Caller::User(Arc::new(super::Account {
            name: name.to_string(),
            groups: Vec::new(),
        })))
    }

    /// Remove sessions that can no longer be used (called by the job reaper).
    pub async fn purge(&self) -> Result<u64, TapError> {
        let client = self.client().await?;
        Ok(store::purge_sessions(&client, self.idle).await?)
    }
}

/// The message of a refused login.
pub fn refused_message() -> &'static str {
    WRONG
}
