//! REGION literals: the string argument of ADQL `REGION('...')`.
//!
//! Clients write regions in two notations: STC-S (what ADQL 2.0 prescribed and what most
//! TAP clients still send) and the DALI xtype serialisations (bare numbers, as found in
//! VOTable columns and copied into queries). Both describe the same few shapes, so this
//! module reduces them to a [`Shape`] the translator can turn into pgSphere values.
//!
//! Parsing is deliberately strict about what pgSphere cannot honour (compound regions,
//! latitudes beyond the poles, negative sizes) and deliberately lenient about what does
//! not change the geometry (frame, reference position and flavor words, extra whitespace,
//! commas between numbers). Frames are not converted: the catalogue's coordinates are
//! taken as given, as ADQL 2.1 allows.

/// A shape in degrees, as REGION literals describe them.
///
/// Longitudes are kept as written (negative right ascension is legal and pgSphere wraps
/// it), latitudes are guaranteed to lie in [-90, 90] and sizes to be non-negative, so
/// the translator can emit them without further checks.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// A single position (STC-S `Position`, DALI point).
    Point { lon: f64, lat: f64 },
    /// A cone around a centre; `radius` is an angle in degrees.
    Circle { lon: f64, lat: f64, radius: f64 },
    /// Vertices in order, at least 3.
    Polygon(Vec<(f64, f64)>),
    /// Centre and full widths (STC-S Box).
    Box {
        lon: f64,
        lat: f64,
        width: f64,
        height: f64,
    },
}

/// Why a REGION string was refused.
///
/// The message is meant to be shown to the TAP user as is: it says what was expected and
/// quotes the offending part of their string.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct RegionError(pub String);

/// What the message for an unrecognised string says we accept.
const EXPECTED: &str = "expected STC-S (Position, Circle, Box, Polygon) or DALI numbers";

/// The message for compound STC-S regions: they can always be rewritten with boolean
/// operators on CONTAINS, which the translator does support.
const COMPOUND: &str = "STC-S Union/Intersection/Not are not supported in REGION; \
                        use OR/AND/NOT of CONTAINS predicates";

/// Parses the text of a REGION literal (without the SQL quotes) into a [`Shape`].
///
/// Accepts STC-S `Position`, `Circle`, `Box` and `Polygon` (keywords in any case, with any
/// frame/reference position/flavor words before the numbers) and DALI serialisations
/// (2 numbers: point, 3: circle, an even number of at least 6: polygon).
pub fn parse_region(text: &str) -> Result<Shape, RegionError> {
    let tokens: Vec<&str> = text
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
        .collect();
    let Some((&first, rest)) = tokens.split_first() else {
        return Err(fail(format!("empty REGION string: {EXPECTED}")));
    };

    if let Some(kind) = Kind::from_keyword(first) {
        return parse_stcs(kind, rest);
    }
    if ["Union", "Intersection", "Not", "Difference"]
        .iter()
        .any(|k| first.eq_ignore_ascii_case(k))
    {
        return Err(fail(COMPOUND.to_string()));
    }
    if first.eq_ignore_ascii_case("Convex") {
        return Err(fail(
            "STC-S Convex is not supported in REGION; use Polygon, or AND of CONTAINS predicates".to_string(),
        ));
    }
    if first.eq_ignore_ascii_case("Ellipse") {
        return Err(fail(format!(
            "STC-S Ellipse is not supported in REGION: {EXPECTED}"
        )));
    }
    if number(first, "DALI region").is_some() {
        return parse_dali(&tokens);
    }
    // Quote what the user typed up to the first blank, not our comma-split token, so the
    // message shows their string as they wrote it.
    let shown = text.split_whitespace().next().unwrap_or(first);
    Err(fail(format!(
        "unsupported region serialisation: {EXPECTED}, found '{shown}'"
    )))
}

/// The shapes both notations can describe.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Position,
    Circle,
    Box,
    Polygon,
}

impl Kind {
    /// The STC-S shape named by `word`, compared without regard to case as STC-S does.
    fn from_keyword(word: &str) -> Option<Kind> {
        [
            ("Position", Kind::Position),
            ("Circle", Kind::Circle),
            ("Box", Kind::Box),
            ("Polygon", Kind::Polygon),
        ]
        .into_iter()
        .find(|(name, _)| word.eq_ignore_ascii_case(name))
        .map(|(_, kind)| kind)
    }
}

/// A parsed number together with how the user wrote it, so messages can quote it.
#[derive(Debug, Clone, Copy)]
struct Coord<'a> {
    value: f64,
    text: &'a str,
}

fn fail(message: String) -> RegionError {
    RegionError(message)
}

/// STC-S: optional words (frame, reference position, flavor), then numbers only.
fn parse_stcs(kind: Kind, rest: &[&str]) -> Result<Shape, RegionError> {
    let name = stcs_name(kind);
    let mut coords = Vec::new();
    for &token in rest {
        match number(token, name) {
            Some(value) => coords.push(Coord {
                value: value?,
                text: token,
            }),
            // Frame, reference position and flavor do not change the geometry we can
            // express, so any word is fine as long as it precedes the coordinates.
            None if coords.is_empty() && is_word(token) => {}
            None if coords.is_empty() => {
                return Err(fail(format!(
                    "expected a frame name or a number in {name}, found '{token}'"
                )))
            }
            None => return Err(fail(format!("expected a number in {name}, found '{token}'"))),
        }
    }
    build(kind, &coords, name)
}

/// DALI: numbers only; their count decides the shape.
fn parse_dali(tokens: &[&str]) -> Result<Shape, RegionError> {
    let mut coords = Vec::with_capacity(tokens.len());
    for &token in tokens {
        match number(token, "DALI region") {
            Some(value) => coords.push(Coord {
                value: value?,
                text: token,
            }),
            None => return Err(fail(format!("expected a number in DALI region, found '{token}'"))),
        }
    }
    let (kind, name) = match coords.len() {
        2 => (Kind::Position, "DALI point"),
        3 => (Kind::Circle, "DALI circle"),
        n if n >= 5 => (Kind::Polygon, "DALI polygon"),
        n => {
            return Err(fail(format!(
                "DALI region expects 2 numbers (point), 3 (circle) or an even number of at \
                 least 6 (polygon), found {n}"
            )))
        }
    };
    build(kind, &coords, name)
}

/// How messages name an STC-S shape.
fn stcs_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Position => "Position",
        Kind::Circle => "Circle",
        Kind::Box => "Box",
        Kind::Polygon => "Polygon",
    }
}

/// Checks the count and the values of the numbers and assembles the shape.
fn build(kind: Kind, coords: &[Coord], name: &str) -> Result<Shape, RegionError> {
    match (kind, coords) {
        (Kind::Position, [lon, lat]) => {
            check_lat(lat, "latitude", name)?;
            Ok(Shape::Point {
                lon: lon.value,
                lat: lat.value,
            })
        }
        (Kind::Position, _) => Err(count_error(name, "2 numbers (lon lat)", coords.len())),
        (Kind::Circle, [lon, lat, radius]) => {
            check_lat(lat, "latitude", name)?;
            check_size(radius, "radius", name)?;
            Ok(Shape::Circle {
                lon: lon.value,
                lat: lat.value,
                radius: radius.value,
            })
        }
        (Kind::Circle, _) => Err(count_error(name, "3 numbers (lon lat radius)", coords.len())),
        (Kind::Box, [lon, lat, width, height]) => {
            check_lat(lat, "latitude", name)?;
            check_size(width, "width", name)?;
            check_size(height, "height", name)?;
            Ok(Shape::Box {
                lon: lon.value,
                lat: lat.value,
                width: width.value,
                height: height.value,
            })
        }
        (Kind::Box, _) => Err(count_error(
            name,
            "4 numbers (lon lat width height)",
            coords.len(),
        )),
        (Kind::Polygon, _) => build_polygon(coords, name),
    }
}

fn build_polygon(coords: &[Coord], name: &str) -> Result<Shape, RegionError> {
    let pairs = coords.chunks_exact(2);
    if !pairs.remainder().is_empty() {
        return Err(fail(format!(
            "{name} coordinates must come in lon lat pairs, found {} numbers",
            coords.len()
        )));
    }
    if coords.len() < 6 {
        return Err(fail(format!(
            "{name} needs at least 3 vertices (6 numbers), found {} vertices",
            coords.len() / 2
        )));
    }
    let mut vertices = Vec::with_capacity(coords.len() / 2);
    for (index, pair) in pairs.enumerate() {
        if let [lon, lat] = pair {
            check_lat(lat, &format!("latitude of vertex {}", index + 1), name)?;
            vertices.push((lon.value, lat.value));
        }
    }
    Ok(Shape::Polygon(vertices))
}

fn count_error(name: &str, expected: &str, found: usize) -> RegionError {
    fail(format!("{name} expects {expected}, found {found}"))
}

/// Latitudes beyond the poles are meaningless on the sphere; pgSphere would reject them
/// with a less helpful message, so we catch them here and say which value is wrong.
fn check_lat(lat: &Coord, what: &str, name: &str) -> Result<(), RegionError> {
    if (-90.0..=90.0).contains(&lat.value) {
        Ok(())
    } else {
        Err(fail(format!(
            "{what} '{}' in {name} is outside [-90, 90]",
            lat.text
        )))
    }
}

/// Radii and box sizes are extents: a negative one is a typo, not a shape.
fn check_size(size: &Coord, what: &str, name: &str) -> Result<(), RegionError> {
    if size.value >= 0.0 {
        Ok(())
    } else {
        Err(fail(format!(
            "{name} {what} must not be negative, found '{}'",
            size.text
        )))
    }
}

/// Classifies a token: `None` if it is not a number at all (a word or punctuation),
/// `Some(Err)` if it is a number but not a finite one, `Some(Ok)` otherwise.
///
/// Rust's float parser also accepts `inf` and `NaN`; we look at the shape of the token
/// first so those are reported as non-finite numbers rather than taken for frame names.
fn number(token: &str, name: &str) -> Option<Result<f64, RegionError>> {
    let unsigned = token.strip_prefix(['+', '-']).unwrap_or(token);
    if ["nan", "inf", "infinity"]
        .iter()
        .any(|w| unsigned.eq_ignore_ascii_case(w))
    {
        return Some(Err(fail(format!(
            "non-finite value '{token}' in {name}: coordinates must be finite numbers"
        ))));
    }
    if !is_decimal(token) {
        return None;
    }
    Some(match token.parse::<f64>() {
        Ok(value) if value.is_finite() => Ok(value),
        _ => Err(fail(format!("value '{token}' in {name} is not a finite number"))),
    })
}

/// True for `[+-](digits[.digits*] | .digits)[(e|E)[+-]digits]`: the numbers STC-S and
/// DALI write, and nothing else.
fn is_decimal(token: &str) -> bool {
    let bytes = token.as_bytes();
    let mut pos = usize::from(matches!(bytes.first(), Some(b'+' | b'-')));
    let int_digits = count_digits(bytes, pos);
    pos += int_digits;
    let mut frac_digits = 0;
    if bytes.get(pos) == Some(&b'.') {
        pos += 1;
        frac_digits = count_digits(bytes, pos);
        pos += frac_digits;
    }
    if int_digits + frac_digits == 0 {
        return false;
    }
    if matches!(bytes.get(pos), Some(b'e' | b'E')) {
        pos += 1;
        if matches!(bytes.get(pos), Some(b'+' | b'-')) {
            pos += 1;
        }
        let exp_digits = count_digits(bytes, pos);
        if exp_digits == 0 {
            return false;
        }
        pos += exp_digits;
    }
    pos == bytes.len()
}

fn count_digits(bytes: &[u8], from: usize) -> usize {
    bytes
        .get(from..)
        .map_or(0, |rest| rest.iter().take_while(|b| b.is_ascii_digit()).count())
}

/// Frame, reference position and flavor names are identifiers (`ICRS`, `FK5`, `J2000`,
/// `UNKNOWNFRAME`, `SPHERICAL2`...); anything else before the numbers is a typo.
fn is_word(token: &str) -> bool {
    let mut chars = token.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.')
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(text: &str) -> Shape {
        match parse_region(text) {
            Ok(shape) => shape,
            Err(e) => panic!("{text:?} was rejected: {e}"),
        }
    }

    fn err(text: &str) -> String {
        match parse_region(text) {
            Ok(shape) => panic!("{text:?} was accepted as {shape:?}"),
            Err(RegionError(message)) => message,
        }
    }

    fn assert_contains(message: &str, parts: &[&str]) {
        for part in parts {
            assert!(message.contains(part), "{message:?} lacks {part:?}");
        }
    }

    #[test]
    fn stcs_position() {
        assert_eq!(ok("Position ICRS 1 2"), Shape::Point { lon: 1.0, lat: 2.0 });
        assert_eq!(ok("position 1 2"), Shape::Point { lon: 1.0, lat: 2.0 });
        assert_eq!(
            ok("POSITION ICRS BARYCENTER SPHERICAL2 -10.5 -20"),
            Shape::Point {
                lon: -10.5,
                lat: -20.0
            }
        );
    }

    #[test]
    fn stcs_circle() {
        assert_eq!(
            ok("Circle 1 2 3"),
            Shape::Circle {
                lon: 1.0,
                lat: 2.0,
                radius: 3.0
            }
        );
        assert_eq!(
            ok("circle ICRS GEOCENTER 10 20 0.5"),
            Shape::Circle {
                lon: 10.0,
                lat: 20.0,
                radius: 0.5
            }
        );
        assert_eq!(
            ok("CIRCLE FK5 J2000 TOPOCENTER 1. .5 3e-2"),
            Shape::Circle {
                lon: 1.0,
                lat: 0.5,
                radius: 3e-2
            }
        );
    }

    #[test]
    fn stcs_box() {
        assert_eq!(
            ok("Box 1 2 3 4"),
            Shape::Box {
                lon: 1.0,
                lat: 2.0,
                width: 3.0,
                height: 4.0
            }
        );
        assert_eq!(
            ok("box GALACTIC UNKNOWNREFPOS +4 -5 0 1E1"),
            Shape::Box {
                lon: 4.0,
                lat: -5.0,
                width: 0.0,
                height: 10.0
            }
        );
    }

    #[test]
    fn stcs_polygon() {
        assert_eq!(
            ok("Polygon 1 2  3 4  5 6"),
            Shape::Polygon(vec![(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)])
        );
        assert_eq!(
            ok("  polygon   UNKNOWNFRAME CARTESIAN2\t-1 -2 3 4\n5 6 7 8  "),
            Shape::Polygon(vec![(-1.0, -2.0), (3.0, 4.0), (5.0, 6.0), (7.0, 8.0)])
        );
    }

    #[test]
    fn dali_forms() {
        assert_eq!(
            ok("1 2 3"),
            Shape::Circle {
                lon: 1.0,
                lat: 2.0,
                radius: 3.0
            }
        );
        assert_eq!(ok("10 20"), Shape::Point { lon: 10.0, lat: 20.0 });
        assert_eq!(
            ok("1 2 3 4 5 6"),
            Shape::Polygon(vec![(1.0, 2.0), (3.0, 4.0), (5.0, 6.0)])
        );
        assert_eq!(
            ok(" 1, 2,3 ,4 5 6 7 8 "),
            Shape::Polygon(vec![(1.0, 2.0), (3.0, 4.0), (5.0, 6.0), (7.0, 8.0)])
        );
        assert_eq!(
            ok("-350.25 +.5 1."),
            Shape::Circle {
                lon: -350.25,
                lat: 0.5,
                radius: 1.0
            }
        );
    }

    #[test]
    fn number_forms() {
        assert_eq!(
            ok("Circle 1 1. .5"),
            Shape::Circle {
                lon: 1.0,
                lat: 1.0,
                radius: 0.5
            }
        );
        assert_eq!(ok("Position -3e-2 +4"), Shape::Point { lon: -0.03, lat: 4.0 });
        assert_eq!(ok("Position 2.5E+1 -1e0"), Shape::Point { lon: 25.0, lat: -1.0 });
    }

    #[test]
    fn longitudes_are_not_range_checked() {
        assert_eq!(
            ok("Position ICRS -400 0"),
            Shape::Point {
                lon: -400.0,
                lat: 0.0
            }
        );
        assert_eq!(
            ok("Circle 720 -90 1"),
            Shape::Circle {
                lon: 720.0,
                lat: -90.0,
                radius: 1.0
            }
        );
    }

    #[test]
    fn rejects_empty() {
        assert_contains(&err(""), &["empty", "expected STC-S"]);
        assert_contains(&err("  \t "), &["empty"]);
    }

    #[test]
    fn rejects_unknown_keyword() {
        assert_eq!(
            err("[1, 2]"),
            "unsupported region serialisation: expected STC-S (Position, Circle, Box, \
             Polygon) or DALI numbers, found '[1,'"
        );
        assert_contains(&err("Point ICRS 1 2"), &["unsupported", "'Point'"]);
        assert_contains(&err("Ellipse ICRS 1 2 3 4 5"), &["Ellipse", "not supported"]);
    }

    #[test]
    fn rejects_compound_regions() {
        for text in [
            "Union ICRS (Circle 1 2 3 Circle 4 5 6)",
            "intersection ICRS (Circle 1 2 3 Box 4 5 6 7)",
            "NOT (Circle 1 2 3)",
        ] {
            assert_eq!(
                err(text),
                "STC-S Union/Intersection/Not are not supported in REGION; use OR/AND/NOT \
                 of CONTAINS predicates"
            );
        }
        assert_contains(&err("Convex 1 0 0 0"), &["Convex", "not supported in REGION"]);
    }

    #[test]
    fn rejects_wrong_counts() {
        assert_contains(&err("Position ICRS 1"), &["Position", "2 numbers", "found 1"]);
        assert_contains(&err("Position 1 2 3"), &["Position", "found 3"]);
        assert_contains(&err("Circle ICRS 1 2"), &["Circle", "3 numbers", "found 2"]);
        assert_contains(&err("Circle 1 2 3 4"), &["Circle", "found 4"]);
        assert_contains(&err("Box 1 2 3"), &["Box", "4 numbers", "found 3"]);
        assert_contains(&err("Circle ICRS"), &["Circle", "found 0"]);
        assert_contains(&err("1"), &["DALI", "found 1"]);
        assert_contains(&err("1 2 3 4"), &["DALI", "found 4"]);
    }

    #[test]
    fn rejects_odd_and_short_polygons() {
        assert_contains(&err("Polygon 1 2 3 4 5 6 7"), &["pairs", "7 numbers"]);
        assert_contains(&err("Polygon 1 2 3 4 5"), &["pairs", "5 numbers"]);
        assert_contains(&err("1 2 3 4 5"), &["DALI polygon", "pairs", "5 numbers"]);
        assert_contains(&err("1 2 3 4 5 6 7"), &["DALI polygon", "pairs", "7 numbers"]);
        assert_contains(
            &err("Polygon ICRS 1 2 3 4"),
            &["at least 3 vertices", "found 2 vertices"],
        );
        assert_contains(&err("polygon"), &["at least 3 vertices", "found 0"]);
    }

    #[test]
    fn rejects_non_finite() {
        assert_contains(&err("Circle 1 2 NaN"), &["non-finite", "'NaN'"]);
        assert_contains(&err("Position ICRS inf 2"), &["non-finite", "'inf'"]);
        assert_contains(&err("Position -Infinity 2"), &["non-finite", "'-Infinity'"]);
        assert_contains(&err("1e999 2"), &["'1e999'", "not a finite"]);
        assert_contains(&err("nan 1 2"), &["non-finite", "'nan'"]);
    }

    #[test]
    fn rejects_latitudes_beyond_the_poles() {
        assert_contains(&err("Position 1 90.5"), &["latitude", "'90.5'", "[-90, 90]"]);
        assert_contains(&err("Circle ICRS 1 -91 2"), &["latitude", "'-91'"]);
        assert_contains(&err("Box 0 100 1 1"), &["latitude", "'100'"]);
        assert_contains(&err("10 95"), &["latitude", "'95'", "DALI point"]);
        assert_contains(&err("Polygon 0 0 1 1 2 -95"), &["latitude of vertex 3", "'-95'"]);
        assert_contains(&err("0 0 1 91 2 2"), &["latitude of vertex 2", "'91'"]);
    }

    #[test]
    fn rejects_negative_sizes() {
        assert_contains(&err("Circle 1 2 -3"), &["radius", "negative", "'-3'"]);
        assert_contains(&err("1 2 -0.5"), &["radius", "negative", "'-0.5'"]);
        assert_contains(&err("Box 1 2 -3 4"), &["width", "negative", "'-3'"]);
        assert_contains(&err("Box 1 2 3 -4"), &["height", "negative", "'-4'"]);
    }

    #[test]
    fn rejects_stray_tokens() {
        assert_contains(&err("Circle 1 ICRS 2 3"), &["expected a number", "'ICRS'"]);
        assert_contains(
            &err("Circle ICRS 1 2 3 unit deg"),
            &["expected a number", "'unit'"],
        );
        assert_contains(&err("Circle ( 1 2 3 )"), &["frame name or a number", "'('"]);
        assert_contains(&err("1 2 x"), &["DALI", "'x'"]);
        assert_contains(&err("Circle 1 2 3.5.6"), &["'3.5.6'"]);
        assert_contains(&err("Position 1 2e"), &["'2e'"]);
    }
}
