//! The one error of the TAP layer: what went wrong, for whom, in words the user can act on.
//!
//! The kind says whose fault it is and what the client should do; the HTTP layer maps kinds to
//! status codes in one place (`http::error`). The user's mistakes are refusals (bad request,
//! forbidden, not found, too large); a database or job store that cannot be reached is
//! `Unavailable` (503), never blamed on the user; `TooMany` asks the client to come back later.

use crate::db::DbError;

/// Whose fault, and what the client can do about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The request is wrong: parameters, the query, an upload.
    BadRequest,
    /// Credentials were given and are wrong (a password, a token): 401.
    Unauthorized,
    /// The request is right but not allowed now (a PENDING-only change of a running job).
    Forbidden,
    /// No such job, table or resource.
    NotFound,
    /// The resource exists but not for this method (a job created by GET when that is off).
    MethodNotAllowed,
    /// A body, upload or result over a limit.
    TooLarge,
    /// The client did not send its request in time (a body that stalls).
    Timeout,
    /// Busy: the client should retry after [`TapError::retry_after`] seconds.
    TooMany,
    /// The database or job store cannot be reached: our problem, maybe passing.
    Unavailable,
    /// A failure of ours.
    Internal,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TapError {
    pub kind: ErrorKind,
    pub message: String,
    /// Seconds for a `Retry-After` header (answers that expect a retry).
    pub retry_after: Option<u64>,
    /// Where in the ADQL text the error is, when it is the query's (an editor marks it there;
    /// `http::error` adds it to the error document as `line` and `column` INFOs).
    pub position: Option<adql::Position>,
    /// The query error's suggestion ("did you mean 'ra'?"), also part of `message`.
    pub hint: Option<String>,
}

impl TapError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        TapError {
            kind,
            message: message.into(),
            retry_after: None,
            position: None,
            hint: None,
        }
    }

    /// The client's mistake: bad parameters, a bad query.
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unauthorized, message)
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Forbidden, message)
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::NotFound, message)
    }

    pub fn too_large(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::TooLarge, message)
    }

    /// Too much at once from this client (its sync queries, the job queue): the client is
    /// told when to come back, which pyvo turns into `DALRateLimitError`.
    pub fn too_many(message: impl Into<String>, retry_after_secs: u64) -> Self {
        TapError {
            retry_after: Some(retry_after_secs),
            ..Self::new(ErrorKind::TooMany, message)
        }
    }

    /// Our failure: logged in full, reported to the client in general terms.
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }

    pub fn unavailable(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unavailable, message)
    }

    /// The whole service is busy (every sync connection taken past the configured wait): 503
    /// with a `Retry-After`, the client is not at fault and may simply come back.
    pub fn busy(message: impl Into<String>, retry_after_secs: u64) -> Self {
        TapError {
            retry_after: Some(retry_after_secs),
            ..Self::new(ErrorKind::Unavailable, message)
        }
    }

    /// Whether the fault is ours (logged as an error) rather than the client's. Being busy is
    /// not a fault: it is load, logged where it is decided.
    pub fn is_ours(&self) -> bool {
        matches!(self.kind, ErrorKind::Unavailable | ErrorKind::Internal) && self.retry_after.is_none()
    }
}

impl std::fmt::Display for TapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<adql::AdqlError> for TapError {
    fn from(e: adql::AdqlError) -> Self {
        TapError {
            position: e.position,
            hint: e.hint.clone(),
            ..TapError::bad_request(format!("ADQL {e}"))
        }
    }
}

/// A failed statement of ours (the job store, the catalogue): a connection that is down is the
/// database being unavailable; anything else is an internal failure. Never the user's fault.
impl From<DbError> for TapError {
    fn from(e: DbError) -> Self {
        if e.is_connection() {
            TapError::unavailable(format!("the database is not reachable: {e}"))
        } else {
            TapError::internal(e.to_string())
        }
    }
}

/// The job store is down: a 503 with the reason, like any outage.
impl From<crate::job_store::Unreachable> for TapError {
    fn from(e: crate::job_store::Unreachable) -> Self {
        TapError::unavailable(e.to_string())
    }
}

/// No pooled connection: the database is down or every connection is taken for too long.
impl From<deadpool_postgres::PoolError> for TapError {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        TapError::unavailable(format!("no database connection available: {e}"))
    }
}
