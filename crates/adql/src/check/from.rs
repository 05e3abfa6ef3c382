//! The FROM clause: catalogue tables, WITH queries, subqueries and joins become the
//! relations of the current scope, each with a generated SQL alias.
//!
//! A table name is looked up in the catalogue (the allow-list of tables: TAP_SCHEMA and
//! the request's uploads), never passed through, so the SQL names only what the service
//! publishes. Every sqlparser node is destructured with all its fields named: the
//! allow-list (`parse`) refused what ADQL lacks, and a field that a sqlparser upgrade adds
//! must be looked at here too, so it is a compile error until someone does.

use sqlparser::ast::{
    Ident, Join, JoinConstraint, JoinOperator, ObjectName, ObjectNamePart, Query, TableAlias, TableFactor,
    TableWithJoins,
};

use super::output::quote;
use super::scope::{idents_match, name_matches, Col, Relation};
use super::typing::Meta;
use super::{pos, Checker};
use crate::catalog::Table;
use crate::error::{span_pos, suggest, AdqlError};

impl<'a> Checker<'a> {
    /// A FROM item with its joins, as SQL.
    pub(super) fn table_with_joins(&mut self, t: &TableWithJoins) -> Result<String, AdqlError> {
        let TableWithJoins { relation, joins } = t;
        let mut sql = self.table_factor(relation)?;
        for j in joins {
            sql = self.join(sql, j)?;
        }
        Ok(sql)
    }

    fn join(&mut self, left: String, j: &Join) -> Result<String, AdqlError> {
        let Join {
            relation,
            global: _,
            join_operator,
        } = j;
        let before: Vec<String> = self.visible_column_names();
        let (kind, constraint) = match join_operator {
            JoinOperator::Join(c) | JoinOperator::Inner(c) => ("JOIN", c),
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("LEFT OUTER JOIN", c),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => ("RIGHT OUTER JOIN", c),
            JoinOperator::FullOuter(c) => ("FULL OUTER JOIN", c),
            JoinOperator::CrossJoin(c) => ("CROSS JOIN", c),
            _ => {
                return Err(AdqlError::unsupported("this kind of join is not part of ADQL").at(pos(relation)))
            }
        };
        let first_new = self.current_scope().relations.len();
        let right = self.table_factor(relation)?;
        match constraint {
            JoinConstraint::On(e) => {
                let cond = self.condition(e, "ON")?;
                Ok(format!("{left} {kind} {right} ON {}", cond.sql))
            }
            JoinConstraint::Using(cols) => {
                let mut names = Vec::new();
                for c in cols {
                    let id = match c.0.as_slice() {
                        [ObjectNamePart::Identifier(id)] => id,
                        _ => return Err(AdqlError::syntax("USING takes plain column names").at(pos(c))),
                    };
                    let stored = self.using_column(id, first_new)?;
                    names.push(quote(&stored));
                    self.current_scope_mut().merged.push(stored);
                }
                Ok(format!("{left} {kind} {right} USING ({})", names.join(", ")))
            }
            JoinConstraint::Natural => {
                let right_names: Vec<String> = self.current_scope().relations[first_new..]
                    .iter()
                    .flat_map(|r| r.columns.iter().map(|c| c.name.clone()))
                    .collect();
                for n in right_names {
                    if before.contains(&n) {
                        self.current_scope_mut().merged.push(n);
                    }
                }
                Ok(format!("{left} NATURAL {kind} {right}"))
            }
            JoinConstraint::None => {
                if kind == "JOIN" || kind == "CROSS JOIN" {
                    // The 2.1 grammar makes the join condition optional: a join without one is a cross join.
                    Ok(format!("{left} CROSS JOIN {right}"))
                } else {
                    // Outer joins without a condition join every row with every row, as in the 2.1 grammar.
                    Ok(format!("{left} {kind} {right} ON TRUE"))
                }
            }
        }
    }

    fn visible_column_names(&self) -> Vec<String> {
        self.scopes
            .last()
            .map(|s| {
                s.relations
                    .iter()
                    .flat_map(|r| r.columns.iter().map(|c| c.name.clone()))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A USING column must exist on both sides; returns its stored name.
    fn using_column(&self, id: &Ident, first_new: usize) -> Result<String, AdqlError> {
        let scope = self.current_scope();
        let find = |rels: &[Relation]| {
            rels.iter().find_map(|r| {
                if r.open {
                    return Some(id.value.to_ascii_lowercase());
                }
                r.columns
                    .iter()
                    .find(|c| name_matches(id, &c.name))
                    .map(|c| c.name.clone())
            })
        };
        let left = find(&scope.relations[..first_new]);
        let right = find(&scope.relations[first_new..]);
        match (left, right) {
            (Some(l), Some(_)) => Ok(l),
            _ => Err(AdqlError::unknown(format!(
                "USING column '{}' is not in both joined tables",
                id.value
            ))
            .at(span_pos(id.span))),
        }
    }

    fn table_factor(&mut self, t: &TableFactor) -> Result<String, AdqlError> {
        if !matches!(t, TableFactor::NestedJoin { .. }) {
            self.relations += 1;
            if self.relations > super::MAX_RELATIONS {
                return Err(AdqlError::unsupported(format!(
                    "the query reads more than {} tables and subqueries, the limit of this service; \
                     split it, or join fewer tables at once",
                    super::MAX_RELATIONS
                ))
                .at(pos(t)));
            }
        }
        match t {
            TableFactor::Table {
                name,
                alias,
                // Table functions, hints, time travel, partitions, samples: refused by the allow-list.
                args: _,
                with_hints: _,
                version: _,
                with_ordinality: _,
                partitions: _,
                json_path: _,
                sample: _,
                index_hints: _,
            } => self.named_table(name, alias_name(alias.as_ref())),
            TableFactor::Derived {
                lateral: _,
                subquery,
                alias,
                sample: _,
            } => match alias {
                Some(alias) => self.derived_table(subquery, alias),
                None => Err(AdqlError::syntax("a subquery in FROM needs a name").at(pos(t))),
            },
            TableFactor::NestedJoin {
                table_with_joins,
                alias: _,
            } => {
                let inner = self.table_with_joins(table_with_joins)?;
                Ok(format!("({inner})"))
            }
            _ => Err(AdqlError::unsupported("this FROM item is not part of ADQL").at(pos(t))),
        }
    }

    /// A WITH query or a catalogue table, under its alias if it has one.
    fn named_table(&mut self, name: &ObjectName, alias: Option<&Ident>) -> Result<String, AdqlError> {
        let sql_alias = self.alias('t');
        // A one-part name may be a WITH query.
        if let [ObjectNamePart::Identifier(id)] = name.0.as_slice() {
            if let Some(cte) = self
                .ctes
                .iter()
                .rev()
                .find(|c| idents_match(&c.name, id))
                .cloned()
            {
                self.current_scope_mut().relations.push(Relation {
                    sql_alias: sql_alias.clone(),
                    qual: alias.cloned().unwrap_or_else(|| id.clone()),
                    schema: None,
                    open: cte.columns.iter().any(|c| c.name == "*"),
                    columns: cte.columns.clone(),
                });
                return Ok(format!("{} AS {sql_alias}", cte.sql_name));
            }
        }
        let table = self.resolve_table(name)?;
        let sql = match (&table.physical, &table.schema) {
            (Some(p), _) => format!("{p} AS {sql_alias}"),
            (None, Some(s)) => format!("{}.{} AS {sql_alias}", quote(s), quote(&table.name)),
            (None, None) => format!("{} AS {sql_alias}", quote(&table.name)),
        };
        let last = match name.0.last() {
            Some(ObjectNamePart::Identifier(id)) => id.clone(),
            _ => Ident::new(table.name.clone()),
        };
        let columns = table
            .columns
            .iter()
            .map(|c| Col {
                name: c.name.clone(),
                ty: c.ty,
                meta: Meta {
                    unit: c.unit.clone(),
                    ucd: c.ucd.clone(),
                    utype: c.utype.clone(),
                    description: c.description.clone(),
                    arraysize: c.arraysize.clone(),
                    unicode: c.unicode,
                },
            })
            .collect();
        self.current_scope_mut().relations.push(Relation {
            sql_alias,
            schema: if alias.is_none() {
                table.schema.clone()
            } else {
                None
            },
            qual: alias.cloned().unwrap_or(last),
            columns,
            open: table.open,
        });
        Ok(sql)
    }

    /// `(SELECT ...) AS name`: a relation whose columns are the subquery's output.
    fn derived_table(&mut self, subquery: &Query, alias: &TableAlias) -> Result<String, AdqlError> {
        // A derived table sees no sibling FROM items: hide the current scope's relations.
        let saved = std::mem::take(self.current_scope_mut());
        let inner = self.query(subquery, false);
        *self.current_scope_mut() = saved;
        let inner = inner?;
        let sql_alias = self.alias('t');
        let open = inner.columns.iter().any(|c| c.name == "*");
        self.current_scope_mut().relations.push(Relation {
            sql_alias: sql_alias.clone(),
            qual: alias.name.clone(),
            schema: None,
            columns: inner.columns,
            open,
        });
        Ok(format!("({}) AS {sql_alias}", inner.sql))
    }

    /// Find a catalogue table by `[catalog.]schema.table` or `table` (unique across schemas).
    fn resolve_table(&self, name: &ObjectName) -> Result<&'a Table, AdqlError> {
        let parts: Vec<&Ident> = name
            .0
            .iter()
            .filter_map(|p| match p {
                ObjectNamePart::Identifier(id) => Some(id),
                ObjectNamePart::Function(_) => None,
            })
            .collect();
        let (schema, table) = match parts.as_slice() {
            [t] => (None, *t),
            [s, t] => (Some(*s), *t),
            [catalog, _, _] => {
                return Err(AdqlError::unsupported(format!(
                    "'{name}' names a catalogue ('{}'): this service has one, so its tables are \
                     written schema.table",
                    catalog.value
                ))
                .at(pos(name)))
            }
            _ => return Err(AdqlError::syntax(format!("'{name}' is not a table name")).at(pos(name))),
        };
        let tables: &'a [Table] = self.catalog.tables();
        let matches: Vec<&Table> = tables
            .iter()
            .filter(|t| name_matches(table, &t.name))
            .filter(|t| match (schema, &t.schema) {
                (None, _) => true,
                (Some(s), Some(ts)) => name_matches(s, ts),
                (Some(_), None) => false,
            })
            .collect();
        // Several candidates: prefer the exact spelling, then the default schema.
        let matches = if matches.len() > 1 {
            let exact: Vec<&Table> = matches
                .iter()
                .copied()
                .filter(|t| t.name == table.value)
                .collect();
            if exact.len() == 1 {
                exact
            } else if schema.is_none() {
                let default: Vec<&Table> = matches.iter().copied().filter(|t| t.schema.is_none()).collect();
                if default.len() == 1 {
                    default
                } else {
                    matches
                }
            } else {
                matches
            }
        } else {
            matches
        };
        match matches.as_slice() {
            [one] => Ok(*one),
            [] => {
                let wanted = name.to_string().replace('"', "");
                let names: Vec<String> = tables.iter().map(Table::qualified_name).collect();
                let mut err = AdqlError::unknown(format!("table '{wanted}' not found")).at(pos(name));
                let short: Vec<&str> = tables.iter().map(|t| t.name.as_str()).collect();
                let hint = suggest(&wanted, names.iter().map(String::as_str)).or_else(|| {
                    suggest(&table.value, short.iter().copied()).map(|h| {
                        // Point to the qualified name of the close match.
                        let m = tables
                            .iter()
                            .filter(|t| h.contains(&format!("'{}'", t.name)))
                            .map(Table::qualified_name)
                            .next();
                        m.map_or(h, |q| format!("did you mean '{q}'?"))
                    })
                });
                if let Some(h) = hint {
                    err = err.with_hint(h);
                }
                Err(err)
            }
            many => {
                let names: Vec<String> = many.iter().map(|t| t.qualified_name()).collect();
                Err(AdqlError::unknown(format!(
                    "table name '{}' is ambiguous: it could be {}; qualify it with its schema",
                    table.value,
                    names.join(" or ")
                ))
                .at(pos(name)))
            }
        }
    }
}

/// The name a table alias gives; its column list and `AT` part were refused by the allow-list.
fn alias_name(alias: Option<&TableAlias>) -> Option<&Ident> {
    alias.map(|a| {
        let TableAlias {
            explicit: _,
            name,
            columns: _,
            at: _,
        } = a;
        name
    })
}
