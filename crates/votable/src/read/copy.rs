//! How one uploaded column becomes PostgreSQL COPY text: the [`Plan`] worked out once from the
//! FIELD, the parsers for TABLEDATA/CSV cell text, and the emitters every serialisation shares.
//!
//! Everything writes straight into the COPY buffer; the only scratch space is a `Vec<f64>` the
//! caller reuses for geometry coordinates, so converting a cell allocates nothing unless it
//! fails.

use super::SqlType;
use crate::column::{parse_arraysize, Shape};
use crate::csv::push_backslashed;
use crate::textfmt::{push_f32, push_f64};
use crate::Datatype;

/// The COPY text-format NULL.
pub(crate) const NULL: &[u8] = b"\\N";

/// A `<VALUES null="...">` value, parsed for the column's datatype so that cells are compared
/// by value (`0x10` and `16` are the same integer).
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum Sentinel {
    None,
    Int(i64),
    Real(f64),
    Text(Box<[u8]>),
}

/// What to do with the values of one column.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Plan {
    pub datatype: Datatype,
    pub shape: Shape,
    pub sql: SqlType,
    pub null: Sentinel,
}

impl Plan {
    /// Works out the storage of a FIELD. The error is a message without the field's name (the
    /// caller adds it).
    pub fn new(
        datatype: Datatype,
        arraysize: Option<&str>,
        xtype: Option<&str>,
        null: Option<&str>,
    ) -> Result<Plan, String> {
        let text = matches!(datatype, Datatype::Char | Datatype::UnicodeChar);
        let mut shape = match arraysize.map(str::trim) {
            None | Some("") => Shape::Scalar,
            Some(a) => match parse_arraysize(a) {
                Some((shape, _)) => shape,
                None => return Err(format!("the arraysize '{a}' is not valid")),
            },
        };
        if !text && shape == Shape::Fixed(1) {
            shape = Shape::Scalar;
        }
        let xtype = xtype.map(str::trim).unwrap_or("");
        let bare = strip_prefix_ignore_case(xtype, "adql:");
        let sql = match datatype {
            Datatype::Char | Datatype::UnicodeChar => {
                if bare.eq_ignore_ascii_case("timestamp") {
                    SqlType::Timestamp
                } else {
                    SqlType::Text
                }
            }
            Datatype::FloatComplex | Datatype::DoubleComplex => SqlType::Text,
            _ if shape == Shape::Scalar => storage(datatype).0,
            Datatype::Float | Datatype::Double => match (geometry_type(bare), shape) {
                (Some(sql), Shape::Fixed(n)) if !geometry_fits(sql, n) => {
                    return Err(format!(
                        "xtype '{xtype}' does not fit arraysize '{}'",
                        arraysize.unwrap_or("").trim()
                    ))
                }
                (Some(sql), _) => sql,
                (None, _) => storage(datatype).1,
            },
            _ => storage(datatype).1,
        };
        let null = match null {
            None => Sentinel::None,
            Some(raw) if raw.trim().is_empty() => Sentinel::None,
            Some(raw) => match sql {
                SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
                    parse_int(raw.trim().as_bytes(), datatype).map_or(Sentinel::None, Sentinel::Int)
                }
                // Parsed at the column's precision, so that it compares equal to the cells.
                SqlType::Real | SqlType::Double => {
                    match parse_real(raw.trim().as_bytes(), datatype == Datatype::Float) {
                        Some(v) if !v.is_nan() => Sentinel::Real(v),
                        _ => Sentinel::None,
                    }
                }
                SqlType::Text | SqlType::Timestamp if text => Sentinel::Text(raw.as_bytes().into()),
                _ => Sentinel::None,
            },
        };
        Ok(Plan {
            datatype,
            shape,
            sql,
            null,
        })
    }

    fn single(&self) -> bool {
        matches!(self.datatype, Datatype::Float | Datatype::FloatComplex)
    }

    fn is_null_text(&self, text: &[u8]) -> bool {
        text.is_empty() || matches!(&self.null, Sentinel::Text(n) if **n == *text)
    }

    /// Converts the text of a TABLEDATA or CSV cell (entities already decoded) and appends it.
    pub fn text_cell(&self, cell: &[u8], out: &mut Vec<u8>, reals: &mut Vec<f64>) -> Result<(), String> {
        match self.sql {
            SqlType::Text if matches!(self.datatype, Datatype::FloatComplex | Datatype::DoubleComplex) => {
                self.text_complex(cell, out, reals)
            }
            SqlType::Text | SqlType::Timestamp => self.push_string(out, cell),
            SqlType::Boolean => {
                let t = cell.trim_ascii();
                let v = if self.datatype == Datatype::Bit {
                    match t {
                        b"" => None,
                        b"0" => Some(false),
                        b"1" => Some(true),
                        _ => return Err(invalid(cell, "bit")),
                    }
                } else {
                    parse_bool(t).ok_or_else(|| invalid(cell, "boolean"))?
                };
                push_opt_bool(out, v);
                Ok(())
            }
            SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
                let t = cell.trim_ascii();
                if t.is_empty() {
                    out.extend_from_slice(NULL);
                    return Ok(());
                }
                let v = parse_int(t, self.datatype).ok_or_else(|| invalid(cell, self.datatype.as_str()))?;
                self.push_int_scalar(out, v);
                Ok(())
            }
            SqlType::Real | SqlType::Double => {
                let t = cell.trim_ascii();
                if t.is_empty() {
                    out.extend_from_slice(NULL);
                    return Ok(());
                }
                let v = parse_real(t, self.single()).ok_or_else(|| invalid(cell, self.datatype.as_str()))?;
                self.push_real_scalar(out, v);
                Ok(())
            }
            SqlType::SPoint | SqlType::SCircle | SqlType::SPoly => {
                reals.clear();
                for token in tokens(cell) {
                    reals.push(
                        parse_real(token, self.single())
                            .ok_or_else(|| invalid(token, self.datatype.as_str()))?,
                    );
                }
                push_geometry(out, self.sql, reals, self.single())
            }
            _ => self.text_array(cell, out),
        }
    }

    /// An array cell: whitespace-separated elements (bits and booleans may also be run
    /// together, `0110`, `TFT`). Empty is NULL (VE-01).
    fn text_array(&self, cell: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
        if cell.trim_ascii().is_empty() {
            out.extend_from_slice(NULL);
            return Ok(());
        }
        let what = self.datatype.as_str();
        let mut count = 0;
        out.push(b'{');
        for token in tokens(cell) {
            match self.datatype {
                Datatype::Boolean | Datatype::Bit => {
                    let whole = if self.datatype == Datatype::Boolean {
                        parse_bool(token)
                    } else {
                        None
                    };
                    if let Some(v) = whole.filter(|_| token.len() > 1) {
                        push_separator(out, &mut count);
                        push_opt_bool_element(out, v);
                        continue;
                    }
                    for b in token {
                        let v = match (self.datatype, b) {
                            (Datatype::Bit, b'0') => Some(false),
                            (Datatype::Bit, b'1') => Some(true),
                            (Datatype::Bit, _) => return Err(invalid(cell, what)),
                            _ => parse_bool(std::slice::from_ref(b)).ok_or_else(|| invalid(cell, what))?,
                        };
                        push_separator(out, &mut count);
                        push_opt_bool_element(out, v);
                    }
                }
                Datatype::Float | Datatype::Double => {
                    let v = parse_real(token, self.single()).ok_or_else(|| invalid(token, what))?;
                    push_separator(out, &mut count);
                    push_float(out, v, self.single());
                }
                _ => {
                    let v = parse_int(token, self.datatype).ok_or_else(|| invalid(token, what))?;
                    push_separator(out, &mut count);
                    push_int(out, v);
                }
            }
        }
        out.push(b'}');
        self.check_count(count)
    }

    /// A complex cell: pairs of numbers (real, imaginary), kept as text.
    fn text_complex(&self, cell: &[u8], out: &mut Vec<u8>, parts: &mut Vec<f64>) -> Result<(), String> {
        if self.is_null_text(cell.trim_ascii()) {
            out.extend_from_slice(NULL);
            return Ok(());
        }
        parts.clear();
        for token in tokens(cell) {
            parts.push(
                parse_real(token, self.single()).ok_or_else(|| invalid(token, self.datatype.as_str()))?,
            );
        }
        let count = parts.len();
        if count % 2 != 0 {
            return Err(format!(
                "a {} value needs pairs of numbers, found {count}",
                self.datatype
            ));
        }
        match self.shape {
            Shape::Scalar => self.expect_count(count, 2)?,
            _ => self.check_count(count / 2)?,
        }
        push_complex(out, parts, self.single());
        Ok(())
    }

    /// Checks the number of array elements against the arraysize.
    pub fn check_count(&self, count: usize) -> Result<(), String> {
        match self.shape {
            Shape::Scalar => Ok(()),
            Shape::Fixed(n) => self.expect_count(count, n),
            Shape::Variable { slice, .. } if count % slice != 0 => Err(format!(
                "the array has {count} elements, which is not a multiple of {slice} (arraysize)"
            )),
            Shape::Variable { .. } => Ok(()),
        }
    }

    fn expect_count(&self, count: usize, want: usize) -> Result<(), String> {
        if count == want {
            Ok(())
        } else {
            Err(format!(
                "the array has {count} elements but the arraysize needs {want}"
            ))
        }
    }

    /// An integer scalar, NULL when it equals the VALUES null.
    pub fn push_int_scalar(&self, out: &mut Vec<u8>, v: i64) {
        if self.null == Sentinel::Int(v) {
            out.extend_from_slice(NULL);
        } else {
            push_int(out, v);
        }
    }

    /// A floating scalar: NaN and the VALUES null are NULL.
    pub fn push_real_scalar(&self, out: &mut Vec<u8>, v: f64) {
        if v.is_nan() || self.null == Sentinel::Real(v) {
            out.extend_from_slice(NULL);
        } else {
            push_float(out, v, self.single());
        }
    }

    /// A string (a TABLEDATA or CSV cell, or a decoded binary one): empty or equal to the
    /// VALUES null is NULL; timestamps are checked (spaces around them allowed).
    pub fn push_string(&self, out: &mut Vec<u8>, text: &[u8]) -> Result<(), String> {
        if self.sql == SqlType::Timestamp {
            let trimmed = text.trim_ascii();
            if self.is_null_text(trimmed) || self.is_null_text(text) {
                out.extend_from_slice(NULL);
                return Ok(());
            }
            return push_timestamp(out, trimmed)
                .ok_or_else(|| invalid(text, "timestamp (YYYY-MM-DD[Thh:mm:ss[.fff]])"));
        }
        if self.is_null_text(text) {
            out.extend_from_slice(NULL);
        } else {
            push_text(out, text);
        }
        Ok(())
    }
}

/// How a numeric or boolean datatype is stored: `(scalar, array)`.
fn storage(datatype: Datatype) -> (SqlType, SqlType) {
    match datatype {
        Datatype::Boolean | Datatype::Bit => (SqlType::Boolean, SqlType::BooleanArray),
        Datatype::UnsignedByte | Datatype::Short => (SqlType::SmallInt, SqlType::SmallIntArray),
        Datatype::Int => (SqlType::Integer, SqlType::IntegerArray),
        Datatype::Long => (SqlType::BigInt, SqlType::BigIntArray),
        Datatype::Float => (SqlType::Real, SqlType::RealArray),
        Datatype::Double => (SqlType::Double, SqlType::DoubleArray),
        _ => (SqlType::Text, SqlType::Text),
    }
}

/// The pgSphere type of a geometry xtype (DT-02).
fn geometry_type(xtype: &str) -> Option<SqlType> {
    [
        ("point", SqlType::SPoint),
        ("circle", SqlType::SCircle),
        ("polygon", SqlType::SPoly),
    ]
    .into_iter()
    .find(|(name, _)| xtype.eq_ignore_ascii_case(name))
    .map(|(_, sql)| sql)
}

/// Whether `n` values make a point (2), circle (3) or polygon (an even number, at least 6).
fn geometry_fits(sql: SqlType, n: usize) -> bool {
    match sql {
        SqlType::SPoint => n == 2,
        SqlType::SCircle => n == 3,
        _ => n >= 6 && n % 2 == 0,
    }
}

fn strip_prefix_ignore_case<'a>(text: &'a str, prefix: &str) -> &'a str {
    match text.get(..prefix.len()) {
        Some(head) if head.eq_ignore_ascii_case(prefix) => &text[prefix.len()..],
        _ => text,
    }
}

/// The whitespace-separated tokens of a cell.
fn tokens(cell: &[u8]) -> impl Iterator<Item = &[u8]> {
    cell.split(|b| b.is_ascii_whitespace()).filter(|t| !t.is_empty())
}

/// The message for a value that does not parse: the value is shown (cut to 40 characters,
/// control characters as `?`) so the client can find it.
pub(crate) fn invalid(value: &[u8], what: &str) -> String {
    let text = String::from_utf8_lossy(value);
    let mut shown: String = text
        .chars()
        .take(40)
        .map(|c| if c.is_control() { '?' } else { c })
        .collect();
    if text.chars().nth(40).is_some() {
        shown.push_str("...");
    }
    format!("the value '{shown}' is not a valid {what}")
}

/// TABLEDATA booleans (VE-01): `T F 1 0 true false` in any case; `?` and empty are null.
pub(crate) fn parse_bool(text: &[u8]) -> Option<Option<bool>> {
    match text {
        b"" | b"?" => Some(None),
        b"1" => Some(Some(true)),
        b"0" => Some(Some(false)),
        _ if text.eq_ignore_ascii_case(b"t") || text.eq_ignore_ascii_case(b"true") => Some(Some(true)),
        _ if text.eq_ignore_ascii_case(b"f") || text.eq_ignore_ascii_case(b"false") => Some(Some(false)),
        _ => None,
    }
}

/// `(min, max, unsigned max)` of an integer datatype; the unsigned maximum lets a hexadecimal
/// value of the full width be read as two's complement (`0xFFFF` is -1 in a `short`).
fn int_range(datatype: Datatype) -> (i64, i64, u64) {
    match datatype {
        Datatype::UnsignedByte => (0, 255, 255),
        Datatype::Short => (i16::MIN.into(), i16::MAX.into(), u16::MAX.into()),
        Datatype::Int => (i32::MIN.into(), i32::MAX.into(), u32::MAX.into()),
        _ => (i64::MIN, i64::MAX, u64::MAX),
    }
}

/// A VOTable integer for `datatype`: optional sign, then decimal digits or `0x` and hexadecimal
/// digits (VOTable allows both). `None` when malformed or out of range.
pub(crate) fn parse_int(text: &[u8], datatype: Datatype) -> Option<i64> {
    let (negative, rest) = match text {
        [b'-', rest @ ..] => (true, rest),
        [b'+', rest @ ..] => (false, rest),
        _ => (false, text),
    };
    let (radix, digits) = match rest {
        [b'0', b'x' | b'X', digits @ ..] => (16u32, digits),
        _ => (10u32, rest),
    };
    if digits.is_empty() {
        return None;
    }
    let mut magnitude: u64 = 0;
    for &b in digits {
        let digit = char::from(b).to_digit(radix)?;
        magnitude = magnitude.checked_mul(radix.into())?.checked_add(digit.into())?;
    }
    let (min, max, unsigned_max) = int_range(datatype);
    if negative {
        // `min.unsigned_abs()` is the largest magnitude a negative value can have; the cast of
        // 2^63 wraps to i64::MIN, which is exactly -(2^63).
        (magnitude <= min.unsigned_abs()).then(|| (magnitude as i64).wrapping_neg())
    } else if magnitude <= max as u64 {
        Some(magnitude as i64)
    } else if radix == 16 && magnitude <= unsigned_max {
        Some(if unsigned_max == u64::MAX {
            magnitude as i64
        } else {
            magnitude as i64 - (unsigned_max as i64 + 1)
        })
    } else {
        None
    }
}

/// A floating value: decimal, exponent, `NaN`, `Inf`, `Infinity` (any case, optional sign).
/// `float` values are parsed as `f32` directly, so they are rounded once, not twice.
pub(crate) fn parse_real(text: &[u8], single: bool) -> Option<f64> {
    let text = std::str::from_utf8(text).ok()?;
    if single {
        text.parse::<f32>().ok().map(f64::from)
    } else {
        text.parse::<f64>().ok()
    }
}

#[inline]
pub(crate) fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(v).as_bytes());
}

/// A floating value in PostgreSQL input syntax: shortest round-trip decimal, `NaN`,
/// `Infinity`, `-Infinity`. A `float` value is printed as the `f32` it is.
#[inline]
pub(crate) fn push_float(out: &mut Vec<u8>, v: f64, single: bool) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else if single {
        push_f32(out, v as f32);
    } else {
        push_f64(out, v);
    }
}

/// Complex values kept as text: the parts separated by single spaces, spelt as TABLEDATA
/// spells them (`NaN`, `+Inf`, `-Inf`). No parts, or only NaN parts, is NULL: NaN is the
/// binary null of floating types, as for floating scalars.
pub(crate) fn push_complex(out: &mut Vec<u8>, parts: &[f64], single: bool) {
    if parts.iter().all(|v| v.is_nan()) {
        out.extend_from_slice(NULL);
        return;
    }
    for (i, &v) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b' ');
        }
        if single {
            push_f32(out, v as f32);
        } else {
            push_f64(out, v);
        }
    }
}

pub(crate) fn push_opt_bool(out: &mut Vec<u8>, v: Option<bool>) {
    out.extend_from_slice(match v {
        Some(true) => b"t",
        Some(false) => b"f",
        None => NULL,
    });
}

/// A boolean inside an array literal, where null is spelt `NULL`.
pub(crate) fn push_opt_bool_element(out: &mut Vec<u8>, v: Option<bool>) {
    out.extend_from_slice(match v {
        Some(true) => b"t",
        Some(false) => b"f",
        None => b"NULL",
    });
}

/// Writes `,` before every array element but the first, and counts the elements.
#[inline]
pub(crate) fn push_separator(out: &mut Vec<u8>, count: &mut usize) {
    if *count > 0 {
        out.push(b',');
    }
    *count += 1;
}

/// Appends `text` escaped for the COPY text format: backslash, tab, newline and carriage return
/// get a backslash, as in TSV. Bytes that are not UTF-8 are taken as Latin-1 (see the module
/// docs), so the output is always valid UTF-8. NUL, which PostgreSQL text cannot hold (and
/// which only a malformed document can carry this far), is dropped.
pub(crate) fn push_text(out: &mut Vec<u8>, text: &[u8]) {
    match std::str::from_utf8(text) {
        Ok(text) => {
            for piece in text.split('\0') {
                push_backslashed(out, piece);
            }
        }
        Err(_) => {
            // Rare, so the one allocation per value is acceptable here.
            let text: String = text.iter().filter(|&&b| b != 0).map(|&b| char::from(b)).collect();
            push_backslashed(out, &text);
        }
    }
}

/// Checks a DALI timestamp `YYYY-MM-DD[(T| )hh:mm:ss[.fff...]][Z]` and appends it without the
/// `Z` (the column is `timestamp` without zone; DALI times are UTC). `None` when malformed or
/// not a real date (month 13, February 30, year 0, which PostgreSQL does not have).
pub(crate) fn push_timestamp(out: &mut Vec<u8>, text: &[u8]) -> Option<()> {
    let body = check_timestamp(text)?;
    out.extend_from_slice(body);
    Some(())
}

/// The timestamp without its `Z`, if `text` is a valid DALI timestamp (see [`push_timestamp`]).
pub(crate) fn check_timestamp(text: &[u8]) -> Option<&[u8]> {
    let body = text.strip_suffix(b"Z").unwrap_or(text);
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        let digits = body.get(range)?;
        digits.iter().try_fold(0u32, |acc, &b| {
            b.is_ascii_digit().then(|| acc * 10 + u32::from(b - b'0'))
        })
    };
    let punct = |at: usize, chars: &[u8]| body.get(at).is_some_and(|b| chars.contains(b));
    let year = number(0..4)?;
    let month = number(5..7)?;
    let day = number(8..10)?;
    if !punct(4, b"-") || !punct(7, b"-") || year == 0 || !(1..=12).contains(&month) {
        return None;
    }
    let leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    let days = match month {
        2 if leap => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    };
    if day == 0 || day > days {
        return None;
    }
    if body.len() == 10 {
        return Some(body);
    }
    if !punct(10, b"T ") || !punct(13, b":") || !punct(16, b":") {
        return None;
    }
    let (hour, minute, second) = (number(11..13)?, number(14..16)?, number(17..19)?);
    if hour > 23 || minute > 59 || second > 60 {
        return None;
    }
    match body.get(19..) {
        Some([]) => Some(body),
        Some([b'.', fraction @ ..]) if !fraction.is_empty() && fraction.iter().all(u8::is_ascii_digit) => {
            Some(body)
        }
        _ => None,
    }
}

/// Appends a pgSphere value built from DALI coordinates in degrees (DT-02): point `lon lat`,
/// circle `lon lat r`, polygon `lon lat lon lat ...`. No values, or a NaN among them, is NULL.
pub(crate) fn push_geometry(
    out: &mut Vec<u8>,
    sql: SqlType,
    values: &[f64],
    single: bool,
) -> Result<(), String> {
    if values.is_empty() || values.iter().any(|v| v.is_nan()) {
        out.extend_from_slice(NULL);
        return Ok(());
    }
    if values.iter().any(|v| v.is_infinite()) {
        return Err("a coordinate is infinite".to_owned());
    }
    let pair = |out: &mut Vec<u8>, lon: f64, lat: f64| {
        out.push(b'(');
        push_float(out, lon, single);
        out.extend_from_slice(b"d, ");
        push_float(out, lat, single);
        out.extend_from_slice(b"d)");
    };
    if !geometry_fits(sql, values.len()) {
        let needs = match sql {
            SqlType::SPoint => "a point needs 2 values",
            SqlType::SCircle => "a circle needs 3 values",
            _ => "a polygon needs an even number of at least 6 values",
        };
        return Err(format!("{needs}, found {}", values.len()));
    }
    match (sql, values) {
        (SqlType::SPoint, &[lon, lat]) => pair(out, lon, lat),
        (SqlType::SCircle, &[lon, lat, radius]) => {
            // pgSphere refuses radii over 90 degrees; saying so here names the row and field.
            if !(0.0..=90.0).contains(&radius) {
                return Err(format!(
                    "the circle radius {radius} is outside 0 to 90 degrees, which pgSphere cannot store"
                ));
            }
            out.push(b'<');
            pair(out, lon, lat);
            out.extend_from_slice(b", ");
            push_float(out, radius, single);
            out.extend_from_slice(b"d>");
        }
        _ => {
            out.push(b'{');
            for (i, vertex) in values.chunks_exact(2).enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                pair(out, vertex[0], vertex[1]);
            }
            out.push(b'}');
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_cell(plan: &Plan, cell: &str) -> Result<String, String> {
        let mut out = Vec::new();
        plan.text_cell(cell.as_bytes(), &mut out, &mut Vec::new())?;
        Ok(String::from_utf8(out).unwrap())
    }

    fn plan(datatype: Datatype, arraysize: Option<&str>, xtype: Option<&str>) -> Plan {
        Plan::new(datatype, arraysize, xtype, None).unwrap()
    }

    #[test]
    fn integers() {
        assert_eq!(parse_int(b"10", Datatype::Int), Some(10));
        assert_eq!(parse_int(b"+3", Datatype::Int), Some(3));
        assert_eq!(parse_int(b"-0x1F", Datatype::Int), Some(-31));
        assert_eq!(parse_int(b"0X1f", Datatype::Short), Some(31));
        assert_eq!(parse_int(b"0xFFFF", Datatype::Short), Some(-1));
        assert_eq!(parse_int(b"0xFFFFFFFFFFFFFFFF", Datatype::Long), Some(-1));
        assert_eq!(parse_int(b"65535", Datatype::Short), None);
        assert_eq!(parse_int(b"-32768", Datatype::Short), Some(-32768));
        assert_eq!(parse_int(b"-32769", Datatype::Short), None);
        assert_eq!(parse_int(b"-9223372036854775808", Datatype::Long), Some(i64::MIN));
        assert_eq!(parse_int(b"9223372036854775808", Datatype::Long), None);
        assert_eq!(parse_int(b"99999999999999999999999", Datatype::Long), None);
        assert_eq!(parse_int(b"256", Datatype::UnsignedByte), None);
        assert_eq!(parse_int(b"-1", Datatype::UnsignedByte), None);
        for bad in ["", "-", "0x", "1.0", "1e3", "12a", " 1", "--1"] {
            assert_eq!(parse_int(bad.as_bytes(), Datatype::Long), None, "{bad}");
        }
    }

    #[test]
    fn scalars_from_text() {
        let int = Plan::new(Datatype::Int, None, None, Some("-999")).unwrap();
        assert_eq!(text_cell(&int, " 0x10 ").unwrap(), "16");
        assert_eq!(text_cell(&int, "-999").unwrap(), "\\N");
        assert_eq!(text_cell(&int, "").unwrap(), "\\N");
        assert_eq!(
            text_cell(&int, "abc").unwrap_err(),
            "the value 'abc' is not a valid int"
        );
        let float = plan(Datatype::Float, None, None);
        assert_eq!(text_cell(&float, "0.1").unwrap(), "0.1");
        assert_eq!(text_cell(&float, "NaN").unwrap(), "\\N");
        assert_eq!(text_cell(&float, "+Inf").unwrap(), "Infinity");
        assert_eq!(text_cell(&float, "-inf").unwrap(), "-Infinity");
        let double = plan(Datatype::Double, Some("1"), None);
        assert_eq!(double.sql, SqlType::Double);
        assert_eq!(text_cell(&double, "1e5").unwrap(), "100000.0");
        let boolean = plan(Datatype::Boolean, None, None);
        for (cell, want) in [("T", "t"), ("false", "f"), ("1", "t"), ("?", "\\N"), ("", "\\N")] {
            assert_eq!(text_cell(&boolean, cell).unwrap(), want);
        }
        assert!(text_cell(&boolean, "yes").is_err());
        let text = plan(Datatype::UnicodeChar, Some("*"), None);
        assert_eq!(text_cell(&text, "a\\b\tc\r\nd").unwrap(), "a\\\\b\\tc\\r\\nd");
        assert_eq!(text_cell(&text, "").unwrap(), "\\N");
        assert_eq!(text_cell(&text, " ").unwrap(), " ");
    }

    #[test]
    fn timestamps() {
        for (text, ok) in [
            ("2024-02-29", true),
            ("2023-02-29", false),
            ("2024-07-01T01:02:03", true),
            ("2024-07-01 01:02:03.250Z", true),
            ("2024-07-01T01:02:03.", false),
            ("2024-07-01T24:00:00", false),
            ("2024-13-01", false),
            ("0000-01-01", false),
            ("2024-07-01T01:02", false),
            ("2024-7-1", false),
            ("", false),
        ] {
            assert_eq!(check_timestamp(text.as_bytes()).is_some(), ok, "{text}");
        }
        let ts = plan(Datatype::Char, Some("19"), Some("TIMESTAMP"));
        assert_eq!(ts.sql, SqlType::Timestamp);
        assert_eq!(
            text_cell(&ts, "2015-01-10T12:34:56Z").unwrap(),
            "2015-01-10T12:34:56"
        );
        assert_eq!(
            plan(Datatype::Char, None, Some("adql:TIMESTAMP")).sql,
            SqlType::Timestamp
        );
    }

    #[test]
    fn geometry_and_arrays() {
        let point = plan(Datatype::Double, Some("2"), Some("point"));
        assert_eq!(text_cell(&point, "12.5 -30.25").unwrap(), "(12.5d, -30.25d)");
        assert_eq!(text_cell(&point, "NaN NaN").unwrap(), "\\N");
        assert_eq!(text_cell(&point, "").unwrap(), "\\N");
        assert_eq!(
            text_cell(&point, "1 2 3").unwrap_err(),
            "a point needs 2 values, found 3"
        );
        let circle = plan(Datatype::Float, Some("*"), Some("circle"));
        assert_eq!(
            text_cell(&circle, "12.5 -30.25 0.1").unwrap(),
            "<(12.5d, -30.25d), 0.1d>"
        );
        assert!(text_cell(&circle, "1 2 100").is_err());
        let poly = plan(Datatype::Double, Some("*"), Some("polygon"));
        assert_eq!(
            text_cell(&poly, "1 2 3 4 5 2").unwrap(),
            "{(1.0d, 2.0d),(3.0d, 4.0d),(5.0d, 2.0d)}"
        );
        assert!(text_cell(&poly, "1 2 3 4").is_err());
        assert!(Plan::new(Datatype::Double, Some("3"), Some("point"), None).is_err());
        let ints = plan(Datatype::Int, Some("3"), None);
        assert_eq!(ints.sql, SqlType::IntegerArray);
        assert_eq!(text_cell(&ints, " 1 2\n3 ").unwrap(), "{1,2,3}");
        assert!(text_cell(&ints, "1 2").is_err());
        let bits = plan(Datatype::Bit, Some("*"), None);
        assert_eq!(text_cell(&bits, "0110 1").unwrap(), "{f,t,t,f,t}");
        let bools = plan(Datatype::Boolean, Some("*"), None);
        assert_eq!(text_cell(&bools, "TF? true").unwrap(), "{t,f,NULL,t}");
        let doubles = plan(Datatype::Double, Some("2x*"), None);
        assert_eq!(
            text_cell(&doubles, "1 NaN +Inf -Inf").unwrap(),
            "{1.0,NaN,Infinity,-Infinity}"
        );
        assert!(text_cell(&doubles, "1 2 3").is_err());
        let complex = plan(Datatype::DoubleComplex, None, None);
        assert_eq!(complex.sql, SqlType::Text);
        assert_eq!(text_cell(&complex, " 1.5  2.5 ").unwrap(), "1.5 2.5");
        assert!(text_cell(&complex, "1.5").is_err());
        assert_eq!(text_cell(&complex, "NaN NaN").unwrap(), "\\N");
        let complexes = plan(Datatype::FloatComplex, Some("2"), None);
        assert_eq!(text_cell(&complexes, "1 2 NaN -Inf").unwrap(), "1.0 2.0 NaN -Inf");
        assert!(text_cell(&complexes, "1 2").is_err());
    }

    #[test]
    fn latin1_and_escapes() {
        let mut out = Vec::new();
        push_text(&mut out, b"caf\xe9\t\0");
        assert_eq!(out, "café\\t".as_bytes());
        assert_eq!(
            invalid("x".repeat(50).as_bytes(), "int"),
            format!("the value '{}...' is not a valid int", "x".repeat(40))
        );
    }
}
