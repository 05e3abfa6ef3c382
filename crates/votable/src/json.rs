//! The ESA TAP+ JSON shape, as read by astroquery's TapPlus.

use crate::column::{text_end, text_row, Cell, Column, Element, State, TextRows};
use crate::textfmt::{push_f32, push_f64, push_int, push_json_string, push_timestamp};
use crate::{Datatype, Ending, Error, Format, ResultWriter, TableMeta, Value};

/// JSON in the shape ESA's TAP+ services return and TapPlus parses:
///
/// ```text
/// {"metadata":[{"name":..,"datatype":..,"xtype":..,"arraysize":..,"description":..,"unit":..,"ucd":..,"utype":..}, ...],
/// "data":[
/// [..],
/// [..]
/// ]}
/// ```
///
/// Every metadata key is always present (`null` when unset), in ESA's order; TapPlus reads
/// `name`, `unit` and `description` unconditionally. Null, NaN and infinities are `null`
/// (JSON has no NaN); arrays are JSON arrays; timestamps are ISO strings. Each row is on its own
/// line so the output can be followed with line tools.
///
/// For a complete result the document is exactly that object. Overflow and errors, which the
/// ESA shape has no place for, add keys after `data`: `"query_status":"OVERFLOW"`, or
/// `"query_status":"ERROR","error":"<message>"`; TapPlus ignores keys it does not know.
#[derive(Debug)]
pub struct JsonWriter {
    content_type: String,
    columns: Vec<Column>,
    state: State,
    rows: u64,
}

impl JsonWriter {
    /// A writer that reports `content_type` (the client's media type or the canonical one).
    pub fn new(content_type: impl Into<String>) -> JsonWriter {
        JsonWriter {
            content_type: content_type.into(),
            columns: Vec::new(),
            state: State::Fresh,
            rows: 0,
        }
    }
}

fn push_json_number(out: &mut Vec<u8>, datatype: Datatype, v: f64) {
    if !v.is_finite() {
        out.extend_from_slice(b"null");
    } else if datatype == Datatype::Float {
        push_f32(out, v as f32);
    } else {
        push_f64(out, v);
    }
}

fn push_opt(out: &mut Vec<u8>, key: &str, value: Option<&str>) {
    out.extend_from_slice(b",\"");
    out.extend_from_slice(key.as_bytes());
    out.extend_from_slice(b"\":");
    match value {
        Some(v) => push_json_string(out, v),
        None => out.extend_from_slice(b"null"),
    }
}

impl ResultWriter for JsonWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        Format::Json
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.state.expect_fresh()?;
        self.columns = Column::columns(meta.fields)?;
        out.extend_from_slice(b"{\"metadata\":[");
        for (i, field) in meta.fields.iter().enumerate() {
            out.extend_from_slice(if i == 0 { b"\n{\"name\":" } else { b",\n{\"name\":" });
            push_json_string(out, &field.name);
            push_opt(out, "datatype", Some(field.datatype.as_str()));
            push_opt(out, "xtype", field.xtype.as_deref());
            push_opt(out, "arraysize", field.arraysize.as_deref());
            push_opt(out, "description", field.description.as_deref());
            push_opt(out, "unit", field.unit.as_deref());
            push_opt(out, "ucd", field.ucd.as_deref());
            push_opt(out, "utype", field.utype.as_deref());
            out.push(b'}');
        }
        out.extend_from_slice(b"\n],\n\"data\":[");
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
}

impl TextRows for JsonWriter {
    fn counter(&mut self) -> (&mut State, &mut u64) {
        (&mut self.state, &mut self.rows)
    }

    fn width(&self) -> usize {
        self.columns.len()
    }

    fn encode(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        out.extend_from_slice(if self.rows == 0 { b"\n[" } else { b",\n[" });
        for (i, (col, value)) in self.columns.iter().zip(values).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match col.cell(i, value)? {
                Cell::Null => out.extend_from_slice(b"null"),
                Cell::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
                Cell::Int(v) => push_int(out, v),
                Cell::Real(v) => push_json_number(out, col.datatype, v),
                Cell::Text(s) => push_json_string(out, s),
                Cell::Time(t) => {
                    out.push(b'"');
                    push_timestamp(out, t);
                    out.push(b'"');
                }
                Cell::Reals(xs) => {
                    out.push(b'[');
                    for (j, &x) in xs.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        push_json_number(out, col.datatype, x);
                    }
                    out.push(b']');
                }
                Cell::Bytes(bs) => {
                    out.push(b'[');
                    for (j, &b) in bs.iter().enumerate() {
                        if j > 0 {
                            out.push(b',');
                        }
                        push_int(out, b.into());
                    }
                    out.push(b']');
                }
                Cell::Array(a) => {
                    out.push(b'[');
                    a.push_each(out, b',', |out, e| match e {
                        Element::Int(v) => push_int(out, v),
                        Element::Float(x) => push_json_number(out, Datatype::Float, x.into()),
                        Element::Bool(b) => out.extend_from_slice(if b { b"true" } else { b"false" }),
                    });
                    out.push(b']');
                }
            }
        }
        out.push(b']');
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
        out.extend_from_slice(b"\n]");
        match ending {
            Ending::Complete => {}
            Ending::Overflow => out.extend_from_slice(b",\n\"query_status\":\"OVERFLOW\""),
            Ending::Error(message) => {
                out.extend_from_slice(b",\n\"query_status\":\"ERROR\",\n\"error\":");
                push_json_string(out, message);
            }
        }
        out.extend_from_slice(b"}\n");
        Ok(())
    }
}
