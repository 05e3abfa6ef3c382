//! Column names of uploaded tables as ADQL can use them.
//!
//! A FIELD name that is a regular ADQL identifier (and no reserved word) is kept. Any other is
//! rewritten: characters other than letters, digits and `_` become `_`, a name that does not
//! start with a letter gets `col_` in front, a reserved word gets `_` behind, and names equal
//! ignoring case get `_2`, `_3`, ... The mapping of every changed name is reported with the
//! result, so a user can tell `RA (deg)` became `RA__deg_`.

use super::spec::is_regular_identifier;

/// The ADQL names for `names`, in order, all distinct ignoring case.
pub fn sanitize(names: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(names.len());
    for name in names {
        let mut base = if is_regular_identifier(name) && !adql::is_reserved_word(name) {
            name.to_string()
        } else {
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
        };
        if out.iter().any(|o| o.eq_ignore_ascii_case(&base)) {
            let stem = base.clone();
            let mut n = 2;
            while out.iter().any(|o| o.eq_ignore_ascii_case(&base)) {
                base = format!("{stem}_{n}");
                n += 1;
            }
        }
        out.push(base);
    }
    out
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
}
