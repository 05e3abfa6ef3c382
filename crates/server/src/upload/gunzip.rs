//! Gzip-compressed uploads. The result of an earlier `votable_gzip` job is stored compressed
//! (astroquery's Gaia class asks for that format by default, and its results are then uploaded
//! or named as `JOB_UPLOAD`), and a `.vot.gz` file, sent inline or fetched by URL, is what such
//! a result looks like once saved; astropy and TOPCAT read those directly, so Tapir does too.

use std::io::Read;

use bytes::Bytes;

use super::UploadError;

/// The first two bytes of every gzip member (RFC 1952).
const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// `data` decompressed when it is gzip, unchanged otherwise (no VOTable or CSV starts with
/// those bytes). At most `limit + 1` bytes are decompressed, so the caller's byte limit still
/// sees a table too large for it without a small file unpacking into all of memory.
pub(super) async fn if_compressed(name: &str, data: Bytes, limit: u64) -> Result<Bytes, UploadError> {
    if !data.starts_with(&MAGIC) {
        return Ok(data);
    }
    let name = name.to_string();
    tokio::task::spawn_blocking(move || {
        let mut plain = Vec::new();
        let decoder = flate2::read::MultiGzDecoder::new(&data[..]);
        decoder
            .take(limit.saturating_add(1))
            .read_to_end(&mut plain)
            .map_err(|e| UploadError::bad(format!("upload {name}: cannot decompress the gzip data: {e}")))?;
        Ok(Bytes::from(plain))
    })
    .await
    .map_err(|_| UploadError::bad("an upload could not be decompressed"))?
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn gzip(data: &[u8]) -> Bytes {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        encoder.write_all(data).expect("compress");
        Bytes::from(encoder.finish().expect("finish"))
    }

    #[tokio::test]
    async fn gzip_is_unpacked_and_bounded() {
        let plain = Bytes::from_static(b"<VOTABLE/>");
        assert_eq!(if_compressed("t", plain.clone(), 100).await, Ok(plain.clone()));
        assert_eq!(if_compressed("t", gzip(&plain), 100).await, Ok(plain));
        let big = gzip(&[b'x'; 10_000]);
        assert_eq!(if_compressed("t", big, 99).await.map(|b| b.len()), Ok(100));
        let broken = Bytes::from_static(&[0x1f, 0x8b, 8, 0, 1, 2]);
        let err = if_compressed("t", broken, 100).await.unwrap_err();
        assert!(
            err.message.starts_with("upload t: cannot decompress"),
            "{}",
            err.message
        );
    }
}
