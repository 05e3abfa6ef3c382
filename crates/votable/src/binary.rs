//! Big-endian cell encoding shared by VOTable BINARY/BINARY2 and FITS.

use crate::column::{Cell, Column, Shape};
use crate::textfmt::format_timestamp;
use crate::Datatype;

/// Bytes per element in the binary serialisations (VOTable 1.4 §5.2 table; FITS uses the same
/// widths, with `A` one byte per character).
pub(crate) fn element_size(datatype: Datatype) -> usize {
    match datatype {
        // `bit` arrays are packed, eight to a byte; this is the size of a scalar.
        Datatype::Boolean | Datatype::Char | Datatype::UnsignedByte | Datatype::Bit => 1,
        Datatype::Short | Datatype::UnicodeChar => 2,
        Datatype::Int | Datatype::Float => 4,
        Datatype::Long | Datatype::Double | Datatype::FloatComplex => 8,
        Datatype::DoubleComplex => 16,
    }
}

/// The value written for a missing integer: in BINARY it is declared with `<VALUES null>`, in
/// FITS with `TNULLn`. The most negative value of each type, except `unsignedByte` which has no
/// negative values: there 255 is used, because 0 is far more common as a real byte value.
pub(crate) fn integer_null(datatype: Datatype) -> i64 {
    match datatype {
        Datatype::Short => i16::MIN.into(),
        Datatype::Int => i32::MIN.into(),
        Datatype::UnsignedByte => 255,
        _ => i64::MIN,
    }
}

/// Writes one integer at the width of `datatype`. The value was range-checked by `Column::cell`.
#[inline]
pub(crate) fn push_int_be(out: &mut Vec<u8>, datatype: Datatype, v: i64) {
    match datatype {
        Datatype::Short => out.extend_from_slice(&(v as i16).to_be_bytes()),
        Datatype::Int => out.extend_from_slice(&(v as i32).to_be_bytes()),
        Datatype::UnsignedByte => out.push(v as u8),
        _ => out.extend_from_slice(&v.to_be_bytes()),
    }
}

/// Writes one floating value at the width of `datatype` (`float` narrows).
#[inline]
pub(crate) fn push_real_be(out: &mut Vec<u8>, datatype: Datatype, v: f64) {
    if datatype == Datatype::Float {
        out.extend_from_slice(&(v as f32).to_be_bytes());
    } else {
        out.extend_from_slice(&v.to_be_bytes());
    }
}

/// Writes `count` "empty" elements: NaN for floating types, `?` for booleans (VOTable) and
/// zero bytes otherwise.
pub(crate) fn push_empty(out: &mut Vec<u8>, datatype: Datatype, count: usize, boolean_null: u8) {
    match datatype {
        Datatype::Float | Datatype::Double => {
            for _ in 0..count {
                push_real_be(out, datatype, f64::NAN);
            }
        }
        Datatype::Boolean => out.resize(out.len() + count, boolean_null),
        _ => out.resize(out.len() + count * element_size(datatype), 0),
    }
}

/// Hands the text of a text cell (a timestamp formatted first) to `sink`, once; empty for
/// anything else.
pub(crate) fn with_text<R>(cell: &Cell<'_>, sink: impl FnOnce(&str) -> R) -> R {
    match *cell {
        Cell::Time(t) => {
            let (buf, n) = format_timestamp(t);
            // The formatter writes ASCII only.
            sink(std::str::from_utf8(&buf[..n]).unwrap_or(""))
        }
        Cell::Text(s) => sink(s),
        _ => sink(""),
    }
}

/// Writes at most `limit` characters of `text` as ASCII and returns the bytes written and
/// whether the text was cut. `char` is 7-bit ASCII (VOTable 1.4, FITS), and readers hold to it:
/// astropy decodes binary `char` cells as ASCII and fails on anything else, STIL reads each byte
/// as one character. Other characters therefore become `?`; text that needs them belongs in a
/// `unicodeChar` field.
pub(crate) fn push_ascii(out: &mut Vec<u8>, text: &str, limit: usize) -> (usize, bool) {
    if text.is_ascii() {
        let n = text.len().min(limit);
        out.extend_from_slice(&text.as_bytes()[..n]);
        return (n, text.len() > limit);
    }
    let mut written = 0;
    for c in text.chars() {
        if written == limit {
            return (written, true);
        }
        out.push(if c.is_ascii() { c as u8 } else { b'?' });
        written += 1;
    }
    (written, false)
}

/// Writes at most `limit` UTF-16 code units of `text` big-endian, never splitting a surrogate
/// pair, and returns how many units were written. UTF-16 (VOTable 1.5) rather than strict UCS-2
/// (1.4): characters outside the BMP survive in STIL and astropy instead of being replaced.
pub(crate) fn push_utf16(out: &mut Vec<u8>, text: &str, limit: usize) -> usize {
    let mut units = 0;
    let mut pair = [0u16; 2];
    for ch in text.chars() {
        let encoded = ch.encode_utf16(&mut pair);
        if units + encoded.len() > limit {
            break;
        }
        for unit in encoded.iter() {
            out.extend_from_slice(&unit.to_be_bytes());
        }
        units += encoded.len();
    }
    units
}

/// Null handling differences between the two VOTable binary serialisations.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum NullStyle {
    /// BINARY2: nulls are flagged in the row mask; the cell holds zeros/NaN/empty.
    Masked,
    /// BINARY: integer scalars hold the `<VALUES null>` sentinel, floats NaN.
    Sentinel,
}

/// Appends one cell in VOTable BINARY layout (the part after the BINARY2 null mask).
pub(crate) fn push_votable_cell(out: &mut Vec<u8>, col: &Column, cell: &Cell<'_>, nulls: NullStyle) {
    let dt = col.datatype;
    match col.shape {
        Shape::Scalar => match *cell {
            Cell::Null => match dt {
                Datatype::Short | Datatype::Int | Datatype::Long | Datatype::UnsignedByte
                    if nulls == NullStyle::Sentinel =>
                {
                    push_int_be(out, dt, integer_null(dt))
                }
                _ => push_empty(out, dt, 1, b'?'),
            },
            Cell::Bool(b) => out.push(if b { b'T' } else { b'F' }),
            Cell::Int(v) => push_int_be(out, dt, v),
            Cell::Real(v) => push_real_be(out, dt, v),
            Cell::Text(_) | Cell::Time(_) => {
                // A single character; an empty string reads back as NUL.
                let start = out.len();
                let written = with_text(cell, |s| {
                    if dt == Datatype::UnicodeChar {
                        push_utf16(out, s, 1)
                    } else {
                        push_ascii(out, s, 1).0
                    }
                });
                if written == 0 {
                    out.truncate(start);
                    push_empty(out, dt, 1, b'?');
                }
            }
            Cell::Reals(_) | Cell::Bytes(_) | Cell::Array(_) => push_empty(out, dt, 1, b'?'),
        },
        Shape::Fixed(n) => match *cell {
            Cell::Text(_) | Cell::Time(_) => {
                let written = with_text(cell, |s| {
                    if dt == Datatype::UnicodeChar {
                        push_utf16(out, s, n)
                    } else {
                        push_ascii(out, s, n).0
                    }
                });
                push_empty(out, dt, n - written, b'?');
            }
            Cell::Reals(xs) => {
                for &x in xs {
                    push_real_be(out, dt, x);
                }
            }
            Cell::Bytes(bs) => out.extend_from_slice(bs),
            Cell::Array(a) => a.push_be(out),
            _ => push_empty(out, dt, n, b'?'),
        },
        Shape::Variable { slice, .. } => match *cell {
            Cell::Text(_) | Cell::Time(_) => {
                let count_at = out.len();
                out.extend_from_slice(&[0; 4]);
                let written = with_text(cell, |s| {
                    if dt == Datatype::UnicodeChar {
                        push_utf16(out, s, usize::MAX)
                    } else {
                        push_ascii(out, s, usize::MAX).0
                    }
                });
                set_count(out, count_at, written);
            }
            Cell::Reals(xs) => {
                push_count(out, xs.len() / slice);
                for &x in xs {
                    push_real_be(out, dt, x);
                }
            }
            Cell::Bytes(bs) => {
                push_count(out, bs.len() / slice);
                out.extend_from_slice(bs);
            }
            Cell::Array(a) => {
                push_count(out, a.len() / slice);
                a.push_be(out);
            }
            _ => push_count(out, 0),
        },
    }
}

/// The VOTable count of a variable-length array: the number of slices along the last
/// dimension (for 1-D arrays, elements), as STIL reads it. Saturates at `i32::MAX`.
fn push_count(out: &mut Vec<u8>, count: usize) {
    out.extend_from_slice(&(count.min(i32::MAX as usize) as i32).to_be_bytes());
}

fn set_count(out: &mut [u8], at: usize, count: usize) {
    let bytes = (count.min(i32::MAX as usize) as i32).to_be_bytes();
    out[at..at + 4].copy_from_slice(&bytes);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_limits() {
        let mut out = Vec::new();
        assert_eq!(push_ascii(&mut out, "héllo", 2), (2, true));
        assert_eq!(push_ascii(&mut out, "ab", 2), (2, false));
        assert_eq!(push_ascii(&mut out, "abc", 2), (2, true));
        assert_eq!(push_ascii(&mut out, "é✓", 9), (2, false));
        assert_eq!(out, b"h?abab??");
        let mut out = Vec::new();
        assert_eq!(push_utf16(&mut out, "a\u{1F600}b", 2), 1);
        assert_eq!(out, [0, b'a']);
        let mut out = Vec::new();
        assert_eq!(push_utf16(&mut out, "a\u{1F600}b", 9), 4);
        assert_eq!(out, [0, b'a', 0xD8, 0x3D, 0xDE, 0x00, 0, b'b']);
    }
}
