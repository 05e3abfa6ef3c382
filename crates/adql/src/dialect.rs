//! The sqlparser dialect for ADQL: PostgreSQL's grammar (ADQL is close to it and our
//! target is PostgreSQL), with ADQL's lexical rules for identifiers.
//!
//! The parser asks `dialect_of!(PostgreSqlDialect)` in many places, so we report
//! PostgreSQL's type id and delegate its precedence rules; what differs is that
//! regular identifiers are ASCII letters, digits and `_` only (AQ-01), and `"` is the
//! only delimiter.

use std::any::TypeId;

use sqlparser::dialect::{Dialect, PostgreSqlDialect, Precedence};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};

#[derive(Debug, Default)]
pub(crate) struct AdqlDialect {
    pg: PostgreSqlDialect,
}

impl Dialect for AdqlDialect {
    fn dialect(&self) -> TypeId {
        TypeId::of::<PostgreSqlDialect>()
    }

    fn is_identifier_start(&self, ch: char) -> bool {
        ch.is_ascii_alphabetic()
    }

    fn is_identifier_part(&self, ch: char) -> bool {
        ch.is_ascii_alphanumeric() || ch == '_'
    }

    fn is_delimited_identifier_start(&self, ch: char) -> bool {
        ch == '"'
    }

    fn identifier_quote_style(&self, _identifier: &str) -> Option<char> {
        Some('"')
    }

    fn get_next_precedence(&self, parser: &Parser) -> Option<Result<u8, ParserError>> {
        self.pg.get_next_precedence(parser)
    }

    fn prec_value(&self, prec: Precedence) -> u8 {
        self.pg.prec_value(prec)
    }

    fn is_reserved_for_identifier(&self, kw: Keyword) -> bool {
        self.pg.is_reserved_for_identifier(kw)
    }

    fn is_table_alias(&self, kw: &Keyword, parser: &mut Parser) -> bool {
        self.pg.is_table_alias(kw, parser)
    }
}
