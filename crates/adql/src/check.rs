//! Checking and translation in one walk.
//!
//! Every name is resolved against the catalogue (the allow-list of tables and
//! columns), every expression gets a type, and PostgreSQL SQL is written as we go.
//! Tables get generated aliases (`"t1"`, `"t2"`, ...) and every column is emitted
//! qualified and quoted with its stored name, so PostgreSQL never folds case and
//! never mistakes a column called `user` for CURRENT_USER.

use sqlparser::ast::{
    BinaryOperator, Expr, FunctionArg, FunctionArgExpr, FunctionArguments, GroupByExpr, Ident, Join,
    JoinConstraint, JoinOperator, LimitClause, ObjectName, ObjectNamePart, OrderByKind, OrderBySort, Query,
    Select, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, Spanned,
    TableFactor, TableWithJoins, TopQuantity, UnaryOperator, Value,
};

use crate::catalog::{Catalog, Table};
use crate::error::{span_pos, suggest, AdqlError, Position};
use crate::functions;
use crate::types::{AdqlType, Family};
use crate::udf::UdfRegistry;
use crate::{OutputColumn, Parsed, Translation};

/// Column metadata that travels with a value (copied from TAP_SCHEMA for column references).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct Meta {
    pub unit: Option<String>,
    pub ucd: Option<String>,
    pub utype: Option<String>,
    pub description: Option<String>,
    pub arraysize: Option<String>,
    /// The column is `unicodeChar` in TAP_SCHEMA.
    pub unicode: bool,
}

/// A translated expression.
#[derive(Debug, Clone)]
pub(crate) struct Ex {
    pub sql: String,
    pub ty: AdqlType,
    /// Present for plain column references.
    pub meta: Option<Meta>,
    /// Default output name when selected without alias.
    pub name: Option<String>,
    /// Whether the value depends on a table column (decides which side of a
    /// distance test the index can serve).
    pub columns: bool,
    /// A numeric literal, kept for constant folding of geometry (polygon literals).
    pub number: Option<f64>,
    /// Contains an aggregate call.
    pub aggregate: bool,
}

impl Ex {
    pub(crate) fn new(sql: String, ty: AdqlType) -> Self {
        Ex {
            sql,
            ty,
            meta: None,
            name: None,
            columns: false,
            number: None,
            aggregate: false,
        }
    }

    /// A derived value: carries the column-dependence and aggregate flags of its inputs.
    pub(crate) fn derived(sql: String, ty: AdqlType, inputs: &[&Ex]) -> Self {
        let mut e = Ex::new(sql, ty);
        e.columns = inputs.iter().any(|i| i.columns);
        e.aggregate = inputs.iter().any(|i| i.aggregate);
        e
    }
}

/// A column of a relation in scope.
#[derive(Debug, Clone)]
struct Col {
    /// The exact name (stored name for tables, output name for subqueries).
    name: String,
    ty: AdqlType,
    meta: Meta,
}

/// A table, view, CTE or subquery visible in a FROM scope.
#[derive(Debug, Clone)]
struct Relation {
    /// Generated SQL alias.
    sql_alias: String,
    /// The name it can be qualified by: the alias if given, else the table name.
    qual: Ident,
    /// For an unaliased catalogue table, its schema (so `schema.table.col` resolves).
    schema: Option<String>,
    columns: Vec<Col>,
    open: bool,
}

#[derive(Debug, Default)]
struct Scope {
    relations: Vec<Relation>,
    /// Column names merged by USING or NATURAL: unqualified references are not ambiguous.
    merged: Vec<String>,
}

/// A CTE visible by name.
#[derive(Debug, Clone)]
struct CteDef {
    name: Ident,
    sql_name: String,
    columns: Vec<Col>,
}

pub(crate) struct Checker<'a> {
    catalog: &'a dyn Catalog,
    pub(crate) udfs: &'a UdfRegistry,
    scopes: Vec<Scope>,
    ctes: Vec<CteDef>,
    next_alias: usize,
}

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
    };
    let out = c.query(&p.query, true)?;
    let columns = out
        .columns
        .into_iter()
        .map(|col| {
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
        })
        .collect();
    Ok(Translation {
        sql: out.sql,
        columns,
        top: p.top(),
    })
}

/// Match a name against a stored name by ADQL rules: regular identifiers
/// case-insensitively, delimited ones exactly (AQ-01).
fn name_matches(id: &Ident, stored: &str) -> bool {
    if id.quote_style.is_some() {
        id.value == stored
    } else {
        id.value.eq_ignore_ascii_case(stored)
    }
}

/// Two identifiers naming the same thing (both from the query).
fn idents_match(a: &Ident, b: &Ident) -> bool {
    match (a.quote_style.is_some(), b.quote_style.is_some()) {
        (true, true) => a.value == b.value,
        _ => a.value.eq_ignore_ascii_case(&b.value),
    }
}

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
pub(crate) fn quote(name: &str) -> String {
    enclose(name, '"')
}

/// A string literal for PostgreSQL (standard_conforming_strings on).
pub(crate) fn string_literal(v: &str) -> String {
    enclose(v, '\'')
}

fn pos<T: Spanned>(node: &T) -> Option<Position> {
    span_pos(node.span())
}

/// Where an expression starts (cheap, even for long operator chains).
fn epos(e: &Expr) -> Option<Position> {
    crate::error::expr_start(e)
}

/// The name an identifier gives a new thing (an alias): regular ones as written.
fn ident_name(id: &Ident) -> String {
    id.value.clone()
}

impl<'a> Checker<'a> {
    fn alias(&mut self, prefix: char) -> String {
        self.next_alias += 1;
        format!("\"{prefix}{}\"", self.next_alias)
    }

    // ----- queries -----

    fn query(&mut self, q: &Query, output: bool) -> Result<Emitted, AdqlError> {
        let ctes_before = self.ctes.len();
        let mut sql = String::new();
        if let Some(with) = &q.with {
            sql.push_str("WITH ");
            for (i, cte) in with.cte_tables.iter().enumerate() {
                if self.ctes.iter().any(|c| idents_match(&c.name, &cte.alias.name)) {
                    return Err(AdqlError::syntax(format!(
                        "the name '{}' is defined twice in WITH",
                        cte.alias.name
                    ))
                    .at(span_pos(cte.alias.name.span)));
                }
                let inner = self.query(&cte.query, false)?;
                let mut columns = inner.columns;
                if !cte.alias.columns.is_empty() {
                    if cte.alias.columns.len() != columns.len() {
                        return Err(AdqlError::syntax(format!(
                            "WITH {} names {} columns but its query has {}",
                            cte.alias.name,
                            cte.alias.columns.len(),
                            columns.len()
                        ))
                        .at(span_pos(cte.alias.name.span)));
                    }
                    for (c, n) in columns.iter_mut().zip(&cte.alias.columns) {
                        c.name = ident_name(&n.name);
                    }
                }
                let sql_name = self.alias('c');
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push_str(&sql_name);
                if !cte.alias.columns.is_empty() {
                    let names: Vec<String> = columns.iter().map(|c| quote(&c.name)).collect();
                    sql.push('(');
                    sql.push_str(&names.join(", "));
                    sql.push(')');
                }
                sql.push_str(" AS (");
                sql.push_str(&inner.sql);
                sql.push(')');
                self.ctes.push(CteDef {
                    name: cte.alias.name.clone(),
                    sql_name,
                    columns,
                });
            }
            sql.push(' ');
        }

        let order: &[sqlparser::ast::OrderByExpr] = match q.order_by.as_ref().map(|o| &o.kind) {
            Some(OrderByKind::Expressions(list)) => list,
            _ => &[],
        };
        let offset = match &q.limit_clause {
            Some(LimitClause::LimitOffset { offset: Some(o), .. }) => Some(o.value.to_string()),
            _ => None,
        };
        let body = match q.body.as_ref() {
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
            simple: body.simple && offset.is_none() && order.is_empty() && q.with.is_none(),
        })
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

    fn select(
        &mut self,
        s: &Select,
        order: &[sqlparser::ast::OrderByExpr],
        output: bool,
    ) -> Result<Emitted, AdqlError> {
        self.scopes.push(Scope::default());
        let result = self.select_in_scope(s, order, output);
        self.scopes.pop();
        result
    }

    fn select_in_scope(
        &mut self,
        s: &Select,
        order: &[sqlparser::ast::OrderByExpr],
        output: bool,
    ) -> Result<Emitted, AdqlError> {
        // FROM first: it defines what the other clauses can see.
        let mut from = String::new();
        for (i, twj) in s.from.iter().enumerate() {
            if i > 0 {
                from.push_str(", ");
            }
            let part = self.table_with_joins(twj)?;
            from.push_str(&part);
        }

        let mut items: Vec<String> = Vec::new();
        let mut columns: Vec<Col> = Vec::new();
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) | SelectItem::ExprWithAlias { expr: e, .. } => {
                    let ex = self.value(e)?;
                    let name = match item {
                        SelectItem::ExprWithAlias { alias, .. } => ident_name(alias),
                        _ => ex.name.clone().unwrap_or_else(|| "expr".to_string()),
                    };
                    columns.push(Col {
                        name,
                        ty: ex.ty,
                        meta: ex.meta.clone().unwrap_or_default(),
                    });
                    items.push(ex.sql);
                }
                SelectItem::Wildcard(_) => {
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
                }
                SelectItem::QualifiedWildcard(SelectItemQualifiedWildcardKind::ObjectName(n), _) => {
                    let all = self.star(Some(n), pos(item))?;
                    for (sql, col) in all {
                        items.push(sql);
                        columns.push(col);
                    }
                }
                _ => return Err(AdqlError::unsupported("this select item is not part of ADQL").at(pos(item))),
            }
        }
        unique_names(&mut columns);

        let mut sql = String::from("SELECT ");
        match &s.distinct {
            Some(sqlparser::ast::Distinct::Distinct) => sql.push_str("DISTINCT "),
            Some(sqlparser::ast::Distinct::All) => sql.push_str("ALL "),
            _ => {}
        }
        for (i, (item, col)) in items.iter().zip(&columns).enumerate() {
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
        sql.push_str(" FROM ");
        sql.push_str(&from);

        if let Some(w) = &s.selection {
            let cond = self.condition(w, "WHERE")?;
            if cond.aggregate {
                return Err(
                    AdqlError::syntax("aggregate functions are not allowed in WHERE; use HAVING").at(epos(w)),
                );
            }
            sql.push_str(" WHERE ");
            sql.push_str(&cond.sql);
        }
        if let GroupByExpr::Expressions(list, _) = &s.group_by {
            if !list.is_empty() {
                let mut parts = Vec::new();
                for g in list {
                    parts.push(self.group_item(g, s, &columns)?);
                }
                sql.push_str(" GROUP BY ");
                sql.push_str(&parts.join(", "));
            }
        }
        if let Some(h) = &s.having {
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
        if let Some(top) = &s.top {
            if let Some(TopQuantity::Constant(n)) = &top.quantity {
                sql.push_str(&format!(" LIMIT {n}"));
                simple = false;
            }
        }
        Ok(Emitted { sql, columns, simple })
    }

    /// Expand `*` or `t.*` into the columns in scope.
    fn star(
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

    fn group_item(&mut self, g: &Expr, s: &Select, columns: &[Col]) -> Result<String, AdqlError> {
        match self.value(g) {
            Ok(ex) => Ok(ex.sql),
            Err(e) if e.kind == crate::ErrorKind::UnknownName => match output_alias(g, s, columns) {
                Some(n) => Ok(n.to_string()),
                None => Err(e),
            },
            Err(e) => Err(e),
        }
    }

    /// ORDER BY of a plain SELECT: ordinal, output alias, or expression over FROM.
    fn order_item(
        &mut self,
        o: &sqlparser::ast::OrderByExpr,
        s: &Select,
        columns: &[Col],
    ) -> Result<String, AdqlError> {
        let dir = direction(o);
        let count = if columns.iter().any(|c| c.name == "*") {
            usize::MAX
        } else {
            columns.len()
        };
        if let Some(n) = ordinal(&o.expr, count)? {
            return Ok(format!("{n}{dir}"));
        }
        if let Some(n) = output_alias(&o.expr, s, columns) {
            return Ok(format!("{n}{dir}"));
        }
        let ex = self.value(&o.expr)?;
        if ex.ty.family() == Family::Geometry {
            return Err(AdqlError::typing("cannot sort by a geometry").at(epos(&o.expr)));
        }
        Ok(format!("{}{dir}", ex.sql))
    }

    /// ORDER BY of a set operation: only output columns, by ordinal or name.
    fn order_item_by_output(
        &mut self,
        o: &sqlparser::ast::OrderByExpr,
        columns: &[Col],
    ) -> Result<String, AdqlError> {
        let dir = direction(o);
        if let Some(n) = ordinal(&o.expr, columns.len())? {
            return Ok(format!("{n}{dir}"));
        }
        if let Expr::Identifier(id) = &o.expr {
            if let Some(i) = columns.iter().position(|c| name_matches(id, &c.name)) {
                return Ok(format!("{}{dir}", i + 1));
            }
        }
        Err(AdqlError::unknown(format!(
            "ORDER BY after a set operation must name an output column; '{}' is not one",
            o.expr
        ))
        .at(epos(&o.expr)))
    }

    // ----- FROM -----

    fn table_with_joins(&mut self, t: &TableWithJoins) -> Result<String, AdqlError> {
        let mut sql = self.table_factor(&t.relation)?;
        for j in &t.joins {
            sql = self.join(sql, j)?;
        }
        Ok(sql)
    }

    fn join(&mut self, left: String, j: &Join) -> Result<String, AdqlError> {
        let before: Vec<String> = self.visible_column_names();
        let (kind, constraint) = match &j.join_operator {
            JoinOperator::Join(c) | JoinOperator::Inner(c) => ("JOIN", c),
            JoinOperator::Left(c) | JoinOperator::LeftOuter(c) => ("LEFT OUTER JOIN", c),
            JoinOperator::Right(c) | JoinOperator::RightOuter(c) => ("RIGHT OUTER JOIN", c),
            JoinOperator::FullOuter(c) => ("FULL OUTER JOIN", c),
            JoinOperator::CrossJoin(c) => ("CROSS JOIN", c),
            _ => {
                return Err(
                    AdqlError::unsupported("this kind of join is not part of ADQL").at(pos(&j.relation))
                )
            }
        };
        let first_new = self.current_scope().relations.len();
        let right = self.table_factor(&j.relation)?;
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

    fn current_scope(&self) -> &Scope {
        // select() always pushes a scope before FROM is walked.
        static EMPTY: Scope = Scope {
            relations: Vec::new(),
            merged: Vec::new(),
        };
        self.scopes.last().unwrap_or(&EMPTY)
    }

    fn current_scope_mut(&mut self) -> &mut Scope {
        if self.scopes.is_empty() {
            self.scopes.push(Scope::default());
        }
        let last = self.scopes.len() - 1;
        &mut self.scopes[last]
    }

    fn table_factor(&mut self, t: &TableFactor) -> Result<String, AdqlError> {
        match t {
            TableFactor::Table { name, alias, .. } => {
                let sql_alias = self.alias('t');
                let alias_ident = alias.as_ref().map(|a| a.name.clone());
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
                            qual: alias_ident.unwrap_or_else(|| id.clone()),
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
                    schema: if alias_ident.is_none() {
                        table.schema.clone()
                    } else {
                        None
                    },
                    qual: alias_ident.unwrap_or(last),
                    columns,
                    open: table.open,
                });
                Ok(sql)
            }
            TableFactor::Derived { subquery, alias, .. } => {
                let Some(alias) = alias else {
                    return Err(AdqlError::syntax("a subquery in FROM needs a name").at(pos(t)));
                };
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
            TableFactor::NestedJoin { table_with_joins, .. } => {
                let inner = self.table_with_joins(table_with_joins)?;
                Ok(format!("({inner})"))
            }
            _ => Err(AdqlError::unsupported("this FROM item is not part of ADQL").at(pos(t))),
        }
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
            [_catalog, s, t] => (Some(*s), *t),
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

    // ----- expressions -----

    /// An expression used as a value (select item, function argument, operand).
    pub(crate) fn value(&mut self, e: &Expr) -> Result<Ex, AdqlError> {
        let ex = self.expr(e)?;
        // A boolean *column* (TAP 1.1 `boolean`, an uploaded flag) is a value; a predicate
        // (comparison, CONTAINS = 1, ...) is not one in ADQL.
        if is_condition(&ex) {
            return Err(AdqlError::typing("a condition cannot be used as a value here")
                .at(epos(e))
                .with_hint("ADQL predicates such as CONTAINS return 1 or 0; comparisons are only allowed in WHERE, ON, HAVING and CASE"));
        }
        Ok(ex)
    }

    /// An expression used as a condition (WHERE, ON, HAVING, CASE WHEN).
    fn condition(&mut self, e: &Expr, clause: &str) -> Result<Ex, AdqlError> {
        let ex = self.expr(e)?;
        match ex.ty {
            AdqlType::Boolean => Ok(ex),
            other => Err(AdqlError::typing(format!(
                "{clause} needs a condition, but this is a value of type {}",
                other.describe()
            ))
            .at(epos(e))
            .with_hint("compare it, e.g. 1 = CONTAINS(...)")),
        }
    }

    fn expr(&mut self, e: &Expr) -> Result<Ex, AdqlError> {
        match e {
            Expr::Identifier(id) => self.column(&[id], e),
            Expr::CompoundIdentifier(ids) => {
                let refs: Vec<&Ident> = ids.iter().collect();
                self.column(&refs, e)
            }
            Expr::Value(v) => literal(&v.value, e),
            Expr::Nested(inner) => {
                let mut ex = self.expr(inner)?;
                ex.sql = format!("({})", ex.sql);
                Ok(ex)
            }
            Expr::UnaryOp { op, expr } => {
                let x = self.expr(expr)?;
                match op {
                    UnaryOperator::Not => {
                        require_bool(&x, expr)?;
                        Ok(Ex::derived(format!("NOT {}", x.sql), AdqlType::Boolean, &[&x]))
                    }
                    UnaryOperator::Minus | UnaryOperator::Plus => {
                        if !x.ty.is_numeric() {
                            return Err(type_err(&format!("unary {op}"), "a number", &x, expr));
                        }
                        let sign = if matches!(op, UnaryOperator::Minus) {
                            "-"
                        } else {
                            "+"
                        };
                        let mut out = Ex::derived(format!("{sign}{}", x.sql), x.ty, &[&x]);
                        out.number = x.number.map(|n| if sign == "-" { -n } else { n });
                        Ok(out)
                    }
                    _ => {
                        Err(AdqlError::unsupported(format!("operator {op} is not part of ADQL")).at(epos(e)))
                    }
                }
            }
            Expr::BinaryOp { op, .. } if is_chain_operator(op) => self.chain(e),
            Expr::BinaryOp { left, op, right } => self.binary(left, op, right, e),
            Expr::IsNull(x) | Expr::IsNotNull(x) => {
                let v = self.value(x)?;
                let not = if matches!(e, Expr::IsNotNull(_)) {
                    " NOT"
                } else {
                    ""
                };
                Ok(Ex::derived(
                    format!("{} IS{not} NULL", v.sql),
                    AdqlType::Boolean,
                    &[&v],
                ))
            }
            Expr::Between {
                expr,
                negated,
                low,
                high,
            } => {
                let v = self.value(expr)?;
                let l = self.value(low)?;
                let h = self.value(high)?;
                for b in [&l, &h] {
                    if !comparable(v.ty, b.ty) {
                        return Err(type_err("BETWEEN", v.ty.describe(), b, e));
                    }
                }
                let not = if *negated { " NOT" } else { "" };
                Ok(Ex::derived(
                    format!("{}{not} BETWEEN {} AND {}", v.sql, l.sql, h.sql),
                    AdqlType::Boolean,
                    &[&v, &l, &h],
                ))
            }
            Expr::InList { expr, list, negated } => {
                let v = self.value(expr)?;
                let mut parts = Vec::with_capacity(list.len());
                let mut agg = v.aggregate;
                for x in list {
                    let xe = self.value(x)?;
                    if !comparable(v.ty, xe.ty) {
                        return Err(type_err("IN", v.ty.describe(), &xe, x));
                    }
                    agg |= xe.aggregate;
                    parts.push(xe.sql);
                }
                let not = if *negated { " NOT" } else { "" };
                let mut out = Ex::derived(
                    format!("{}{not} IN ({})", v.sql, parts.join(", ")),
                    AdqlType::Boolean,
                    &[&v],
                );
                out.aggregate = agg;
                Ok(out)
            }
            Expr::InSubquery {
                expr,
                subquery,
                negated,
            } => {
                let v = self.value(expr)?;
                let q = self.query(subquery, false)?;
                if q.columns.len() != 1 {
                    return Err(AdqlError::typing(format!(
                        "the subquery after IN must return one column, not {}",
                        q.columns.len()
                    ))
                    .at(epos(e)));
                }
                if !comparable(v.ty, q.columns[0].ty) {
                    return Err(AdqlError::typing(format!(
                        "IN compares {} with a subquery of {}",
                        v.ty.describe(),
                        q.columns[0].ty.describe()
                    ))
                    .at(epos(e)));
                }
                let not = if *negated { " NOT" } else { "" };
                Ok(Ex::derived(
                    format!("{}{not} IN ({})", v.sql, q.sql),
                    AdqlType::Boolean,
                    &[&v],
                ))
            }
            Expr::Exists { subquery, negated } => {
                let q = self.query(subquery, false)?;
                let not = if *negated { "NOT " } else { "" };
                Ok(Ex::new(format!("{not}EXISTS ({})", q.sql), AdqlType::Boolean))
            }
            Expr::Subquery(q) => {
                let out = self.query(q, false)?;
                if out.columns.len() != 1 {
                    return Err(AdqlError::typing(format!(
                        "a subquery used as a value must return one column, not {}",
                        out.columns.len()
                    ))
                    .at(epos(e)));
                }
                let mut ex = Ex::new(format!("({})", out.sql), out.columns[0].ty);
                ex.name = Some(out.columns[0].name.clone());
                ex.columns = true;
                Ok(ex)
            }
            Expr::Like {
                negated,
                expr,
                pattern,
                ..
            }
            | Expr::ILike {
                negated,
                expr,
                pattern,
                ..
            } => {
                let v = self.value(expr)?;
                let p = self.value(pattern)?;
                let op = if matches!(e, Expr::ILike { .. }) {
                    "ILIKE"
                } else {
                    "LIKE"
                };
                for x in [&v, &p] {
                    if !x.ty.is_string() {
                        return Err(type_err(op, "strings", x, e));
                    }
                }
                let not = if *negated { " NOT" } else { "" };
                Ok(Ex::derived(
                    format!("{}{not} {op} {}", v.sql, p.sql),
                    AdqlType::Boolean,
                    &[&v, &p],
                ))
            }
            Expr::Cast { expr, data_type, .. } => {
                let v = self.value(expr)?;
                let target = crate::parse::cast_target(data_type)
                    .map_err(|m| AdqlError::unsupported(m).at(epos(e)))?;
                functions::cast(v, target).map_err(|err| err.at(epos(e)))
            }
            Expr::Ceil { expr, .. } | Expr::Floor { expr, .. } => {
                let v = self.value(expr)?;
                let name = if matches!(e, Expr::Ceil { .. }) {
                    "CEILING"
                } else {
                    "FLOOR"
                };
                functions::math(name, vec![v]).map_err(|err| err.at(epos(e)))
            }
            Expr::Function(f) => self.function(f, e),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => self.case(operand.as_deref(), conditions, else_result.as_deref()),
            _ => Err(AdqlError::unsupported(format!("'{e}' is not part of ADQL")).at(epos(e))),
        }
    }

    fn case(
        &mut self,
        operand: Option<&Expr>,
        conditions: &[sqlparser::ast::CaseWhen],
        else_result: Option<&Expr>,
    ) -> Result<Ex, AdqlError> {
        let mut sql = String::from("CASE");
        let op = match operand {
            Some(o) => {
                let v = self.value(o)?;
                sql.push(' ');
                sql.push_str(&v.sql);
                Some(v)
            }
            None => None,
        };
        let mut ty = AdqlType::Null;
        let mut agg = false;
        for w in conditions {
            let c = match &op {
                Some(v) => {
                    let c = self.value(&w.condition)?;
                    if !comparable(v.ty, c.ty) {
                        return Err(type_err("CASE", v.ty.describe(), &c, &w.condition));
                    }
                    c
                }
                None => self.condition(&w.condition, "CASE WHEN")?,
            };
            let r = self.value(&w.result)?;
            if !compatible(ty, r.ty) {
                return Err(type_err("CASE", ty.describe(), &r, &w.result));
            }
            ty = unify(ty, r.ty);
            agg |= c.aggregate || r.aggregate;
            sql.push_str(&format!(" WHEN {} THEN {}", c.sql, r.sql));
        }
        if let Some(x) = else_result {
            let r = self.value(x)?;
            if !compatible(ty, r.ty) {
                return Err(type_err("CASE", ty.describe(), &r, x));
            }
            ty = unify(ty, r.ty);
            agg |= r.aggregate;
            sql.push_str(&format!(" ELSE {}", r.sql));
        }
        sql.push_str(" END");
        let mut out = Ex::new(sql, ty);
        out.columns = true;
        out.aggregate = agg;
        Ok(out)
    }

    /// A left-deep chain of AND/OR/arithmetic/`||`, walked iteratively: `a OR b OR ...`
    /// with thousands of terms must not recurse once per term.
    fn chain(&mut self, e: &Expr) -> Result<Ex, AdqlError> {
        // Each step keeps its left operand's node, so that an error about the left operand
        // points at where that operand starts, not at the previous step's right operand.
        let mut spine: Vec<(&Expr, &BinaryOperator, &Expr)> = Vec::new();
        let mut cur = e;
        while let Expr::BinaryOp { left, op, right } = cur {
            if !is_chain_operator(op) {
                break;
            }
            spine.push((left, op, right));
            cur = left;
        }
        let mut acc = self.expr(cur)?;
        for (left, op, right) in spine.into_iter().rev() {
            let r = self.expr(right)?;
            acc = combine(acc, left, op, r, right)?;
        }
        Ok(acc)
    }

    fn binary(&mut self, left: &Expr, op: &BinaryOperator, right: &Expr, e: &Expr) -> Result<Ex, AdqlError> {
        use BinaryOperator::*;
        match op {
            Eq | NotEq | Lt | LtEq | Gt | GtEq => {
                if let Some(p) = self.predicate_comparison(left, op, right)? {
                    return Ok(p);
                }
                if let Some(p) = self.distance_comparison(left, op, right)? {
                    return Ok(p);
                }
                let l = self.value(left)?;
                let r = self.value(right)?;
                let ordering = !matches!(op, Eq | NotEq);
                let ok = comparable(l.ty, r.ty)
                    && !(ordering
                        && (l.ty.family() == Family::Geometry || r.ty.family() == Family::Geometry));
                if !ok {
                    return Err(AdqlError::typing(format!(
                        "cannot compare {} with {} using {op}",
                        l.ty.describe(),
                        r.ty.describe()
                    ))
                    .at(epos(e)));
                }
                let sym = match op {
                    Eq => "=",
                    NotEq => "<>",
                    Lt => "<",
                    LtEq => "<=",
                    Gt => ">",
                    _ => ">=",
                };
                Ok(Ex::derived(
                    format!("{} {sym} {}", l.sql, r.sql),
                    AdqlType::Boolean,
                    &[&l, &r],
                ))
            }
            _ => Err(AdqlError::unsupported(format!("the operator {op} is not part of ADQL")).at(epos(e))),
        }
    }

    /// `1 = CONTAINS(...)`, `INTERSECTS(...) = 0`, `1 = ivo_hasword(...)` and friends become
    /// plain boolean predicates, so PostgreSQL can use a spatial or text index.
    fn predicate_comparison(
        &mut self,
        left: &Expr,
        op: &BinaryOperator,
        right: &Expr,
    ) -> Result<Option<Ex>, AdqlError> {
        let eq = match op {
            BinaryOperator::Eq => true,
            BinaryOperator::NotEq => false,
            _ => return Ok(None),
        };
        let (call, lit) = match (strip(left), strip(right)) {
            (Expr::Function(f), other) if bit_literal(other).is_some() => (f, bit_literal(other)),
            (other, Expr::Function(f)) if bit_literal(other).is_some() => (f, bit_literal(other)),
            _ => return Ok(None),
        };
        let Some(one) = lit else { return Ok(None) };
        let Some(pred) = self.predicate_call(call)? else {
            return Ok(None);
        };
        let positive = one == eq;
        Ok(Some(if positive {
            pred
        } else {
            Ex::derived(format!("NOT ({})", pred.sql), AdqlType::Boolean, &[&pred])
        }))
    }

    /// The boolean form of CONTAINS, INTERSECTS or a UDF with a predicate template.
    fn predicate_call(&mut self, f: &sqlparser::ast::Function) -> Result<Option<Ex>, AdqlError> {
        let name = function_name(f);
        let upper = name.to_ascii_uppercase();
        if upper == "CONTAINS" || upper == "INTERSECTS" {
            let args = self.args(f)?;
            return functions::spatial_predicate(&upper, args)
                .map(Some)
                .map_err(|err| err.at(pos(&f.name)));
        }
        if let Some(udf) = self.udfs.get(&name) {
            if let Some(tpl) = udf.predicate.clone() {
                let udf = udf.clone();
                let args = self.args(f)?;
                let ex = functions::udf_call(&udf, args, Some(&tpl)).map_err(|err| err.at(pos(&f.name)))?;
                return Ok(Some(ex));
            }
        }
        Ok(None)
    }

    /// `DISTANCE(p, q) < r` (and `r > DISTANCE(p, q)`, `<=`, `>=`) becomes a containment
    /// in a circle that a GiST index answers, plus the exact test for the strict form.
    fn distance_comparison(
        &mut self,
        left: &Expr,
        op: &BinaryOperator,
        right: &Expr,
    ) -> Result<Option<Ex>, AdqlError> {
        use BinaryOperator::*;
        let (call, radius, strict) = match (strip(left), op, strip(right)) {
            (Expr::Function(f), Lt, r) if is_named(f, "DISTANCE") => (f, r, true),
            (Expr::Function(f), LtEq, r) if is_named(f, "DISTANCE") => (f, r, false),
            (r, Gt, Expr::Function(f)) if is_named(f, "DISTANCE") => (f, r, true),
            (r, GtEq, Expr::Function(f)) if is_named(f, "DISTANCE") => (f, r, false),
            _ => return Ok(None),
        };
        let args = self.args(call)?;
        let r = self.value(radius)?;
        if !r.ty.is_numeric() {
            return Err(type_err("DISTANCE comparison", "a number", &r, radius));
        }
        functions::distance_within(args, r, strict)
            .map(Some)
            .map_err(|err| err.at(pos(&call.name)))
    }

    fn args(&mut self, f: &sqlparser::ast::Function) -> Result<Vec<Ex>, AdqlError> {
        let mut out = Vec::new();
        if let FunctionArguments::List(list) = &f.args {
            for a in &list.args {
                match a {
                    FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => out.push(self.value(x)?),
                    _ => {
                        return Err(
                            AdqlError::syntax(format!("* is not an argument of {}", f.name)).at(pos(&f.name))
                        )
                    }
                }
            }
        }
        Ok(out)
    }

    fn function(&mut self, f: &sqlparser::ast::Function, e: &Expr) -> Result<Ex, AdqlError> {
        if let (FunctionArguments::None, [ObjectNamePart::Identifier(id)]) = (&f.args, f.name.0.as_slice()) {
            // The parser reads a bare `user` as a function; in ADQL it is a column.
            return self.column(&[id], e);
        }
        let name = function_name(f);
        let upper = name.to_ascii_uppercase();
        let list = match &f.args {
            FunctionArguments::List(l) => Some(l),
            _ => None,
        };
        let distinct = matches!(
            list.and_then(|l| l.duplicate_treatment),
            Some(sqlparser::ast::DuplicateTreatment::Distinct)
        );
        let has_quantifier = list.and_then(|l| l.duplicate_treatment).is_some();
        let star = list.is_some_and(|l| {
            l.args
                .iter()
                .any(|a| matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Wildcard)))
        });
        let at = pos(&f.name);
        if functions::is_aggregate(&upper) {
            if star {
                if upper != "COUNT" || list.is_some_and(|l| l.args.len() != 1) || has_quantifier {
                    return Err(
                        AdqlError::syntax(format!("{upper}(*) is not valid; only COUNT(*) is")).at(at),
                    );
                }
                let mut ex = Ex::new("count(*)".to_string(), AdqlType::BigInt);
                ex.aggregate = true;
                ex.name = Some("count".into());
                return Ok(ex);
            }
            let args = self.args(f)?;
            if args.iter().any(|a| a.aggregate) {
                return Err(AdqlError::syntax("aggregate functions cannot be nested").at(at));
            }
            let mut ex = functions::aggregate(&upper, args, distinct).map_err(|err| err.at(at))?;
            ex.name = Some(name.to_ascii_lowercase());
            return Ok(ex);
        }
        if has_quantifier {
            return Err(AdqlError::syntax(format!(
                "DISTINCT/ALL is only allowed in aggregate functions, not {name}"
            ))
            .at(at));
        }
        if star {
            return Err(AdqlError::syntax(format!("* is not an argument of {name}")).at(at));
        }
        // Functions whose arguments are not ordinary values.
        match upper.as_str() {
            "REGION" => {
                let text = single_string_literal(f).ok_or_else(|| {
                    AdqlError::typing("REGION takes one string literal, e.g. REGION('Circle ICRS 10 20 1')")
                        .at(at)
                })?;
                let mut ex = functions::region(&text).map_err(|err| err.at(at))?;
                ex.name = Some("region".into());
                return Ok(ex);
            }
            "IN_UNIT" => {
                let args = self.args(f)?;
                let mut ex = functions::in_unit(args, f).map_err(|err| err.at(at))?;
                ex.name = Some("in_unit".into());
                return Ok(ex);
            }
            _ => {}
        }
        let args = self.args(f)?;
        let mut ex = if let Some(udf) = self.udfs.get(&name).cloned() {
            functions::udf_call(&udf, args, None)
        } else {
            functions::call(&upper, args)
        }
        .map_err(|err| {
            if err.kind == crate::ErrorKind::UnknownName {
                let mut names: Vec<String> =
                    functions::ADQL_FUNCTIONS.iter().map(|s| s.to_string()).collect();
                names.extend(self.udfs.iter().map(|u| u.name.clone()));
                let hint = suggest(&upper, names.iter().map(String::as_str));
                let err = err.at(at);
                match hint {
                    Some(h) => err.with_hint(h),
                    None => err,
                }
            } else {
                err.at(at)
            }
        })?;
        if ex.name.is_none() {
            ex.name = Some(name.to_ascii_lowercase());
        }
        Ok(ex)
    }

    /// Resolve a column reference by ADQL rules, innermost scope first.
    fn column(&mut self, parts: &[&Ident], e: &Expr) -> Result<Ex, AdqlError> {
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

/// Operators whose chains are walked iteratively (they are left-associative and never special).
fn is_chain_operator(op: &BinaryOperator) -> bool {
    use BinaryOperator::*;
    matches!(op, And | Or | Plus | Minus | Multiply | Divide | StringConcat)
}

/// `l op r` for a chain operator, with its type (and unit, for IN_UNIT).
fn combine(l: Ex, l_node: &Expr, op: &BinaryOperator, r: Ex, r_node: &Expr) -> Result<Ex, AdqlError> {
    use BinaryOperator::*;
    match op {
        And | Or => {
            require_bool(&l, l_node)?;
            require_bool(&r, r_node)?;
            let word = if matches!(op, And) { "AND" } else { "OR" };
            Ok(Ex::derived(
                format!("{} {word} {}", l.sql, r.sql),
                AdqlType::Boolean,
                &[&l, &r],
            ))
        }
        StringConcat => {
            let left = concat_operand(&l, l_node, "left")?;
            let right = concat_operand(&r, r_node, "right")?;
            Ok(Ex::derived(
                format!("{left} || {right}"),
                AdqlType::VarChar(None),
                &[&l, &r],
            ))
        }
        _ => {
            for (x, node) in [(&l, l_node), (&r, r_node)] {
                if !x.ty.is_numeric() {
                    return Err(type_err(&format!("{op}"), "numbers", x, node));
                }
            }
            let sym = match op {
                Plus => "+",
                Minus => "-",
                Multiply => "*",
                _ => "/",
            };
            let ty = AdqlType::widen(l.ty, r.ty);
            let unit = functions::arithmetic_unit(sym.chars().next().unwrap_or('+'), &l, &r);
            let mut out = Ex::derived(format!("{} {sym} {}", l.sql, r.sql), ty, &[&l, &r]);
            functions::set_unit(&mut out, unit);
            Ok(out)
        }
    }
}

/// One operand of `||` as PostgreSQL text (docs/adql.md, "Concatenation").
///
/// Strings pass as they are. Numbers and boolean columns become text the way PostgreSQL
/// prints them, because that is what DaCHS (which hands `||` to PostgreSQL, where
/// `anynonarray || text` uses the type's output function) returns for the same query:
/// `CAST(x AS text)` calls that same output function, and unlike PostgreSQL's own operator
/// it also works when both operands are numbers (`1 || 2`). NULL stays NULL.
///
/// Refused, naming the operand: geometries, byte strings and arrays, which have no text
/// form a user could want; timestamps, whose text depends on the server's DateStyle and is
/// not the ISO 8601 form the results show (an explicit CAST to VARCHAR still converts
/// them); and conditions, which are not values in ADQL.
fn concat_operand(x: &Ex, node: &Expr, side: &str) -> Result<String, AdqlError> {
    let refuse = |why: &str| {
        AdqlError::typing(format!(
            "the {side} operand of || is a {}, which {why}",
            x.ty.describe()
        ))
        .at(epos(node))
    };
    if is_array(x) {
        return Err(AdqlError::typing(format!(
            "the {side} operand of || is an array of {}, which has no text form",
            x.ty.describe()
        ))
        .at(epos(node))
        .with_hint("select the array as a column of its own"));
    }
    match x.ty.family() {
        Family::String | Family::Any => Ok(x.sql.clone()),
        Family::Numeric => Ok(format!("CAST({} AS text)", x.sql)),
        Family::Boolean if is_condition(x) => Err(AdqlError::typing(format!(
            "the {side} operand of || is a condition, not a value"
        ))
        .at(epos(node))
        .with_hint("comparisons are only allowed in WHERE, ON, HAVING and CASE; use CASE WHEN ... THEN '...' ELSE '...' END for text")),
        Family::Boolean => Ok(format!("CAST({} AS text)", x.sql)),
        Family::Timestamp => Err(refuse(
            "is not converted to text implicitly: PostgreSQL's text for a time depends on the server's DateStyle and is not the ISO 8601 form of the results",
        )
        .with_hint("write CAST(... AS VARCHAR) to join PostgreSQL's text for it")),
        Family::Blob => Err(refuse("has no text form")),
        Family::Geometry => Err(refuse("has no text form").with_hint(
            "select the geometry as a column of its own; for a point, join COORD1(...) and COORD2(...)",
        )),
    }
}

/// A predicate (comparison, `CONTAINS(...) = 1`, ...): boolean, but not a column's value.
fn is_condition(x: &Ex) -> bool {
    x.ty == AdqlType::Boolean && x.meta.is_none()
}

/// A number or boolean column that TAP_SCHEMA (or an upload) gives an arraysize: an array,
/// typed by its element. For strings the arraysize is a length, and timestamps, byte strings
/// and geometries carry the arraysize of their VOTable form, so none of those is an array.
fn is_array(x: &Ex) -> bool {
    matches!(x.ty.family(), Family::Numeric | Family::Boolean)
        && x.meta
            .as_ref()
            .and_then(|m| m.arraysize.as_deref())
            .is_some_and(|a| !matches!(a.trim(), "" | "1"))
}

fn strip(e: &Expr) -> &Expr {
    match e {
        Expr::Nested(inner) => strip(inner),
        other => other,
    }
}

/// `Some(true)` for the literal 1, `Some(false)` for 0.
fn bit_literal(e: &Expr) -> Option<bool> {
    match e {
        Expr::Value(v) => match &v.value {
            Value::Number(n, _) => match n.parse::<f64>() {
                Ok(1.0) => Some(true),
                Ok(0.0) => Some(false),
                _ => None,
            },
            _ => None,
        },
        _ => None,
    }
}

fn is_named(f: &sqlparser::ast::Function, name: &str) -> bool {
    function_name(f).eq_ignore_ascii_case(name)
}

fn function_name(f: &sqlparser::ast::Function) -> String {
    match f.name.0.as_slice() {
        [ObjectNamePart::Identifier(id)] => id.value.clone(),
        _ => f.name.to_string(),
    }
}

fn single_string_literal(f: &sqlparser::ast::Function) -> Option<String> {
    let FunctionArguments::List(list) = &f.args else {
        return None;
    };
    match list.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

fn literal(v: &Value, e: &Expr) -> Result<Ex, AdqlError> {
    match v {
        Value::Number(n, _) => {
            let is_int = n.bytes().all(|b| b.is_ascii_digit());
            let ty = if is_int {
                match n.parse::<i64>() {
                    Ok(x) if i32::try_from(x).is_ok() => AdqlType::Integer,
                    Ok(_) => AdqlType::BigInt,
                    Err(_) => AdqlType::Double,
                }
            } else {
                AdqlType::Double
            };
            let mut ex = Ex::new(n.clone(), ty);
            ex.number = n.parse::<f64>().ok();
            Ok(ex)
        }
        Value::SingleQuotedString(s) => Ok(Ex::new(string_literal(s), AdqlType::VarChar(None))),
        Value::Null => Ok(Ex::new("NULL".to_string(), AdqlType::Null)),
        other => Err(AdqlError::unsupported(format!("the literal {other} is not part of ADQL")).at(epos(e))),
    }
}

fn require_bool(x: &Ex, node: &Expr) -> Result<(), AdqlError> {
    match x.ty {
        AdqlType::Boolean => Ok(()),
        other => Err(AdqlError::typing(format!(
            "AND, OR and NOT need conditions, but this is a value of type {}",
            other.describe()
        ))
        .at(epos(node))
        .with_hint("compare it, e.g. 1 = CONTAINS(...)")),
    }
}

pub(crate) fn type_err(op: &str, wanted: &str, got: &Ex, node: &Expr) -> AdqlError {
    AdqlError::typing(format!("{op} needs {wanted}, but got {}", got.ty.describe())).at(epos(node))
}

/// Whether two values can be compared with `=`, `<`, IN, BETWEEN.
pub(crate) fn comparable(a: AdqlType, b: AdqlType) -> bool {
    use Family::*;
    match (a.family(), b.family()) {
        (Any, _) | (_, Any) => true,
        (Timestamp, String) | (String, Timestamp) => true,
        (x, y) => x == y,
    }
}

/// Whether two values can be alternatives of one column (UNION, CASE, COALESCE).
pub(crate) fn compatible(a: AdqlType, b: AdqlType) -> bool {
    use Family::*;
    match (a.family(), b.family()) {
        (Any, _) | (_, Any) => true,
        (x, y) => x == y,
    }
}

/// The common type of two compatible values.
pub(crate) fn unify(a: AdqlType, b: AdqlType) -> AdqlType {
    match (a, b) {
        (AdqlType::Null, x) | (x, AdqlType::Null) => x,
        (AdqlType::Unknown, _) | (_, AdqlType::Unknown) => AdqlType::Unknown,
        _ if a == b => a,
        _ => match a.family() {
            Family::Numeric => AdqlType::widen(a, b),
            Family::String => AdqlType::VarChar(None),
            Family::Geometry => AdqlType::Region,
            _ => a,
        },
    }
}

/// Make output names unique with a stable suffix: `rv`, `rv_2`, ... (case-insensitively,
/// since clients compare names that way). Linear: a set of the names taken so far.
fn unique_names(columns: &mut [Col]) {
    let mut taken: std::collections::HashSet<String> =
        std::collections::HashSet::with_capacity(columns.len() * 2);
    let all: std::collections::HashSet<String> =
        columns.iter().map(|c| c.name.to_ascii_lowercase()).collect();
    let mut next_suffix: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
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

fn direction(o: &sqlparser::ast::OrderByExpr) -> &'static str {
    match o.options.sort {
        Some(OrderBySort::Desc) => " DESC",
        _ => " ASC",
    }
}

/// An ORDER BY ordinal, checked against the number of output columns.
fn ordinal(e: &Expr, count: usize) -> Result<Option<usize>, AdqlError> {
    if let Expr::Value(v) = e {
        if let Value::Number(n, _) = &v.value {
            return match n.parse::<usize>() {
                Ok(k) if k >= 1 && k <= count => Ok(Some(k)),
                _ => Err(AdqlError::syntax(format!(
                    "ORDER BY {n}: the select list has {count} column{}",
                    if count == 1 { "" } else { "s" }
                ))
                .at(epos(e))),
            };
        }
    }
    Ok(None)
}

/// An unqualified name in ORDER BY / GROUP BY that is a select-list alias: its ordinal.
fn output_alias(e: &Expr, s: &Select, columns: &[Col]) -> Option<usize> {
    let Expr::Identifier(id) = e else { return None };
    let alias = s.projection.iter().find_map(|item| match item {
        SelectItem::ExprWithAlias { alias, .. } if idents_match(alias, id) => Some(alias),
        _ => None,
    })?;
    columns.iter().position(|c| c.name == alias.value).map(|i| i + 1)
}
