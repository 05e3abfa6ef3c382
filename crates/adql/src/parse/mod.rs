//! Parsing: sqlparser with the ADQL dialect, then one walk over the tree that checks it
//! against the ADQL 2.1 grammar.
//!
//! sqlparser accepts far more than ADQL (LIMIT, `::`, windows, VALUES, INTO, ...), and
//! less strictly (any function with any arguments, a value where a condition belongs).
//! Rather than list what to forbid, the allow-list ([`allow`]) names every construct ADQL
//! has and rejects the rest, with a message that says what the user probably wanted, and
//! the grammar rules ([`grammar`]) check what ADQL says about conditions, values and its
//! own functions. What passes is ADQL syntax; names and types are the checker's business.

mod allow;
mod grammar;

use sqlparser::ast::{Expr, Query, SetExpr, Spanned, Top, TopQuantity};
use sqlparser::keywords::Keyword;
use sqlparser::parser::{Parser, ParserError};
use sqlparser::tokenizer::{Token, TokenWithSpan, Tokenizer, Whitespace};

use crate::dialect::AdqlDialect;
use crate::error::{span_pos, AdqlError, Position};

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
                Some(Top {
                    with_ties: _,
                    percent: _,
                    quantity: Some(TopQuantity::Constant(n)),
                }) => Some(*n),
                _ => None,
            },
            _ => None,
        }
    }
}

/// Parse one ADQL query and check it against the ADQL 2.1 grammar: only ADQL constructs
/// (AQ-01..AQ-17), conditions where conditions belong, ADQL functions with their arguments.
pub fn parse(adql: &str) -> Result<Parsed, AdqlError> {
    if adql.trim().is_empty() {
        return Err(AdqlError::syntax("the query is empty").at(Some(Position { line: 1, column: 1 })));
    }
    let dialect = AdqlDialect::default();
    let tokens = Tokenizer::new(&dialect, adql)
        .tokenize_with_location()
        .map_err(|e| parser_error(ParserError::TokenizerError(e.to_string()), adql))?;
    check_size(&tokens)?;
    check_comments(&tokens)?;
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
    allow::Allow::default()
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

/// ADQL's only comments are `--` lines (the 2.1 BNF has no `/* */`): a block comment is refused
/// rather than silently accepted, so a query that works here works on every TAP service.
fn check_comments(tokens: &[TokenWithSpan]) -> Result<(), AdqlError> {
    for t in tokens {
        if let Token::Whitespace(Whitespace::MultiLineComment(_)) = &t.token {
            return Err(AdqlError::syntax(
                "ADQL has no /* */ comments; write each comment after -- on its own line",
            )
            .at(span_pos(t.span)));
        }
    }
    Ok(())
}

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

    /// The error's position, as (line, column).
    fn at(q: &str) -> (u64, u64) {
        let e = parse(q).expect_err(q);
        let p = e.position.unwrap_or_else(|| panic!("{q}: no position in {e}"));
        (p.line, p.column)
    }

    #[test]
    fn accepts_what_the_grammar_allows() {
        for q in [
            "SELECT a FROM t WHERE 1 = CONTAINS(POINT('ICRS', ra, dec), CIRCLE(POINT(10, 20), 0.5))",
            "SELECT a FROM t WHERE INTERSECTS(BOX('ICRS', 1, 2, 3, 4), POLYGON(p1, p2, p3)) = 0",
            "SELECT a FROM t WHERE (a = 1) OR NOT (b = 2 AND c IS NULL)",
            "SELECT POINT(NULL, ra, dec), CIRCLE(NULL, ra, dec, 1), BOX(POINT(1, 2), 3, 4) FROM t",
            "SELECT POLYGON('ICRS', 1, 2, 3, 4, 5, 6), POLYGON(ra, dec, ra2, dec2, ra3, dec3), POLYGON(p, q, r, s) FROM t",
            "SELECT DISTANCE(p, POINT(1, 2)), DISTANCE(1, 2, 3, 4), COORD1(p), COORD2(CENTROID(c)), COORDSYS(p) FROM t",
            "SELECT AREA(REGION('Circle ICRS 1 2 3')), IN_UNIT(ra, 'rad') FROM t",
            "SELECT ROUND(x), ROUND(x, 2), TRUNCATE(x, -1), RAND(), RAND(1), PI(), MOD(a, 2), ATAN2(y, x) FROM t",
            "SELECT COUNT(*), COUNT(DISTINCT a), AVG(ALL b), MIN(name), COALESCE(a, b, 0) FROM t",
            "SELECT CASE a WHEN 1 THEN 'one' END, CASE WHEN a = 1 THEN 'one' ELSE 'other' END FROM t",
            "SELECT 1 || 2, LOWER(name) || 'x', -ra, CEILING(x), FLOOR(-x) FROM t",
            // Functions ADQL does not define are user-defined: the checker knows their signatures.
            "SELECT ivo_healpix_index(10, ra, dec), any_function(), f(1, 2, 3) FROM t WHERE 1 = ivo_hasword(a, 'b')",
            "SELECT a FROM t WHERE x LIKE 'a%' AND y BETWEEN 1 AND 2 AND z IN (1, 2) AND EXISTS (SELECT 1 FROM u)",
        ] {
            if let Err(e) = parse(q) {
                panic!("rejected {q}: {e}");
            }
        }
    }

    #[test]
    fn a_value_is_no_condition() {
        use ErrorKind::Type;
        let q = "SELECT * FROM t WHERE CONTAINS(POINT('ICRS', ra, dec), CIRCLE('ICRS', 1, 2, 3))";
        rejects(q, Type, "WHERE needs a condition, but CONTAINS(...) is a value");
        assert_eq!(at(q), (1, 23));
        rejects(
            "SELECT x FROM y WHERE Point('fk5', 2, 3)",
            Type,
            "POINT(...) is a value",
        );
        rejects(
            "SELECT x FROM t1 HAVING y",
            Type,
            "HAVING needs a condition, but 'y' is a value",
        );
        rejects("SELECT * FROM a JOIN b ON foo", Type, "ON needs a condition");
        rejects(
            "SELECT a FROM t WHERE a = 1 AND b",
            Type,
            "AND, OR and NOT need conditions",
        );
        assert_eq!(at("SELECT a FROM t WHERE a = 1 AND b"), (1, 33));
        rejects(
            "SELECT a FROM t WHERE NOT (ra + 1)",
            Type,
            "AND, OR and NOT need conditions",
        );
        rejects(
            "SELECT CASE WHEN a THEN 1 END FROM t",
            Type,
            "CASE WHEN needs a condition",
        );
    }

    #[test]
    fn a_condition_is_no_value() {
        use ErrorKind::Type;
        rejects(
            "SELECT a = 1 FROM t",
            Type,
            "a condition cannot be used as a value here",
        );
        rejects(
            "SELECT ABS(a > 1) FROM t",
            Type,
            "a condition cannot be used as a value",
        );
        rejects(
            "SELECT a FROM t WHERE (a = 1) = 1",
            Type,
            "a condition cannot be used as a value",
        );
        rejects(
            "SELECT a FROM t ORDER BY a IS NULL",
            Type,
            "a condition cannot be used as a value",
        );
        rejects(
            "SELECT 'x' || (a = 1) FROM t",
            Type,
            "the right operand of || is a condition",
        );
        assert_eq!(at("SELECT 'x' || (a = 1) FROM t"), (1, 16));
    }

    #[test]
    fn adql_functions_take_their_arguments() {
        use ErrorKind::{Syntax, Type};
        rejects(
            "SELECT a FROM t WHERE ABS() < 3",
            Syntax,
            "ABS takes one argument, but was given 0 arguments",
        );
        assert_eq!(at("SELECT a FROM t WHERE ABS(y, z) < 3"), (1, 23));
        rejects("SELECT COALESCE() FROM t", Syntax, "at least one argument");
        rejects("SELECT PI(1) FROM t", Syntax, "PI takes no arguments");
        rejects("SELECT RAND(1, 2) FROM t", Syntax, "at most one argument");
        rejects("SELECT ROUND(1, 2, 3) FROM t", Syntax, "one or two arguments");
        rejects("SELECT POWER(2) FROM t", Syntax, "POWER takes 2 arguments");
        rejects("SELECT LOWER(a, b) FROM t", Syntax, "LOWER takes one argument");
        rejects("SELECT SUM(a, b) FROM t", Syntax, "SUM takes one argument");
        rejects("SELECT AVG(*) FROM t", Syntax, "only COUNT(*) is");
        rejects("SELECT ABS(*) FROM t", Syntax, "* is not an argument of ABS");
        rejects(
            "SELECT ABS(DISTINCT a) FROM t",
            Syntax,
            "only allowed in aggregate functions",
        );
        rejects("SELECT POINT(1) FROM t", Syntax, "POINT takes two coordinates");
        rejects(
            "SELECT CIRCLE(1, 2, 3, 4, 5) FROM t",
            Syntax,
            "CIRCLE takes a centre and a radius",
        );
        rejects(
            "SELECT BOX(1, 2) FROM t",
            Syntax,
            "BOX takes a centre, a width and a height",
        );
        rejects(
            "SELECT DISTANCE(1, 2, 3) FROM t",
            Syntax,
            "two POINTs or four numbers",
        );
        rejects("SELECT CONTAINS(p) FROM t", Syntax, "CONTAINS takes 2 arguments");
        rejects("SELECT AREA(p, q) FROM t", Syntax, "AREA takes one argument");
        rejects("SELECT COORD1() FROM t", Syntax, "COORD1 takes one argument");
        rejects("SELECT IN_UNIT(ra) FROM t", Syntax, "IN_UNIT takes 2 arguments");
        rejects(
            "SELECT IN_UNIT(12.3, 123) FROM t",
            Syntax,
            "target unit as a string literal",
        );
        rejects(
            "SELECT REGION(circle_text) FROM t",
            Syntax,
            "REGION takes one string literal",
        );
        // The names are ADQL's in any case.
        rejects(
            "SELECT circle(1, 2) FROM t",
            Type,
            "CIRCLE needs a POINT, but got a number",
        );
        // What the grammar says an argument is, where the argument is.
        let q = "SELECT x FROM y WHERE CIRCLE('fk5', 2, 3) = x";
        rejects(q, Type, "CIRCLE needs a POINT, but got a number");
        assert_eq!(at(q), (1, 37));
        rejects(
            "SELECT a FROM t WHERE 1 = CONTAINS(PI(), c)",
            Type,
            "CONTAINS needs a geometry",
        );
        rejects(
            "SELECT COORD1(CIRCLE(1, 2, 3)) FROM t",
            Type,
            "COORD1 needs a POINT, but got a CIRCLE",
        );
        rejects(
            "SELECT ABS(POINT(1, 2)) FROM t",
            Type,
            "ABS needs a number, but got a POINT",
        );
        rejects(
            "SELECT LOWER(ABS(x)) FROM t",
            Type,
            "LOWER needs a string, but got a number",
        );
        rejects(
            "SELECT FLOOR(LOWER(x)) FROM t",
            Type,
            "FLOOR needs a number, but got a string",
        );
        rejects(
            "SELECT POINT(1, 2) + 1 FROM t",
            Type,
            "+ needs numbers, but got a POINT",
        );
        rejects(
            "SELECT a FROM t WHERE ABS(x) LIKE 'a%'",
            Type,
            "LIKE needs strings, but got a number",
        );
        rejects(
            "SELECT 'a' || CIRCLE(1, 2, 3) FROM t",
            Type,
            "the right operand of || is a CIRCLE",
        );
    }

    #[test]
    fn coordinate_systems_are_string_literals() {
        use ErrorKind::{Syntax, Type};
        let q = "SELECT POINT(aColumn, 12.3, 45.6) FROM t";
        rejects(
            q,
            Syntax,
            "the coordinate system of POINT must be a string literal",
        );
        assert_eq!(at(q), (1, 14));
        rejects(
            "SELECT POINT('From ' || 'here', 1, 2) FROM t",
            Syntax,
            "must be a string literal",
        );
        rejects(
            "SELECT POLYGON('a' || 'b', p, q, r) FROM t",
            Syntax,
            "must be a string literal",
        );
        rejects(
            "SELECT POINT('ICRS', 1) FROM t",
            Syntax,
            "wrong number of arguments after its coordinate system",
        );
        rejects(
            "SELECT POLYGON('fk5', 2, 3, 3, 0, 23, 0, 45) FROM t",
            Syntax,
            "got 7 arguments",
        );
        rejects(
            "SELECT POLYGON(ra, dec, 3, 4, 5) FROM t",
            Syntax,
            "got 5 arguments",
        );
        rejects(
            "SELECT POLYGON(p1, p2) FROM t",
            Syntax,
            "POLYGON takes at least three vertices",
        );
        rejects(
            "SELECT POLYGON(POINT(1, 2), 3, 4, 5, 6, 7) FROM t",
            Type,
            "not mixed",
        );
    }
}
