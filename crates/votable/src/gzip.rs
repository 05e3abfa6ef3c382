//! A gzip-compressed result: ESA TAP+'s `votable_gzip`, the format astroquery's Gaia class asks
//! for by default.

use std::io::Write;

use flate2::write::GzEncoder;
use flate2::Compression;

use crate::{Ending, Error, Format, ResultWriter, Serialization, TableMeta, VOTableWriter, Value};

/// Plain output gathered before it is handed to the compressor: large enough that deflate
/// sees whole blocks, small enough that compressed bytes keep flowing to the client.
const FEED: usize = 32 * 1024;

/// Another writer's output, gzip-compressed (RFC 1952) as it is produced.
///
/// The inner writer appends to a plain buffer; whenever that holds 32 KiB it goes
/// through the compressor, whose output is appended to the caller's buffer. `end` finishes the
/// inner document and the gzip stream (trailer with CRC and length), so the output is a
/// complete `.gz` file. Memory stays bounded whatever the size of the result.
///
/// The level is deflate's fastest (1): results are mostly numbers that compress well even so,
/// and the writer must keep up with the database on a single core.
///
/// The server sends this with `Content-Encoding: gzip` (see [`Format::content_encoding`]).
pub struct GzipWriter {
    inner: Box<dyn ResultWriter>,
    format: Format,
    content_type: String,
    plain: Vec<u8>,
    encoder: Option<GzEncoder<Vec<u8>>>,
}

impl std::fmt::Debug for GzipWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GzipWriter")
            .field("format", &self.format)
            .field("content_type", &self.content_type)
            .finish_non_exhaustive()
    }
}

impl GzipWriter {
    /// BINARY2 VOTable, compressed: what ESA's TAP+ answers to `FORMAT=votable_gzip`.
    pub fn votable(content_type: impl Into<String>) -> GzipWriter {
        let content_type = content_type.into();
        let inner = VOTableWriter::new(Serialization::Binary2, content_type.clone());
        GzipWriter {
            inner: Box::new(inner),
            format: Format::VOTableGzip,
            content_type,
            plain: Vec::with_capacity(FEED + 4096),
            encoder: Some(GzEncoder::new(Vec::with_capacity(FEED), Compression::fast())),
        }
    }

    /// Compresses the plain buffer and moves whatever compressed bytes are ready to `out`.
    fn feed(&mut self, out: &mut Vec<u8>) -> Result<(), Error> {
        let encoder = self
            .encoder
            .as_mut()
            .ok_or(Error::State("row or end called after end"))?;
        encoder
            .write_all(&self.plain)
            .map_err(|e| Error::Compression(e.to_string()))?;
        self.plain.clear();
        // The encoder only appends to its Vec; taking what is there is safe between writes.
        let ready = encoder.get_mut();
        out.extend_from_slice(ready);
        ready.clear();
        Ok(())
    }
}

impl ResultWriter for GzipWriter {
    fn content_type(&self) -> &str {
        &self.content_type
    }

    fn format(&self) -> Format {
        self.format
    }

    fn begin(&mut self, out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), Error> {
        self.inner.begin(&mut self.plain, meta)?;
        if self.plain.len() >= FEED {
            self.feed(out)?;
        }
        Ok(())
    }

    fn row(&mut self, out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), Error> {
        // The inner writer leaves `plain` as it was on error, so nothing reaches `out`.
        self.inner.row(&mut self.plain, values)?;
        if self.plain.len() >= FEED {
            self.feed(out)?;
        }
        Ok(())
    }

    fn end(&mut self, out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), Error> {
        self.inner.end(&mut self.plain, ending)?;
        self.feed(out)?;
        let encoder = self
            .encoder
            .take()
            .ok_or(Error::State("row or end called after end"))?;
        let rest = encoder.finish().map_err(|e| Error::Compression(e.to_string()))?;
        out.extend_from_slice(&rest);
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.inner.rows()
    }

    fn reports_errors(&self) -> bool {
        self.inner.reports_errors()
    }
}
