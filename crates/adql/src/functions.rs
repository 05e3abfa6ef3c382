//! ADQL functions and their PostgreSQL + pgSphere forms.
//!
//! Arguments arrive translated and typed; each function checks them and writes
//! SQL whose result type is exactly the one we declare, because the server
//! decodes values by that type (so `avg` and `sum` are cast: PostgreSQL would
//! return `numeric`). Geometry is in degrees on the ADQL side and radians inside
//! pgSphere.

use crate::check::{compatible, unify, Ex};
use crate::error::AdqlError;
use crate::region::{parse_region, Shape};
use crate::types::{AdqlType, Family};
use crate::udf::Udf;

/// Every ADQL 2.1 function name, for "did you mean" hints.
pub(crate) const ADQL_FUNCTIONS: &[&str] = &[
    "ABS",
    "ACOS",
    "AREA",
    "ASIN",
    "ATAN",
    "ATAN2",
    "AVG",
    "BOX",
    "CEILING",
    "CENTROID",
    "CIRCLE",
    "COALESCE",
    "CONTAINS",
    "COORD1",
    "COORD2",
    "COORDSYS",
    "COS",
    "COT",
    "COUNT",
    "DEGREES",
    "DISTANCE",
    "EXP",
    "FLOOR",
    "INTERSECTS",
    "IN_UNIT",
    "LOG",
    "LOG10",
    "LOWER",
    "MAX",
    "MIN",
    "MOD",
    "PI",
    "POINT",
    "POLYGON",
    "POWER",
    "RADIANS",
    "RAND",
    "REGION",
    "ROUND",
    "SIN",
    "SQRT",
    "SUM",
    "TAN",
    "TRUNCATE",
    "UPPER",
];

/// Square degrees per steradian, (180/π)².
const SQ_DEG_PER_SR: f64 = 3_282.806_350_011_744;

/// The unit a value carries, if any.
pub(crate) fn unit_of(x: &Ex) -> Option<&str> {
    x.meta
        .as_ref()
        .and_then(|m| m.unit.as_deref())
        .filter(|u| !u.trim().is_empty())
}

/// Give a derived value a unit (and nothing else of its inputs' metadata).
pub(crate) fn set_unit(e: &mut Ex, unit: Option<String>) {
    e.meta = unit.map(|u| crate::check::Meta {
        unit: Some(u),
        ..Default::default()
    });
}

/// A unit as a factor of a product or a base of a power: compound units get parentheses.
pub(crate) fn unit_group(u: &str) -> String {
    if u.chars().all(|c| c.is_ascii_alphanumeric()) {
        u.to_string()
    } else {
        format!("({u})")
    }
}

/// The unit of `a op b` for the four arithmetic operators (used by IN_UNIT). A bare number
/// is a pure factor; anything whose unit cannot be told has none.
pub(crate) fn arithmetic_unit(op: char, a: &Ex, b: &Ex) -> Option<String> {
    let (ua, ub) = (unit_of(a), unit_of(b));
    match (op, ua, ub) {
        ('+' | '-', Some(x), Some(y)) if x == y => Some(x.to_string()),
        ('+' | '-' | '*' | '/', Some(x), None) if b.number.is_some() => Some(x.to_string()),
        ('+' | '-' | '*', None, Some(y)) if a.number.is_some() => Some(y.to_string()),
        ('/', None, Some(y)) if a.number.is_some() => Some(format!("{}**(-1)", unit_group(y))),
        ('*', Some(x), Some(y)) => Some(format!("{}.{}", unit_group(x), unit_group(y))),
        ('/', Some(x), Some(y)) => Some(format!("{}/{}", unit_group(x), unit_group(y))),
        _ => None,
    }
}

pub(crate) fn is_aggregate(upper: &str) -> bool {
    matches!(upper, "COUNT" | "AVG" | "MIN" | "MAX" | "SUM")
}

fn err_args(name: &str, wanted: &str, got: usize) -> AdqlError {
    AdqlError::syntax(format!(
        "{name} takes {wanted}, but was given {got} argument{}",
        if got == 1 { "" } else { "s" }
    ))
}

fn need(name: &str, what: &str, x: &Ex, ok: bool) -> Result<(), AdqlError> {
    if ok {
        Ok(())
    } else {
        Err(AdqlError::typing(format!(
            "{name} needs {what}, but got {}",
            x.ty.describe()
        )))
    }
}

fn need_numeric(name: &str, x: &Ex) -> Result<(), AdqlError> {
    need(name, "a number", x, x.ty.is_numeric())
}

/// `CAST(x AS double precision)` unless it is already a double.
fn dbl(x: &Ex) -> String {
    if x.ty == AdqlType::Double {
        x.sql.clone()
    } else {
        format!("CAST({} AS double precision)", x.sql)
    }
}

pub(crate) fn aggregate(upper: &str, mut args: Vec<Ex>, distinct: bool) -> Result<Ex, AdqlError> {
    if args.len() != 1 {
        return Err(err_args(upper, "one argument", args.len()));
    }
    let x = args.remove(0);
    let d = if distinct { "DISTINCT " } else { "" };
    if x.ty.family() == Family::Geometry && upper != "COUNT" {
        return Err(AdqlError::typing(format!("{upper} of a geometry is not defined")));
    }
    let (sql, ty) = match upper {
        "COUNT" => (format!("count({d}{})", x.sql), AdqlType::BigInt),
        "AVG" => {
            need_numeric("AVG", &x)?;
            (
                format!("CAST(avg({d}{}) AS double precision)", x.sql),
                AdqlType::Double,
            )
        }
        "SUM" => {
            need_numeric("SUM", &x)?;
            match x.ty {
                AdqlType::SmallInt | AdqlType::Integer | AdqlType::BigInt => {
                    (format!("CAST(sum({d}{}) AS bigint)", x.sql), AdqlType::BigInt)
                }
                AdqlType::Real => (format!("sum({d}{})", x.sql), AdqlType::Real),
                _ => (
                    format!("CAST(sum({d}{}) AS double precision)", x.sql),
                    AdqlType::Double,
                ),
            }
        }
        _ => {
            let f = if upper == "MIN" { "min" } else { "max" };
            (format!("{f}({d}{})", x.sql), x.ty)
        }
    };
    let mut ex = Ex::derived(sql, ty, &[&x]);
    ex.aggregate = true;
    if upper != "COUNT" {
        // MIN/MAX keep the unit of what they summarise; so do SUM and AVG.
        if let Some(m) = &x.meta {
            ex.meta = Some(crate::check::Meta {
                unit: m.unit.clone(),
                ucd: m.ucd.clone(),
                ..Default::default()
            });
        }
    }
    Ok(ex)
}

/// Maths, trigonometry, strings, COALESCE and geometry.
pub(crate) fn call(upper: &str, args: Vec<Ex>) -> Result<Ex, AdqlError> {
    match upper {
        "LOWER" | "UPPER" => {
            let [x] = exactly::<1>(upper, args)?;
            need(upper, "a string", &x, x.ty.is_string())?;
            let sql = format!("{}({})", upper.to_ascii_lowercase(), x.sql);
            Ok(Ex::derived(sql, AdqlType::VarChar(None), &[&x]))
        }
        "COALESCE" => coalesce(args),
        "POINT" | "CIRCLE" | "BOX" | "POLYGON" | "CENTROID" | "AREA" | "COORD1" | "COORD2" | "COORDSYS"
        | "DISTANCE" | "CONTAINS" | "INTERSECTS" => geometry(upper, args),
        _ => math(upper, args),
    }
}

fn exactly<const N: usize>(name: &str, args: Vec<Ex>) -> Result<[Ex; N], AdqlError> {
    let got = args.len();
    let wanted = match N {
        0 => "no arguments".to_string(),
        1 => "one argument".to_string(),
        n => format!("{n} arguments"),
    };
    args.try_into().map_err(|_| err_args(name, &wanted, got))
}

pub(crate) fn math(upper: &str, args: Vec<Ex>) -> Result<Ex, AdqlError> {
    let unary = |pg: &str, args: Vec<Ex>| -> Result<Ex, AdqlError> {
        let [x] = exactly::<1>(upper, args)?;
        need_numeric(upper, &x)?;
        Ok(Ex::derived(format!("{pg}({})", dbl(&x)), AdqlType::Double, &[&x]))
    };
    match upper {
        "ABS" => {
            let [x] = exactly::<1>(upper, args)?;
            need_numeric(upper, &x)?;
            let mut e = Ex::derived(format!("abs({})", x.sql), x.ty, &[&x]);
            e.meta = x.meta.clone().map(|m| crate::check::Meta {
                unit: m.unit,
                ..Default::default()
            });
            Ok(e)
        }
        "CEILING" | "CEIL" => unary("ceil", args),
        "FLOOR" => unary("floor", args),
        "DEGREES" => unary("degrees", args),
        "RADIANS" => unary("radians", args),
        "EXP" => unary("exp", args),
        "LOG" => unary("ln", args),
        "LOG10" => unary("log", args),
        "SQRT" => {
            let unit = args
                .first()
                .and_then(unit_of)
                .map(|u| format!("{}**(0.5)", unit_group(u)));
            let mut e = unary("sqrt", args)?;
            set_unit(&mut e, unit);
            Ok(e)
        }
        "ACOS" => unary("acos", args),
        "ASIN" => unary("asin", args),
        "ATAN" => unary("atan", args),
        "COS" => unary("cos", args),
        "COT" => unary("cot", args),
        "SIN" => unary("sin", args),
        "TAN" => unary("tan", args),
        "ATAN2" | "POWER" => {
            let [y, x] = exactly::<2>(upper, args)?;
            need_numeric(upper, &y)?;
            need_numeric(upper, &x)?;
            let f = upper.to_ascii_lowercase();
            let mut e = Ex::derived(
                format!("{f}({}, {})", dbl(&y), dbl(&x)),
                AdqlType::Double,
                &[&y, &x],
            );
            if upper == "POWER" {
                let unit = unit_of(&y)
                    .zip(x.number)
                    .map(|(u, n)| format!("{}**({n})", unit_group(u)));
                set_unit(&mut e, unit);
            }
            Ok(e)
        }
        "PI" => {
            let [] = exactly::<0>(upper, args)?;
            Ok(Ex::new("pi()".into(), AdqlType::Double))
        }
        "RAND" => {
            // The seed's meaning is undefined by ADQL (AQ-08); PostgreSQL's random() takes none.
            if args.len() > 1 {
                return Err(err_args(upper, "at most one argument", args.len()));
            }
            if let Some(seed) = args.first() {
                need_numeric(upper, seed)?;
            }
            let mut e = Ex::new("random()".into(), AdqlType::Double);
            e.columns = true;
            Ok(e)
        }
        "ROUND" | "TRUNCATE" => {
            let pg = if upper == "ROUND" { "round" } else { "trunc" };
            match args.len() {
                1 => unary(pg, args),
                2 => {
                    let [x, n] = exactly::<2>(upper, args)?;
                    need_numeric(upper, &x)?;
                    need(
                        upper,
                        "an integer number of places",
                        &n,
                        n.ty.is_exact_integer() || n.ty.family() == Family::Any,
                    )?;
                    Ok(Ex::derived(
                        format!(
                            "CAST({pg}(CAST({} AS numeric), {}) AS double precision)",
                            x.sql, n.sql
                        ),
                        AdqlType::Double,
                        &[&x, &n],
                    ))
                }
                n => Err(err_args(upper, "one or two arguments", n)),
            }
        }
        "MOD" => {
            let [x, y] = exactly::<2>(upper, args)?;
            need_numeric(upper, &x)?;
            need_numeric(upper, &y)?;
            if x.ty.is_exact_integer() && y.ty.is_exact_integer() {
                let ty = AdqlType::widen(x.ty, y.ty);
                Ok(Ex::derived(format!("mod({}, {})", x.sql, y.sql), ty, &[&x, &y]))
            } else {
                Ok(Ex::derived(
                    format!(
                        "CAST(mod(CAST({} AS numeric), CAST({} AS numeric)) AS double precision)",
                        x.sql, y.sql
                    ),
                    AdqlType::Double,
                    &[&x, &y],
                ))
            }
        }
        _ => Err(AdqlError::unknown(format!(
            "'{upper}' is neither an ADQL function nor a user-defined function of this service"
        ))),
    }
}

fn coalesce(args: Vec<Ex>) -> Result<Ex, AdqlError> {
    if args.is_empty() {
        return Err(err_args("COALESCE", "at least one argument", 0));
    }
    let mut ty = AdqlType::Null;
    for a in &args {
        if !compatible(ty, a.ty) {
            return Err(AdqlError::typing(format!(
                "COALESCE mixes {} and {}; all its arguments must have one type",
                ty.describe(),
                a.ty.describe()
            )));
        }
        ty = unify(ty, a.ty);
    }
    let parts: Vec<&str> = args.iter().map(|a| a.sql.as_str()).collect();
    let refs: Vec<&Ex> = args.iter().collect();
    let mut e = Ex::derived(format!("COALESCE({})", parts.join(", ")), ty, &refs);
    e.meta = args[0].meta.clone();
    Ok(e)
}

pub(crate) fn cast(x: Ex, target: AdqlType) -> Result<Ex, AdqlError> {
    use AdqlType::*;
    if target.family() == Family::Geometry {
        // DALI strings to geometry (AQ-14 MAY): supported for literals, converted now.
        if !is_string_literal(&x.sql) {
            return Err(AdqlError::unsupported(format!(
                "CAST to {} is supported for string literals only",
                target.describe()
            )));
        }
        let text = x.sql[1..x.sql.len() - 1].replace("''", "'");
        let g = region(&text)?;
        if g.ty != target {
            return Err(AdqlError::typing(format!(
                "'{text}' is a {}, not a {}",
                g.ty.describe(),
                target.describe()
            )));
        }
        return Ok(g);
    }
    let from = x.ty.family();
    let ok = match target.family() {
        Family::Numeric => matches!(from, Family::Numeric | Family::String | Family::Any),
        Family::String => matches!(
            from,
            Family::Numeric | Family::String | Family::Timestamp | Family::Any
        ),
        Family::Timestamp => matches!(from, Family::String | Family::Timestamp | Family::Any),
        _ => false,
    };
    if !ok {
        return Err(AdqlError::typing(format!(
            "cannot CAST {} to {}",
            x.ty.describe(),
            target.describe()
        )));
    }
    let pg = match target {
        SmallInt => "smallint".to_string(),
        Integer => "integer".to_string(),
        BigInt => "bigint".to_string(),
        Real => "real".to_string(),
        Double => "double precision".to_string(),
        Char(n) => format!("char({})", n.unwrap_or(1)),
        VarChar(Some(n)) => format!("varchar({n})"),
        VarChar(None) => "varchar".to_string(),
        Timestamp => "timestamp".to_string(),
        _ => return Err(AdqlError::unsupported(format!("CAST to {}", target.describe()))),
    };
    Ok(Ex::derived(format!("CAST({} AS {pg})", x.sql), target, &[&x]))
}

// ----- geometry -----

/// Drop the deprecated coordinate-system argument (AQ-10) when present: it is the
/// first argument, a string (or NULL), and the call has one argument more than
/// its plain form.
fn drop_coordsys(name: &str, mut args: Vec<Ex>, plain: &[usize]) -> Result<Vec<Ex>, AdqlError> {
    let first_is_string = args
        .first()
        .is_some_and(|a| matches!(a.ty.family(), Family::String) || a.ty == AdqlType::Null);
    if let Some(a) = args.first().filter(|_| first_is_string) {
        if a.ty != AdqlType::Null && !is_string_literal(&a.sql) {
            return Err(AdqlError::syntax(format!(
                "the coordinate system of {name} must be a string literal such as 'ICRS'"
            )));
        }
    }
    if first_is_string && plain.contains(&(args.len() - 1)) {
        args.remove(0);
    } else if first_is_string {
        return Err(AdqlError::syntax(format!(
            "{name} has the wrong number of arguments after its coordinate system"
        )));
    }
    Ok(args)
}

/// Whether translated SQL is one string literal (not, say, `'a' || 'b'`).
fn is_string_literal(sql: &str) -> bool {
    sql.len() >= 2
        && sql.starts_with('\'')
        && sql.ends_with('\'')
        && !sql[1..sql.len() - 1].replace("''", "").contains('\'')
}

fn point_sql(lon: &Ex, lat: &Ex) -> String {
    format!("spoint(radians({}), radians({}))", lon.sql, lat.sql)
}

fn need_point(name: &str, x: &Ex) -> Result<(), AdqlError> {
    need(
        name,
        "a POINT",
        x,
        matches!(x.ty, AdqlType::Point | AdqlType::Unknown | AdqlType::Null),
    )
}

fn need_geometry(name: &str, x: &Ex) -> Result<(), AdqlError> {
    need(
        name,
        "a geometry (POINT, CIRCLE, POLYGON, REGION)",
        x,
        x.ty.is_geometry(),
    )
}

/// A latitude that is a constant must lie in [-90, 90] (longitudes wrap, negative RA is fine).
fn check_lat(name: &str, lat: &Ex) -> Result<(), AdqlError> {
    match lat.number {
        Some(v) if !(-90.0..=90.0).contains(&v) => Err(AdqlError::typing(format!(
            "{name}: latitude {v} is outside [-90, 90]"
        ))),
        _ => Ok(()),
    }
}

fn geometry(upper: &str, args: Vec<Ex>) -> Result<Ex, AdqlError> {
    match upper {
        "POINT" => {
            let args = drop_coordsys(upper, args, &[2])?;
            let [lon, lat] = exactly::<2>(upper, args)?;
            need_numeric(upper, &lon)?;
            need_numeric(upper, &lat)?;
            check_lat(upper, &lat)?;
            Ok(Ex::derived(point_sql(&lon, &lat), AdqlType::Point, &[&lon, &lat]))
        }
        "CIRCLE" => {
            let args = drop_coordsys(upper, args, &[2, 3])?;
            let (center, radius, inputs) = match args.len() {
                2 => {
                    let [c, r] = exactly::<2>(upper, args)?;
                    need_point(upper, &c)?;
                    (c.sql.clone(), r.clone(), vec![c, r])
                }
                3 => {
                    let [lon, lat, r] = exactly::<3>(upper, args)?;
                    need_numeric(upper, &lon)?;
                    need_numeric(upper, &lat)?;
                    check_lat(upper, &lat)?;
                    (point_sql(&lon, &lat), r.clone(), vec![lon, lat, r])
                }
                n => return Err(err_args(upper, "a centre and a radius", n)),
            };
            need_numeric(upper, &radius)?;
            if radius.number.is_some_and(|r| r < 0.0) {
                return Err(AdqlError::typing("CIRCLE: the radius must not be negative"));
            }
            let refs: Vec<&Ex> = inputs.iter().collect();
            Ok(Ex::derived(
                format!("scircle({center}, radians({}))", radius.sql),
                AdqlType::Circle,
                &refs,
            ))
        }
        "BOX" => {
            let args = drop_coordsys(upper, args, &[3, 4])?;
            let (lon, lat, w, h) = match args.len() {
                4 => {
                    let [lon, lat, w, h] = exactly::<4>(upper, args)?;
                    (lon, lat, w, h)
                }
                3 => {
                    let [c, w, h] = exactly::<3>(upper, args)?;
                    need_point(upper, &c)?;
                    let lon = Ex::derived(format!("degrees(long({}))", c.sql), AdqlType::Double, &[&c]);
                    let lat = Ex::derived(format!("degrees(lat({}))", c.sql), AdqlType::Double, &[&c]);
                    (lon, lat, w, h)
                }
                n => return Err(err_args(upper, "a centre, a width and a height", n)),
            };
            for x in [&lon, &lat, &w, &h] {
                need_numeric(upper, x)?;
            }
            check_lat(upper, &lat)?;
            // A box is the polygon of its four corners (great-circle edges), as most peers do.
            let corner = |sx: &str, sy: &str| -> (String, String, Option<(f64, f64)>) {
                let lon_sql = format!("({}) {sx} ({}) / 2.0", lon.sql, w.sql);
                let lat_sql = format!("({}) {sy} ({}) / 2.0", lat.sql, h.sql);
                let num = match (lon.number, lat.number, w.number, h.number) {
                    (Some(a), Some(b), Some(c), Some(d)) => {
                        let x = if sx == "-" { a - c / 2.0 } else { a + c / 2.0 };
                        let y = if sy == "-" { b - d / 2.0 } else { b + d / 2.0 };
                        Some((x, y))
                    }
                    _ => None,
                };
                (lon_sql, lat_sql, num)
            };
            let corners = [
                corner("-", "-"),
                corner("-", "+"),
                corner("+", "+"),
                corner("+", "-"),
            ];
            let sql = polygon_sql(
                corners
                    .iter()
                    .map(|(a, b, n)| (a.clone(), b.clone(), *n))
                    .collect(),
            );
            Ok(Ex::derived(sql, AdqlType::Polygon, &[&lon, &lat, &w, &h]))
        }
        "POLYGON" => {
            let args = if args
                .first()
                .is_some_and(|a| matches!(a.ty.family(), Family::String) || a.ty == AdqlType::Null)
            {
                let n = args.len() - 1;
                drop_coordsys(upper, args, &[n])?
            } else {
                args
            };
            let any_point = args.iter().any(|a| a.ty == AdqlType::Point);
            let untyped = args.iter().all(|a| a.ty == AdqlType::Unknown);
            let all_points = !args.is_empty()
                && args
                    .iter()
                    .all(|a| matches!(a.ty, AdqlType::Point | AdqlType::Unknown))
                && (any_point || (untyped && (args.len() < 6 || args.len() % 2 != 0)));
            let refs: Vec<&Ex> = args.iter().collect();
            if all_points {
                if args.len() < 3 {
                    return Err(err_args(upper, "at least three vertices", args.len()));
                }
                let sql = spoly_aggregate(args.iter().map(|p| p.sql.clone()));
                return Ok(Ex::derived(sql, AdqlType::Polygon, &refs));
            }
            if args.len() < 6 || args.len() % 2 != 0 {
                return Err(AdqlError::syntax(format!(
                    "POLYGON takes at least three vertices, as POINTs or as pairs of numbers (not mixed); got {} arguments",
                    args.len()
                )));
            }
            for a in &args {
                need(upper, "numbers or POINTs (not mixed)", a, a.ty.is_numeric())?;
            }
            for pair in args.chunks(2) {
                check_lat(upper, &pair[1])?;
            }
            let vertices = args
                .chunks(2)
                .map(|p| {
                    let num = p[0].number.zip(p[1].number);
                    (p[0].sql.clone(), p[1].sql.clone(), num)
                })
                .collect();
            Ok(Ex::derived(polygon_sql(vertices), AdqlType::Polygon, &refs))
        }
        "CENTROID" => {
            let [g] = exactly::<1>(upper, args)?;
            need_geometry(upper, &g)?;
            let sql = match g.ty {
                AdqlType::Point => g.sql.clone(),
                AdqlType::Circle | AdqlType::Unknown => format!("center({})", g.sql),
                _ => {
                    return Err(AdqlError::unsupported(
                        "CENTROID is supported for points and circles only",
                    ))
                }
            };
            Ok(Ex::derived(sql, AdqlType::Point, &[&g]))
        }
        "AREA" => {
            let [g] = exactly::<1>(upper, args)?;
            need_geometry(upper, &g)?;
            let sql = if g.ty == AdqlType::Point {
                "CAST(0 AS double precision)".to_string()
            } else {
                format!("(area({}) * {SQ_DEG_PER_SR})", g.sql)
            };
            let mut e = Ex::derived(sql, AdqlType::Double, &[&g]);
            e.meta = Some(crate::check::Meta {
                unit: Some("deg**2".into()),
                ..Default::default()
            });
            Ok(e)
        }
        "COORD1" | "COORD2" => {
            let [p] = exactly::<1>(upper, args)?;
            need_point(upper, &p)?;
            let f = if upper == "COORD1" { "long" } else { "lat" };
            let mut e = Ex::derived(format!("degrees({f}({}))", p.sql), AdqlType::Double, &[&p]);
            e.meta = Some(crate::check::Meta {
                unit: Some("deg".into()),
                ..Default::default()
            });
            Ok(e)
        }
        "COORDSYS" => {
            // Deprecated in 2.1; Tapir does not track frames, so the honest answer is NULL.
            let [g] = exactly::<1>(upper, args)?;
            need_geometry(upper, &g)?;
            Ok(Ex::derived(
                "CAST(NULL AS varchar)".into(),
                AdqlType::VarChar(None),
                &[&g],
            ))
        }
        "DISTANCE" => {
            let (p, q) = distance_points(args)?;
            let mut e = Ex::derived(
                format!("degrees({} <-> {})", p.sql, q.sql),
                AdqlType::Double,
                &[&p, &q],
            );
            e.meta = Some(crate::check::Meta {
                unit: Some("deg".into()),
                ..Default::default()
            });
            Ok(e)
        }
        _ => {
            // CONTAINS / INTERSECTS used as a value: 1, 0 or NULL.
            let pred = spatial_predicate(upper, args)?;
            Ok(Ex::derived(
                format!("CAST({} AS integer)", paren(&pred.sql)),
                AdqlType::Integer,
                &[&pred],
            ))
        }
    }
}

fn paren(s: &str) -> String {
    format!("({s})")
}

/// Either `DISTANCE(p, q)` or `DISTANCE(lon1, lat1, lon2, lat2)`.
fn distance_points(args: Vec<Ex>) -> Result<(Ex, Ex), AdqlError> {
    match args.len() {
        2 => {
            let [p, q] = exactly::<2>("DISTANCE", args)?;
            need_point("DISTANCE", &p)?;
            need_point("DISTANCE", &q)?;
            Ok((p, q))
        }
        4 => {
            let [a, b, c, d] = exactly::<4>("DISTANCE", args)?;
            for x in [&a, &b, &c, &d] {
                need_numeric("DISTANCE", x)?;
            }
            let p = Ex::derived(point_sql(&a, &b), AdqlType::Point, &[&a, &b]);
            let q = Ex::derived(point_sql(&c, &d), AdqlType::Point, &[&c, &d]);
            Ok((p, q))
        }
        n => Err(err_args("DISTANCE", "two POINTs or four numbers", n)),
    }
}

/// A vertex as SQL for longitude and latitude, and its value when both are constants.
type Vertex = (String, String, Option<(f64, f64)>);

/// A polygon from vertices in degrees: a pgSphere literal when all are constants
/// (so the planner sees a constant and uses the index), else the ordered aggregate.
fn polygon_sql(vertices: Vec<Vertex>) -> String {
    if vertices.iter().all(|v| v.2.is_some()) {
        let parts: Vec<String> = vertices
            .iter()
            .filter_map(|v| v.2)
            .map(|(x, y)| format!("({x}d,{y}d)"))
            .collect();
        return format!("CAST('{{{}}}' AS spoly)", parts.join(","));
    }
    spoly_aggregate(
        vertices
            .iter()
            .map(|(x, y, _)| format!("spoint(radians({x}), radians({y}))")),
    )
}

/// A polygon from spoint expressions, in order, through pgSphere's `spoly` aggregate. The
/// aggregate is not strict: a NULL vertex would be dropped or, first, crash the backend. So NULLs
/// are filtered out and any NULL vertex makes the whole polygon NULL, as SQL functions do.
fn spoly_aggregate(points: impl Iterator<Item = String>) -> String {
    let values: Vec<String> = points
        .enumerate()
        .map(|(i, p)| format!("({}, {p})", i + 1))
        .collect();
    format!(
        "(SELECT spoly(v.p ORDER BY v.i) FILTER (WHERE v.p IS NOT NULL) FROM (VALUES {}) AS v(i, p) \
         HAVING count(v.p) = count(*))",
        values.join(", ")
    )
}

/// The boolean form of CONTAINS(a, b) (a inside b, boundary included) and INTERSECTS(a, b).
pub(crate) fn spatial_predicate(upper: &str, args: Vec<Ex>) -> Result<Ex, AdqlError> {
    let [a, b] = exactly::<2>(upper, args)?;
    need_geometry(upper, &a)?;
    need_geometry(upper, &b)?;
    let sql = if upper == "CONTAINS" {
        if b.ty == AdqlType::Point && a.ty != AdqlType::Point && a.ty != AdqlType::Unknown {
            // Only a degenerate shape lies inside a point: compare with a zero-radius circle.
            format!("{} <@ scircle({}, 0)", a.sql, b.sql)
        } else if a.ty == AdqlType::Point && b.ty == AdqlType::Point {
            format!("{} = {}", a.sql, b.sql)
        } else {
            format!("{} <@ {}", a.sql, b.sql)
        }
    } else {
        // With a point, INTERSECTS is CONTAINS with the point first (AQ-09).
        match (a.ty, b.ty) {
            (AdqlType::Point, AdqlType::Point) => format!("{} = {}", a.sql, b.sql),
            (AdqlType::Point, _) => format!("{} <@ {}", a.sql, b.sql),
            (_, AdqlType::Point) => format!("{} <@ {}", b.sql, a.sql),
            _ => format!("{} && {}", a.sql, b.sql),
        }
    };
    Ok(Ex::derived(sql, AdqlType::Boolean, &[&a, &b]))
}

/// `DISTANCE(p, q) < r` as an index-friendly containment.
pub(crate) fn distance_within(args: Vec<Ex>, r: Ex, strict: bool) -> Result<Ex, AdqlError> {
    let (p, q) = distance_points(args)?;
    // The side that depends on table columns is the one an index can serve: put it left.
    let (inner, centre) = if !p.columns && q.columns { (q, p) } else { (p, q) };
    let mut sql = format!("{} <@ scircle({}, radians({}))", inner.sql, centre.sql, r.sql);
    if strict {
        sql.push_str(&format!(
            " AND degrees({} <-> {}) < {}",
            inner.sql, centre.sql, r.sql
        ));
    }
    Ok(Ex::derived(sql, AdqlType::Boolean, &[&inner, &centre, &r]))
}

pub(crate) fn region(text: &str) -> Result<Ex, AdqlError> {
    let shape = parse_region(text).map_err(|e| AdqlError::typing(format!("REGION('{text}'): {e}")))?;
    let num = |v: f64| v.to_string();
    let (sql, ty) = match shape {
        Shape::Point { lon, lat } => (
            format!("spoint(radians({}), radians({}))", num(lon), num(lat)),
            AdqlType::Point,
        ),
        Shape::Circle { lon, lat, radius } => (
            format!(
                "scircle(spoint(radians({}), radians({})), radians({}))",
                num(lon),
                num(lat),
                num(radius)
            ),
            AdqlType::Circle,
        ),
        Shape::Polygon(v) => (
            polygon_sql(
                v.into_iter()
                    .map(|(x, y)| (num(x), num(y), Some((x, y))))
                    .collect(),
            ),
            AdqlType::Polygon,
        ),
        Shape::Box {
            lon,
            lat,
            width,
            height,
        } => {
            let (w2, h2) = (width / 2.0, height / 2.0);
            let corners = [
                (lon - w2, lat - h2),
                (lon - w2, lat + h2),
                (lon + w2, lat + h2),
                (lon + w2, lat - h2),
            ];
            (
                polygon_sql(
                    corners
                        .iter()
                        .map(|&(x, y)| (num(x), num(y), Some((x, y))))
                        .collect(),
                ),
                AdqlType::Polygon,
            )
        }
    };
    Ok(Ex::new(sql, ty))
}

/// `IN_UNIT(x, 'unit')`: x must carry a unit (a column, or MIN/MAX/... of one).
pub(crate) fn in_unit(args: Vec<Ex>, f: &sqlparser::ast::Function) -> Result<Ex, AdqlError> {
    let [x, u] = exactly::<2>("IN_UNIT", args)?;
    need_numeric("IN_UNIT", &x)?;
    let target = match u.sql.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        Some(t) if u.ty.family() == Family::String => t.replace("''", "'"),
        _ => {
            return Err(AdqlError::typing(
                "IN_UNIT takes the target unit as a string literal",
            ))
        }
    };
    let Some(from) = x
        .meta
        .as_ref()
        .and_then(|m| m.unit.clone())
        .filter(|u| !u.trim().is_empty())
    else {
        return Err(AdqlError::typing(format!(
            "IN_UNIT needs a value with a known unit, and '{}' has none",
            f.args
        )));
    };
    let factor = crate::units::conversion_factor(&from, &target)
        .map_err(|e| AdqlError::typing(format!("IN_UNIT: {e}")))?;
    let sql = if factor == 1.0 {
        dbl(&x)
    } else {
        format!("({} * {factor:e})", dbl(&x))
    };
    let mut e = Ex::derived(sql, AdqlType::Double, &[&x]);
    e.meta = Some(crate::check::Meta {
        unit: Some(target),
        ucd: x.meta.and_then(|m| m.ucd),
        ..Default::default()
    });
    Ok(e)
}

pub(crate) fn udf_call(udf: &Udf, args: Vec<Ex>, predicate: Option<&str>) -> Result<Ex, AdqlError> {
    if args.len() != udf.args.len() {
        return Err(err_args(
            &udf.name,
            &format!("{} arguments", udf.args.len()),
            args.len(),
        ));
    }
    for (a, want) in args.iter().zip(&udf.args) {
        if !crate::check::comparable(a.ty, *want) {
            return Err(AdqlError::typing(format!(
                "{} needs {} arguments where it got {}",
                udf.name,
                want.describe(),
                a.ty.describe()
            )));
        }
        if udf.aggregate && a.aggregate {
            return Err(AdqlError::syntax("aggregate functions cannot be nested"));
        }
    }
    let sqls: Vec<String> = args.iter().map(|a| a.sql.clone()).collect();
    let refs: Vec<&Ex> = args.iter().collect();
    let (tpl, ty) = match predicate {
        Some(p) => (p, AdqlType::Boolean),
        None => (udf.template.as_str(), udf.returns),
    };
    let mut e = Ex::derived(Udf::expand(tpl, &sqls), ty, &refs);
    e.aggregate |= udf.aggregate;
    Ok(e)
}

/// How a value leaves the outermost SELECT: geometry as DALI arrays of degrees
/// (pgSphere types have no binary output), everything else as is.
pub(crate) fn output_value(sql: &str, ty: AdqlType) -> String {
    match ty {
        AdqlType::Point => format!(
            "CASE WHEN ({sql}) IS NULL THEN NULL ELSE ARRAY[degrees(long({sql})), degrees(lat({sql}))] END"
        ),
        AdqlType::Circle => format!(
            "CASE WHEN ({sql}) IS NULL THEN NULL ELSE ARRAY[degrees(long(center({sql}))), degrees(lat(center({sql}))), degrees(radius({sql}))] END"
        ),
        AdqlType::Polygon => format!(
            "(SELECT array_agg(degrees(CAST(u.v AS double precision)) ORDER BY u.k) FROM unnest(string_to_array(translate(CAST(({sql}) AS text), '{{}}() ', ''), ',')) WITH ORDINALITY AS u(v, k))"
        ),
        // A region column (TAP 1.0 `adql:REGION`, as ObsCore's s_region) holds a pgSphere
        // polygon: give it as STC-S text in degrees.
        AdqlType::Region => format!(
            "(SELECT 'Polygon ICRS ' || string_agg(CAST(degrees(CAST(u.v AS double precision)) AS text), ' ' ORDER BY u.k) FROM unnest(string_to_array(translate(CAST(({sql}) AS text), '{{}}() ', ''), ',')) WITH ORDINALITY AS u(v, k))"
        ),
        _ => sql.to_string(),
    }
}
