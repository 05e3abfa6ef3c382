//! PostgreSQL binary values to result-writer values, without allocating per value.
//!
//! tokio-postgres hands out each row as one buffer; [`Raw`] borrows a cell's bytes
//! from it and [`Decoder::decode`] reads them by the column's type. Only arrays need
//! space of their own, and each array column reuses the vector of its [`Scratch`].

use tokio_postgres::types::{FromSql, Type};
use votable::{Datatype, Field, Value};

/// A cell's raw binary bytes, borrowed from the row.
pub struct Raw<'a>(pub Option<&'a [u8]>);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(Some(raw)))
    }

    fn from_sql_null(_: &Type) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(None))
    }

    fn accepts(_: &Type) -> bool {
        true
    }
}

/// How to read one result column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoder {
    Bool,
    Int2,
    Int4,
    Int8,
    Float4,
    Float8,
    Numeric,
    Text,
    /// `timestamp` and `timestamptz`: microseconds since 2000-01-01.
    Timestamp,
    /// `date`: days since 2000-01-01.
    Date,
    /// `float8[]` and `numeric[]` (NULL elements as NaN).
    Float8Array,
    /// `real[]` (NULL elements as NaN).
    Float4Array,
    /// `smallint[]`, `integer[]`, `bigint[]` and `boolean[]`: these elements have no NaN, so
    /// an array with a NULL element decodes to a NULL cell.
    Int2Array,
    Int4Array,
    Int8Array,
    BoolArray,
    Bytea,
}

/// Element buffers for one column's arrays, allocated once and reused for every row; a column
/// only ever fills the one vector of its element type.
#[derive(Debug, Clone, Default)]
pub struct Scratch {
    doubles: Vec<f64>,
    floats: Vec<f32>,
    shorts: Vec<i16>,
    ints: Vec<i32>,
    longs: Vec<i64>,
    bools: Vec<bool>,
}

/// Microseconds between 1970-01-01 and PostgreSQL's epoch 2000-01-01.
const PG_EPOCH_OFFSET_US: i64 = 946_684_800_000_000;

impl Decoder {
    /// The decoder for a PostgreSQL type, or `None` for types we cannot send.
    pub fn for_type(ty: &Type) -> Option<Decoder> {
        Some(match *ty {
            Type::BOOL => Decoder::Bool,
            Type::INT2 => Decoder::Int2,
            Type::INT4 => Decoder::Int4,
            Type::INT8 => Decoder::Int8,
            Type::FLOAT4 => Decoder::Float4,
            Type::FLOAT8 => Decoder::Float8,
            Type::NUMERIC => Decoder::Numeric,
            Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::CHAR | Type::UNKNOWN => {
                Decoder::Text
            }
            Type::TIMESTAMP | Type::TIMESTAMPTZ => Decoder::Timestamp,
            Type::DATE => Decoder::Date,
            Type::FLOAT8_ARRAY | Type::NUMERIC_ARRAY => Decoder::Float8Array,
            Type::FLOAT4_ARRAY => Decoder::Float4Array,
            Type::INT2_ARRAY => Decoder::Int2Array,
            Type::INT4_ARRAY => Decoder::Int4Array,
            Type::INT8_ARRAY => Decoder::Int8Array,
            Type::BOOL_ARRAY => Decoder::BoolArray,
            Type::BYTEA => Decoder::Bytea,
            _ => return None,
        })
    }

    /// The VOTable FIELD for this column: the datatype follows what the database really
    /// returns (so values always fit), everything else comes from the translator.
    pub fn field(self, col: &adql::OutputColumn) -> Field {
        let (datatype, arraysize, xtype): (Datatype, Option<String>, Option<&str>) = match self {
            Decoder::Bool => (Datatype::Boolean, None, None),
            Decoder::Int2 => (Datatype::Short, None, None),
            Decoder::Int4 => (Datatype::Int, None, None),
            Decoder::Int8 => (Datatype::Long, None, None),
            Decoder::Float4 => (Datatype::Float, None, None),
            Decoder::Float8 | Decoder::Numeric => (Datatype::Double, None, None),
            Decoder::Text => {
                let dt = if col.datatype == "unicodeChar" {
                    Datatype::UnicodeChar
                } else {
                    Datatype::Char
                };
                let size = match col.arraysize.as_deref() {
                    Some(s) if col.datatype == "char" || col.datatype == "unicodeChar" => s.to_string(),
                    _ => "*".to_string(),
                };
                (dt, Some(size), None)
            }
            Decoder::Timestamp | Decoder::Date => (Datatype::Char, Some("*".into()), Some("timestamp")),
            Decoder::Float8Array => (Datatype::Double, Some(array_size(col)), col.xtype),
            Decoder::Float4Array => (Datatype::Float, Some(array_size(col)), col.xtype),
            Decoder::Int2Array => (Datatype::Short, Some(array_size(col)), None),
            Decoder::Int4Array => (Datatype::Int, Some(array_size(col)), None),
            Decoder::Int8Array => (Datatype::Long, Some(array_size(col)), None),
            Decoder::BoolArray => (Datatype::Boolean, Some(array_size(col)), None),
            Decoder::Bytea => (Datatype::UnsignedByte, Some("*".into()), None),
        };
        let mut f = Field::new(col.name.clone(), datatype);
        f.arraysize = arraysize;
        f.xtype = xtype.map(str::to_string);
        f.unit = col.unit.clone();
        f.ucd = col.ucd.clone();
        f.utype = col.utype.clone();
        f.description = col.description.clone();
        f
    }

    /// Read one cell. `scratch` (one per column) holds array elements for array columns.
    pub fn decode<'a>(self, raw: Option<&'a [u8]>, scratch: &'a mut Scratch) -> Result<Value<'a>, String> {
        let Some(b) = raw else { return Ok(Value::Null) };
        let bad = || format!("malformed {self:?} value of {} bytes", b.len());
        Ok(match self {
            Decoder::Bool => Value::Bool(b.first().copied().ok_or_else(bad)? != 0),
            Decoder::Int2 => Value::Short(i16::from_be_bytes(b.try_into().map_err(|_| bad())?)),
            Decoder::Int4 => Value::Int(i32::from_be_bytes(b.try_into().map_err(|_| bad())?)),
            Decoder::Int8 => Value::Long(i64::from_be_bytes(b.try_into().map_err(|_| bad())?)),
            Decoder::Float4 => Value::Float(f32::from_be_bytes(b.try_into().map_err(|_| bad())?)),
            Decoder::Float8 => Value::Double(f64::from_be_bytes(b.try_into().map_err(|_| bad())?)),
            Decoder::Numeric => Value::Double(numeric(b).ok_or_else(bad)?),
            Decoder::Text => Value::Text(std::str::from_utf8(b).map_err(|_| bad())?),
            Decoder::Timestamp => {
                let us = i64::from_be_bytes(b.try_into().map_err(|_| bad())?);
                if us == i64::MAX || us == i64::MIN {
                    // infinity / -infinity have no DALI form.
                    Value::Null
                } else {
                    Value::Timestamp(us.saturating_add(PG_EPOCH_OFFSET_US))
                }
            }
            Decoder::Date => {
                let days = i32::from_be_bytes(b.try_into().map_err(|_| bad())?);
                if days == i32::MAX || days == i32::MIN {
                    Value::Null
                } else {
                    Value::Timestamp(i64::from(days) * 86_400_000_000 + PG_EPOCH_OFFSET_US)
                }
            }
            Decoder::Float8Array => {
                read_array(b, &mut scratch.doubles, Some(f64::NAN), |oid, v| match oid {
                    701 => Some(f64::from_be_bytes(v.try_into().ok()?)),
                    700 => Some(f64::from(f32::from_be_bytes(v.try_into().ok()?))),
                    1700 => numeric(v),
                    _ => None,
                })
                .ok_or_else(bad)?;
                Value::Doubles(scratch.doubles.as_slice())
            }
            Decoder::Float4Array => {
                read_array(b, &mut scratch.floats, Some(f32::NAN), |oid, v| match oid {
                    700 => Some(f32::from_be_bytes(v.try_into().ok()?)),
                    _ => None,
                })
                .ok_or_else(bad)?;
                Value::Floats(scratch.floats.as_slice())
            }
            Decoder::Int2Array => whole_array(b, &mut scratch.shorts, 21, Value::Shorts, |v| {
                Some(i16::from_be_bytes(v.try_into().ok()?))
            })
            .ok_or_else(bad)?,
            Decoder::Int4Array => whole_array(b, &mut scratch.ints, 23, Value::Ints, |v| {
                Some(i32::from_be_bytes(v.try_into().ok()?))
            })
            .ok_or_else(bad)?,
            Decoder::Int8Array => whole_array(b, &mut scratch.longs, 20, Value::Longs, |v| {
                Some(i64::from_be_bytes(v.try_into().ok()?))
            })
            .ok_or_else(bad)?,
            Decoder::BoolArray => whole_array(b, &mut scratch.bools, 16, Value::Bools, |v| match v {
                [byte] => Some(*byte != 0),
                _ => None,
            })
            .ok_or_else(bad)?,
            Decoder::Bytea => Value::Bytes(b),
        })
    }
}

fn be_i32(b: &[u8], at: usize) -> Option<i32> {
    Some(i32::from_be_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

fn be_i16(b: &[u8], at: usize) -> Option<i16> {
    Some(i16::from_be_bytes(b.get(at..at + 2)?.try_into().ok()?))
}

/// The arraysize of an array column: the translator's, when it describes an array of numbers
/// or comes from the catalog for a column of no ADQL type (uploaded arrays, whose lengths the
/// upload reader checked against it); `*` otherwise.
fn array_size(col: &adql::OutputColumn) -> String {
    match (col.arraysize.as_deref(), col.datatype) {
        (Some(s), "double" | "float" | "short" | "int" | "long" | "boolean") => s.to_string(),
        (Some(s), _) if col.ty == adql::AdqlType::Unknown => s.to_string(),
        _ => "*".to_string(),
    }
}

/// A one-dimensional array in PostgreSQL's binary format into `out`, each element read by
/// `element` from the element type's OID and bytes (`None`: malformed or unexpected type).
/// A NULL element becomes `null` when given; otherwise reading stops and the result is
/// `Some(false)`. `None` for a malformed array.
fn read_array<T: Copy>(
    b: &[u8],
    out: &mut Vec<T>,
    null: Option<T>,
    element: impl Fn(u32, &[u8]) -> Option<T>,
) -> Option<bool> {
    out.clear();
    let ndim = be_i32(b, 0)?;
    let elem_oid = u32::try_from(be_i32(b, 8)?).ok()?;
    if ndim == 0 {
        return Some(true);
    }
    if ndim != 1 {
        return None;
    }
    let len = usize::try_from(be_i32(b, 12)?).ok()?;
    let mut at = 20;
    out.reserve(len);
    for _ in 0..len {
        let n = be_i32(b, at)?;
        at += 4;
        if n < 0 {
            match null {
                Some(v) => out.push(v),
                None => return Some(false),
            }
            continue;
        }
        let n = usize::try_from(n).ok()?;
        let v = b.get(at..at + n)?;
        at += n;
        out.push(element(elem_oid, v)?);
    }
    Some(true)
}

/// An array of `oid` elements with no NaN (integers, booleans), each read by `element`, as
/// `value` of its elements; NULL when an element is NULL, `None` when malformed.
fn whole_array<'a, T: Copy>(
    b: &[u8],
    out: &'a mut Vec<T>,
    oid: u32,
    value: fn(&'a [T]) -> Value<'a>,
    element: fn(&[u8]) -> Option<T>,
) -> Option<Value<'a>> {
    let complete = read_array(b, out, None, |o, v| if o == oid { element(v) } else { None })?;
    let elements: &'a [T] = out;
    Some(if complete { value(elements) } else { Value::Null })
}

/// PostgreSQL's binary `numeric` (base-10000 digits) as the nearest double.
fn numeric(b: &[u8]) -> Option<f64> {
    let ndigits = usize::try_from(be_i16(b, 0)?).ok()?;
    let weight = i32::from(be_i16(b, 2)?);
    let sign = u16::from_be_bytes(b.get(4..6)?.try_into().ok()?);
    match sign {
        0xC000 => return Some(f64::NAN),
        0xD000 => return Some(f64::INFINITY),
        0xF000 => return Some(f64::NEG_INFINITY),
        _ => {}
    }
    let mut value = 0.0f64;
    for i in 0..ndigits {
        let d = f64::from(be_i16(b, 8 + 2 * i)?);
        let exp = weight - i32::try_from(i).ok()?;
        value += d * 10_000f64.powi(exp);
    }
    Some(if sign == 0x4000 { -value } else { value })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars() {
        let mut s = Scratch::default();
        assert_eq!(
            Decoder::Int8.decode(Some(&7i64.to_be_bytes()), &mut s),
            Ok(Value::Long(7))
        );
        assert_eq!(
            Decoder::Float8.decode(Some(&1.5f64.to_be_bytes()), &mut s),
            Ok(Value::Double(1.5))
        );
        assert_eq!(Decoder::Text.decode(Some(b"abc"), &mut s), Ok(Value::Text("abc")));
        assert_eq!(Decoder::Int4.decode(None, &mut s), Ok(Value::Null));
        assert!(Decoder::Int4.decode(Some(b"12"), &mut s).is_err());
        // 2000-01-01T00:00:01 is 1 s after PostgreSQL's epoch.
        assert_eq!(
            Decoder::Timestamp.decode(Some(&1_000_000i64.to_be_bytes()), &mut s),
            Ok(Value::Timestamp(946_684_801_000_000))
        );
    }

    #[test]
    fn numeric_digits() {
        // 12345.678 = digits [1, 2345, 6780], weight 1, dscale 3.
        let mut b = Vec::new();
        for v in [3i16, 1, 0, 3, 1, 2345, 6780] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        let v = numeric(&b).expect("decodes");
        assert!((v - 12345.678).abs() < 1e-9, "{v}");
    }

    #[test]
    fn double_arrays() {
        let mut b = Vec::new();
        for v in [1i32, 0, 701, 2, 1] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        for x in [10.5f64, -3.25] {
            b.extend_from_slice(&8i32.to_be_bytes());
            b.extend_from_slice(&x.to_be_bytes());
        }
        let mut s = Scratch::default();
        assert_eq!(
            Decoder::Float8Array.decode(Some(&b), &mut s),
            Ok(Value::Doubles(&[10.5, -3.25]))
        );
    }

    /// A one-dimensional array of `oid` elements in the binary format; `None` is a NULL element.
    fn pg_array(oid: i32, elements: &[Option<&[u8]>]) -> Vec<u8> {
        let mut b = Vec::new();
        let has_null = i32::from(elements.iter().any(Option::is_none));
        for v in [1, has_null, oid, elements.len() as i32, 1] {
            b.extend_from_slice(&v.to_be_bytes());
        }
        for e in elements {
            match e {
                Some(bytes) => {
                    b.extend_from_slice(&(bytes.len() as i32).to_be_bytes());
                    b.extend_from_slice(bytes);
                }
                None => b.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        b
    }

    #[test]
    fn integer_float_and_boolean_arrays() {
        let mut s = Scratch::default();
        let b = pg_array(21, &[Some(&7i16.to_be_bytes()), Some(&(-1i16).to_be_bytes())]);
        assert_eq!(
            Decoder::Int2Array.decode(Some(&b), &mut s),
            Ok(Value::Shorts(&[7, -1]))
        );
        let b = pg_array(23, &[Some(&i32::MIN.to_be_bytes())]);
        assert_eq!(
            Decoder::Int4Array.decode(Some(&b), &mut s),
            Ok(Value::Ints(&[i32::MIN]))
        );
        let b = pg_array(20, &[Some(&i64::MAX.to_be_bytes()), Some(&0i64.to_be_bytes())]);
        assert_eq!(
            Decoder::Int8Array.decode(Some(&b), &mut s),
            Ok(Value::Longs(&[i64::MAX, 0]))
        );
        let b = pg_array(16, &[Some(&[1]), Some(&[0])]);
        assert_eq!(
            Decoder::BoolArray.decode(Some(&b), &mut s),
            Ok(Value::Bools(&[true, false]))
        );
        let b = pg_array(700, &[Some(&1.5f32.to_be_bytes()), None]);
        match Decoder::Float4Array.decode(Some(&b), &mut s) {
            Ok(Value::Floats([x, y])) => assert!(*x == 1.5 && y.is_nan()),
            other => panic!("{other:?}"),
        }
        // A NULL element makes the whole integer or boolean cell NULL.
        let b = pg_array(23, &[Some(&1i32.to_be_bytes()), None]);
        assert_eq!(Decoder::Int4Array.decode(Some(&b), &mut s), Ok(Value::Null));
        let b = pg_array(16, &[None]);
        assert_eq!(Decoder::BoolArray.decode(Some(&b), &mut s), Ok(Value::Null));
        // An empty array (no dimensions) and a wrong element type.
        let mut empty = Vec::new();
        for v in [0i32, 0, 23] {
            empty.extend_from_slice(&v.to_be_bytes());
        }
        assert_eq!(
            Decoder::Int4Array.decode(Some(&empty), &mut s),
            Ok(Value::Ints(&[]))
        );
        let b = pg_array(21, &[Some(&7i16.to_be_bytes())]);
        assert!(Decoder::Int4Array.decode(Some(&b), &mut s).is_err());
    }
}
