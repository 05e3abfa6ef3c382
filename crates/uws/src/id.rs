//! Job ids: unguessable, URL-safe, one path segment (AS-01).
//!
//! A job URL is its only protection for anonymous jobs, so the id carries 128 random bits. Base32
//! in lower case needs no escaping anywhere (path, XML, logs, file names on case-insensitive file
//! systems) and has no look-alike pairs such as `0`/`O` or `1`/`l`.

/// The RFC 4648 base32 alphabet, lower-cased.
const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Length of an id: 128 bits in 5-bit characters, rounded up.
const ID_LEN: usize = 26;

/// Turns 16 random bytes into 26 characters of lower-case RFC 4648 base32 without padding
/// (alphabet `a-z2-7`). The server supplies the bytes (from `getrandom`), so this stays pure and
/// testable.
pub fn job_id_from_bytes(bytes: [u8; 16]) -> String {
    let value = u128::from_be_bytes(bytes);
    let mut id = String::with_capacity(ID_LEN);
    for i in 0..ID_LEN {
        // Character i holds bits 5i..5i+5 counted from the top; 26 characters hold 130 bits, so
        // the last one has the 3 lowest data bits followed by 2 zero bits.
        let end = 5 * (i + 1);
        let group = if end <= 128 {
            value >> (128 - end)
        } else {
            value << (end - 128)
        };
        id.push(char::from(ALPHABET[(group & 0x1f) as usize]));
    }
    id
}

/// Whether a path segment can be a job id this crate issued: 26 characters of `a-z2-7`, the last
/// one with its two padding bits zero. It lets the server answer 404 for junk without a database
/// query.
pub fn looks_like_job_id(s: &str) -> bool {
    let bytes = s.as_bytes();
    bytes.len() == ID_LEN
        && bytes.iter().all(|b| value_of(*b).is_some())
        && bytes
            .last()
            .and_then(|b| value_of(*b))
            .is_some_and(|v| v & 0b11 == 0)
}

/// The 5-bit value of an alphabet character.
fn value_of(b: u8) -> Option<u8> {
    match b {
        b'a'..=b'z' => Some(b - b'a'),
        b'2'..=b'7' => Some(b - b'2' + 26),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Decodes an id back to the 16 bytes, independently of the encoder's bit arithmetic.
    fn decode(id: &str) -> Vec<u8> {
        let bits: String = id
            .bytes()
            .map(|b| format!("{:05b}", value_of(b).unwrap()))
            .collect();
        assert!(bits.ends_with("00"), "{id}");
        (0..16)
            .map(|i| u8::from_str_radix(&bits[i * 8..i * 8 + 8], 2).unwrap())
            .collect()
    }

    #[test]
    fn rfc_4648_vectors() {
        // RFC 4648 §10 "foobar" is BASE32 "MZXW6YTBOI======"; 16 bytes give 26 characters.
        let mut bytes = [0u8; 16];
        bytes[..6].copy_from_slice(b"foobar");
        let id = job_id_from_bytes(bytes);
        assert!(id.starts_with("mzxw6ytboi"), "{id}");
        assert_eq!(job_id_from_bytes([0; 16]), "a".repeat(26));
        assert_eq!(job_id_from_bytes([0xff; 16]), format!("{}4", "7".repeat(25)));
    }

    #[test]
    fn ids_round_trip_and_are_recognised() {
        let mut state = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..2000 {
            let mut bytes = [0u8; 16];
            for b in bytes.iter_mut() {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                *b = state as u8;
            }
            let id = job_id_from_bytes(bytes);
            assert_eq!(id.len(), 26);
            assert!(looks_like_job_id(&id), "{id}");
            assert_eq!(decode(&id), bytes);
        }
    }

    #[test]
    fn junk_is_not_an_id() {
        let good = job_id_from_bytes([7; 16]);
        assert!(looks_like_job_id(&good));
        for bad in [
            String::new(),
            good[..25].to_owned(),
            format!("{good}a"),
            good.to_uppercase(),
            format!("{}1", &good[..25]),
            format!("{}b", &good[..25]),
            format!("{}é", &good[..24]),
            "../../etc/passwd".to_owned(),
        ] {
            assert!(!looks_like_job_id(&bad), "{bad}");
        }
    }
}
