//! CSV uploads (RFC 4180), typed by inspecting every value (see the [module docs](super)).
//!
//! The input is tokenised twice: once to check the shape and choose each column's type, once to
//! write the COPY text. Tokenising is cheap next to conversion, and two passes need no memory
//! for the cells in between.

use super::copy::{check_timestamp, parse_real, Plan};
use super::{
    check_columns, check_rows, for_field, line_at, strip_bom, ReadError, ReadLimits, UploadColumn,
    UploadTable,
};
use crate::Datatype;

/// Reads a CSV upload: a header row, then data rows with the same number of fields.
pub fn read_csv(bytes: &[u8], limits: &ReadLimits) -> Result<UploadTable, ReadError> {
    let body = strip_bom(bytes);
    if let Some(pos) = body.iter().position(|&b| b == 0) {
        return Err(
            ReadError::new("the upload contains a NUL byte, so it is not CSV text")
                .at_line(line_at(body, pos)),
        );
    }
    // The last line end is optional (RFC 4180); trailing empty lines are not records either.
    let end = body.len()
        - body
            .iter()
            .rev()
            .take_while(|&&b| b == b'\n' || b == b'\r')
            .count();
    let body = &body[..end];
    if body.is_empty() {
        return Err(ReadError::new(
            "the upload is empty: CSV needs at least a header row",
        ));
    }
    let mut scratch = Vec::new();
    let mut tokens = Tokens {
        data: body,
        pos: 0,
        line: 1,
    };
    let mut names = Vec::new();
    loop {
        check_columns(names.len(), limits)?;
        let field = tokens.field()?;
        names.push(String::from_utf8_lossy(field.content(body, &mut scratch)).into_owned());
        if field.last {
            break;
        }
    }
    let data_start = (tokens.pos, tokens.line);

    // Pass 1: shape and types.
    let mut kinds = vec![Kind::default(); names.len()];
    let mut rows = 0u64;
    while tokens.pos < body.len() {
        check_rows(rows, limits)?;
        let line = tokens.line;
        let mut count = 0;
        loop {
            let field = tokens.field()?;
            if let Some(kind) = kinds.get_mut(count) {
                kind.inspect(&field, body);
            }
            count += 1;
            if field.last {
                break;
            }
        }
        rows += 1;
        if count != names.len() {
            return Err(ReadError::new(format!(
                "the row has {count} fields but the header has {}",
                names.len()
            ))
            .at_row(rows)
            .at_line(line));
        }
    }

    let plans: Vec<Plan> = kinds
        .iter()
        .map(Kind::plan)
        .collect::<Result<_, _>>()
        .map_err(ReadError::new)?;
    let columns = names
        .into_iter()
        .zip(&plans)
        .map(|(name, plan)| UploadColumn {
            name,
            datatype: plan.datatype,
            arraysize: (plan.sql == super::SqlType::Text || plan.sql == super::SqlType::Timestamp)
                .then(|| "*".to_owned()),
            xtype: (plan.sql == super::SqlType::Timestamp).then(|| "timestamp".to_owned()),
            unit: None,
            ucd: None,
            utype: None,
            description: None,
            sql_type: plan.sql,
        })
        .collect::<Vec<_>>();

    // Pass 2: the COPY text.
    (tokens.pos, tokens.line) = data_start;
    let mut copy = Vec::with_capacity(body.len() + body.len() / 4);
    let mut reals = Vec::new();
    let mut row = 0u64;
    while tokens.pos < body.len() {
        row += 1;
        let line = tokens.line;
        for (i, plan) in plans.iter().enumerate() {
            let field = tokens.field()?;
            if i > 0 {
                copy.push(b'\t');
            }
            plan.text_cell(field.content(body, &mut scratch), &mut copy, &mut reals)
                .map_err(|message| {
                    let name = columns.get(i).map_or("", |c| c.name.as_str());
                    ReadError::new(for_field(&message, name, i))
                        .at_row(row)
                        .at_line(line)
                })?;
        }
        copy.push(b'\n');
    }
    Ok(UploadTable {
        columns,
        rows,
        copy,
        serialization: "CSV",
    })
}

/// One field as found in the input.
struct Field {
    /// Byte range, quotes included.
    start: usize,
    end: usize,
    quoted: bool,
    /// Holds `""` pairs, so the content must be unescaped.
    escaped: bool,
    /// The field ends its record.
    last: bool,
}

impl Field {
    /// The field's value: the bytes themselves, or unquoted into `scratch`.
    fn content<'a>(&self, data: &'a [u8], scratch: &'a mut Vec<u8>) -> &'a [u8] {
        let raw = data.get(self.start..self.end).unwrap_or(&[]);
        if !self.quoted {
            return raw;
        }
        let inner = raw.get(1..raw.len().saturating_sub(1)).unwrap_or(&[]);
        if !self.escaped {
            return inner;
        }
        scratch.clear();
        let mut quote = false;
        for &b in inner {
            // Every quote inside is doubled: keep the first of each pair.
            if b == b'"' {
                quote = !quote;
                if !quote {
                    continue;
                }
            }
            scratch.push(b);
        }
        scratch
    }
}

struct Tokens<'a> {
    data: &'a [u8],
    pos: usize,
    line: u64,
}

impl Tokens<'_> {
    /// The next field, and the position after its separator or line end.
    fn field(&mut self) -> Result<Field, ReadError> {
        let data = self.data;
        let start = self.pos;
        if data.get(start) == Some(&b'"') {
            let open_line = self.line;
            let mut i = start + 1;
            let mut escaped = false;
            loop {
                match data.get(i) {
                    None => {
                        return Err(ReadError::new("a quoted field is not closed").at_line(open_line));
                    }
                    Some(b'"') if data.get(i + 1) == Some(&b'"') => {
                        escaped = true;
                        i += 2;
                    }
                    Some(b'"') => break,
                    Some(b'\n') => {
                        self.line += 1;
                        i += 1;
                    }
                    Some(_) => i += 1,
                }
            }
            let end = i + 1;
            let last = match data.get(end..) {
                Some([]) | None => {
                    self.pos = end;
                    true
                }
                Some([b',', ..]) => {
                    self.pos = end + 1;
                    false
                }
                Some([b'\n', ..]) => {
                    self.pos = end + 1;
                    self.line += 1;
                    true
                }
                Some([b'\r', b'\n', ..]) => {
                    self.pos = end + 2;
                    self.line += 1;
                    true
                }
                Some(_) => {
                    return Err(ReadError::new(
                        "a quoted field must be followed by a comma or the end of the line",
                    )
                    .at_line(self.line));
                }
            };
            return Ok(Field {
                start,
                end,
                quoted: true,
                escaped,
                last,
            });
        }
        let rest = data.get(start..).unwrap_or(&[]);
        let stop = rest.iter().position(|&b| b == b',' || b == b'\n');
        let (end, last) = match stop {
            None => {
                self.pos = data.len();
                (data.len(), true)
            }
            Some(n) if rest[n] == b',' => {
                self.pos = start + n + 1;
                (start + n, false)
            }
            Some(n) => {
                self.pos = start + n + 1;
                self.line += 1;
                (start + n, true)
            }
        };
        // CRLF: the CR belongs to the line end, not the field.
        let end = if last && end > start && data.get(end - 1) == Some(&b'\r') && stop.is_some() {
            end - 1
        } else {
            end
        };
        Ok(Field {
            start,
            end,
            quoted: false,
            escaped: false,
            last,
        })
    }
}

/// What the values seen so far of one column allow it to be.
#[derive(Clone, Copy, Debug)]
struct Kind {
    any: bool,
    integer: bool,
    real: bool,
    boolean: bool,
    timestamp: bool,
}

impl Default for Kind {
    fn default() -> Kind {
        Kind {
            any: false,
            integer: true,
            real: true,
            boolean: true,
            timestamp: true,
        }
    }
}

impl Kind {
    fn inspect(&mut self, field: &Field, data: &[u8]) {
        if !(self.integer || self.real || self.boolean || self.timestamp) {
            return;
        }
        let raw = data.get(field.start..field.end).unwrap_or(&[]);
        let value = if field.quoted {
            raw.get(1..raw.len().saturating_sub(1)).unwrap_or(&[])
        } else {
            raw
        };
        // Blank values are NULL in every typed column, so they say nothing about the type.
        if value.trim_ascii().is_empty() {
            return;
        }
        self.any = true;
        if field.escaped {
            // A value with a quote in it is text.
            *self = Kind {
                any: true,
                integer: false,
                real: false,
                boolean: false,
                timestamp: false,
            };
            return;
        }
        let value = value.trim_ascii();
        let text = std::str::from_utf8(value).unwrap_or("");
        self.integer &= text.parse::<i64>().is_ok();
        self.real &= parse_real(value, false).is_some();
        self.boolean &= value.eq_ignore_ascii_case(b"true") || value.eq_ignore_ascii_case(b"false");
        self.timestamp &= check_timestamp(value).is_some();
    }

    fn plan(&self) -> Result<Plan, String> {
        if !self.any {
            Plan::new(Datatype::UnicodeChar, Some("*"), None, None)
        } else if self.integer {
            Plan::new(Datatype::Long, None, None, None)
        } else if self.real {
            Plan::new(Datatype::Double, None, None, None)
        } else if self.boolean {
            Plan::new(Datatype::Boolean, None, None, None)
        } else if self.timestamp {
            Plan::new(Datatype::Char, Some("*"), Some("timestamp"), None)
        } else {
            Plan::new(Datatype::UnicodeChar, Some("*"), None, None)
        }
    }
}
