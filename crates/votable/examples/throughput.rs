//! Micro benchmark: 1,000,000 rows of 7 columns (long, two doubles, float, text, timestamp,
//! point) through each writer, flushing the buffer at 64 KiB as a server would.
//!
//! ```sh
//! cargo run --release -p tapir-votable --example throughput [rows]
//! ```

use std::time::Instant;

use votable::{Datatype, Ending, Field, TableMeta, Value};

const FLUSH_AT: usize = 64 * 1024;

fn main() {
    let rows: usize = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(1_000_000);
    let fields = [
        Field::new("source_id", Datatype::Long),
        Field::new("ra", Datatype::Double).with_unit("deg"),
        Field::new("dec", Datatype::Double).with_unit("deg"),
        Field::new("mag", Datatype::Float).with_unit("mag"),
        Field::new("name", Datatype::Char).with_arraysize("*"),
        Field::new("obs_time", Datatype::Char)
            .with_arraysize("*")
            .with_xtype("timestamp"),
        Field::new("pos", Datatype::Double)
            .with_arraysize("2")
            .with_xtype("point")
            .with_unit("deg"),
    ];
    // Text values prepared up front, as they would sit in the driver's buffer.
    let names: Vec<String> = (0..1000)
        .map(|i| format!("Gaia DR3 {}", 4_295_806_720u64 + i * 7919))
        .collect();
    let meta =
        TableMeta::new(&fields).with_query("SELECT source_id, ra, dec, mag, name, obs_time, pos FROM cat");

    println!(
        "{rows} rows x {} columns, buffer flushed at {} KiB",
        fields.len(),
        FLUSH_AT / 1024
    );
    println!(
        "{:<16} {:>10} {:>10} {:>12} {:>14}",
        "format", "MB", "seconds", "MB/s", "rows/s"
    );
    for format in [
        "votable/td",
        "votable/b2",
        "csv",
        "votable/binary",
        "tsv",
        "json",
        "text",
        "html",
        "fits",
    ] {
        let mut writer = votable::writer_for(format).expect("known format");
        let mut out = Vec::with_capacity(2 * FLUSH_AT);
        let mut total = 0usize;
        let start = Instant::now();
        writer.begin(&mut out, &meta).expect("begin");
        for i in 0..rows {
            let ra = (i as f64 * 0.000_731) % 360.0;
            let dec = ((i as f64 * 0.000_377) % 180.0) - 90.0;
            let point = [ra, dec];
            let values = [
                Value::Long(4_295_806_720 + i as i64 * 3),
                Value::Double(ra),
                Value::Double(dec),
                Value::Float(12.0 + (i % 1000) as f32 * 0.0137),
                Value::Text(&names[i % names.len()]),
                Value::Timestamp(1_420_070_400_000_000 + i as i64 * 1_234_567),
                Value::Doubles(&point),
            ];
            writer.row(&mut out, &values).expect("row");
            if out.len() >= FLUSH_AT {
                total += out.len();
                out.clear();
            }
        }
        writer.end(&mut out, Ending::Complete).expect("end");
        total += out.len();
        let seconds = start.elapsed().as_secs_f64();
        let mb = total as f64 / 1e6;
        println!(
            "{:<16} {:>10.1} {:>10.3} {:>12.1} {:>14.0}",
            format,
            mb,
            seconds,
            mb / seconds,
            rows as f64 / seconds
        );
    }
}
