//! Text building blocks shared by the text formats: numbers, timestamps and the escapers, all
//! writing straight into the output buffer.

use crate::column::{Array, Cell, Column, Element};
use crate::Datatype;

#[inline]
pub(crate) fn push_int(out: &mut Vec<u8>, v: i64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(v).as_bytes());
}

#[inline]
pub(crate) fn push_u64(out: &mut Vec<u8>, v: u64) {
    let mut buf = itoa::Buffer::new();
    out.extend_from_slice(buf.format(v).as_bytes());
}

/// Writes a finite float in the shortest form that reads back to the same value; NaN and the
/// infinities in the VOTable/DALI spelling (`NaN`, `+Inf`, `-Inf`).
#[inline]
pub(crate) fn push_f64(out: &mut Vec<u8>, v: f64) {
    if v.is_finite() {
        let mut buf = zmij::Buffer::new();
        out.extend_from_slice(buf.format_finite(v).as_bytes());
    } else {
        push_nonfinite(out, v);
    }
}

#[inline]
pub(crate) fn push_f32(out: &mut Vec<u8>, v: f32) {
    if v.is_finite() {
        let mut buf = zmij::Buffer::new();
        out.extend_from_slice(buf.format_finite(v).as_bytes());
    } else {
        push_nonfinite(out, v.into());
    }
}

fn push_nonfinite(out: &mut Vec<u8>, v: f64) {
    out.extend_from_slice(if v.is_nan() {
        b"NaN"
    } else if v > 0.0 {
        b"+Inf"
    } else {
        b"-Inf"
    });
}

/// A floating value of a `float` column is narrowed first, so it prints as the `f32` it is.
#[inline]
pub(crate) fn push_real(out: &mut Vec<u8>, datatype: Datatype, v: f64) {
    if datatype == Datatype::Float {
        push_f32(out, v as f32);
    } else {
        push_f64(out, v);
    }
}

/// Longest timestamp: sign, 6-digit year and six fraction digits.
pub(crate) const TIMESTAMP_MAX: usize = 34;

/// Formats microseconds since the Unix epoch as `YYYY-MM-DDThh:mm:ss[.fff[fff]]` (DALI, no
/// zone). Returns the buffer and the used length.
pub(crate) fn format_timestamp(micros: i64) -> ([u8; TIMESTAMP_MAX], usize) {
    let mut buf = [0u8; TIMESTAMP_MAX];
    let mut n = 0;
    let mut put = |bytes: &[u8], n: &mut usize| {
        buf[*n..*n + bytes.len()].copy_from_slice(bytes);
        *n += bytes.len();
    };
    let secs = micros.div_euclid(1_000_000);
    let frac = micros.rem_euclid(1_000_000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);

    let mut digits = itoa::Buffer::new();
    if (0..=9999).contains(&year) {
        put(&two_pairs(year as u32), &mut n);
    } else {
        // ISO 8601 expanded year: a sign and at least four digits.
        put(if year < 0 { b"-" } else { b"+" }, &mut n);
        let text = digits.format(year.unsigned_abs());
        for _ in text.len()..4 {
            put(b"0", &mut n);
        }
        put(text.as_bytes(), &mut n);
    }
    put(b"-", &mut n);
    put(&pair(month), &mut n);
    put(b"-", &mut n);
    put(&pair(day), &mut n);
    put(b"T", &mut n);
    put(&pair((of_day / 3600) as u32), &mut n);
    put(b":", &mut n);
    put(&pair((of_day / 60 % 60) as u32), &mut n);
    put(b":", &mut n);
    put(&pair((of_day % 60) as u32), &mut n);
    if frac != 0 {
        put(b".", &mut n);
        let frac = frac as u32;
        if frac % 1000 == 0 {
            put(&three(frac / 1000), &mut n);
        } else {
            put(&three(frac / 1000), &mut n);
            put(&three(frac % 1000), &mut n);
        }
    }
    (buf, n)
}

#[inline]
pub(crate) fn push_timestamp(out: &mut Vec<u8>, micros: i64) {
    let (buf, n) = format_timestamp(micros);
    out.extend_from_slice(&buf[..n]);
}

fn pair(v: u32) -> [u8; 2] {
    [b'0' + (v / 10 % 10) as u8, b'0' + (v % 10) as u8]
}

fn three(v: u32) -> [u8; 3] {
    [
        b'0' + (v / 100 % 10) as u8,
        b'0' + (v / 10 % 10) as u8,
        b'0' + (v % 10) as u8,
    ]
}

fn two_pairs(v: u32) -> [u8; 4] {
    let [a, b] = pair(v / 100);
    let [c, d] = pair(v % 100);
    [a, b, c, d]
}

/// Proleptic Gregorian date of a day count from 1970-01-01. Works on 400-year cycles (146097
/// days) counted from 0000-03-01, so that the leap day falls at the end of each year.
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let shifted = days + 719_468; // days from 0000-03-01 to 1970-01-01
    let cycle = shifted.div_euclid(146_097);
    let day_of_cycle = shifted.rem_euclid(146_097); // 0..=146096
    let year_of_cycle =
        (day_of_cycle - day_of_cycle / 1460 + day_of_cycle / 36_524 - day_of_cycle / 146_096) / 365;
    let day_of_year = day_of_cycle - (365 * year_of_cycle + year_of_cycle / 4 - year_of_cycle / 100);
    let month_from_march = (5 * day_of_year + 2) / 153; // 0 = March
    let day = (day_of_year - (153 * month_from_march + 2) / 5 + 1) as u32;
    let month = if month_from_march < 10 {
        month_from_march + 3
    } else {
        month_from_march - 9
    } as u32;
    let year = year_of_cycle + cycle * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Escapes text for XML element content (`attr == false`) or a double-quoted attribute value
/// (the one escaper every Tapir document uses, `xmltext`).
pub(crate) use xmltext::push_escaped as push_xml;

/// Writes a JSON string literal, quotes included.
pub(crate) fn push_json_string(out: &mut Vec<u8>, text: &str) {
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let short: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if short.is_empty() {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        } else {
            out.extend_from_slice(short);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

/// Writes a non-null, non-text cell in the DALI text form shared by TABLEDATA, CSV, TSV, text
/// and HTML: decimal numbers, `NaN`/`+Inf`/`-Inf`, ISO timestamps, array elements separated by
/// single spaces. The output is plain ASCII that needs no escaping in any of those formats.
/// Booleans are `true`/`false` here, scalars and array elements alike (TABLEDATA writes its own
/// `T`/`F`).
pub(crate) fn push_plain(out: &mut Vec<u8>, col: &Column, cell: &Cell<'_>) {
    match *cell {
        Cell::Null | Cell::Text(_) => {}
        Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
        Cell::Int(v) => push_int(out, v),
        Cell::Real(v) => push_real(out, col.datatype, v),
        Cell::Time(t) => push_timestamp(out, t),
        Cell::Reals(xs) => {
            for (i, &x) in xs.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                push_real(out, col.datatype, x);
            }
        }
        Cell::Bytes(bs) => {
            for (i, &b) in bs.iter().enumerate() {
                if i > 0 {
                    out.push(b' ');
                }
                push_int(out, b.into());
            }
        }
        Cell::Array(a) => push_array(out, &a, b"true", b"false"),
    }
}

/// Writes an integer, `float` or boolean array with single spaces between the elements and
/// booleans spelled `yes`/`no`.
pub(crate) fn push_array(out: &mut Vec<u8>, array: &Array<'_>, yes: &[u8], no: &[u8]) {
    array.push_each(out, b' ', |out, e| match e {
        Element::Int(v) => push_int(out, v),
        Element::Float(x) => push_f32(out, x),
        Element::Bool(b) => out.extend_from_slice(if b { yes } else { no }),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(micros: i64) -> String {
        let (buf, n) = format_timestamp(micros);
        String::from_utf8(buf[..n].to_vec()).unwrap()
    }

    #[test]
    fn timestamps() {
        assert_eq!(ts(0), "1970-01-01T00:00:00");
        assert_eq!(ts(1_500), "1970-01-01T00:00:00.001500");
        assert_eq!(ts(-1), "1969-12-31T23:59:59.999999");
        assert_eq!(ts(951_782_400_000_000), "2000-02-29T00:00:00");
        assert_eq!(ts(951_868_799_250_000), "2000-02-29T23:59:59.250");
        assert_eq!(ts(1_719_792_000_000_000 + 3_723_000_000), "2024-07-01T01:02:03");
        // 0001-01-01 and 9999-12-31T23:59:59
        assert_eq!(ts(-62_135_596_800_000_000), "0001-01-01T00:00:00");
        assert_eq!(ts(253_402_300_799_000_000), "9999-12-31T23:59:59");
        // 4713-11-24 BC (PostgreSQL's earliest timestamp) is year -4712 in ISO numbering.
        assert_eq!(ts(-210_866_803_200_000_000), "-4713-11-24T00:00:00");
        assert_eq!(ts(i64::MAX).len(), "+294247-01-10T04:00:54.775807".len());
        assert!(ts(i64::MIN).starts_with("-290308-"));
    }

    #[test]
    fn every_day_round_trips() {
        // Compare against a day-by-day walk over 1600..2400.
        let mut days = -135_140; // 1600-01-01
        let mut y = 1600;
        while y < 2400 {
            let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
            let lengths = [
                31,
                if leap { 29 } else { 28 },
                31,
                30,
                31,
                30,
                31,
                31,
                30,
                31,
                30,
                31,
            ];
            for (m, &len) in lengths.iter().enumerate() {
                for d in 1..=len {
                    assert_eq!(civil_from_days(days), (y, m as u32 + 1, d));
                    days += 1;
                }
            }
            y += 1;
        }
    }

    #[test]
    fn floats() {
        let mut out = Vec::new();
        for v in [
            1.0,
            0.1,
            -2.5e-300,
            1e21,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            push_f64(&mut out, v);
            out.push(b',');
        }
        push_f32(&mut out, 0.1);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "1.0,0.1,-2.5e-300,1e+21,NaN,+Inf,-Inf,0.1"
        );
    }

    #[test]
    fn escapes() {
        let mut out = Vec::new();
        push_xml(&mut out, "a<b>&\"c\"\t\n\r\u{1}\u{FFFE}é", false);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "a&lt;b&gt;&amp;\"c\"\t\n&#13;\u{FFFD}\u{FFFD}é"
        );
        let mut out = Vec::new();
        push_xml(&mut out, "\"x\"\t\n", true);
        assert_eq!(String::from_utf8(out).unwrap(), "&quot;x&quot;&#9;&#10;");
        let mut out = Vec::new();
        push_json_string(&mut out, "q\"\\\n\u{7}é");
        assert_eq!(String::from_utf8(out).unwrap(), "\"q\\\"\\\\\\n\\u0007é\"");
    }
}
