//! A minimal HTML5 page holding the result table.

use crate::column::{text_end, text_row, Cell, Column, State, TextRows};
use crate::textfmt::{push_plain, push_u64, push_xml};
use crate::{Ending, Error, Format, ResultWriter, TableMeta, Value};

/// A standalone, valid HTML5 document: the query in a `<pre>`, then a `<table>` whose header
/// cells show the column name with the unit, UCD and description in a `title` tooltip. All text
/// is escaped; null cells are empty. Overflow and errors are reported in a paragraph after the
/// table. No scripts or styles, so it renders anywhere.
#[derive(Debug)]
pub struct HtmlWriter {
    content_type: String,
    columns: Vec<Column>,
    state: State,
    rows: u64,
}

impl HtmlWriter {
    /// A writer that reports `content_type` (the client's media type or the canonical one).
    pub fn new(content_type: impl Into<String>) -> HtmlWriter {
        HtmlWriter {
            content_type: content_type.into(),
            columns: Vec::new(),
            state: State::Fresh,
            rows: 0,
        }
    }
}

impl ResultWriter for HtmlWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        Format::Html
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.state.expect_fresh()?;
        self.columns = Column::columns(meta.fields)?;
        out.extend_from_slice(
            b"<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
<title>Query result</title>\n</head>\n<body>\n",
        );
        if let Some(query) = meta.query {
            out.extend_from_slice(b"<pre>");
            push_xml(out, query, false);
            out.extend_from_slice(b"</pre>\n");
        }
        out.extend_from_slice(b"<table>\n<thead>\n<tr>");
        for field in meta.fields {
            let mut tip = String::new();
            for (label, value) in [
                ("unit", &field.unit),
                ("ucd", &field.ucd),
                ("description", &field.description),
            ] {
                if let Some(value) = value {
                    if !tip.is_empty() {
                        tip.push('\n');
                    }
                    tip.push_str(label);
                    tip.push_str(": ");
                    tip.push_str(value);
                }
            }
            out.extend_from_slice(b"<th");
            if !tip.is_empty() {
                out.extend_from_slice(b" title=\"");
                push_xml(out, &tip, true);
                out.push(b'"');
            }
            out.push(b'>');
            push_xml(out, &field.name, false);
            out.extend_from_slice(b"</th>");
        }
        out.extend_from_slice(b"</tr>\n</thead>\n<tbody>\n");
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

impl TextRows for HtmlWriter {
    fn counter(&mut self) -> (&mut State, &mut u64) {
        (&mut self.state, &mut self.rows)
    }

    fn width(&self) -> usize {
        self.columns.len()
    }

    fn encode(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        out.extend_from_slice(b"<tr>");
        for (i, (col, value)) in self.columns.iter().zip(values).enumerate() {
            out.extend_from_slice(b"<td>");
            match col.cell(i, value)? {
                Cell::Null => {}
                Cell::Text(s) => push_xml(out, s, false),
                cell => push_plain(out, col, &cell),
            }
            out.extend_from_slice(b"</td>");
        }
        out.extend_from_slice(b"</tr>\n");
        Ok(())
    }

    fn finish(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
        out.extend_from_slice(b"</tbody>\n</table>\n");
        match ending {
            Ending::Complete => {}
            Ending::Overflow => {
                out.extend_from_slice(b"<p>Only the first ");
                push_u64(out, self.rows);
                out.extend_from_slice(b" rows are shown: the row limit (MAXREC) was reached.</p>\n");
            }
            Ending::Error(message) => {
                out.extend_from_slice(b"<p><strong>Error:</strong> ");
                push_xml(out, message, false);
                out.extend_from_slice(b"</p>\n");
            }
        }
        out.extend_from_slice(b"</body>\n</html>\n");
        Ok(())
    }
}
