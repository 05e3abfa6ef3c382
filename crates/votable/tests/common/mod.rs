//! The test table: every datatype and shape the writers support, three rows (typical values,
//! edge values, all nulls).

#![allow(dead_code)]

use votable::{CooSys, Datatype, Ending, Field, ResultWriter, TableMeta, Value};

pub fn fields() -> Vec<Field> {
    vec![
        Field::new("flag", Datatype::Boolean),
        Field::new("s", Datatype::Short),
        Field::new("i", Datatype::Int),
        Field::new("l", Datatype::Long)
            .with_ucd("meta.id;meta.main")
            .with_description("row <id> & \"key\""),
        Field::new("f", Datatype::Float).with_unit("mag"),
        Field::new("d", Datatype::Double)
            .with_unit("deg")
            .with_ucd("pos.eq.ra"),
        Field::new("name", Datatype::Char).with_arraysize("*"),
        Field::new("uname", Datatype::UnicodeChar).with_arraysize("*"),
        Field::new("code", Datatype::Char).with_arraysize("4"),
        Field::new("ub", Datatype::UnsignedByte),
        Field::new("t", Datatype::Char)
            .with_arraysize("*")
            .with_xtype("timestamp"),
        Field::new("pos", Datatype::Double)
            .with_arraysize("2")
            .with_xtype("point")
            .with_unit("deg")
            .with_reference("sys"),
        Field::new("circ", Datatype::Double)
            .with_arraysize("3")
            .with_xtype("circle")
            .with_unit("deg"),
        Field::new("poly", Datatype::Double)
            .with_arraysize("*")
            .with_xtype("polygon")
            .with_unit("deg"),
        Field::new("blob", Datatype::UnsignedByte)
            .with_arraysize("*")
            .with_xtype("adql:blob"),
        Field::new("c", Datatype::Char),
        Field::new("m", Datatype::Float).with_arraysize("2x2"),
    ]
}

/// 2024-07-01T01:02:03.5
pub const T1: i64 = 1_719_795_723_500_000;

pub const POS1: [f64; 2] = [10.5, -20.25];
pub const CIRC1: [f64; 3] = [1.0, 2.0, 0.5];
pub const POLY1: [f64; 6] = [0.0, 0.0, 1.0, 0.0, 1.0, 1.0];
pub const BLOB1: [u8; 3] = [0, 255, 7];
pub const M1: [f64; 4] = [1.0, 2.0, 3.0, 4.0];
pub const POS2: [f64; 2] = [359.75, 89.5];
pub const CIRC2: [f64; 3] = [0.0, -90.0, 180.0];
pub const M2: [f64; 4] = [f64::NAN, 0.25, -0.5, 1e30];

pub fn rows() -> Vec<Vec<Value<'static>>> {
    vec![
        vec![
            Value::Bool(true),
            Value::Short(1),
            Value::Int(2),
            Value::Long(3),
            Value::Float(1.5),
            Value::Double(2.25),
            Value::Text("a<b&\"c\""),
            Value::Text("é✓"),
            Value::Text("AB"),
            Value::Short(7),
            Value::Timestamp(T1),
            Value::Doubles(&POS1),
            Value::Doubles(&CIRC1),
            Value::Doubles(&POLY1),
            Value::Bytes(&BLOB1),
            Value::Text("x"),
            Value::Doubles(&M1),
        ],
        vec![
            Value::Bool(false),
            Value::Short(-32767),
            Value::Int(i32::MAX),
            Value::Long(i64::MAX),
            Value::Float(f32::NAN),
            Value::Double(f64::NEG_INFINITY),
            Value::Text("line1\nline2,\ttab"),
            Value::Text(""),
            Value::Text("ABCDEFG"),
            Value::Int(0),
            Value::Timestamp(0),
            Value::Doubles(&POS2),
            Value::Doubles(&CIRC2),
            Value::Doubles(&[]),
            Value::Bytes(&[]),
            Value::Text("y"),
            Value::Doubles(&M2),
        ],
        vec![Value::Null; 17],
    ]
}

pub const QUERY: &str = "SELECT * FROM t WHERE a < 1 AND b = 'x'";
pub const INFOS: &[(&str, &str)] = &[("standardID", "ivo://ivoa.net/std/TAP")];
pub const COOSYS: &[CooSys<'static>] = &[CooSys {
    id: "sys",
    system: "ICRS",
    equinox: None,
    epoch: Some("J2000.0"),
}];

/// Runs the whole table through `writer` and returns the output.
pub fn write_all(writer: &mut dyn ResultWriter, ending: Ending<'_>) -> Vec<u8> {
    let fields = fields();
    let meta = TableMeta::new(&fields)
        .with_query(QUERY)
        .with_infos(INFOS)
        .with_coosys(COOSYS);
    let mut out = Vec::new();
    writer.begin(&mut out, &meta).unwrap();
    for row in rows() {
        writer.row(&mut out, &row).unwrap();
    }
    writer.end(&mut out, ending).unwrap();
    assert_eq!(writer.rows(), 3);
    out
}

pub fn write_format(format: &str, ending: Ending<'_>) -> Vec<u8> {
    let mut writer = votable::writer_for(format).unwrap();
    write_all(writer.as_mut(), ending)
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

/// A second table for the integer, float and boolean arrays: one row of values, one of empty
/// arrays (and edge values for the fixed column), one of nulls.
pub fn array_fields() -> Vec<Field> {
    vec![
        Field::new("ss", Datatype::Short).with_arraysize("*"),
        Field::new("ii", Datatype::Int).with_arraysize("3"),
        Field::new("ll", Datatype::Long).with_arraysize("*"),
        Field::new("ff", Datatype::Float).with_arraysize("*"),
        Field::new("bb", Datatype::Boolean).with_arraysize("*"),
    ]
}

pub fn array_rows() -> Vec<Vec<Value<'static>>> {
    vec![
        vec![
            Value::Shorts(&[1, -2, i16::MAX]),
            Value::Ints(&[1, 2, -3]),
            Value::Longs(&[i64::MAX, 0]),
            Value::Floats(&[1.5, f32::NAN]),
            Value::Bools(&[true, false, true]),
        ],
        vec![
            Value::Shorts(&[]),
            Value::Ints(&[i32::MIN, 0, 7]),
            Value::Longs(&[]),
            Value::Floats(&[]),
            Value::Bools(&[]),
        ],
        vec![Value::Null; 5],
    ]
}

/// Runs the array table through the writer for `format` and returns the output.
pub fn write_arrays(format: &str) -> Vec<u8> {
    let mut writer = votable::writer_for(format).unwrap();
    let fields = array_fields();
    let mut out = Vec::new();
    writer.begin(&mut out, &TableMeta::new(&fields)).unwrap();
    for row in array_rows() {
        writer.row(&mut out, &row).unwrap();
    }
    writer.end(&mut out, Ending::Complete).unwrap();
    out
}
