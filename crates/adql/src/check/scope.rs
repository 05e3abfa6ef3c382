//! What a query can see: the relations of each FROM scope and the names that resolve in it.
//!
//! Scopes nest (a subquery sees its own FROM first, then the enclosing ones), names match
//! by ADQL rules (regular identifiers case-insensitively, delimited ones exactly, AQ-01),
//! and every column resolves to its relation's generated alias and its stored name, so the
//! SQL never depends on PostgreSQL's own case folding or name lookup.

use sqlparser::ast::{Expr, Ident, ObjectName, ObjectNamePart};

use super::output::quote;
use super::typing::{Ex, Meta};
use super::{epos, Checker};
use crate::error::{span_pos, suggest, AdqlError, Position};
use crate::types::AdqlType;

/// A column of a relation in scope.
#[derive(Debug, Clone)]
pub(super) struct Col {
    /// The exact name (stored name for tables, output name for subqueries).
    pub(super) name: String,
    pub(super) ty: AdqlType,
    pub(super) meta: Meta,
}

/// A table, view, CTE or subquery visible in a FROM scope.
#[derive(Debug, Clone)]
pub(super) struct Relation {
    /// Generated SQL alias.
    pub(super) sql_alias: String,
    /// The name it can be qualified by: the alias if given, else the table name.
    pub(super) qual: Ident,
    /// For an unaliased catalogue table, its schema (so `schema.table.col` resolves).
    pub(super) schema: Option<String>,
    pub(super) columns: Vec<Col>,
    pub(super) open: bool,
}

#[derive(Debug, Default)]
pub(super) struct Scope {
    pub(super) relations: Vec<Relation>,
    /// Column names merged by USING or NATURAL: unqualified references are not ambiguous.
    pub(super) merged: Vec<String>,
}

/// A CTE visible by name.
#[derive(Debug, Clone)]
pub(super) struct CteDef {
    pub(super) name: Ident,
    pub(super) sql_name: String,
    pub(super) columns: Vec<Col>,
}

/// Match a name against a stored name by ADQL rules: regular identifiers
/// case-insensitively, delimited ones exactly (AQ-01).
pub(super) fn name_matches(id: &Ident, stored: &str) -> bool {
    if id.quote_style.is_some() {
        id.value == stored
    } else {
        id.value.eq_ignore_ascii_case(stored)
    }
}

/// Two identifiers naming the same thing (both from the query).
pub(super) fn idents_match(a: &Ident, b: &Ident) -> bool {
    match (a.quote_style.is_some(), b.quote_style.is_some()) {
        (true, true) => a.value == b.value,
        _ => a.value.eq_ignore_ascii_case(&b.value),
    }
}

/// The name an identifier gives a new thing (an alias): regular ones as written.
pub(super) fn ident_name(id: &Ident) -> String {
    id.value.clone()
}

impl Checker<'_> {
    /// The innermost FROM scope.
    pub(super) fn current_scope(&self) -> &Scope {
        // select() always pushes a scope before FROM is walked.
        static EMPTY: Scope = Scope {
            relations: Vec::new(),
            merged: Vec::new(),
        };
        self.scopes.last().unwrap_or(&EMPTY)
    }

    pub(super) fn current_scope_mut(&mut self) -> &mut Scope {
        if self.scopes.is_empty() {
            self.scopes.push(Scope::default());
        }
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }

    /// Expand `*` or `t.*` into the columns in scope.
    pub(super) fn star(
        &mut self,
        qual: Option<&ObjectName>,
        at: Option<Position>,
    ) -> Result<Vec<(String, Col)>, AdqlError> {
        let scope = self
            .scopes
            .last()
            .ok_or_else(|| AdqlError::syntax("* outside a SELECT").at(at))?;
        let mut out = Vec::new();
        let mut found = false;
        let mut seen_merged: Vec<&str> = Vec::new();
        for rel in &scope.relations {
            if let Some(q) = qual {
                if !relation_matches(rel, q) {
                    continue;
                }
            }
            found = true;
            if rel.open {
                // Placeholder tables (syntax-only checking): their columns are unknown.
                out.push((
                    format!("{}.*", rel.sql_alias),
                    Col {
                        name: "*".into(),
                        ty: AdqlType::Unknown,
                        meta: Meta::default(),
                    },
                ));
                continue;
            }
            for c in &rel.columns {
                let merged = qual.is_none() && scope.merged.iter().any(|m| m == &c.name);
                if merged {
                    if seen_merged.contains(&c.name.as_str()) {
                        continue;
                    }
                    seen_merged.push(&c.name);
                    out.push((quote(&c.name), c.clone()));
                } else {
                    out.push((format!("{}.{}", rel.sql_alias, quote(&c.name)), c.clone()));
                }
            }
        }
        if !found {
            let name = qual.map(|q| q.to_string()).unwrap_or_default();
            return Err(AdqlError::unknown(format!("no table '{name}' in FROM for '{name}.*'")).at(at));
        }
        Ok(out)
    }

    /// Resolve a column reference by ADQL rules, innermost scope first.
    pub(super) fn column(&mut self, parts: &[&Ident], e: &Expr) -> Result<Ex, AdqlError> {
        let (qual, col): (&[&Ident], &Ident) = match parts.split_last() {
            Some((c, q)) => (q, c),
            None => return Err(AdqlError::syntax("empty name").at(epos(e))),
        };
        if qual.len() > 3 {
            return Err(AdqlError::syntax("too many parts in a column name").at(epos(e)));
        }
        let mut qual_seen = qual.is_empty();
        for depth in (0..self.scopes.len()).rev() {
            let scope = &self.scopes[depth];
            let mut hits: Vec<(String, Col)> = Vec::new();
            let mut open_hits: Vec<(String, Col)> = Vec::new();
            for rel in &scope.relations {
                if !qual.is_empty() && !relation_matches_parts(rel, qual) {
                    continue;
                }
                qual_seen = true;
                if rel.open {
                    let name = if col.quote_style.is_some() {
                        col.value.clone()
                    } else {
                        col.value.to_ascii_lowercase()
                    };
                    open_hits.push((
                        format!("{}.{}", rel.sql_alias, quote(&name)),
                        Col {
                            name,
                            ty: AdqlType::Unknown,
                            meta: Meta::default(),
                        },
                    ));
                    continue;
                }
                let found: Vec<&Col> = rel
                    .columns
                    .iter()
                    .filter(|c| name_matches(col, &c.name))
                    .collect();
                if found.len() > 1 {
                    let names: Vec<String> = found.iter().map(|c| format!("\"{}\"", c.name)).collect();
                    return Err(AdqlError::unknown(format!(
                        "column name '{}' is ambiguous in {}: it could be {}",
                        col.value,
                        rel.qual.value,
                        names.join(" or ")
                    ))
                    .at(span_pos(col.span))
                    .with_hint("write the name in double quotes with its exact case"));
                }
                if let Some(c) = found.first() {
                    hits.push((format!("{}.{}", rel.sql_alias, quote(&c.name)), (*c).clone()));
                }
            }
            // A placeholder (open) table claims every name: a real column wins over it,
            // and among placeholders the first one does.
            if hits.is_empty() {
                hits.extend(open_hits.into_iter().take(1));
            }
            let merged = qual.is_empty()
                && hits.len() > 1
                && hits
                    .iter()
                    .all(|(_, c)| scope.merged.iter().any(|m| m == &c.name));
            if merged {
                hits.truncate(1);
                let name = hits[0].1.name.clone();
                hits[0].0 = quote(&name);
            }
            match hits.len() {
                0 => continue,
                1 => {
                    let (sql, c) = hits.remove(0);
                    let mut ex = Ex::new(sql, c.ty);
                    ex.name = Some(c.name.clone());
                    ex.meta = Some(c.meta);
                    ex.columns = true;
                    return Ok(ex);
                }
                _ => {
                    let tables: Vec<String> = scope
                        .relations
                        .iter()
                        .filter(|r| r.open || r.columns.iter().any(|c| name_matches(col, &c.name)))
                        .map(|r| r.qual.value.clone())
                        .collect();
                    return Err(AdqlError::unknown(format!(
                        "column '{}' is ambiguous: it is in {}",
                        col.value,
                        tables.join(" and ")
                    ))
                    .at(span_pos(col.span))
                    .with_hint(format!("qualify it, e.g. {}.{}", tables[0], col.value)));
                }
            }
        }
        if !qual_seen {
            let q: Vec<String> = qual.iter().map(|i| i.value.clone()).collect();
            let q = q.join(".");
            let names: Vec<String> = self
                .scopes
                .iter()
                .flat_map(|s| s.relations.iter().map(|r| r.qual.value.clone()))
                .collect();
            let mut err = AdqlError::unknown(format!("'{q}' is not a table or alias in FROM"))
                .at(span_pos(qual[0].span));
            if let Some(h) = suggest(&q, names.iter().map(String::as_str)) {
                err = err.with_hint(h);
            }
            return Err(err);
        }
        // Not found: name the tables searched and suggest close column names.
        let mut tables = Vec::new();
        let mut candidates = Vec::new();
        for s in self.scopes.iter().rev() {
            for r in &s.relations {
                if !qual.is_empty() && !relation_matches_parts(r, qual) {
                    continue;
                }
                tables.push(r.qual.value.clone());
                candidates.extend(r.columns.iter().map(|c| c.name.clone()));
            }
        }
        let place = if tables.is_empty() {
            String::new()
        } else {
            format!(" in {}", tables.join(", "))
        };
        let mut err =
            AdqlError::unknown(format!("column '{}' not found{place}", col.value)).at(span_pos(col.span));
        if let Some(h) = suggest(&col.value, candidates.iter().map(String::as_str)) {
            err = err.with_hint(h);
        }
        Err(err)
    }
}

fn relation_matches(rel: &Relation, q: &ObjectName) -> bool {
    let parts: Vec<&Ident> =
        q.0.iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(id) => Some(id),
                ObjectNamePart::Function(_) => None,
            })
            .collect();
    relation_matches_parts(rel, &parts)
}

/// Whether a qualifier (`t`, `s.t` or `c.s.t`) names this relation.
fn relation_matches_parts(rel: &Relation, qual: &[&Ident]) -> bool {
    let Some((last, rest)) = qual.split_last() else {
        return true;
    };
    if !idents_match(last, &rel.qual) {
        return false;
    }
    match rest.last() {
        None => true,
        Some(schema) => rel.schema.as_deref().is_some_and(|s| name_matches(schema, s)),
    }
}
