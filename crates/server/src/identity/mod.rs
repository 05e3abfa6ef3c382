//! Who asks (issue 14): accounts, groups, login sessions and bearer tokens, and the one place
//! where a request's credentials become a [`Caller`] ([`Authenticator::caller`]). The HTTP layer
//! only reads the credentials off the request (`http/auth.rs`) and hands the caller down; every
//! rule about what a caller may do is decided from that value.

pub mod authenticator;
mod cache;
pub mod password;
pub mod secret;
pub mod store;
mod throttle;

use std::sync::Arc;

pub use authenticator::{Authenticator, Credentials, LoginError};

/// The caller of a request.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Caller {
    /// No credentials: what anyone on the network may do.
    #[default]
    Anonymous,
    /// An authenticated, enabled user.
    User(Arc<Account>),
}

/// An authenticated user: the name (the owner of their jobs) and the groups (what restricted
/// tables they may read).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Account {
    pub name: String,
    pub groups: Vec<String>,
}

impl Caller {
    /// The owner id jobs of this caller get (`None`: anonymous).
    pub fn owner(&self) -> Option<&str> {
        match self {
            Caller::Anonymous => None,
            Caller::User(a) => Some(&a.name),
        }
    }

    /// For logs: the user name, or `anonymous`.
    pub fn label(&self) -> &str {
        self.owner().unwrap_or("anonymous")
    }
}

impl From<store::Active> for Caller {
    fn from(a: store::Active) -> Self {
        Caller::User(Arc::new(Account {
            name: a.name,
            groups: a.groups,
        }))
    }
}

/// The caller a user's job runs as: the owner with the groups they have now (a disabled or
/// removed user keeps the name and loses every group).
pub async fn caller_of_owner(
    client: &tokio_postgres::Client,
    name: &str,
) -> Result<Caller, crate::db::DbError> {
    Ok(match store::active(client, name).await? {
        Some(active) => Caller::from(active),
        None => Caller::User(Arc::new(Account {
            name: name.to_string(),
            groups: Vec::new(),
        })),
    })
}

/// Whether `name` can name a user or a group: 1 to 64 letters, digits and `.`, `_`, `-`, `@`
/// (e-mail addresses work as user names), not starting with a punctuation mark. Names appear
/// in job documents, logs and URLs, so nothing that needs quoting anywhere is allowed.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} {name:?}: use 1 to 64 letters, digits, '.', '_', '-' or '@', starting with a \
             letter or digit"
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        for good in ["alice", "a.b-c_d", "jane.doe@example.org", "X1"] {
            assert!(check_name("user", good).is_ok(), "{good}");
        }
        for bad in ["", ".alice", "al ice", "a/b", "ü", "a\"b", &"x".repeat(65)] {
            assert!(check_name("user", bad).is_err(), "{bad}");
        }
        assert_eq!(Caller::Anonymous.owner(), None);
        assert_eq!(Caller::Anonymous.label(), "anonymous");
    }
}
