//! The allow-list: a walk over sqlparser's tree that names every construct ADQL has and
//! refuses the rest, with a message that says what the user probably wanted.
//!
//! sqlparser reads far more than ADQL (LIMIT, `::`, windows, VALUES, INTO, ...), and each of
//! its releases adds more. So every node that can carry a clause is destructured with all
//! its fields named, never with `..`, and every enum is matched without a catch-all where a
//! variant could carry one: a field or a variant that a sqlparser upgrade adds is a compile
//! error here until someone decides what ADQL makes of it. A field that ADQL has no use for
//! is checked to be absent or empty.
//!
//! The walk also gives every expression its [`Shape`] and applies the grammar rules of
//! [`super::grammar`]: conditions where conditions belong, values elsewhere, and the
//! signatures of ADQL's functions.

use sqlparser::ast::{
    BinaryOperator, CaseWhen, CastKind, CeilFloorKind, Cte, DateTimeField, Distinct, Expr, Function,
    FunctionArg, FunctionArgExpr, FunctionArgumentList, FunctionArguments, GroupByExpr, Ident, Join,
    JoinConstraint, JoinOperator, LimitClause, ObjectName, ObjectNamePart, Offset, OffsetRows, OrderBy,
    OrderByExpr, OrderByKind, OrderByOptions, OrderBySort, Query, Select, SelectFlavor, SelectItem,
    SelectItemQualifiedWildcardKind, SetExpr, SetOperator, SetQuantifier, TableAlias, TableAliasColumnDef,
    TableFactor, TableWithJoins, Top, TopQuantity, UnaryOperator, Value, ValueWithSpan,
    WildcardAdditionalOptions, With,
};

use super::grammar::{self, Arg, Call, NeedsCondition, Shape};
use super::{at, eat, no, MAX_DEPTH};
use crate::error::{set_start, span_pos, AdqlError};
use crate::reserved::is_reserved;

type R = Result<(), AdqlError>;

/// The allow-list walk. `depth` guards against stack exhaustion on hostile input.
#[derive(Default)]
pub(super) struct Allow {
    depth: usize,
}

impl Allow {
    pub(super) fn query(&mut self, q: &Query, outermost: bool) -> R {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(AdqlError::unsupported("the query is nested too deeply").at(set_start(&q.body)));
        }
        let Query {
            with,
            body,
            order_by,
            limit_clause,
            fetch,
            locks,
            for_clause,
            settings,
            format_clause,
            pipe_operators,
        } = q;
        if let Some(with) = with {
            self.with(with, outermost)?;
        }
        self.set_expr(body)?;
        if let Some(ob) = order_by {
            self.order_by(ob)?;
        }
        match limit_clause {
            None => {}
            Some(LimitClause::LimitOffset {
                limit: None,
                offset: Some(Offset { value, rows }),
                limit_by,
            }) if limit_by.is_empty() && *rows == OffsetRows::None => {
                unsigned_int(value, "OFFSET")?;
            }
            Some(LimitClause::LimitOffset {
                limit: Some(l),
                offset: _,
                limit_by: _,
            })
            | Some(LimitClause::OffsetCommaLimit { offset: _, limit: l }) => {
                return Err(no("LIMIT").at(eat(l)).with_hint("write SELECT TOP n ... instead"));
            }
            Some(LimitClause::LimitOffset {
                limit: None,
                offset: _,
                limit_by: _,
            }) => return Err(no("this form of OFFSET").at(set_start(body))),
        }
        if fetch.is_some() {
            return Err(no("FETCH FIRST")
                .at(set_start(body))
                .with_hint("write SELECT TOP n ... instead"));
        }
        if !locks.is_empty() {
            return Err(no("FOR UPDATE/SHARE").at(set_start(body)));
        }
        if for_clause.is_some() || settings.is_some() || format_clause.is_some() || !pipe_operators.is_empty()
        {
            return Err(no("this clause").at(set_start(body)));
        }
        self.depth -= 1;
        Ok(())
    }

    fn with(&mut self, with: &With, outermost: bool) -> R {
        let With {
            with_token,
            recursive,
            cte_tables,
        } = with;
        if !outermost {
            return Err(AdqlError::unsupported(
                "WITH is allowed only at the start of the main query, not in subqueries",
            )
            .at(span_pos(with_token.0.span)));
        }
        if *recursive {
            return Err(no("WITH RECURSIVE").at(span_pos(with_token.0.span)));
        }
        for cte in cte_tables {
            let Cte {
                alias:
                    TableAlias {
                        explicit: _,
                        name,
                        columns,
                        at: alias_at,
                    },
                query,
                from,
                materialized,
                closing_paren_token: _,
            } = cte;
            if materialized.is_some() || from.is_some() {
                return Err(no("MATERIALIZED").at(span_pos(name.span)));
            }
            if alias_at.is_some() {
                return Err(no("AT after a WITH name").at(span_pos(name.span)));
            }
            self.name(name)?;
            for TableAliasColumnDef { name, data_type } in columns {
                if data_type.is_some() {
                    return Err(no("a typed column list").at(span_pos(name.span)));
                }
                self.name(name)?;
            }
            self.query(query, false)?;
        }
        Ok(())
    }

    fn order_by(&mut self, ob: &OrderBy) -> R {
        let OrderBy { kind, interpolate } = ob;
        if interpolate.is_some() {
            return Err(no("INTERPOLATE"));
        }
        match kind {
            OrderByKind::All(_) => Err(no("ORDER BY ALL")),
            OrderByKind::Expressions(list) => list.iter().try_for_each(|o| self.order_item(o)),
        }
    }

    fn order_item(&mut self, o: &OrderByExpr) -> R {
        let OrderByExpr {
            expr,
            options: OrderByOptions { sort, nulls_first },
            with_fill,
        } = o;
        if with_fill.is_some() {
            return Err(no("WITH FILL").at(eat(expr)));
        }
        if nulls_first.is_some() {
            return Err(no("NULLS FIRST/LAST").at(eat(expr)));
        }
        match sort {
            None | Some(OrderBySort::Asc) | Some(OrderBySort::Desc) => {}
            Some(OrderBySort::Using(_)) => return Err(no("ORDER BY ... USING").at(eat(expr))),
        }
        self.value(expr)
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
                match op {
                    SetOperator::Union | SetOperator::Except | SetOperator::Intersect => {}
                    SetOperator::Minus => return Err(no(&format!("{op}")).at(set_start(s))),
                }
                if !matches!(set_quantifier, SetQuantifier::None | SetQuantifier::All) {
                    return Err(no(&format!("{op} {set_quantifier}")).at(set_start(s)));
                }
                self.set_expr(left)?;
                self.set_expr(right)
            }
            SetExpr::Values(_) => Err(no("VALUES").at(set_start(s))),
            SetExpr::Table(_) => Err(no("TABLE").at(set_start(s))),
            SetExpr::Insert(_) | SetExpr::Update(_) | SetExpr::Delete(_) | SetExpr::Merge(_) => {
                Err(AdqlError::unsupported("only SELECT queries are allowed").at(set_start(s)))
            }
        }
    }

    fn select(&mut self, s: &Select) -> R {
        let Select {
            select_token,
            optimizer_hints,
            distinct,
            select_modifiers,
            top,
            top_before_distinct,
            projection,
            exclude,
            into,
            from,
            lateral_views,
            prewhere,
            selection,
            connect_by,
            group_by,
            cluster_by,
            distribute_by,
            sort_by,
            having,
            named_window,
            qualify,
            window_before_qualify: _,
            value_table_mode,
            flavor,
        } = s;
        let here = span_pos(select_token.0.span);
        match distinct {
            None | Some(Distinct::All) | Some(Distinct::Distinct) => {}
            Some(Distinct::On(_)) => return Err(no("DISTINCT ON").at(here)),
        }
        if let Some(Top {
            with_ties,
            percent,
            quantity,
        }) = top
        {
            if *percent || *with_ties || *top_before_distinct {
                return Err(AdqlError::syntax("TOP takes a plain integer and follows DISTINCT").at(here));
            }
            match quantity {
                Some(TopQuantity::Constant(_)) => {}
                Some(TopQuantity::Expr(_)) | None => {
                    return Err(AdqlError::syntax("TOP takes a non-negative integer").at(here))
                }
            }
        }
        if !optimizer_hints.is_empty() || select_modifiers.is_some() || exclude.is_some() {
            return Err(no("this SELECT modifier").at(here));
        }
        if into.is_some() {
            return Err(no("SELECT ... INTO").at(here));
        }
        match flavor {
            SelectFlavor::Standard => {}
            SelectFlavor::FromFirst | SelectFlavor::FromFirstNoSelect => {
                return Err(no("FROM-first SELECT").at(here))
            }
        }
        if from.is_empty() {
            return Err(AdqlError::syntax("ADQL requires a FROM clause").at(here));
        }
        // The window_before_qualify flag only orders WINDOW and QUALIFY, both refused here.
        if !lateral_views.is_empty()
            || prewhere.is_some()
            || !connect_by.is_empty()
            || !cluster_by.is_empty()
            || !distribute_by.is_empty()
            || !sort_by.is_empty()
            || !named_window.is_empty()
            || qualify.is_some()
            || value_table_mode.is_some()
        {
            return Err(no("this clause").at(here));
        }
        for item in projection {
            self.select_item(item)?;
        }
        for twj in from {
            self.table_with_joins(twj)?;
        }
        if let Some(w) = selection {
            self.condition(w, "WHERE")?;
        }
        match group_by {
            GroupByExpr::All(_) => return Err(no("GROUP BY ALL").at(here)),
            GroupByExpr::Expressions(list, modifiers) => {
                if !modifiers.is_empty() {
                    return Err(no("GROUP BY ... WITH").at(here));
                }
                for e in list {
                    self.value(e)?;
                }
            }
        }
        if let Some(h) = having {
            self.condition(h, "HAVING")?;
        }
        Ok(())
    }

    fn select_item(&mut self, item: &SelectItem) -> R {
        match item {
            SelectItem::UnnamedExpr(e) => self.value(e),
            SelectItem::ExprWithAlias { expr, alias } => {
                self.value(expr)?;
                self.name(alias)
            }
            SelectItem::ExprWithAliases { expr, aliases: _ } => Err(no("a list of aliases").at(eat(expr))),
            SelectItem::QualifiedWildcard(kind, opts) => {
                wildcard_options(opts)?;
                match kind {
                    SelectItemQualifiedWildcardKind::ObjectName(n) => self.object_name(n, 3),
                    SelectItemQualifiedWildcardKind::Expr(e) => Err(no("expr.*").at(eat(e))),
                }
            }
            SelectItem::Wildcard(opts) => wildcard_options(opts),
        }
    }

    fn table_with_joins(&mut self, t: &TableWithJoins) -> R {
        let TableWithJoins { relation, joins } = t;
        self.table_factor(relation)?;
        for j in joins {
            self.join(j)?;
        }
        Ok(())
    }

    fn join(&mut self, j: &Join) -> R {
        let Join {
            relation,
            global,
            join_operator,
        } = j;
        if *global {
            return Err(no("GLOBAL JOIN").at(at(relation)));
        }
        let constraint = match join_operator {
            JoinOperator::Join(c)
            | JoinOperator::Inner(c)
            | JoinOperator::Left(c)
            | JoinOperator::LeftOuter(c)
            | JoinOperator::Right(c)
            | JoinOperator::RightOuter(c)
            | JoinOperator::FullOuter(c) => c,
            JoinOperator::CrossJoin(JoinConstraint::None) => &JoinConstraint::None,
            JoinOperator::CrossJoin(_)
            | JoinOperator::Semi(_)
            | JoinOperator::LeftSemi(_)
            | JoinOperator::RightSemi(_)
            | JoinOperator::Anti(_)
            | JoinOperator::LeftAnti(_)
            | JoinOperator::RightAnti(_)
            | JoinOperator::CrossApply
            | JoinOperator::OuterApply
            | JoinOperator::AsOf { .. }
            | JoinOperator::StraightJoin(_)
            | JoinOperator::ArrayJoin
            | JoinOperator::LeftArrayJoin
            | JoinOperator::InnerArrayJoin => return Err(no("this kind of join").at(at(relation))),
        };
        self.table_factor(relation)?;
        match constraint {
            JoinConstraint::On(e) => self.condition(e, "ON"),
            JoinConstraint::Using(cols) => cols.iter().try_for_each(|c| self.object_name(c, 1)),
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
            TableFactor::TableFunction { .. }
            | TableFactor::Function { .. }
            | TableFactor::UNNEST { .. }
            | TableFactor::JsonTable { .. }
            | TableFactor::OpenJsonTable { .. }
            | TableFactor::Pivot { .. }
            | TableFactor::Unpivot { .. }
            | TableFactor::UnpivotExpr { .. }
            | TableFactor::MatchRecognize { .. }
            | TableFactor::XmlTable { .. }
            | TableFactor::SemanticView { .. } => Err(no("this kind of FROM item").at(at(t))),
        }
    }

    fn table_alias(&mut self, alias: Option<&TableAlias>) -> R {
        let Some(TableAlias {
            explicit: _,
            name,
            columns,
            at,
        }) = alias
        else {
            return Ok(());
        };
        if !columns.is_empty() || at.is_some() {
            return Err(no("a column list after a table alias").at(span_pos(name.span)));
        }
        self.name(name)
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

    // ----- expressions -----

    /// An expression where the grammar wants a value (select item, operand, argument, ...).
    fn value(&mut self, e: &Expr) -> R {
        let shape = self.expr(e)?;
        grammar::require_value(shape, e)
    }

    /// An expression where the grammar wants a search condition (WHERE, HAVING, ON, CASE WHEN).
    fn condition(&mut self, e: &Expr, clause: &'static str) -> R {
        let shape = self.expr(e)?;
        grammar::require_condition(shape, NeedsCondition::Clause(clause), e)
    }

    fn expr(&mut self, e: &Expr) -> Result<Shape, AdqlError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            // No span here: computing it would walk the deep tree we are refusing.
            return Err(AdqlError::unsupported("the query is nested too deeply"));
        }
        let shape = self.expr_inner(e)?;
        self.depth -= 1;
        Ok(shape)
    }

    fn expr_inner(&mut self, e: &Expr) -> Result<Shape, AdqlError> {
        match e {
            Expr::Identifier(id) => {
                self.name(id)?;
                Ok(Shape::Column)
            }
            Expr::CompoundIdentifier(ids) => {
                if ids.len() > 4 {
                    return Err(AdqlError::syntax("too many parts in a column name").at(eat(e)));
                }
                ids.iter().try_for_each(|i| self.name(i))?;
                Ok(Shape::Column)
            }
            Expr::IsNull(x) | Expr::IsNotNull(x) => {
                self.value(x)?;
                Ok(Shape::Condition)
            }
            Expr::InList {
                expr,
                list,
                negated: _,
            } => {
                self.value(expr)?;
                list.iter().try_for_each(|x| self.value(x))?;
                Ok(Shape::Condition)
            }
            Expr::InSubquery {
                expr,
                subquery,
                negated: _,
            } => {
                self.value(expr)?;
                self.query(subquery, false)?;
                Ok(Shape::Condition)
            }
            Expr::Between {
                expr,
                negated: _,
                low,
                high,
            } => {
                self.value(expr)?;
                self.value(low)?;
                self.value(high)?;
                Ok(Shape::Condition)
            }
            Expr::BinaryOp { .. } => self.binary_chain(e),
            Expr::Like {
                negated: _,
                any,
                expr,
                pattern,
                escape_char,
            }
            | Expr::ILike {
                negated: _,
                any,
                expr,
                pattern,
                escape_char,
            } => {
                if *any || escape_char.is_some() {
                    return Err(no("LIKE ANY / ESCAPE").at(eat(e)));
                }
                let op = if matches!(e, Expr::ILike { .. }) {
                    "ILIKE"
                } else {
                    "LIKE"
                };
                for x in [expr, pattern] {
                    let shape = self.expr(x)?;
                    grammar::require_value(shape, x)?;
                    grammar::like_operand(op, shape, e)?;
                }
                Ok(Shape::Condition)
            }
            Expr::UnaryOp { op, expr } => match op {
                UnaryOperator::Not => {
                    let shape = self.expr(expr)?;
                    grammar::require_condition(shape, NeedsCondition::Logic, expr)?;
                    Ok(Shape::Condition)
                }
                UnaryOperator::Plus | UnaryOperator::Minus => {
                    let shape = self.expr(expr)?;
                    grammar::numeric_operand(&format!("unary {op}"), shape, expr)?;
                    Ok(if shape == Shape::NumberLiteral {
                        Shape::NumberLiteral
                    } else {
                        Shape::Number
                    })
                }
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
                self.value(expr)?;
                Ok(Shape::Open)
            }
            Expr::Ceil { expr, field } | Expr::Floor { expr, field } => match field {
                CeilFloorKind::DateTimeField(DateTimeField::NoDateTime) => {
                    let name = if matches!(e, Expr::Ceil { .. }) {
                        "CEILING"
                    } else {
                        "FLOOR"
                    };
                    let shape = self.expr(expr)?;
                    grammar::require_value(shape, expr)?;
                    grammar::number_argument(name, shape, expr)?;
                    Ok(Shape::Number)
                }
                CeilFloorKind::DateTimeField(_) | CeilFloorKind::Scale(_) => {
                    Err(no("CEILING/FLOOR with a second argument").at(eat(e)))
                }
            },
            Expr::Nested(x) => self.expr(x),
            Expr::Value(ValueWithSpan { value, span: _ }) => literal(value, e),
            Expr::Function(f) => self.function(f),
            Expr::Case {
                case_token: _,
                end_token: _,
                operand,
                conditions,
                else_result,
            } => {
                if let Some(o) = operand {
                    self.value(o)?;
                }
                for CaseWhen { condition, result } in conditions {
                    if operand.is_some() {
                        self.value(condition)?;
                    } else {
                        self.condition(condition, "CASE WHEN")?;
                    }
                    self.value(result)?;
                }
                if let Some(x) = else_result {
                    self.value(x)?;
                }
                Ok(Shape::Open)
            }
            Expr::Exists { subquery, negated: _ } => {
                self.query(subquery, false)?;
                Ok(Shape::Condition)
            }
            Expr::Subquery(q) => {
                self.query(q, false)?;
                Ok(Shape::Open)
            }
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
            // The rest of PostgreSQL's and other dialects' expressions, named one by one so that
            // a new kind of expression in sqlparser is a compile error here.
            Expr::IsUnknown(_)
            | Expr::IsNotUnknown(_)
            | Expr::IsDistinctFrom(..)
            | Expr::IsNotDistinctFrom(..)
            | Expr::IsJson { .. }
            | Expr::IsNormalized { .. }
            | Expr::InUnnest { .. }
            | Expr::RLike { .. }
            | Expr::AnyOp { .. }
            | Expr::AllOp { .. }
            | Expr::Convert { .. }
            | Expr::AtTimeZone { .. }
            | Expr::Extract { .. }
            | Expr::Collate { .. }
            | Expr::Prefixed { .. }
            | Expr::GroupingSets(_)
            | Expr::Cube(_)
            | Expr::Rollup(_)
            | Expr::Tuple(_)
            | Expr::Struct { .. }
            | Expr::Named { .. }
            | Expr::Dictionary(_)
            | Expr::Map(_)
            | Expr::MatchAgainst { .. }
            | Expr::OuterJoin(_)
            | Expr::Prior(_)
            | Expr::Lambda(_)
            | Expr::MemberOf(_) => Err(no(&format!("'{}'", truncate_text(&e.to_string()))).at(eat(e))),
        }
    }

    /// A chain of binary operators, walked along its left spine without recursion (`a OR b OR
    /// c ...` is as deep as it is long), from the leftmost operand on, so that the first error
    /// in reading order is the one reported.
    fn binary_chain(&mut self, e: &Expr) -> Result<Shape, AdqlError> {
        // Most operators stand alone (`a = 1`): no list for those.
        if let Expr::BinaryOp { left, op, right } = e {
            if !matches!(left.as_ref(), Expr::BinaryOp { .. }) {
                let l = self.expr(left)?;
                binary_operator_allowed(op).map_err(|m| m.at(eat(right)))?;
                let r = self.expr(right)?;
                return grammar::binary(op, l, left, r, right);
            }
        }
        let mut spine: Vec<(&Expr, &BinaryOperator, &Expr)> = Vec::new();
        let mut cur = e;
        while let Expr::BinaryOp { left, op, right } = cur {
            spine.push((left, op, right));
            cur = left;
        }
        let mut shape = self.expr(cur)?;
        for (left, op, right) in spine.into_iter().rev() {
            binary_operator_allowed(op).map_err(|m| m.at(eat(right)))?;
            let r = self.expr(right)?;
            shape = grammar::binary(op, shape, left, r, right)?;
        }
        Ok(shape)
    }

    fn function(&mut self, f: &Function) -> Result<Shape, AdqlError> {
        let Function {
            name,
            uses_odbc_syntax,
            parameters,
            args,
            within_group,
            filter,
            null_treatment,
            over,
        } = f;
        let here = at(name);
        if *uses_odbc_syntax || filter.is_some() || null_treatment.is_some() || !within_group.is_empty() {
            return Err(no("this function modifier").at(here));
        }
        if over.is_some() {
            return Err(no("window functions (OVER)").at(here));
        }
        match parameters {
            FunctionArguments::None => {}
            FunctionArguments::List(_) | FunctionArguments::Subquery(_) => {
                return Err(no("parametric functions").at(here))
            }
        }
        let id = match name.0.as_slice() {
            [ObjectNamePart::Identifier(id)] if id.quote_style.is_none() => id,
            _ => return Err(AdqlError::syntax(format!("'{name}' is not a valid function name")).at(here)),
        };
        match args {
            FunctionArguments::List(FunctionArgumentList {
                duplicate_treatment,
                args,
                clauses,
            }) => {
                if !clauses.is_empty() {
                    return Err(no("clauses inside a function call").at(here));
                }
                let mut values = Vec::with_capacity(args.len());
                let mut star = false;
                for a in args {
                    match a {
                        FunctionArg::Unnamed(FunctionArgExpr::Expr(x)) => {
                            let shape = self.expr(x)?;
                            grammar::require_value(shape, x)?;
                            values.push(Arg { shape, expr: x });
                        }
                        FunctionArg::Unnamed(FunctionArgExpr::Wildcard) => star = true,
                        FunctionArg::Unnamed(FunctionArgExpr::QualifiedWildcard(_))
                        | FunctionArg::Unnamed(FunctionArgExpr::WildcardWithOptions(_)) => {
                            return Err(no("t.* as a function argument").at(here))
                        }
                        FunctionArg::Named { .. } | FunctionArg::ExprNamed { .. } => {
                            return Err(no("named function arguments").at(here))
                        }
                    }
                }
                grammar::call(&Call {
                    name: &id.value,
                    args: &values,
                    quantifier: duplicate_treatment.is_some(),
                    star,
                    at: here,
                })
            }
            // A bare USER is a column name here (docs/adql.md), not SQL's CURRENT_USER.
            FunctionArguments::None if id.value.eq_ignore_ascii_case("user") => Ok(Shape::Column),
            FunctionArguments::None => Err(no(&format!("'{name}' without parentheses")).at(here)),
            FunctionArguments::Subquery(_) => Err(no("a function over a bare subquery").at(here)),
        }
    }
}

/// The literals ADQL has: numbers, strings in single quotes, NULL.
fn literal(v: &Value, e: &Expr) -> Result<Shape, AdqlError> {
    match v {
        Value::Number(..) => Ok(Shape::NumberLiteral),
        Value::SingleQuotedString(_) => Ok(Shape::StringLiteral),
        Value::Null => Ok(Shape::Null),
        Value::HexStringLiteral(_) => Err(no("hexadecimal literals").at(eat(e))),
        Value::Boolean(_) => Err(no("TRUE/FALSE").at(eat(e)).with_hint("compare with 1 or 0")),
        Value::Placeholder(p) => Err(AdqlError::syntax(format!("unexpected '{p}'")).at(eat(e))),
        other => Err(no(&format!("the literal {other}")).at(eat(e))),
    }
}

/// OFFSET's argument: ADQL's `<unsigned_decimal>`.
fn unsigned_int(e: &Expr, what: &str) -> R {
    match e {
        Expr::Value(ValueWithSpan {
            value: Value::Number(n, false),
            span: _,
        }) if n.bytes().all(|b| b.is_ascii_digit()) => Ok(()),
        _ => Err(AdqlError::syntax(format!("{what} takes a non-negative integer")).at(eat(e))),
    }
}

/// The options sqlparser reads after `*` (ILIKE, EXCLUDE, EXCEPT, REPLACE, RENAME, AS): none is ADQL.
fn wildcard_options(o: &WildcardAdditionalOptions) -> R {
    let WildcardAdditionalOptions {
        wildcard_token,
        opt_ilike,
        opt_exclude,
        opt_except,
        opt_replace,
        opt_rename,
        opt_alias,
    } = o;
    if opt_ilike.is_some()
        || opt_exclude.is_some()
        || opt_except.is_some()
        || opt_replace.is_some()
        || opt_rename.is_some()
        || opt_alias.is_some()
    {
        return Err(no("a modifier after *").at(span_pos(wildcard_token.0.span)));
    }
    Ok(())
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
