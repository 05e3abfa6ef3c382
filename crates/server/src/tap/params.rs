//! TAP request parameters from a query string, a urlencoded body or a multipart body.
//!
//! DALI makes parameter names case-insensitive (REQ-01) and single-valued parameters
//! an error when repeated (REQ-04) — except that TapPlus sends `FORMAT` and `format`
//! with the same value, so identical repeats are merged. Multipart boundaries are
//! taken from the header by hand, because TapPlus's `===123===` is not something
//! multer's own parser accepts (CLIENTS.md §5.4).

use std::sync::Arc;

use super::error::TapError;
use super::part::FilePart;
use crate::upload::Charge;

/// Parameters that may be given only once (with different values).
const SINGLE_VALUED: &[&str] = &[
    "LANG",
    "QUERY",
    "FORMAT",
    "RESPONSEFORMAT",
    "MAXREC",
    "RUNID",
    "REQUEST",
];

/// The longest QUERY accepted (ADQL text; the parser has its own bounds on what is inside).
const MAX_QUERY_BYTES: usize = 1 << 20;

/// The longest value of a parameter that names or describes (RUNID, JOBNAME, ...) or selects
/// (LANG, FORMAT, MAXREC, PHASE, ...): every job document and job list repeats these, so a
/// megabyte RUNID would make every listing huge.
const MAX_SHORT_BYTES: usize = 4096;

/// Parameters held to [`MAX_SHORT_BYTES`].
const SHORT: &[&str] = &[
    "LANG",
    "REQUEST",
    "FORMAT",
    "RESPONSEFORMAT",
    "MAXREC",
    "RUNID",
    "JOBNAME",
    "JOBDESCRIPTION",
    "PHASE",
    "ACTION",
    "EXECUTIONDURATION",
    "DESTRUCTION",
    "VERSION",
];

/// The parameters of one request, names upper-cased, in arrival order.
#[derive(Debug, Clone, Default)]
pub struct Params {
    pairs: Vec<(String, String)>,
    /// The multipart file parts, in arrival order.
    pub file_parts: Vec<FilePart>,
    /// The request body's share of `limits.bodies_in_flight_bytes`, held as long as these
    /// parameters (and their spooled parts) are.
    pub hold: Option<Arc<Charge>>,
}

impl Params {
    /// Add one parameter; an identical repeat of a single-valued one is dropped, a
    /// different value is an error.
    pub fn push(&mut self, name: &str, value: String) -> Result<(), TapError> {
        let key = name.trim().to_ascii_uppercase();
        // PostgreSQL text cannot hold NUL: refused here, where the user can be told which
        // parameter, rather than by the database as a failure of ours.
        if key.contains('\0') || value.contains('\0') {
            let shown: String = key.chars().filter(|c| !c.is_control()).take(40).collect();
            return Err(TapError::bad_request(format!(
                "parameter {shown} contains a NUL character (%00), which no TAP parameter may hold"
            )));
        }
        if let Some(cap) = Self::value_cap(&key).filter(|cap| value.len() > *cap) {
            return Err(TapError::too_large(format!(
                "parameter {key} has {} bytes; this service takes at most {cap}",
                value.len()
            )));
        }
        if SINGLE_VALUED.contains(&key.as_str()) {
            if let Some((_, old)) = self.pairs.iter().find(|(k, _)| *k == key) {
                if *old == value {
                    return Ok(());
                }
                return Err(TapError::bad_request(format!(
                    "parameter {key} was given more than once with different values"
                )));
            }
        }
        self.pairs.push((key, value));
        Ok(())
    }

    /// The longest value the parameter `key` (upper case) may have, if it is one with a cap.
    pub fn value_cap(key: &str) -> Option<usize> {
        if key == "QUERY" {
            Some(MAX_QUERY_BYTES)
        } else {
            SHORT.contains(&key).then_some(MAX_SHORT_BYTES)
        }
    }

    /// The longest value a parameter may have at all: longer values are tables sent as
    /// ordinary fields, kept as file parts.
    pub const MAX_VALUE_BYTES: usize = MAX_QUERY_BYTES;

    /// Rebuild parameters stored earlier (names already upper-cased and checked).
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Params {
        Params {
            pairs,
            file_parts: Vec::new(),
            hold: None,
        }
    }

    /// Every parameter, in arrival order.
    pub fn pairs(&self) -> &[(String, String)] {
        &self.pairs
    }

    /// Take the parameters out, leaving none.
    pub fn into_pairs(self) -> Vec<(String, String)> {
        self.pairs
    }

    /// Remove a parameter (every value of it), returning the first value.
    pub fn take(&mut self, name: &str) -> Option<String> {
        let first = self.get(name).map(str::to_string);
        self.pairs.retain(|(k, _)| !k.eq_ignore_ascii_case(name));
        first
    }

    /// Merge later parameters into these (UWS `/parameters`): a single-valued parameter that
    /// is given again replaces the old value (STANDARDS.md §12 decision 3: clients, taplint
    /// among them, post RUNID again expecting it to change); repeatable ones accumulate.
    pub fn merge(&mut self, later: Params) {
        for (k, v) in later.pairs {
            if SINGLE_VALUED.contains(&k.as_str()) {
                if let Some(slot) = self.pairs.iter_mut().find(|(old, _)| *old == k) {
                    slot.1 = v;
                    continue;
                }
            }
            self.pairs.push((k, v));
        }
        self.file_parts.extend(later.file_parts);
        if self.hold.is_none() {
            self.hold = later.hold;
        }
    }

    /// The file part `param:NAME` refers to: the exact name, else the only one equal to it
    /// ignoring case.
    pub fn file_part(&self, name: &str) -> Option<&FilePart> {
        self.file_parts
            .iter()
            .find(|f| f.name == name)
            .or_else(|| self.file_parts.iter().find(|f| f.name.eq_ignore_ascii_case(name)))
    }

    /// The value of a single-valued parameter.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeatable parameter (UPLOAD).
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.pairs
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Parameters from a query string or urlencoded body.
    pub fn add_urlencoded(&mut self, bytes: &[u8]) -> Result<(), TapError> {
        for (k, v) in form_urlencoded::parse(bytes) {
            self.push(&k, v.into_owned())?;
        }
        Ok(())
    }
}

/// The boundary of a multipart Content-Type: the text after `boundary=` up to `;`, unquoted.
pub fn boundary(content_type: &str) -> Option<String> {
    let lower = content_type.to_ascii_lowercase();
    if !lower.trim_start().starts_with("multipart/") {
        return None;
    }
    let at = lower.find("boundary=")? + "boundary=".len();
    let rest = &content_type[at..];
    let value = if let Some(quoted) = rest.strip_prefix('"') {
        &quoted[..quoted.find('"')?]
    } else {
        rest.split(';').next().unwrap_or("").trim()
    };
    (!value.is_empty()).then(|| value.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_case_insensitive_and_identical_repeats_merge() {
        let mut p = Params::default();
        p.add_urlencoded(b"FORMAT=votable&format=votable&query=SELECT+1&Lang=ADQL&UPLOAD=a,b&upload=c,d")
            .expect("accepted");
        assert_eq!(p.get("format"), Some("votable"));
        assert_eq!(p.get("QUERY"), Some("SELECT 1"));
        assert_eq!(p.all("UPLOAD").collect::<Vec<_>>(), vec!["a,b", "c,d"]);
        let e = p
            .push("MAXREC", "1".into())
            .and_then(|_| p.push("maxrec", "2".into()));
        assert!(e.is_err());
    }

    #[test]
    fn boundaries_of_every_client() {
        assert_eq!(
            boundary("multipart/form-data; boundary====1795309722307===").as_deref(),
            Some("===1795309722307===")
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=\"<<<--------------MULTIPART-BOUNDARY------->>>\"")
                .as_deref(),
            Some("<<<--------------MULTIPART-BOUNDARY------->>>")
        );
        assert_eq!(
            boundary("multipart/form-data; boundary=abc123; charset=utf-8").as_deref(),
            Some("abc123")
        );
        assert_eq!(boundary("application/x-www-form-urlencoded"), None);
    }

    #[test]
    fn later_parameters_replace_single_valued_ones() {
        let mut p = Params::default();
        p.add_urlencoded(b"RUNID=a&UPLOAD=x,y&QUERY=SELECT+1")
            .expect("accepted");
        let mut later = Params::default();
        later.add_urlencoded(b"runId=b&upload=z,w").expect("accepted");
        p.merge(later);
        assert_eq!(p.get("RUNID"), Some("b"));
        assert_eq!(p.all("UPLOAD").count(), 2);
        assert_eq!(p.take("query").as_deref(), Some("SELECT 1"));
        assert_eq!(p.get("QUERY"), None);
    }
}
