//! ECSV 1.0, astropy's Enhanced Character Separated Values: a YAML header in `#` comment lines
//! that types every column, then plain CSV. astroquery's TapPlus asks for it with `FORMAT=ecsv`
//! and reads the answer with `Table.read(..., format="ascii.ecsv")`.

mod header;

use crate::column::{text_end, text_row, Cell, Column, Element, Shape, State, TextRows};
use crate::textfmt::{push_f32, push_f64, push_int, push_timestamp};
use crate::{Datatype, Ending, Error, Format, ResultWriter, TableMeta, Value};

/// ECSV 1.0 with a comma delimiter (declared as `delimiter: ','`) and LF line ends, written so
/// that astropy's reader gives back every value, type and null exactly.
///
/// * **Types**: `boolean` is `bool`, `short`/`int`/`long` are `int16`/`int32`/`int64`, a scalar
///   `unsignedByte` is `uint8`, `float`/`double` are `float32`/`float64`; text is `string`.
///   Unit and description are the ECSV column attributes; UCD, utype and xtype go into the
///   column's `meta` under the keys astropy's VOTable reader uses. The query and the other
///   INFOs are the table `meta`.
/// * **Arrays** (geometry, integer, float, boolean and byte arrays) are `string` columns with an
///   ECSV `subtype` such as `float64[3]` (fixed size; `AxB` arraysizes become nested lists,
///   `float64[B,A]`, the shape astropy's VOTable reader gives them) or `int32[null]` (variable
///   length; `AxB...x*` is written flat). Each value is a JSON list in a quoted field; NaN and
///   the infinities are spelled `NaN`, `Infinity`, `-Infinity` as Python's JSON reads them.
/// * **Nulls** are empty fields, which astropy reads as masked; a row whose only field is null
///   is written `""` because a blank line would be skipped. A null fixed-size array reads as an
///   array with every element masked; a null variable-length array as a masked cell.
/// * **Text** cannot tell an empty string from a null that way (astropy reads both as masked),
///   so every `char`/`unicodeChar` column is followed by a boolean mask column, `<name>.mask`,
///   tied to it in the table meta (`__serialized_columns__`, astropy's `data_mask`
///   serialization): astropy rebuilds one masked column with both empty strings and nulls.
/// * **Timestamps** are ISO 8601 strings (the DALI form every other format sends) with
///   `xtype: timestamp` in the column meta, not astropy `Time` columns: a `Time` needs a time
///   scale the database does not know, cannot hold PostgreSQL's years before 1 or after 9999,
///   and needs astropy-only YAML; `Time(table["col"])` converts when wanted.
/// * Text is quoted when it holds the delimiter, a quote, a line break, starts with `#` (the
///   line would read as a comment) or starts or ends with a space or tab. astropy's reader still
///   strips spaces and tabs at either end of a value, quoted or not, and it reads the file line
///   by line, so a value with a blank line or a line starting with `#` inside cannot be read
///   back by astropy (its own writer has the same limits).
///
/// ECSV has no place for overflow or errors: astropy skips `#` lines after the header, so a
/// trailing mark would never reach the user. [`Ending::Overflow`] and [`Ending::Error`] add
/// nothing, and [`ResultWriter::reports_errors`] is `false`, so the server aborts the transfer
/// of a failed result instead, as for CSV.
#[derive(Debug)]
pub struct EcsvWriter {
    content_type: String,
    columns: Vec<Plan>,
    /// Fields per line, mask columns included.
    fields: usize,
    state: State,
    rows: u64,
}

/// How one result column is written, worked out in `begin`.
#[derive(Debug)]
struct Plan {
    col: Column,
    /// For text columns, the name of the mask column that follows it.
    mask: Option<String>,
    /// For fixed multi-dimensional arrays, the elements in each level of nested JSON lists,
    /// innermost first (the last is the whole array); empty for one flat list.
    levels: Vec<usize>,
}

impl Plan {
    fn new(col: Column) -> Plan {
        let levels = match col.shape {
            Shape::Fixed(_) if col.dims.len() > 1 => col
                .dims
                .iter()
                .scan(1usize, |size, &d| {
                    *size = size.saturating_mul(d);
                    Some(*size)
                })
                .collect(),
            _ => Vec::new(),
        };
        Plan {
            col,
            mask: None,
            levels,
        }
    }
}

impl EcsvWriter {
    /// A writer that reports `content_type` (the client's media type or the canonical one).
    pub fn new(content_type: impl Into<String>) -> EcsvWriter {
        EcsvWriter {
            content_type: content_type.into(),
            columns: Vec::new(),
            fields: 0,
            state: State::Fresh,
            rows: 0,
        }
    }
}

/// The names of the mask columns, one per text column: `<name>.mask` as astropy writes them,
/// numbered on when the table already has a column of that name.
fn mask_names(plans: &mut [Plan]) {
    let mut taken: std::collections::HashSet<String> = plans.iter().map(|p| p.col.name.clone()).collect();
    for plan in plans.iter_mut() {
        if !matches!(plan.col.datatype, Datatype::Char | Datatype::UnicodeChar) {
            continue;
        }
        let mut name = format!("{}.mask", plan.col.name);
        let mut n = 2;
        while taken.contains(&name) {
            name = format!("{}.mask{n}", plan.col.name);
            n += 1;
        }
        taken.insert(name.clone());
        plan.mask = Some(name);
    }
}

/// A scalar float: shortest round-trip digits, or `nan`, `inf`, `-inf` as astropy writes them.
fn push_real(out: &mut Vec<u8>, datatype: Datatype, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"nan");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"inf" } else { b"-inf" });
    } else if datatype == Datatype::Float {
        push_f32(out, v as f32);
    } else {
        push_f64(out, v);
    }
}

/// A float inside a JSON list, with Python's spellings of the values JSON lacks.
fn push_json_real(out: &mut Vec<u8>, datatype: Datatype, v: f64) {
    if v.is_nan() {
        out.extend_from_slice(b"NaN");
    } else if v.is_infinite() {
        out.extend_from_slice(if v > 0.0 { b"Infinity" } else { b"-Infinity" });
    } else if datatype == Datatype::Float {
        push_f32(out, v as f32);
    } else {
        push_f64(out, v);
    }
}

/// A quoted field holding `count` elements as a JSON list, nested by `levels` (see [`Plan`]).
/// Numbers and booleans need no escaping inside the quotes.
fn push_json_list(
    out: &mut Vec<u8>,
    levels: &[usize],
    count: usize,
    mut element: impl FnMut(&mut Vec<u8>, usize),
) {
    out.push(b'"');
    if levels.is_empty() || count == 0 {
        out.push(b'[');
        for k in 0..count {
            if k > 0 {
                out.push(b',');
            }
            element(out, k);
        }
        out.push(b']');
    } else {
        for k in 0..count {
            if k > 0 {
                out.push(b',');
            }
            for &size in levels {
                if k % size == 0 {
                    out.push(b'[');
                }
            }
            element(out, k);
            for &size in levels {
                if (k + 1) % size == 0 {
                    out.push(b']');
                }
            }
        }
    }
    out.push(b'"');
}

/// Whether `text` must be quoted: see [`EcsvWriter`]. Besides CR and LF, the other characters
/// Python's `splitlines` breaks lines at are quoted too, so that astropy, which splits the file
/// that way before parsing the CSV, still finds every field of the row.
fn needs_quotes(text: &str) -> bool {
    let bytes = text.as_bytes();
    let (Some(&first), Some(&last)) = (bytes.first(), bytes.last()) else {
        return true;
    };
    if matches!(first, b'#' | b' ' | b'\t') || matches!(last, b' ' | b'\t') {
        return true;
    }
    bytes.iter().enumerate().any(|(i, &b)| match b {
        b',' | b'"' | b'\r' | b'\n' | 0x0b | 0x0c | 0x1c..=0x1e => true,
        // U+0085 (C2 85), U+2028 and U+2029 (E2 80 A8/A9).
        0xC2 => bytes.get(i + 1) == Some(&0x85),
        0xE2 => bytes.get(i + 1) == Some(&0x80) && matches!(bytes.get(i + 2), Some(0xA8 | 0xA9)),
        _ => false,
    })
}

/// A text field (a value or a column name), quoted when needed with quotes doubled.
pub(crate) fn push_field(out: &mut Vec<u8>, text: &str) {
    if !needs_quotes(text) {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    out.push(b'"');
    let mut parts = text.split('"');
    if let Some(first) = parts.next() {
        out.extend_from_slice(first.as_bytes());
    }
    for part in parts {
        out.extend_from_slice(b"\"\"");
        out.extend_from_slice(part.as_bytes());
    }
    out.push(b'"');
}

impl ResultWriter for EcsvWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        Format::Ecsv
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.state.expect_fresh()?;
        let mut plans: Vec<Plan> = Column::columns(meta.fields)?.into_iter().map(Plan::new).collect();
        mask_names(&mut plans);
        header::write(out, meta, &plans);
        self.fields = plans.len() + plans.iter().filter(|p| p.mask.is_some()).count();
        self.columns = plans;
        self.state = State::Open;
        Ok(())
    }

    fn row(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        text_row(self, out, values)
    }

    fn end(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
        text_end(self, out, ending)
    }

    fn rows(&self) -> u64 {
        self.rows
    }

    fn reports_errors(&self) -> bool {
        false
    }
}

impl TextRows for EcsvWriter {
    fn counter(&mut self) -> (&mut State, &mut u64) {
        (&mut self.state, &mut self.rows)
    }

    fn width(&self) -> usize {
        self.columns.len()
    }

    fn encode(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        for (i, (plan, value)) in self.columns.iter().zip(values).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            let cell = plan.col.cell(i, value)?;
            let datatype = plan.col.datatype;
            match cell {
                Cell::Null if self.fields == 1 => out.extend_from_slice(b"\"\""),
                Cell::Null => {}
                Cell::Bool(b) => out.extend_from_slice(if b { b"True" } else { b"False" }),
                Cell::Int(v) => push_int(out, v),
                Cell::Real(v) => push_real(out, datatype, v),
                Cell::Text(s) => push_field(out, s),
                Cell::Time(t) => push_timestamp(out, t),
                Cell::Reals(xs) => push_json_list(out, &plan.levels, xs.len(), |out, k| {
                    push_json_real(out, datatype, xs[k])
                }),
                Cell::Bytes(bs) => {
                    push_json_list(out, &plan.levels, bs.len(), |out, k| push_int(out, bs[k].into()))
                }
                Cell::Array(a) => push_json_list(out, &plan.levels, a.len(), |out, k| match a.get(k) {
                    Element::Int(v) => push_int(out, v),
                    Element::Float(x) => push_json_real(out, Datatype::Float, x.into()),
                    Element::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
                }),
            }
            if plan.mask.is_some() {
                let null = matches!(cell, Cell::Null);
                out.extend_from_slice(if null { b",True" } else { b",False" });
            }
        }
        out.push(b'\n');
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn field(text: &str) -> String {
        let mut out = Vec::new();
        push_field(&mut out, text);
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn quoting() {
        assert_eq!(field("plain é"), "plain é");
        assert_eq!(field(""), "\"\"");
        assert_eq!(field("a,b"), "\"a,b\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("l1\nl2"), "\"l1\nl2\"");
        assert_eq!(field("#x"), "\"#x\"");
        assert_eq!(field("x#"), "x#");
        assert_eq!(field(" x"), "\" x\"");
        assert_eq!(field("x\t"), "\"x\t\"");
        assert_eq!(field("a\u{2028}b"), "\"a\u{2028}b\"");
        assert_eq!(field("a\u{85}b"), "\"a\u{85}b\"");
        assert_eq!(field("a\u{2027}b"), "a\u{2027}b");
    }

    #[test]
    fn nested_lists() {
        let mut out = Vec::new();
        push_json_list(&mut out, &[2, 6], 6, |out, k| push_int(out, k as i64));
        assert_eq!(String::from_utf8(out).unwrap(), "\"[[0,1],[2,3],[4,5]]\"");
        let mut out = Vec::new();
        push_json_list(&mut out, &[], 0, |out, k| push_int(out, k as i64));
        assert_eq!(String::from_utf8(out).unwrap(), "\"[]\"");
    }

    #[test]
    fn reals() {
        let mut out = Vec::new();
        for v in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 0.1] {
            push_real(&mut out, Datatype::Double, v);
            out.push(b' ');
            push_json_real(&mut out, Datatype::Float, v);
            out.push(b' ');
        }
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "nan NaN inf Infinity -inf -Infinity 0.1 0.1 "
        );
    }
}
