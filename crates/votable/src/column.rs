//! Per-column layout worked out once in `begin`, and the check that turns a [`Value`] into a
//! [`Cell`] the encoders can write without further questions.

use crate::{Datatype, Ending, Error, Field, Value};

/// How many elements a cell holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Shape {
    /// No arraysize.
    Scalar,
    /// `n` or `AxB...`: exactly this many elements.
    Fixed(usize),
    /// `*`, `n*` or `AxB...x*`: a count precedes the data in the binary forms. `slice` is the
    /// product of the fixed dimensions; `max` the bound of `n*`, if any.
    Variable { slice: usize, max: Option<usize> },
}

/// Where a writer is in its `begin`, `row`..., `end` sequence.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum State {
    Fresh,
    Open,
    Done,
}

impl State {
    pub fn expect_fresh(self) -> Result<(), Error> {
        match self {
            State::Fresh => Ok(()),
            _ => Err(Error::State("begin called twice")),
        }
    }

    pub fn expect_open(self) -> Result<(), Error> {
        match self {
            State::Open => Ok(()),
            State::Fresh => Err(Error::State("row or end called before begin")),
            State::Done => Err(Error::State("row or end called after end")),
        }
    }
}

/// Checks the number of values in a row.
#[inline]
pub(crate) fn check_row_length<C>(columns: &[C], values: &[Value<'_>]) -> Result<(), Error> {
    if columns.len() == values.len() {
        Ok(())
    } else {
        Err(Error::RowLength {
            expected: columns.len(),
            got: values.len(),
        })
    }
}

/// Append one row whole or not at all: when `write` fails, the bytes it wrote are taken back,
/// so a writer can refuse a row and still take further rows or its end (`ResultWriter::row`).
pub(crate) fn append_row(
    out: &mut Vec<u8>,
    write: impl FnOnce(&mut Vec<u8>) -> Result<(), Error>,
) -> Result<(), Error> {
    let mark = out.len();
    write(out).inspect_err(|_| out.truncate(mark))
}

/// What a text writer (CSV, TSV, ECSV, JSON, HTML, text) brings to the row loop it shares
/// with the others ([`text_row`], [`text_end`]): its place in the sequence, its width, how it
/// encodes one row and how it ends. The loop does the rest, the same way for all of them.
pub(crate) trait TextRows {
    /// The writer's state and its count of rows written.
    fn counter(&mut self) -> (&mut State, &mut u64);

    /// How many values a row has (the columns from `begin`).
    fn width(&self) -> usize;

    /// Append one row; the loop takes the bytes back if this fails.
    fn encode(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error>;

    /// Append what follows the last row (overflow and error marks where the format has them).
    fn finish(&mut self, _out: &mut Vec<u8>, _ending: Ending<'_>) -> Result<(), Error> {
        Ok(())
    }
}

/// The row step of every text writer: after `begin` and before `end`, as wide as the header,
/// appended whole or not at all, counted.
pub(crate) fn text_row<W: TextRows>(w: &mut W, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
    w.counter().0.expect_open()?;
    if w.width() != values.len() {
        return Err(Error::RowLength {
            expected: w.width(),
            got: values.len(),
        });
    }
    append_row(out, |out| w.encode(out, values))?;
    *w.counter().1 += 1;
    Ok(())
}

/// The end step of every text writer: once, after `begin`, then no more rows.
pub(crate) fn text_end<W: TextRows>(w: &mut W, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
    w.counter().0.expect_open()?;
    w.finish(out, ending)?;
    *w.counter().0 = State::Done;
    Ok(())
}

/// A field as the encoders see it.
#[derive(Clone, Debug)]
pub(crate) struct Column {
    pub datatype: Datatype,
    pub shape: Shape,
    /// `xtype="timestamp"`: accepts [`Value::Timestamp`].
    pub timestamp: bool,
    /// The fixed dimensions when there is more than one (for FITS `TDIMn`).
    pub dims: Vec<usize>,
    pub name: String,
    pub arraysize: Option<String>,
}

/// A value checked against its column. Integers are range-checked for their field, floating
/// values are carried as `f64` (an `f32` widens exactly) and narrowed again when written.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Cell<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Real(f64),
    Text(&'a str),
    Time(i64),
    Reals(&'a [f64]),
    Bytes(&'a [u8]),
    Array(Array<'a>),
}

/// An integer, `float` or boolean array, checked to have exactly its field's element type.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Array<'a> {
    Shorts(&'a [i16]),
    Ints(&'a [i32]),
    Longs(&'a [i64]),
    Floats(&'a [f32]),
    Bools(&'a [bool]),
}

impl Array<'_> {
    pub fn len(&self) -> usize {
        match *self {
            Array::Shorts(xs) => xs.len(),
            Array::Ints(xs) => xs.len(),
            Array::Longs(xs) => xs.len(),
            Array::Floats(xs) => xs.len(),
            Array::Bools(xs) => xs.len(),
        }
    }

    /// Appends the elements big-endian at their own width; booleans as `T`/`F` bytes (the
    /// VOTable binary and FITS `L` form alike).
    pub fn push_be(&self, out: &mut Vec<u8>) {
        match *self {
            Array::Shorts(xs) => xs.iter().for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
            Array::Ints(xs) => xs.iter().for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
            Array::Longs(xs) => xs.iter().for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
            Array::Floats(xs) => xs.iter().for_each(|x| out.extend_from_slice(&x.to_be_bytes())),
            Array::Bools(xs) => out.extend(xs.iter().map(|&b| if b { b'T' } else { b'F' })),
        }
    }

    /// The `i`-th element; `i` must be below [`len`](Self::len).
    pub fn get(&self, i: usize) -> Element {
        match *self {
            Array::Shorts(xs) => Element::Int(xs[i].into()),
            Array::Ints(xs) => Element::Int(xs[i].into()),
            Array::Longs(xs) => Element::Int(xs[i]),
            Array::Floats(xs) => Element::Float(xs[i]),
            Array::Bools(xs) => Element::Bool(xs[i]),
        }
    }

    /// Appends the elements with `sep` between them, each written by `element`.
    pub fn push_each(&self, out: &mut Vec<u8>, sep: u8, mut element: impl FnMut(&mut Vec<u8>, Element)) {
        for i in 0..self.len() {
            if i > 0 {
                out.push(sep);
            }
            element(out, self.get(i));
        }
    }
}

/// One element of an [`Array`], for the text encoders.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) enum Element {
    Int(i64),
    Float(f32),
    Bool(bool),
}

impl Column {
    pub fn from_field(index: usize, field: &Field) -> Result<Column, Error> {
        let invalid = || Error::InvalidArraysize {
            column: index + 1,
            name: field.name.clone(),
            arraysize: field.arraysize.clone().unwrap_or_default(),
        };
        let (shape, dims) = match field.arraysize.as_deref().map(str::trim) {
            None | Some("") => (Shape::Scalar, Vec::new()),
            Some(text) => parse_arraysize(text).ok_or_else(invalid)?,
        };
        if matches!(
            field.datatype,
            Datatype::Bit | Datatype::FloatComplex | Datatype::DoubleComplex
        ) {
            return Err(Error::UnsupportedField {
                column: index + 1,
                name: field.name.clone(),
                reason: "bit and complex datatypes are read from uploads but never written",
            });
        }
        let is_text = matches!(field.datatype, Datatype::Char | Datatype::UnicodeChar);
        if is_text && field.arraysize.as_deref().is_some_and(|a| a.contains('x')) {
            return Err(Error::UnsupportedField {
                column: index + 1,
                name: field.name.clone(),
                reason: "arrays of strings (multi-dimensional char arraysize) are not supported",
            });
        }
        let timestamp = is_text
            && field
                .xtype
                .as_deref()
                .is_some_and(|x| x.trim().eq_ignore_ascii_case("timestamp"));
        Ok(Column {
            datatype: field.datatype,
            shape,
            timestamp,
            dims,
            name: field.name.clone(),
            arraysize: field.arraysize.clone(),
        })
    }

    pub fn columns(fields: &[Field]) -> Result<Vec<Column>, Error> {
        if fields.is_empty() {
            return Err(Error::NoFields);
        }
        fields
            .iter()
            .enumerate()
            .map(|(i, f)| Column::from_field(i, f))
            .collect()
    }

    /// The field description used in error messages: `double[2]`, `char[*]`, `long`.
    fn describe(&self) -> String {
        match &self.arraysize {
            Some(a) => format!("{}[{}]", self.datatype, a),
            None => self.datatype.as_str().to_owned(),
        }
    }

    fn mismatch(&self, index: usize, value: &Value<'_>) -> Error {
        let value = match value {
            Value::Null => "null",
            Value::Bool(_) => "boolean",
            Value::Short(_) => "short",
            Value::Int(_) => "int",
            Value::Long(_) => "long",
            Value::Float(_) => "float",
            Value::Double(_) => "double",
            Value::Text(_) => "text",
            Value::Timestamp(_) => "timestamp",
            Value::Doubles(_) => "double array",
            Value::Bytes(_) => "byte array",
            Value::Shorts(_) => "short array",
            Value::Ints(_) => "int array",
            Value::Longs(_) => "long array",
            Value::Floats(_) => "float array",
            Value::Bools(_) => "boolean array",
        };
        Error::TypeMismatch {
            column: index + 1,
            name: self.name.clone(),
            value,
            field: self.describe(),
        }
    }

    fn array_length(&self, index: usize, got: usize) -> Error {
        Error::ArrayLength {
            column: index + 1,
            name: self.name.clone(),
            got,
            arraysize: self.arraysize.clone().unwrap_or_default(),
        }
    }

    /// Whether the column holds numbers that are written right-aligned by the text format.
    pub fn is_numeric_scalar(&self) -> bool {
        self.shape == Shape::Scalar
            && !matches!(
                self.datatype,
                Datatype::Boolean | Datatype::Char | Datatype::UnicodeChar
            )
    }

    /// Checks `value` against this column (the `index`-th, for messages).
    #[inline]
    pub fn cell<'a>(&self, index: usize, value: &Value<'a>) -> Result<Cell<'a>, Error> {
        let integer = |v: i64| -> Result<Cell<'a>, Error> {
            let (lo, hi) = match self.datatype {
                Datatype::Short => (i16::MIN as i64, i16::MAX as i64),
                Datatype::Int => (i32::MIN as i64, i32::MAX as i64),
                Datatype::UnsignedByte => (0, 255),
                _ => (i64::MIN, i64::MAX),
            };
            if v < lo || v > hi {
                Err(Error::OutOfRange {
                    column: index + 1,
                    name: self.name.clone(),
                    value: v,
                    datatype: self.datatype,
                })
            } else {
                Ok(Cell::Int(v))
            }
        };
        let scalar = self.shape == Shape::Scalar;
        match (self.datatype, *value) {
            (_, Value::Null) => Ok(Cell::Null),
            (Datatype::Boolean, Value::Bool(b)) if scalar => Ok(Cell::Bool(b)),
            (Datatype::Short | Datatype::Int | Datatype::Long | Datatype::UnsignedByte, v) if scalar => {
                match v {
                    Value::Short(n) => integer(n.into()),
                    Value::Int(n) => integer(n.into()),
                    Value::Long(n) => integer(n),
                    _ => Err(self.mismatch(index, value)),
                }
            }
            (Datatype::Float | Datatype::Double, v) if scalar => match v {
                Value::Float(x) => Ok(Cell::Real(x.into())),
                Value::Double(x) => Ok(Cell::Real(x)),
                Value::Short(n) => Ok(Cell::Real(n.into())),
                Value::Int(n) => Ok(Cell::Real(n.into())),
                Value::Long(n) => Ok(Cell::Real(n as f64)),
                _ => Err(self.mismatch(index, value)),
            },
            (Datatype::Char | Datatype::UnicodeChar, Value::Text(s)) => Ok(Cell::Text(s)),
            (Datatype::Char | Datatype::UnicodeChar, Value::Timestamp(t)) if self.timestamp && !scalar => {
                Ok(Cell::Time(t))
            }
            (Datatype::Float | Datatype::Double, Value::Doubles(xs)) => {
                self.check_len(index, xs.len())?;
                Ok(Cell::Reals(xs))
            }
            (Datatype::UnsignedByte, Value::Bytes(bs)) if !scalar => {
                self.check_len(index, bs.len())?;
                Ok(Cell::Bytes(bs))
            }
            (Datatype::Short, Value::Shorts(xs)) if !scalar => self.array(index, Array::Shorts(xs)),
            (Datatype::Int, Value::Ints(xs)) if !scalar => self.array(index, Array::Ints(xs)),
            (Datatype::Long, Value::Longs(xs)) if !scalar => self.array(index, Array::Longs(xs)),
            (Datatype::Float, Value::Floats(xs)) if !scalar => self.array(index, Array::Floats(xs)),
            (Datatype::Boolean, Value::Bools(xs)) if !scalar => self.array(index, Array::Bools(xs)),
            _ => Err(self.mismatch(index, value)),
        }
    }

    fn array<'a>(&self, index: usize, array: Array<'a>) -> Result<Cell<'a>, Error> {
        self.check_len(index, array.len())?;
        Ok(Cell::Array(array))
    }

    fn check_len(&self, index: usize, len: usize) -> Result<(), Error> {
        let ok = match self.shape {
            Shape::Scalar => false,
            Shape::Fixed(n) => len == n,
            Shape::Variable { slice, .. } => len % slice == 0,
        };
        if ok {
            Ok(())
        } else {
            Err(self.array_length(index, len))
        }
    }
}

/// Parses `n`, `n*`, `*` and `AxBx...` with only the last dimension variable (DT-01).
/// Returns the shape and the list of fixed dimensions (empty for 1-D arrays).
pub(crate) fn parse_arraysize(text: &str) -> Option<(Shape, Vec<usize>)> {
    let parts: Vec<&str> = text.split('x').map(str::trim).collect();
    let last = parts.len() - 1;
    let mut fixed = Vec::with_capacity(parts.len());
    let mut variable = false;
    let mut max = None;
    for (i, part) in parts.iter().enumerate() {
        if let Some(bound) = part.strip_suffix('*') {
            if i != last {
                return None;
            }
            variable = true;
            if !bound.is_empty() {
                max = Some(parse_dim(bound)?);
            }
        } else {
            fixed.push(parse_dim(part)?);
        }
    }
    let product = fixed.iter().try_fold(1usize, |acc, &d| acc.checked_mul(d))?;
    let dims = if parts.len() > 1 { fixed } else { Vec::new() };
    if variable {
        // `n*` has no fixed dimension of its own: its slice is a single element.
        Some((
            Shape::Variable {
                slice: product,
                max: if parts.len() == 1 { max } else { None },
            },
            dims,
        ))
    } else {
        Some((Shape::Fixed(product), dims))
    }
}

fn parse_dim(text: &str) -> Option<usize> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok().filter(|&n| n > 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arraysizes() {
        assert_eq!(parse_arraysize("2"), Some((Shape::Fixed(2), vec![])));
        assert_eq!(
            parse_arraysize("*"),
            Some((Shape::Variable { slice: 1, max: None }, vec![]))
        );
        assert_eq!(
            parse_arraysize("64*"),
            Some((
                Shape::Variable {
                    slice: 1,
                    max: Some(64)
                },
                vec![]
            ))
        );
        assert_eq!(parse_arraysize("2x3"), Some((Shape::Fixed(6), vec![2, 3])));
        assert_eq!(
            parse_arraysize("2x*"),
            Some((Shape::Variable { slice: 2, max: None }, vec![2]))
        );
        assert_eq!(parse_arraysize("*x2"), None);
        assert_eq!(parse_arraysize("0"), None);
        assert_eq!(parse_arraysize("a"), None);
        assert_eq!(parse_arraysize(""), None);
    }

    #[test]
    fn cells() {
        let f = Field::new("s", Datatype::Short);
        let c = Column::from_field(0, &f).unwrap();
        assert_eq!(c.cell(0, &Value::Long(5)).unwrap(), Cell::Int(5));
        assert!(matches!(
            c.cell(0, &Value::Long(40000)),
            Err(Error::OutOfRange { .. })
        ));
        assert!(matches!(
            c.cell(0, &Value::Text("x")),
            Err(Error::TypeMismatch { .. })
        ));
        let p = Column::from_field(1, &Field::new("p", Datatype::Double).with_arraysize("2")).unwrap();
        assert!(p.cell(1, &Value::Doubles(&[1.0, 2.0])).is_ok());
        let err = p.cell(1, &Value::Doubles(&[1.0])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column 2 (p): array of 1 elements does not fit arraysize 2"
        );
        let i = Column::from_field(0, &Field::new("i", Datatype::Int).with_arraysize("2*")).unwrap();
        assert_eq!(
            i.cell(0, &Value::Ints(&[1, 2])).unwrap(),
            Cell::Array(Array::Ints(&[1, 2]))
        );
        let err = i.cell(0, &Value::Shorts(&[1])).unwrap_err();
        assert_eq!(
            err.to_string(),
            "column 1 (i): a short array value cannot be written as int[2*]"
        );
        let b = Column::from_field(0, &Field::new("b", Datatype::Boolean)).unwrap();
        assert!(matches!(
            b.cell(0, &Value::Bools(&[true])),
            Err(Error::TypeMismatch { .. })
        ));
        let t = Field::new("t", Datatype::Char).with_arraysize("*");
        assert!(Column::from_field(0, &t)
            .unwrap()
            .cell(0, &Value::Timestamp(0))
            .is_err());
        let t = t.with_xtype("timestamp");
        assert_eq!(
            Column::from_field(0, &t)
                .unwrap()
                .cell(0, &Value::Timestamp(0))
                .unwrap(),
            Cell::Time(0)
        );
        let bad = Field::new("b", Datatype::Char).with_arraysize("3x*");
        assert!(matches!(
            Column::from_field(0, &bad),
            Err(Error::UnsupportedField { .. })
        ));
        assert_eq!(Column::columns(&[]).unwrap_err(), Error::NoFields);
    }
}
