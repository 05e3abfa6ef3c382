//! FITS binary table output (a primary HDU without data, then one BINTABLE extension).

use crate::binary::{element_size, integer_null, push_ascii, push_int_be, push_real_be, with_text};
use crate::column::{Cell, Column, Shape, State};
use crate::{Datatype, Ending, Error, Format, Patch, ResultWriter, TableMeta, Value};

/// Byte width given to `char`/`unicodeChar` columns declared `arraysize="*"` (no bound).
pub const DEFAULT_FITS_STRING_WIDTH: usize = 64;
/// Width of `*` timestamp columns: `YYYY-MM-DDThh:mm:ss.ffffff`.
const TIMESTAMP_WIDTH: usize = 26;
const BLOCK: usize = 2880;
const CARD: usize = 80;
/// Cards reserved after `QSTATUS` for an error message (about 390 characters).
const MESSAGE_CARDS: usize = 6;
const MAX_COLUMNS: usize = 999;

type Card = [u8; CARD];

/// How one column is stored in a row.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Layout {
    /// One element.
    Scalar,
    /// `n` elements in the row.
    Fixed(usize),
    /// `nA`: text cut or NUL-padded to this many bytes.
    Text(usize),
    /// `1P?(max)`: an 8-byte descriptor in the row, the elements in the heap.
    Heap,
}

#[derive(Debug)]
struct FitsColumn {
    column: Column,
    layout: Layout,
    /// Longest heap array so far, for `TFORMn = '1PD(max)'`.
    max_len: usize,
    /// Index of the `TFORMn` card (rewritten at the end for heap columns).
    tform_card: usize,
}

/// Indices of the header cards whose values are only known at the end.
#[derive(Debug, Default)]
struct Slots {
    naxis2: usize,
    pcount: usize,
    status: usize,
    truncated: usize,
    message: usize,
}

/// A FITS file with the result in a binary table (BINTABLE) extension.
///
/// # Why the output must be spooled
///
/// FITS puts the row count (`NAXIS2`) and heap size (`PCOUNT`) in the header, before the data,
/// and neither is known until the last row. Every header card is 80 bytes whatever its value,
/// so [`begin`](ResultWriter::begin) writes the header at its final size with placeholders
/// (`NAXIS2 = 0`, `QSTATUS = 'INCOMPLETE'`), rows follow as they come, and after
/// [`end`](ResultWriter::end) [`patch`](ResultWriter::patch) returns the final header to write
/// at offset 0 ([`Patch::apply`] does that on a `Write + Seek`). The server therefore spools
/// FITS results to a temporary file ([`ResultWriter::needs_patch`] is `true`), patches it, and
/// only then sends it, which also lets it answer an error document instead if the query fails.
///
/// # Columns
///
/// | VOTable | TFORM | null |
/// |---|---|---|
/// | boolean | `L` | byte 0 |
/// | short, int, long | `I`, `J`, `K` | `TNULLn` = type minimum |
/// | unsignedByte | `B` | `TNULLn = 255` (scalars only; byte arrays have no null) |
/// | float, double | `E`, `D` | NaN |
/// | fixed arrays (`2`, `3`, `2x3`) | `nD` etc., `TDIMn` for more than one dimension | NaN / TNULL |
/// | variable arrays (`*`, `n*`: polygons, blobs, integer, float and boolean arrays) | `1PD(max)`, `1PB(max)`, `1PJ(max)`, `1PL(max)` etc. | empty array |
/// | char, unicodeChar | `nA` (ASCII; other characters become `?`) | empty string |
///
/// Strings have a fixed width: `n` for `n` and `n*`, 26 for `*` timestamps, and
/// [`DEFAULT_FITS_STRING_WIDTH`] (or the width given to [`FitsWriter::with_string_width`]) for
/// other `*` strings. Longer values are cut; the `NTRUNC` card counts them. FITS strings are
/// ASCII, so characters outside it are written as `?` (ask for VOTable to keep them). Fixed
/// widths keep strings out of the heap, which must be held in memory (below).
///
/// Variable-length numeric arrays go to the heap, which FITS places after all rows; the writer
/// keeps it in memory until `end` (only these arrays: for a polygon column roughly 8 bytes per
/// vertex coordinate per row) and fails with [`Error::FitsHeapFull`] past 2 GiB, the limit of
/// 32-bit `P` descriptors.
///
/// Names, units, UCDs, utypes and descriptions go into `TTYPEn`, `TUNITn`, `TUCDn`, `TUTYPn`
/// and `TCOMMn` (long values use the `CONTINUE` long-string convention; non-ASCII characters
/// become `?`). The query is in `QUERY`, other INFOs in `COMMENT` cards, and the ending in
/// `QSTATUS` (`OK`, `OVERFLOW`, `ERROR`, with the message in `QERROR`).
#[derive(Debug)]
pub struct FitsWriter {
    content_type: String,
    string_width: usize,
    columns: Vec<FitsColumn>,
    /// The extension header without `END`.
    cards: Vec<Card>,
    slots: Slots,
    row_width: usize,
    heap: Vec<u8>,
    rows: u64,
    truncated: u64,
    state: State,
}

impl FitsWriter {
    /// A writer with [`DEFAULT_FITS_STRING_WIDTH`] for unbounded strings.
    pub fn new(content_type: impl Into<String>) -> FitsWriter {
        FitsWriter::with_string_width(content_type, DEFAULT_FITS_STRING_WIDTH)
    }

    /// Like [`new`](Self::new) with another byte width for unbounded (`*`) strings.
    pub fn with_string_width(content_type: impl Into<String>, string_width: usize) -> FitsWriter {
        FitsWriter {
            content_type: content_type.into(),
            string_width: string_width.max(1),
            columns: Vec::new(),
            cards: Vec::new(),
            slots: Slots::default(),
            row_width: 0,
            heap: Vec::new(),
            rows: 0,
            truncated: 0,
            state: State::Fresh,
        }
    }

    fn layout(&self, column: &Column) -> Layout {
        let text = matches!(column.datatype, Datatype::Char | Datatype::UnicodeChar);
        match column.shape {
            Shape::Scalar if text => Layout::Text(1),
            Shape::Scalar => Layout::Scalar,
            Shape::Fixed(n) | Shape::Variable { max: Some(n), .. } if text => Layout::Text(n),
            Shape::Variable { .. } if text => Layout::Text(if column.timestamp {
                TIMESTAMP_WIDTH
            } else {
                self.string_width
            }),
            Shape::Fixed(n) => Layout::Fixed(n),
            Shape::Variable { .. } => Layout::Heap,
        }
    }

    /// The primary HDU and the extension header as they stand (placeholders until `end`).
    fn header(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(BLOCK + (self.cards.len() + 1).div_ceil(36) * BLOCK);
        for card in [
            logical_card("SIMPLE", true, "conforms to FITS standard"),
            int_card("BITPIX", 8, "no primary data"),
            int_card("NAXIS", 0, "no primary data"),
            logical_card("EXTEND", true, "the result is in the first extension"),
            keyword_card("END"),
        ] {
            out.extend_from_slice(&card);
        }
        pad(&mut out, b' ');
        for card in &self.cards {
            out.extend_from_slice(card);
        }
        out.extend_from_slice(&keyword_card("END"));
        pad(&mut out, b' ');
        out
    }

    fn write_row(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<u64, Error> {
        let mut truncated = 0;
        for (i, (fc, value)) in self.columns.iter_mut().zip(values).enumerate() {
            let col = &fc.column;
            let dt = col.datatype;
            let cell = col.cell(i, value)?;
            match fc.layout {
                Layout::Text(width) => {
                    let (written, cut) = with_text(&cell, |s| push_ascii(out, s, width));
                    truncated += u64::from(cut);
                    out.resize(out.len() + width - written, 0);
                }
                Layout::Scalar => match cell {
                    Cell::Bool(b) => out.push(if b { b'T' } else { b'F' }),
                    Cell::Int(v) => push_int_be(out, dt, v),
                    Cell::Real(v) => push_real_be(out, dt, v),
                    _ => push_null(out, dt, 1, true),
                },
                Layout::Fixed(n) => match cell {
                    Cell::Reals(xs) => xs.iter().for_each(|&x| push_real_be(out, dt, x)),
                    Cell::Bytes(bs) => out.extend_from_slice(bs),
                    Cell::Array(a) => a.push_be(out),
                    _ => push_null(out, dt, n, false),
                },
                Layout::Heap => {
                    let offset = self.heap.len();
                    let count = match cell {
                        Cell::Reals(xs) => {
                            xs.iter().for_each(|&x| push_real_be(&mut self.heap, dt, x));
                            xs.len()
                        }
                        Cell::Bytes(bs) => {
                            self.heap.extend_from_slice(bs);
                            bs.len()
                        }
                        Cell::Array(a) => {
                            a.push_be(&mut self.heap);
                            a.len()
                        }
                        _ => 0,
                    };
                    if self.heap.len() > i32::MAX as usize {
                        return Err(Error::FitsHeapFull);
                    }
                    fc.max_len = fc.max_len.max(count);
                    let offset = if count == 0 { 0 } else { offset };
                    out.extend_from_slice(&(count as i32).to_be_bytes());
                    out.extend_from_slice(&(offset as i32).to_be_bytes());
                }
            }
        }
        Ok(truncated)
    }
}

/// Nulls in a row: TNULL for integers (not for byte arrays), NaN for floats, 0 otherwise.
fn push_null(out: &mut Vec<u8>, datatype: Datatype, count: usize, scalar: bool) {
    for _ in 0..count {
        match datatype {
            Datatype::Short | Datatype::Int | Datatype::Long => {
                push_int_be(out, datatype, integer_null(datatype))
            }
            Datatype::UnsignedByte if scalar => out.push(integer_null(datatype) as u8),
            Datatype::Float | Datatype::Double => push_real_be(out, datatype, f64::NAN),
            _ => out.resize(out.len() + element_size(datatype), 0),
        }
    }
}

fn type_letter(datatype: Datatype) -> char {
    match datatype {
        Datatype::Boolean => 'L',
        Datatype::Short => 'I',
        Datatype::Int => 'J',
        Datatype::Long => 'K',
        Datatype::Float => 'E',
        Datatype::Double => 'D',
        Datatype::UnsignedByte => 'B',
        Datatype::Char | Datatype::UnicodeChar => 'A',
        // The FITS letters, for completeness: `Column::from_field` refuses these fields.
        Datatype::Bit => 'X',
        Datatype::FloatComplex => 'C',
        Datatype::DoubleComplex => 'M',
    }
}

fn tform(fc: &FitsColumn) -> String {
    let letter = type_letter(fc.column.datatype);
    match fc.layout {
        Layout::Scalar => format!("1{letter}"),
        Layout::Fixed(n) | Layout::Text(n) => format!("{n}{letter}"),
        Layout::Heap => format!("1P{letter}({})", fc.max_len),
    }
}

fn row_bytes(fc: &FitsColumn) -> usize {
    let size = element_size(fc.column.datatype);
    match fc.layout {
        Layout::Scalar => size,
        Layout::Fixed(n) => n * size,
        Layout::Text(n) => n,
        Layout::Heap => 8,
    }
}

fn pad(out: &mut Vec<u8>, fill: u8) {
    let rest = out.len() % BLOCK;
    if rest != 0 {
        out.resize(out.len() + BLOCK - rest, fill);
    }
}

fn blank_card() -> Card {
    [b' '; CARD]
}

/// A card from already-formatted text, cut or space-padded to 80 columns.
fn card_from(text: &str) -> Card {
    let mut card = blank_card();
    for (slot, b) in card.iter_mut().zip(text.bytes()) {
        *slot = b;
    }
    card
}

fn keyword_card(keyword: &str) -> Card {
    card_from(keyword)
}

fn with_comment(mut text: String, comment: &str) -> Card {
    if !comment.is_empty() {
        text.push_str(" / ");
        text.push_str(comment);
    }
    card_from(&text)
}

fn int_card(keyword: &str, value: i64, comment: &str) -> Card {
    with_comment(format!("{keyword:<8}= {value:>20}"), comment)
}

fn logical_card(keyword: &str, value: bool, comment: &str) -> Card {
    with_comment(
        format!("{keyword:<8}= {:>20}", if value { "T" } else { "F" }),
        comment,
    )
}

/// FITS header text is printable ASCII; anything else becomes `?`.
fn sanitize(text: &str) -> String {
    text.chars()
        .map(|c| if (' '..='~').contains(&c) { c } else { '?' })
        .collect()
}

/// A string-valued keyword on one card, for values known to be short (a longer value would be
/// cut at the end of the card).
fn string_card(keyword: &str, value: &str, comment: &str) -> Card {
    let quoted = format!("'{:<8}'", sanitize(value).replace('\'', "''"));
    // Comments start in column 32, as for numbers, when the value is short enough.
    with_comment(format!("{keyword:<8}= {quoted:<20}"), comment)
}

/// A string-valued keyword, continued over `CONTINUE` cards (the long-string convention) when
/// the quoted value does not fit one card.
fn string_cards(keyword: &str, value: &str, comment: &str) -> Vec<Card> {
    let value = sanitize(value);
    let escaped_len: usize = value.chars().map(|c| if c == '\'' { 2 } else { 1 }).sum();
    if escaped_len <= 68 {
        return vec![string_card(keyword, &value, comment)];
    }
    // Split into pieces of at most 67 escaped characters, each but the last followed by `&`.
    let mut pieces = Vec::new();
    let mut piece = String::new();
    let mut piece_len = 0;
    for c in value.chars() {
        let width = if c == '\'' { 2 } else { 1 };
        if piece_len + width > 67 {
            pieces.push(std::mem::take(&mut piece));
            piece_len = 0;
        }
        piece.push(c);
        piece_len += width;
    }
    pieces.push(piece);
    let last = pieces.len() - 1;
    pieces
        .iter()
        .enumerate()
        .map(|(i, piece)| {
            let amp = if i == last { "" } else { "&" };
            let quoted = format!("'{}{amp}'", piece.replace('\'', "''"));
            if i == 0 {
                card_from(&format!("{keyword:<8}= {quoted}"))
            } else {
                card_from(&format!("CONTINUE  {quoted}"))
            }
        })
        .collect()
}

/// `COMMENT` cards holding `text`, wrapped at 72 characters.
fn comment_cards(text: &str) -> Vec<Card> {
    let text = sanitize(text);
    let chars: Vec<char> = text.chars().collect();
    chars
        .chunks(72)
        .map(|chunk| card_from(&format!("COMMENT {}", chunk.iter().collect::<String>())))
        .collect()
}

impl ResultWriter for FitsWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        Format::Fits
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.state.expect_fresh()?;
        let columns = Column::columns(meta.fields)?;
        if columns.len() > MAX_COLUMNS {
            return Err(Error::UnsupportedField {
                column: MAX_COLUMNS + 1,
                name: columns[MAX_COLUMNS].name.clone(),
                reason: "a FITS table has at most 999 columns",
            });
        }
        self.columns = columns
            .into_iter()
            .map(|column| FitsColumn {
                layout: self.layout(&column),
                column,
                max_len: 0,
                tform_card: 0,
            })
            .collect();
        self.row_width = self.columns.iter().map(row_bytes).sum();

        let mut cards = vec![
            string_card("XTENSION", "BINTABLE", "binary table extension"),
            int_card("BITPIX", 8, "8-bit bytes"),
            int_card("NAXIS", 2, "2-dimensional table"),
            int_card("NAXIS1", self.row_width as i64, "bytes per row"),
            int_card("NAXIS2", 0, "number of rows"),
            int_card("PCOUNT", 0, "heap size in bytes"),
            int_card("GCOUNT", 1, "one data group"),
            int_card("TFIELDS", self.columns.len() as i64, "number of columns"),
        ];
        self.slots.naxis2 = 4;
        self.slots.pcount = 5;
        for (i, (fc, field)) in self.columns.iter_mut().zip(meta.fields).enumerate() {
            let n = i + 1;
            cards.extend(string_cards(&format!("TTYPE{n}"), &field.name, ""));
            fc.tform_card = cards.len();
            cards.push(string_card(&format!("TFORM{n}"), &tform(fc), ""));
            let dt = fc.column.datatype;
            let integer = matches!(dt, Datatype::Short | Datatype::Int | Datatype::Long);
            if integer || (dt == Datatype::UnsignedByte && fc.layout == Layout::Scalar) {
                cards.push(int_card(&format!("TNULL{n}"), integer_null(dt), ""));
            }
            if fc.column.dims.len() > 1 && matches!(fc.layout, Layout::Fixed(_)) {
                let dims: Vec<String> = fc.column.dims.iter().map(usize::to_string).collect();
                cards.extend(string_cards(
                    &format!("TDIM{n}"),
                    &format!("({})", dims.join(",")),
                    "",
                ));
            }
            for (key, value) in [
                ("TUNIT", &field.unit),
                ("TUCD", &field.ucd),
                ("TUTYP", &field.utype),
                ("TCOMM", &field.description),
            ] {
                if let Some(value) = value {
                    cards.extend(string_cards(&format!("{key}{n}"), value, ""));
                }
            }
        }
        cards.extend(string_cards("EXTNAME", "RESULTS", "TAP query result"));
        cards.extend(string_cards(
            "LONGSTRN",
            "OGIP 1.0",
            "CONTINUE cards may follow string values",
        ));
        if let Some(query) = meta.query {
            cards.extend(string_cards("QUERY", query, ""));
        }
        for (name, value) in meta.infos {
            cards.extend(comment_cards(&format!("{name}: {value}")));
        }
        self.slots.truncated = cards.len();
        cards.push(int_card("NTRUNC", 0, "strings cut to their column width"));
        self.slots.status = cards.len();
        cards.push(string_card("QSTATUS", "INCOMPLETE", "OK, OVERFLOW or ERROR"));
        self.slots.message = cards.len();
        cards.extend(std::iter::repeat_n(blank_card(), MESSAGE_CARDS));
        self.cards = cards;

        out.extend_from_slice(&self.header());
        self.state = State::Open;
        Ok(())
    }

    fn row(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        self.state.expect_open()?;
        if values.len() != self.columns.len() {
            return Err(Error::RowLength {
                expected: self.columns.len(),
                got: values.len(),
            });
        }
        let (mark, heap_mark) = (out.len(), self.heap.len());
        match self.write_row(out, values) {
            Ok(truncated) => {
                self.truncated += truncated;
                self.rows += 1;
                Ok(())
            }
            Err(e) => {
                out.truncate(mark);
                self.heap.truncate(heap_mark);
                Err(e)
            }
        }
    }

    fn end(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
        self.state.expect_open()?;
        out.extend_from_slice(&self.heap);
        let data = self.rows as u128 * self.row_width as u128 + self.heap.len() as u128;
        let rest = (data % BLOCK as u128) as usize;
        if rest != 0 {
            out.resize(out.len() + BLOCK - rest, 0);
        }

        self.cards[self.slots.naxis2] = int_card("NAXIS2", self.rows as i64, "number of rows");
        self.cards[self.slots.pcount] = int_card("PCOUNT", self.heap.len() as i64, "heap size in bytes");
        for i in 0..self.columns.len() {
            if self.columns[i].layout == Layout::Heap {
                let at = self.columns[i].tform_card;
                self.cards[at] = string_card(&format!("TFORM{}", i + 1), &tform(&self.columns[i]), "");
            }
        }
        self.cards[self.slots.truncated] = int_card(
            "NTRUNC",
            self.truncated as i64,
            "strings cut to their column width",
        );
        let (status, message) = match ending {
            Ending::Complete => ("OK", None),
            Ending::Overflow => ("OVERFLOW", None),
            Ending::Error(message) => ("ERROR", Some(message)),
        };
        self.cards[self.slots.status] = string_card("QSTATUS", status, "OK, OVERFLOW or ERROR");
        if let Some(message) = message {
            // Keep the message within the reserved cards (at most 66 characters per card
            // once quotes are doubled and a piece may end early).
            let mut budget = MESSAGE_CARDS * 66 - 3;
            let mut short = String::new();
            for c in sanitize(message).chars() {
                let width = if c == '\'' { 2 } else { 1 };
                if width > budget {
                    short.push_str("...");
                    break;
                }
                budget -= width;
                short.push(c);
            }
            for (k, card) in string_cards("QERROR", &short, "")
                .into_iter()
                .take(MESSAGE_CARDS)
                .enumerate()
            {
                self.cards[self.slots.message + k] = card;
            }
        }
        self.state = State::Done;
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.rows
    }

    fn needs_patch(&self) -> bool {
        true
    }

    fn patch(&self) -> Option<Patch> {
        (self.state == State::Done).then(|| Patch {
            offset: 0,
            bytes: self.header(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(card: &Card) -> &str {
        std::str::from_utf8(card).unwrap()
    }

    #[test]
    fn cards() {
        assert_eq!(
            text(&int_card("NAXIS2", 12, "")).trim_end(),
            "NAXIS2  =                   12"
        );
        assert_eq!(
            text(&int_card("TNULL1", i64::MIN, "")).trim_end(),
            "TNULL1  = -9223372036854775808"
        );
        assert_eq!(
            text(&logical_card("SIMPLE", true, "")).trim_end(),
            "SIMPLE  =                    T"
        );
        let cards = string_cards("TTYPE1", "it's", "");
        assert_eq!(text(&cards[0]).trim_end(), "TTYPE1  = 'it''s   '");
        let long = "x'".repeat(40);
        let cards = string_cards("TCOMM1", &long, "");
        assert_eq!(cards.len(), 2);
        let joined: String = cards
            .iter()
            .map(|c| {
                let t = text(c);
                let v = &t[10..].trim_end();
                v[1..v.len() - 1].trim_end_matches('&').replace("''", "'")
            })
            .collect();
        assert_eq!(joined, long);
        assert!(text(&cards[1]).starts_with("CONTINUE  '"));
        assert_eq!(text(&comment_cards("é")[0]).trim_end(), "COMMENT ?");
    }
}
