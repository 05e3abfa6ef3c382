//! VOTable 1.4 output in the TABLEDATA, BINARY and BINARY2 serialisations, and the DALI error
//! document.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::binary::{integer_null, push_votable_cell, NullStyle};
use crate::column::{check_row_length, Cell, Column, Shape, State};
use crate::textfmt::{push_array, push_int, push_plain, push_xml};
use crate::{Datatype, Ending, Error, Format, ResultWriter, Serialization, TableMeta, Value};

const PROLOG: &[u8] = b"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
<VOTABLE version=\"1.4\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\">\n\
<RESOURCE type=\"results\">\n";
const EPILOG: &[u8] = b"</RESOURCE>\n</VOTABLE>\n";

/// Raw bytes per base64 line: 57 bytes make 76 characters, the MIME line length.
const LINE_BYTES: usize = 57;
/// Raw bytes gathered before encoding (64 lines, about 4.9 KiB of base64). Encoding whole lines
/// keeps the STREAM readable and calls the encoder a few thousand times less often than
/// per row; the carry between calls is bounded by this plus one row.
const BATCH_BYTES: usize = LINE_BYTES * 64;

/// Writes a VOTable 1.4 document (namespace v1.3, which every current reader knows) holding one
/// `RESOURCE type="results"`.
///
/// Layout: `QUERY_STATUS=OK` INFO, the [`TableMeta`] INFOs (`QUERY` first) and COOSYS elements,
/// then `TABLE` with one FIELD per column and the DATA. After `</TABLE>`, still inside the
/// RESOURCE, [`Ending::Overflow`] adds `QUERY_STATUS=OVERFLOW` and [`Ending::Error`] adds
/// `QUERY_STATUS=ERROR` with the message; the document stays a single well-formed VOTable
/// either way (VT-06, VT-07). Clients take the last QUERY_STATUS.
///
/// Values:
/// * TABLEDATA: null is `<TD/>`; booleans `T`/`F`; NaN and infinities `NaN`, `+Inf`, `-Inf`;
///   array elements separated by one space; text XML-escaped (characters XML cannot carry become
///   U+FFFD, carriage returns `&#13;`).
/// * BINARY2: a null mask per row, then big-endian values; null cells hold NaN, zeros, `?` or an
///   empty array. Variable-length arrays and strings carry a 4-byte count (for `AxB...x*`
///   arrays, the number of slices along the last dimension, as STIL reads it).
/// * BINARY: no mask. Integer scalar FIELDs get `<VALUES null="...">` with the type's minimum
///   (255 for `unsignedByte`, where the minimum 0 is a common real value); a real value equal to
///   the sentinel reads back as null, which the serialisation cannot avoid. Floats use NaN,
///   booleans `?`, strings and arrays are empty. Use BINARY2 unless a client needs BINARY.
/// * `unicodeChar` is written as UTF-16 (UCS-2 plus surrogate pairs, as VOTable 1.5 defines
///   it). `char` is 7-bit ASCII (DT-03) and astropy rejects anything else in binary `char`
///   cells, so BINARY/BINARY2 write other characters as `?` (TABLEDATA, being XML, keeps them):
///   declare columns holding non-ASCII text as `unicodeChar`. Fixed-length strings are cut or
///   NUL-padded to the arraysize.
///
/// The base64 STREAM is written in 76-character lines as rows arrive; at most about 4 KiB of
/// raw row bytes wait in the writer between calls.
#[derive(Debug)]
pub struct VOTableWriter {
    serialization: Serialization,
    content_type: String,
    columns: Vec<Column>,
    state: State,
    rows: u64,
    /// BINARY/BINARY2 bytes not yet base64-encoded.
    pending: Vec<u8>,
    /// No DATA element: the header and ending only, for the VOParquet footer, where the rows
    /// are Parquet's and the VOTable describes them (VOParquet 1.0 §2.2).
    metadata_only: bool,
}

impl VOTableWriter {
    /// A writer that reports `content_type`, which should be a VOTable media type (or
    /// `text/xml`) as the client asked for it.
    pub fn new(serialization: Serialization, content_type: impl Into<String>) -> VOTableWriter {
        VOTableWriter {
            serialization,
            content_type: content_type.into(),
            columns: Vec::new(),
            state: State::Fresh,
            rows: 0,
            pending: Vec::new(),
            metadata_only: false,
        }
    }

    /// The data-less document of a VOParquet footer: the same RESOURCE, INFOs, COOSYS and
    /// FIELDs as the VOTable output, the TABLE without DATA, the ending's QUERY_STATUS after
    /// it. It is never given rows.
    pub(crate) fn metadata_only() -> VOTableWriter {
        let mut writer = VOTableWriter::new(Serialization::TableData, "application/x-votable+xml");
        writer.metadata_only = true;
        writer
    }

    /// A writer with the canonical media type,
    /// `application/x-votable+xml;serialization=<SERIALIZATION>`.
    pub fn with_serialization(serialization: Serialization) -> VOTableWriter {
        let content_type = format!(
            "application/x-votable+xml;serialization={}",
            serialization.as_str()
        );
        VOTableWriter::new(serialization, content_type)
    }

    fn write_row(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        match self.serialization {
            Serialization::TableData => {
                out.extend_from_slice(b"<TR>");
                for (i, (col, value)) in self.columns.iter().zip(values).enumerate() {
                    match col.cell(i, value)? {
                        Cell::Null => out.extend_from_slice(b"<TD/>"),
                        Cell::Bool(b) => out.extend_from_slice(if b { b"<TD>T</TD>" } else { b"<TD>F</TD>" }),
                        Cell::Text(s) => {
                            out.extend_from_slice(b"<TD>");
                            push_xml(out, s, false);
                            out.extend_from_slice(b"</TD>");
                        }
                        Cell::Array(a) => {
                            out.extend_from_slice(b"<TD>");
                            push_array(out, &a, b"T", b"F");
                            out.extend_from_slice(b"</TD>");
                        }
                        cell => {
                            out.extend_from_slice(b"<TD>");
                            push_plain(out, col, &cell);
                            out.extend_from_slice(b"</TD>");
                        }
                    }
                }
                out.extend_from_slice(b"</TR>\n");
            }
            Serialization::Binary2 => {
                let start = self.pending.len();
                let mask = self.columns.len().div_ceil(8);
                self.pending.resize(start + mask, 0);
                for (i, (col, value)) in self.columns.iter().zip(values).enumerate() {
                    let cell = col.cell(i, value)?;
                    if matches!(cell, Cell::Null) {
                        self.pending[start + i / 8] |= 0x80 >> (i % 8);
                    }
                    push_votable_cell(&mut self.pending, col, &cell, NullStyle::Masked);
                }
            }
            Serialization::Binary => {
                for (i, (col, value)) in self.columns.iter().zip(values).enumerate() {
                    let cell = col.cell(i, value)?;
                    push_votable_cell(&mut self.pending, col, &cell, NullStyle::Sentinel);
                }
            }
        }
        Ok(())
    }

    /// Encodes whole lines of pending bytes (all of them, padded, when `finish`).
    fn encode_pending(&mut self, out: &mut Vec<u8>, finish: bool) {
        if !finish && self.pending.len() < BATCH_BYTES {
            return;
        }
        let take = if finish {
            self.pending.len()
        } else {
            self.pending.len() / LINE_BYTES * LINE_BYTES
        };
        let mut line = [0u8; 4 * LINE_BYTES / 3];
        out.reserve(take / LINE_BYTES * (line.len() + 1) + line.len() + 1);
        for chunk in self.pending[..take].chunks(LINE_BYTES) {
            // `line` always has room for a 57-byte chunk, so this cannot fail.
            if let Ok(n) = STANDARD.encode_slice(chunk, &mut line) {
                out.extend_from_slice(&line[..n]);
                out.push(b'\n');
            }
        }
        self.pending.drain(..take);
    }
}

impl ResultWriter for VOTableWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        Format::VOTable(self.serialization)
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.state.expect_fresh()?;
        self.columns = Column::columns(meta.fields)?;
        out.extend_from_slice(PROLOG);
        out.extend_from_slice(b"<INFO name=\"QUERY_STATUS\" value=\"OK\"/>\n");
        if let Some(query) = meta.query {
            push_info(out, "QUERY", query);
        }
        for (name, value) in meta.infos {
            push_info(out, name, value);
        }
        for coosys in meta.coosys {
            out.extend_from_slice(b"<COOSYS");
            push_attr(out, "ID", Some(coosys.id));
            push_attr(out, "system", Some(coosys.system));
            push_attr(out, "equinox", coosys.equinox);
            push_attr(out, "epoch", coosys.epoch);
            out.extend_from_slice(b"/>\n");
        }
        out.extend_from_slice(b"<TABLE>\n");
        for (field, col) in meta.fields.iter().zip(&self.columns) {
            out.extend_from_slice(b"<FIELD");
            push_attr(out, "name", Some(&field.name));
            push_attr(out, "datatype", Some(field.datatype.as_str()));
            push_attr(out, "arraysize", field.arraysize.as_deref());
            push_attr(out, "xtype", field.xtype.as_deref());
            push_attr(out, "ref", field.reference.as_deref());
            push_attr(out, "unit", field.unit.as_deref());
            push_attr(out, "ucd", field.ucd.as_deref());
            push_attr(out, "utype", field.utype.as_deref());
            let sentinel = self.serialization == Serialization::Binary
                && col.shape == Shape::Scalar
                && matches!(
                    col.datatype,
                    Datatype::Short | Datatype::Int | Datatype::Long | Datatype::UnsignedByte
                );
            if field.description.is_none() && !sentinel {
                out.extend_from_slice(b"/>\n");
                continue;
            }
            out.push(b'>');
            if let Some(description) = &field.description {
                out.extend_from_slice(b"<DESCRIPTION>");
                push_xml(out, description, false);
                out.extend_from_slice(b"</DESCRIPTION>");
            }
            if sentinel {
                out.extend_from_slice(b"<VALUES null=\"");
                push_int(out, integer_null(col.datatype));
                out.extend_from_slice(b"\"/>");
            }
            out.extend_from_slice(b"</FIELD>\n");
        }
        if self.metadata_only {
            self.state = State::Open;
            return Ok(());
        }
        out.extend_from_slice(match self.serialization {
            Serialization::TableData => b"<DATA><TABLEDATA>\n",
            Serialization::Binary => b"<DATA><BINARY><STREAM encoding=\"base64\">\n",
            Serialization::Binary2 => b"<DATA><BINARY2><STREAM encoding=\"base64\">\n",
        });
        self.state = State::Open;
        Ok(())
    }

    fn row(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        self.state.expect_open()?;
        check_row_length(&self.columns, values)?;
        let (out_mark, pending_mark) = (out.len(), self.pending.len());
        if let Err(e) = self.write_row(out, values) {
            out.truncate(out_mark);
            self.pending.truncate(pending_mark);
            return Err(e);
        }
        self.rows += 1;
        self.encode_pending(out, false);
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
        self.state.expect_open()?;
        match self.serialization {
            _ if self.metadata_only => {}
            Serialization::TableData => out.extend_from_slice(b"</TABLEDATA></DATA>\n"),
            Serialization::Binary => {
                self.encode_pending(out, true);
                out.extend_from_slice(b"</STREAM></BINARY></DATA>\n");
            }
            Serialization::Binary2 => {
                self.encode_pending(out, true);
                out.extend_from_slice(b"</STREAM></BINARY2></DATA>\n");
            }
        }
        out.extend_from_slice(b"</TABLE>\n");
        match ending {
            Ending::Complete => {}
            Ending::Overflow => out.extend_from_slice(b"<INFO name=\"QUERY_STATUS\" value=\"OVERFLOW\"/>\n"),
            Ending::Error(message) => push_error_info(out, message),
        }
        out.extend_from_slice(EPILOG);
        self.state = State::Done;
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.rows
    }
}

fn push_attr(out: &mut Vec<u8>, name: &str, value: Option<&str>) {
    if let Some(value) = value {
        out.push(b' ');
        out.extend_from_slice(name.as_bytes());
        out.extend_from_slice(b"=\"");
        push_xml(out, value, true);
        out.push(b'"');
    }
}

fn push_info(out: &mut Vec<u8>, name: &str, value: &str) {
    out.extend_from_slice(b"<INFO");
    push_attr(out, "name", Some(name));
    push_attr(out, "value", Some(value));
    out.extend_from_slice(b"/>\n");
}

/// The exact spelling TapPlus searches for: `<INFO name="QUERY_STATUS" value="ERROR">`.
fn push_error_info(out: &mut Vec<u8>, message: &str) {
    out.extend_from_slice(b"<INFO name=\"QUERY_STATUS\" value=\"ERROR\">");
    push_xml(out, message, false);
    out.extend_from_slice(b"</INFO>\n");
}

/// Appends the DALI error document (VT-07): a VOTable whose `RESOURCE type="results"` holds
/// only `<INFO name="QUERY_STATUS" value="ERROR">message</INFO>`, and no TABLE. Use it when a
/// request fails before [`ResultWriter::begin`]; afterwards, end the open document with
/// [`Ending::Error`] instead, so the client never gets two documents in one body.
pub fn write_error_document(out: &mut Vec<u8>, message: &str) {
    out.extend_from_slice(PROLOG);
    push_error_info(out, message);
    out.extend_from_slice(EPILOG);
}

/// The DALI error document as a new buffer; see [`write_error_document`]. Serve it as
/// `application/x-votable+xml` (or `text/xml` if that is what the client asked for).
pub fn error_document(message: &str) -> Vec<u8> {
    error_document_with(message, &[])
}

/// The DALI error document with further `<INFO name value/>` elements after the
/// `QUERY_STATUS` one, e.g. where in the query the error is (`line`, `column`) for an editor
/// to mark it. DALI lets a RESOURCE hold other INFOs; clients look for `QUERY_STATUS` only,
/// so they read the document as before.
pub fn error_document_with(message: &str, infos: &[(&str, &str)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(PROLOG.len() + EPILOG.len() + message.len() + 64 + 48 * infos.len());
    out.extend_from_slice(PROLOG);
    push_error_info(&mut out, message);
    for (name, value) in infos {
        push_info(&mut out, name, value);
    }
    out.extend_from_slice(EPILOG);
    out
}
