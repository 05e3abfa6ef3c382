//! The type rules of the checker: what a translated value is, and which values fit together.
//!
//! Every expression becomes an [`Ex`]: its SQL, its ADQL type and, for column references,
//! the metadata that follows it into the output. The rules here decide which types can be
//! compared, combined and unified, so that a mix PostgreSQL would only report cryptically
//! (or silently coerce) is an ADQL type error with a position.

use sqlparser::ast::{BinaryOperator, Expr, Value};

use super::epos;
use super::output::string_literal;
use crate::error::AdqlError;
use crate::functions;
use crate::types::{AdqlType, Family};

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
/// `l op r` for a chain operator, with its type (and unit, for IN_UNIT).
pub(super) fn combine(
    l: Ex,
    l_node: &Expr,
    op: &BinaryOperator,
    r: Ex,
    r_node: &Expr,
) -> Result<Ex, AdqlError> {
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
pub(super) fn is_condition(x: &Ex) -> bool {
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
pub(super) fn literal(v: &Value, e: &Expr) -> Result<Ex, AdqlError> {
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

pub(super) fn require_bool(x: &Ex, node: &Expr) -> Result<(), AdqlError> {
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

pub(super) fn type_err(op: &str, wanted: &str, got: &Ex, node: &Expr) -> AdqlError {
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
