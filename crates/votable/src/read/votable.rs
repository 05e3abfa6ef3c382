//! VOTable documents: the first TABLE's FIELDs, then its TABLEDATA, BINARY or BINARY2 DATA.
//!
//! quick-xml pulls events straight out of the borrowed input, so TABLEDATA cells are copied
//! once into a reused buffer (entities decoded, line ends normalised as XML requires) and
//! converted from there. The whole document is read to its end, so a file cut off after the
//! table is still reported as truncated.

use base64::alphabet;
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{DecodeError, Engine as _};
use quick_xml::errors::IllFormedError;
use quick_xml::events::attributes::Attribute;
use quick_xml::events::{BytesStart, Event};
use quick_xml::Reader;

use super::binary::read_rows;
use super::copy::Plan;
use super::{
    check_columns, check_rows, for_field, line_at, strip_bom, ReadError, ReadLimits, UploadColumn,
    UploadTable,
};
use crate::Datatype;

/// Base64 as VOTable streams use it; padding is accepted but not required, since a missing
/// `=` loses nothing and some writers leave it out.
const BASE64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new()
        .with_decode_padding_mode(DecodePaddingMode::Indifferent)
        .with_decode_allow_trailing_bits(true),
);

/// Reads the first TABLE of a VOTable document (see the [module docs](super) for what is
/// accepted and how values are converted).
pub fn read_votable(bytes: &[u8], limits: &ReadLimits) -> Result<UploadTable, ReadError> {
    let body = strip_bom(bytes);
    let mut doc = Doc {
        reader: Reader::from_reader(body),
        body,
        depth: 0,
    };
    doc.find_table()?;
    let table = doc.read_table(limits)?;
    doc.finish()?;
    Ok(table)
}

const TRUNCATED: &str = "the document ends inside an open element: the upload is truncated";

/// The parser and the element depth (quick-xml checks that end tags match, but not that the
/// document ends with every element closed).
struct Doc<'a> {
    reader: Reader<&'a [u8]>,
    body: &'a [u8],
    depth: usize,
}

/// The rows read from a DATA element, as COPY text.
struct Data {
    rows: u64,
    copy: Vec<u8>,
    serialization: &'static str,
}

/// Whether an element has this local name (any namespace prefix, any VOTable version).
fn named(e: &BytesStart<'_>, name: &[u8]) -> bool {
    e.local_name().as_ref() == name
}

impl<'a> Doc<'a> {
    fn line_at(&self, pos: u64) -> u64 {
        line_at(self.body, usize::try_from(pos).unwrap_or(usize::MAX))
    }

    /// The line of the last event read.
    fn line(&self) -> u64 {
        self.line_at(self.reader.buffer_position())
    }

    fn error(&self, message: impl Into<String>) -> ReadError {
        ReadError::new(message).at_line(self.line())
    }

    fn next(&mut self) -> Result<Event<'a>, ReadError> {
        match self.reader.read_event() {
            Ok(event) => {
                match &event {
                    Event::Start(_) => self.depth += 1,
                    Event::End(_) => self.depth = self.depth.saturating_sub(1),
                    Event::Eof if self.depth > 0 => return Err(self.error(TRUNCATED)),
                    _ => {}
                }
                Ok(event)
            }
            Err(e) => Err(self.xml_error(e)),
        }
    }

    /// A quick-xml error, at the line where quick-xml places it (the start of the bad markup).
    fn xml_error(&self, e: quick_xml::Error) -> ReadError {
        let line = self.line_at(self.reader.error_position());
        ReadError::new(format!("the upload is not well-formed XML: {e}")).at_line(line)
    }

    /// The next child element of the current element, and whether it has content (a start
    /// tag rather than an empty-element tag); `None` at the current element's end tag. Text,
    /// comments and processing instructions between children are passed over.
    fn next_child(&mut self) -> Result<Option<(BytesStart<'a>, bool)>, ReadError> {
        loop {
            match self.next()? {
                Event::Start(e) => return Ok(Some((e, true))),
                Event::Empty(e) => return Ok(Some((e, false))),
                Event::End(_) => return Ok(None),
                _ => {}
            }
        }
    }

    /// An attribute of an element just read (see [`attribute`]), errors placed at its line.
    fn attr(&self, e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, ReadError> {
        attribute(e, name).map_err(|m| self.error(m))
    }

    /// Skips the rest of an element whose start tag was just read.
    fn skip(&mut self, start: &BytesStart<'_>) -> Result<(), ReadError> {
        match self.reader.read_to_end(start.name()) {
            Ok(_) => {
                self.depth = self.depth.saturating_sub(1);
                Ok(())
            }
            Err(quick_xml::Error::IllFormed(IllFormedError::MissingEndTag(_))) => Err(self.error(TRUNCATED)),
            Err(e) => Err(self.xml_error(e)),
        }
    }

    /// Reads up to and including the start tag of the first TABLE.
    fn find_table(&mut self) -> Result<(), ReadError> {
        let mut root = false;
        loop {
            match self.next()? {
                Event::Start(e) | Event::Empty(e) if !root => {
                    if !named(&e, b"VOTABLE") {
                        return Err(self.error(format!(
                            "this is not a VOTable: the root element is <{}>, not <VOTABLE>",
                            String::from_utf8_lossy(e.name().as_ref())
                        )));
                    }
                    root = true;
                    if self.depth == 0 {
                        return Err(self.error("the VOTable has no TABLE"));
                    }
                }
                Event::Start(e) if named(&e, b"TABLE") => return Ok(()),
                Event::Empty(e) if named(&e, b"TABLE") => {
                    return Err(self.error("the first TABLE has no FIELD"))
                }
                Event::Text(t) if !root && !t.iter().all(u8::is_ascii_whitespace) => {
                    return Err(self.error("this is not a VOTable: there is text before the first element"))
                }
                Event::Eof if root => return Err(self.error("the VOTable has no TABLE")),
                Event::Eof => return Err(self.error("this is not a VOTable: there is no root element")),
                _ => {}
            }
        }
    }

    /// Reads the FIELDs and DATA of the TABLE just opened, up to its end tag.
    fn read_table(&mut self, limits: &ReadLimits) -> Result<UploadTable, ReadError> {
        let mut columns = Vec::new();
        let mut plans = Vec::new();
        let mut data: Option<Data> = None;
        while let Some((e, open)) = self.next_child()? {
            if named(&e, b"FIELD") {
                if data.is_some() {
                    return Err(self.error(format!(
                        "FIELD '{}' comes after the DATA",
                        self.attr(&e, b"name")?.unwrap_or_default()
                    )));
                }
                check_columns(columns.len(), limits)?;
                let (column, plan) = self.field(&e, open)?;
                columns.push(column);
                plans.push(plan);
            } else if named(&e, b"DATA") && columns.is_empty() {
                return Err(self.error("the TABLE has no FIELD before its DATA"));
            } else if named(&e, b"DATA") && open && data.is_none() {
                let names: Vec<&str> = columns.iter().map(|c: &UploadColumn| c.name.as_str()).collect();
                data = Some(self.data(&plans, &names, limits)?);
            } else if open {
                self.skip(&e)?;
            }
        }
        if columns.is_empty() {
            return Err(self.error("the first TABLE has no FIELD"));
        }
        let data = data.unwrap_or(Data {
            rows: 0,
            copy: Vec::new(),
            serialization: "TABLEDATA",
        });
        Ok(UploadTable {
            columns,
            rows: data.rows,
            copy: data.copy,
            serialization: data.serialization,
        })
    }

    /// One FIELD: its attributes and, if it has content, DESCRIPTION and VALUES.
    fn field(&mut self, start: &BytesStart<'_>, content: bool) -> Result<(UploadColumn, Plan), ReadError> {
        let (body, pos) = (self.body, self.reader.buffer_position());
        let at = |message: String| {
            ReadError::new(message).at_line(line_at(body, usize::try_from(pos).unwrap_or(usize::MAX)))
        };
        let name = match (self.attr(start, b"name")?, self.attr(start, b"ID")?) {
            (Some(name), _) | (None, Some(name)) => name,
            (None, None) => return Err(at("a FIELD has no name".to_owned())),
        };
        let datatype_name = self
            .attr(start, b"datatype")?
            .ok_or_else(|| at(format!("FIELD '{name}' has no datatype")))?;
        let datatype = Datatype::from_name(&datatype_name).ok_or_else(|| {
            at(format!(
                "FIELD '{name}' has an unknown datatype '{datatype_name}'"
            ))
        })?;
        let arraysize = self.attr(start, b"arraysize")?;
        let xtype = self.attr(start, b"xtype")?;
        let mut description = None;
        let mut null = None;
        if content {
            loop {
                match self.next()? {
                    Event::Start(e) if named(&e, b"DESCRIPTION") => {
                        let mut text = Vec::new();
                        self.text_content(&mut text, true)?;
                        let text = String::from_utf8(text)
                            .unwrap_or_else(|e| latin1(e.as_bytes()))
                            .trim()
                            .to_owned();
                        description = Some(text);
                    }
                    Event::Empty(e) if named(&e, b"VALUES") => null = self.attr(&e, b"null")?,
                    Event::Start(e) if named(&e, b"VALUES") => {
                        null = self.attr(&e, b"null")?;
                        self.skip(&e)?;
                    }
                    Event::Start(e) => self.skip(&e)?,
                    Event::End(_) => break,
                    _ => {}
                }
            }
        }
        let plan = Plan::new(datatype, arraysize.as_deref(), xtype.as_deref(), null.as_deref())
            .map_err(|message| at(format!("FIELD '{name}': {message}")))?;
        let column = UploadColumn {
            name,
            datatype,
            arraysize,
            xtype,
            unit: self.attr(start, b"unit")?,
            ucd: self.attr(start, b"ucd")?,
            utype: self.attr(start, b"utype")?,
            description,
            sql_type: plan.sql,
        };
        Ok((column, plan))
    }

    /// The content of DATA: one TABLEDATA, BINARY or BINARY2 (FITS is refused).
    fn data(&mut self, plans: &[Plan], names: &[&str], limits: &ReadLimits) -> Result<Data, ReadError> {
        let mut data = Data {
            rows: 0,
            copy: Vec::new(),
            serialization: "TABLEDATA",
        };
        loop {
            match self.next()? {
                Event::Start(e) => match e.local_name().as_ref() {
                    b"TABLEDATA" => {
                        data.copy.reserve(self.body.len() / 2);
                        data.rows = self.tabledata(plans, names, limits, &mut data.copy)?;
                    }
                    b"BINARY" | b"BINARY2" => {
                        let masked = e.local_name().as_ref() == b"BINARY2";
                        data.serialization = if masked { "BINARY2" } else { "BINARY" };
                        let stream = self.stream()?;
                        data.copy.reserve(stream.len() * 2);
                        data.rows = read_rows(plans, names, &stream, masked, limits, &mut data.copy)?;
                    }
                    b"FITS" => return Err(fits_error(self.line())),
                    _ => self.skip(&e)?,
                },
                Event::Empty(e) => match e.local_name().as_ref() {
                    b"BINARY" => data.serialization = "BINARY",
                    b"BINARY2" => data.serialization = "BINARY2",
                    b"FITS" => return Err(fits_error(self.line())),
                    _ => {}
                },
                Event::End(_) => return Ok(data),
                _ => {}
            }
        }
    }

    /// The rows of a TABLEDATA element whose start tag was just read.
    fn tabledata(
        &mut self,
        plans: &[Plan],
        names: &[&str],
        limits: &ReadLimits,
        out: &mut Vec<u8>,
    ) -> Result<u64, ReadError> {
        let mut rows = 0u64;
        let mut cell = Vec::new();
        let mut reals = Vec::new();
        loop {
            match self.next()? {
                Event::Start(e) if named(&e, b"TR") => {
                    check_rows(rows, limits)?;
                    let row = rows + 1;
                    // Positions, not lines: counting lines is left to the error path.
                    let tr_pos = self.reader.buffer_position();
                    let mut column = 0;
                    while let Some((td, open)) = self.next_child()? {
                        if !named(&td, b"TD") {
                            return Err(self
                                .error(format!(
                                    "<{}> inside a TR; only TD elements belong there",
                                    String::from_utf8_lossy(td.name().as_ref())
                                ))
                                .at_row(row));
                        }
                        let td_pos = self.reader.buffer_position();
                        let Some(plan) = plans.get(column) else {
                            return Err(self
                                .error(format!(
                                    "the row has more TD elements than the table has FIELDs ({})",
                                    plans.len()
                                ))
                                .at_row(row));
                        };
                        if !td.attributes_raw().trim_ascii().is_empty()
                            && self.attr(&td, b"encoding")?.is_some()
                        {
                            return Err(self
                                .error("TD elements with an encoding attribute are not supported")
                                .at_row(row));
                        }
                        cell.clear();
                        if open {
                            self.text_content(&mut cell, false).map_err(|e| e.at_row(row))?;
                        }
                        if column > 0 {
                            out.push(b'\t');
                        }
                        if let Err(message) = plan.text_cell(&cell, out, &mut reals) {
                            let name = names.get(column).unwrap_or(&"");
                            return Err(ReadError::new(for_field(&message, name, column))
                                .at_row(row)
                                .at_line(self.line_at(td_pos)));
                        }
                        column += 1;
                    }
                    if column != plans.len() {
                        return Err(ReadError::new(format!(
                            "the row has {column} TD elements but the table has {} FIELDs",
                            plans.len()
                        ))
                        .at_row(row)
                        .at_line(self.line_at(tr_pos)));
                    }
                    out.push(b'\n');
                    rows = row;
                }
                Event::Empty(e) if named(&e, b"TR") => {
                    return Err(self
                        .error(format!(
                            "the row has no TD elements but the table has {} FIELDs",
                            plans.len()
                        ))
                        .at_row(rows + 1));
                }
                Event::Start(e) | Event::Empty(e) => {
                    return Err(self.error(format!(
                        "<{}> inside TABLEDATA; only TR elements belong there",
                        String::from_utf8_lossy(e.name().as_ref())
                    )))
                }
                Event::End(_) => return Ok(rows),
                _ => {}
            }
        }
    }

    /// Appends the text of the element just opened up to its end tag: text, CDATA and
    /// entities, line ends normalised. Child elements are an error in a TD; elsewhere
    /// (`children`) they are skipped.
    fn text_content(&mut self, out: &mut Vec<u8>, children: bool) -> Result<(), ReadError> {
        loop {
            match self.next()? {
                Event::Text(t) => push_normalized(out, &t),
                Event::CData(t) => push_normalized(out, &t),
                Event::GeneralRef(r) => resolve_entity(&r, out).map_err(|m| self.error(m))?,
                Event::End(_) => return Ok(()),
                Event::Start(e) if children => self.skip(&e)?,
                Event::Empty(_) if children => {}
                Event::Start(e) | Event::Empty(e) => {
                    return Err(self.error(format!(
                        "<{}> inside a TD; a cell holds only text",
                        String::from_utf8_lossy(e.name().as_ref())
                    )))
                }
                _ => {}
            }
        }
    }

    /// The decoded bytes of the STREAM inside the BINARY/BINARY2 element just opened.
    fn stream(&mut self) -> Result<Vec<u8>, ReadError> {
        let mut text = Vec::new();
        let mut pos = self.reader.buffer_position();
        loop {
            match self.next()? {
                Event::Start(e) | Event::Empty(e) if !named(&e, b"STREAM") => {
                    return Err(self.error(format!(
                        "<{}> inside BINARY; only a STREAM belongs there",
                        String::from_utf8_lossy(e.name().as_ref())
                    )))
                }
                Event::Start(e) => {
                    check_stream(&e).map_err(|m| self.error(m))?;
                    pos = self.reader.buffer_position();
                    self.base64_content(&mut text)?;
                }
                Event::Empty(e) => check_stream(&e).map_err(|m| self.error(m))?,
                Event::End(_) => break,
                _ => {}
            }
        }
        let mut data = Vec::with_capacity(text.len() / 4 * 3 + 3);
        BASE64.decode_vec(&text, &mut data).map_err(|e| {
            let why = match e {
                DecodeError::InvalidByte(at, byte) | DecodeError::InvalidLastSymbol(at, byte) => {
                    format!("character {} is '{}'", at + 1, char::from(byte).escape_default())
                }
                DecodeError::InvalidLength(n) => format!("{n} characters do not make whole bytes"),
                DecodeError::InvalidPadding => "the '=' padding is wrong".to_owned(),
            };
            ReadError::new(format!(
                "the STREAM is not valid base64 ({why}): the upload is truncated or corrupt"
            ))
            .at_line(self.line_at(pos))
        })?;
        Ok(data)
    }

    /// Gathers the base64 characters of a STREAM, without the whitespace between lines.
    fn base64_content(&mut self, out: &mut Vec<u8>) -> Result<(), ReadError> {
        loop {
            match self.next()? {
                Event::Text(t) => out.extend(t.iter().filter(|b| !b.is_ascii_whitespace())),
                Event::CData(t) => out.extend(t.iter().filter(|b| !b.is_ascii_whitespace())),
                Event::GeneralRef(r) => {
                    let mut bytes = Vec::new();
                    resolve_entity(&r, &mut bytes).map_err(|m| self.error(m))?;
                    out.extend(bytes.iter().filter(|b| !b.is_ascii_whitespace()));
                }
                Event::End(_) => return Ok(()),
                Event::Start(e) | Event::Empty(e) => {
                    return Err(self.error(format!(
                        "<{}> inside a STREAM; it holds only base64 text",
                        String::from_utf8_lossy(e.name().as_ref())
                    )))
                }
                _ => {}
            }
        }
    }

    /// Reads the rest of the document, so that truncation and malformed XML after the table
    /// are still reported.
    fn finish(&mut self) -> Result<(), ReadError> {
        loop {
            match self.next()? {
                Event::Eof => return Ok(()),
                Event::Start(e) => self.skip(&e)?,
                _ => {}
            }
        }
    }
}

fn fits_error(line: u64) -> ReadError {
    ReadError::new("the FITS serialization of VOTable is not supported; send TABLEDATA, BINARY or BINARY2")
        .at_line(line)
}

/// Refuses STREAMs this reader cannot follow: external data and other encodings.
fn check_stream(e: &BytesStart<'_>) -> Result<(), String> {
    if attribute(e, b"href")?.is_some() {
        return Err("STREAM href (external data) is not supported; send the table data inline".to_owned());
    }
    match attribute(e, b"encoding")? {
        None => Ok(()),
        Some(encoding) if encoding.trim().eq_ignore_ascii_case("base64") => Ok(()),
        Some(encoding) => Err(format!(
            "STREAM encoding '{encoding}' is not supported; inline streams must be base64"
        )),
    }
}

/// An attribute by local name, entities decoded and whitespace normalised (XML 1.0 §3.3.3).
fn attribute(e: &BytesStart<'_>, name: &[u8]) -> Result<Option<String>, String> {
    for a in e.attributes() {
        let a: Attribute<'_> = a.map_err(|err| format!("the upload is not well-formed XML: {err}"))?;
        if a.key.local_name().as_ref() != name {
            continue;
        }
        let mut value = Vec::with_capacity(a.value.len());
        let mut rest: &[u8] = &a.value;
        while let Some(amp) = rest.iter().position(|&b| b == b'&') {
            value.extend(rest[..amp].iter().map(|&b| {
                if matches!(b, b'\t' | b'\n' | b'\r') {
                    b' '
                } else {
                    b
                }
            }));
            let after = &rest[amp + 1..];
            let semi = after
                .iter()
                .position(|&b| b == b';')
                .ok_or("the upload is not well-formed XML: '&' without ';' in an attribute")?;
            resolve_entity(&after[..semi], &mut value)?;
            rest = &after[semi + 1..];
        }
        value.extend(rest.iter().map(|&b| {
            if matches!(b, b'\t' | b'\n' | b'\r') {
                b' '
            } else {
                b
            }
        }));
        return Ok(Some(
            String::from_utf8(value).unwrap_or_else(|e| latin1(e.as_bytes())),
        ));
    }
    Ok(None)
}

/// Bytes that are not UTF-8, read as Latin-1.
fn latin1(bytes: &[u8]) -> String {
    bytes.iter().map(|&b| char::from(b)).collect()
}

/// The five predefined entities and character references; anything else (entities declared
/// in a DTD) is refused rather than silently dropped.
fn resolve_entity(name: &[u8], out: &mut Vec<u8>) -> Result<(), String> {
    let c = match name {
        b"lt" => '<',
        b"gt" => '>',
        b"amp" => '&',
        b"quot" => '"',
        b"apos" => '\'',
        [b'#', b'x' | b'X', hex @ ..] => char_ref(hex, 16)?,
        [b'#', decimal @ ..] => char_ref(decimal, 10)?,
        _ => {
            return Err(format!(
                "the entity '&{};' is not defined (only the XML predefined entities are)",
                String::from_utf8_lossy(name)
            ))
        }
    };
    let mut buf = [0u8; 4];
    out.extend_from_slice(c.encode_utf8(&mut buf).as_bytes());
    Ok(())
}

fn char_ref(digits: &[u8], radix: u32) -> Result<char, String> {
    let bad = || {
        format!(
            "'&#{};' is not a valid character reference",
            String::from_utf8_lossy(digits)
        )
    };
    let text = std::str::from_utf8(digits).map_err(|_| bad())?;
    let code = u32::from_str_radix(text, radix).map_err(|_| bad())?;
    char::from_u32(code).filter(|&c| c != '\0').ok_or_else(bad)
}

/// Appends text with XML line-end normalisation: CR LF and a lone CR become LF.
fn push_normalized(out: &mut Vec<u8>, text: &[u8]) {
    if !text.contains(&b'\r') {
        out.extend_from_slice(text);
        return;
    }
    let mut i = 0;
    while i < text.len() {
        if text[i] == b'\r' {
            out.push(b'\n');
            if text.get(i + 1) == Some(&b'\n') {
                i += 1;
            }
        } else {
            out.push(text[i]);
        }
        i += 1;
    }
}
