//! The content of a multipart file part: small parts in memory, larger ones in a spool file.
//!
//! Request bodies used to be read whole into memory, so three 94 MB uploads took the server
//! from 29 to 816 MiB. A part past `limits.body_memory_bytes` is written to a file under the
//! data directory as it arrives and read back only when the upload is parsed (or copied into
//! the job store chunk by chunk). The file is removed when the last handle to it goes,
//! whatever happened to the request (an error, a client that went away, a panic).

use std::path::PathBuf;
use std::pin::Pin;
use std::sync::Arc;

use bytes::{Bytes, BytesMut};

/// A file part of a multipart body: the content of an inline upload (`UPLOAD=t,param:NAME`,
/// UP-03).
#[derive(Debug, Clone)]
pub struct FilePart {
    pub name: String,
    pub data: PartData,
}

impl FilePart {
    /// A part held in memory (tests, parts read back from the job store).
    pub fn in_memory(name: impl Into<String>, data: impl Into<Bytes>) -> FilePart {
        FilePart {
            name: name.into(),
            data: PartData::Memory(data.into()),
        }
    }
}

/// Where a part's bytes are.
#[derive(Debug, Clone)]
pub enum PartData {
    Memory(Bytes),
    /// Shared by clones of the part; the file goes with the last of them.
    Spooled(Arc<SpoolFile>),
}

impl PartData {
    /// The part's size in bytes.
    pub fn size(&self) -> u64 {
        match self {
            PartData::Memory(b) => b.len() as u64,
            PartData::Spooled(f) => f.len,
        }
    }

    /// The whole content in memory: for a spooled part, the file read back (when the upload is
    /// parsed, which needs it whole).
    pub async fn bytes(&self) -> std::io::Result<Bytes> {
        match self {
            PartData::Memory(b) => Ok(b.clone()),
            PartData::Spooled(f) => tokio::fs::read(&f.path).await.map(Bytes::from),
        }
    }
}

impl PartData {
    /// Send the content into a `COPY ... FROM STDIN` sink in pieces of at most `piece` bytes,
    /// one piece in memory at a time (a spooled part is read as it goes).
    pub async fn copy_into<S>(&self, mut sink: Pin<&mut S>, piece: usize) -> Result<(), String>
    where
        S: futures_util::Sink<Bytes, Error = tokio_postgres::Error>,
    {
        use futures_util::SinkExt;
        use tokio::io::AsyncReadExt;
        let piece = piece.max(1);
        let send_failed = |e: tokio_postgres::Error| crate::db::describe(&e);
        match self {
            PartData::Memory(b) => {
                let mut at = 0;
                while at < b.len() {
                    let end = (at + piece).min(b.len());
                    sink.send(b.slice(at..end)).await.map_err(send_failed)?;
                    at = end;
                }
            }
            PartData::Spooled(f) => {
                let unreadable = |e: std::io::Error| format!("the spooled data cannot be read: {e}");
                let mut file = tokio::fs::File::open(&f.path).await.map_err(unreadable)?;
                loop {
                    let mut chunk = BytesMut::with_capacity(piece);
                    while chunk.len() < piece {
                        if file.read_buf(&mut chunk).await.map_err(unreadable)? == 0 {
                            break;
                        }
                    }
                    if chunk.is_empty() {
                        break;
                    }
                    sink.send(chunk.freeze()).await.map_err(send_failed)?;
                }
            }
        }
        Ok(())
    }
}

/// A temporary file removed when dropped.
#[derive(Debug)]
pub struct SpoolFile {
    path: PathBuf,
    len: u64,
}

impl SpoolFile {
    /// Take charge of a file written at `path` (`len` bytes): it is removed on drop.
    pub fn new(path: PathBuf, len: u64) -> SpoolFile {
        SpoolFile { path, len }
    }
}

impl Drop for SpoolFile {
    fn drop(&mut self) {
        if let Err(e) = std::fs::remove_file(&self.path) {
            if e.kind() != std::io::ErrorKind::NotFound {
                tracing::warn!("cannot remove spool file {}: {e}", self.path.display());
            }
        }
    }
}

/// A spool file being written: removed on drop unless [`Spooling::finish`] hands it on, so a
/// part cut off by an error leaves nothing behind.
pub struct Spooling {
    file: Option<SpoolFile>,
    out: tokio::io::BufWriter<tokio::fs::File>,
}

impl Spooling {
    /// Create `path` and write `first` to it.
    pub async fn create(path: PathBuf, first: &[u8]) -> std::io::Result<Spooling> {
        use tokio::io::AsyncWriteExt;
        let file = tokio::fs::File::create(&path).await?;
        // From here on the guard removes the file whatever happens.
        let guard = SpoolFile::new(path, 0);
        let mut spooling = Spooling {
            file: Some(guard),
            out: tokio::io::BufWriter::with_capacity(256 * 1024, file),
        };
        spooling.out.write_all(first).await?;
        spooling.grow(first.len());
        Ok(spooling)
    }

    fn grow(&mut self, n: usize) {
        if let Some(f) = self.file.as_mut() {
            f.len += n as u64;
        }
    }

    pub async fn write(&mut self, chunk: &[u8]) -> std::io::Result<()> {
        use tokio::io::AsyncWriteExt;
        self.out.write_all(chunk).await?;
        self.grow(chunk.len());
        Ok(())
    }

    /// Flush and hand the file on.
    pub async fn finish(mut self) -> std::io::Result<Arc<SpoolFile>> {
        use tokio::io::AsyncWriteExt;
        self.out.flush().await?;
        let file = self
            .file
            .take()
            .ok_or_else(|| std::io::Error::other("spool file finished twice"))?;
        Ok(Arc::new(file))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn spool_files_go_with_their_last_handle() {
        let dir = std::env::temp_dir().join(format!("tapir-part-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("a");
        let mut s = Spooling::create(path.clone(), b"abc").await.expect("created");
        s.write(b"def").await.expect("written");
        let file = s.finish().await.expect("finished");
        let data = PartData::Spooled(file);
        let copy = data.clone();
        assert_eq!(data.size(), 6);
        assert_eq!(&copy.bytes().await.expect("read")[..], b"abcdef");
        drop(data);
        assert!(path.exists(), "a clone still holds the file");
        drop(copy);
        assert!(!path.exists(), "the file is removed with the last handle");

        // Abandoned while being written: removed as well.
        let path = dir.join("b");
        let s = Spooling::create(path.clone(), b"xyz").await.expect("created");
        assert!(path.exists());
        drop(s);
        assert!(!path.exists());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
