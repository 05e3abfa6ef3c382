//! Password hashes: Argon2id with the parameters OWASP recommends for it (19 MiB of memory,
//! two passes, one lane), written as PHC strings (`$argon2id$v=19$m=19456,t=2,p=1$salt$hash`)
//! that carry their parameters, so a later change of parameters still verifies old hashes.
//!
//! Verifying costs some 20–50 ms of one core on purpose; callers run it on the blocking pool,
//! and the HTTP layer caches a verified Basic credential (see `identity::cache`) so that a
//! script sending the same credentials with every request does not pay it each time.

use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, Version};

/// Memory in KiB, passes, lanes (OWASP Password Storage Cheat Sheet, Argon2id, first option).
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;

/// Passwords longer than this are refused: hashing is linear in the length, and nobody types
/// more.
pub const MAX_PASSWORD_BYTES: usize = 1024;

fn hasher() -> Result<Argon2<'static>, String> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).map_err(|e| e.to_string())?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// The PHC string of `password` with a fresh random salt.
pub fn hash(password: &str) -> Result<String, String> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(format!("a password may have at most {MAX_PASSWORD_BYTES} bytes"));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| format!("no random numbers: {e}"))?;
    let hashed: PasswordHash = hasher()?
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| format!("cannot hash the password: {e}"))?;
    Ok(hashed.to_string())
}

/// Whether `password` matches the PHC string `phc`. A malformed hash never matches.
pub fn verify(phc: &str, password: &str) -> bool {
    if password.len() > MAX_PASSWORD_BYTES {
        return false;
    }
    let Ok(parsed) = PasswordHash::new(phc) else {
        return false;
    };
    let Ok(argon) = hasher() else {
        return false;
    };
    argon.verify_password(password.as_bytes(), &parsed).is_ok()
}

/// A hash no password matches, verified when the user does not exist (or has no password), so
/// that a login for an unknown name takes as long as one with a wrong password.
pub fn decoy() -> &'static str {
    static DECOY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DECOY.get_or_init(|| {
        let mut secret = [0u8; 32];
        let _ = getrandom::fill(&mut secret);
        let random: String = secret.iter().map(|b| format!("{b:02x}")).collect();
        hash(&random).unwrap_or_default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashes_verify_and_carry_their_parameters() {
        let h = hash("correct horse").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify(&h, "correct horse"));
        assert!(!verify(&h, "correct horse "));
        assert!(!verify(&h, ""));
        assert_ne!(h, hash("correct horse").unwrap(), "a fresh salt each time");
        assert!(!verify("not a hash", "x"));
        assert!(!verify(decoy(), ""));
        assert!(hash(&"x".repeat(MAX_PASSWORD_BYTES + 1)).is_err());
    }
}
