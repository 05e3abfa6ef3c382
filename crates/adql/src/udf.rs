//! User-defined functions: name, signature and the SQL they become.
//!
//! Operators will declare their own from configuration; the `ivo_` functions that
//! PostgreSQL can express ship by default. A UDF that yields 0/1 may give a
//! separate boolean template, used when the query compares it with 1 or 0, so
//! that `1 = ivo_hasword(...)` becomes a plain, index-friendly predicate.

use crate::types::AdqlType;

/// One declared function.
#[derive(Debug, Clone, PartialEq)]
pub struct Udf {
    /// The ADQL name, matched case-insensitively.
    pub name: String,
    pub args: Vec<AdqlType>,
    pub returns: AdqlType,
    /// SQL with `$1`, `$2`, ... for the translated arguments.
    pub template: String,
    /// SQL yielding a boolean, for `1 = f(...)` and `f(...) = 0`.
    pub predicate: Option<String>,
    /// An aggregate may not be nested in another and makes its query grouped.
    pub aggregate: bool,
    /// Shown in /capabilities.
    pub description: String,
}

impl Udf {
    /// The TAPRegExt signature, e.g. `ivo_hasword(haystack TEXT, needle TEXT) -> INTEGER`.
    pub fn signature(&self) -> String {
        let args: Vec<String> = self
            .args
            .iter()
            .enumerate()
            .map(|(i, t)| format!("arg{} {}", i + 1, t.describe()))
            .collect();
        format!(
            "{}({}) -> {}",
            self.name,
            args.join(", "),
            self.returns.describe()
        )
    }

    /// Substitute translated arguments into a template. `$10` is not confused with `$1`.
    pub(crate) fn expand(template: &str, args: &[String]) -> String {
        let mut out = String::with_capacity(template.len() + args.iter().map(String::len).sum::<usize>());
        let bytes = template.as_bytes();
        let mut i = 0;
        while i < bytes.len() {
            if bytes[i] == b'$' {
                let start = i + 1;
                let mut end = start;
                while end < bytes.len() && bytes[end].is_ascii_digit() {
                    end += 1;
                }
                if let Ok(n) = template[start..end].parse::<usize>() {
                    if let Some(a) = n.checked_sub(1).and_then(|k| args.get(k)) {
                        out.push('(');
                        out.push_str(a);
                        out.push(')');
                        i = end;
                        continue;
                    }
                }
            }
            let ch_len = template[i..].chars().next().map_or(1, char::len_utf8);
            out.push_str(&template[i..i + ch_len]);
            i += ch_len;
        }
        out
    }
}

/// The declared functions, looked up by lower-case name.
#[derive(Debug, Clone, Default)]
pub struct UdfRegistry {
    udfs: Vec<Udf>,
}

impl UdfRegistry {
    /// No functions at all.
    pub fn empty() -> Self {
        UdfRegistry { udfs: Vec::new() }
    }

    /// The `ivo_` functions every Tapir offers.
    pub fn standard() -> Self {
        use AdqlType::*;
        let text = VarChar(None);
        let mut r = UdfRegistry::empty();
        r.add(Udf {
            name: "ivo_nocasematch".into(),
            args: vec![text, text],
            returns: Integer,
            template: "CASE WHEN lower($1) LIKE lower($2) THEN 1 ELSE 0 END".into(),
            predicate: Some("lower($1) LIKE lower($2)".into()),
            aggregate: false,
            description: "1 if the value matches the LIKE pattern ignoring case, else 0.".into(),
        });
        r.add(Udf {
            name: "ivo_hasword".into(),
            args: vec![text, text],
            returns: Integer,
            template:
                "CASE WHEN to_tsvector('english', $1) @@ plainto_tsquery('english', $2) THEN 1 ELSE 0 END"
                    .into(),
            predicate: Some("to_tsvector('english', $1) @@ plainto_tsquery('english', $2)".into()),
            aggregate: false,
            description: "1 if the text contains the words (English stemming, any case), else 0.".into(),
        });
        r.add(Udf {
            name: "ivo_hashlist_has".into(),
            args: vec![text, text],
            returns: Integer,
            template: "CASE WHEN lower($2) = ANY(string_to_array(lower($1), '#')) THEN 1 ELSE 0 END".into(),
            predicate: Some("lower($2) = ANY(string_to_array(lower($1), '#'))".into()),
            aggregate: false,
            description: "1 if the #-separated list contains the item (ignoring case), else 0.".into(),
        });
        r.add(Udf {
            name: "ivo_interval_overlaps".into(),
            args: vec![Double, Double, Double, Double],
            returns: Integer,
            template: "CASE WHEN $1 <= $4 AND $3 <= $2 THEN 1 ELSE 0 END".into(),
            predicate: Some("$1 <= $4 AND $3 <= $2".into()),
            aggregate: false,
            description: "1 if the intervals [l1, h1] and [l2, h2] overlap, else 0.".into(),
        });
        r.add(Udf {
            name: "ivo_healpix_index".into(),
            args: vec![Integer, Double, Double],
            returns: BigInt,
            template: "healpix_nest($1, spoint(radians($2), radians($3)))".into(),
            predicate: None,
            aggregate: false,
            description: "The nested HEALPix index of the position (ra, dec in degrees) at the given order."
                .into(),
        });
        r.add(Udf {
            name: "ivo_string_agg".into(),
            args: vec![text, text],
            returns: text,
            template: "string_agg(($1)::text, $2)".into(),
            predicate: None,
            aggregate: true,
            description: "Aggregate: the values joined by the delimiter.".into(),
        });
        r
    }

    /// Declare a function, replacing one of the same name.
    pub fn add(&mut self, udf: Udf) {
        self.udfs.retain(|u| !u.name.eq_ignore_ascii_case(&udf.name));
        self.udfs.push(udf);
    }

    pub fn get(&self, name: &str) -> Option<&Udf> {
        self.udfs.iter().find(|u| u.name.eq_ignore_ascii_case(name))
    }

    pub fn iter(&self) -> impl Iterator<Item = &Udf> {
        self.udfs.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expand_substitutes_in_order() {
        let args = vec!["a".to_string(), "b".to_string()];
        assert_eq!(Udf::expand("f($2, $1, $3)", &args), "f((b), (a), $3)");
    }

    #[test]
    fn standard_functions_are_found_in_any_case() {
        let r = UdfRegistry::standard();
        assert!(r.get("IVO_HASWORD").is_some());
        assert!(r.get("ivo_nothing").is_none());
        assert_eq!(
            r.get("ivo_hasword").map(Udf::signature).as_deref(),
            Some("ivo_hasword(arg1 VARCHAR, arg2 VARCHAR) -> INTEGER")
        );
    }
}
