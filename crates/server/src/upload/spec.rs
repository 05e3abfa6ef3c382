//! The UPLOAD parameter (UP-01..UP-03): `name,URI` pairs, repeatable, and the TAP 1.0 form
//! `a,URI1;b,URI2` in one value.

use super::UploadError;

/// Where an uploaded table comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// `param:NAME`: a file part of the same request (or, for a job, of an earlier one).
    Inline(String),
    /// An `http://` or `https://` URL the server fetches.
    Url(String),
}

/// One `UPLOAD` pair.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Spec {
    /// The table name as given: queries say `TAP_UPLOAD.<name>`.
    pub name: String,
    pub source: Source,
}

/// Whether `s` is an ADQL regular identifier: a letter, then letters, digits or `_` (UP-02).
pub fn is_regular_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Every table of every UPLOAD value, checked: names are identifiers and unique ignoring case
/// (UP-05: two names equal after case folding are an error here), URIs have a scheme we serve.
pub fn parse<'a>(values: impl IntoIterator<Item = &'a str>) -> Result<Vec<Spec>, UploadError> {
    let mut specs: Vec<Spec> = Vec::new();
    for value in values {
        for pair in value.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (name, uri) = pair.split_once(',').ok_or_else(|| {
                UploadError::bad(format!(
                    "UPLOAD '{pair}' is not of the form name,URI (e.g. mytable,param:file1)"
                ))
            })?;
            let (name, uri) = (name.trim(), uri.trim());
            if !is_regular_identifier(name) {
                return Err(UploadError::bad(format!(
                    "the upload name '{name}' is not an ADQL identifier: it must start with a letter \
                     and have only letters, digits and '_'"
                )));
            }
            if specs.iter().any(|s| s.name.eq_ignore_ascii_case(name)) {
                return Err(UploadError::bad(format!(
                    "two uploads are called '{name}': each TAP_UPLOAD table needs its own name"
                )));
            }
            let lower = uri.to_ascii_lowercase();
            let source = if let Some(part) = uri.get(..6).filter(|p| p.eq_ignore_ascii_case("param:")) {
                let part = &uri[part.len()..];
                if part.is_empty() {
                    return Err(UploadError::bad(format!(
                        "UPLOAD {name}: 'param:' needs a part name"
                    )));
                }
                Source::Inline(part.to_string())
            } else if lower.starts_with("http://") || lower.starts_with("https://") {
                Source::Url(uri.to_string())
            } else {
                return Err(UploadError::bad(format!(
                    "UPLOAD {name}: '{uri}' is not a URI this service reads (param:, http:// or https://)"
                )));
            };
            specs.push(Spec {
                name: name.to_string(),
                source,
            });
        }
    }
    Ok(specs)
}

/// The part names `param:NAME` of every UPLOAD value, whatever else is wrong with them (a
/// malformed UPLOAD of a job is reported when the job runs; this only tells which file parts
/// the job will look for).
pub fn inline_parts<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<String> {
    values
        .into_iter()
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.split_once(',').map(|(_, uri)| uri.trim()))
        .filter(|uri| uri.get(..6).is_some_and(|p| p.eq_ignore_ascii_case("param:")))
        .map(|uri| uri[6..].to_string())
        .filter(|part| !part.is_empty())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_forms_and_their_errors() {
        let s = parse(["a,param:f1;b,https://h/x.vot", "c , http://h/y"]).expect("parses");
        assert_eq!(
            s,
            vec![
                Spec {
                    name: "a".into(),
                    source: Source::Inline("f1".into())
                },
                Spec {
                    name: "b".into(),
                    source: Source::Url("https://h/x.vot".into())
                },
                Spec {
                    name: "c".into(),
                    source: Source::Url("http://h/y".into())
                },
            ]
        );
        for bad in ["nocomma", "1t,param:x", "t-1,param:x", "t,ftp://h/x", "t,param:"] {
            assert!(parse([bad]).is_err(), "{bad}");
        }
        let e = parse(["t,param:a", "T,param:b"]).expect_err("duplicate");
        assert!(e.message.contains("two uploads"), "{}", e.message);
    }
}
