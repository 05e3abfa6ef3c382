//! The upload reader: every serialisation against exact COPY text, the documents taplint and
//! astropy send, CSV typing, errors, limits, and truncated or mutated input (no panics).
//!
//! `tests/fixtures/all_types_stilts_*.vot` and `taplint_*.vot` were written once by STILTS
//! (`stilts tpipe ofmt=votable-binary-inline` / `votable-binary2-inline`, and
//! `ofmt=votable(format=...,version=V12)`) from `all_types_td.vot` and a 23-row table shaped
//! like taplint's UPL table, so these tests check the reader against the reference
//! implementation's encoder without needing STILTS to run.

mod common;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use votable::{
    read_csv, read_upload, read_votable, Datatype, Ending, Field, ReadError, ReadLimits, SqlType, TableMeta,
    UploadTable, Value,
};

const LIMITS: ReadLimits = ReadLimits {
    max_rows: 1000,
    max_columns: 100,
};

fn data(name: &str) -> Vec<u8> {
    let path = format!("{}/tests/fixtures/{name}", env!("CARGO_MANIFEST_DIR"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

fn copy(table: &UploadTable) -> String {
    String::from_utf8(table.copy.clone()).unwrap()
}

/// `(name, datatype, arraysize, xtype, sql type)` of a column.
type Shape<'a> = (&'a str, Datatype, Option<&'a str>, Option<&'a str>, SqlType);

/// The [`Shape`] of every column.
fn shapes(table: &UploadTable) -> Vec<Shape<'_>> {
    table
        .columns
        .iter()
        .map(|c| {
            (
                c.name.as_str(),
                c.datatype,
                c.arraysize.as_deref(),
                c.xtype.as_deref(),
                c.sql_type,
            )
        })
        .collect()
}

/// A VOTable 1.4 document around FIELDs and DATA content.
fn document(fields: &str, data: &str) -> String {
    format!(
        "<?xml version=\"1.0\"?>\n<VOTABLE version=\"1.4\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\">\n\
         <RESOURCE>\n<TABLE>\n{fields}\n<DATA>{data}</DATA>\n</TABLE>\n</RESOURCE>\n</VOTABLE>\n"
    )
}

fn binary_document(fields: &str, element: &str, rows: &[u8]) -> String {
    let stream = format!(
        "<{element}><STREAM encoding=\"base64\">\n{}\n</STREAM></{element}>",
        STANDARD.encode(rows)
    );
    document(fields, &stream)
}

// ---------------------------------------------------------------------------------------------
// Every type, in TABLEDATA (hand-written) and BINARY/BINARY2 (written by STILTS from it).

const ALL_TYPES_ROW1: &str = "t\tt\t7\t-5\t123456\t9007199254740993\t1.5\t0.1\tx\tA<B>&C\tZoë ✓ 東京\t\
    2024-07-01T01:02:03.5\t(12.5d, -30.25d)\t<(12.5d, -30.25d), 0.1d>\t\
    {(1.0d, 2.0d),(3.0d, 4.0d),(5.0d, 2.0d)}\t{1.5,NaN,Infinity}\t{1,2,3}\n";
const ALL_TYPES_ROW2: &str =
    "f\tf\t0\t32767\t-2147483647\t-1\t-Infinity\t1e+300\t\\\\\ta\\tb\tline1\\nline2\t\
    2015-01-10\t(359.75d, 89.5d)\t<(0.0d, -90.0d), 90.0d>\t\
    {(0.0d, 0.0d),(1.0d, 0.0d),(1.0d, 1.0d),(0.0d, 1.0d)}\t\\N\t{-1,0,2147483647}\n";
const ALL_NULL_17: &str =
    "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n";

fn all_types_shapes(bit: Datatype, c_arraysize: Option<&'static str>) -> Vec<Shape<'static>> {
    vec![
        ("b", Datatype::Boolean, None, None, SqlType::Boolean),
        ("bit", bit, None, None, SqlType::Boolean),
        ("ub", Datatype::UnsignedByte, None, None, SqlType::SmallInt),
        ("s", Datatype::Short, None, None, SqlType::SmallInt),
        ("i", Datatype::Int, None, None, SqlType::Integer),
        ("l", Datatype::Long, None, None, SqlType::BigInt),
        ("f", Datatype::Float, None, None, SqlType::Real),
        ("d", Datatype::Double, None, None, SqlType::Double),
        ("c", Datatype::Char, c_arraysize, None, SqlType::Text),
        ("name", Datatype::Char, Some("8"), None, SqlType::Text),
        ("uname", Datatype::UnicodeChar, Some("*"), None, SqlType::Text),
        (
            "t",
            Datatype::Char,
            Some("*"),
            Some("timestamp"),
            SqlType::Timestamp,
        ),
        ("pos", Datatype::Double, Some("2"), Some("point"), SqlType::SPoint),
        (
            "circ",
            Datatype::Double,
            Some("3"),
            Some("circle"),
            SqlType::SCircle,
        ),
        (
            "poly",
            Datatype::Double,
            Some("*"),
            Some("polygon"),
            SqlType::SPoly,
        ),
        ("darr", Datatype::Double, Some("*"), None, SqlType::DoubleArray),
        ("iarr", Datatype::Int, Some("3"), None, SqlType::IntegerArray),
    ]
}

#[test]
fn all_types_tabledata() {
    let table = read_upload(&data("all_types_td.vot"), &LIMITS).unwrap();
    assert_eq!(table.serialization, "TABLEDATA");
    assert_eq!(table.rows, 3);
    assert_eq!(shapes(&table), all_types_shapes(Datatype::Bit, None));
    let l = &table.columns[5];
    assert_eq!(l.ucd.as_deref(), Some("meta.id;meta.main"));
    assert_eq!(l.description.as_deref(), Some("Row <id>"));
    assert_eq!(table.columns[6].unit.as_deref(), Some("mag"));
    // Row 3 has nulls of every kind: `?`, <TD/>, <TD></TD>, VALUES null (255, the long
    // minimum), NaN and a NaN point.
    assert_eq!(
        copy(&table),
        format!("{ALL_TYPES_ROW1}{ALL_TYPES_ROW2}{ALL_NULL_17}")
    );
}

#[test]
fn all_types_binary2_from_stilts() {
    let table = read_upload(&data("all_types_stilts_binary2.vot"), &LIMITS).unwrap();
    assert_eq!(table.serialization, "BINARY2");
    // STIL writes `bit` as `boolean` and a scalar char as arraysize 1.
    assert_eq!(shapes(&table), all_types_shapes(Datatype::Boolean, Some("1")));
    assert_eq!(
        copy(&table),
        format!("{ALL_TYPES_ROW1}{ALL_TYPES_ROW2}{ALL_NULL_17}")
    );
}

#[test]
fn all_types_binary_from_stilts() {
    let table = read_upload(&data("all_types_stilts_binary.vot"), &LIMITS).unwrap();
    assert_eq!(table.serialization, "BINARY");
    assert_eq!(shapes(&table), all_types_shapes(Datatype::Boolean, Some("1")));
    // BINARY has no null for a fixed-size int array: STIL writes zeros.
    let last = ALL_NULL_17.replacen("\\N\n", "{0,0,0}\n", 1);
    assert_eq!(copy(&table), format!("{ALL_TYPES_ROW1}{ALL_TYPES_ROW2}{last}"));
}

// ---------------------------------------------------------------------------------------------
// The types STIL does not write (bit arrays, complex values), NUL-padded and Latin-1 `char`,
// fixed `unicodeChar`, VALUES null in BINARY2, built byte by byte.

const EXTRA_FIELDS: &str = r#"<FIELD name="flag" datatype="boolean"/>
<FIELD name="bits" datatype="bit" arraysize="10"/>
<FIELD name="fc" datatype="floatComplex"/>
<FIELD name="dcs" datatype="doubleComplex" arraysize="*"/>
<FIELD name="code" datatype="char" arraysize="4"/>
<FIELD name="u" datatype="unicodeChar" arraysize="3"/>
<FIELD name="n" datatype="int"><VALUES null="-1"/></FIELD>
<FIELD name="m" datatype="float" arraysize="2x2"/>
<FIELD name="ts" datatype="char" arraysize="*" xtype="adql:TIMESTAMP"/>"#;

fn extra_row1(out: &mut Vec<u8>) {
    out.push(b'T');
    out.extend_from_slice(&[0b1011_0000, 0b1100_0000]);
    out.extend_from_slice(&1.5f32.to_be_bytes());
    out.extend_from_slice(&(-2.5f32).to_be_bytes());
    out.extend_from_slice(&2i32.to_be_bytes());
    for v in [1.0f64, 2.0, 3.0, 4.0] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    out.extend_from_slice(b"ab\xe9\0");
    out.extend_from_slice(&[0, 0xE9, 0x27, 0x13, 0, 0]);
    out.extend_from_slice(&42i32.to_be_bytes());
    for v in [1.0f32, 2.0, 3.0, f32::NAN] {
        out.extend_from_slice(&v.to_be_bytes());
    }
    let ts = b"2024-02-29T23:59:59.999";
    out.extend_from_slice(&(ts.len() as i32).to_be_bytes());
    out.extend_from_slice(ts);
}

/// Every cell empty in its serialisation's way, without a mask.
fn extra_row2(out: &mut Vec<u8>) {
    out.push(b'?');
    out.extend_from_slice(&[0, 0]);
    out.extend_from_slice(&f32::NAN.to_be_bytes());
    out.extend_from_slice(&f32::NAN.to_be_bytes());
    out.extend_from_slice(&0i32.to_be_bytes());
    out.extend_from_slice(&[0; 4]);
    out.extend_from_slice(&[0; 6]);
    out.extend_from_slice(&(-1i32).to_be_bytes());
    for _ in 0..4 {
        out.extend_from_slice(&f32::NAN.to_be_bytes());
    }
    out.extend_from_slice(&0i32.to_be_bytes());
}

const EXTRA_ROW1: &str = "t\t{t,f,t,t,f,f,f,f,t,t}\t1.5 -2.5\t1.0 2.0 3.0 4.0\tabé\té✓\t42\t{1.0,2.0,3.0,NaN}\t2024-02-29T23:59:59.999\n";

#[test]
fn extra_types_binary() {
    let mut rows = Vec::new();
    extra_row1(&mut rows);
    extra_row2(&mut rows);
    let doc = binary_document(EXTRA_FIELDS, "BINARY", &rows);
    let table = read_votable(doc.as_bytes(), &LIMITS).unwrap();
    assert_eq!(table.serialization, "BINARY");
    assert_eq!(
        shapes(&table),
        vec![
            ("flag", Datatype::Boolean, None, None, SqlType::Boolean),
            ("bits", Datatype::Bit, Some("10"), None, SqlType::BooleanArray),
            ("fc", Datatype::FloatComplex, None, None, SqlType::Text),
            ("dcs", Datatype::DoubleComplex, Some("*"), None, SqlType::Text),
            ("code", Datatype::Char, Some("4"), None, SqlType::Text),
            ("u", Datatype::UnicodeChar, Some("3"), None, SqlType::Text),
            ("n", Datatype::Int, None, None, SqlType::Integer),
            ("m", Datatype::Float, Some("2x2"), None, SqlType::RealArray),
            (
                "ts",
                Datatype::Char,
                Some("*"),
                Some("adql:TIMESTAMP"),
                SqlType::Timestamp
            ),
        ]
    );
    // Row 2: `?`, NaN complex, empty arrays and strings, the VALUES null and an all-NaN fixed
    // float array are all NULL; a bit array has no null in BINARY.
    let row2 = "\\N\t{f,f,f,f,f,f,f,f,f,f}\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n";
    assert_eq!(copy(&table), format!("{EXTRA_ROW1}{row2}"));
}

#[test]
fn extra_types_binary2() {
    let mut rows = Vec::new();
    rows.extend_from_slice(&[0, 0]);
    extra_row1(&mut rows);
    rows.extend_from_slice(&[0, 0]);
    extra_row2(&mut rows);
    // Row 3: every mask bit set (9 fields: two bytes, the last seven bits unused), over the
    // values of row 1: the mask wins.
    rows.extend_from_slice(&[0xFF, 0x80]);
    extra_row1(&mut rows);
    // Row 4: only `n` (7th field) and `ts` (9th) masked.
    rows.extend_from_slice(&[0b0000_0010, 0b1000_0000]);
    extra_row1(&mut rows);
    let doc = binary_document(EXTRA_FIELDS, "BINARY2", &rows);
    let table = read_votable(doc.as_bytes(), &LIMITS).unwrap();
    assert_eq!(table.serialization, "BINARY2");
    assert_eq!(table.rows, 4);
    // Unmasked, an all-NaN float array is an array of NaNs; `?`, NaN complex values, the VALUES
    // null and empty strings are still NULL.
    let row2 = "\\N\t{f,f,f,f,f,f,f,f,f,f}\t\\N\t\\N\t\\N\t\\N\t\\N\t{NaN,NaN,NaN,NaN}\t\\N\n";
    let row3 = "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n";
    let row4 = EXTRA_ROW1
        .replace("\t42\t", "\t\\N\t")
        .replace("\t2024-02-29T23:59:59.999\n", "\t\\N\n");
    assert_eq!(copy(&table), format!("{EXTRA_ROW1}{row2}{row3}{row4}"));
}

#[test]
fn extra_types_tabledata() {
    let rows = "<TABLEDATA>\n\
        <TR><TD>t</TD><TD>1 0 1 1 0 0 0 0 1 1</TD><TD>1.5 -2.5</TD><TD>1 2 3 4</TD><TD>ab\u{e9}</TD><TD>é✓</TD>\
        <TD>42</TD><TD>1 2 3 NaN</TD><TD>2024-02-29T23:59:59.999</TD></TR>\n\
        <TR><TD/><TD>0000000000</TD><TD>NaN NaN</TD><TD></TD><TD/><TD/><TD>-1</TD><TD>NaN NaN NaN NaN</TD><TD> </TD></TR>\n\
        </TABLEDATA>";
    let table = read_votable(document(EXTRA_FIELDS, rows).as_bytes(), &LIMITS).unwrap();
    let row2 = "\\N\t{f,f,f,f,f,f,f,f,f,f}\t\\N\t\\N\t\\N\t\\N\t\\N\t{NaN,NaN,NaN,NaN}\t\\N\n";
    assert_eq!(copy(&table), format!("{EXTRA_ROW1}{row2}"));
}

// ---------------------------------------------------------------------------------------------
// What the clients send.

#[test]
fn taplint_upload_table() {
    let td = read_upload(&data("taplint_td.vot"), &LIMITS).unwrap();
    let binary = read_upload(&data("taplint_binary.vot"), &LIMITS).unwrap();
    assert_eq!((td.serialization, binary.serialization), ("TABLEDATA", "BINARY"));
    let expected = vec![
        ("s", Datatype::Short, None, None, SqlType::SmallInt),
        ("i", Datatype::Int, None, None, SqlType::Integer),
        ("l", Datatype::Long, None, None, SqlType::BigInt),
        ("f", Datatype::Float, None, None, SqlType::Real),
        ("d", Datatype::Double, None, None, SqlType::Double),
        ("c", Datatype::Char, Some("1"), None, SqlType::Text),
        ("cc", Datatype::Char, Some("2"), None, SqlType::Text),
        (
            "t",
            Datatype::Char,
            Some("19"),
            Some("timestamp"),
            SqlType::Timestamp,
        ),
    ];
    for table in [&td, &binary] {
        assert_eq!(table.rows, 23);
        assert_eq!(shapes(table), expected);
        let text = copy(table);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 23);
        assert_eq!(lines[0], "-1000\t-7\t5\t-3.0\t0.0\tA\tAa\t2000-01-01T12:34:00");
        assert_eq!(
            lines[1],
            "-900\t999996\t1000000000005\t-2.5\t0.3333333333333333\tB\tAb\t2000-01-02T12:34:01"
        );
        assert_eq!(lines[22], "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N");
    }
    assert_eq!(td.copy, binary.copy);
}

#[test]
fn astropy_document() {
    // astropy.io.votable's layout (what pyvo and TapPlus upload): VOTable 1.4, INFO, COOSYS and
    // PARAM before the TABLE, unicodeChar with the longest length, `10` for 10.0, masked
    // integers through VALUES null, indentation everywhere.
    let doc = r#"<?xml version="1.0" encoding="utf-8"?>
<!-- Produced with astropy.io.votable version 6.1.4
     http://www.astropy.org/ -->
<VOTABLE version="1.4" xmlns="http://www.ivoa.net/xml/VOTable/v1.3" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:noNamespaceSchemaLocation="http://www.ivoa.net/xml/VOTable/v1.3">
 <RESOURCE type="results">
  <INFO ID="QUERY_STATUS" name="QUERY_STATUS" value="OK"/>
  <COOSYS ID="J2000" equinox="J2000" epoch="J2000" system="eq_FK5"/>
  <PARAM ID="survey" arraysize="*" datatype="unicodeChar" name="survey" value="demo"/>
  <TABLE>
   <FIELD ID="id" datatype="long" name="id">
    <VALUES null="-1"/>
   </FIELD>
   <FIELD ID="ra" datatype="double" name="ra" ref="J2000" ucd="pos.eq.ra" unit="deg"/>
   <FIELD ID="dec" datatype="double" name="dec" ref="J2000" ucd="pos.eq.dec" unit="deg"/>
   <FIELD ID="name" arraysize="7" datatype="unicodeChar" name="name">
    <DESCRIPTION>
     Object name
    </DESCRIPTION>
   </FIELD>
   <FIELD ID="flag" datatype="boolean" name="flag"/>
   <DATA>
    <TABLEDATA>
     <TR>
      <TD>1</TD>
      <TD>10</TD>
      <TD>-30.5</TD>
      <TD>M 31</TD>
      <TD>True</TD>
     </TR>
     <TR>
      <TD>-1</TD>
      <TD>359.99999999999994</TD>
      <TD>1e-07</TD>
      <TD></TD>
      <TD>False</TD>
     </TR>
    </TABLEDATA>
   </DATA>
  </TABLE>
 </RESOURCE>
</VOTABLE>
"#;
    let table = read_upload(doc.as_bytes(), &LIMITS).unwrap();
    assert_eq!(
        shapes(&table),
        vec![
            ("id", Datatype::Long, None, None, SqlType::BigInt),
            ("ra", Datatype::Double, None, None, SqlType::Double),
            ("dec", Datatype::Double, None, None, SqlType::Double),
            ("name", Datatype::UnicodeChar, Some("7"), None, SqlType::Text),
            ("flag", Datatype::Boolean, None, None, SqlType::Boolean),
        ]
    );
    assert_eq!(table.columns[1].ucd.as_deref(), Some("pos.eq.ra"));
    assert_eq!(table.columns[3].description.as_deref(), Some("Object name"));
    assert_eq!(
        copy(&table),
        "1\t10.0\t-30.5\tM 31\tt\n\\N\t359.99999999999994\t1e-7\t\\N\tf\n"
    );
}

#[test]
fn versions_namespaces_and_sniffing() {
    let body = |open: &str| {
        format!(
            "{open}<RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/>\
             <DATA><TABLEDATA><TR><TD>1</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>"
        )
    };
    for open in [
        "<VOTABLE version=\"1.1\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.1\">",
        "<VOTABLE version=\"1.5\" xmlns=\"http://www.ivoa.net/xml/VOTable/v1.3\">",
        "<VOTABLE>",
        "<v:VOTABLE xmlns:v=\"http://www.ivoa.net/xml/VOTable/v1.3\">",
    ] {
        let mut doc = body(open);
        if open.starts_with("<v:") {
            doc = doc
                .replace("<RESOURCE>", "<v:RESOURCE>")
                .replace("</VOTABLE>", "</v:VOTABLE>")
                .replace("</RESOURCE>", "</v:RESOURCE>");
        }
        // A byte order mark and blank lines before the document are fine.
        let bytes = [b"\xEF\xBB\xBF\n \n".as_slice(), doc.as_bytes()].concat();
        let table = read_upload(&bytes, &LIMITS).unwrap_or_else(|e| panic!("{open}: {e}"));
        assert_eq!(copy(&table), "1\n", "{open}");
    }
    // The first TABLE counts, even in a nested RESOURCE after other elements.
    let doc = "<VOTABLE><RESOURCE><GROUP name=\"g\"><PARAM name=\"p\" datatype=\"int\" value=\"1\"/></GROUP>\
        <LINK href=\"http://example.org/\"/><RESOURCE><TABLE><FIELD name=\"a\" datatype=\"short\"/><FIELDref ref=\"a\"/>\
        <PARAM name=\"q\" datatype=\"int\" value=\"2\"/><GROUP><FIELDref ref=\"a\"/></GROUP>\
        <DATA><TABLEDATA><TR><TD>5</TD></TR></TABLEDATA></DATA><INFO name=\"after\" value=\"x\"/></TABLE>\
        <TABLE><FIELD name=\"b\" datatype=\"int\"/></TABLE></RESOURCE></RESOURCE></VOTABLE>";
    let table = read_upload(doc.as_bytes(), &LIMITS).unwrap();
    assert_eq!(
        shapes(&table),
        vec![("a", Datatype::Short, None, None, SqlType::SmallInt)]
    );
    assert_eq!(copy(&table), "5\n");
    // A table without DATA has no rows; one with an empty TABLEDATA neither.
    for data in [
        "",
        "<DATA/>",
        "<DATA><TABLEDATA/></DATA>",
        "<DATA><TABLEDATA></TABLEDATA></DATA>",
    ] {
        let doc = format!("<VOTABLE><RESOURCE><TABLE><FIELD name=\"a\" datatype=\"int\"/>{data}</TABLE></RESOURCE></VOTABLE>");
        let table = read_upload(doc.as_bytes(), &LIMITS).unwrap();
        assert_eq!((table.rows, table.copy.len()), (0, 0), "{data}");
    }
}

#[test]
fn tabledata_text_details() {
    let fields = r#"<FIELD name="s" datatype="char" arraysize="*"/><FIELD name="n" datatype="short"/>"#;
    let rows = "<TABLEDATA><TR><TD> a\r\nb&#x263A;&#65;&apos;&quot;\\ </TD><TD>0x7FFF</TD></TR>\
        <TR><TD><![CDATA[<x>]]>&amp;<![CDATA[]]></TD><TD>-0X8000</TD></TR>\
        <!-- a comment --><TR><?pi?><TD>\ttab</TD><TD>0xFFFF</TD></TR></TABLEDATA>";
    let table = read_votable(document(fields, rows).as_bytes(), &LIMITS).unwrap();
    assert_eq!(
        copy(&table),
        " a\\nb☺A'\"\\\\ \t32767\n<x>&\t-32768\n\\ttab\t-1\n"
    );
}

#[test]
fn documents_in_latin1() {
    // Without an encoding library the bytes are taken as UTF-8 where they are, Latin-1
    // otherwise, so an 8-bit document still reaches PostgreSQL as valid UTF-8.
    let doc = b"<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?>\n<VOTABLE><RESOURCE><TABLE>\
        <FIELD name=\"caf\xe9\" datatype=\"char\" arraysize=\"*\"><DESCRIPTION>\xe0 la carte</DESCRIPTION></FIELD>\
        <DATA><TABLEDATA><TR><TD>d\xe9j\xe0</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>";
    let table = read_upload(doc, &LIMITS).unwrap();
    assert_eq!(table.columns[0].name, "café");
    assert_eq!(table.columns[0].description.as_deref(), Some("à la carte"));
    assert_eq!(copy(&table), "déjà\n");
}

// ---------------------------------------------------------------------------------------------
// Round trips through this crate's writers.

fn write(format: &str, fields: &[Field], rows: &[Vec<Value<'_>>]) -> Vec<u8> {
    let mut writer = votable::writer_for(format).unwrap();
    let mut out = Vec::new();
    writer.begin(&mut out, &TableMeta::new(fields)).unwrap();
    for row in rows {
        writer.row(&mut out, row).unwrap();
    }
    writer.end(&mut out, Ending::Complete).unwrap();
    out
}

#[test]
fn round_trip_through_the_writers() {
    let fields = common::fields();
    let rows = common::rows();
    let row1 = "t\t1\t2\t3\t1.5\t2.25\ta<b&\"c\"\té✓\tAB\t7\t2024-07-01T01:02:03.500\t(10.5d, -20.25d)\t\
        <(1.0d, 2.0d), 0.5d>\t{(0.0d, 0.0d),(1.0d, 0.0d),(1.0d, 1.0d)}\t{0,255,7}\tx\t{1.0,2.0,3.0,4.0}\n";
    // `circ` (0, -90, 180) has a radius pgSphere cannot store, so row 2 is written without it.
    let row2 = "f\t-32767\t2147483647\t9223372036854775807\t\\N\t-Infinity\tline1\\nline2,\\ttab\t\\N\t\
        ABCD\t0\t1970-01-01T00:00:00\t(359.75d, 89.5d)\t\\N\t\\N\t{}\ty\t{NaN,0.25,-0.5,1e+30}\n";
    let row3 = "\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n";
    let mut rows = rows;
    rows[1][12] = Value::Null;
    for (format, serialization) in [
        ("votable/td", "TABLEDATA"),
        ("votable/binary", "BINARY"),
        ("votable/b2", "BINARY2"),
    ] {
        let doc = write(format, &fields, &rows);
        let table = read_upload(&doc, &LIMITS).unwrap_or_else(|e| panic!("{format}: {e}"));
        assert_eq!(table.serialization, serialization);
        let expected_columns: Vec<_> = fields
            .iter()
            .map(|f| {
                (
                    f.name.as_str(),
                    f.datatype,
                    f.arraysize.as_deref(),
                    f.xtype.as_deref(),
                )
            })
            .collect();
        let columns: Vec<_> = shapes(&table)
            .into_iter()
            .map(|(n, d, a, x, _)| (n, d, a, x))
            .collect();
        assert_eq!(columns, expected_columns, "{format}");
        // An empty byte array is `{}` only where the serialisation can tell it from null.
        let row2 = if serialization == "BINARY2" {
            row2.to_owned()
        } else {
            row2.replace("\t{}\t", "\t\\N\t")
        };
        // TABLEDATA carries the whole of a too-long fixed string; the binary forms cut it.
        let row2 = if serialization == "TABLEDATA" {
            row2.replace("\tABCD\t", "\tABCDEFG\t")
        } else {
            row2
        };
        // In BINARY the null `code` (char[4]) is NULs, the null 2x2 float array NaNs: both
        // read back as NULL.
        assert_eq!(copy(&table), format!("{row1}{row2}{row3}"), "{format}");
    }
}

#[test]
#[ignore = "timing: cargo test --release -p tapir-votable -- --ignored --nocapture"]
fn read_100k_rows_binary2() {
    let fields = [
        Field::new("id", Datatype::Long),
        Field::new("ra", Datatype::Double),
        Field::new("dec", Datatype::Double),
        Field::new("mag", Datatype::Float),
        Field::new("name", Datatype::Char).with_arraysize("*"),
    ];
    let names: Vec<String> = (0..100_000).map(|i| format!("source-{i}")).collect();
    let rows: Vec<Vec<Value<'_>>> = (0..100_000i64)
        .map(|i| {
            vec![
                Value::Long(4_295_806_720 + i),
                Value::Double(i as f64 * 0.0036),
                Value::Double(-89.0 + i as f64 * 0.00178),
                Value::Float(12.0 + (i % 1000) as f32 * 0.01),
                Value::Text(&names[i as usize]),
            ]
        })
        .collect();
    for (format, label) in [
        ("votable/b2", "BINARY2"),
        ("votable/td", "TABLEDATA"),
        ("csv", "CSV"),
    ] {
        let doc = write(format, &fields, &rows);
        let limits = ReadLimits {
            max_rows: 1_000_000,
            max_columns: 10,
        };
        let start = std::time::Instant::now();
        let table = read_upload(&doc, &limits).unwrap();
        let elapsed = start.elapsed();
        assert_eq!(table.rows, 100_000);
        println!(
            "{label}: read 100,000 rows x 5 columns ({} KiB in, {} KiB COPY) in {:.1} ms",
            doc.len() / 1024,
            table.copy.len() / 1024,
            elapsed.as_secs_f64() * 1000.0
        );
    }
}

// ---------------------------------------------------------------------------------------------
// CSV.

#[test]
fn csv_typing() {
    let csv = "id,ra,flag,when,name,empty,mixed,big\n\
        1,10.5,true,2024-07-01T01:02:03Z,\"Smith, J.\",,1,1\n\
        2,-3,FALSE,2024-07-02,\"say \"\"hi\"\"\",,x,9223372036854775808\n\
        ,NaN,,,,,,\n\
        007, inf , True ,2024-07-03 00:00:00.5, plain ,,2.5,-2\n";
    let table = read_csv(csv.as_bytes(), &LIMITS).unwrap();
    assert_eq!(table.serialization, "CSV");
    assert_eq!(table.rows, 4);
    assert_eq!(
        shapes(&table),
        vec![
            ("id", Datatype::Long, None, None, SqlType::BigInt),
            ("ra", Datatype::Double, None, None, SqlType::Double),
            ("flag", Datatype::Boolean, None, None, SqlType::Boolean),
            (
                "when",
                Datatype::Char,
                Some("*"),
                Some("timestamp"),
                SqlType::Timestamp
            ),
            ("name", Datatype::UnicodeChar, Some("*"), None, SqlType::Text),
            ("empty", Datatype::UnicodeChar, Some("*"), None, SqlType::Text),
            ("mixed", Datatype::UnicodeChar, Some("*"), None, SqlType::Text),
            ("big", Datatype::Double, None, None, SqlType::Double),
        ]
    );
    assert_eq!(
        copy(&table),
        "1\t10.5\tt\t2024-07-01T01:02:03\tSmith, J.\t\\N\t1\t1.0\n\
         2\t-3.0\tf\t2024-07-02\tsay \"hi\"\t\\N\tx\t9.223372036854776e+18\n\
         \\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\t\\N\n\
         7\tInfinity\tt\t2024-07-03 00:00:00.5\t plain \t\\N\t2.5\t-2.0\n"
    );
    // CRLF line ends, no final line end, a quoted line break and a BOM change nothing else.
    let crlf = "\u{feff}a,b\r\n1,\"x\r\ny\"\r\n2,z";
    let table = read_upload(crlf.as_bytes(), &LIMITS).unwrap();
    assert_eq!(copy(&table), "1\tx\\r\\ny\n2\tz\n");
    // Header names are kept as given; trailing empty lines are not rows.
    let table = read_csv(b"a,,a,\"q\"\"\"\n1,2,3,4\n\n\n", &LIMITS).unwrap();
    let names: Vec<&str> = table.columns.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["a", "", "a", "q\""]);
    assert_eq!(table.rows, 1);
    // A header alone is an empty table.
    let table = read_csv(b"x,y\n", &LIMITS).unwrap();
    assert_eq!((table.rows, table.columns.len()), (0, 2));
}

#[test]
fn csv_errors() {
    let err = read_csv(b"a,b\n1,2\n3\n", &LIMITS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 2 (line 3): the row has 1 fields but the header has 2"
    );
    let err = read_csv(b"a,b\n1,2\n\"3,4\n", &LIMITS).unwrap_err();
    assert_eq!(err.to_string(), "line 3: a quoted field is not closed");
    let err = read_csv(b"a\n\"x\"y\n", &LIMITS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "line 2: a quoted field must be followed by a comma or the end of the line"
    );
    let err = read_csv(b"a\n1\n\0\n", &LIMITS).unwrap_err();
    assert_eq!(err.line, Some(3));
    assert!(read_csv(b"", &LIMITS).is_err());
    assert!(read_upload(b" \n ", &LIMITS).is_err());
}

// ---------------------------------------------------------------------------------------------
// Errors and limits.

const ERR_FIELDS: &str = r#"<FIELD name="id" datatype="int"/>
<FIELD name="mag" datatype="int"/>"#;

#[test]
fn wrong_td_count_and_bad_values_name_row_and_line() {
    // document(): line 1 prolog, 2 VOTABLE, 3 RESOURCE, 4 TABLE, 5-6 FIELDs, 7 DATA.
    let rows = "<TABLEDATA>\n<TR><TD>1</TD><TD>2</TD></TR>\n<TR><TD>3</TD></TR>\n</TABLEDATA>";
    let err = read_votable(document(ERR_FIELDS, rows).as_bytes(), &LIMITS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 2 (line 9): the row has 1 TD elements but the table has 2 FIELDs"
    );
    assert_eq!((err.row, err.line, err.too_large), (Some(2), Some(9), false));

    let rows = "<TABLEDATA>\n<TR><TD>1</TD><TD>2</TD><TD>3</TD></TR>\n</TABLEDATA>";
    let err = read_votable(document(ERR_FIELDS, rows).as_bytes(), &LIMITS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 1 (line 8): the row has more TD elements than the table has FIELDs (2)"
    );

    let rows = "<TABLEDATA>\n<TR><TD>1</TD>\n<TD>abc</TD></TR>\n</TABLEDATA>";
    let err = read_votable(document(ERR_FIELDS, rows).as_bytes(), &LIMITS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 1 (line 9): the value 'abc' is not a valid int for field 'mag' (column 2)"
    );
    let rows = "<TABLEDATA><TR><TD>1</TD><TD>2147483648</TD></TR></TABLEDATA>";
    let err = read_votable(document(ERR_FIELDS, rows).as_bytes(), &LIMITS).unwrap_err();
    assert!(err.message.contains("'2147483648' is not a valid int"), "{err}");
    let rows = "<TABLEDATA><TR><TD>1</TD><TD><b>2</b></TD></TR></TABLEDATA>";
    let err = read_votable(document(ERR_FIELDS, rows).as_bytes(), &LIMITS).unwrap_err();
    assert!(err.message.contains("<b> inside a TD"), "{err}");

    // A bad timestamp, a polygon with too few values, a bad boolean in BINARY.
    let fields = r#"<FIELD name="t" datatype="char" arraysize="*" xtype="timestamp"/>"#;
    let err = read_votable(
        document(fields, "<TABLEDATA><TR><TD>2024-02-30</TD></TR></TABLEDATA>").as_bytes(),
        &LIMITS,
    )
    .unwrap_err();
    assert!(
        err.message
            .starts_with("the value '2024-02-30' is not a valid timestamp"),
        "{err}"
    );
    let fields = r#"<FIELD name="p" datatype="double" arraysize="*" xtype="polygon"/>"#;
    let err = read_votable(
        document(fields, "<TABLEDATA><TR><TD>1 2 3 4</TD></TR></TABLEDATA>").as_bytes(),
        &LIMITS,
    )
    .unwrap_err();
    assert_eq!(
        err.message,
        "a polygon needs an even number of at least 6 values, found 4 for field 'p' (column 1)"
    );
    let fields = r#"<FIELD name="b" datatype="boolean"/>"#;
    let err = read_votable(binary_document(fields, "BINARY", b"TFx").as_bytes(), &LIMITS).unwrap_err();
    assert_eq!(
        err.to_string(),
        "row 3: the byte 0x78 is not a valid boolean for field 'b' (column 1)"
    );
}

#[test]
fn structural_errors() {
    let td = data("all_types_td.vot");
    // Truncated XML, wherever it is cut.
    for cut in [100, 700, 1500, td.len() - 30, td.len() - 2] {
        let err = read_upload(&td[..cut], &LIMITS).unwrap_err();
        assert!(
            err.message.contains("truncated") || err.message.contains("not well-formed"),
            "{cut}: {err}"
        );
        assert!(err.line.is_some(), "{cut}: {err}");
    }
    // Truncated base64: characters cut out of the STREAM, the closing tags kept.
    let b2 = String::from_utf8(data("all_types_stilts_binary2.vot")).unwrap();
    let end = b2.find("</STREAM>").unwrap();
    // (Dropping only the `=` padding loses nothing: padding is optional.)
    for drop in [4, 5, 6, 7, 40] {
        let cut = format!("{}{}", &b2[..end - 1 - drop], &b2[end - 1..]);
        let err = read_upload(cut.as_bytes(), &LIMITS).unwrap_err();
        assert!(
            err.message.contains("not valid base64") || err.message.contains("stream ends inside"),
            "{drop}: {err}"
        );
    }
    let cases: &[(&str, &str)] = &[
        ("<html><body>Not Found</body></html>", "line 1: this is not a VOTable: the root element is <html>, not <VOTABLE>"),
        (
            "<VOTABLE><RESOURCE type=\"results\"><INFO name=\"QUERY_STATUS\" value=\"ERROR\">x</INFO></RESOURCE></VOTABLE>",
            "line 1: the VOTable has no TABLE",
        ),
        ("<VOTABLE><RESOURCE><TABLE/></RESOURCE></VOTABLE>", "line 1: the first TABLE has no FIELD"),
        ("<VOTABLE><RESOURCE><TABLE>\n<DATA/></TABLE></RESOURCE></VOTABLE>", "line 2: the TABLE has no FIELD before its DATA"),
        (
            "<VOTABLE><RESOURCE><TABLE>\n\n<FIELD name=\"x\" datatype=\"integer\"/></TABLE></RESOURCE></VOTABLE>",
            "line 3: FIELD 'x' has an unknown datatype 'integer'",
        ),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\"/></TABLE></RESOURCE></VOTABLE>",
            "line 1: FIELD 'x' has no datatype",
        ),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\" arraysize=\"*x2\"/></TABLE></RESOURCE></VOTABLE>",
            "line 1: FIELD 'x': the arraysize '*x2' is not valid",
        ),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/><DATA><FITS><STREAM href=\"x.fits\"/></FITS></DATA></TABLE></RESOURCE></VOTABLE>",
            "line 1: the FITS serialization of VOTable is not supported; send TABLEDATA, BINARY or BINARY2",
        ),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/><DATA><BINARY2><STREAM href=\"http://example.org/x.bin\"/></BINARY2></DATA></TABLE></RESOURCE></VOTABLE>",
            "line 1: STREAM href (external data) is not supported; send the table data inline",
        ),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/><DATA><BINARY><STREAM encoding=\"gzip\">AAAA</STREAM></BINARY></DATA></TABLE></RESOURCE></VOTABLE>",
            "line 1: STREAM encoding 'gzip' is not supported; inline streams must be base64",
        ),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/><DATA><TABLEDATA><TR><TD>&nbsp;</TD></TR></TABLEDATA></DATA></TABLE></RESOURCE></VOTABLE>",
            "row 1 (line 1): the entity '&nbsp;' is not defined (only the XML predefined entities are)",
        ),
        (
            "<VOTABLE><RESOURCE><TABLE><FIELD name=\"x\" datatype=\"int\"/><DATA><BINARY><STREAM encoding=\"base64\">AAAA\nA</STREAM></BINARY></DATA></TABLE></RESOURCE></VOTABLE>",
            "line 1: the STREAM is not valid base64 (5 characters do not make whole bytes): the upload is truncated or corrupt",
        ),
        ("<VOTABLE><RESOURCE></VOTABLE>", "line 1: the upload is not well-formed XML: ill-formed document: expected `</RESOURCE>`, but `</VOTABLE>` was found"),
    ];
    for (doc, message) in cases {
        let err = read_upload(doc.as_bytes(), &LIMITS).unwrap_err();
        assert_eq!(err.to_string(), *message, "{doc}");
        assert!(!err.too_large);
    }
    // Not a table at all: binary garbage and UTF-16.
    let png = b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR";
    assert!(read_upload(png, &LIMITS)
        .unwrap_err()
        .message
        .contains("NUL byte"));
    let utf16: Vec<u8> = "\u{feff}<VOTABLE/>"
        .encode_utf16()
        .flat_map(u16::to_be_bytes)
        .collect();
    assert!(read_upload(&utf16, &LIMITS)
        .unwrap_err()
        .message
        .contains("UTF-16"));
}

#[test]
fn limits() {
    let small = ReadLimits {
        max_rows: 2,
        max_columns: 16,
    };
    for name in [
        "all_types_td.vot",
        "all_types_stilts_binary.vot",
        "all_types_stilts_binary2.vot",
    ] {
        let err = read_upload(&data(name), &small).unwrap_err();
        assert!(err.too_large, "{name}: {err}");
        assert_eq!(
            err.message,
            "the table has more than 16 columns, the most this service accepts"
        );
        let rows_only = ReadLimits {
            max_rows: 2,
            max_columns: 17,
        };
        let err = read_upload(&data(name), &rows_only).unwrap_err();
        assert!(err.too_large, "{name}: {err}");
        assert_eq!(
            err.message,
            "the table has more than 2 rows, the most this service accepts"
        );
        let exact = ReadLimits {
            max_rows: 3,
            max_columns: 17,
        };
        assert_eq!(read_upload(&data(name), &exact).unwrap().rows, 3);
    }
    let csv = b"a,b\n1,2\n3,4\n5,6\n";
    let limit = |max_rows, max_columns| ReadLimits {
        max_rows,
        max_columns,
    };
    assert!(read_csv(csv, &limit(2, 2)).unwrap_err().too_large);
    assert!(read_csv(csv, &limit(3, 1)).unwrap_err().too_large);
    assert_eq!(read_csv(csv, &limit(3, 2)).unwrap().rows, 3);
}

// ---------------------------------------------------------------------------------------------
// Robustness: nothing may panic, whatever the bytes.

fn must_not_panic(bytes: &[u8]) -> Result<UploadTable, ReadError> {
    let limits = ReadLimits {
        max_rows: 100,
        max_columns: 50,
    };
    let result = std::panic::catch_unwind(|| read_upload(bytes, &limits));
    match result {
        Ok(r) => r,
        Err(_) => panic!("read_upload panicked on {:?}", String::from_utf8_lossy(bytes)),
    }
}

/// Every truncation of `input`, and `input` with each byte replaced in turn (by a different
/// troublesome byte at each position, two per position).
fn truncate_and_mutate(input: &[u8]) {
    const REPLACEMENTS: [u8; 13] = [
        b'<', b'>', b'&', b'"', b'/', b'\n', b' ', b'A', b'=', b'0', 0, 0x80, 0xFF,
    ];
    must_not_panic(input).unwrap();
    for cut in 0..input.len() {
        let _ = must_not_panic(&input[..cut]);
    }
    let mut mutated = input.to_vec();
    for at in 0..input.len() {
        for k in [0, 5] {
            mutated[at] = REPLACEMENTS[(at + k) % REPLACEMENTS.len()];
            let _ = must_not_panic(&mutated);
        }
        mutated[at] = input[at];
    }
}

#[test]
fn truncated_and_mutated_tabledata_does_not_panic() {
    truncate_and_mutate(&data("all_types_td.vot"));
}

#[test]
fn truncated_and_mutated_binary_does_not_panic() {
    truncate_and_mutate(&data("all_types_stilts_binary.vot"));
}

#[test]
fn truncated_and_mutated_binary2_does_not_panic() {
    truncate_and_mutate(&data("all_types_stilts_binary2.vot"));
    let mut extra = Vec::new();
    extra.extend_from_slice(&[0, 0]);
    extra_row1(&mut extra);
    extra.extend_from_slice(&[0, 0]);
    extra_row2(&mut extra);
    truncate_and_mutate(binary_document(EXTRA_FIELDS, "BINARY2", &extra).as_bytes());
}

#[test]
fn truncated_and_mutated_csv_does_not_panic() {
    truncate_and_mutate(b"id,ra,flag,when,name\n1,10.5,true,2024-07-01T01:02:03Z,\"Smith, J.\"\r\n2,,FALSE,,\"a \"\"b\"\"\"\n");
}

#[test]
fn corrupt_binary_streams_do_not_panic() {
    // Mutate the decoded bytes (counts, masks, values) rather than the base64 text, so that
    // every field layout sees hostile lengths.
    let fields = [
        EXTRA_FIELDS,
        r#"<FIELD name="p" datatype="double" arraysize="*" xtype="polygon"/><FIELD name="s" datatype="unicodeChar" arraysize="*"/><FIELD name="a" datatype="short" arraysize="2x*"/>"#,
    ];
    let mut second = Vec::new();
    second.push(0);
    second.extend_from_slice(&6i32.to_be_bytes());
    for v in [0.0f64, 0.0, 1.0, 0.0, 1.0, 1.0] {
        second.extend_from_slice(&v.to_be_bytes());
    }
    second.extend_from_slice(&2i32.to_be_bytes());
    second.extend_from_slice(&[0xD8, 0x00, 0x00, b'x']);
    second.extend_from_slice(&1i32.to_be_bytes());
    second.extend_from_slice(&[0, 1, 0, 2]);
    let mut first = Vec::new();
    first.extend_from_slice(&[0, 0]);
    extra_row1(&mut first);
    for (fields, rows) in fields.iter().zip([first, second]) {
        for element in ["BINARY", "BINARY2"] {
            let mut mutated = rows.clone();
            for at in 0..rows.len() {
                for b in [0x00, 0x7F, 0x80, 0xFF, b'?', 0x01] {
                    mutated[at] = b;
                    let _ = must_not_panic(binary_document(fields, element, &mutated).as_bytes());
                }
                mutated[at] = rows[at];
            }
        }
    }
}
