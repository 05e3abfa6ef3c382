//! Content codings (issue 13): which one a client accepts (`accept`), the streaming compressors,
//! which media types are not worth compressing, and the compressed copies of stored async
//! results. Shared by the HTTP layer (`http/compress`) and the job workers, which is why it
//! lives outside `http/`.

pub mod accept;

use std::io::{Read, Write};
use std::path::Path;

use bytes::Bytes;

use crate::config::CompressionConfig;

/// A content coding the service can produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Coding {
    Zstd,
    Gzip,
}

impl Coding {
    /// The `Content-Encoding` token.
    pub fn token(self) -> &'static str {
        match self {
            Coding::Zstd => "zstd",
            Coding::Gzip => "gzip",
        }
    }

    /// The configured level; `None` when the coding is not offered (level 0).
    pub fn level(self, c: &CompressionConfig) -> Option<i32> {
        let level = match self {
            Coding::Zstd => c.zstd_level,
            Coding::Gzip => i32::try_from(c.gzip_level).unwrap_or(9),
        };
        (level > 0).then_some(level)
    }
}

/// The codings the service is configured to produce (a level of 0 switches one off).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Offer {
    pub zstd: bool,
    pub gzip: bool,
}

impl Offer {
    pub fn from_config(c: &CompressionConfig) -> Offer {
        Offer {
            zstd: Coding::Zstd.level(c).is_some(),
            gzip: Coding::Gzip.level(c).is_some(),
        }
    }
}

/// What a compressor's output vector starts with after each chunk: about what deflate or zstd
/// emits for a 64 KiB input chunk at a fast level, so the vector rarely grows.
const OUTPUT_CAPACITY: usize = 32 * 1024;

/// A streaming compressor writing into a vector that [`Encoder::push`] empties each time.
pub enum Encoder {
    Gzip(flate2::write::GzEncoder<Vec<u8>>),
    Zstd(zstd::stream::write::Encoder<'static, Vec<u8>>),
}

impl Encoder {
    /// `level` is the configured one for `coding` (checked by `Config::validate`).
    pub fn new(coding: Coding, level: i32) -> std::io::Result<Encoder> {
        let out = Vec::with_capacity(OUTPUT_CAPACITY);
        Ok(match coding {
            Coding::Gzip => Encoder::Gzip(flate2::write::GzEncoder::new(
                out,
                flate2::Compression::new(level.clamp(1, 9) as u32),
            )),
            Coding::Zstd => {
                let mut z = zstd::stream::write::Encoder::new(out, level)?;
                // A checksum, like gzip's CRC: a damaged body fails to decode instead of
                // decoding wrongly. xxHash costs far less than the compression itself.
                z.include_checksum(true)?;
                Encoder::Zstd(z)
            }
        })
    }

    /// Compress `data`; returns what the compressor has emitted so far (often nothing for a
    /// small chunk: it holds data back until it has a block's worth, and is never flushed
    /// early, which would cost ratio and speed for no gain on a bulk download).
    pub fn push(&mut self, data: &[u8]) -> std::io::Result<Bytes> {
        let out = match self {
            Encoder::Gzip(g) => {
                g.write_all(data)?;
                g.get_mut()
            }
            Encoder::Zstd(z) => {
                z.write_all(data)?;
                z.get_mut()
            }
        };
        Ok(Bytes::from(std::mem::replace(
            out,
            Vec::with_capacity(OUTPUT_CAPACITY),
        )))
    }

    /// The rest of the output and the coding's trailer.
    pub fn finish(self) -> std::io::Result<Bytes> {
        Ok(Bytes::from(match self {
            Encoder::Gzip(g) => g.finish()?,
            Encoder::Zstd(z) => z.finish()?,
        }))
    }
}

/// Media types that are compressed already: a second coding costs time and gains nothing.
/// Keyed on the Content-Type alone, so a format added later (VOParquet) is covered by its type.
pub fn compact(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    matches!(
        essence.as_str(),
        "application/vnd.apache.parquet"
            | "application/x-parquet"
            | "application/gzip"
            | "application/x-gzip"
            | "application/zstd"
            | "application/zip"
            | "application/x-bzip2"
            | "application/x-xz"
    ) || ((essence.starts_with("image/") && essence != "image/svg+xml")
        || essence.starts_with("audio/")
        || essence.starts_with("video/"))
}

/// The name of the compressed copy of a stored result (`<file>.zstd`, `<file>.gzip`): the job
/// id still comes first, so the reaper's orphan sweep knows whose it is.
pub fn copy_name(file: &str, coding: Coding) -> String {
    format!("{file}.{}", coding.token())
}

/// Where a copy is written before it is complete: not `.part`, which the reaper's orphan sweep
/// removes as soon as the job is no longer EXECUTING (and the copies are written after that);
/// like the copies, it is removed with its job (`Jobs::remove_files`).
pub fn copy_temp_name(file: &str, coding: Coding) -> String {
    format!("{}.tmp", copy_name(file, coding))
}

/// Write the compressed copies of a finished async result (`dir/file`), one per coding offered,
/// each to [`copy_temp_name`] and then renamed, so a download sees a copy whole or not at all.
///
/// Why: a stored result is read from the page cache at several hundred MB/s, faster than any
/// compressor at any level on one core; compressing it on every download would make a
/// compressed download several times slower than an uncompressed one. Compressed once when
/// the job ends (in the background, one job at a time), it is then sent as it is, faster than
/// the uncompressed file since it is smaller. Costs disk: about 0.7 (gzip) + 0.5 (zstd) of the
/// result for a BINARY2 VOTable; `compression.store_copies = false` turns it off.
pub fn write_copies(dir: &Path, file: &str, c: &CompressionConfig) {
    for coding in [Coding::Zstd, Coding::Gzip] {
        let Some(level) = coding.level(c) else { continue };
        let copy = dir.join(copy_name(file, coding));
        let part = dir.join(copy_temp_name(file, coding));
        let written =
            write_copy(&dir.join(file), &part, coding, level).and_then(|()| std::fs::rename(&part, &copy));
        if let Err(e) = written {
            // Downloads then compress on the fly, as for sync results.
            tracing::warn!("cannot write the {} copy of {file}: {e}", coding.token());
            let _ = std::fs::remove_file(&part);
        }
    }
}

fn write_copy(from: &Path, to: &Path, coding: Coding, level: i32) -> std::io::Result<()> {
    let mut input = std::fs::File::open(from)?;
    let mut output = std::io::BufWriter::new(std::fs::File::create(to)?);
    let mut encoder = Encoder::new(coding, level)?;
    let mut chunk = vec![0u8; 256 * 1024];
    loop {
        let n = input.read(&mut chunk)?;
        if n == 0 {
            break;
        }
        output.write_all(&encoder.push(&chunk[..n])?)?;
    }
    output.write_all(&encoder.finish()?)?;
    output.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_decode_to_the_result() {
        let dir = std::env::temp_dir().join(format!("tapir-coding-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let data: Vec<u8> = (0..400_000u32).flat_map(|i| (i % 1013).to_le_bytes()).collect();
        std::fs::write(dir.join("job1"), &data).expect("write");
        write_copies(&dir, "job1", &CompressionConfig::default());
        let gz = std::fs::read(dir.join("job1.gzip")).expect("gzip copy");
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gz[..])
            .read_to_end(&mut back)
            .expect("gunzip");
        assert_eq!(back, data);
        let zst = std::fs::read(dir.join("job1.zstd")).expect("zstd copy");
        assert_eq!(zstd::decode_all(&zst[..]).expect("unzstd"), data);
        assert!(!dir.join(copy_temp_name("job1", Coding::Zstd)).exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
