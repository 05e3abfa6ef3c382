//! What leaves the checker: SQL text fragments and the metadata of result columns.
//!
//! Names and strings are always written quoted, with the quote doubled inside, so no
//! text from a query or a catalogue can end a literal or an identifier early. Output
//! column names are made unique deterministically, and each result column's VOTable
//! FIELD metadata comes from the type and the catalogue metadata that travelled with it.

use std::collections::{HashMap, HashSet};

use super::scope::Col;
use crate::functions;
use crate::OutputColumn;

/// Enclose text in a quote character, doubling that character inside (SQL's one escape rule).
fn enclose(text: &str, q: char) -> String {
    let mut s = String::with_capacity(text.len() + 2);
    s.push(q);
    for ch in text.chars() {
        if ch == q {
            s.push(q);
        }
        s.push(ch);
    }
    s.push(q);
    s
}

/// Quote a name for PostgreSQL.
pub(super) fn quote(name: &str) -> String {
    enclose(name, '"')
}

/// A string literal for PostgreSQL (standard_conforming_strings on).
pub(super) fn string_literal(v: &str) -> String {
    enclose(v, '\'')
}
/// Make output names unique with a stable suffix: `rv`, `rv_2`, ... (case-insensitively,
/// since clients compare names that way). Linear: a set of the names taken so far.
pub(super) fn unique_names(columns: &mut [Col]) {
    let mut taken: HashSet<String> = HashSet::with_capacity(columns.len() * 2);
    let all: HashSet<String> = columns.iter().map(|c| c.name.to_ascii_lowercase()).collect();
    let mut next_suffix: HashMap<String, usize> = HashMap::new();
    for col in columns.iter_mut() {
        if col.name == "*" {
            continue;
        }
        let lower = col.name.to_ascii_lowercase();
        if taken.insert(lower.clone()) {
            continue;
        }
        // Start where the last duplicate of this name stopped: linear in the number of columns.
        let k = next_suffix.entry(lower).or_insert(2);
        loop {
            let candidate = format!("{}_{k}", col.name);
            let key = candidate.to_ascii_lowercase();
            *k += 1;
            // Skip suffixed names that a later column has as its own name.
            if !all.contains(&key) && taken.insert(key) {
                col.name = candidate;
                break;
            }
        }
    }
}

/// The select list of a SELECT: each item with ` AS "name"`. In the outermost query,
/// geometry becomes DALI arrays (pgSphere types have no binary output); an open table's
/// `t.*` (columns unknown) stays as it is.
pub(super) fn select_list(items: &[String], columns: &[Col], output: bool) -> String {
    let mut sql = String::new();
    for (i, (item, col)) in items.iter().zip(columns).enumerate() {
        if i > 0 {
            sql.push_str(", ");
        }
        if item.ends_with(".*") && col.name == "*" {
            sql.push_str(item);
            continue;
        }
        if output {
            sql.push_str(&functions::output_value(item, col.ty));
        } else {
            sql.push_str(item);
        }
        sql.push_str(" AS ");
        sql.push_str(&quote(&col.name));
    }
    sql
}

/// The VOTable FIELD of a result column: datatype, arraysize and xtype from its type,
/// unless TAP_SCHEMA gave an arraysize or declared the column `unicodeChar`.
pub(super) fn output_column(col: Col) -> OutputColumn {
    let (datatype, arraysize, xtype) = col.ty.votable();
    let datatype = if col.meta.unicode && datatype == "char" {
        "unicodeChar"
    } else {
        datatype
    };
    OutputColumn {
        name: col.name,
        ty: col.ty,
        datatype,
        arraysize: col.meta.arraysize.or(arraysize),
        xtype,
        unit: col.meta.unit,
        ucd: col.meta.ucd,
        utype: col.meta.utype,
        description: col.meta.description,
    }
}
