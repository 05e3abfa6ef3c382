//! Expressions: each sqlparser expression becomes a typed [`Ex`] with its SQL.
//!
//! A value and a condition are different things in ADQL: `value` and `condition` say which
//! one a clause needs, and the type rules (`typing`) say which operands fit. ADQL's own
//! predicate idioms (`1 = CONTAINS(...)`, `DISTANCE(...) < r`) are recognised here and
//! written as the operators a spatial index serves. Nodes that carry clauses are
//! destructured with every field named, so a field that a sqlparser upgrade adds is a
//! compile error here as in the allow-list.

use sqlparser::ast::{
    BinaryOperator, CaseWhen, DuplicateTreatment, Expr, Function, FunctionArg, FunctionArgExpr,
    FunctionArgumentList, FunctionArguments, Ident, ObjectName, ObjectNamePart, UnaryOperator, Value,
};

use super::typing::{
    combine, comparable, compatible, is_condition, literal, require_bool, type_err, unify, Ex,
};
use super::{epos, pos, Checker};
use crate::error::{suggest, AdqlError};
use crate::functions;
use crate::types::{AdqlType, Family};

impl Checker<'_> {
    /// An expression used as a value (select item, function argument, operand).
    pub(super) fn value(&mut self, e: &Expr) -> Result<Ex, AdqlError> {
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
    pub(super) fn condition(&mut self, e: &Expr, clause: &str) -> Result<Ex, AdqlError> {
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
            Expr::BinaryOp {
                left: _,
                op,
                right: _,
            } if is_chain_operator(op) => self.chain(e),
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
            // LIKE ANY and ESCAPE were refused by the allow-list.
            Expr::Like {
                negated,
                any: _,
                expr,
                pattern,
                escape_char: _,
            }
            | Expr::ILike {
                negated,
                any: _,
                expr,
                pattern,
                escape_char: _,
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
            // `::`, TRY_CAST and FORMAT were refused by the allow-list.
            Expr::Cast {
                kind: _,
                expr,
                data_type,
                format: _,
            } => {
                let v = self.value(expr)?;
                let target = crate::types::cast_target(data_type)
                    .map_err(|m| AdqlError::unsupported(m).at(epos(e)))?;
                functions::cast(v, target).map_err(|err| err.at(epos(e)))
            }
            // The allow-list let through only the one-argument form.
            Expr::Ceil { expr, field: _ } | Expr::Floor { expr, field: _ } => {
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
                case_token: _,
                end_token: _,
                operand,
                conditions,
                else_result,
            } => self.case(operand.as_deref(), conditions, else_result.as_deref()),
            _ => Err(AdqlError::unsupported(format!("'{e}' is not part of ADQL")).at(epos(e))),
        }
    }

    fn case(
        &mut self,
        operand: Option<&Expr>,
        conditions: &[CaseWhen],
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
        for CaseWhen { condition, result } in conditions {
            let c = match &op {
                Some(v) => {
                    let c = self.value(condition)?;
                    if !comparable(v.ty, c.ty) {
                        return Err(type_err("CASE", v.ty.describe(), &c, condition));
                    }
                    c
                }
                None => self.condition(condition, "CASE WHEN")?,
            };
            let r = self.value(result)?;
            if !compatible(ty, r.ty) {
                return Err(type_err("CASE", ty.describe(), &r, result));
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
                let mut l = self.value(left)?;
                let mut r = self.value(right)?;
                let ordering = !matches!(op, Eq | NotEq);
                if !ordering {
                    flag_literal(&l, &mut r);
                    flag_literal(&r, &mut l);
                }
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
    fn predicate_call(&mut self, f: &Function) -> Result<Option<Ex>, AdqlError> {
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

    fn args(&mut self, f: &Function) -> Result<Vec<Ex>, AdqlError> {
        let mut out = Vec::new();
        if let (_, Some(list)) = call_parts(f) {
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

    fn function(&mut self, f: &Function, e: &Expr) -> Result<Ex, AdqlError> {
        let (fname, list) = call_parts(f);
        if let (None, [ObjectNamePart::Identifier(id)]) = (list, fname.0.as_slice()) {
            // The parser reads a bare `user` as a function; in ADQL it is a column.
            return self.column(&[id], e);
        }
        let name = function_name(f);
        let upper = name.to_ascii_uppercase();
        // Clauses inside the parentheses (ORDER BY, SEPARATOR, ...) were refused by the allow-list.
        let (quantifier, args) = match list {
            Some(FunctionArgumentList {
                duplicate_treatment,
                args,
                clauses: _,
            }) => (*duplicate_treatment, args.as_slice()),
            None => (None, &[][..]),
        };
        let distinct = matches!(quantifier, Some(DuplicateTreatment::Distinct));
        let has_quantifier = quantifier.is_some();
        let star = args
            .iter()
            .any(|a| matches!(a, FunctionArg::Unnamed(FunctionArgExpr::Wildcard)));
        let at = pos(fname);
        if functions::is_aggregate(&upper) {
            if star {
                if upper != "COUNT" || args.len() != 1 || has_quantifier {
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
}

/// The name of a call and its argument list (`None` for a bare word such as `user`, or for
/// a subquery argument, which the allow-list refused). The allow-list refused every other
/// part of a call (ODBC `{fn ...}`, parameters, WITHIN GROUP, FILTER, IGNORE NULLS, OVER).
fn call_parts(f: &Function) -> (&ObjectName, Option<&FunctionArgumentList>) {
    let Function {
        name,
        uses_odbc_syntax: _,
        parameters: _,
        args,
        within_group: _,
        filter: _,
        null_treatment: _,
        over: _,
    } = f;
    let list = match args {
        FunctionArguments::List(list) => Some(list),
        FunctionArguments::None | FunctionArguments::Subquery(_) => None,
    };
    (name, list)
}

/// Operators whose chains are walked iteratively (they are left-associative and never special).
fn is_chain_operator(op: &BinaryOperator) -> bool {
    use BinaryOperator::*;
    matches!(op, And | Or | Plus | Minus | Multiply | Divide | StringConcat)
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

fn is_named(f: &Function, name: &str) -> bool {
    function_name(f).eq_ignore_ascii_case(name)
}

fn function_name(f: &Function) -> String {
    match f.name.0.as_slice() {
        [ObjectNamePart::Identifier(id)] => id.value.clone(),
        _ => f.name.to_string(),
    }
}

fn single_string_literal(f: &Function) -> Option<String> {
    let (_, list) = call_parts(f);
    match list?.args.as_slice() {
        [FunctionArg::Unnamed(FunctionArgExpr::Expr(Expr::Value(v)))] => match &v.value {
            Value::SingleQuotedString(s) => Some(s.clone()),
            _ => None,
        },
        _ => None,
    }
}

/// `flag = 1`, `flag <> 0`: ADQL has no TRUE or FALSE and a boolean column is no condition on
/// its own (the 2.1 grammar), so the integer literals 1 and 0 compared with a boolean column
/// stand for true and false, as the VOTable and TAP_SCHEMA convention of 1/0 flags suggests.
/// Anything else compared with a boolean stays a type error.
fn flag_literal(boolean: &Ex, other: &mut Ex) {
    if boolean.ty != AdqlType::Boolean || is_condition(boolean) || other.ty.family() != Family::Numeric {
        return;
    }
    let value = match other.sql.trim() {
        "1" => "true",
        "0" => "false",
        _ => return,
    };
    other.sql = value.to_string();
    other.ty = AdqlType::Boolean;
}
