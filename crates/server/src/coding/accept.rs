//! `Accept-Encoding` (RFC 9110 §12.5.3): which of the codings the service offers a request
//! accepts, and which one to answer in.

use super::{Coding, Offer};

/// Weights are kept in thousandths, as the grammar allows three decimals: no float compares.
type Weight = u16;

/// The coding to answer in, `None` for identity (no coding).
///
/// Each coding's weight is its own entry's `q`, else that of `*`, else 0 when the header is
/// there; identity's is its own, else that of `*`, else the lowest above 0 (acceptable unless
/// `identity;q=0`, or `*;q=0` without an `identity` entry, excludes it). The highest weight
/// wins, ties going to zstd, then gzip, then identity: a client that lists a coding wants it,
/// and zstd is the faster of the two at a similar ratio. `x-gzip` counts as `gzip`. With no
/// header at all, identity. When nothing acceptable remains (`identity;q=0` and no coding
/// offered), identity too: the RFC allows ignoring the header rather than answering 406, and a
/// readable answer serves the client better than an error.
pub fn choose<'a>(values: impl IntoIterator<Item = &'a str>, offer: Offer) -> Option<Coding> {
    let mut zstd: Option<Weight> = None;
    let mut gzip: Option<Weight> = None;
    let mut identity: Option<Weight> = None;
    let mut star: Option<Weight> = None;
    for item in values.into_iter().flat_map(|v| v.split(',')) {
        let mut parts = item.split(';');
        let name = parts.next().unwrap_or("").trim();
        if name.is_empty() {
            continue;
        }
        let mut weight = Some(1000);
        for param in parts {
            let (key, value) = param.split_once('=').unwrap_or((param, ""));
            if key.trim().eq_ignore_ascii_case("q") {
                weight = parse_q(value.trim());
            }
        }
        // An entry whose weight cannot be read is left out rather than guessed at.
        let Some(weight) = weight else { continue };
        let slot = if name.eq_ignore_ascii_case("zstd") {
            &mut zstd
        } else if name.eq_ignore_ascii_case("gzip") || name.eq_ignore_ascii_case("x-gzip") {
            &mut gzip
        } else if name.eq_ignore_ascii_case("identity") {
            &mut identity
        } else if name == "*" {
            &mut star
        } else {
            continue;
        };
        // A coding named twice keeps its higher weight.
        *slot = Some(slot.map_or(weight, |w| w.max(weight)));
    }
    let zstd = if offer.zstd { zstd.or(star).unwrap_or(0) } else { 0 };
    let gzip = if offer.gzip { gzip.or(star).unwrap_or(0) } else { 0 };
    // Unnamed, identity is acceptable but the last choice: a client that lists a coding at
    // any weight above 0 wants it rather than nothing (`gzip;q=0.5` alone means gzip).
    let identity = identity.or(star).unwrap_or(1);
    let best = zstd.max(gzip).max(identity);
    if best == 0 {
        None
    } else if zstd == best {
        Some(Coding::Zstd)
    } else if gzip == best {
        Some(Coding::Gzip)
    } else {
        None
    }
}

/// `qvalue = ( "0" [ "." 0*3DIGIT ] ) / ( "1" [ "." 0*3("0") ] )`, in thousandths.
fn parse_q(s: &str) -> Option<Weight> {
    let (whole, frac) = s.split_once('.').unwrap_or((s, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let mut thousandths: Weight = 0;
    for (i, b) in frac.bytes().enumerate() {
        thousandths += Weight::from(b - b'0') * [100, 10, 1][i];
    }
    match whole {
        "0" => Some(thousandths),
        "1" if thousandths == 0 => Some(1000),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOTH: Offer = Offer {
        zstd: true,
        gzip: true,
    };

    fn pick(header: &str) -> Option<Coding> {
        choose([header], BOTH)
    }

    #[test]
    fn what_clients_send() {
        // Python requests (urllib3 without zstandard): pyvo, astroquery.
        assert_eq!(pick("gzip, deflate"), Some(Coding::Gzip));
        // urllib3 2 with zstandard, curl --compressed, current browsers.
        assert_eq!(pick("gzip, deflate, br, zstd"), Some(Coding::Zstd));
        assert_eq!(pick("deflate, gzip, br, zstd"), Some(Coding::Zstd));
        assert_eq!(pick("identity"), None);
        assert_eq!(pick(""), None);
        assert_eq!(choose([], BOTH), None);
        assert_eq!(pick("br"), None);
        assert_eq!(pick("x-gzip"), Some(Coding::Gzip));
        assert_eq!(pick("GZip"), Some(Coding::Gzip));
    }

    #[test]
    fn weights_decide() {
        assert_eq!(pick("zstd;q=0.5, gzip"), Some(Coding::Gzip));
        assert_eq!(pick("zstd;q=0.5, gzip;q=0.5"), Some(Coding::Zstd));
        assert_eq!(pick("gzip;q=0.2, identity;q=0.9"), None);
        assert_eq!(pick("gzip;q=0.001"), Some(Coding::Gzip));
        assert_eq!(pick("gzip;q=1.0, identity;q=0.5, *;q=0"), Some(Coding::Gzip));
        assert_eq!(pick("gzip ; q=1.000"), Some(Coding::Gzip));
        assert_eq!(pick("gzip;Q=0.001"), Some(Coding::Gzip));
        assert_eq!(pick("zstd;q=0.001, gzip;q=0.002"), Some(Coding::Gzip));
    }

    #[test]
    fn zero_refuses() {
        assert_eq!(pick("gzip;q=0"), None);
        assert_eq!(pick("zstd;q=0, gzip"), Some(Coding::Gzip));
        assert_eq!(pick("zstd;q=0.000, gzip;q=0"), None);
        // A coding refused and accepted in one header keeps the higher weight.
        assert_eq!(pick("gzip;q=0, gzip"), Some(Coding::Gzip));
    }

    #[test]
    fn star_and_identity() {
        assert_eq!(pick("*"), Some(Coding::Zstd));
        assert_eq!(pick("*;q=0.5, zstd;q=0"), Some(Coding::Gzip));
        assert_eq!(pick("*;q=0"), None);
        assert_eq!(pick("identity;q=0"), None);
        assert_eq!(pick("identity;q=0, gzip;q=0.1"), Some(Coding::Gzip));
        assert_eq!(pick("*;q=0, identity"), None);
        assert_eq!(pick("*;q=0, gzip"), Some(Coding::Gzip));
    }

    #[test]
    fn offers_and_bad_entries() {
        let gzip_only = Offer {
            zstd: false,
            gzip: true,
        };
        assert_eq!(choose(["zstd, gzip;q=0.1"], gzip_only), Some(Coding::Gzip));
        assert_eq!(choose(["zstd"], gzip_only), None);
        let none = Offer {
            zstd: false,
            gzip: false,
        };
        assert_eq!(choose(["zstd, gzip"], none), None);
        // Unreadable weights leave their entry out.
        assert_eq!(pick("gzip;q=2"), None);
        assert_eq!(pick("gzip;q=0.1234"), None);
        assert_eq!(pick("gzip;q=abc, zstd;q=1.5"), None);
        assert_eq!(pick("gzip;q="), None);
        // Several header lines are one list.
        assert_eq!(choose(["identity;q=0.5", "gzip"], BOTH), Some(Coding::Gzip));
        assert_eq!(pick(" , ,gzip"), Some(Coding::Gzip));
    }
}
