//! The ADQL 2.1 grammar rules that sqlparser does not know: which expressions are conditions
//! and which are values, and what ADQL's own functions take.
//!
//! sqlparser reads PostgreSQL, where `WHERE CONTAINS(a, b)` and `CIRCLE('ICRS', 1, 2)` are
//! well-formed calls; in the ADQL grammar they are not (a `<search_condition>` is built from
//! predicates, and `<circle>` has a centre and a radius). Rejecting them here, rather than
//! when the query is checked against the catalogue, makes `tapir adql parse` answer for the
//! grammar and makes the first error a user sees the right one.
//!
//! Everything here is decided from the text alone, without a catalogue: each expression gets
//! a [`Shape`], what the grammar says it is (a condition, a literal, a column, the result of a
//! numeric, string or geometry function, ...). A shape rules out only what the grammar rules
//! out; a column or a CAST can be anything, so whether it fits is left to the type check.
//! Where the checker refuses the same thing later, the error here has the kind the checker
//! gives it (and, for `||` operands and conditions used as values, its words), so the error
//! does not depend on which step found it.
//!
//! The names of ADQL's functions are reserved words of the language (`<ADQL_reserved_word>`
//! and `<SQL_reserved_word>` in the 2.1 BNF), so a call to one of them is checked against the
//! standard's signature even if a service declares a user-defined function of that name.

use sqlparser::ast::{BinaryOperator, Expr};

use crate::error::{expr_start, AdqlError, Position};
use crate::types::AdqlType;

/// What an expression is, as far as the grammar tells without a catalogue.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Shape {
    /// A predicate or a combination of predicates (`a = b`, `x IS NULL`, `p AND q`, `EXISTS`).
    Condition,
    /// A numeric literal, with or without a sign (`12`, `-1.5e3`).
    NumberLiteral,
    /// A string literal.
    StringLiteral,
    /// The NULL literal: fits anywhere a value does.
    Null,
    /// A column reference: its type is the catalogue's business.
    Column,
    /// A value whose type the grammar does not fix: CAST, COALESCE, CASE, aggregates, scalar
    /// subqueries, user-defined functions.
    Open,
    /// Arithmetic, or a numeric function (maths, AREA, DISTANCE, CONTAINS, ...).
    Number,
    /// `||`, or a string function (LOWER, UPPER, COORDSYS).
    Text,
    /// A geometry function (POINT, CIRCLE, BOX, POLYGON, REGION, CENTROID), by its ADQL type.
    Geometry(AdqlType),
}

impl Shape {
    /// "a number", "a CIRCLE", ... for messages.
    fn describe(self) -> String {
        match self {
            Shape::Condition => "a condition".into(),
            Shape::NumberLiteral | Shape::Number => "a number".into(),
            Shape::StringLiteral | Shape::Text => "a string".into(),
            Shape::Null => "NULL".into(),
            Shape::Column | Shape::Open => "a value".into(),
            Shape::Geometry(t) => format!("a {}", t.describe()),
        }
    }
}

/// A function argument: its shape and the expression, for the position of an error.
pub(crate) struct Arg<'a> {
    pub shape: Shape,
    pub expr: &'a Expr,
}

impl Arg<'_> {
    fn at(&self) -> Option<Position> {
        expr_start(self.expr)
    }
}

/// What a clause or operator needs where it found a value.
#[derive(Debug, Clone, Copy)]
pub(crate) enum NeedsCondition {
    /// WHERE, HAVING, ON, CASE WHEN.
    Clause(&'static str),
    /// An operand of AND, OR or NOT.
    Logic,
}

/// A value where a condition is needed: `WHERE ra`, `WHERE CONTAINS(p, c)`, `HAVING y`.
pub(crate) fn require_condition(shape: Shape, needs: NeedsCondition, e: &Expr) -> Result<(), AdqlError> {
    if shape == Shape::Condition {
        return Ok(());
    }
    let what = match strip_parens(e) {
        Expr::Function(f) => format!("{}(...)", f.name.to_string().to_ascii_uppercase()),
        Expr::Identifier(id) => format!("'{}'", id.value),
        _ => "this".to_string(),
    };
    let message = match needs {
        NeedsCondition::Clause(clause) => format!("{clause} needs a condition, but {what} is a value"),
        NeedsCondition::Logic => format!("AND, OR and NOT need conditions, but {what} is a value"),
    };
    Err(AdqlError::typing(message)
        .at(expr_start(e))
        .with_hint("compare it, e.g. 1 = CONTAINS(...)"))
}

fn strip_parens(e: &Expr) -> &Expr {
    let mut cur = e;
    while let Expr::Nested(inner) = cur {
        cur = inner;
    }
    cur
}

/// A condition where a value is needed: a select item, an operand, a function argument.
pub(crate) fn require_value(shape: Shape, e: &Expr) -> Result<(), AdqlError> {
    if shape != Shape::Condition {
        return Ok(());
    }
    Err(AdqlError::typing("a condition cannot be used as a value here")
        .at(expr_start(e))
        .with_hint(
            "ADQL predicates such as CONTAINS return 1 or 0; comparisons are only allowed in WHERE, ON, HAVING and CASE",
        ))
}

/// The shape of `left op right` (an operator the allow-list accepted), once both operands
/// fit it: comparisons take values, AND and OR conditions, arithmetic numbers, and `||`
/// anything with a text form (numbers too: docs/adql.md, "Concatenation").
pub(crate) fn binary(
    op: &BinaryOperator,
    left: Shape,
    l: &Expr,
    right: Shape,
    r: &Expr,
) -> Result<Shape, AdqlError> {
    use BinaryOperator::*;
    match op {
        And | Or => {
            require_condition(left, NeedsCondition::Logic, l)?;
            require_condition(right, NeedsCondition::Logic, r)?;
            Ok(Shape::Condition)
        }
        Eq | NotEq | Lt | LtEq | Gt | GtEq => {
            require_value(left, l)?;
            require_value(right, r)?;
            Ok(Shape::Condition)
        }
        StringConcat => {
            concat_operand(left, l, "left")?;
            concat_operand(right, r, "right")?;
            Ok(Shape::Text)
        }
        _ => {
            let name = op.to_string();
            numeric_operand(&name, left, l)?;
            numeric_operand(&name, right, r)?;
            Ok(Shape::Number)
        }
    }
}

/// An operand of arithmetic (`+`, `-`, `*`, `/`, unary signs).
pub(crate) fn numeric_operand(op: &str, shape: Shape, e: &Expr) -> Result<(), AdqlError> {
    require_value(shape, e)?;
    if fits(Slot::Number, shape) {
        Ok(())
    } else {
        Err(AdqlError::typing(format!("{op} needs numbers, but got {}", shape.describe())).at(expr_start(e)))
    }
}

/// The one argument of CEILING or FLOOR, which sqlparser reads as their own expressions.
pub(crate) fn number_argument(name: &str, shape: Shape, e: &Expr) -> Result<(), AdqlError> {
    if fits(Slot::Number, shape) {
        Ok(())
    } else {
        Err(
            AdqlError::typing(format!("{name} needs a number, but got {}", shape.describe()))
                .at(expr_start(e)),
        )
    }
}

/// An operand of LIKE or ILIKE (the match value and the pattern are character values).
pub(crate) fn like_operand(op: &str, shape: Shape, like: &Expr) -> Result<(), AdqlError> {
    if fits(Slot::Text, shape) {
        Ok(())
    } else {
        Err(
            AdqlError::typing(format!("{op} needs strings, but got {}", shape.describe()))
                .at(expr_start(like)),
        )
    }
}

/// An operand of `||`. Conditions and geometries are refused with the checker's words
/// (`check/typing.rs`, `concat_operand`), which name the side.
fn concat_operand(shape: Shape, e: &Expr, side: &str) -> Result<(), AdqlError> {
    match shape {
        Shape::Condition => Err(AdqlError::typing(format!(
            "the {side} operand of || is a condition, not a value"
        ))
        .at(expr_start(e))
        .with_hint(
            "comparisons are only allowed in WHERE, ON, HAVING and CASE; use CASE WHEN ... THEN '...' ELSE '...' END for text",
        )),
        Shape::Geometry(t) => Err(AdqlError::typing(format!(
            "the {side} operand of || is a {}, which has no text form",
            t.describe()
        ))
        .at(expr_start(e))
        .with_hint("select the geometry as a column of its own; for a point, join COORD1(...) and COORD2(...)")),
        _ => Ok(()),
    }
}

/// What an argument of an ADQL function must be, in the grammar's terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    /// `<value_expression>`.
    Any,
    /// `<numeric_value_expression>`.
    Number,
    /// `<character_value_expression>`.
    Text,
    /// `<geometry_value_expression>`.
    Geometry,
    /// `<coord_value>`: a point (POINT, CENTROID, a function) or a column.
    Point,
}

/// Whether a value of this shape can stand where the grammar asks for `slot`. Literals,
/// columns and the open forms fit every slot except a point's (the type check decides);
/// a function's result fits only the slots of its kind.
fn fits(slot: Slot, shape: Shape) -> bool {
    use Shape::*;
    match slot {
        Slot::Any => shape != Condition,
        Slot::Number => !matches!(shape, Condition | Text | Geometry(_)),
        Slot::Text => !matches!(shape, Condition | Number | Geometry(_)),
        Slot::Geometry => !matches!(shape, Condition | Number | Text),
        Slot::Point => !matches!(
            shape,
            Condition
                | Number
                | NumberLiteral
                | Text
                | StringLiteral
                | Geometry(AdqlType::Circle | AdqlType::Polygon)
        ),
    }
}

fn slot_words(slot: Slot) -> &'static str {
    match slot {
        Slot::Any => "a value",
        Slot::Number => "a number",
        Slot::Text => "a string",
        Slot::Geometry => "a geometry (POINT, CIRCLE, POLYGON, REGION)",
        Slot::Point => "a POINT",
    }
}

/// How an ADQL function is called.
enum Form {
    /// Exactly these arguments.
    Fixed(&'static [Slot]),
    /// These arguments, the last ones optional: at least `.1` of them.
    Optional(&'static [Slot], usize),
    /// One or more values (COALESCE).
    Values,
    /// An optional coordinate system (a string literal, or NULL), then one of these lists,
    /// `.1` in words (POINT, CIRCLE, BOX).
    Shape(&'static [&'static [Slot]], &'static str),
    /// An optional coordinate system, then three or more points or pairs of coordinates.
    Polygon,
    /// Two points or four coordinates.
    Distance,
    /// One string literal (REGION).
    Region,
    /// A number and a unit given as a string literal (IN_UNIT).
    InUnit,
    /// A set function: one argument of this kind, or `*` for COUNT.
    Aggregate(Slot),
}

/// An ADQL function: how it is called, what it yields, and an example for the hint.
struct Signature {
    form: Form,
    yields: Shape,
    example: Option<&'static str>,
}

const ONE_NUMBER: &[Slot] = &[Slot::Number];
const TWO_NUMBERS: &[Slot] = &[Slot::Number, Slot::Number];
const ONE_GEOMETRY: &[Slot] = &[Slot::Geometry];
const TWO_GEOMETRIES: &[Slot] = &[Slot::Geometry, Slot::Geometry];

/// The signature of an ADQL function (as in the 2.1 BNF), by its upper-case name;
/// `None` for other names (user-defined functions, or unknown names, which the checker
/// reports with a suggestion).
fn signature(upper: &str) -> Option<Signature> {
    use Slot::*;
    let sig = |form, yields, example| {
        Some(Signature {
            form,
            yields,
            example,
        })
    };
    match upper {
        "ABS" | "ACOS" | "ASIN" | "ATAN" | "CEILING" | "COS" | "COT" | "DEGREES" | "EXP" | "FLOOR" | "LOG"
        | "LOG10" | "RADIANS" | "SIN" | "SQRT" | "TAN" => sig(Form::Fixed(ONE_NUMBER), Shape::Number, None),
        "ATAN2" | "MOD" | "POWER" => sig(Form::Fixed(TWO_NUMBERS), Shape::Number, None),
        "PI" => sig(Form::Fixed(&[]), Shape::Number, None),
        "RAND" => sig(Form::Optional(ONE_NUMBER, 0), Shape::Number, None),
        "ROUND" | "TRUNCATE" => sig(Form::Optional(TWO_NUMBERS, 1), Shape::Number, None),
        "LOWER" | "UPPER" => sig(Form::Fixed(&[Text]), Shape::Text, None),
        "COALESCE" => sig(Form::Values, Shape::Open, None),
        "POINT" => sig(
            Form::Shape(&[&[Number, Number]], "two coordinates"),
            Shape::Geometry(AdqlType::Point),
            Some("POINT(ra, dec) or POINT('ICRS', ra, dec)"),
        ),
        "CIRCLE" => sig(
            Form::Shape(&[&[Point, Number], &[Number, Number, Number]], "a centre and a radius"),
            Shape::Geometry(AdqlType::Circle),
            Some("CIRCLE(ra, dec, radius) or CIRCLE(POINT(ra, dec), radius), optionally after a coordinate system such as 'ICRS'"),
        ),
        "BOX" => sig(
            Form::Shape(
                &[&[Point, Number, Number], &[Number, Number, Number, Number]],
                "a centre, a width and a height",
            ),
            Shape::Geometry(AdqlType::Polygon),
            Some("BOX(ra, dec, width, height) or BOX(POINT(ra, dec), width, height), optionally after a coordinate system such as 'ICRS'"),
        ),
        "POLYGON" => sig(
            Form::Polygon,
            Shape::Geometry(AdqlType::Polygon),
            Some("POLYGON(ra1, dec1, ra2, dec2, ra3, dec3) or POLYGON(p1, p2, p3) with POINTs, optionally after a coordinate system such as 'ICRS'"),
        ),
        "REGION" => sig(Form::Region, Shape::Geometry(AdqlType::Region), None),
        "CENTROID" => sig(Form::Fixed(ONE_GEOMETRY), Shape::Geometry(AdqlType::Point), None),
        "AREA" => sig(Form::Fixed(ONE_GEOMETRY), Shape::Number, None),
        "COORDSYS" => sig(Form::Fixed(ONE_GEOMETRY), Shape::Text, None),
        "COORD1" | "COORD2" => sig(Form::Fixed(&[Point]), Shape::Number, None),
        "CONTAINS" | "INTERSECTS" => sig(
            Form::Fixed(TWO_GEOMETRIES),
            Shape::Number,
            Some("1 = CONTAINS(POINT(ra, dec), CIRCLE(10, 20, 0.5))"),
        ),
        "DISTANCE" => sig(
            Form::Distance,
            Shape::Number,
            Some("DISTANCE(POINT(ra1, dec1), POINT(ra2, dec2)) or DISTANCE(ra1, dec1, ra2, dec2)"),
        ),
        "IN_UNIT" => sig(Form::InUnit, Shape::Number, Some("IN_UNIT(ra, 'rad')")),
        "COUNT" | "MIN" | "MAX" => sig(Form::Aggregate(Any), Shape::Open, None),
        "AVG" | "SUM" => sig(Form::Aggregate(Number), Shape::Open, None),
        _ => None,
    }
}

/// A call as written: its name, its arguments, and the `DISTINCT`/`ALL` and `*` in them.
pub(crate) struct Call<'c, 'a> {
    /// The name as written, for messages.
    pub name: &'c str,
    /// The arguments other than `*`.
    pub args: &'c [Arg<'a>],
    /// `DISTINCT` or `ALL` before the arguments.
    pub quantifier: bool,
    /// A `*` among the arguments.
    pub star: bool,
    /// Where the name is.
    pub at: Option<Position>,
}

/// Check a call against the ADQL grammar and give the shape of its result.
pub(crate) fn call(c: &Call<'_, '_>) -> Result<Shape, AdqlError> {
    let upper = c.name.to_ascii_uppercase();
    let sig = signature(&upper);
    let aggregate = matches!(&sig, Some(s) if matches!(s.form, Form::Aggregate(_)));
    // `*` and DISTINCT, for any function (user-defined ones too), in the checker's words.
    if c.star && (upper != "COUNT" || !c.args.is_empty() || c.quantifier) {
        return Err(if aggregate {
            AdqlError::syntax(format!("{upper}(*) is not valid; only COUNT(*) is")).at(c.at)
        } else {
            AdqlError::syntax(format!("* is not an argument of {}", c.name)).at(c.at)
        });
    }
    if c.quantifier && !aggregate {
        return Err(AdqlError::syntax(format!(
            "DISTINCT/ALL is only allowed in aggregate functions, not {}",
            c.name
        ))
        .at(c.at));
    }
    let Some(sig) = sig else {
        return Ok(Shape::Open);
    };
    let check = Checking {
        name: &upper,
        example: sig.example,
        at: c.at,
    };
    let args = c.args;
    match sig.form {
        Form::Fixed(slots) => check.slots(args, slots, &count_words(slots.len()))?,
        Form::Optional(slots, min) => {
            let wanted = match (min, slots.len()) {
                (0, 1) => "at most one argument".to_string(),
                (1, 2) => "one or two arguments".to_string(),
                (min, max) => format!("{min} to {max} arguments"),
            };
            if args.len() < min || args.len() > slots.len() {
                return Err(check.arity(&wanted, args.len()));
            }
            check.fit(args, slots)?;
        }
        Form::Values => {
            if args.is_empty() {
                return Err(check.arity("at least one argument", 0));
            }
        }
        Form::Shape(forms, wanted) => check.shape(args, forms, wanted)?,
        Form::Polygon => check.polygon(args)?,
        Form::Distance => match args.len() {
            2 => check.fit(args, &[Slot::Point, Slot::Point])?,
            4 => check.fit(args, &[Slot::Number; 4])?,
            n => return Err(check.arity("two POINTs or four numbers", n)),
        },
        Form::Region => match args {
            [arg] if arg.shape == Shape::StringLiteral => {}
            _ => {
                return Err(AdqlError::syntax(
                    "REGION takes one string literal, e.g. REGION('Circle ICRS 10 20 1')",
                )
                .at(args.first().map_or(c.at, Arg::at)))
            }
        },
        Form::InUnit => {
            check.slots(args, &[Slot::Number, Slot::Any], "2 arguments")?;
            if let Some(unit) = args.get(1).filter(|a| a.shape != Shape::StringLiteral) {
                return Err(
                    AdqlError::syntax("IN_UNIT takes the target unit as a string literal")
                        .at(unit.at())
                        .with_hint("write IN_UNIT(ra, 'rad')"),
                );
            }
        }
        // COUNT(*) passed above; the other forms take exactly one argument.
        Form::Aggregate(_) if c.star => {}
        Form::Aggregate(slot) => check.slots(args, &[slot], "one argument")?,
    }
    Ok(sig.yields)
}

/// "no arguments", "one argument", "2 arguments", as the checker counts (`functions.rs`).
fn count_words(n: usize) -> String {
    match n {
        0 => "no arguments".into(),
        1 => "one argument".into(),
        n => format!("{n} arguments"),
    }
}

/// One call being checked: what the errors about it say.
struct Checking<'s> {
    name: &'s str,
    example: Option<&'static str>,
    at: Option<Position>,
}

impl Checking<'_> {
    fn hinted(&self, e: AdqlError) -> AdqlError {
        match self.example {
            Some(x) => e.with_hint(format!("write {x}")),
            None => e,
        }
    }

    /// "ABS takes one argument, but was given 2 arguments", at the name.
    fn arity(&self, wanted: &str, got: usize) -> AdqlError {
        self.hinted(
            AdqlError::syntax(format!(
                "{} takes {wanted}, but was given {got} argument{}",
                self.name,
                if got == 1 { "" } else { "s" }
            ))
            .at(self.at),
        )
    }

    /// The coordinate system is not a string literal, at it.
    fn coordsys_not_literal(&self, arg: &Arg<'_>) -> AdqlError {
        self.hinted(
            AdqlError::syntax(format!(
                "the coordinate system of {} must be a string literal such as 'ICRS'",
                self.name
            ))
            .at(arg.at()),
        )
    }

    /// Exactly `slots.len()` arguments (`wanted` says so in words), each fitting its slot.
    fn slots(&self, args: &[Arg<'_>], slots: &[Slot], wanted: &str) -> Result<(), AdqlError> {
        if args.len() != slots.len() {
            return Err(self.arity(wanted, args.len()));
        }
        self.fit(args, slots)
    }

    /// Each argument fits its slot (as many slots as arguments, or more).
    fn fit(&self, args: &[Arg<'_>], slots: &[Slot]) -> Result<(), AdqlError> {
        for (arg, slot) in args.iter().zip(slots) {
            if !fits(*slot, arg.shape) {
                return Err(self.hinted(
                    AdqlError::typing(format!(
                        "{} needs {}, but got {}",
                        self.name,
                        slot_words(*slot),
                        arg.shape.describe()
                    ))
                    .at(arg.at()),
                ));
            }
        }
        Ok(())
    }

    /// POINT, CIRCLE, BOX: the coordinate system (deprecated in ADQL 2.1) when it is
    /// there, then one of the plain forms. The first argument is taken as a coordinate
    /// system as the checker takes it (`functions.rs`, `drop_coordsys`): when it is a string
    /// literal or NULL, or when only with it does the count fit.
    fn shape(&self, args: &[Arg<'_>], forms: &[&[Slot]], wanted: &str) -> Result<(), AdqlError> {
        let plain = |n: usize| forms.iter().find(|f| f.len() == n);
        let rest = match args.split_first() {
            Some((first, rest)) if matches!(first.shape, Shape::StringLiteral | Shape::Null) => {
                if plain(rest.len()).is_none() {
                    return Err(self.hinted(
                        AdqlError::syntax(format!(
                            "{} has the wrong number of arguments after its coordinate system",
                            self.name
                        ))
                        .at(self.at),
                    ));
                }
                rest
            }
            Some((first, rest))
                if first.shape == Shape::Text
                    || (plain(args.len()).is_none() && plain(rest.len()).is_some()) =>
            {
                return Err(self.coordsys_not_literal(first));
            }
            _ => args,
        };
        match plain(rest.len()) {
            Some(slots) => self.fit(rest, slots),
            None => Err(self.arity(wanted, rest.len())),
        }
    }

    /// POLYGON: an optional coordinate system, then three or more points, or three or more
    /// pairs of coordinates, not mixed.
    fn polygon(&self, args: &[Arg<'_>]) -> Result<(), AdqlError> {
        let rest = match args.split_first() {
            Some((first, rest)) if matches!(first.shape, Shape::StringLiteral | Shape::Null) => rest,
            Some((first, _)) if first.shape == Shape::Text => return Err(self.coordsys_not_literal(first)),
            _ => args,
        };
        let numbers = rest
            .iter()
            .any(|a| matches!(a.shape, Shape::Number | Shape::NumberLiteral));
        if numbers {
            if rest.len() < 6 || rest.len() % 2 != 0 {
                return Err(self.hinted(
                    AdqlError::syntax(format!(
                        "POLYGON takes at least three vertices, as POINTs or as pairs of numbers (not mixed); got {} arguments",
                        rest.len()
                    ))
                    .at(self.at),
                ));
            }
        } else if rest.len() < 3 {
            return Err(self.arity("at least three vertices", rest.len()));
        }
        for arg in rest {
            // With a number among them the vertices are pairs of coordinates; without, they
            // may be POINTs or columns of coordinates.
            let ok = fits(Slot::Number, arg.shape) || (!numbers && fits(Slot::Point, arg.shape));
            if !ok {
                return Err(self.hinted(
                    AdqlError::typing(format!(
                        "POLYGON needs numbers or POINTs (not mixed), but got {}",
                        arg.shape.describe()
                    ))
                    .at(arg.at()),
                ));
            }
        }
        Ok(())
    }
}
