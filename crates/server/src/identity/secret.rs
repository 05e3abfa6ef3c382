//! Random secrets (session cookies, bearer tokens) and the digests stored in their place.
//!
//! A secret is 32 random bytes from the operating system, written as 64 hex digits: safe in a
//! cookie, a header and a shell, with 256 bits of entropy. The database keeps only its
//! SHA-256 digest, so a copy of the tables lets nobody in; with that much entropy a fast
//! digest is enough (a slow hash is for guessable passwords).

use sha2::{Digest, Sha256};

/// Bytes of randomness in a secret.
const SECRET_BYTES: usize = 32;

/// A new secret, or an error when the operating system has no random numbers to give.
pub fn new() -> Result<String, String> {
    let mut bytes = [0u8; SECRET_BYTES];
    getrandom::fill(&mut bytes).map_err(|e| format!("no random numbers: {e}"))?;
    Ok(hex(&bytes))
}

/// What the database stores for `secret`.
pub fn digest(secret: &str) -> Vec<u8> {
    Sha256::digest(secret.as_bytes()).to_vec()
}

/// Whether `s` looks like a secret of ours (64 lower-case hex digits): anything else is not
/// looked up at all.
pub fn is_well_formed(s: &str) -> bool {
    s.len() == SECRET_BYTES * 2 && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0f)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_random_hex_and_digests_fixed() {
        let a = new().unwrap();
        let b = new().unwrap();
        assert!(is_well_formed(&a) && is_well_formed(&b));
        assert_ne!(a, b);
        assert_eq!(digest(&a), digest(&a));
        assert_eq!(digest(&a).len(), 32);
        assert!(!is_well_formed("ABC"));
        assert!(!is_well_formed(&a.to_uppercase()));
        // SHA-256("abc"), FIPS 180-2 appendix B.1.
        assert_eq!(
            hex(&digest("abc")),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
