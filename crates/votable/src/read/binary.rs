//! BINARY and BINARY2 rows (VOTable 1.4 §5.4, VE-02, VE-03), after base64 decoding.
//!
//! A row is the fields one after the other in big-endian layout; BINARY2 puts a null mask of
//! ⌈fields/8⌉ bytes (most significant bit first) before each row. Variable-length arrays and
//! strings start with a 4-byte count (for `AxB...x*` arrays, the number of slices along the last
//! dimension, as STIL writes it); fixed ones take their full size. Every length is checked
//! against the bytes left before anything is read, so a truncated or corrupt stream is an error,
//! never an out-of-bounds read or a huge allocation.

use super::copy::{
    push_complex, push_float, push_geometry, push_int, push_opt_bool, push_opt_bool_element, push_separator,
    Plan, NULL,
};
use super::{check_rows, for_field, ReadError, ReadLimits, SqlType};
use crate::binary::element_size;
use crate::column::Shape;
use crate::Datatype;

/// Why a cell could not be decoded.
enum CellError {
    /// The stream ended inside the cell.
    Truncated,
    /// The bytes are there but do not make a value (the message says why).
    Bad(String),
}

impl From<String> for CellError {
    fn from(message: String) -> CellError {
        CellError::Bad(message)
    }
}

/// Reads every row of a decoded BINARY (`masked == false`) or BINARY2 stream into `out` and
/// returns the row count. `names` are the field names, for messages.
pub(crate) fn read_rows(
    plans: &[Plan],
    names: &[&str],
    data: &[u8],
    masked: bool,
    limits: &ReadLimits,
    out: &mut Vec<u8>,
) -> Result<u64, ReadError> {
    let serialization = if masked { "BINARY2" } else { "BINARY" };
    let mask_len = if masked { plans.len().div_ceil(8) } else { 0 };
    let mut stream = Stream { data, pos: 0 };
    let mut scratch = Scratch::default();
    let mut rows = 0u64;
    while stream.pos < data.len() {
        check_rows(rows, limits)?;
        let row = rows + 1;
        let truncated = |index: Option<usize>| {
            let place = match index {
                Some(i) => format!(
                    " inside field '{}' (column {})",
                    names.get(i).unwrap_or(&""),
                    i + 1
                ),
                None => " inside the null mask".to_owned(),
            };
            ReadError::new(format!(
                "the {serialization} stream ends{place} of this row: the data is truncated or does not match the FIELDs"
            ))
            .at_row(row)
        };
        let mask = stream.take(mask_len).ok_or_else(|| truncated(None))?;
        for (i, plan) in plans.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            let null = mask.get(i / 8).is_some_and(|m| m & (0x80 >> (i % 8)) != 0);
            cell(plan, &mut stream, null, masked, out, &mut scratch).map_err(|e| match e {
                CellError::Truncated => truncated(Some(i)),
                CellError::Bad(message) => {
                    ReadError::new(for_field(&message, names.get(i).unwrap_or(&""), i)).at_row(row)
                }
            })?;
        }
        out.push(b'\n');
        rows = row;
    }
    Ok(rows)
}

/// Reusable buffers: coordinates of a geometry, UTF-8 of a `unicodeChar` string.
#[derive(Default)]
struct Scratch {
    reals: Vec<f64>,
    text: Vec<u8>,
}

struct Stream<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Stream<'a> {
    fn take(&mut self, n: usize) -> Option<&'a [u8]> {
        let end = self.pos.checked_add(n)?;
        let bytes = self.data.get(self.pos..end)?;
        self.pos = end;
        Some(bytes)
    }
}

/// The first `N` bytes of `bytes` as an array (zeros if there are fewer, which the callers'
/// length checks rule out).
fn be<const N: usize>(bytes: &[u8]) -> [u8; N] {
    bytes.get(..N).and_then(|b| b.try_into().ok()).unwrap_or([0; N])
}

fn int_at(datatype: Datatype, bytes: &[u8]) -> i64 {
    match datatype {
        Datatype::UnsignedByte => bytes.first().copied().unwrap_or(0).into(),
        Datatype::Short => i16::from_be_bytes(be(bytes)).into(),
        Datatype::Int => i32::from_be_bytes(be(bytes)).into(),
        _ => i64::from_be_bytes(be(bytes)),
    }
}

/// A `float` (also the parts of `floatComplex`) or `double` element.
fn real_at(single: bool, bytes: &[u8]) -> f64 {
    if single {
        f32::from_be_bytes(be(bytes)).into()
    } else {
        f64::from_be_bytes(be(bytes))
    }
}

/// A binary boolean: `T`/`F` (any case) or `1`/`0` as characters or bytes; `?`, space and NUL
/// are null.
fn bool_at(byte: u8) -> Result<Option<bool>, String> {
    match byte {
        b'T' | b't' | b'1' | 1 => Ok(Some(true)),
        b'F' | b'f' | b'0' => Ok(Some(false)),
        b'?' | b' ' | 0 => Ok(None),
        _ => Err(format!("the byte 0x{byte:02X} is not a valid boolean")),
    }
}

/// Bit `i` of a packed bit array, most significant bit of the first byte first.
fn bit_at(bytes: &[u8], i: usize) -> bool {
    bytes.get(i / 8).is_some_and(|b| b & (0x80 >> (i % 8)) != 0)
}

fn cell(
    plan: &Plan,
    stream: &mut Stream<'_>,
    null: bool,
    masked: bool,
    out: &mut Vec<u8>,
    scratch: &mut Scratch,
) -> Result<(), CellError> {
    let datatype = plan.datatype;
    let size = element_size(datatype);
    let byte_len = |n: usize| {
        if datatype == Datatype::Bit {
            Some(n.div_ceil(8))
        } else {
            n.checked_mul(size)
        }
    };
    let (count, variable) = match plan.shape {
        Shape::Scalar => (1, false),
        Shape::Fixed(n) => (n, false),
        Shape::Variable { slice, .. } => {
            let raw = stream.take(4).ok_or(CellError::Truncated)?;
            let count = i32::from_be_bytes(be(raw));
            let count =
                usize::try_from(count).map_err(|_| format!("the array length {count} is negative"))?;
            (count.checked_mul(slice).ok_or(CellError::Truncated)?, true)
        }
    };
    let bytes = stream
        .take(byte_len(count).ok_or(CellError::Truncated)?)
        .ok_or(CellError::Truncated)?;
    if null {
        out.extend_from_slice(NULL);
        return Ok(());
    }
    let single = matches!(datatype, Datatype::Float | Datatype::FloatComplex);
    match plan.sql {
        SqlType::Boolean if datatype == Datatype::Bit => {
            push_opt_bool(out, Some(bytes.first().is_some_and(|&b| b != 0)));
        }
        SqlType::Boolean => push_opt_bool(out, bool_at(bytes.first().copied().unwrap_or(0))?),
        SqlType::SmallInt | SqlType::Integer | SqlType::BigInt => {
            plan.push_int_scalar(out, int_at(datatype, bytes));
        }
        SqlType::Real | SqlType::Double => plan.push_real_scalar(out, real_at(single, bytes)),
        SqlType::Text | SqlType::Timestamp => match datatype {
            Datatype::FloatComplex | Datatype::DoubleComplex => {
                scratch.reals.clear();
                scratch
                    .reals
                    .extend(bytes.chunks_exact(size / 2).map(|b| real_at(single, b)));
                push_complex(out, &scratch.reals, single);
            }
            Datatype::UnicodeChar => {
                scratch.text.clear();
                let units = bytes
                    .chunks_exact(2)
                    .map(|u| u16::from_be_bytes(be(u)))
                    .take_while(|&u| u != 0);
                for c in char::decode_utf16(units) {
                    push_utf8(&mut scratch.text, c.unwrap_or(char::REPLACEMENT_CHARACTER));
                }
                plan.push_string(out, &scratch.text)?;
            }
            _ => {
                let end = bytes.iter().position(|&b| b == 0).unwrap_or(bytes.len());
                plan.push_string(out, &bytes[..end])?;
            }
        },
        SqlType::SPoint | SqlType::SCircle | SqlType::SPoly => {
            scratch.reals.clear();
            scratch
                .reals
                .extend(bytes.chunks_exact(size).map(|b| real_at(single, b)));
            push_geometry(out, plan.sql, &scratch.reals, single)?;
        }
        _ => {
            // BINARY has no null flag: a null array is written empty (variable length) or as
            // NaNs (fixed-size floating), so those read back as NULL.
            let floating = matches!(datatype, Datatype::Float | Datatype::Double);
            let empty = (variable && count == 0)
                || (floating && count > 0 && bytes.chunks_exact(size).all(|b| real_at(single, b).is_nan()));
            if !masked && empty {
                out.extend_from_slice(NULL);
                return Ok(());
            }
            push_array(out, datatype, bytes, count, single)?;
        }
    }
    Ok(())
}

/// A PostgreSQL array literal of `count` elements.
fn push_array(
    out: &mut Vec<u8>,
    datatype: Datatype,
    bytes: &[u8],
    count: usize,
    single: bool,
) -> Result<(), String> {
    let mut written = 0;
    out.push(b'{');
    match datatype {
        Datatype::Bit => {
            for i in 0..count {
                push_separator(out, &mut written);
                push_opt_bool_element(out, Some(bit_at(bytes, i)));
            }
        }
        Datatype::Boolean => {
            for &b in bytes {
                push_separator(out, &mut written);
                push_opt_bool_element(out, bool_at(b)?);
            }
        }
        Datatype::Float | Datatype::Double => {
            for element in bytes.chunks_exact(element_size(datatype)) {
                push_separator(out, &mut written);
                push_float(out, real_at(single, element), single);
            }
        }
        _ => {
            for element in bytes.chunks_exact(element_size(datatype)) {
                push_separator(out, &mut written);
                push_int(out, int_at(datatype, element));
            }
        }
    }
    out.push(b'}');
    Ok(())
}

fn push_utf8(out: &mut Vec<u8>, c: char) {
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> ReadLimits {
        ReadLimits {
            max_rows: 10,
            max_columns: 10,
        }
    }

    fn read(plans: &[Plan], data: &[u8], masked: bool) -> Result<String, ReadError> {
        let names: Vec<&str> = plans.iter().map(|_| "f").collect();
        let mut out = Vec::new();
        read_rows(plans, &names, data, masked, &limits(), &mut out)?;
        Ok(String::from_utf8(out).unwrap())
    }

    #[test]
    fn bits_booleans_and_unicode() {
        let plans = [
            Plan::new(Datatype::Bit, None, None, None).unwrap(),
            Plan::new(Datatype::Bit, Some("10"), None, None).unwrap(),
            Plan::new(Datatype::Boolean, Some("*"), None, None).unwrap(),
            Plan::new(Datatype::UnicodeChar, Some("4"), None, None).unwrap(),
        ];
        let mut data = vec![0x80, 0b1010_0000, 0b1100_0000, 0, 0, 0, 3, b'T', b'?', b'f'];
        data.extend_from_slice(&[0xD8, 0x3D, 0xDE, 0x00, 0, b'\\', 0, 0]);
        assert_eq!(
            read(&plans, &data, false).unwrap(),
            "t\t{t,f,t,f,f,f,f,f,t,t}\t{t,NULL,f}\t\u{1F600}\\\\\n"
        );
        // The same row cut short anywhere is an error, not a panic.
        for end in 0..data.len() {
            let err = read(&plans, &data[..end], false);
            assert!(end == 0 || err.is_err(), "{end}");
        }
    }

    #[test]
    fn negative_and_huge_counts() {
        let plans = [Plan::new(Datatype::Double, Some("*"), None, None).unwrap()];
        let err = read(&plans, &[0xFF, 0xFF, 0xFF, 0xFF], false).unwrap_err();
        assert_eq!(
            err.to_string(),
            "row 1: the array length -1 is negative for field 'f' (column 1)"
        );
        let err = read(&plans, &[0x7F, 0xFF, 0xFF, 0xFF, 0], false).unwrap_err();
        assert!(err.message.contains("ends inside field 'f'"), "{err}");
    }
}
