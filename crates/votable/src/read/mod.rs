//! Reading uploaded tables (TAP `UPLOAD`, UP-04) into PostgreSQL `COPY ... FROM STDIN` data.
//!
//! The server creates a temporary table from [`UploadTable::columns`] (each column's
//! [`SqlType::as_sql`]) and streams [`UploadTable::copy`] into it with `COPY ... FROM STDIN` in
//! the default text format. Every value in that buffer has been parsed and re-emitted here, in
//! the input syntax of its column type, so a bad upload fails with a [`ReadError`] that names the
//! row, line and field instead of a PostgreSQL error about the middle of a COPY stream.
//!
//! ```
//! use votable::{read_upload, ReadLimits, SqlType};
//!
//! let csv = b"id,ra,name\n1,10.5,M31\n2,,\n";
//! let table = read_upload(csv, &ReadLimits { max_rows: 1000, max_columns: 100 }).unwrap();
//! assert_eq!(table.columns[1].sql_type, SqlType::Double);
//! assert_eq!(table.copy, b"1\t10.5\tM31\n2\t\\N\t\\N\n");
//! ```
//!
//! # Inputs
//!
//! [`read_upload`] looks at the first byte that is not whitespace (after an optional UTF-8 byte
//! order mark): `<` means a VOTable, anything else CSV (UTF-16 input is refused with a message). VOTable documents of any version (1.1 to
//! 1.5, or no namespace at all) are read; the first `TABLE` in the document is the upload,
//! wherever it sits, and everything before it (INFO, PARAM, COOSYS, GROUP, LINK, other
//! RESOURCEs) is skipped. Its DATA may be TABLEDATA, BINARY or BINARY2 with an inline base64
//! STREAM; FITS and external (`href`) streams are refused with a message saying so. A TABLE
//! without DATA is an empty table (reported as TABLEDATA).
//!
//! # Column types
//!
//! | VOTable FIELD | `sql_type` | COPY text |
//! |---|---|---|
//! | `boolean`, scalar `bit` | `boolean` | `t` / `f` |
//! | `unsignedByte`, `short` | `smallint` | decimal |
//! | `int` | `integer` | decimal |
//! | `long` | `bigint` | decimal |
//! | `float` | `real` | shortest round-trip decimal, `Infinity`, `-Infinity` |
//! | `double` | `double precision` | as `float` |
//! | `char`, `unicodeChar` (any arraysize, also none) | `text` | the string |
//! | the same with xtype `timestamp` or `adql:TIMESTAMP` (any case) | `timestamp` | ISO 8601, a trailing `Z` removed |
//! | `float`/`double` arraysize 2 (or `*`), xtype `point` | `spoint` | `(12.5d, -30.25d)` |
//! | `float`/`double` arraysize 3 (or `*`), xtype `circle` | `scircle` | `<(12.5d, -30.25d), 0.1d>` |
//! | `float`/`double` arraysize `*` (even, at least 6 values), xtype `polygon` | `spoly` | `{(1d, 2d),(3d, 4d),(5d, 2d)}` |
//! | other arrays of `boolean`/`bit` | `boolean[]` | `{t,f}` |
//! | other arrays of `unsignedByte`/`short`, `int`, `long` | `smallint[]`, `integer[]`, `bigint[]` | `{1,2,3}` |
//! | other arrays of `float`, `double` | `real[]`, `double precision[]` | `{1.5,NaN,Infinity,-Infinity}` |
//! | `floatComplex`, `doubleComplex` (scalar or array) | `text` | `1.5 2.5` (real and imaginary parts, space-separated, as TABLEDATA writes them) |
//!
//! Values are checked before they are written, so PostgreSQL never sees junk: integers may be
//! written `10`, `+3`, `0x1F` (a hexadecimal value of the full width is two's complement, so
//! `0xFFFF` in a `short` is -1) with spaces around them, and must fit their datatype; floating
//! values may use exponents and `NaN`, `Inf`, `Infinity` in any case; timestamps must be real
//! dates in the DALI form `YYYY-MM-DD[Thh:mm:ss[.fff]][Z]` (a space instead of the `T` is
//! accepted); a circle's radius must be between 0 and 90 degrees, which is what pgSphere can
//! store. Geometry coordinates go to pgSphere in degrees, unchanged (pgSphere normalises them).
//!
//! A numeric arraysize of `1` is read as a scalar (the layout is the same in every
//! serialisation and a one-element array column would only get in the way of queries).
//! Multidimensional arrays (`2x3`, `2x*`) become one-dimensional PostgreSQL arrays in VOTable
//! order (first index fastest). An xtype the table above does not mention is ignored (DT-04):
//! the column gets its base type.
//!
//! # Nulls
//!
//! * `<VALUES null="...">` is honoured in every serialisation for integer, floating and text
//!   scalars (VE-03): a value equal to it is NULL.
//! * TABLEDATA: an empty `<TD/>` or `<TD></TD>` is NULL for every column type (VE-01); `?` is a
//!   null boolean.
//! * BINARY2: a set bit in the row's null mask is NULL.
//! * BINARY (no mask): `?`, space or NUL is a null boolean; a variable-length array with no
//!   elements is NULL (writers, this crate's and STIL's, write a null array that way), and so is
//!   a fixed-size floating array whose elements are all NaN.
//! * **NaN in a floating scalar is NULL** in every serialisation: it is the only null BINARY has
//!   for floats, and treating it the same everywhere keeps one upload's meaning independent of
//!   its encoding. Inside arrays NaN stays `NaN`.
//! * **An empty string is NULL**, in every serialisation: BINARY cannot tell them apart, and
//!   astropy writes masked strings as empty cells, so NULL is what the uploader meant in
//!   practice.
//! * A geometry (point, circle, polygon) with no values or with any NaN value is NULL, and so
//!   is a complex value whose parts are all NaN.
//!
//! # Text
//!
//! Binary `char` cells end at the first NUL (the padding of fixed-size strings); spaces are kept,
//! in every serialisation (whitespace in a TABLEDATA string is significant, VE-01). `unicodeChar`
//! is UCS-2/UTF-16 big-endian, ending at the first zero unit (surrogate pairs are combined, lone
//! surrogates become U+FFFD). Entities other than the five XML ones and character references
//! (that is, entities declared in a DTD) are refused, and so are TD elements with an `encoding`. Bytes that are not valid UTF-8 (a `char` cell holding Latin-1, or a document in an
//! 8-bit encoding) are read as Latin-1, so every string reaches PostgreSQL as valid UTF-8.
//!
//! # CSV
//!
//! RFC 4180: a header row with the column names (kept exactly as given, even when empty or
//! repeated: the server sanitises them), `,` separators, fields optionally in double quotes with
//! `""` for a quote, CRLF or LF line ends. Empty lines at the very end are ignored. Each column
//! is typed by looking at all of its non-empty values:
//!
//! | every non-empty value is | column |
//! |---|---|
//! | an integer that fits in 64 bits | `long` → `bigint` |
//! | a number (also `NaN`, `Inf`, `Infinity` in any case) | `double` → `double precision` |
//! | `true` or `false` in any case | `boolean` |
//! | a DALI timestamp `YYYY-MM-DD[Thh:mm:ss[.fff]][Z]` | `char`, arraysize `*`, xtype `timestamp` → `timestamp` |
//! | anything else, or there are no values at all | `unicodeChar`, arraysize `*` → `text` |
//!
//! An empty field is NULL. Numbers, booleans and timestamps may have spaces around them.
//!
//! # Limits and errors
//!
//! More rows than [`ReadLimits::max_rows`] or more columns than [`ReadLimits::max_columns`] stop
//! the read with [`ReadError::too_large`] set (the server answers 413). Every other problem is a
//! [`ReadError`] with the line (when the input has lines) and the 1-based row. Nothing here
//! panics on any input.

mod binary;
mod copy;
mod csv;
mod votable;

use std::fmt;

use crate::Datatype;

pub use self::csv::read_csv;
pub use self::votable::read_votable;

/// The PostgreSQL column type an uploaded column is stored as (see the module docs for the
/// mapping from VOTable FIELDs and CSV columns).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SqlType {
    /// `boolean`, from `boolean` and scalar `bit`.
    Boolean,
    /// `smallint`, from `short` and `unsignedByte` (which has no unsigned PostgreSQL type).
    SmallInt,
    /// `integer`, from `int`.
    Integer,
    /// `bigint`, from `long` and from CSV integers.
    BigInt,
    /// `real`, from `float`.
    Real,
    /// `double precision`, from `double` and CSV numbers.
    Double,
    /// `text`, from `char`, `unicodeChar` and the complex types.
    Text,
    /// `timestamp` (without time zone: DALI timestamps are UTC and carry no zone).
    Timestamp,
    /// pgSphere `spoint`, from xtype `point`.
    SPoint,
    /// pgSphere `scircle`, from xtype `circle`.
    SCircle,
    /// pgSphere `spoly`, from xtype `polygon`.
    SPoly,
    /// `boolean[]`.
    BooleanArray,
    /// `smallint[]`.
    SmallIntArray,
    /// `integer[]`.
    IntegerArray,
    /// `bigint[]`.
    BigIntArray,
    /// `real[]`.
    RealArray,
    /// `double precision[]`.
    DoubleArray,
}

impl SqlType {
    /// The type as written in `CREATE TABLE`.
    pub fn as_sql(self) -> &'static str {
        match self {
            SqlType::Boolean => "boolean",
            SqlType::SmallInt => "smallint",
            SqlType::Integer => "integer",
            SqlType::BigInt => "bigint",
            SqlType::Real => "real",
            SqlType::Double => "double precision",
            SqlType::Text => "text",
            SqlType::Timestamp => "timestamp",
            SqlType::SPoint => "spoint",
            SqlType::SCircle => "scircle",
            SqlType::SPoly => "spoly",
            SqlType::BooleanArray => "boolean[]",
            SqlType::SmallIntArray => "smallint[]",
            SqlType::IntegerArray => "integer[]",
            SqlType::BigIntArray => "bigint[]",
            SqlType::RealArray => "real[]",
            SqlType::DoubleArray => "double precision[]",
        }
    }
}

impl fmt::Display for SqlType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_sql())
    }
}

/// One uploaded column: the FIELD metadata as the client sent it, and the type it is stored as.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadColumn {
    /// The FIELD `name` (or CSV header) exactly as given; the server makes it an identifier.
    pub name: String,
    /// The VOTable datatype (for CSV, the one the inspection chose).
    pub datatype: Datatype,
    /// The arraysize as given, e.g. `"*"`, `"19"`, `"2"`.
    pub arraysize: Option<String>,
    /// The xtype as given, e.g. `"timestamp"`, `"point"`.
    pub xtype: Option<String>,
    /// The FIELD `unit`.
    pub unit: Option<String>,
    /// The FIELD `ucd`.
    pub ucd: Option<String>,
    /// The FIELD `utype`.
    pub utype: Option<String>,
    /// The FIELD's `DESCRIPTION`, trimmed.
    pub description: Option<String>,
    /// How the column is stored, and so the syntax of its values in [`UploadTable::copy`].
    pub sql_type: SqlType,
}

/// An uploaded table, ready for `CREATE TEMPORARY TABLE` and `COPY ... FROM STDIN`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UploadTable {
    /// The columns, in table order.
    pub columns: Vec<UploadColumn>,
    /// The number of rows (lines) in `copy`.
    pub rows: u64,
    /// PostgreSQL COPY text format: one line per row ending in '\n', fields separated by '\t',
    /// NULL as `\N`, backslash, tab, newline and carriage return escaped as `\\`, `\t`, `\n`,
    /// `\r`. Each value is in the input syntax of its column's `sql_type`.
    pub copy: Vec<u8>,
    /// Which input serialisation it was: "TABLEDATA", "BINARY", "BINARY2" or "CSV".
    pub serialization: &'static str,
}

/// Size limits checked while reading, so an oversized upload stops early instead of being
/// converted in full first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// The most rows accepted.
    pub max_rows: u64,
    /// The most columns accepted.
    pub max_columns: usize,
}

/// Why an upload could not be read. The message is meant for the client (it goes into the
/// error document); `line` and `row` locate the problem when they are known.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub struct ReadError {
    /// What is wrong, e.g. "the value 'abc' is not a valid int for field 'mag' (column 7)".
    pub message: String,
    /// The 1-based line of the input (XML or CSV) where the problem is, when known.
    pub line: Option<u64>,
    /// The 1-based data row (not counting a CSV header), when the problem is in one.
    pub row: Option<u64>,
    /// The row or column limit was exceeded (the server answers 413, not 400).
    pub too_large: bool,
}

impl ReadError {
    pub(crate) fn new(message: impl Into<String>) -> ReadError {
        ReadError {
            message: message.into(),
            line: None,
            row: None,
            too_large: false,
        }
    }

    pub(crate) fn limit(message: impl Into<String>) -> ReadError {
        ReadError {
            too_large: true,
            ..ReadError::new(message)
        }
    }

    pub(crate) fn at_line(mut self, line: u64) -> ReadError {
        self.line = Some(line);
        self
    }

    pub(crate) fn at_row(mut self, row: u64) -> ReadError {
        self.row = Some(row);
        self
    }

    /// The message with its position: `row 5 (line 23): ...`, `line 3: ...`, `row 2: ...`.
    pub fn describe(&self) -> String {
        match (self.row, self.line) {
            (Some(row), Some(line)) => format!("row {row} (line {line}): {}", self.message),
            (Some(row), None) => format!("row {row}: {}", self.message),
            (None, Some(line)) => format!("line {line}: {}", self.message),
            (None, None) => self.message.clone(),
        }
    }
}

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.describe())
    }
}

/// Reads an uploaded table: a VOTable (TABLEDATA, BINARY or BINARY2) when the first byte that
/// is not whitespace, after an optional UTF-8 byte order mark, is `<`; CSV otherwise.
pub fn read_upload(bytes: &[u8], limits: &ReadLimits) -> Result<UploadTable, ReadError> {
    if bytes.starts_with(&[0xFE, 0xFF]) || bytes.starts_with(&[0xFF, 0xFE]) {
        return Err(ReadError::new(
            "the upload is UTF-16 encoded; send it as UTF-8 (VOTable or CSV)",
        ));
    }
    let body = strip_bom(bytes);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(ReadError::new("the upload is empty")),
        Some(b'<') => read_votable(bytes, limits),
        Some(_) => read_csv(bytes, limits),
    }
}

/// The input without a leading UTF-8 byte order mark.
pub(crate) fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

/// The 1-based line of byte offset `pos`. Only called once an error has happened, so counting
/// from the start costs nothing on the good path.
pub(crate) fn line_at(bytes: &[u8], pos: usize) -> u64 {
    let end = pos.min(bytes.len());
    1 + bytes[..end].iter().filter(|&&b| b == b'\n').count() as u64
}

/// Adds the field to a message about one of its values: `... for field 'mag' (column 7)`.
pub(crate) fn for_field(message: &str, name: &str, index: usize) -> String {
    format!("{message} for field '{name}' (column {})", index + 1)
}

/// Checks the column limit before a column is added.
pub(crate) fn check_columns(have: usize, limits: &ReadLimits) -> Result<(), ReadError> {
    within(have as u64, limits.max_columns as u64, "columns")
}

/// Checks the row limit before row `rows + 1` is read.
pub(crate) fn check_rows(rows: u64, limits: &ReadLimits) -> Result<(), ReadError> {
    within(rows, limits.max_rows, "rows")
}

/// Whether one more of `what` fits when there are `have` already.
fn within(have: u64, max: u64, what: &str) -> Result<(), ReadError> {
    if have >= max {
        Err(ReadError::limit(format!(
            "the table has more than {max} {what}, the most this service accepts"
        )))
    } else {
        Ok(())
    }
}
