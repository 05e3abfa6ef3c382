//! Remembered Basic credentials. Argon2 costs tens of milliseconds on purpose; a script that
//! sends `Authorization: Basic` with every request (pyvo's `AuthSession`, STILTS) must not pay
//! that each time. A credential that verified is remembered for a short time
//! (`identity.basic_cache_secs`) under the SHA-256 digest of the whole header value, never
//! the password itself; a changed password, a disabled or removed user is noticed when the
//! entry expires, or at once in this process (the CLI changes go through the database, so
//! other processes see them within the expiry time). The cache is bounded: when full, expired
//! entries are dropped, then everything (a flood of distinct credentials gains nothing).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Entries at most.
const CAPACITY: usize = 10_000;

pub struct BasicCache {
    ttl: Duration,
    entries: Mutex<HashMap<Vec<u8>, (String, Instant)>>,
}

impl BasicCache {
    pub fn new(ttl: Duration) -> BasicCache {
        BasicCache {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    /// The user a credential with this digest verified for, when remembered and fresh.
    pub fn get(&self, digest: &[u8]) -> Option<String> {
        if self.ttl.is_zero() {
            return None;
        }
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        let (user, at) = entries.get(digest)?;
        (at.elapsed() < self.ttl).then(|| user.clone())
    }

    pub fn put(&self, digest: Vec<u8>, user: &str) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(digest, (user.to_string(), Instant::now()));
    }

    /// Forget every credential of `user` (a logout, a failed lookup of the user).
    pub fn forget_user(&self, user: &str) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries.retain(|_, (u, _)| u != user);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_for_the_ttl_only() {
        let c = BasicCache::new(Duration::from_millis(50));
        c.put(b"k".to_vec(), "alice");
        assert_eq!(c.get(b"k").as_deref(), Some("alice"));
        assert_eq!(c.get(b"other"), None);
        std::thread::sleep(Duration::from_millis(60));
        assert_eq!(c.get(b"k"), None);
        c.put(b"k".to_vec(), "alice");
        c.forget_user("alice");
        assert_eq!(c.get(b"k"), None);
        let off = BasicCache::new(Duration::ZERO);
        off.put(b"k".to_vec(), "alice");
        assert_eq!(off.get(b"k"), None);
    }
}
