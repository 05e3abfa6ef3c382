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

use std::sync::mpsc::{self, Receiver, SyncSender, TryRecvError};
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

/// The prefix of astropy's footer key for a text column's width (see `text_lengths`).
pub const ASTROPY_LEN_KEY: &str = "table::len::";

/// A row group is flushed after about this many bytes of values. Small on purpose: on a
/// server whose cores are shared with PostgreSQL, a group's encoding (on the writer's thread)
/// and the wait for the last group at the end are the time Parquet adds over a row-by-row
/// format; with 1 MiB groups that is about a millisecond each (8 MiB groups cost 3 to 7 ms
/// at the end alone, and the result took 1.2x BINARY2's time instead of about 1.05x on
/// bench.objects). Readers lose nothing that shows: pyarrow reads the groups in parallel.
const FIRST_GROUP_BYTES: usize = 1 << 20;
/// After this many groups (about 1 GiB of values) the group size doubles, and again after as
/// many more, up to [`MAX_GROUP_BYTES`]: a result of many GiB keeps its footer (one entry
/// per group and column) small and stays under Parquet's group count.
const GROUPS_PER_SIZE: usize = 1024;
/// The bound on a row group's values held in memory (8 MiB, plus the encoded pages being
/// written): what keeps a result of any length in flat memory.
pub const MAX_GROUP_BYTES: usize = 8 << 20;
/// Parquet's row group ordinals are 16-bit: never more groups than this (a row group then
/// grows past the byte bound instead, which takes more than 200 GiB of output).
const MAX_GROUPS: usize = i16::MAX as usize;
/// How often (in rows) the writer looks whether the encoder thread has finished a group.
const POLL_ROWS: u64 = 256;

/// Writes a VOParquet file, streamed in row groups.
///
/// Layout: `PAR1`, then one row group per ~1 MiB of values (so the first bytes leave early
/// and the last group costs little at the end; larger in results of many GiB, up to
/// [`MAX_GROUP_BYTES`]), then the footer with the schema, the
/// row group index and the VOTable. From the second row group on, groups are encoded on a
/// thread of the writer's own while the next is filled (see `Worker`). Memory is at most two
/// row groups' values (one filled, one encoded) and one group's encoded bytes, whatever the
/// row count.
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
    /// The row group being filled.
    stores: Vec<Store>,
    /// Emptied stores back from the encoder, filled next (their buffers keep their capacity).
    spare: Option<Vec<Store>>,
    /// The longest text of each column in the row groups already handed to the encoder.
    max_chars: Vec<usize>,
    /// Whether each column had a null in the row groups already handed to the encoder.
    nulls: Vec<bool>,
    encoder: Encoder,
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
            spare: None,
            max_chars: Vec::new(),
            nulls: Vec::new(),
            encoder: Encoder::Closed,
            meta: OwnedMeta::default(),
            rows: 0,
            group_rows: 0,
            group_bytes: 0,
            group_limit: FIRST_GROUP_BYTES,
            groups: 0,
        }
    }

    /// Hands the gathered rows over as one row group. The first group is encoded here and
    /// moves to `out` at once; later ones go to the encoder thread, started at the second,
    /// and the group before, which the thread must have finished first, moves to `out`: at
    /// most one group is being filled and one encoded. The last group of a result that never
    /// needed the thread is encoded here too.
    fn flush_group(&mut self, out: &mut Vec<u8>, last: bool) -> Result<(), Error> {
        if self.group_rows == 0 {
            return Ok(());
        }
        for ((longest, null), store) in self.max_chars.iter_mut().zip(&mut self.nulls).zip(&self.stores) {
            *longest = (*longest).max(store.max_chars());
            *null = *null || store.has_null();
        }
        // The first group is encoded here too, so that the first bytes leave at once.
        let here = last || self.groups == 0;
        if !here && matches!(self.encoder, Encoder::Inline(_)) {
            if let Encoder::Inline(file) = std::mem::replace(&mut self.encoder, Encoder::Closed) {
                self.encoder = match Worker::start(file) {
                    Ok(worker) => Encoder::Thread(worker),
                    Err(file) => Encoder::Inline(file),
                };
            }
        }
        match &mut self.encoder {
            Encoder::Closed => return Err(Error::State("no Parquet file open")),
            Encoder::Inline(file) => encode_group(file, &mut self.stores, out)?,
            Encoder::Thread(worker) => {
                if let Some(stores) = worker.collect(out, true)? {
                    self.spare = Some(stores);
                }
                let next = match self.spare.take() {
                    Some(stores) => stores,
                    None => self.stores.iter().map(Store::empty_like).collect(),
                };
                let full = std::mem::replace(&mut self.stores, next);
                worker.send_group(full)?;
            }
        }
        self.groups += 1;
        self.group_rows = 0;
        self.group_bytes = 0;
        if self.groups % GROUPS_PER_SIZE == 0 {
            self.group_limit = (self.group_limit * 2).min(MAX_GROUP_BYTES);
        }
        Ok(())
    }
}

/// Where row groups are encoded: in the caller's thread for the first row group (and for a
/// result of one group), then on a thread of the writer's own (see [`Worker`]).
enum Encoder {
    /// Before `begin` and after `end`.
    Closed,
    Inline(Box<File>),
    Thread(Worker),
}

/// The Parquet file writer; it writes into memory, which is moved to `out` group by group.
type File = SerializedFileWriter<Vec<u8>>;

impl Worker {
    /// Moves `file` to a new encoder thread; gives it back when no thread can be started
    /// (the writer then goes on encoding in place: slower, but the result is the same).
    fn start(file: Box<File>) -> Result<Worker, Box<File>> {
        // The channels hold one message each: the writer waits for a group's bytes before it
        // sends the next group, so neither side ever blocks on a send, and what is in flight
        // is one row group. The file travels on a channel of its own, after the thread has
        // started, so that a failed start leaves it here.
        let (file_tx, file_rx) = mpsc::sync_channel::<Box<File>>(1);
        let (jobs, job_rx) = mpsc::sync_channel::<Job>(1);
        let (done_tx, done) = mpsc::sync_channel::<Result<Done, Error>>(1);
        let started = std::thread::Builder::new()
            .name("tapir-parquet".into())
            .spawn(move || {
                if let Ok(file) = file_rx.recv() {
                    encode_on_thread(*file, &job_rx, &done_tx);
                }
            });
        if started.is_err() {
            return Err(file);
        }
        file_tx.send(file).map_err(|mpsc::SendError(file)| file)?;
        Ok(Worker {
            jobs,
            done,
            in_flight: false,
            buffer: Vec::new(),
        })
    }
}

/// The writer's end of the encoder thread, which owns the file writer.
///
/// Why a thread: encoding a row group (levels, plain encoding, Snappy, statistics) costs more
/// than storing its values (in `perf` of the server, about twice), and meanwhile the server can
/// fetch and decode the next rows; on two cores the two overlap. Memory stays bounded: one group filled here, one encoded there.
/// When the writer is dropped mid-result (a client gone), the channel closes and the thread
/// ends after the group it is encoding.
struct Worker {
    jobs: SyncSender<Job>,
    done: Receiver<Result<Done, Error>>,
    in_flight: bool,
    /// The byte buffer of the last answer, emptied, for the next group.
    buffer: Vec<u8>,
}

enum Job {
    /// Encode these stores as a row group; `buffer` is an emptied byte buffer to write the
    /// next group into (recycled, so the thread does not touch fresh memory for every group).
    Group { stores: Vec<Store>, buffer: Vec<u8> },
    /// Write the footer with these key/value pairs and hand back the rest of the file.
    Finish(Vec<KeyValue>),
}

/// What the thread sends back: the bytes written since the last answer, and the emptied
/// stores of the group it encoded (none after `Finish`).
struct Done {
    bytes: Vec<u8>,
    stores: Option<Vec<Store>>,
}

impl Worker {
    fn send(&mut self, job: Job) -> Result<(), Error> {
        self.jobs.send(job).map_err(|_| stopped())?;
        self.in_flight = true;
        Ok(())
    }

    /// Moves the answer to the job in flight, if any, to `out`, waiting for it when `wait`;
    /// returns the stores it sends back.
    fn collect(&mut self, out: &mut Vec<u8>, wait: bool) -> Result<Option<Vec<Store>>, Error> {
        if !self.in_flight {
            return Ok(None);
        }
        let answer = if wait {
            self.done.recv().map_err(|_| stopped())?
        } else {
            match self.done.try_recv() {
                Ok(answer) => answer,
                Err(TryRecvError::Empty) => return Ok(None),
                Err(TryRecvError::Disconnected) => return Err(stopped()),
            }
        };
        self.in_flight = false;
        let mut done = answer?;
        if out.is_empty() {
            std::mem::swap(out, &mut done.bytes);
        } else {
            out.extend_from_slice(&done.bytes);
        }
        done.bytes.clear();
        self.buffer = done.bytes;
        Ok(done.stores)
    }

    /// Sends the next row group.
    fn send_group(&mut self, stores: Vec<Store>) -> Result<(), Error> {
        let buffer = std::mem::take(&mut self.buffer);
        self.send(Job::Group { stores, buffer })
    }
}

fn stopped() -> Error {
    Error::Parquet("the Parquet encoder thread stopped".into())
}

/// The encoder thread: encodes each group it is sent, and the footer, until told to finish or
/// until the writer goes away.
fn encode_on_thread(
    mut file: SerializedFileWriter<Vec<u8>>,
    jobs: &Receiver<Job>,
    done: &SyncSender<Result<Done, Error>>,
) {
    while let Ok(job) = jobs.recv() {
        let answer = match job {
            Job::Group { mut stores, buffer } => {
                write_group(&mut file, &mut stores).map(|()| {
                    // The group's bytes leave as they are; the sink goes on in the emptied
                    // buffer. The file writer counts its offsets itself.
                    let bytes = std::mem::replace(file.inner_mut(), buffer);
                    Done {
                        bytes,
                        stores: Some(stores),
                    }
                })
            }
            Job::Finish(pairs) => {
                for pair in pairs {
                    file.append_key_value_metadata(pair);
                }
                let answer = file
                    .into_inner()
                    .map(|bytes| Done { bytes, stores: None })
                    .map_err(|e| Error::Parquet(e.to_string()));
                let _ = done.send(answer);
                return;
            }
        };
        let failed = answer.is_err();
        if done.send(answer).is_err() || failed {
            return;
        }
    }
}

/// Writes `stores` as one row group of `file`, moves the bytes to `out` and empties the
/// stores for the next group.
fn encode_group(
    file: &mut SerializedFileWriter<Vec<u8>>,
    stores: &mut [Store],
    out: &mut Vec<u8>,
) -> Result<(), Error> {
    write_group(file, stores)?;
    drain(file, out)
}

/// Writes `stores` as one row group of `file` (its bytes flushed to the file's sink) and
/// empties them.
fn write_group(file: &mut SerializedFileWriter<Vec<u8>>, stores: &mut [Store]) -> Result<(), Error> {
    let failed = |e: parquet::errors::ParquetError| Error::Parquet(e.to_string());
    let mut group = file.next_row_group().map_err(failed)?;
    for store in stores.iter_mut() {
        let mut column = group
            .next_column()
            .map_err(failed)?
            .ok_or_else(|| Error::Parquet("fewer Parquet columns than fields".into()))?;
        store.write(column.untyped())?;
        column.close().map_err(failed)?;
        store.reclaim();
    }
    group.close().map_err(failed)?;
    file.flush().map_err(|e| Error::Parquet(e.to_string()))
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
            .zip(&self.max_chars)
            .map(|((field, col), &longest)| footer_field(field, col, longest))
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

impl ParquetWriter {
    /// astropy's `table::len::NAME` footer keys: the longest value of each text column, in
    /// characters. astropy's Parquet reader (under `parquet.votable` too) makes a fixed-width
    /// numpy string column of each Parquet string column; without the key it finds the width
    /// with a Python loop over every value, which took 0.31 s of its 0.35 s on 200,000 rows of
    /// bench.objects (and fails on an empty result: `max()` of nothing). With the key the
    /// loop is skipped and the values are converted by numpy.
    ///
    /// Not written for a column holding a null: astropy's reader has no masks for strings, so
    /// with the key it would silently turn a null into the text `None` cut to the width, while
    /// without it the loop fails on the null with a `TypeError`. A loud failure is the lesser
    /// harm; pyarrow, pandas and TOPCAT read such columns with their nulls.
    fn text_lengths(&self) -> Vec<KeyValue> {
        self.meta
            .fields
            .iter()
            .zip(&self.columns)
            .zip(self.max_chars.iter().zip(&self.nulls))
            .filter(|((_, col), (_, &null))| {
                !null && matches!(col.datatype, Datatype::Char | Datatype::UnicodeChar)
            })
            .map(|((field, _), (&longest, _))| {
                // The footer's width, at least 1 (see `footer_field`).
                KeyValue::new(
                    format!("{ASTROPY_LEN_KEY}{}", field.name),
                    longest.max(1).to_string(),
                )
            })
            .collect()
    }
}

/// Whether a column's pages are Snappy-compressed. Integers, text and booleans are: their
/// high bytes and repeated characters shrink (on bench.objects, `id` to 0.50 of its size,
/// `flag` 0.47, `name` 0.29). Floating-point values are not: measured mantissas are noise to
/// Snappy (0.90 to 1.00), which still reads every byte. Leaving them out took the server's CPU
/// per 200,000-row result from 153 to 138 ms (BINARY2: 147 ms) for 11.7 MB instead of 11.2 MB.
fn compressed(col: &Column) -> bool {
    !matches!(col.datatype, Datatype::Float | Datatype::Double)
}

/// A FIELD as the footer declares it; see [`ParquetWriter::footer`].
fn footer_field(field: &Field, col: &Column, longest: usize) -> Field {
    let mut field = field.clone();
    if matches!(col.datatype, Datatype::Char | Datatype::UnicodeChar) {
        // At least `1*`: astropy makes a generic object column of a `*` FIELD, which it then
        // cannot stack onto the data's string column (an empty result, or only empty texts).
        field.arraysize = Some(format!("{}*", longest.max(1)));
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
        let mut properties = WriterProperties::builder()
            // Snappy where it pays (see `compressed`).
            .set_compression(Compression::SNAPPY)
            // No dictionaries: measurements and identifiers are nearly all distinct, and for them
            // trying a dictionary (hashing every value until the dictionary page overflows, in
            // every row group) cost about a tenth of the writing time on bench.objects; Snappy
            // still shrinks repeated text.
            .set_dictionary_enabled(false)
            // Statistics only where they pay: per-chunk min/max of number columns, with which
            // readers (pyarrow datasets, DuckDB, Polars) skip row groups of a large result. Not
            // per page (a comparison per value for little), and not for text and arrays, whose
            // min/max a filter rarely uses and which cost a string comparison and a reference
            // count per value (about a twentieth of the server's CPU time on bench.objects).
            .set_statistics_enabled(EnabledStatistics::None)
            .set_created_by(format!("Tapir {} (parquet-rs)", env!("CARGO_PKG_VERSION")));
        for (i, (field, col)) in meta.fields.iter().zip(&self.columns).enumerate() {
            let (node, store) = schema_node(&field.name, col).map_err(|e| match e {
                Error::UnsupportedField { name, reason, .. } => Error::UnsupportedField {
                    column: i + 1,
                    name,
                    reason,
                },
                other => other,
            })?;
            let number = col.shape == Shape::Scalar
                && !matches!(
                    col.datatype,
                    Datatype::Char | Datatype::UnicodeChar | Datatype::Boolean
                );
            if !compressed(col) {
                properties = properties
                    .set_column_compression(store.leaf_path(&field.name), Compression::UNCOMPRESSED);
            }
            if number {
                properties = properties
                    .set_column_statistics_enabled(store.leaf_path(&field.name), EnabledStatistics::Chunk);
            }
            nodes.push(node);
            self.stores.push(store);
        }
        let properties = properties.build();
        let schema = Type::group_type_builder("schema")
            .with_fields(nodes)
            .build()
            .map_err(failed)?;
        let file =
            SerializedFileWriter::new(Vec::new(), Arc::new(schema), Arc::new(properties)).map_err(failed)?;
        let mut file = Box::new(file);
        drain(&mut file, out)?;
        self.meta = OwnedMeta::of(meta);
        self.max_chars = vec![0; self.stores.len()];
        self.nulls = vec![false; self.stores.len()];
        self.encoder = Encoder::Inline(file);
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
            match store.push_value(col, i, value) {
                Ok(bytes) => added += bytes,
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
            self.flush_group(out, false)?;
        } else if self.rows % POLL_ROWS == 0 {
            // The bytes of a group the thread has finished leave now rather than at the next
            // flush.
            if let Encoder::Thread(worker) = &mut self.encoder {
                if let Some(stores) = worker.collect(out, false)? {
                    self.spare = Some(stores);
                }
            }
        }
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
        self.state.expect_open()?;
        self.flush_group(out, true)?;
        let content = self.footer(ending)?;
        let mut pairs = vec![
            KeyValue::new(VERSION_KEY.to_owned(), "1.0".to_owned()),
            KeyValue::new(CONTENT_KEY.to_owned(), content),
        ];
        pairs.extend(self.text_lengths());
        match std::mem::replace(&mut self.encoder, Encoder::Closed) {
            Encoder::Inline(mut file) => {
                for pair in pairs {
                    file.append_key_value_metadata(pair);
                }
                let sink = file.into_inner().map_err(|e| Error::Parquet(e.to_string()))?;
                out.extend_from_slice(&sink);
            }
            Encoder::Thread(mut worker) => {
                worker.collect(out, true)?;
                worker.send(Job::Finish(pairs))?;
                worker.collect(out, true)?;
            }
            Encoder::Closed => return Err(Error::State("no Parquet file open")),
        }
        self.state = State::Done;
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.rows
    }
}
