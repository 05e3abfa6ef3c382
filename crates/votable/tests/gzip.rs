//! `votable_gzip`: a gzip file of exactly the BINARY2 document, produced while the rows come.

mod common;

use std::io::Read;

use common::{text, write_format};
use votable::{Datatype, Ending, Field, Format, TableMeta, Value};

fn gunzip(bytes: &[u8]) -> Vec<u8> {
    let mut plain = Vec::new();
    flate2::read::GzDecoder::new(bytes)
        .read_to_end(&mut plain)
        .expect("a complete gzip stream");
    plain
}

#[test]
fn gzip_body_is_the_binary2_document() {
    for ending in [
        Ending::Complete,
        Ending::Overflow,
        Ending::Error("query timed out"),
    ] {
        let gz = write_format("votable_gzip", ending);
        assert_eq!(&gz[..3], &[0x1f, 0x8b, 8], "gzip magic and deflate");
        let plain = gunzip(&gz);
        assert_eq!(plain, write_format("votable/b2", ending));
        if let Ending::Error(_) = ending {
            assert!(
                text(&plain).contains("<INFO name=\"QUERY_STATUS\" value=\"ERROR\">query timed out</INFO>")
            );
        }
    }
    let writer = votable::writer_for("votable_gzip").unwrap();
    assert_eq!(writer.format(), Format::VOTableGzip);
    assert_eq!(writer.content_type(), "application/x-votable+xml");
    assert!(writer.reports_errors());
    assert!(!writer.needs_patch());
    assert_eq!(writer.format().content_encoding(), Some("gzip"));
    assert_eq!(
        votable::writer_for("application/x-votable+gzip")
            .unwrap()
            .content_type(),
        "application/x-votable+gzip"
    );
}

#[test]
fn large_results_stream_compressed_chunks() {
    let fields = [
        Field::new("id", Datatype::Long),
        Field::new("ra", Datatype::Double),
        Field::new("name", Datatype::Char).with_arraysize("*"),
    ];
    let meta = TableMeta::new(&fields);
    let mut gz = votable::writer_for("votable_gzip").unwrap();
    let mut plain = votable::writer_for("votable/b2").unwrap();
    let (mut gz_out, mut plain_out) = (Vec::new(), Vec::new());
    gz.begin(&mut gz_out, &meta).unwrap();
    plain.begin(&mut plain_out, &meta).unwrap();
    // What the server does: drain the buffer whenever it has grown, and count the drains.
    let mut body = Vec::new();
    let mut drains = 0;
    for i in 0..200_000i64 {
        let name = format!("source {}", i % 977);
        let row = [
            Value::Long(i),
            Value::Double(i as f64 * 0.001),
            Value::Text(&name),
        ];
        gz.row(&mut gz_out, &row).unwrap();
        plain.row(&mut plain_out, &row).unwrap();
        if gz_out.len() >= 64 * 1024 {
            body.append(&mut gz_out);
            drains += 1;
        }
    }
    gz.end(&mut gz_out, Ending::Complete).unwrap();
    plain.end(&mut plain_out, Ending::Complete).unwrap();
    body.append(&mut gz_out);
    assert_eq!(gz.rows(), 200_000);
    assert!(
        drains >= 5,
        "compressed output must flow before the end ({drains} drains)"
    );
    assert!(
        body.len() * 2 < plain_out.len(),
        "{} vs {}",
        body.len(),
        plain_out.len()
    );
    assert_eq!(gunzip(&body), plain_out);
}
