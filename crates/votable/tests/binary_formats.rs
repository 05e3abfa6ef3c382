//! BINARY2 and BINARY decoded back with a small independent decoder, and FITS taken apart card by
//! card and row by row.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use common::{fields, rows, text, write_all, write_format};
use votable::{Datatype, Ending, Field, ResultWriter, TableMeta, Value};

/// A decoded cell. Floats compare bitwise so NaN can be checked.
#[derive(Debug, Clone, PartialEq)]
enum D {
    Null,
    Bool(u8),
    Int(i64),
    Real(u64),
    Text(String),
    Reals(Vec<u64>),
    Bytes(Vec<u8>),
}

fn real(v: f64) -> D {
    D::Real(v.to_bits())
}

fn reals(vs: &[f64]) -> D {
    D::Reals(vs.iter().map(|v| v.to_bits()).collect())
}

/// f32 values widened, as the decoder reports them.
fn reals32(vs: &[f64]) -> D {
    D::Reals(vs.iter().map(|&v| f64::from(v as f32).to_bits()).collect())
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let s = &self.bytes[self.at..self.at + n];
        self.at += n;
        s
    }
    fn int(&mut self, n: usize) -> i64 {
        let s = self.take(n);
        match n {
            1 => i64::from(s[0]),
            2 => i64::from(i16::from_be_bytes([s[0], s[1]])),
            4 => i64::from(i32::from_be_bytes(s.try_into().unwrap())),
            _ => i64::from_be_bytes(s.try_into().unwrap()),
        }
    }
    fn float(&mut self, dt: Datatype) -> u64 {
        if dt == Datatype::Float {
            f64::from(f32::from_be_bytes(self.take(4).try_into().unwrap())).to_bits()
        } else {
            f64::from_be_bytes(self.take(8).try_into().unwrap()).to_bits()
        }
    }
    fn done(&self) -> bool {
        self.at == self.bytes.len()
    }
}

/// Element count of a fixed arraysize, or None for variable / scalar.
fn fixed_count(field: &Field) -> Option<usize> {
    let a = field.arraysize.as_deref()?;
    if a.ends_with('*') {
        return None;
    }
    Some(a.split('x').map(|d| d.parse::<usize>().unwrap()).product())
}

fn decode_cell(r: &mut Reader<'_>, field: &Field) -> D {
    let dt = field.datatype;
    let variable = field.arraysize.as_deref().is_some_and(|a| a.ends_with('*'));
    let count = if variable {
        Some(r.int(4) as usize)
    } else {
        fixed_count(field)
    };
    match dt {
        Datatype::Char | Datatype::UnicodeChar => {
            let n = count.unwrap_or(1);
            if dt == Datatype::Char {
                let s = r.take(n).to_vec();
                let end = s.iter().position(|&b| b == 0).unwrap_or(s.len());
                D::Text(String::from_utf8(s[..end].to_vec()).unwrap())
            } else {
                let units: Vec<u16> = r
                    .take(2 * n)
                    .chunks(2)
                    .map(|c| u16::from_be_bytes([c[0], c[1]]))
                    .collect();
                let end = units.iter().position(|&u| u == 0).unwrap_or(units.len());
                D::Text(String::from_utf16(&units[..end]).unwrap())
            }
        }
        Datatype::Float | Datatype::Double => match count {
            None => D::Real(r.float(dt)),
            Some(n) => D::Reals((0..n).map(|_| r.float(dt)).collect()),
        },
        Datatype::UnsignedByte if count.is_some() => D::Bytes(r.take(count.unwrap()).to_vec()),
        Datatype::Boolean => D::Bool(r.take(1)[0]),
        Datatype::Short => D::Int(r.int(2)),
        Datatype::Int => D::Int(r.int(4)),
        Datatype::Long => D::Int(r.int(8)),
        Datatype::UnsignedByte => D::Int(r.int(1)),
        Datatype::Bit | Datatype::FloatComplex | Datatype::DoubleComplex => {
            unreachable!("the writers refuse {dt} fields")
        }
    }
}

fn stream_bytes(doc: &str) -> Vec<u8> {
    let start = doc.find("<STREAM encoding=\"base64\">").unwrap() + "<STREAM encoding=\"base64\">".len();
    let end = doc.find("</STREAM>").unwrap();
    let b64 = &doc[start..end];
    for line in b64.lines() {
        assert!(line.len() <= 76, "base64 line of {} characters", line.len());
    }
    let compact: String = b64.chars().filter(|c| !c.is_whitespace()).collect();
    STANDARD.decode(compact).unwrap()
}

/// Decodes a BINARY2 (`masked`) or BINARY stream into rows of cells; a flagged cell is `Null`.
fn decode(doc: &str, fields: &[Field], masked: bool) -> Vec<Vec<D>> {
    let bytes = stream_bytes(doc);
    let mut r = Reader { bytes: &bytes, at: 0 };
    let mut rows = Vec::new();
    while !r.done() {
        let mask = if masked {
            r.take(fields.len().div_ceil(8)).to_vec()
        } else {
            Vec::new()
        };
        let row = fields
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let cell = decode_cell(&mut r, f);
                if masked && mask[i / 8] & (0x80 >> (i % 8)) != 0 {
                    D::Null
                } else {
                    cell
                }
            })
            .collect();
        rows.push(row);
    }
    rows
}

fn expected_rows() -> [Vec<D>; 2] {
    [
        vec![
            D::Bool(b'T'),
            D::Int(1),
            D::Int(2),
            D::Int(3),
            real(1.5),
            real(2.25),
            D::Text("a<b&\"c\"".into()),
            D::Text("é✓".into()),
            D::Text("AB".into()),
            D::Int(7),
            D::Text("2024-07-01T01:02:03.500".into()),
            reals(&common::POS1),
            reals(&common::CIRC1),
            reals(&common::POLY1),
            D::Bytes(common::BLOB1.to_vec()),
            D::Text("x".into()),
            reals32(&common::M1),
        ],
        vec![
            D::Bool(b'F'),
            D::Int(-32767),
            D::Int(i32::MAX.into()),
            D::Int(i64::MAX),
            real(f64::from(f32::NAN)),
            real(f64::NEG_INFINITY),
            D::Text("line1\nline2,\ttab".into()),
            D::Text(String::new()),
            // Fixed char[4]: cut to the arraysize.
            D::Text("ABCD".into()),
            D::Int(0),
            D::Text("1970-01-01T00:00:00".into()),
            reals(&common::POS2),
            reals(&common::CIRC2),
            D::Reals(vec![]),
            D::Bytes(vec![]),
            D::Text("y".into()),
            reals32(&common::M2),
        ],
    ]
}

#[test]
fn binary2_round_trip() {
    let fields = fields();
    let doc = text(&write_format("votable/b2", Ending::Complete));
    assert!(doc.contains("<DATA><BINARY2><STREAM encoding=\"base64\">\n"));
    assert!(doc.contains("</STREAM></BINARY2></DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n"));
    let decoded = decode(&doc, &fields, true);
    let [row1, row2] = expected_rows();
    assert_eq!(decoded, vec![row1, row2, vec![D::Null; 17]]);

    // The null row's contents: mask FF FF 80, then zeros / NaN / '?' / empty arrays.
    let bytes = stream_bytes(&doc);
    let null_row =
        &bytes[bytes.len() - 3 - (1 + 2 + 4 + 8 + 4 + 8 + 4 + 4 + 4 + 1 + 4 + 16 + 24 + 4 + 4 + 1 + 16)..];
    assert_eq!(&null_row[..4], &[0xFF, 0xFF, 0x80, b'?']);
    assert_eq!(&null_row[4..18], &[0; 14]);
    assert_eq!(&null_row[18..22], &f32::NAN.to_be_bytes());
    assert_eq!(&null_row[22..30], &f64::NAN.to_be_bytes());
}

#[test]
fn binary_round_trip_with_sentinels() {
    let fields = fields();
    let doc = text(&write_format("votable/binary", Ending::Complete));
    for (name, null) in [("s", "-32768"), ("i", "-2147483648"), ("ub", "255")] {
        assert!(doc.contains(&format!("<FIELD name=\"{name}\"")));
        assert!(doc.contains(&format!("><VALUES null=\"{null}\"/></FIELD>")));
    }
    assert!(doc.contains(
        "<FIELD name=\"l\" datatype=\"long\" ucd=\"meta.id;meta.main\"><DESCRIPTION>row &lt;id&gt; &amp; \
         \"key\"</DESCRIPTION><VALUES null=\"-9223372036854775808\"/></FIELD>"
    ));
    // No sentinel for floats, strings, arrays or booleans.
    assert_eq!(doc.matches("<VALUES").count(), 4);
    assert!(doc.contains("<DATA><BINARY><STREAM encoding=\"base64\">\n"));
    let decoded = decode(&doc, &fields, false);
    let [row1, row2] = expected_rows();
    let nan = f64::NAN;
    let null_row = vec![
        D::Bool(b'?'),
        D::Int(i16::MIN.into()),
        D::Int(i32::MIN.into()),
        D::Int(i64::MIN),
        real(f64::from(f32::NAN)),
        real(nan),
        D::Text(String::new()),
        D::Text(String::new()),
        D::Text(String::new()),
        D::Int(255),
        D::Text(String::new()),
        reals(&[nan, nan]),
        reals(&[nan, nan, nan]),
        D::Reals(vec![]),
        D::Bytes(vec![]),
        D::Text(String::new()),
        reals32(&[nan; 4]),
    ];
    assert_eq!(decoded, vec![row1, row2, null_row]);
}

#[test]
fn default_votable_is_binary2() {
    let mut writer = votable::writer_for("votable").unwrap();
    assert_eq!(
        writer.format(),
        votable::Format::VOTable(votable::Serialization::Binary2)
    );
    assert_eq!(writer.content_type(), "application/x-votable+xml");
    let doc = text(&write_all(writer.as_mut(), Ending::Overflow));
    assert!(doc.contains("<BINARY2>"));
    assert!(doc
        .ends_with("</TABLE>\n<INFO name=\"QUERY_STATUS\" value=\"OVERFLOW\"/>\n</RESOURCE>\n</VOTABLE>\n"));
    let mut writer = votable::writer_for("text/xml").unwrap();
    assert_eq!(writer.content_type(), "text/xml");
    let doc = text(&write_all(writer.as_mut(), Ending::Error("late failure")));
    assert!(doc.ends_with(
        "</STREAM></BINARY2></DATA>\n</TABLE>\n<INFO name=\"QUERY_STATUS\" value=\"ERROR\">late failure</INFO>\n\
         </RESOURCE>\n</VOTABLE>\n"
    ));
    assert_eq!(decode(&doc, &fields(), true).len(), 3);
}

#[test]
fn long_binary2_stream_is_chunked_and_complete() {
    let fields = fields();
    let meta = TableMeta::new(&fields);
    let mut writer = votable::writer_for("votable/b2").unwrap();
    let mut doc = Vec::new();
    writer.begin(&mut doc, &meta).unwrap();
    let rows = rows();
    let mut flushed = Vec::new();
    let mut largest_buffer = 0;
    for i in 0..20_000 {
        writer.row(&mut doc, &rows[i % 3]).unwrap();
        largest_buffer = largest_buffer.max(doc.len());
        // What a server does: flush the buffer once it passes a threshold.
        if doc.len() >= 8192 {
            flushed.append(&mut doc);
        }
    }
    writer.end(&mut doc, Ending::Complete).unwrap();
    flushed.append(&mut doc);
    assert!(
        largest_buffer < 8192 + 8 * 1024,
        "buffer grew to {largest_buffer}"
    );
    let decoded = decode(&text(&flushed), &fields, true);
    assert_eq!(decoded.len(), 20_000);
    let [row1, row2] = expected_rows();
    assert_eq!(decoded[19_998], row1);
    assert_eq!(decoded[19_999], row2);
    assert_eq!(decoded[19_997], vec![D::Null; 17]);
}

#[test]
fn rejected_rows_leave_every_format_consistent() {
    let fields = fields();
    let meta = TableMeta::new(&fields);
    let good = &rows()[0];
    let mut bad = good.clone();
    bad[12] = Value::Doubles(&[1.0, 2.0]); // circle needs 3
    let mut short = good.clone();
    short.pop();
    let mut wrong_type = good.clone();
    wrong_type[16] = Value::Text("oops");
    for entry in votable::OUTPUT_FORMATS {
        let mut writer = votable::writer_for(entry.mime).unwrap();
        let mut out = Vec::new();
        writer.begin(&mut out, &meta).unwrap();
        writer.row(&mut out, good).unwrap();
        let before = out.clone();
        let err = writer.row(&mut out, &bad).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column 13 (circ): array of 2 elements does not fit arraysize 3"
        );
        assert_eq!(
            writer.row(&mut out, &short).unwrap_err(),
            votable::Error::RowLength {
                expected: 17,
                got: 16
            }
        );
        assert_eq!(
            writer.row(&mut out, &wrong_type).unwrap_err().to_string(),
            "column 17 (m): a text value cannot be written as float[2x2]"
        );
        assert_eq!(out, before, "{}", entry.mime);
        writer.row(&mut out, good).unwrap();
        writer.end(&mut out, Ending::Complete).unwrap();
        assert_eq!(writer.rows(), 2);
        if let votable::Format::VOTable(votable::Serialization::Binary2) = entry.format {
            assert_eq!(decode(&text(&out), &fields, true).len(), 2);
        }
    }
}

#[test]
fn calls_out_of_order_are_errors() {
    let fields = fields();
    let meta = TableMeta::new(&fields);
    for entry in votable::OUTPUT_FORMATS {
        let mut writer = votable::writer_for(entry.mime).unwrap();
        let mut out = Vec::new();
        assert!(matches!(
            writer.row(&mut out, &rows()[0]),
            Err(votable::Error::State(_))
        ));
        assert!(matches!(
            writer.end(&mut out, Ending::Complete),
            Err(votable::Error::State(_))
        ));
        assert_eq!(
            writer.begin(&mut out, &TableMeta::new(&[])),
            Err(votable::Error::NoFields)
        );
        assert!(out.is_empty());
        writer.begin(&mut out, &meta).unwrap();
        assert!(matches!(
            writer.begin(&mut out, &meta),
            Err(votable::Error::State(_))
        ));
        writer.end(&mut out, Ending::Complete).unwrap();
        assert!(matches!(
            writer.end(&mut out, Ending::Complete),
            Err(votable::Error::State(_))
        ));
        assert!(matches!(
            writer.row(&mut out, &rows()[0]),
            Err(votable::Error::State(_))
        ));
    }
}

#[test]
fn maxrec_zero_gives_metadata_and_overflow() {
    let fields = fields();
    for format in ["votable/td", "votable/b2", "votable/binary"] {
        let mut writer = votable::writer_for(format).unwrap();
        let mut out = Vec::new();
        writer.begin(&mut out, &TableMeta::new(&fields)).unwrap();
        writer.end(&mut out, Ending::Overflow).unwrap();
        let doc = text(&out);
        assert_eq!(doc.matches("<FIELD ").count(), 17);
        assert!(
            doc.contains("</DATA>\n</TABLE>\n<INFO name=\"QUERY_STATUS\" value=\"OVERFLOW\"/>\n</RESOURCE>")
        );
        if format != "votable/td" {
            assert!(stream_bytes(&doc).is_empty());
        }
    }
}

// ---------------------------------------------------------------------------------------------
// FITS

fn cards(header: &[u8]) -> Vec<String> {
    header
        .chunks(80)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect()
}

fn card_value<'a>(cards: &'a [String], key: &str) -> &'a str {
    let card = cards
        .iter()
        .find(|c| c[..8].trim_end() == key)
        .unwrap_or_else(|| panic!("no {key}"));
    let value = &card[10..];
    match value.find(" / ") {
        Some(i) if !value.trim_start().starts_with('\'') => value[..i].trim(),
        _ => value.trim(),
    }
}

fn fits_output(ending: Ending<'_>) -> (Vec<u8>, Box<dyn ResultWriter>) {
    let mut writer = votable::writer_for("fits").unwrap();
    assert!(writer.needs_patch());
    assert!(writer.patch().is_none());
    let out = write_all(writer.as_mut(), ending);
    (out, writer)
}

#[test]
fn fits_header_and_blocks() {
    let (mut file, writer) = fits_output(Ending::Overflow);
    assert_eq!(writer.content_type(), "application/fits");
    assert_eq!(file.len() % 2880, 0);
    let patch = writer.patch().unwrap();
    assert_eq!(patch.offset, 0);
    assert_eq!(patch.bytes.len() % 2880, 0);
    // The placeholder header has the same size and says it is incomplete.
    let placeholder = cards(&file[..patch.bytes.len()]);
    assert_eq!(card_value(&placeholder, "NAXIS2"), "0");
    assert_eq!(
        card_value(&placeholder, "QSTATUS"),
        "'INCOMPLETE'         / OK, OVERFLOW or ERROR"
    );
    let mut spool = std::io::Cursor::new(std::mem::take(&mut file));
    patch.apply(&mut spool).unwrap();
    assert_eq!(spool.position(), spool.get_ref().len() as u64);
    let file = spool.into_inner();

    let primary = cards(&file[..2880]);
    assert_eq!(
        primary[0],
        format!(
            "{:<80}",
            "SIMPLE  =                    T / conforms to FITS standard"
        )
    );
    assert_eq!(primary[4], format!("{:<80}", "END"));
    assert!(primary[5..].iter().all(|c| c.trim().is_empty()));

    let header = cards(&file[2880..patch.bytes.len()]);
    let end = header.iter().position(|c| c.trim_end() == "END").unwrap();
    let header = &header[..end];
    assert_eq!(
        header[0],
        format!(
            "{:<80}",
            "XTENSION= 'BINTABLE'           / binary table extension"
        )
    );
    assert_eq!(card_value(header, "BITPIX"), "8");
    assert_eq!(card_value(header, "NAXIS"), "2");
    // Row: L1 I2 J4 K8 E4 D8 64A 64A 4A B1 26A 2D 3D PD(8) PB(8) 1A 4E = 259 bytes; byte offsets:
    // flag 0, s 1, i 3, l 7, f 15, d 19, name 27, uname 91, code 155, ub 159, t 160, pos 186,
    // circ 202, poly 226, blob 234, c 242, m 243.
    let width: usize = 1 + 2 + 4 + 8 + 4 + 8 + 64 + 64 + 4 + 1 + 26 + 16 + 24 + 8 + 8 + 1 + 16;
    assert_eq!(card_value(header, "NAXIS1"), width.to_string());
    assert_eq!(card_value(header, "NAXIS2"), "3");
    let heap = 6 * 8 + 3;
    assert_eq!(card_value(header, "PCOUNT"), heap.to_string());
    assert_eq!(card_value(header, "GCOUNT"), "1");
    assert_eq!(card_value(header, "TFIELDS"), "17");
    let forms: Vec<&str> = (1..=17)
        .map(|n| card_value(header, &format!("TFORM{n}")))
        .collect();
    assert_eq!(
        forms,
        [
            "'1L      '",
            "'1I      '",
            "'1J      '",
            "'1K      '",
            "'1E      '",
            "'1D      '",
            "'64A     '",
            "'64A     '",
            "'4A      '",
            "'1B      '",
            "'26A     '",
            "'2D      '",
            "'3D      '",
            "'1PD(6)  '",
            "'1PB(3)  '",
            "'1A      '",
            "'4E      '"
        ]
    );
    assert_eq!(card_value(header, "TTYPE12"), "'pos     '");
    assert_eq!(card_value(header, "TUNIT12"), "'deg     '");
    assert_eq!(card_value(header, "TNULL2"), "-32768");
    assert_eq!(card_value(header, "TNULL3"), "-2147483648");
    assert_eq!(card_value(header, "TNULL4"), "-9223372036854775808");
    assert_eq!(card_value(header, "TNULL10"), "255");
    assert!(
        header.iter().all(|c| !c.starts_with("TNULL15")),
        "no TNULL for byte arrays"
    );
    assert_eq!(card_value(header, "TDIM17"), "'(2,2)   '");
    assert_eq!(card_value(header, "TUCD4"), "'meta.id;meta.main'");
    assert_eq!(card_value(header, "TCOMM4"), "'row <id> & \"key\"'");
    assert_eq!(
        card_value(header, "EXTNAME"),
        "'RESULTS '           / TAP query result"
    );
    assert_eq!(
        card_value(header, "QUERY"),
        "'SELECT * FROM t WHERE a < 1 AND b = ''x'''"
    );
    assert!(header
        .iter()
        .any(|c| c.trim_end() == "COMMENT standardID: ivo://ivoa.net/std/TAP"));
    assert_eq!(card_value(header, "NTRUNC"), "1");
    assert_eq!(
        card_value(header, "QSTATUS"),
        "'OVERFLOW'           / OK, OVERFLOW or ERROR"
    );
    assert!(header.iter().all(|c| c.len() == 80 && c.is_ascii()));

    // Data: 3 rows, then the heap, then zero padding.
    let data = &file[patch.bytes.len()..];
    assert_eq!(data.len(), (3 * width + heap).div_ceil(2880) * 2880);
    let row1 = &data[..width];
    assert_eq!(&row1[..4], &[b'T', 0, 1, 0]);
    assert_eq!(&row1[27..35], b"a<b&\"c\"\0");
    assert_eq!(&row1[91..94], b"??\0", "non-ASCII becomes '?'");
    assert_eq!(&row1[155..159], b"AB\0\0");
    assert_eq!(row1[159], 7);
    assert_eq!(&row1[160..186], b"2024-07-01T01:02:03.500\0\0\0");
    assert_eq!(&row1[186..194], &10.5f64.to_be_bytes());
    // Polygon descriptor: 6 elements at heap offset 0; blob: 3 bytes at offset 48.
    assert_eq!(&row1[226..234], &[0, 0, 0, 6, 0, 0, 0, 0]);
    assert_eq!(&row1[234..242], &[0, 0, 0, 3, 0, 0, 0, 48]);
    let row2 = &data[width..2 * width];
    assert_eq!(&row2[155..159], b"ABCD");
    assert_eq!(&row2[226..242], &[0; 16]);
    let row3 = &data[2 * width..3 * width];
    assert_eq!(row3[0], 0);
    assert_eq!(&row3[1..3], &i16::MIN.to_be_bytes());
    assert_eq!(&row3[15..19], &f32::NAN.to_be_bytes());
    assert_eq!(row3[159], 255);
    let heap_bytes = &data[3 * width..3 * width + heap];
    assert_eq!(&heap_bytes[..8], &0.0f64.to_be_bytes());
    assert_eq!(&heap_bytes[48..], &common::BLOB1);
    assert!(data[3 * width + heap..].iter().all(|&b| b == 0));
}

#[test]
fn fits_error_ending() {
    let message = format!("backend said: {}", "it's broken ".repeat(60));
    let (_, writer) = fits_output(Ending::Error(&message));
    let header = cards(&writer.patch().unwrap().bytes[2880..]);
    assert_eq!(
        card_value(&header, "QSTATUS"),
        "'ERROR   '           / OK, OVERFLOW or ERROR"
    );
    let at = header.iter().position(|c| c.starts_with("QERROR  = '")).unwrap();
    let mut text = String::new();
    for card in &header[at..at + 6] {
        let value = card[10..].trim_end();
        text.push_str(&value[1..value.len() - 1]);
    }
    let text = text.replace("&", "").replace("''", "'");
    assert!(text.starts_with("backend said: it's broken it's broken"));
    assert!(text.ends_with("..."));
    assert!(header[at + 6].trim_end() == "END");
}

#[test]
fn fits_string_width_option() {
    let fields = [Field::new("s", Datatype::Char).with_arraysize("*")];
    let mut writer = votable::FitsWriter::with_string_width("application/fits", 3);
    let mut out = Vec::new();
    writer.begin(&mut out, &TableMeta::new(&fields)).unwrap();
    writer.row(&mut out, &[Value::Text("abcdef")]).unwrap();
    writer.row(&mut out, &[Value::Text("ab")]).unwrap();
    writer.end(&mut out, Ending::Complete).unwrap();
    let header = cards(&writer.patch().unwrap().bytes[2880..]);
    assert_eq!(card_value(&header, "TFORM1"), "'3A      '");
    assert_eq!(card_value(&header, "NTRUNC"), "1");
    let data_at = writer.patch().unwrap().bytes.len();
    assert_eq!(&out[data_at..data_at + 6], b"abcab\0");
}

#[test]
fn binary_char_cells_are_ascii() {
    // astropy decodes binary `char` cells as ASCII: other characters become '?', in BINARY2 and
    // BINARY alike, while unicodeChar and TABLEDATA keep them.
    let fields = [
        Field::new("c", Datatype::Char).with_arraysize("*"),
        Field::new("f", Datatype::Char).with_arraysize("3"),
        Field::new("u", Datatype::UnicodeChar).with_arraysize("*"),
    ];
    let row = [
        Value::Text("Ångström"),
        Value::Text("é✓x!"),
        Value::Text("Ångström"),
    ];
    for (format, masked) in [("votable/b2", true), ("votable/binary", false)] {
        let mut writer = votable::writer_for(format).unwrap();
        let mut out = Vec::new();
        writer.begin(&mut out, &TableMeta::new(&fields)).unwrap();
        writer.row(&mut out, &row).unwrap();
        writer.end(&mut out, Ending::Complete).unwrap();
        let decoded = decode(&text(&out), &fields, masked);
        assert_eq!(
            decoded,
            vec![vec![
                D::Text("?ngstr?m".into()),
                D::Text("??x".into()),
                D::Text("Ångström".into())
            ]]
        );
    }
    let mut writer = votable::writer_for("votable/td").unwrap();
    let mut out = Vec::new();
    writer.begin(&mut out, &TableMeta::new(&fields)).unwrap();
    writer.row(&mut out, &row).unwrap();
    writer.end(&mut out, Ending::Complete).unwrap();
    assert!(text(&out).contains("<TR><TD>Ångström</TD><TD>é✓x!</TD><TD>Ångström</TD></TR>"));
}

/// The big-endian bytes of the array table's first two rows, after any null mask: variable
/// arrays with their element count, booleans as `T`/`F`.
fn array_row_bytes() -> [Vec<u8>; 2] {
    let mut row1 = Vec::new();
    row1.extend_from_slice(&3i32.to_be_bytes());
    for v in [1i16, -2, i16::MAX] {
        row1.extend_from_slice(&v.to_be_bytes());
    }
    for v in [1i32, 2, -3] {
        row1.extend_from_slice(&v.to_be_bytes());
    }
    row1.extend_from_slice(&2i32.to_be_bytes());
    for v in [i64::MAX, 0] {
        row1.extend_from_slice(&v.to_be_bytes());
    }
    row1.extend_from_slice(&2i32.to_be_bytes());
    for v in [1.5f32, f32::NAN] {
        row1.extend_from_slice(&v.to_be_bytes());
    }
    row1.extend_from_slice(&3i32.to_be_bytes());
    row1.extend_from_slice(b"TFT");
    let mut row2 = Vec::new();
    row2.extend_from_slice(&0i32.to_be_bytes());
    for v in [i32::MIN, 0, 7] {
        row2.extend_from_slice(&v.to_be_bytes());
    }
    for _ in 0..3 {
        row2.extend_from_slice(&0i32.to_be_bytes());
    }
    [row1, row2]
}

#[test]
fn integer_float_and_boolean_arrays_in_binary_formats() {
    // The null row: empty variable arrays, zeros for the fixed one (flagged in BINARY2).
    let null_row = [0u8; 4 * 4 + 12].to_vec();
    let [row1, row2] = array_row_bytes();
    let doc = text(&common::write_arrays("votable/b2"));
    assert!(
        doc.contains("<FIELD name=\"ii\" datatype=\"int\" arraysize=\"3\"/>"),
        "{doc}"
    );
    let expected: Vec<u8> = [
        vec![0],
        row1.clone(),
        vec![0],
        row2.clone(),
        vec![0xF8],
        null_row.clone(),
    ]
    .concat();
    assert_eq!(stream_bytes(&doc), expected);
    let doc = text(&common::write_arrays("votable/binary"));
    assert_eq!(
        doc.matches("<VALUES").count(),
        0,
        "no sentinels for arrays: {doc}"
    );
    assert_eq!(stream_bytes(&doc), [row1, row2, null_row].concat());

    // FITS: `1PI`, `3J`, `1PK`, `1PE`, `1PL` with the heap after the rows.
    let mut writer = votable::writer_for("fits").unwrap();
    let fields = common::array_fields();
    let mut file = Vec::new();
    writer.begin(&mut file, &TableMeta::new(&fields)).unwrap();
    for row in common::array_rows() {
        writer.row(&mut file, &row).unwrap();
    }
    writer.end(&mut file, Ending::Complete).unwrap();
    let patch = writer.patch().unwrap();
    let mut spool = std::io::Cursor::new(file);
    patch.apply(&mut spool).unwrap();
    let file = spool.into_inner();
    let header = cards(&file[2880..patch.bytes.len()]);
    let forms: Vec<&str> = (1..=5)
        .map(|n| card_value(&header, &format!("TFORM{n}")))
        .collect();
    assert_eq!(
        forms,
        [
            "'1PI(3)  '",
            "'3J      '",
            "'1PK(2)  '",
            "'1PE(2)  '",
            "'1PL(3)  '"
        ]
    );
    assert_eq!(card_value(&header, "TNULL2"), "-2147483648");
    let width = 8 + 12 + 8 + 8 + 8;
    assert_eq!(card_value(&header, "NAXIS1"), width.to_string());
    let heap = 3 * 2 + 2 * 8 + 2 * 4 + 3;
    assert_eq!(card_value(&header, "PCOUNT"), heap.to_string());
    let data = &file[patch.bytes.len()..];
    let descriptor = |count: i32, offset: i32| [count.to_be_bytes(), offset.to_be_bytes()].concat();
    let row1 = &data[..width];
    assert_eq!(&row1[..8], descriptor(3, 0));
    assert_eq!(
        &row1[8..20],
        [1i32.to_be_bytes(), 2i32.to_be_bytes(), (-3i32).to_be_bytes()].concat()
    );
    assert_eq!(&row1[20..28], descriptor(2, 6));
    assert_eq!(&row1[28..36], descriptor(2, 22));
    assert_eq!(&row1[36..44], descriptor(3, 30));
    let row2 = &data[width..2 * width];
    assert_eq!(&row2[..8], [0; 8]);
    assert_eq!(
        &row2[8..20],
        [i32::MIN.to_be_bytes(), 0i32.to_be_bytes(), 7i32.to_be_bytes()].concat()
    );
    assert_eq!(&row2[20..], [0; 24]);
    let row3 = &data[2 * width..3 * width];
    assert_eq!(&row3[8..20], i32::MIN.to_be_bytes().repeat(3), "TNULL elements");
    let heap_bytes = &data[3 * width..3 * width + heap];
    let expected_heap = [
        [1i16.to_be_bytes(), (-2i16).to_be_bytes(), i16::MAX.to_be_bytes()].concat(),
        [i64::MAX.to_be_bytes(), 0i64.to_be_bytes()].concat(),
        [1.5f32.to_be_bytes(), f32::NAN.to_be_bytes()].concat(),
        b"TFT".to_vec(),
    ]
    .concat();
    assert_eq!(heap_bytes, expected_heap);
}

#[test]
fn integer_arrays_must_match_the_field_datatype() {
    let fields = [Field::new("a", Datatype::Long).with_arraysize("2")];
    for format in [
        "votable/td",
        "votable/b2",
        "votable/binary",
        "csv",
        "json",
        "fits",
    ] {
        let mut writer = votable::writer_for(format).unwrap();
        let mut out = Vec::new();
        writer.begin(&mut out, &TableMeta::new(&fields)).unwrap();
        let mark = out.len();
        let err = writer.row(&mut out, &[Value::Ints(&[1, 2])]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column 1 (a): a int array value cannot be written as long[2]",
            "{format}"
        );
        let err = writer.row(&mut out, &[Value::Longs(&[1])]).unwrap_err();
        assert!(
            matches!(err, votable::Error::ArrayLength { got: 1, .. }),
            "{format}: {err}"
        );
        assert_eq!(out.len(), mark, "{format}: a refused row writes nothing");
        writer.row(&mut out, &[Value::Longs(&[1, 2])]).unwrap();
    }
}
