//! Checking and translation: one walk over a parsed query that resolves every name against
//! the catalogue, gives every expression a type and writes PostgreSQL SQL as it goes.
//!
//! The walk is split by concern:
//!
//! - this module: the query level (WITH, set operations, SELECT and its clauses);
//! - [`from`]: FROM items and joins, and catalogue lookups;
//! - [`scope`]: what a clause can see, and how a column reference resolves;
//! - [`expr`]: expressions, as values or as conditions;
//! - [`order`]: ORDER BY and GROUP BY items (ordinals, output aliases);
//! - [`typing`]: the type rules (which values compare, combine, unify);
//! - [`output`]: quoting, the select list, and the metadata of result columns.
//!
//! Tables get generated aliases (`"t1"`, `"t2"`, ...) and every column is emitted qualified
//! and quoted with its stored name, so PostgreSQL never folds case and never mistakes a
//! column called `user` for CURRENT_USER. The walk reads only what the allow-list
//! (`parse`) let through, but still names every field of the sqlparser nodes it reads, so
//! that a sqlparser upgrade that adds a clause fails to compile here too.

mod expr;
mod from;
mod order;
mod output;
mod scope;
mod typing;

use sqlparser::ast::{
    Cte, Distinct, Expr, GroupByExpr, LimitClause, Offset, OrderBy, OrderByExpr, OrderByKind, Query, Select,
    SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, Spanned, TableAlias,
    Top, TopQuantity, With,
};

use output::quote;
pub(crate) use typing::{comparable, compatible, unify, Ex, Meta};

use crate::catalog::Catalog;
use crate::error::{span_pos, AdqlError, Position};
use crate::udf::UdfRegistry;
use crate::{Parsed, Translation};
use scope::{ident_name, idents_match, Col, CteDef, Scope};

pub(crate) struct Checker<'a> {
    catalog: &'a dyn Catalog,
    pub(crate) udfs: &'a UdfRegistry,
    scopes: Vec<Scope>,
    ctes: Vec<CteDef>,
    next_alias: usize,
    /// FROM items met so far in the whole query (tables, subqueries, WITH queries, in every
    /// branch of a set operation), against [`MAX_RELATIONS`].
    relations: usize,
}

/// The most relations one query may read. Planning a join of many relations can take
/// gigabytes of server memory before a single row is read, and no statement timeout helps
/// during planning. Measured on bench.objects self-joins with Tapir's planner settings: 8
/// relations 40 MB of backend memory, 16 relations 173 MB (0.37 s), 20 230 MB, 32 1.1 GB,
/// 40 2.2 GB. Astronomical queries join a handful of tables.
pub(crate) const MAX_RELATIONS: usize = 16;

/// The result of a SELECT or set operation: its SQL and columns.
struct Emitted {
    sql: String,
    columns: Vec<Col>,
    /// Whether this is a bare SELECT without TOP/ORDER/OFFSET (needs no parentheses as a set operand).
    simple: bool,
}

pub(crate) fn translate(
    p: &Parsed,
    catalog: &dyn Catalog,
    udfs: &UdfRegistry,
) -> Result<Translation, AdqlError> {
    let mut c = Checker {
        catalog,
        udfs,
        scopes: Vec::new(),
        ctes: Vec::new(),
        next_alias: 0,
        relations: 0,
    };
    let out = c.query(&p.query, true)?;
    Ok(Translation {
        sql: out.sql,
        columns: out.columns.into_iter().map(output::output_column).collect(),
        top: p.top(),
    })
}

fn pos<T: Spanned>(node: &T) -> Option<Position> {
    span_pos(node.span())
}

/// Where an expression starts (cheap, even for long operator chains).
fn epos(e: &Expr) -> Option<Position> {
    crate::error::expr_start(e)
}

impl Checker<'_> {
    fn alias(&mut self, prefix: char) -> String {
        self.next_alias += 1;
        format!("\"{prefix}{}\"", self.next_alias)
    }

    fn query(&mut self, q: &Query, output: bool) -> Result<Emitted, AdqlError> {
        let Query {
            with,
            body,
            order_by,
            limit_clause,
            // FETCH, FOR UPDATE, FOR XML, SETTINGS, FORMAT and pipes: refused by the allow-list.
            fetch: _,
            locks: _,
            for_clause: _,
            settings: _,
            format_clause: _,
            pipe_operators: _,
        } = q;
        let ctes_before = self.ctes.len();
        let mut sql = String::new();
        if let Some(With {
            with_token: _,
            recursive: _,
            cte_tables,
        }) = with
        {
            sql.push_str("WITH ");
            for (i, cte) in cte_tables.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                self.with_query(cte, &mut sql)?;
            }
            sql.push(' ');
        }

        let order: &[OrderByExpr] = match order_by {
            Some(OrderBy {
                kind: OrderByKind::Expressions(list),
                interpolate: _,
            }) => list,
            _ => &[],
        };
        let offset = match limit_clause {
            Some(LimitClause::LimitOffset {
                limit: _,
                offset: Some(Offset { value, rows: _ }),
                limit_by: _,
            }) => Some(value.to_string()),
            _ => None,
        };
        let body = match body.as_ref() {
            SetExpr::Select(s) => self.select(s, order, output)?,
            other => {
                let mut e = self.set_expr(other, output)?;
                if !order.is_empty() {
                    let mut items = Vec::new();
                    for o in order {
                        items.push(self.order_item_by_output(o, &e.columns)?);
                    }
                    e.sql.push_str(" ORDER BY ");
                    e.sql.push_str(&items.join(", "));
                }
                e
            }
        };
        sql.push_str(&body.sql);
        if let Some(o) = &offset {
            sql.push_str(" OFFSET ");
            sql.push_str(o);
        }
        self.ctes.truncate(ctes_before);
        Ok(Emitted {
            sql,
            columns: body.columns,
            simple: body.simple && offset.is_none() && order.is_empty() && with.is_none(),
        })
    }

    /// One `name [(columns)] AS (query)` of WITH: checked, written to `sql`, and made visible
    /// to the queries after it.
    fn with_query(&mut self, cte: &Cte, sql: &mut String) -> Result<(), AdqlError> {
        let Cte {
            alias:
                TableAlias {
                    explicit: _,
                    name,
                    columns: names,
                    at: _,
                },
            query,
            // MATERIALIZED and FROM were refused by the allow-list.
            from: _,
            materialized: _,
            closing_paren_token: _,
        } = cte;
        if self.ctes.iter().any(|c| idents_match(&c.name, name)) {
            return Err(
                AdqlError::syntax(format!("the name '{name}' is defined twice in WITH"))
                    .at(span_pos(name.span)),
            );
        }
        let inner = self.query(query, false)?;
        let mut columns = inner.columns;
        if !names.is_empty() {
            if names.len() != columns.len() {
                return Err(AdqlError::syntax(format!(
                    "WITH {name} names {} columns but its query has {}",
                    names.len(),
                    columns.len()
                ))
                .at(span_pos(name.span)));
            }
            for (c, n) in columns.iter_mut().zip(names) {
                c.name = ident_name(&n.name);
            }
        }
        let sql_name = self.alias('c');
        sql.push_str(&sql_name);
        if !names.is_empty() {
            let list: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
            sql.push('(');
            sql.push_str(&list.join(", "));
            sql.push(')');
        }
        sql.push_str(" AS (");
        sql.push_str(&inner.sql);
        sql.push(')');
        self.ctes.push(CteDef {
            name: name.clone(),
            sql_name,
            columns,
        });
        Ok(())
    }

    fn set_expr(&mut self, s: &SetExpr, output: bool) -> Result<Emitted, AdqlError> {
        match s {
            SetExpr::Select(sel) => self.select(sel, &[], output),
            SetExpr::Query(q) => {
                let e = self.query(q, output)?;
                Ok(Emitted {
                    sql: format!("({})", e.sql),
                    columns: e.columns,
                    simple: true,
                })
            }
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                let l = self.set_expr(left, output)?;
                let r = self.set_expr(right, output)?;
                if l.columns.len() != r.columns.len() {
                    return Err(AdqlError::typing(format!(
                        "the two sides of {op} have {} and {} columns",
                        l.columns.len(),
                        r.columns.len()
                    ))
                    .at(crate::error::set_start(s)));
                }
                for (a, b) in l.columns.iter().zip(&r.columns) {
                    if !compatible(a.ty, b.ty) {
                        return Err(AdqlError::typing(format!(
                            "{op} combines column '{}' ({}) with '{}' ({})",
                            a.name,
                            a.ty.describe(),
                            b.name,
                            b.ty.describe()
                        ))
                        .at(crate::error::set_start(s)));
                    }
                }
                let opname = match op {
                    SetOperator::Union => "UNION",
                    SetOperator::Except => "EXCEPT",
                    _ => "INTERSECT",
                };
                let all = if matches!(set_quantifier, SetQuantifier::All) {
                    " ALL"
                } else {
                    ""
                };
                let wrap = |e: &Emitted| {
                    if e.simple {
                        e.sql.clone()
                    } else {
                        format!("({})", e.sql)
                    }
                };
                // Metadata comes from the left operand (AQ-13); types widen across both.
                let columns = l
                    .columns
                    .iter()
                    .zip(&r.columns)
                    .map(|(a, b)| Col {
                        ty: unify(a.ty, b.ty),
                        ..a.clone()
                    })
                    .collect();
                Ok(Emitted {
                    sql: format!("{} {opname}{all} {}", wrap(&l), wrap(&r)),
                    columns,
                    simple: true,
                })
            }
            _ => {
                Err(AdqlError::unsupported("this query form is not part of ADQL")
                    .at(crate::error::set_start(s)))
            }
        }
    }

    fn select(&mut self, s: &Select, order: &[OrderByExpr], output: bool) -> Result<Emitted, AdqlError> {
        self.scopes.push(Scope::default());
        let result = self.select_in_scope(s, order, output);
        self.scopes.pop();
        result
    }

    fn select_in_scope(
        &mut self,
        s: &Select,
        order: &[OrderByExpr],
        output: bool,
    ) -> Result<Emitted, AdqlError> {
        let Select {
            select_token: _,
            distinct,
            top,
            projection,
            from,
            selection,
            group_by,
            having,
            // Everything else was refused by the allow-list (dialect clauses and modifiers).
            optimizer_hints: _,
            select_modifiers: _,
            top_before_distinct: _,
            exclude: _,
            into: _,
            lateral_views: _,
            prewhere: _,
            connect_by: _,
            cluster_by: _,
            distribute_by: _,
            sort_by: _,
            named_window: _,
            qualify: _,
            window_before_qualify: _,
            value_table_mode: _,
            flavor: _,
        } = s;
        // FROM first: it defines what the other clauses can see.
        let mut from_sql = String::new();
        for (i, twj) in from.iter().enumerate() {
            if i > 0 {
                from_sql.push_str(", ");
            }
            let part = self.table_with_joins(twj)?;
            from_sql.push_str(&part);
        }

        let (items, columns) = self.select_items(projection)?;

        let mut sql = String::from("SELECT ");
        match distinct {
            Some(Distinct::Distinct) => sql.push_str("DISTINCT "),
            Some(Distinct::All) => sql.push_str("ALL "),
            _ => {}
        }
        sql.push_str(&output::select_list(&items, &columns, output));
        sql.push_str(" FROM ");
        sql.push_str(&from_sql);

        if let Some(w) = selection {
            let cond = self.condition(w, "WHERE")?;
            if cond.aggregate {
                return Err(
                    AdqlError::syntax("aggregate functions are not allowed in WHERE; use HAVING").at(epos(w)),
                );
            }
            sql.push_str(" WHERE ");
            sql.push_str(&cond.sql);
        }
        // GROUP BY ALL and GROUP BY ... WITH were refused by the allow-list.
        if let GroupByExpr::Expressions(list, _modifiers) = group_by {
            if !list.is_empty() {
                let mut parts = Vec::new();
                for g in list {
                    parts.push(self.group_item(g, s, &columns)?);
                }
                sql.push_str(" GROUP BY ");
                sql.push_str(&parts.join(", "));
            }
        }
        if let Some(h) = having {
            let cond = self.condition(h, "HAVING")?;
            sql.push_str(" HAVING ");
            sql.push_str(&cond.sql);
        }
        if !order.is_empty() {
            let mut parts = Vec::new();
            for o in order {
                parts.push(self.order_item(o, s, &columns)?);
            }
            sql.push_str(" ORDER BY ");
            sql.push_str(&parts.join(", "));
        }
        let mut simple = order.is_empty();
        // TOP PERCENT and WITH TIES were refused by the allow-list.
        if let Some(Top {
            with_ties: _,
            percent: _,
            quantity: Some(TopQuantity::Constant(n)),
        }) = top
        {
            sql.push_str(&format!(" LIMIT {n}"));
            simple = false;
        }
        Ok(Emitted { sql, columns, simple })
    }

    /// The select list: each item's SQL and its result column (names made unique).
    fn select_items(&mut self, projection: &[SelectItem]) -> Result<(Vec<String>, Vec<Col>), AdqlError> {
        let mut items: Vec<String> = Vec::new();
        let mut columns: Vec<Col> = Vec::new();
        for item in projection {
            let (e, alias) = match item {
                SelectItem::UnnamedExpr(e) => (e, None),
                SelectItem::ExprWithAlias { expr, alias } => (expr, Some(alias)),
                // The options after `*` (EXCLUDE, REPLACE, ...) were refused by the allow-list.
                SelectItem::Wildcard(_options) => {
                    let all = self.star(None, pos(item))?;
                    if all.is_empty() {
                        return Err(
                            AdqlError::unknown("SELECT * over tables whose columns are not known")
                                .at(pos(item)),
                        );
                    }
                    for (sql, col) in all {
                        items.push(sql);
                        columns.push(col);
                    }
                    continue;
                }
                SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), _options) => {
                    let all = self.star(Some(n), pos(item))?;
                    for (sql, col) in all {
                        items.push(sql);
                        columns.push(col);
                    }
                    continue;
                }
                SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::Expr(_), _)
                | SelectItem::ExprWithAliases { .. } => {
                    return Err(AdqlError::unsupported("this select item is not part of ADQL").at(pos(item)))
                }
            };
            let ex = self.value(e)?;
            let name = match alias {
                Some(alias) => ident_name(alias),
                None => ex.name.clone().unwrap_or_else(|| "expr".to_string()),
            };
            columns.push(Col {
                name,
                ty: ex.ty,
                meta: ex.meta.clone().unwrap_or_default(),
            });
            items.push(ex.sql);
        }
        output::unique_names(&mut columns);
        Ok((items, columns))
    }
}
