//! VOParquet output (IVOA Note "Parquet in the VO", VOParquet 1.0, 2025-01): a Parquet file
//! whose footer key/value metadata carries `IVOA.VOTable-Parquet.version` = `1.0` and
//! `IVOA.VOTable-Parquet.content` = a VOTable document describing the columns.
//!
//! Why Parquet at all: a client reads it column by column with pyarrow (astropy's
//! `format="parquet.votable"`, pandas, TOPCAT) at memory speed, where a VOTable is parsed
//! value by value. Why the VOTable in the footer: Parquet has no units, UCDs, xtypes or
//! descriptions; the note puts the very header Tapir writes for its VOTable output there, so a
//! VO-aware reader loses nothing.

mod store;

use std::sync::Arc;

use parquet::basic::Compression;
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::types::Type;

use crate::column::{check_row_length, Column, Shape, State};
use crate::voparquet::store::{schema_node, Store};
use crate::{CooSys, Datatype, Ending, Error, Field, Format, ResultWriter, TableMeta, VOTableWriter, Value};

/// The footer key naming the convention's version.
pub const VERSION_KEY: &str = "IVOA.VOTable-Parquet.version";
/// The footer key holding the data-less VOTable.
pub const CONTENT_KEY: &str = "IVOA.VOTable-Parquet.content";

/// The first row group is flushed after about this many bytes of values, so the first data
/// leaves soon after the first rows; each later one may be twice as large as the one before,
/// up to [`MAX_GROUP_BYTES`].
const FIRST_GROUP_BYTES: usize = 1 << 20;
/// The bound on a row group's values held in memory (about 8 MiB, plus the encoded pages
/// being written): what keeps a result of any length in flat memory, while row groups stay
/// large enough for readers to read fast.
pub const MAX_GROUP_BYTES: usize = 8 << 20;
/// Parquet's row group ordinals are 16-bit: never more groups than this (a row group then
/// grows past the byte bound instead, which takes more than 256 GiB of output).
const MAX_GROUPS: usize = i16::MAX as usize;

/// Writes a VOParquet file, streamed in row groups.
///
/// Layout: `PAR1`, then one row group per ~1 to 8 MiB of values (the first small, so bytes
/// leave early; doubling up to [`MAX_GROUP_BYTES`]), then the footer with the schema, the
/// row group index and the VOTable. Memory is one row group's values, whatever the row count.
///
/// Types (nothing is lost; every column is nullable, nulls are Parquet nulls):
///
/// | VOTable FIELD | Parquet column |
/// |---|---|
/// | `boolean` | `BOOLEAN` |
/// | `short`, `int`, `long` | `INT32` (`INT(16)`), `INT32`, `INT64` |
/// | `unsignedByte` | `INT32` (`INT(8, unsigned)`) |
/// | `float`, `double` | `FLOAT`, `DOUBLE` |
/// | `char`, `unicodeChar`, any arraysize | `BYTE_ARRAY` (`STRING`, UTF-8, not cut or padded) |
/// | `char` with `xtype="timestamp"` | `STRING`, the same DALI text as the VOTable output |
/// | number and boolean arrays (`bytea` too), geometries (DALI `double` arrays) | `LIST` of the element type |
///
/// Timestamps stay DALI strings rather than Parquet `TIMESTAMP`s because the note wants each
/// FIELD's datatype to correspond to its column's type, and a `char` FIELD is what TAP
/// clients expect for them; astropy's reader (which stacks the VOTable's empty table onto the
/// Parquet data) fails when the two disagree. Multi-dimensional arrays (`2x2`) are flat lists
/// whose FIELD keeps the arraysize.
///
/// The footer's FIELDs are those of the VOTable output except for the arraysize of text and
/// fixed-size array columns, adjusted to describe the Parquet columns (see `footer`).
///
/// How it ended goes into the footer's VOTable, which is written last: `QUERY_STATUS=OK` first
/// as in the VOTable output, then after the TABLE `QUERY_STATUS=OVERFLOW` when MAXREC cut rows
/// off, or `QUERY_STATUS=ERROR` with the message when the query failed after rows were sent.
/// A failed query therefore still ends in a readable file holding the rows sent before the
/// failure, whose metadata says it is incomplete ([`ResultWriter::reports_errors`] is true).
pub struct ParquetWriter {
    content_type: String,
    state: State,
    columns: Vec<Column>,
    stores: Vec<Store>,
    file: Option<SerializedFileWriter<Vec<u8>>>,
    /// What `begin` was told, kept for the footer VOTable, which `end` writes.
    meta: OwnedMeta,
    rows: u64,
    group_rows: usize,
    group_bytes: usize,
    group_limit: usize,
    groups: usize,
}

impl std::fmt::Debug for ParquetWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetWriter")
            .field("content_type", &self.content_type)
            .field("rows", &self.rows)
            .field("groups", &self.groups)
            .finish_non_exhaustive()
    }
}

impl ParquetWriter {
    /// A writer that reports `content_type` (`application/vnd.apache.parquet` unless the
    /// client named another Parquet media type).
    pub fn new(content_type: impl Into<String>) -> ParquetWriter {
        ParquetWriter {
            content_type: content_type.into(),
            state: State::Fresh,
            columns: Vec::new(),
            stores: Vec::new(),
            file: None,
            meta: OwnedMeta::default(),
            rows: 0,
            group_rows: 0,
            group_bytes: 0,
            group_limit: FIRST_GROUP_BYTES,
            groups: 0,
        }
    }

    /// Writes the gathered rows as one row group and moves the encoded bytes to `out`.
    fn flush_group(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        if self.group_rows == 0 {
            return Ok(());
        }
        let failed = |e: parquet::errors::ParquetError| Error::Parquet(e.to_string());
        let file = self.file.as_mut().ok_or(Error::State("no Parquet file open"))?;
        let mut group = file.next_row_group().map_err(failed)?;
        for store in &mut self.stores {
            let mut column = group
                .next_column()
                .map_err(failed)?
                .ok_or_else(|| Error::Parquet("fewer Parquet columns than fields".into()))?;
            store.write(column.untyped())?;
            column.close().map_err(failed)?;
        }
        group.close().map_err(failed)?;
        drain(file, out)?;
        self.groups += 1;
        self.group_rows = 0;
        self.group_bytes = 0;
        self.group_limit = (self.group_limit * 2).min(MAX_GROUP_BYTES);
        Ok(())
    }
}

impl ParquetWriter {
    /// The data-less VOTable of the footer: Tapir's VOTable header for this result, with each
    /// FIELD describing its Parquet column as the note asks (§2.3), then the ending's
    /// QUERY_STATUS. Two attributes differ from the VOTable output, because the Parquet column
    /// differs: text FIELDs get `arraysize="N*"`, N the longest value written (Parquet strings
    /// are neither cut nor padded to a declared length), and fixed-size arrays are declared
    /// variable in their last dimension (`2` becomes `*`, `2x2` becomes `2x*`: a Parquet LIST
    /// has no fixed size; the xtype still says `point` or `circle`). astropy's reader depends
    /// on both: it stacks the footer's empty table onto the data and refuses a `*` string or a
    /// fixed array over a Parquet string or list column.
    fn footer(&self, ending: Ending<'_>) -> Result<String, Error> {
        let fields: Vec<Field> = self
            .meta
            .fields
            .iter()
            .zip(&self.columns)
            .zip(&self.stores)
            .map(|((field, col), store)| footer_field(field, col, store))
            .collect();
        let infos: Vec<(&str, &str)> = self
            .meta
            .infos
            .iter()
            .map(|(n, v)| (n.as_str(), v.as_str()))
            .collect();
        let coosys: Vec<CooSys<'_>> = self
            .meta
            .coosys
            .iter()
            .map(|c| CooSys {
                id: &c.0,
                system: &c.1,
                equinox: c.2.as_deref(),
                epoch: c.3.as_deref(),
            })
            .collect();
        let mut meta = TableMeta::new(&fields).with_infos(&infos).with_coosys(&coosys);
        if let Some(query) = &self.meta.query {
            meta = meta.with_query(query);
        }
        let mut writer = VOTableWriter::metadata_only();
        let mut doc = Vec::with_capacity(4096);
        writer.begin(&mut doc, &meta)?;
        writer.end(&mut doc, ending)?;
        String::from_utf8(doc).map_err(|_| Error::Parquet("the footer VOTable is not UTF-8".into()))
    }
}

/// A FIELD as the footer declares it; see [`ParquetWriter::footer`].
fn footer_field(field: &Field, col: &Column, store: &Store) -> Field {
    let mut field = field.clone();
    if matches!(col.datatype, Datatype::Char | Datatype::UnicodeChar) {
        field.arraysize = Some(match store.max_chars() {
            0 => "*".to_owned(),
            n => format!("{n}*"),
        });
    } else if let Shape::Fixed(_) = col.shape {
        field.arraysize = Some(match col.dims.split_last() {
            Some((_, leading)) if !leading.is_empty() => {
                let leading: Vec<String> = leading.iter().map(usize::to_string).collect();
                format!("{}x*", leading.join("x"))
            }
            _ => "*".to_owned(),
        });
    }
    field
}

/// [`TableMeta`] with owned strings: the footer is written at the end, after the borrowed
/// metadata of `begin` is gone.
#[derive(Debug, Default)]
struct OwnedMeta {
    fields: Vec<Field>,
    query: Option<String>,
    infos: Vec<(String, String)>,
    /// ID, system, equinox, epoch.
    coosys: Vec<(String, String, Option<String>, Option<String>)>,
}

impl OwnedMeta {
    fn of(meta: &TableMeta<'_>) -> OwnedMeta {
        OwnedMeta {
            fields: meta.fields.to_vec(),
            query: meta.query.map(str::to_owned),
            infos: meta
                .infos
                .iter()
                .map(|(n, v)| ((*n).to_owned(), (*v).to_owned()))
                .collect(),
            coosys: meta
                .coosys
                .iter()
                .map(|c| {
                    (
                        c.id.to_owned(),
                        c.system.to_owned(),
                        c.equinox.map(str::to_owned),
                        c.epoch.map(str::to_owned),
                    )
                })
                .collect(),
        }
    }
}

/// Moves what the Parquet writer has produced so far into `out`. The writer counts the bytes
/// it wrote itself, so emptying its sink does not disturb the offsets it records.
fn drain(file: &mut SerializedFileWriter<Vec<u8>>, out: &mut Vec<u8>) -> Result<(), Error> {
    file.flush().map_err(|e| Error::Parquet(e.to_string()))?;
    let sink = file.inner_mut();
    out.extend_from_slice(sink);
    sink.clear();
    Ok(())
}

impl ResultWriter for ParquetWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        Format::Parquet
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.state.expect_fresh()?;
        self.columns = Column::columns(meta.fields)?;
        let failed = |e: parquet::errors::ParquetError| Error::Parquet(e.to_string());
        let mut nodes = Vec::with_capacity(self.columns.len());
        let properties = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            // No dictionaries: measurements and identifiers are nearly all distinct, and for them
            // trying a dictionary (hashing every value until the dictionary page overflows, in
            // every row group) cost about a tenth of the writing time on bench.objects; Snappy
            // still shrinks repeated text.
            .set_dictionary_enabled(false)
            // Per-chunk min/max only: readers prune row groups with them, and per-page
            // statistics would cost a comparison per value for little.
            .set_statistics_enabled(EnabledStatistics::Chunk)
            .set_created_by(format!("Tapir {} (parquet-rs)", env!("CARGO_PKG_VERSION")))
            .build();
        for (i, (field, col)) in meta.fields.iter().zip(&self.columns).enumerate() {
            let (node, store) = schema_node(&field.name, col).map_err(|e| match e {
                Error::UnsupportedField { name, reason, .. } => Error::UnsupportedField {
                    column: i + 1,
                    name,
                    reason,
                },
                other => other,
            })?;
            nodes.push(node);
            self.stores.push(store);
        }
        let schema = Type::group_type_builder("schema")
            .with_fields(nodes)
            .build()
            .map_err(failed)?;
        let file =
            SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(properties)).map_err(failed)?;
        self.meta = OwnedMeta::of(meta);
        self.file = Some(file);
        if let Some(file) = self.file.as_mut() {
            drain(file, out)?;
        }
        self.state = State::Open;
        Ok(())
    }

    fn row(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        self.state.expect_open()?;
        check_row_length(&self.columns, values)?;
        // One pass: each value is checked and stored; a value refused takes back the cells
        // stored before it, so a refused row leaves no trace (and a good one costs no second
        // check).
        let mut added = 0;
        for (i, ((col, store), value)) in self.columns.iter().zip(&mut self.stores).zip(values).enumerate() {
            match col.cell(i, value) {
                Ok(cell) => added += store.push(&cell),
                Err(e) => {
                    for store in &mut self.stores[..i] {
                        store.pop_last();
                    }
                    return Err(e);
                }
            }
        }
        self.group_bytes += added;
        self.rows += 1;
        self.group_rows += 1;
        if self.group_bytes >= self.group_limit && self.groups + 1 < MAX_GROUPS {
            self.flush_group(out)?;
        }
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
        self.state.expect_open()?;
        self.flush_group(out)?;
        let content = self.footer(ending)?;
        let mut file = self.file.take().ok_or(Error::State("no Parquet file open"))?;
        file.append_key_value_metadata(KeyValue::new(VERSION_KEY.to_owned(), "1.0".to_owned()));
        file.append_key_value_metadata(KeyValue::new(CONTENT_KEY.to_owned(), content));
        let sink = file.into_inner().map_err(|e| Error::Parquet(e.to_string()))?;
        out.extend_from_slice(&sink);
        self.state = State::Done;
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.rows
    }
}
