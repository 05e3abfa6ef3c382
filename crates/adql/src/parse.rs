//! Parsing: sqlparser with the ADQL dialect, then an allow-list walk over the AST.
//!
//! sqlparser accepts far more than ADQL (LIMIT, `::`, windows, VALUES, INTO, ...).
//! Rather than list what to forbid, [`allow`] names every node kind ADQL has and
//! rejects the rest, with a message that says what the user probably wanted.

use sqlparser::ast::{
    BinaryOperator, CastKind, CeilFloorKind, DateTimeField, Distinct, Expr, Function, FunctionArg,
    FunctionArgExpr, FunctionArgumentList, FunctionArguments, GroupByExpr, Ident, Join, JoinConstraint,
    JoinOperator, LimitClause, ObjectName, ObjectNamePart, OffsetRows, OrderByKind, Query, Select,
    SelectFlavor, SelectItem, SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, Spanned,
    TableAlias, TableFactor, TableWithJoins, TopQuantity, UnaryOperator, Value, WildcardAdditionalOptions,
};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer};

use crate::dialect::AdqlDialect;
use crate::error::{span_pos, AdqlError, Position};
use crate::reserved::is_reserved;

/// Nesting deeper than this is refused (sqlparser counts its own recursion too).
const MAX_DEPTH: usize = 100;

/// A query that parsed and passed the allow-list: ADQL syntax, not yet checked against a catalogue.
#[derive(Debug, Clone)]
pub struct Parsed {
    pub(crate) query: Query,
}

impl Parsed {
    /// The outermost TOP, if any.
    pub fn top(&self) -> Option<u64> {
        match self.query.body.as_ref() {
            SetExpr::Select(s) => match &s.top {
                Some(sqlparser::ast::Top {
                    quantity: Some(TopQuantity::Constant(n)),
                    ..
                }) => Some(*n),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Parse one ADQL query and check that it uses only ADQL constructs (AQ-01..AQ-17).
pub fn parse(adql: &str) -> Result<Parsed, AdqlError> {
    if adql.trim().is_empty() {
        return Err(AdqlError::syntax("the query is empty").at(Some(Position { line: 1, column: 1 })));
    }
    let dialect = AdqlDialect::default();
    let tokens = Tokenizer::new(&dialect, adql)
        .tokenize_with_location()
        .map_err(|e| parser_error(ParserError::TokenizerError(e.to_string()), adql))?;
    check_size(&tokens)?;
    let mut parser = Parser::new(&dialect)
        .with_recursion_limit(MAX_DEPTH)
        .with_tokens_with_locations(tokens);
    let query = parser.parse_query().map_err(|e| parser_error(e, adql))?;
    // One optional trailing semicolon is tolerated (users paste them); nothing else may follow.
    let had_semicolon = parser.peek_token().token == Token::SemiColon;
    if had_semicolon {
        parser.next_token();
    }
    let next = parser.peek_token();
    if next.token != Token::EOF {
        return Err(if had_semicolon {
            AdqlError::unsupported("only one query may be sent at a time").at(span_pos(next.span))
        } else {
            AdqlError::syntax(format!("unexpected '{}' after the end of the query", next.token))
                .at(span_pos(next.span))
        });
    }
    Allow::default()
        .query(&query, true)
        .map_err(|e| e.at(Some(Position { line: 1, column: 1 })))?;
    Ok(Parsed { query: *query })
}

/// Binary operators in one query at most: a chain of them is a left-deep tree as deep as it is
/// long, which parsing, span computation and dropping walk recursively. (Users with long OR
/// chains of identifiers are better served by IN lists, which are flat.)
const MAX_OPERATORS: usize = 5_000;
/// Commas (select list, IN lists, function arguments) in one query at most.
const MAX_LIST_ITEMS: usize = 100_000;
/// Set operations (UNION, EXCEPT, INTERSECT) in one query at most: sqlparser parses them
/// recursively.
const MAX_SET_OPERATIONS: usize = 200;

/// Refuse queries whose size alone would exhaust the stack, before building any tree.
fn check_size(tokens: &[TokenWithSpan]) -> Result<(), AdqlError> {
    let mut operators = 0usize;
    let mut items = 0usize;
    let mut set_ops = 0usize;
    for t in tokens {
        match &t.token {
            Token::Word(w) if matches!(w.keyword, Keyword::UNION | Keyword::EXCEPT | Keyword::INTERSECT) => {
                set_ops += 1;
                if set_ops > MAX_SET_OPERATIONS {
                    return Err(AdqlError::unsupported(format!(
                        "the query has more than {MAX_SET_OPERATIONS} UNION/EXCEPT/INTERSECT operations"
                    ))
                    .at(span_pos(t.span)));
                }
            }
            Token::Word(w) if matches!(w.keyword, Keyword::AND | Keyword::OR) => operators += 1,
            Token::Plus | Token::Minus | Token::Mul | Token::Div | Token::StringConcat => operators += 1,
            Token::Comma => {
                items += 1;
                if items > MAX_LIST_ITEMS {
                    return Err(AdqlError::unsupported(format!(
                        "the query has more than {MAX_LIST_ITEMS} list items; split it into several queries"
                    ))
                    .at(span_pos(t.span)));
                }
            }
            _ => {}
        }
        if operators > MAX_OPERATORS {
            return Err(AdqlError::unsupported(format!(
                "the query has more than {MAX_OPERATORS} operators; use IN lists or split it into several queries"
            ))
            .at(span_pos(t.span)));
        }
    }
    Ok(())
}

/// Turn sqlparser's string errors into positioned ADQL errors.
fn parser_error(e: ParserError, text: &str) -> AdqlError {
    let raw = match e {
        ParserError::RecursionLimitExceeded => {
            return AdqlError::unsupported("the query is nested too deeply")
                .at(Some(Position { line: 1, column: 1 }))
        }
        ParserError::TokenizerError(s) | ParserError::ParserError(s) => s,
    };
    let (msg, pos) = match raw.rfind(" at Line: ") {
        Some(i) => {
            let tail = &raw[i + " at Line: ".len()..];
            let mut nums = tail.split(", Column: ").map(|n| n.trim().parse::<u64>().ok());
            match (nums.next().flatten(), nums.next().flatten()) {
                (Some(line), Some(column)) => (raw[..i].to_string(), Position { line, column }),
                _ => (raw.clone(), end_of(text)),
            }
        }
        None => (raw.clone(), end_of(text)),
    };
    let msg = msg
        .replace("Expected: ", "expected ")
        .replace("Expected ", "expected ");
    let mut err = AdqlError::syntax(msg.clone()).at(Some(pos));
    if text.contains(['\u{2018}', '\u{2019}', '\u{201c}', '\u{201d}']) {
        err = err.with_hint("the query contains typographic quotes (‘ ’ “ ”); use plain ' and \"");
    } else if msg.contains("found: LIMIT") {
        err = err.with_hint("ADQL has no LIMIT; write SELECT TOP n ...");
    }
    err
}

/// The position just after the last character, for errors at end of input.
fn end_of(text: &str) -> Position {
    let line = text.split('\n').count() as u64;
    let column = text.rsplit('\n').next().map_or(0, |l| l.chars().count()) as u64 + 1;
    Position { line, column }
}

fn no(what: &str) -> AdqlError {
    AdqlError::unsupported(format!("{what} is not part of ADQL"))
}

fn at<T: Spanned>(node: &T) -> Option<Position> {
    span_pos(node.span())
}

/// Where an expression starts (cheap, even for long operator chains).
fn eat(e: &Expr) -> Option<Position> {
    crate::error::expr_start(e)
}

/// The allow-list walk. `depth` guards against stack exhaustion on hostile input.
#[derive(Default)]
struct Allow {
    depth: usize,
}

type R = Result<(), AdqlError>;

impl Allow {
    fn query(&mut self, q: &Query, outermost: bool) -> R {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(
                AdqlError::unsupported("the query is nested too deeply").at(crate::error::set_start(&q.body))
            );
        }
        if let Some(with) = &q.with {
            if !outermost {
                return Err(AdqlError::unsupported(
                    "WITH is allowed only at the start of the main query, not in subqueries",
                )
                .at(span_pos(with.with_token.0.span)));
            }
            if with.recursive {
                return Err(no("WITH RECURSIVE").at(span_pos(with.with_token.0.span)));
            }
            for cte in &with.cte_tables {
                if cte.materialized.is_some() || cte.from.is_some() {
                    return Err(no("MATERIALIZED").at(span_pos(cte.alias.name.span)));
                }
                self.name(&cte.alias.name)?;
                for c in &cte.alias.columns {
                    if c.data_type.is_some() {
                        return Err(no("a typed column list").at(span_pos(c.name.span)));
                    }
                    self.name(&c.name)?;
                }
                self.query(&cte.query, false)?;
            }
        }
        self.set_expr(&q.body)?;
        if let Some(ob) = &q.order_by {
            if ob.interpolate.is_some() {
                return Err(no("INTERPOLATE"));
            }
            match &ob.kind {
                OrderByKind::All(_) => return Err(no("ORDER BY ALL")),
                OrderByKind::Expressions(list) => {
                    for o in list {
                        if o.with_fill.is_some() {
                            return Err(no("WITH FILL").at(eat(&o.expr)));
                        }
                        if o.options.nulls_first.is_some() {
                            return Err(no("NULLS FIRST/LAST").at(eat(&o.expr)));
                        }
                        if let Some(sort) = &o.options.sort {
                            if !matches!(
                                sort,
                                sqlparser::ast::OrderBySort::Asc | sqlparser::ast::OrderBySort::Desc
                            ) {
                                return Err(no("ORDER BY ... USING").at(eat(&o.expr)));
                            }
                        }
                        self.expr(&o.expr)?;
                    }
                }
            }
        }
        match &q.limit_clause {
            None => {}
            Some(LimitClause::LimitOffset {
                limit: None,
                offset: Some(off),
                limit_by,
            }) if limit_by.is_empty() && off.rows == OffsetRows::None => {
                self.unsigned_int(&off.value, "OFFSET")?;
            }
            Some(LimitClause::LimitOffset { limit: Some(l), .. })
            | Some(LimitClause::OffsetCommaLimit { limit: l, .. }) => {
                return Err(no("LIMIT").at(eat(l)).with_hint("write SELECT TOP n ... instead"));
            }
            Some(_) => return Err(no("this form of OFFSET").at(crate::error::set_start(&q.body))),
        }
        if q.fetch.is_some() {
            return Err(no("FETCH FIRST")
                .at(crate::error::set_start(&q.body))
                .with_hint("write SELECT TOP n ... instead"));
        }
        if !q.locks.is_empty() {
            return Err(no("FOR UPDATE/SHARE").at(crate::error::set_start(&q.body)));
        }
        if q.for_clause.is_some()
            || q.settings.is_some()
            || q.format_clause.is_some()
            || !q.pipe_operators.is_empty()
        {
            return Err(no("this clause").at(crate::error::set_start(&q.body)));
        }
        self.depth -= 1;
        Ok(())
    }

    fn unsigned_int(&mut self, e: &Expr, what: &str) -> R {
        match e {
            Expr::Value(v) => match &v.value {
                Value::Number(n, false) if n.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
                _ => Err(AdqlError::syntax(format!("{what} takes a non-negative integer")).at(eat(e))),
            },
            _ => Err(AdqlError::syntax(format!("{what} takes a non-negative integer")).at(eat(e))),
        }
    }

    fn set_expr(&mut self, s: &SetExpr) -> R {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(AdqlError::unsupported("the query is nested too deeply"));
        }
        let r = self.set_expr_inner(s);
        self.depth -= 1;
        r
    }

    fn set_expr_inner(&mut self, s: &SetExpr) -> R {
        match s {
            SetExpr::Select(sel) => self.select(sel),
            SetExpr::Query(q) => self.query(q, false),
            SetExpr::SetOperation {
                left,
                op,
                set_quantifier,
                right,
            } => {
                if !matches!(
                    op,
                    SetOperator::Union | SetOperator::Except | SetOperator::Intersect
                ) {
                    return Err(no(&format!("{op}")).at(crate::error::set_start(s)));
                }
                if !matches!(set_quantifier, SetQuantifier::None | SetQuantifier::All) {
                    return Err(no(&format!("{op} {set_quantifier}")).at(crate::error::set_start(s)));
                }
                self.set_expr(left)?;
                self.set_expr(right)
            }
            SetExpr::Values(_) => Err(no("VALUES").at(crate::error::set_start(s))),
            SetExpr::Table(_) => Err(no("TABLE").at(crate::error::set_start(s))),
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                Err(AdqlError::unsupported("only SELECT queries are allowed").at(crate::error::set_start(s)))
            }
        }
    }

    fn select(&mut self, s: &Select) -> R {
        let here = span_pos(s.select_token.0.span);
        match &s.distinct {
            None | Some(Distinct::All) | Some(Distinct::Distinct) => {}
            Some(Distinct::On(_)) => return Err(no("DISTINCT ON").at(here)),
        }
        if let Some(top) = &s.top {
            if top.percent || top.with_ties || s.top_before_distinct {
                return Err(AdqlError::syntax("TOP takes a plain integer and follows DISTINCT").at(here));
            }
            match &top.quantity {
                Some(TopQuantity::Constant(_)) => {}
                _ => return Err(AdqlError::syntax("TOP takes a non-negative integer").at(here)),
            }
        }
        if !s.optimizer_hints.is_empty() || s.select_modifiers.is_some() || s.exclude.is_some() {
            return Err(no("this SELECT modifier").at(here));
        }
        if s.into.is_some() {
            return Err(no("SELECT ... INTO").at(here));
        }
        if s.flavor != SelectFlavor::Standard {
            return Err(no("FROM-first SELECT").at(here));
        }
        if s.from.is_empty() {
            return Err(AdqlError::syntax("ADQL requires a FROM clause").at(here));
        }
        if !s.lateral_views.is_empty()
            || s.prewhere.is_some()
            || !s.connect_by.is_empty()
            || !s.cluster_by.is_empty()
            || !s.distribute_by.is_empty()
            || !s.sort_by.is_empty()
            || !s.named_window.is_empty()
            || s.qualify.is_some()
            || s.value_table_mode.is_some()
        {
            return Err(no("this clause").at(here));
        }
        for item in &s.projection {
            match item {
                SelectItem::UnnamedExpr(e) => self.expr(e)?,
                SelectItem::ExprWithAlias { expr, alias } => {
                    self.expr(expr)?;
                    self.name(alias)?;
                }
                SelectItem::ExprWithAliases { expr, .. } => return Err(no("a list of aliases").at(eat(expr))),
                SelectItem::QualifiedWildcard(kind, opts) => {
                    self.wildcard_options(opts)?;
                    match kind {
                        SelectItemQualifiedWildcardKind::ObjectName(n) => self.object_name(n, 3)?,
                        SelectItemQualifiedWildcardKind::Expr(e) => return Err(no("expr.*").at(eat(e))),
                    }
                }
                SelectItem::Wildcard(opts) => self.wildcard_options(opts)?,
            }
        }
        for twj in &s.from {
            self.table_with_joins(twj)?;
        }
        if let Some(w) = &s.selection {
            self.expr(w)?;
        }
        match &s.group_by {
            GroupByExpr::All(_) => return Err(no("GROUP BY ALL").at(here)),
            GroupByExpr::Expressions(list, modifiers) => {
                if !modifiers.is_empty() {
                    return Err(no("GROUP BY ... WITH").at(here));
                }
                for e in list {
                    self.expr(e)?;
                }
            }
        }
        if let Some(h) = &s.having {
            self.expr(h)?;
        }
        Ok(())
    }

    fn wildcard_options(&mut self, o: &WildcardAdditionalOptions) -> R {
        if o.opt_ilike.is_some()
            || o.opt_exclude.is_some()
            || o.opt_except.is_some()
            || o.opt_replace.is_some()
            || o.opt_rename.is_some()
            || o.opt_alias.is_some()
        {
            return Err(no("a modifier after *").at(span_pos(o.wildcard_token.0.span)));
        }
        Ok(())
    }

    fn table_with_joins(&mut self, t: &TableWithJoins) -> R {
        self.table_factor(&t.relation)?;
        for j in &t.joins {
            self.join(j)?;
        }
        Ok(())
    }

    fn join(&mut self, j: &Join) -> R {
        if j.global {
            return Err(no("GLOBAL JOIN").at(at(&j.relation)));
        }
        let constraint = match &j.join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c) => c,
            JoinOperator::CrossJoin(JoinConstraint::None) => &JoinConstraint::None,
            _ => return Err(no("this kind of join").at(at(&j.relation))),
        };
        self.table_factor(&j.relation)?;
        match constraint {
            JoinConstraint::On(e) => self.expr(e),
            JoinConstraint::Using(cols) => {
                for c in cols {
                    self.object_name(c, 1)?;
                }
                Ok(())
            }
            JoinConstraint::Natural | JoinConstraint::None => Ok(()),
        }
    }

    fn table_factor(&mut self, t: &TableFactor) -> R {
        match t {
            TableFactor::Table {
                name,
                alias,
                args,
                with_hints,
                version,
                with_ordinality,
                partitions,
                json_path,
                sample,
                index_hints,
            } => {
                if args.is_some() {
                    return Err(no("a table function").at(at(t)));
                }
                if !with_hints.is_empty()
                    || version.is_some()
                    || *with_ordinality
                    || !partitions.is_empty()
                    || json_path.is_some()
                    || sample.is_some()
                    || !index_hints.is_empty()
                {
                    return Err(no("this table modifier").at(at(t)));
                }
                self.object_name(name, 3)?;
                self.table_alias(alias.as_ref())
            }
            TableFactor::Derived {
                lateral,
                subquery,
                alias,
                sample,
            } => {
                if *lateral {
                    return Err(no("LATERAL").at(at(t)));
                }
                if sample.is_some() {
                    return Err(no("TABLESAMPLE").at(at(t)));
                }
                if alias.is_none() {
                    return Err(
                        AdqlError::syntax("a subquery in FROM needs a name: (SELECT ...) AS name").at(at(t)),
                    );
                }
                self.query(subquery, false)?;
                self.table_alias(alias.as_ref())
            }
            TableFactor::NestedJoin {
                table_with_joins,
                alias,
            } => {
                if alias.is_some() {
                    return Err(no("an alias on a parenthesised join").at(at(t)));
                }
                self.table_with_joins(table_with_joins)
            }
            _ => Err(no("this kind of FROM item").at(at(t))),
        }
    }

    fn table_alias(&mut self, alias: Option<&TableAlias>) -> R {
        let Some(a) = alias else { return Ok(()) };
        if !a.columns.is_empty() || a.at.is_some() {
            return Err(no("a column list after a table alias").at(span_pos(a.name.span)));
        }
        self.name(&a.name)
    }

    /// A name (table, column, alias): unquoted ones must be regular identifiers and not reserved.
    fn name(&mut self, id: &Ident) -> R {
        match id.quote_style {
            Some('"') => {
                if id.value.is_empty() {
                    return Err(AdqlError::syntax("empty delimited identifier \"\"").at(span_pos(id.span)));
                }
                Ok(())
            }
            Some(q) => Err(AdqlError::syntax(format!(
                "{q}...{q} is not an ADQL name; delimit names with \""
            ))
            .at(span_pos(id.span))),
            None => {
                if is_reserved(&id.value) {
                    Err(AdqlError::syntax(format!(
                        "'{}' is a reserved word in ADQL and cannot be used as a name here",
                        id.value
                    ))
                    .at(span_pos(id.span))
                    .with_hint(format!(
                        "if it is a column or table name, write it as \"{}\"",
                        id.value
                    )))
                } else {
                    Ok(())
                }
            }
        }
    }

    fn object_name(&mut self, n: &ObjectName, max_parts: usize) -> R {
        if n.0.len() > max_parts {
            return Err(AdqlError::syntax(format!("too many parts in the name '{n}'")).at(at(n)));
        }
        for part in &n.0 {
            match part {
                ObjectNamePart::Identifier(id) => self.name(id)?,
                ObjectNamePart::Function(_) => return Err(no("a computed name").at(at(n))),
            }
        }
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> R {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            // No span here: computing it would walk the deep tree we are refusing.
            return Err(AdqlError::unsupported("the query is nested too deeply"));
        }
        self.expr_inner(e)?;
        self.depth -= 1;
        Ok(())
    }

    fn expr_inner(&mut self, e: &Expr) -> R {
        match e {
            Expr::Identifier(id) => self.name(id),
            Expr::CompoundIdentifier(ids) => {
                if ids.len() > 4 {
                    return Err(AdqlError::syntax("too many parts in a column name").at(eat(e)));
                }
                ids.iter().try_for_each(|i| self.name(i))
            }
            Expr::IsNull(x) | Expr::IsNotNull(x) => self.expr(x),
            Expr::InList { expr, list, .. } => {
                self.expr(expr)?;
                list.iter().try_for_each(|x| self.expr(x))
            }
            Expr::InSubquery { expr, subquery, .. } => {
                self.expr(expr)?;
                self.query(subquery, false)
            }
            Expr::Between { expr, low, high, .. } => {
                self.expr(expr)?;
                self.expr(low)?;
                self.expr(high)
            }
            Expr::BinaryOp { .. } => {
                // Walk the left spine iteratively: `a OR b OR c ...` is as deep as it is long.
                let mut cur = e;
                while let Expr::BinaryOp { left, op, right } = cur {
                    binary_operator_allowed(op).map_err(|m| m.at(eat(right)))?;
                    self.expr(right)?;
                    cur = left;
                }
                self.expr(cur)
            }
            Expr::Like {
                any,
                expr,
                pattern,
                escape_char,
                ..
            }
            | Expr::ILike {
                any,
                expr,
                pattern,
                escape_char,
                ..
            } => {
                if *any || escape_char.is_some() {
                    return Err(no("LIKE ANY / ESCAPE").at(eat(e)));
                }
                self.expr(expr)?;
                self.expr(pattern)
            }
            Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Plus | UnaryOperator::Minus | UnaryOperator::Not => self.expr(expr),
                _ => Err(no(&format!("the operator {op}")).at(eat(e))),
            },
            Expr::Cast {
                kind,
                expr,
                data_type,
                format,
            } => {
                if *kind != CastKind::Cast {
                    return Err(no("this cast syntax")
                        .at(eat(e))
                        .with_hint("write CAST(x AS type)"));
                }
                if format.is_some() {
                    return Err(no("CAST ... FORMAT").at(eat(e)));
                }
                crate::types::cast_target(data_type).map_err(|m| AdqlError::unsupported(m).at(eat(e)))?;
                self.expr(expr)
            }
            Expr::Ceil { expr, field } | Expr::Floor { expr, field } => match field {
                CeilFloorKind::DateTimeField(DateTimeField::NoDateTime) => self.expr(expr),
                _ => Err(no("CEILING/FLOOR with a second argument").at(eat(e))),
            },
            Expr::Nested(x) => self.expr(x),
            Expr::Value(v) => match &v.value {
                Value::Number(..) | Value::SingleQuotedString(_) | Value::Null => Ok(()),
                Value::HexStringLiteral(_) => Err(no("hexadecimal literals").at(eat(e))),
                Value::Boolean(_) => Err(no("TRUE/FALSE").at(eat(e)).with_hint("compare with 1 or 0")),
                Value::Placeholder(p) => Err(AdqlError::syntax(format!("unexpected '{p}'")).at(eat(e))),
                other => Err(no(&format!("the literal {other}")).at(eat(e))),
            },
            Expr::Function(f) => self.function(f),
            Expr::Case {
                operand,
                conditions,
                else_result,
                ..
            } => {
                if let Some(o) = operand {
                    self.expr(o)?;
                }
                for c in conditions {
                    self.expr(&c.condition)?;
                    self.expr(&c.result)?;
                }
                if let Some(x) = else_result {
                    self.expr(x)?;
                }
                Ok(())
            }
            Expr::Exists { subquery, .. } => self.query(subquery, false),
            Expr::Subquery(q) => self.query(q, false),
            Expr::Interval(_) => Err(no("INTERVAL").at(eat(e))),
            Expr::Array(_) => Err(no("ARRAY").at(eat(e))),
            Expr::CompoundFieldAccess { .. } => Err(no("array subscripts").at(eat(e))),
            Expr::JsonAccess { .. } => Err(no("JSON operators").at(eat(e))),
            Expr::SimilarTo { .. } => Err(no("SIMILAR TO").at(eat(e))),
            Expr::TypedString(_) => Err(no("typed literals (DATE '...', TIMESTAMP '...')")
                .at(eat(e))
                .with_hint("write CAST('...' AS TIMESTAMP)")),
            Expr::Substring { .. } | Expr::Trim { .. } | Expr::Position { .. } | Expr::Overlay { .. } => {
                Err(no("SUBSTRING/TRIM/POSITION/OVERLAY").at(eat(e)))
            }
            Expr::IsTrue(_) | Expr::IsFalse(_) | Expr::IsNotTrue(_) | Expr::IsNotFalse(_) => {
                Err(no("IS TRUE/FALSE").at(eat(e)))
            }
            Expr::Wildcard(_) | Expr::QualifiedWildcard(..) => {
                Err(AdqlError::syntax("* is allowed only in the select list and in COUNT(*)").at(eat(e)))
            }
            _ => Err(no(&format!("'{}'", truncate_text(&e.to_string()))).at(eat(e))),
        }
    }

    fn function(&mut self, f: &Function) -> R {
        let here = at(&f.name);
        if f.uses_odbc_syntax
            || f.filter.is_some()
            || f.null_treatment.is_some()
            || !f.within_group.is_empty()
        {
            return Err(no("this function modifier").at(here));
        }
        if f.over.is_some() {
            return Err(no("window functions (OVER)").at(here));
        }
        if !matches!(f.parameters, FunctionArguments::None) {
            return Err(no("parametric functions").at(here));
        }
        match f.name.0.as_slice() {
            [ObjectNamePart::Identifier(id)] if id.quote_style.is_none() => {}
            _ => {
                return Err(AdqlError::syntax(format!("'{}' is not a valid function name", f.name)).at(here))
            }
        }
        match &f.args {
            FunctionArguments::List(FunctionArgumentList { args, clauses, .. }) => {
                if !clauses.is_empty() {
                    return Err(no("clauses inside a function call").at(here));
                }
                for a in args {
                    match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => self.expr(x)?,
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => {}
                        FunctionArg::Unnamed(_) => return Err(no("t.* as a function argument").at(here)),
                        _ => return Err(no("named function arguments").at(here)),
                    }
                }
                Ok(())
            }
            // A bare USER is a column name here (docs/adql.md), not SQL's CURRENT_USER.
            FunctionArguments::None if f.name.to_string().eq_ignore_ascii_case("user") => Ok(()),
            FunctionArguments::None => Err(no(&format!("'{}' without parentheses", f.name)).at(here)),
            FunctionArguments::Subquery(_) => Err(no("a function over a bare subquery").at(here)),
        }
    }
}

/// The binary operators ADQL has; the others get a message saying what to write instead.
fn binary_operator_allowed(op: &BinaryOperator) -> Result<(), AdqlError> {
    use BinaryOperator::*;
    match op {
        Plus | Minus | Multiply | Divide | StringConcat | Gt | Lt | GtEq | LtEq | Eq | NotEq | And | Or => {
            Ok(())
        }
        Modulo => Err(no("the % operator").with_hint("write MOD(x, y)")),
        BitwiseAnd | BitwiseOr | BitwiseXor | PGBitwiseXor | PGBitwiseShiftLeft | PGBitwiseShiftRight => {
            Err(no("bitwise operators"))
        }
        PGRegexMatch | PGRegexIMatch | PGRegexNotMatch | PGRegexNotIMatch => {
            Err(no("regular-expression operators"))
        }
        _ => Err(no(&format!("the operator {op}"))),
    }
}

fn truncate_text(s: &str) -> String {
    if s.chars().count() > 40 {
        let mut t: String = s.chars().take(40).collect();
        t.push_str("...");
        t
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    fn rejects(q: &str, kind: ErrorKind, needle: &str) {
        match parse(q) {
            Ok(_) => panic!("accepted: {q}"),
            Err(e) => {
                assert_eq!(e.kind, kind, "{q}: {e}");
                assert!(e.to_string().contains(needle), "{q}: {e}");
                assert!(e.position.is_some(), "{q}: no position in {e}");
            }
        }
    }

    #[test]
    fn accepts_adql() {
        for q in [
            "SELECT TOP 10 a, \"Weird Col\" FROM s.t AS x WHERE 1=CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 10.0, 20.0, 0.5)) ORDER BY 1",
            "SELECT DISTINCT TOP 5 a FROM t OFFSET 10",
            "WITH c AS (SELECT a FROM t) SELECT * FROM c",
            "SELECT a FROM t WHERE b ILIKE 'x%' AND c NOT BETWEEN 1 AND 2",
            "SELECT t.*, COUNT(*) FROM t NATURAL LEFT OUTER JOIN u GROUP BY a HAVING COUNT(*) > 1",
            "SELECT a FROM t UNION ALL SELECT b FROM u EXCEPT SELECT c FROM v",
            "SELECT CAST(a AS DOUBLE PRECISION), CAST(b AS VARCHAR(5)) FROM t",
            "SELECT a FROM t WHERE EXISTS (SELECT 1 FROM u) AND b IN (SELECT c FROM v);",
            "SELECT CASE WHEN a > 1 THEN 'x' ELSE 'y' END FROM t -- comment",
            "select ROUND(5)as x from y",
        ] {
            if let Err(e) = parse(q) {
                panic!("rejected {q}: {e}");
            }
        }
    }

    #[test]
    fn rejects_what_adql_lacks() {
        use ErrorKind::*;
        rejects("SELECT a FROM t LIMIT 5", Unsupported, "LIMIT");
        rejects("SELECT a FROM t FETCH FIRST 5 ROWS ONLY", Unsupported, "FETCH");
        rejects("SELECT 1; SELECT 2", Unsupported, "one query");
        rejects("SELECT a::int FROM t", Unsupported, "cast");
        rejects("SELECT a FROM t FOR UPDATE", Unsupported, "FOR UPDATE");
        rejects("SELECT a INTO b FROM t", Unsupported, "INTO");
        rejects("SELECT a FROM t WHERE b ~ 'x'", Unsupported, "regular-expression");
        rejects("SELECT DISTINCT ON (a) a FROM t", Unsupported, "DISTINCT ON");
        rejects("SELECT 1", Syntax, "FROM");
        rejects("SELECT a FROM t WHERE id % 10 = 0", Unsupported, "MOD");
        rejects("SELECT a FROM (VALUES (1)) AS v", Unsupported, "VALUES");
        rejects("SELECT rows FROM t", Syntax, "reserved");
        rejects("select grégory FROM aTable", Syntax, "line 1");
        rejects("SELECT a FROM t WHERE", Syntax, "column 22");
        rejects("SELECT `a` FROM t", Syntax, "");
        rejects("SELECT ARRAY[1] FROM t", Unsupported, "ARRAY");
        rejects("SELECT 0x1F FROM t", Unsupported, "");
        rejects("SELECT count(*) OVER () FROM t", Unsupported, "window");
        rejects(
            "WITH RECURSIVE c AS (SELECT 1 FROM t) SELECT * FROM c",
            Unsupported,
            "RECURSIVE",
        );
        rejects("SELECT * FROM (SELECT a FROM t)", Syntax, "name");
        rejects("SELECT a FROM t WHERE b = TRUE", Unsupported, "TRUE");
        rejects("SELECT a FROM t WHERE b = $$x$$", Unsupported, "");
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_crash() {
        let q = format!("SELECT {}1{} FROM t", "(".repeat(5000), ")".repeat(5000));
        assert!(parse(&q).is_err());
    }

    #[test]
    fn typographic_quotes_get_a_hint() {
        let e = parse("SELECT a FROM t WHERE b = ‘x’").unwrap_err();
        assert!(e.hint.unwrap_or_default().contains("typographic"));
    }
}
