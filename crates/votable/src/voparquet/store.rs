//! One column of the row group being gathered: its Parquet type, its definition and repetition
//! levels and its values, in the typed vectors the column writer takes whole.

use bytes::Bytes;
use parquet::basic::{IntType, LogicalType, Repetition, Type as PhysicalType};
use parquet::column::writer::ColumnWriter;
use parquet::data_type::ByteArray;
use parquet::schema::types::{ColumnPath, Type, TypePtr};
use std::sync::Arc;

use crate::column::{Array, Cell, Column, Shape};
use crate::textfmt::format_timestamp;
use crate::{Datatype, Error, Value};

/// The values of one column in one row group, at their Parquet physical type.
#[derive(Debug)]
enum Values {
    Bool(Vec<bool>),
    I32(Vec<i32>),
    I64(Vec<i64>),
    F32(Vec<f32>),
    F64(Vec<f64>),
    /// Strings (UTF-8), one buffer for all the row group's values and where
    /// each ends: a value costs no allocation of its own, only its bytes.
    Bytes {
        data: Vec<u8>,
        ends: Vec<usize>,
    },
}

impl Values {
    fn clear(&mut self) {
        match self {
            Values::Bool(v) => v.clear(),
            Values::I32(v) => v.clear(),
            Values::I64(v) => v.clear(),
            Values::F32(v) => v.clear(),
            Values::F64(v) => v.clear(),
            Values::Bytes { data, ends } => {
                data.clear();
                ends.clear();
            }
        }
    }
}

/// A column of the row group under construction.
///
/// Scalars are `OPTIONAL` leaves: definition level 0 for a null, 1 for a value. Arrays are the
/// standard three-level `LIST` (`optional group (LIST) { repeated group list { required
/// element } }`): level 0 is a null array, 1 an empty one, 2 an element; the repetition level
/// is 0 for an array's first element (or its null/empty marker) and 1 for the others.
#[derive(Debug)]
pub(crate) struct Store {
    values: Values,
    list: bool,
    def: Vec<i16>,
    rep: Vec<i16>,
    /// Reused at every flush for the byte-array values (they share one buffer).
    scratch: Vec<ByteArray>,
    /// The byte buffer of the values just written, shared with the column writer until it is
    /// closed; taken back by [`Store::reclaim`], so that a store holds on to its capacity
    /// instead of growing a fresh buffer (copies and page faults) for every row group.
    written: Option<Bytes>,
    /// The longest string so far, in characters (for the footer's `arraysize="N*"`).
    max_chars: usize,
}

/// The names of a LIST's repeated group and of its element (Parquet's standard three-level
/// LIST: `name` > `list` > `element`).
const LIST: &str = "list";
const ELEMENT: &str = "element";

/// The Parquet schema node for a column, and how its values are stored.
pub(crate) fn schema_node(name: &str, col: &Column) -> Result<(TypePtr, Store), Error> {
    use PhysicalType as P;
    let integer = |bit_width, is_signed| Some(LogicalType::Integer(IntType { bit_width, is_signed }));
    let text = matches!(col.datatype, Datatype::Char | Datatype::UnicodeChar);
    // Strings (any arraysize, timestamps too) are one value per cell. Byte arrays are LISTs of
    // `INT(8, unsigned)` like any other array rather than binary strings: the footer then
    // declares what the VOTable does (`unsignedByte` array), and astropy's reader accepts it.
    let (physical, logical, values, list) = if text {
        (P::BYTE_ARRAY, Some(LogicalType::String), bytes_values(), false)
    } else {
        let list = col.shape != Shape::Scalar;
        match col.datatype {
            Datatype::Boolean => (P::BOOLEAN, None, Values::Bool(Vec::new()), list),
            Datatype::Short => (P::INT32, integer(16, true), Values::I32(Vec::new()), list),
            Datatype::UnsignedByte => (P::INT32, integer(8, false), Values::I32(Vec::new()), list),
            Datatype::Int => (P::INT32, integer(32, true), Values::I32(Vec::new()), list),
            Datatype::Long => (P::INT64, integer(64, true), Values::I64(Vec::new()), list),
            Datatype::Float => (P::FLOAT, None, Values::F32(Vec::new()), list),
            Datatype::Double => (P::DOUBLE, None, Values::F64(Vec::new()), list),
            // `Column::from_field` refuses bit and complex fields before this is reached.
            _ => {
                return Err(Error::UnsupportedField {
                    column: 0,
                    name: name.to_owned(),
                    reason: "no Parquet type for this datatype",
                })
            }
        }
    };
    let invalid = |e: parquet::errors::ParquetError| Error::Parquet(e.to_string());
    let node = if list {
        let element = Type::primitive_type_builder(ELEMENT, physical)
            .with_repetition(Repetition::REQUIRED)
            .with_logical_type(logical)
            .build()
            .map_err(invalid)?;
        let repeated = Type::group_type_builder(LIST)
            .with_repetition(Repetition::REPEATED)
            .with_fields(vec![Arc::new(element)])
            .build()
            .map_err(invalid)?;
        Type::group_type_builder(name)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(Some(LogicalType::List))
            .with_fields(vec![Arc::new(repeated)])
            .build()
            .map_err(invalid)?
    } else {
        Type::primitive_type_builder(name, physical)
            .with_repetition(Repetition::OPTIONAL)
            .with_logical_type(logical)
            .build()
            .map_err(invalid)?
    };
    let store = Store {
        values,
        list,
        def: Vec::new(),
        rep: Vec::new(),
        scratch: Vec::new(),
        written: None,
        max_chars: 0,
    };
    Ok((Arc::new(node), store))
}

fn bytes_values() -> Values {
    Values::Bytes {
        data: Vec::new(),
        ends: Vec::new(),
    }
}

impl Store {
    /// An empty store for the same column: the second set of stores, filled while the first
    /// is being encoded.
    pub fn empty_like(&self) -> Store {
        let values = match self.values {
            Values::Bool(_) => Values::Bool(Vec::new()),
            Values::I32(_) => Values::I32(Vec::new()),
            Values::I64(_) => Values::I64(Vec::new()),
            Values::F32(_) => Values::F32(Vec::new()),
            Values::F64(_) => Values::F64(Vec::new()),
            Values::Bytes { .. } => bytes_values(),
        };
        Store {
            values,
            list: self.list,
            def: Vec::new(),
            rep: Vec::new(),
            scratch: Vec::new(),
            written: None,
            max_chars: 0,
        }
    }

    /// The longest string stored so far, in characters (Unicode scalar values, as Python
    /// counts them).
    pub fn max_chars(&self) -> usize {
        self.max_chars
    }

    /// The path of the column's values in the schema (`schema_node`'s leaf), by which the
    /// writer's per-column properties (codec, statistics) name it.
    pub fn leaf_path(&self, name: &str) -> ColumnPath {
        let mut path = vec![name.to_owned()];
        if self.list {
            path.extend([LIST.to_owned(), ELEMENT.to_owned()]);
        }
        ColumnPath::new(path)
    }

    /// Whether the values gathered since the last write include a null (a scalar column's
    /// definition level 0). Asked once per row group, before it is written.
    pub fn has_null(&self) -> bool {
        !self.list && self.def.contains(&0)
    }

    /// Appends one value of column `col` (the `index`-th) and returns about how many bytes it
    /// adds to the row group, or the error [`Column::cell`] gives for a value that does not fit.
    ///
    /// Why not always `Column::cell` then [`Store::push`]: for the scalar values that need no
    /// check (a double in a `double` column, a null, text), going through the `Cell` (built in
    /// memory, then read back whole) cost a store-forwarding stall per value that made up most
    /// of the writer's time per row. Those values are stored directly, exactly as their cell
    /// would be; every other value takes the checked path.
    #[inline]
    pub fn push_value(&mut self, col: &Column, index: usize, value: &Value<'_>) -> Result<usize, Error> {
        if !self.list {
            let added = match (&mut self.values, *value) {
                (_, Value::Null) => {
                    self.def.push(0);
                    return Ok(1);
                }
                (Values::F64(v), Value::Double(x)) => {
                    v.push(x);
                    8
                }
                (Values::F64(v), Value::Float(x)) => {
                    v.push(f64::from(x));
                    8
                }
                (Values::F32(v), Value::Float(x)) => {
                    v.push(x);
                    4
                }
                (Values::I64(v), Value::Long(n)) => {
                    v.push(n);
                    8
                }
                // An `int` column takes any int and short; `short` and `unsignedByte` columns
                // (also I32 stores) need the range check.
                (Values::I32(v), Value::Int(n)) if col.datatype == Datatype::Int => {
                    v.push(n);
                    4
                }
                (Values::I32(v), Value::Short(n))
                    if matches!(col.datatype, Datatype::Int | Datatype::Short) =>
                {
                    v.push(i32::from(n));
                    4
                }
                (Values::Bool(v), Value::Bool(b)) => {
                    v.push(b);
                    1
                }
                (Values::Bytes { .. }, Value::Text(text)) => return Ok(self.push_scalar(&Cell::Text(text))),
                _ => return Ok(self.push(&col.cell(index, value)?)),
            };
            self.def.push(1);
            return Ok(added + 1);
        }
        Ok(self.push(&col.cell(index, value)?))
    }

    /// Appends one checked cell and returns about how many bytes it adds to the row group.
    /// The cell was made by `Column::cell` for this column, so its kind fits the store; a cell
    /// that does not (which would be a bug) is stored as a null rather than corrupt the levels.
    #[inline]
    pub fn push(&mut self, cell: &Cell<'_>) -> usize {
        if self.list {
            self.push_list(cell)
        } else {
            self.push_scalar(cell)
        }
    }

    fn push_scalar(&mut self, cell: &Cell<'_>) -> usize {
        let added = match (&mut self.values, *cell) {
            (Values::Bool(v), Cell::Bool(b)) => {
                v.push(b);
                1
            }
            (Values::I32(v), Cell::Int(n)) => {
                // Range-checked for the field's width by `Column::cell`.
                v.push(n as i32);
                4
            }
            (Values::I64(v), Cell::Int(n)) => {
                v.push(n);
                8
            }
            (Values::F32(v), Cell::Real(x)) => {
                v.push(x as f32);
                4
            }
            (Values::F64(v), Cell::Real(x)) => {
                v.push(x);
                8
            }
            (Values::Bytes { data, ends }, Cell::Text(s)) => {
                data.extend_from_slice(s.as_bytes());
                ends.push(data.len());
                // A string has at most as many characters as bytes: count only the long ones.
                if s.len() > self.max_chars {
                    self.max_chars = self.max_chars.max(s.chars().count());
                }
                s.len() + 4
            }
            (Values::Bytes { data, ends }, Cell::Time(t)) => {
                let (buf, n) = format_timestamp(t);
                data.extend_from_slice(&buf[..n]);
                ends.push(data.len());
                self.max_chars = self.max_chars.max(n);
                n + 4
            }
            _ => {
                self.def.push(0);
                return 1;
            }
        };
        self.def.push(1);
        added + 1
    }

    fn push_list(&mut self, cell: &Cell<'_>) -> usize {
        let start = self.def.len();
        let added = match (&mut self.values, *cell) {
            (Values::F64(v), Cell::Reals(xs)) => {
                v.extend_from_slice(xs);
                xs.len() * 8
            }
            (Values::F32(v), Cell::Reals(xs)) => {
                v.extend(xs.iter().map(|&x| x as f32));
                xs.len() * 4
            }
            (Values::I32(v), Cell::Bytes(bs)) => {
                v.extend(bs.iter().map(|&b| i32::from(b)));
                bs.len() * 4
            }
            (Values::I32(v), Cell::Array(Array::Shorts(xs))) => {
                v.extend(xs.iter().map(|&x| i32::from(x)));
                xs.len() * 4
            }
            (Values::I32(v), Cell::Array(Array::Ints(xs))) => {
                v.extend_from_slice(xs);
                xs.len() * 4
            }
            (Values::I64(v), Cell::Array(Array::Longs(xs))) => {
                v.extend_from_slice(xs);
                xs.len() * 8
            }
            (Values::F32(v), Cell::Array(Array::Floats(xs))) => {
                v.extend_from_slice(xs);
                xs.len() * 4
            }
            (Values::Bool(v), Cell::Array(Array::Bools(xs))) => {
                v.extend_from_slice(xs);
                xs.len()
            }
            _ => {
                // A null array (or, defensively, a cell of another kind).
                self.def.push(0);
                self.rep.push(0);
                return 2;
            }
        };
        let count = added_elements(cell);
        if count == 0 {
            self.def.push(1);
            self.rep.push(0);
        } else {
            self.def.resize(start + count, 2);
            self.rep.push(0);
            self.rep.resize(start + count, 1);
        }
        added + 4 * count.max(1)
    }

    /// Takes back the last cell pushed (a row refused at a later column): its levels, and its
    /// values, which are the ones those levels defined.
    pub fn pop_last(&mut self) {
        let start = if self.list {
            // The cell's first level is the last one with repetition level 0.
            self.rep.iter().rposition(|&r| r == 0).unwrap_or(0)
        } else {
            self.def.len().saturating_sub(1)
        };
        let full = if self.list { 2 } else { 1 };
        let values = self.def[start..].iter().filter(|&&d| d == full).count();
        self.def.truncate(start);
        self.rep.truncate(start.min(self.rep.len()));
        match &mut self.values {
            Values::Bool(v) => v.truncate(v.len() - values),
            Values::I32(v) => v.truncate(v.len() - values),
            Values::I64(v) => v.truncate(v.len() - values),
            Values::F32(v) => v.truncate(v.len() - values),
            Values::F64(v) => v.truncate(v.len() - values),
            Values::Bytes { data, ends } => {
                ends.truncate(ends.len() - values);
                data.truncate(ends.last().copied().unwrap_or(0));
            }
        }
    }

    /// Writes the gathered values as this column's chunk of the row group, then empties the
    /// store (keeping its capacity; the byte buffer, which the written values share, comes back
    /// with [`Store::reclaim`] once the column writer is closed).
    pub fn write(&mut self, writer: &mut ColumnWriter<'_>) -> Result<(), Error> {
        let failed = |e: parquet::errors::ParquetError| Error::Parquet(e.to_string());
        let def = Some(self.def.as_slice());
        let rep = self.list.then_some(self.rep.as_slice());
        match (writer, &mut self.values) {
            (ColumnWriter::BoolColumnWriter(w), Values::Bool(v)) => w.write_batch(v, def, rep),
            (ColumnWriter::Int32ColumnWriter(w), Values::I32(v)) => w.write_batch(v, def, rep),
            (ColumnWriter::Int64ColumnWriter(w), Values::I64(v)) => w.write_batch(v, def, rep),
            (ColumnWriter::FloatColumnWriter(w), Values::F32(v)) => w.write_batch(v, def, rep),
            (ColumnWriter::DoubleColumnWriter(w), Values::F64(v)) => w.write_batch(v, def, rep),
            (ColumnWriter::ByteArrayColumnWriter(w), Values::Bytes { data, ends }) => {
                // One shared buffer, sliced per value: reference counts, no copies.
                let all = Bytes::from(std::mem::take(data));
                let mut start = 0;
                self.scratch.clear();
                for &end in ends.iter() {
                    self.scratch.push(ByteArray::from(all.slice(start..end)));
                    start = end;
                }
                let written = w.write_batch(&self.scratch, def, rep);
                self.scratch.clear();
                self.written = Some(all);
                written
            }
            _ => return Err(Error::Parquet("column writer of an unexpected type".into())),
        }
        .map_err(failed)?;
        self.values.clear();
        self.def.clear();
        self.rep.clear();
        Ok(())
    }
}

impl Store {
    /// Takes back the byte buffer lent to the column writer by [`Store::write`], once that
    /// writer is closed and nothing else refers to it (otherwise the next row group grows a new
    /// one).
    pub fn reclaim(&mut self) {
        let Some(all) = self.written.take() else { return };
        if let (Ok(unique), Values::Bytes { data, .. }) = (all.try_into_mut(), &mut self.values) {
            let mut buffer = Vec::from(unique);
            buffer.clear();
            *data = buffer;
        }
    }
}

/// The number of elements of an array cell.
fn added_elements(cell: &Cell<'_>) -> usize {
    match *cell {
        Cell::Reals(xs) => xs.len(),
        Cell::Array(a) => a.len(),
        Cell::Bytes(bs) => bs.len(),
        _ => 0,
    }
}
