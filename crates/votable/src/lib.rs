//! Streaming writers for TAP query results, and the reader for uploaded tables.
//!
//! The server reads a result from PostgreSQL row by row and hands each row to a [`ResultWriter`],
//! which appends the encoded bytes to a caller-owned `Vec<u8>`. The caller flushes that buffer to
//! the HTTP body (or a spool file) whenever it grows past a threshold, so a result of any size
//! goes through a bounded amount of memory. Nothing here does I/O, runs async or touches a
//! database: the writers only turn [`Value`]s into bytes.
//!
//! ```
//! use votable::{writer_for, Datatype, Ending, Field, TableMeta, Value};
//!
//! let fields = [Field::new("id", Datatype::Long), Field::new("ra", Datatype::Double).with_unit("deg")];
//! let mut writer = writer_for("votable/td").unwrap();
//! let mut out = Vec::new();
//! writer.begin(&mut out, &TableMeta::new(&fields)).unwrap();
//! writer.row(&mut out, &[Value::Long(7), Value::Double(266.25)]).unwrap();
//! writer.row(&mut out, &[Value::Long(8), Value::Null]).unwrap();
//! writer.end(&mut out, Ending::Complete).unwrap();
//! let text = String::from_utf8(out).unwrap();
//! assert!(text.contains("<TR><TD>7</TD><TD>266.25</TD></TR>\n<TR><TD>8</TD><TD/></TR>\n"));
//! ```
//!
//! # Reading uploads
//!
//! The one way in: [`read_upload`] turns an uploaded VOTable (TABLEDATA, BINARY, BINARY2) or
//! CSV file into column metadata and PostgreSQL `COPY` text for a temporary table (TAP
//! `UPLOAD`). The [`read`] module documents the type mapping and the null rules.
//!
//! # Formats
//!
//! [`parse_format`] and [`writer_for`] understand every `RESPONSEFORMAT`/`FORMAT` value listed in
//! [`OUTPUT_FORMATS`] (short names and media types, case-insensitively, with media-type
//! parameters). Decisions the standards leave open, and why they went this way:
//!
//! * **`votable` alone means BINARY2.** It is smaller than TABLEDATA (no per-cell tags, numbers
//!   at their binary width), much faster to write and to parse, and it has a per-cell null mask so
//!   no sentinel values are needed. Every client in use (TOPCAT/STIL, astropy and so pyvo and
//!   astroquery, taplint) reads it; Rubin and ESA default to a binary serialisation as well.
//!   Clients that want text ask for `votable/td` (or ESA's `votable_plain`).
//! * **CSV uses CRLF** line ends, as RFC 4180 and the `text/csv` registration specify; every CSV
//!   reader accepts them. TSV uses LF, the Unix convention of the tools that consume TSV.
//! * **Text alignment** cannot look at the data (rows stream), so each column gets a width from
//!   its declared `arraysize` or a fixed width per datatype; longer values overflow their column
//!   rather than being cut. See [`TextWriter`].
//! * **ECSV** is written for astropy's reader, which is the one that matters (astroquery
//!   asks for it): text columns carry a mask column so that empty strings and nulls both come
//!   back, timestamps stay ISO strings. See [`EcsvWriter`].
//! * **`votable_gzip`** is BINARY2 compressed by the writer, chunk by chunk, and sent with
//!   `Content-Encoding: gzip` ([`Format::content_encoding`], [`GzipWriter`]).
//! * **VOParquet** (`parquet`, `application/vnd.apache.parquet`) is Parquet with the VOTable
//!   header in its footer (IVOA VOParquet 1.0), streamed in bounded row groups; how the query
//!   ended goes into that footer, written last. See [`ParquetWriter`].
//! * **FITS** needs the row count in the header, before the rows. The FITS writer emits a header
//!   of the final size with placeholder values, then the rows; after `end` the caller writes
//!   [`ResultWriter::patch`] over the start of the spooled file. See [`FitsWriter`].
//!
//! # What the server gets beyond begin/row/end, and why
//!
//! * [`OUTPUT_FORMATS`] is the single table behind both the parser and the TAPRegExt
//!   `outputFormat` list, so the capabilities cannot offer a format the parser refuses (FM-04).
//! * [`ResultWriter::reports_errors`] says whether a late error can be recorded in-band; when it
//!   cannot (CSV, TSV, ECSV) the server must abort the transfer instead.
//! * [`ResultWriter::needs_patch`] / [`ResultWriter::patch`] keep FITS behind the same trait:
//!   the server learns before `begin` that it has to spool, and gets the header to rewrite
//!   without downcasting.
//! * [`Field::reference`] and [`TableMeta::coosys`] let positions point at a `COOSYS` (VE-04).
//! * Values are checked against their field ([`Value`] lists what fits where) instead of being
//!   written blindly, because a binary layout written with the wrong width corrupts every later
//!   row; the check is a match per cell, with no allocation unless it fails.
//!
//! # Errors during streaming
//!
//! A row that cannot be encoded (wrong value type for its field, say) is rejected with an
//! [`Error`] and leaves the output exactly as it was before the call, so the caller can still
//! finish the document with [`Ending::Error`]. VOTable, JSON, HTML, text and FITS record such an
//! ending in the document; CSV, TSV and ECSV cannot ([`ResultWriter::reports_errors`]).

#![warn(missing_docs)]

mod binary;
mod column;
mod csv;
mod ecsv;
mod fits;
mod format;
mod gzip;
mod html;
mod json;
pub mod read;
mod text;
mod textfmt;
mod voparquet;
mod votable;

pub use crate::csv::{CsvWriter, TsvWriter};
pub use crate::ecsv::EcsvWriter;
pub use crate::fits::{FitsWriter, DEFAULT_FITS_STRING_WIDTH};
pub use crate::format::{
    parse_format, writer_for, OutputFormat, RequestedFormat, UnknownFormat, OUTPUT_FORMATS,
};
pub use crate::gzip::GzipWriter;
pub use crate::html::HtmlWriter;
pub use crate::json::JsonWriter;
pub use crate::read::{
    read_csv, read_upload, read_votable, ReadError, ReadLimits, SqlType, UploadColumn, UploadTable,
};
pub use crate::text::TextWriter;
pub use crate::voparquet::{
    ParquetWriter, CONTENT_KEY as VOPARQUET_CONTENT_KEY, MAX_GROUP_BYTES as VOPARQUET_MAX_GROUP_BYTES,
    VERSION_KEY as VOPARQUET_VERSION_KEY,
};
pub use crate::votable::{error_document, error_document_with, write_error_document, VOTableWriter};

use std::io::{Seek, SeekFrom, Write};

/// A VOTable primitive datatype, as found in `TAP_SCHEMA.columns.datatype` and in uploaded FIELDs.
///
/// All twelve VOTable primitives are here because the upload reader ([`read_upload`]) must
/// recognise whatever a client sends. The writers refuse `bit`, `floatComplex` and
/// `doubleComplex` in `begin` ([`Error::UnsupportedField`]): no PostgreSQL type maps to them,
/// so no result column has them (uploads store them as `boolean` and `text`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Datatype {
    /// `boolean`: `T`/`F` in TABLEDATA, one byte in the binary forms.
    Boolean,
    /// `short`: 16-bit signed integer (PostgreSQL `smallint`).
    Short,
    /// `int`: 32-bit signed integer (`integer`).
    Int,
    /// `long`: 64-bit signed integer (`bigint`).
    Long,
    /// `float`: IEEE single precision (`real`).
    Float,
    /// `double`: IEEE double precision (`double precision`, geometry coordinates).
    Double,
    /// 7-bit ASCII (VOTable 1.4): the binary formats write other characters as `?`, so text
    /// that needs them belongs in [`Datatype::UnicodeChar`].
    Char,
    /// UCS-2 in the binary serialisations (written as UTF-16, see [`VOTableWriter`]).
    UnicodeChar,
    /// `unsignedByte`: bytes (`bytea` as an array, BLOB).
    UnsignedByte,
    /// `bit`: packed most significant bit first in the binary forms. Read only.
    Bit,
    /// `floatComplex`: two IEEE singles (real, imaginary). Read only.
    FloatComplex,
    /// `doubleComplex`: two IEEE doubles (real, imaginary). Read only.
    DoubleComplex,
}

impl Datatype {
    /// The VOTable spelling (`"unicodeChar"`, `"long"`, ...), used in FIELD and the JSON metadata.
    pub fn as_str(self) -> &'static str {
        match self {
            Datatype::Boolean => "boolean",
            Datatype::Short => "short",
            Datatype::Int => "int",
            Datatype::Long => "long",
            Datatype::Float => "float",
            Datatype::Double => "double",
            Datatype::Char => "char",
            Datatype::UnicodeChar => "unicodeChar",
            Datatype::UnsignedByte => "unsignedByte",
            Datatype::Bit => "bit",
            Datatype::FloatComplex => "floatComplex",
            Datatype::DoubleComplex => "doubleComplex",
        }
    }

    /// Parses a VOTable datatype name, case-insensitively, so the server can map
    /// `TAP_SCHEMA.columns.datatype` strings without its own table.
    pub fn from_name(name: &str) -> Option<Datatype> {
        const ALL: [Datatype; 12] = [
            Datatype::Boolean,
            Datatype::Bit,
            Datatype::FloatComplex,
            Datatype::DoubleComplex,
            Datatype::Short,
            Datatype::Int,
            Datatype::Long,
            Datatype::Float,
            Datatype::Double,
            Datatype::Char,
            Datatype::UnicodeChar,
            Datatype::UnsignedByte,
        ];
        ALL.into_iter()
            .find(|d| d.as_str().eq_ignore_ascii_case(name.trim()))
    }
}

impl std::fmt::Display for Datatype {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One result column: the VOTable FIELD attributes, copied from `TAP_SCHEMA.columns` (VT-05).
///
/// `arraysize` is the VOTable string (`"2"`, `"*"`, `"64*"`, `"2x3"`); leave it `None` for
/// scalars (never `"1"`). The writers use it to choose binary layouts, FITS widths and text
/// column widths, so it must describe the values actually sent.
#[derive(Clone, Debug, PartialEq)]
pub struct Field {
    /// The column name as the client sees it: the SELECT alias or the column name (VT-05).
    pub name: String,
    /// The VOTable primitive; it fixes the binary layout of every value.
    pub datatype: Datatype,
    /// `None` for scalars; otherwise the VOTable arraysize string.
    pub arraysize: Option<String>,
    /// `timestamp` makes [`Value::Timestamp`] acceptable for a `char` field; other xtypes
    /// (`point`, `circle`, `polygon`, ...) are passed through as metadata only.
    pub xtype: Option<String>,
    /// VOUnit string, e.g. `deg`.
    pub unit: Option<String>,
    /// UCD1+ word list, e.g. `pos.eq.ra;meta.main`.
    pub ucd: Option<String>,
    /// Data-model reference.
    pub utype: Option<String>,
    /// Free text; becomes the FIELD `DESCRIPTION` (and `TCOMMn` in FITS).
    pub description: Option<String>,
    /// The VOTable `ref` attribute, e.g. the ID of a [`CooSys`] in [`TableMeta::coosys`] (VE-04).
    pub reference: Option<String>,
}

impl Field {
    /// A field with only a name and a datatype; add the rest with the `with_*` methods.
    pub fn new(name: impl Into<String>, datatype: Datatype) -> Field {
        Field {
            name: name.into(),
            datatype,
            arraysize: None,
            xtype: None,
            unit: None,
            ucd: None,
            utype: None,
            description: None,
            reference: None,
        }
    }

    /// Sets the arraysize (`"2"`, `"*"`, `"64*"`, ...).
    pub fn with_arraysize(mut self, arraysize: impl Into<String>) -> Field {
        self.arraysize = Some(arraysize.into());
        self
    }

    /// Sets the xtype (`timestamp`, `point`, ...).
    pub fn with_xtype(mut self, xtype: impl Into<String>) -> Field {
        self.xtype = Some(xtype.into());
        self
    }

    /// Sets the unit.
    pub fn with_unit(mut self, unit: impl Into<String>) -> Field {
        self.unit = Some(unit.into());
        self
    }

    /// Sets the UCD.
    pub fn with_ucd(mut self, ucd: impl Into<String>) -> Field {
        self.ucd = Some(ucd.into());
        self
    }

    /// Sets the utype.
    pub fn with_utype(mut self, utype: impl Into<String>) -> Field {
        self.utype = Some(utype.into());
        self
    }

    /// Sets the description.
    pub fn with_description(mut self, description: impl Into<String>) -> Field {
        self.description = Some(description.into());
        self
    }

    /// Sets the `ref` attribute.
    pub fn with_reference(mut self, reference: impl Into<String>) -> Field {
        self.reference = Some(reference.into());
        self
    }
}

/// One value of a row, borrowed from the driver's buffer: building a row allocates nothing.
///
/// Each value must suit its field. Integers may go into any integer field they fit in and into
/// `float`/`double` fields; `Float` and `Double` go into either floating field; `Text` and
/// `Timestamp` go into `char`/`unicodeChar` fields (`Timestamp` only into arrays); `Doubles` into
/// `float`/`double` arrays; `Bytes` into `unsignedByte` arrays; `Shorts`, `Ints`, `Longs`,
/// `Floats` and `Bools` only into arrays of exactly their own datatype (`short`, `int`, `long`,
/// `float`, `boolean`). Anything else is [`Error::TypeMismatch`].
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value<'a> {
    /// SQL NULL, whatever the column type.
    Null,
    /// A `boolean` value.
    Bool(bool),
    /// A `smallint` value.
    Short(i16),
    /// An `integer` value.
    Int(i32),
    /// A `bigint` value.
    Long(i64),
    /// A `real` value.
    Float(f32),
    /// A `double precision` value.
    Double(f64),
    /// Text, for `char` and `unicodeChar` fields.
    Text(&'a str),
    /// Microseconds since 1970-01-01T00:00:00 UTC, written in the DALI form
    /// `YYYY-MM-DDThh:mm:ss[.fff[fff]]` without a zone: no fraction for whole seconds, three
    /// digits for whole milliseconds, six otherwise (lossless and as short as possible).
    Timestamp(i64),
    /// DALI arrays (point `lon lat`, circle `lon lat r`, polygon `lon lat lon lat ...`).
    Doubles(&'a [f64]),
    /// The bytes of a `bytea`, for `unsignedByte` array fields.
    Bytes(&'a [u8]),
    /// A `smallint[]`, for `short` array fields.
    Shorts(&'a [i16]),
    /// An `integer[]`, for `int` array fields.
    Ints(&'a [i32]),
    /// A `bigint[]`, for `long` array fields.
    Longs(&'a [i64]),
    /// A `real[]`, for `float` array fields.
    Floats(&'a [f32]),
    /// A `boolean[]`, for `boolean` array fields.
    Bools(&'a [bool]),
}

/// A `COOSYS` element, written before the TABLE so FIELDs can `ref` it (VE-04).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CooSys<'a> {
    /// The XML ID that FIELDs name in [`Field::reference`].
    pub id: &'a str,
    /// `ICRS`, `eq_FK5`, ... (the VOTable enumeration).
    pub system: &'a str,
    /// For FK4/FK5 systems, e.g. `J2000`.
    pub equinox: Option<&'a str>,
    /// Epoch of the positions, e.g. `J2016.0` for Gaia DR3.
    pub epoch: Option<&'a str>,
}

/// Everything about the result that is known before the first row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TableMeta<'a> {
    /// One per result column, in SELECT order.
    pub fields: &'a [Field],
    /// The ADQL query, echoed as `<INFO name="QUERY">` (VT-04).
    pub query: Option<&'a str>,
    /// Further `(name, value)` INFOs, e.g. `("standardID", "ivo://ivoa.net/std/TAP")`.
    pub infos: &'a [(&'a str, &'a str)],
    /// Coordinate systems that FIELDs refer to.
    pub coosys: &'a [CooSys<'a>],
}

impl<'a> TableMeta<'a> {
    /// Metadata with only the fields; add the rest with the `with_*` methods.
    pub fn new(fields: &'a [Field]) -> TableMeta<'a> {
        TableMeta {
            fields,
            query: None,
            infos: &[],
            coosys: &[],
        }
    }

    /// Sets the query echoed in the output.
    pub fn with_query(mut self, query: &'a str) -> TableMeta<'a> {
        self.query = Some(query);
        self
    }

    /// Sets further INFO name/value pairs.
    pub fn with_infos(mut self, infos: &'a [(&'a str, &'a str)]) -> TableMeta<'a> {
        self.infos = infos;
        self
    }

    /// Sets the COOSYS elements.
    pub fn with_coosys(mut self, coosys: &'a [CooSys<'a>]) -> TableMeta<'a> {
        self.coosys = coosys;
        self
    }
}

/// How the result ended, given to [`ResultWriter::end`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ending<'a> {
    /// Every row was written.
    Complete,
    /// The MAXREC limit cut rows off (MX-02): only pass this when more rows really existed.
    Overflow,
    /// The query failed after `begin` (timeout, backend error, abort). The message goes into
    /// the document where the format allows it (VOTable: a trailing `QUERY_STATUS=ERROR` INFO).
    Error(&'a str),
}

/// Why a writer call failed. Row errors leave the output unchanged (see the crate docs).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum Error {
    /// `begin`, `row` and `end` were called out of order.
    #[error("result writer used out of order: {0}")]
    State(&'static str),
    /// A table needs at least one column (VOTable TABLE, FITS TFIELDS).
    #[error("a result table needs at least one column")]
    NoFields,
    /// A field's arraysize is not `n`, `n*`, `*` or `AxB...` (from `begin`).
    #[error("column {column} ({name}): invalid arraysize '{arraysize}'")]
    InvalidArraysize {
        /// 1-based column number.
        column: usize,
        /// Column name.
        name: String,
        /// The arraysize as given.
        arraysize: String,
    },
    /// A field the writers cannot encode (from `begin`), e.g. arrays of strings.
    #[error("column {column} ({name}): {reason}")]
    UnsupportedField {
        /// 1-based column number.
        column: usize,
        /// Column name.
        name: String,
        /// What is not supported.
        reason: &'static str,
    },
    /// A row with a different number of values than fields.
    #[error("row has {got} values but the table has {expected} columns")]
    RowLength {
        /// Number of fields.
        expected: usize,
        /// Number of values given.
        got: usize,
    },
    /// A value of a kind the field cannot hold (see [`Value`]).
    #[error("column {column} ({name}): a {value} value cannot be written as {field}")]
    TypeMismatch {
        /// 1-based column number.
        column: usize,
        /// Column name.
        name: String,
        /// The kind of value given.
        value: &'static str,
        /// The field's datatype and arraysize, e.g. `double[2]`.
        field: String,
    },
    /// An integer too large for the field's datatype.
    #[error("column {column} ({name}): value {value} is out of range for {datatype}")]
    OutOfRange {
        /// 1-based column number.
        column: usize,
        /// Column name.
        name: String,
        /// The value given.
        value: i64,
        /// The field's datatype.
        datatype: Datatype,
    },
    /// An array whose length the arraysize does not allow.
    #[error("column {column} ({name}): array of {got} elements does not fit arraysize {arraysize}")]
    ArrayLength {
        /// 1-based column number.
        column: usize,
        /// Column name.
        name: String,
        /// Elements given.
        got: usize,
        /// The field's arraysize.
        arraysize: String,
    },
    /// FITS variable-length arrays use 32-bit heap offsets (`P` descriptors).
    #[error("FITS heap exceeds 2 GiB; ask for VOTable instead")]
    FitsHeapFull,
    /// The compressor of a gzip-encoded format failed (it writes to memory, so in practice
    /// never).
    #[error("cannot compress the result: {0}")]
    Compression(String),
    /// The Parquet encoder refused something (it writes to memory, so in practice a bug).
    #[error("cannot write Parquet: {0}")]
    Parquet(String),
}

/// Bytes to write over already-written output once [`ResultWriter::end`] has returned.
///
/// Only FITS produces one (its header holds the row count). The length never changes what was
/// written before: `bytes` replaces exactly `bytes.len()` bytes starting at `offset`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Patch {
    /// Byte offset from the start of everything the writer produced.
    pub offset: u64,
    /// The replacement bytes, exactly as long as the placeholder they overwrite.
    pub bytes: Vec<u8>,
}

impl Patch {
    /// Writes the patch into a spooled copy of the output (a temporary file, say) and leaves the
    /// position at the end of the stream, ready for the next append or for reading back.
    pub fn apply<W: Write + Seek>(&self, spool: &mut W) -> std::io::Result<()> {
        spool.seek(SeekFrom::Start(self.offset))?;
        spool.write_all(&self.bytes)?;
        spool.seek(SeekFrom::End(0))?;
        Ok(())
    }
}

/// A streaming encoder for one result table in one output format.
///
/// Call [`begin`](Self::begin) once, [`row`](Self::row) per row, then [`end`](Self::end) once.
/// Every call appends to `out` and never reads or removes what is already there, so the caller
/// may drain `out` between calls. Writers are `Send` so a server can move them across tasks.
pub trait ResultWriter: Send {
    /// The HTTP `Content-Type`: the media type the client asked for if it named one (FM-03),
    /// otherwise the canonical type of the format.
    fn content_type(&self) -> &str;

    /// Which format this writer produces.
    fn format(&self) -> Format;

    /// Writes everything up to the first row: headers, VOTable FIELDs, the CSV header line.
    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error>;

    /// Writes one row; `values` has one entry per field, in field order. On error nothing is
    /// appended and the writer can still take further rows or `end`.
    fn row(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error>;

    /// Finishes the document, recording overflow or an error where the format can.
    fn end(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error>;

    /// Rows written so far.
    fn rows(&self) -> u64;

    /// Whether `end(Ending::Error(..))` leaves a mark a client will see. When `false` (CSV,
    /// TSV, ECSV) the server should instead abort the response (drop the connection before the final
    /// chunk) so the client gets a failed transfer rather than a table that looks complete.
    fn reports_errors(&self) -> bool {
        true
    }

    /// Whether the output must be spooled to seekable storage because [`patch`](Self::patch)
    /// will rewrite its start after `end`. Known before `begin`, so the server can decide to
    /// spool before it writes anything.
    fn needs_patch(&self) -> bool {
        false
    }

    /// After `end`: the bytes to write over the start of the output (FITS header with the final
    /// row count). `None` for formats that stream straight to the client, or before `end`.
    fn patch(&self) -> Option<Patch> {
        None
    }
}

/// The VOTable serialisations (VOTable 1.4 §5).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Serialization {
    /// XML `<TR><TD>`: readable, larger and slower to parse.
    TableData,
    /// Base64 binary without a null mask (integer nulls need sentinels).
    Binary,
    /// Base64 binary with a per-row null mask (VOTable 1.3+).
    Binary2,
}

impl Serialization {
    /// The `serialization=` parameter value of the VOTable media type.
    pub fn as_str(self) -> &'static str {
        match self {
            Serialization::TableData => "TABLEDATA",
            Serialization::Binary => "BINARY",
            Serialization::Binary2 => "BINARY2",
        }
    }
}

/// An output format.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// VOTable 1.4 in the given serialisation ([`VOTableWriter`]).
    VOTable(Serialization),
    /// RFC 4180 CSV ([`CsvWriter`]).
    Csv,
    /// Tab-separated values ([`TsvWriter`]).
    Tsv,
    /// Aligned plain text ([`TextWriter`]).
    Text,
    /// ESA TAP+ JSON ([`JsonWriter`]).
    Json,
    /// An HTML5 page ([`HtmlWriter`]).
    Html,
    /// A FITS binary table ([`FitsWriter`]).
    Fits,
    /// astropy's ECSV 1.0 ([`EcsvWriter`]).
    Ecsv,
    /// BINARY2 VOTable compressed with gzip, ESA TAP+'s `votable_gzip` ([`GzipWriter`]).
    VOTableGzip,
    /// VOParquet 1.0: Parquet with the VOTable metadata in its footer ([`ParquetWriter`]).
    Parquet,
}

impl Format {
    /// The HTTP `Content-Encoding` the body needs, for formats whose output is compressed by
    /// the writer itself. `Some("gzip")` for [`Format::VOTableGzip`]: the body is a gzip file
    /// of a VOTable, so clients that decode content codings (pyvo through requests, browsers,
    /// `curl --compressed`) see the VOTable, while those that do not (astroquery's TapPlus,
    /// which gunzips itself, or `curl -o x.vot.gz`) get the `.gz` file. The server must not
    /// compress such a body again, and a stored copy keeps the encoding with it.
    pub fn content_encoding(self) -> Option<&'static str> {
        match self {
            Format::VOTableGzip => Some("gzip"),
            _ => None,
        }
    }
}
