//! pgSphere 1.2.0 (Debian 12's `postgresql-15-pgsphere`, 1.1.1+2021-11-10) against the stricter
//! operator checks of PostgreSQL 17, which PostgreSQL 15.20 also carries.
//!
//! Its install script still declares two compatibility operators, `@ (bigint, smoc)` and
//! `@ (spoint, smoc)`, whose `COMMUTATOR = '@>'` names an operator that already is the
//! commutator of `<@`. PostgreSQL now refuses that, so `CREATE EXTENSION pg_sphere` fails
//! with "commutator operator @> is already the commutator of operator <@". Upstream pgSphere
//! dropped both operators in 1.4; nothing else in the extension refers to them (`<@` does the
//! same job), so leaving their two `CREATE OPERATOR` statements out is the whole correction.

/// The SQLSTATE PostgreSQL gives the clash (invalid_function_definition).
pub const CLASH_SQLSTATE: &str = "42P13";

/// What identifies the clash in PostgreSQL's message (the embedded cluster runs in English).
pub const CLASH_MESSAGE: &str = "is already the commutator of operator";

/// The operators the correction leaves out, as (left argument, right argument) of `@`.
pub const OBSOLETE_OPERATORS: [(&str, &str); 2] = [("bigint", "smoc"), ("spoint", "smoc")];

/// Whether a failed `CREATE EXTENSION pg_sphere` failed on this clash (and on nothing else).
pub fn is_commutator_clash(sqlstate: &str, message: &str) -> bool {
    sqlstate == CLASH_SQLSTATE && message.contains(CLASH_MESSAGE)
}

/// Whether a file in the extension directory is one of pgSphere's SQL scripts
/// (`pg_sphere--1.2.0.sql`, `pg_sphere--1.0--1.0_gavo.sql`, ...).
pub fn is_script(file_name: &str) -> bool {
    file_name.starts_with("pg_sphere--") && file_name.ends_with(".sql")
}

/// The script without the `CREATE OPERATOR` statements of [`OBSOLETE_OPERATORS`], or `None`
/// when it has none (a fixed pgSphere, or a script that never had them): then the machine's
/// own file is used as it is.
pub fn correct_script(sql: &str) -> Option<String> {
    let mut out = String::with_capacity(sql.len());
    let mut rest = sql;
    let mut removed = false;
    while let Some(found) = find_create_operator(rest) {
        let (before, from_statement) = rest.split_at(found);
        // An operator definition holds no `;` of its own: the first one ends it.
        let Some(semicolon) = from_statement.find(';') else {
            break;
        };
        let statement = &from_statement[..=semicolon];
        let mut after = &from_statement[semicolon + 1..];
        out.push_str(before);
        if is_obsolete(statement) {
            removed = true;
            // Take the line break that ended the statement with it.
            after = after
                .strip_prefix("\r\n")
                .or_else(|| after.strip_prefix('\n'))
                .unwrap_or(after);
        } else {
            out.push_str(statement);
        }
        rest = after;
    }
    out.push_str(rest);
    removed.then_some(out)
}

/// The byte offset of the next `CREATE OPERATOR` that starts a line.
fn find_create_operator(text: &str) -> Option<usize> {
    const KEYWORDS: &str = "CREATE OPERATOR";
    let mut from = 0;
    while let Some(i) = text[from..].find(KEYWORDS) {
        let at = from + i;
        let line_start = at == 0 || text[..at].ends_with('\n');
        let whole_word = text[at + KEYWORDS.len()..].starts_with(|c: char| c.is_whitespace());
        if line_start && whole_word {
            return Some(at);
        }
        from = at + KEYWORDS.len();
    }
    None
}

/// Whether a `CREATE OPERATOR ... ;` statement defines `@` with one of the obsolete argument
/// pairs. `CREATE OPERATOR CLASS` and every other operator name are kept.
fn is_obsolete(statement: &str) -> bool {
    let after_keywords = statement["CREATE OPERATOR".len()..].trim_start();
    let Some(open) = after_keywords.find('(') else {
        return false;
    };
    if after_keywords[..open].trim() != "@" {
        return false;
    }
    let body = &after_keywords[open + 1..];
    let left = option(body, "LEFTARG");
    let right = option(body, "RIGHTARG");
    OBSOLETE_OPERATORS
        .iter()
        .any(|(l, r)| left.as_deref() == Some(*l) && right.as_deref() == Some(*r))
}

/// The value of `NAME = value` in an operator definition, lower-cased, quotes dropped.
fn option(body: &str, name: &str) -> Option<String> {
    body.split(',').find_map(|item| {
        let (key, value) = item.split_once('=')?;
        key.trim().eq_ignore_ascii_case(name).then(|| {
            value
                .trim()
                .trim_end_matches(';')
                .trim_end_matches(')')
                .trim()
                .trim_matches('"')
                .to_ascii_lowercase()
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The shape of pgSphere 1.2.0's script around the two operators (written for this test).
    const SCRIPT: &str = "\
CREATE OPERATOR <@ (
   LEFTARG    = spoint,
   RIGHTARG   = smoc,
   PROCEDURE  = spoint_subset_smoc,
   COMMUTATOR = '@>'
);

CREATE OPERATOR @ (
   LEFTARG    = bigint,
   RIGHTARG   = smoc,
   PROCEDURE  = healpix_subset_smoc,
   COMMUTATOR = '@>',
   NEGATOR    = '!<@',
   RESTRICT   = contsel,
   JOIN       = contjoinsel
);

CREATE OPERATOR @ (
   LEFTARG    = spoint,
   RIGHTARG   = smoc,
   PROCEDURE  = spoint_subset_smoc,
   COMMUTATOR = '@>',
   NEGATOR    = '!<@',
   RESTRICT   = contsel,
   JOIN       = contjoinsel
);
-- debugging

CREATE OPERATOR @ (
   LEFTARG    = spoint,
   RIGHTARG   = scircle,
   PROCEDURE  = spoint_in_circle,
   COMMUTATOR = '~'
);
CREATE OPERATOR CLASS spoint_ops DEFAULT FOR TYPE spoint USING gist AS
   OPERATOR 1 = ;
CREATE FUNCTION smoc_info (smoc) RETURNS text AS 'MODULE_PATHNAME', 'smoc_info' LANGUAGE C;
";

    #[test]
    fn removes_exactly_the_two_obsolete_operators() {
        let fixed = correct_script(SCRIPT).expect("something to remove");
        assert_eq!(fixed.matches("CREATE OPERATOR @ (").count(), 1, "{fixed}");
        assert!(!fixed.contains("healpix_subset_smoc"), "{fixed}");
        assert!(
            fixed.contains("RIGHTARG   = scircle"),
            "other @ operators stay: {fixed}"
        );
        assert!(fixed.contains("CREATE OPERATOR <@ (\n   LEFTARG    = spoint,\n   RIGHTARG   = smoc"));
        assert!(fixed.contains("CREATE OPERATOR CLASS spoint_ops"));
        assert!(fixed.contains("-- debugging\n\nCREATE OPERATOR @ ("), "{fixed}");
        // Exactly the two statements and their line breaks go (the blank line between them
        // stays), nothing else.
        let first = SCRIPT
            .find("CREATE OPERATOR @ (\n   LEFTARG    = bigint")
            .expect("first");
        let end = SCRIPT.find("-- debugging").expect("end");
        assert_eq!(fixed, format!("{}\n{}", &SCRIPT[..first], &SCRIPT[end..]));
    }

    #[test]
    fn a_corrected_or_unrelated_script_is_left_alone() {
        let fixed = correct_script(SCRIPT).expect("first pass");
        assert_eq!(correct_script(&fixed), None, "the correction is idempotent");
        assert_eq!(correct_script(""), None);
        assert_eq!(
            correct_script("CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql;"),
            None
        );
    }

    #[test]
    fn crlf_scripts_and_other_spacing() {
        let script =
            "CREATE OPERATOR @ (LEFTARG = BIGINT, RIGHTARG = \"smoc\", PROCEDURE = f);\r\nSELECT 1;\r\n";
        assert_eq!(correct_script(script).as_deref(), Some("SELECT 1;\r\n"));
        // Not at the start of a line (in a comment, say): not a statement of its own.
        let quoted = "-- CREATE OPERATOR @ (LEFTARG = bigint, RIGHTARG = smoc);\n";
        assert_eq!(correct_script(quoted), None);
    }

    #[test]
    fn recognises_the_clash_and_nothing_else() {
        assert!(is_commutator_clash(
            "42P13",
            "commutator operator @> is already the commutator of operator <@"
        ));
        assert!(!is_commutator_clash("42P13", "return type mismatch"));
        assert!(!is_commutator_clash(
            "42501",
            "commutator operator @> is already the commutator of operator <@"
        ));
    }

    #[test]
    fn script_names() {
        assert!(is_script("pg_sphere--1.2.0.sql"));
        assert!(is_script("pg_sphere--1.1.5beta2gavo--1.1.5beta4gavo.sql"));
        assert!(!is_script("pg_sphere.control"));
        assert!(!is_script("plpgsql--1.0.sql"));
    }
}
