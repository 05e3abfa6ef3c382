//! CSV (RFC 4180) and TSV (IANA `text/tab-separated-values`).

use crate::column::{text_end, text_row, Cell, Column, State, TextRows};
use crate::textfmt::push_plain;
use crate::{Ending, Error, Format, ResultWriter, TableMeta, Value};

/// CSV after RFC 4180 (VT-08): a header line of column names (unless the client asked for
/// `header=absent`), CRLF line ends, fields quoted when they contain a comma, a quote, CR or LF,
/// with embedded quotes doubled.
///
/// Null is an empty field; an empty string is written `""` so a reader that cares can tell the
/// two apart. Numbers, timestamps and arrays use their DALI text forms (arrays are
/// space-separated, so they never need quotes); booleans are `true`/`false`.
///
/// CSV has no place for overflow or errors (MX-05): [`Ending::Overflow`] and [`Ending::Error`]
/// add nothing, and [`ResultWriter::reports_errors`] is `false` so the server knows to abort the
/// transfer instead.
#[derive(Debug)]
pub struct CsvWriter {
    content_type: String,
    header: bool,
    columns: Vec<Column>,
    state: State,
    rows: u64,
}

impl CsvWriter {
    /// `header`: whether to write the line of column names (`header=present`, the default).
    pub fn new(content_type: impl Into<String>, header: bool) -> CsvWriter {
        CsvWriter {
            content_type: content_type.into(),
            header,
            columns: Vec::new(),
            state: State::Fresh,
            rows: 0,
        }
    }
}

fn push_csv_text(out: &mut Vec<u8>, text: &str) {
    let needs_quotes = text.is_empty() || text.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n'));
    if !needs_quotes {
        out.extend_from_slice(text.as_bytes());
        return;
    }
    out.push(b'"');
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        if b == b'"' {
            out.extend_from_slice(&bytes[start..=i]);
            out.push(b'"');
            start = i + 1;
        }
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

impl ResultWriter for CsvWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        Format::Csv
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.state.expect_fresh()?;
        self.columns = Column::columns(meta.fields)?;
        if self.header {
            for (i, field) in meta.fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                push_csv_text(out, &field.name);
            }
            out.extend_from_slice(b"\r\n");
        }
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

impl TextRows for CsvWriter {
    fn counter(&mut self) -> (&mut State, &mut u64) {
        (&mut self.state, &mut self.rows)
    }

    fn width(&self) -> usize {
        self.columns.len()
    }

    fn encode(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        for (i, (col, value)) in self.columns.iter().zip(values).enumerate() {
            if i > 0 {
                out.push(b',');
            }
            match col.cell(i, value)? {
                Cell::Null => {}
                Cell::Text(s) => push_csv_text(out, s),
                cell => push_plain(out, col, &cell),
            }
        }
        out.extend_from_slice(b"\r\n");
        Ok(())
    }
}

/// Tab-separated values: a header line of names, LF line ends, null as an empty field. Tabs,
/// newlines, carriage returns and backslashes inside text are written `\t`, `\n`, `\r`, `\\`,
/// since the format allows no tab inside a value (VT-08). Like CSV it cannot record overflow
/// or errors.
#[derive(Debug)]
pub struct TsvWriter {
    content_type: String,
    columns: Vec<Column>,
    state: State,
    rows: u64,
}

impl TsvWriter {
    /// A writer that reports `content_type` (the client's media type or the canonical one).
    pub fn new(content_type: impl Into<String>) -> TsvWriter {
        TsvWriter {
            content_type: content_type.into(),
            columns: Vec::new(),
            state: State::Fresh,
            rows: 0,
        }
    }
}

/// Escapes tab, LF, CR and backslash with a backslash; everything else is copied.
pub(crate) fn push_backslashed(out: &mut Vec<u8>, text: &str) {
    let bytes = text.as_bytes();
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let escaped: &[u8] = match b {
            b'\t' => b"\\t",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\\' => b"\\\\",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        out.extend_from_slice(escaped);
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
}

impl ResultWriter for TsvWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        Format::Tsv
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.state.expect_fresh()?;
        self.columns = Column::columns(meta.fields)?;
        for (i, field) in meta.fields.iter().enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            push_backslashed(out, &field.name);
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

    fn reports_errors(&self) -> bool {
        false
    }
}

impl TextRows for TsvWriter {
    fn counter(&mut self) -> (&mut State, &mut u64) {
        (&mut self.state, &mut self.rows)
    }

    fn width(&self) -> usize {
        self.columns.len()
    }

    fn encode(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        for (i, (col, value)) in self.columns.iter().zip(values).enumerate() {
            if i > 0 {
                out.push(b'\t');
            }
            match col.cell(i, value)? {
                Cell::Null => {}
                Cell::Text(s) => push_backslashed(out, s),
                cell => push_plain(out, col, &cell),
            }
        }
        out.push(b'\n');
        Ok(())
    }
}
