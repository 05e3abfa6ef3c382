//! Human-readable aligned text.

use crate::column::{text_end, text_row, Cell, Column, Shape, State, TextRows};
use crate::csv::push_backslashed;
use crate::textfmt::{push_plain, push_u64};
use crate::{Datatype, Ending, Error, Field, Format, ResultWriter, TableMeta, Value};

/// Widest column the declared arraysize can ask for; longer values still print in full.
const MAX_WIDTH: usize = 64;

/// Aligned columns for people, in the style of `psql`:
///
/// ```text
///   id | ra        | name
/// -----+-----------+------
///    1 | 266.25    | abc
/// (1 row)
/// ```
///
/// Rows stream, so widths cannot come from the data. Each column's width is the larger of its
/// name and a hint from its metadata: the arraysize for strings and arrays (capped at 64), and
/// a fixed width per numeric type big enough for typical values (`long` 20, `double` 20,
/// `float` 13, `int` 11, ...); `*` strings get 20 (23 for timestamps, which fits milliseconds).
/// A longer value is printed in full and pushes the rest of its line to the right rather than
/// being cut: the text format is for reading, and losing data there would be worse than a
/// ragged line. Numbers are right-aligned, everything else left-aligned.
///
/// Null is blank; tabs and line breaks in text appear as `\t`, `\n`, `\r` (and a backslash as
/// `\\`) so every row stays on one line. The last line counts the rows and says whether the
/// row limit cut the result or an error ended it.
#[derive(Debug)]
pub struct TextWriter {
    content_type: String,
    columns: Vec<Column>,
    widths: Vec<usize>,
    state: State,
    rows: u64,
    /// One formatted cell, reused so rows allocate nothing.
    scratch: Vec<u8>,
}

impl TextWriter {
    /// A writer that reports `content_type` (the client's media type or the canonical one).
    pub fn new(content_type: impl Into<String>) -> TextWriter {
        TextWriter {
            content_type: content_type.into(),
            columns: Vec::new(),
            widths: Vec::new(),
            state: State::Fresh,
            rows: 0,
            scratch: Vec::new(),
        }
    }
}

/// Characters (not bytes) in UTF-8 text, for alignment.
fn display_width(text: &[u8]) -> usize {
    text.iter().filter(|&&b| (b & 0xC0) != 0x80).count()
}

fn push_aligned(out: &mut Vec<u8>, text: &[u8], width: usize, right: bool, last: bool) {
    let pad = width.saturating_sub(display_width(text));
    if right {
        out.resize(out.len() + pad, b' ');
        out.extend_from_slice(text);
    } else {
        out.extend_from_slice(text);
        if !last {
            out.resize(out.len() + pad, b' ');
        }
    }
}

fn width_hint(col: &Column) -> usize {
    let numeric = |dt: Datatype| match dt {
        Datatype::Boolean => 5,
        Datatype::Short => 6,
        Datatype::Int => 11,
        Datatype::Long | Datatype::Double => 20,
        Datatype::Float => 13,
        Datatype::UnsignedByte => 3,
        Datatype::Char | Datatype::UnicodeChar | Datatype::Bit => 1,
        // Never reached: `Column::from_field` refuses complex fields.
        Datatype::FloatComplex | Datatype::DoubleComplex => 27,
    };
    let text = matches!(col.datatype, Datatype::Char | Datatype::UnicodeChar);
    let hint = match col.shape {
        Shape::Scalar => numeric(col.datatype),
        Shape::Fixed(n) | Shape::Variable { max: Some(n), .. } if text => n,
        Shape::Variable { .. } if text => {
            if col.timestamp {
                23
            } else {
                20
            }
        }
        // Arrays of numbers: about ten characters per element (a degree value with a few
        // decimals), elements separated by spaces.
        Shape::Fixed(n) => n.saturating_mul(11).saturating_sub(1),
        Shape::Variable { .. } => 40,
    };
    hint.clamp(1, MAX_WIDTH)
}

impl ResultWriter for TextWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        Format::Text
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.state.expect_fresh()?;
        self.columns = Column::columns(meta.fields)?;
        self.widths = self
            .columns
            .iter()
            .zip(meta.fields)
            .map(|(col, field): (&Column, &Field)| width_hint(col).max(display_width(field.name.as_bytes())))
            .collect();
        let last = self.columns.len() - 1;
        for (i, (col, field)) in self.columns.iter().zip(meta.fields).enumerate() {
            if i > 0 {
                out.extend_from_slice(b" | ");
            }
            self.scratch.clear();
            push_backslashed(&mut self.scratch, &field.name);
            push_aligned(
                out,
                &self.scratch,
                self.widths[i],
                col.is_numeric_scalar(),
                i == last,
            );
        }
        out.push(b'\n');
        for (i, &width) in self.widths.iter().enumerate() {
            if i > 0 {
                out.extend_from_slice(b"-+-");
            }
            out.resize(out.len() + width, b'-');
        }
        out.push(b'\n');
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

impl TextRows for TextWriter {
    fn counter(&mut self) -> (&mut State, &mut u64) {
        (&mut self.state, &mut self.rows)
    }

    fn width(&self) -> usize {
        self.columns.len()
    }

    fn encode(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        let last = self.columns.len() - 1;
        for (i, (col, value)) in self.columns.iter().zip(values).enumerate() {
            self.scratch.clear();
            match col.cell(i, value)? {
                Cell::Null => {}
                Cell::Text(s) => push_backslashed(&mut self.scratch, s),
                cell => push_plain(&mut self.scratch, col, &cell),
            }
            if i > 0 {
                out.extend_from_slice(b" | ");
            }
            push_aligned(
                out,
                &self.scratch,
                self.widths[i],
                col.is_numeric_scalar(),
                i == last,
            );
        }
        out.push(b'\n');
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
        out.push(b'(');
        push_u64(out, self.rows);
        out.extend_from_slice(if self.rows == 1 { b" row" } else { b" rows" });
        match ending {
            Ending::Complete => out.extend_from_slice(b")\n"),
            Ending::Overflow => {
                out.extend_from_slice(b"; the row limit (MAXREC) was reached and more rows exist)\n")
            }
            Ending::Error(message) => {
                out.extend_from_slice(b")\nERROR: ");
                push_backslashed(out, message);
                out.push(b'\n');
            }
        }
        Ok(())
    }
}
