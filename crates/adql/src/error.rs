//! The one error type of the ADQL front end.
//!
//! Every failure carries a kind (so the server can map it to an HTTP status and a
//! TAP error document), a message written for astronomers, and the place in the
//! query where it happened, because a query of forty lines is useless to debug
//! from "syntax error" alone.

use std::fmt;

/// What went wrong, coarsely: the server and the tests branch on this.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    /// The text is not ADQL (tokenizer or grammar).
    Syntax,
    /// A table, column or function name that the catalogue does not know, or that is ambiguous.
    UnknownName,
    /// Operands or arguments of the wrong type.
    Type,
    /// Valid SQL that ADQL does not have (LIMIT, `::`, windows, ...), or an ADQL feature we do not offer.
    Unsupported,
}

impl ErrorKind {
    /// A short lower-case label used in messages and logs.
    pub fn label(self) -> &'static str {
        match self {
            ErrorKind::Syntax => "syntax error",
            ErrorKind::UnknownName => "unknown name",
            ErrorKind::Type => "type error",
            ErrorKind::Unsupported => "unsupported",
        }
    }
}

/// A position in the query text, 1-based, counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Position {
    pub line: u64,
    pub column: u64,
}

/// An error in an ADQL query, with where it is and, when we can guess, what was meant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct AdqlError {
    pub kind: ErrorKind,
    pub message: String,
    /// `None` only when no position can be given at all (never for syntax errors).
    pub position: Option<Position>,
    /// A suggestion, e.g. "did you mean 'ra'?".
    pub hint: Option<String>,
}

impl AdqlError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        AdqlError {
            kind,
            message: message.into(),
            position: None,
            hint: None,
        }
    }

    /// Attach a position unless one is already known (the innermost one is the most precise).
    pub fn at(mut self, position: Option<Position>) -> Self {
        if self.position.is_none() {
            self.position = position;
        }
        self
    }

    pub fn with_hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub(crate) fn syntax(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Syntax, message)
    }
    pub(crate) fn unknown(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::UnknownName, message)
    }
    pub(crate) fn typing(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Type, message)
    }
    pub(crate) fn unsupported(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Unsupported, message)
    }
}

impl fmt::Display for AdqlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind.label(), self.message)?;
        if let Some(p) = self.position {
            write!(f, " (line {}, column {})", p.line, p.column)?;
        }
        if let Some(h) = &self.hint {
            write!(f, "; {h}")?;
        }
        Ok(())
    }
}

/// The position of a sqlparser span start, or `None` for the empty span it uses when it does not know.
pub(crate) fn span_pos(span: sqlparser::tokenizer::Span) -> Option<Position> {
    if span.start.line == 0 {
        None
    } else {
        Some(Position {
            line: span.start.line,
            column: span.start.column,
        })
    }
}

/// Edit distance, to suggest close names ("rra" → "ra").
pub(crate) fn levenshtein(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    let mut cur = vec![0; b.len() + 1];
    for (i, ca) in a.chars().enumerate() {
        cur[0] = i + 1;
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(!ca.eq_ignore_ascii_case(cb));
            cur[j + 1] = (prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
}

/// "did you mean 'x'?" for the closest candidates, if any is close enough.
pub(crate) fn suggest<'a>(wanted: &str, candidates: impl Iterator<Item = &'a str>) -> Option<String> {
    let limit = (wanted.chars().count() / 3).max(1) + usize::from(wanted.len() > 6);
    let mut best: Vec<(usize, &str)> = candidates
        .map(|c| (levenshtein(wanted, c), c))
        .filter(|(d, c)| *d <= limit || c.eq_ignore_ascii_case(wanted))
        .collect();
    best.sort();
    best.dedup_by(|a, b| a.1 == b.1);
    match best.as_slice() {
        [] => None,
        [(_, one)] => Some(format!("did you mean '{one}'?")),
        [(_, a), (_, b), ..] => Some(format!("did you mean '{a}' or '{b}'?")),
    }
}

/// Where an expression starts, found without computing its whole span: sqlparser's spans
/// recurse through the tree, and a chain of thousands of operators would exhaust the stack.
pub(crate) fn expr_start(e: &sqlparser::ast::Expr) -> Option<Position> {
    use sqlparser::ast::{Expr, Spanned};
    let mut cur = e;
    loop {
        cur = match cur {
            Expr::BinaryOp { left, .. } => left,
            Expr::Nested(inner) => inner,
            Expr::IsNull(x) | Expr::IsNotNull(x) => x,
            Expr::Between { expr, .. } | Expr::InList { expr, .. } | Expr::InSubquery { expr, .. } => expr,
            Expr::Like { expr, .. } | Expr::ILike { expr, .. } => expr,
            Expr::Function(f) => return span_pos(f.name.span()),
            other => return span_pos(other.span()),
        };
    }
}

/// Where a query body starts (its first SELECT), without computing its whole span.
pub(crate) fn set_start(s: &sqlparser::ast::SetExpr) -> Option<Position> {
    use sqlparser::ast::SetExpr;
    let mut cur = s;
    loop {
        cur = match cur {
            SetExpr::SetOperation { left, .. } => left,
            SetExpr::Query(q) => &q.body,
            SetExpr::Select(sel) => return span_pos(sel.select_token.0.span),
            _ => return None,
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggests_close_names() {
        let cands = ["ra", "dec", "source_id", "phot_g_mean_mag"];
        assert_eq!(
            suggest("rra", cands.iter().copied()).as_deref(),
            Some("did you mean 'ra'?")
        );
        assert_eq!(
            suggest("source_idd", cands.iter().copied()).as_deref(),
            Some("did you mean 'source_id'?")
        );
        assert_eq!(suggest("xyzzy", cands.iter().copied()), None);
    }

    #[test]
    fn display_has_position_and_hint() {
        let e = AdqlError::unknown("column 'rra' not found")
            .at(Some(Position { line: 2, column: 8 }))
            .with_hint("did you mean 'ra'?");
        assert_eq!(
            e.to_string(),
            "unknown name: column 'rra' not found (line 2, column 8); did you mean 'ra'?"
        );
    }
}
