//! ORDER BY and GROUP BY items.
//!
//! ADQL lets these name a result column by its position (`ORDER BY 2`) or by its alias
//! (`ORDER BY dist`), besides any expression over FROM. PostgreSQL resolves an alias only
//! when it stands alone, so an alias is turned into the column's ordinal here, and an
//! ordinal is checked against the select list, so the error is ours, with a position.

use sqlparser::ast::{Expr, OrderByExpr, OrderByOptions, OrderBySort, Select, SelectItem, Value};

use super::scope::{idents_match, name_matches, Col};
use super::{epos, Checker};
use crate::error::AdqlError;
use crate::types::Family;

impl Checker<'_> {
    /// A GROUP BY item: an expression over FROM or, failing that, a select-list alias.
    pub(super) fn group_item(&mut self, g: &Expr, s: &Select, columns: &[Col]) -> Result<String, AdqlError> {
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
    pub(super) fn order_item(
        &mut self,
        o: &OrderByExpr,
        s: &Select,
        columns: &[Col],
    ) -> Result<String, AdqlError> {
        let (expr, dir) = parts(o);
        let count = if columns.iter().any(|c| c.name == "*") {
            usize::MAX
        } else {
            columns.len()
        };
        if let Some(n) = ordinal(expr, count)? {
            return Ok(format!("{n}{dir}"));
        }
        if let Some(n) = output_alias(expr, s, columns) {
            return Ok(format!("{n}{dir}"));
        }
        let ex = self.value(expr)?;
        if ex.ty.family() == Family::Geometry {
            return Err(AdqlError::typing("cannot sort by a geometry").at(epos(expr)));
        }
        Ok(format!("{}{dir}", ex.sql))
    }

    /// ORDER BY of a set operation: only output columns, by ordinal or name.
    pub(super) fn order_item_by_output(
        &mut self,
        o: &OrderByExpr,
        columns: &[Col],
    ) -> Result<String, AdqlError> {
        let (expr, dir) = parts(o);
        if let Some(n) = ordinal(expr, columns.len())? {
            return Ok(format!("{n}{dir}"));
        }
        if let Expr::Identifier(id) = expr {
            if let Some(i) = columns.iter().position(|c| name_matches(id, &c.name)) {
                return Ok(format!("{}{dir}", i + 1));
            }
        }
        Err(AdqlError::unknown(format!(
            "ORDER BY after a set operation must name an output column; '{expr}' is not one"
        ))
        .at(epos(expr)))
    }
}

/// The expression of an ORDER BY item and its direction as SQL. NULLS FIRST/LAST and WITH
/// FILL were refused by the allow-list (`parse`).
fn parts(o: &OrderByExpr) -> (&Expr, &'static str) {
    let OrderByExpr {
        expr,
        options: OrderByOptions { sort, nulls_first: _ },
        with_fill: _,
    } = o;
    let dir = match sort {
        Some(OrderBySort::Desc) => " DESC",
        _ => " ASC",
    };
    (expr, dir)
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
        SelectItem::ExprWithAlias { expr: _, alias } if idents_match(alias, id) => Some(alias),
        _ => None,
    })?;
    columns.iter().position(|c| c.name == alias.value).map(|i| i + 1)
}
