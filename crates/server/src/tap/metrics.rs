//! `/metrics`: Prometheus text exposition, from counters kept in atomics (no registry crate).

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// Upper bounds (seconds) of the query duration histogram.
const BUCKETS: [f64; 10] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.5, 1.0, 5.0, 30.0, 300.0];
const OUTCOMES: [&str; 4] = ["ok", "overflow", "cancelled", "error"];

#[derive(Default)]
pub struct Metrics {
    requests: AtomicU64,
    queries: [AtomicU64; 4],
    rows: AtomicU64,
    bytes: AtomicU64,
    buckets: [AtomicU64; 10],
    duration_count: AtomicU64,
    duration_micros: AtomicU64,
}

impl Metrics {
    /// A new request id (also counts requests).
    pub fn next_request_id(&self) -> u64 {
        self.requests.fetch_add(1, Ordering::Relaxed) + 1
    }

    pub fn query_finished(&self, outcome: &str, elapsed: Duration, rows: u64, bytes: u64) {
        if let Some(i) = OUTCOMES.iter().position(|o| *o == outcome) {
            self.queries[i].fetch_add(1, Ordering::Relaxed);
        }
        self.rows.fetch_add(rows, Ordering::Relaxed);
        self.bytes.fetch_add(bytes, Ordering::Relaxed);
        let secs = elapsed.as_secs_f64();
        for (b, bound) in self.buckets.iter().zip(BUCKETS) {
            if secs <= bound {
                b.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.duration_count.fetch_add(1, Ordering::Relaxed);
        self.duration_micros.fetch_add(
            u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
            Ordering::Relaxed,
        );
    }

    /// The exposition text; `pool` is (size, available, waiting) of the sync pool.
    pub fn render(&self, pool: (usize, usize, usize)) -> String {
        let mut s = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let _ = writeln!(s, "# HELP tapir_requests_total Requests received by /sync.");
        let _ = writeln!(s, "# TYPE tapir_requests_total counter");
        let _ = writeln!(s, "tapir_requests_total {}", get(&self.requests));
        let _ = writeln!(s, "# HELP tapir_queries_total Queries by outcome.");
        let _ = writeln!(s, "# TYPE tapir_queries_total counter");
        for (o, c) in OUTCOMES.iter().zip(&self.queries) {
            let _ = writeln!(s, "tapir_queries_total{{outcome=\"{o}\"}} {}", get(c));
        }
        let _ = writeln!(s, "# HELP tapir_rows_streamed_total Result rows sent.");
        let _ = writeln!(s, "# TYPE tapir_rows_streamed_total counter");
        let _ = writeln!(s, "tapir_rows_streamed_total {}", get(&self.rows));
        let _ = writeln!(
            s,
            "# HELP tapir_bytes_streamed_total Result bytes sent (before compression)."
        );
        let _ = writeln!(s, "# TYPE tapir_bytes_streamed_total counter");
        let _ = writeln!(s, "tapir_bytes_streamed_total {}", get(&self.bytes));
        let _ = writeln!(
            s,
            "# HELP tapir_query_duration_seconds Time from request to the end of the result."
        );
        let _ = writeln!(s, "# TYPE tapir_query_duration_seconds histogram");
        for (b, bound) in self.buckets.iter().zip(BUCKETS) {
            let _ = writeln!(
                s,
                "tapir_query_duration_seconds_bucket{{le=\"{bound}\"}} {}",
                get(b)
            );
        }
        let count = get(&self.duration_count);
        let _ = writeln!(s, "tapir_query_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(
            s,
            "tapir_query_duration_seconds_sum {}",
            get(&self.duration_micros) as f64 / 1e6
        );
        let _ = writeln!(s, "tapir_query_duration_seconds_count {count}");
        let (size, available, waiting) = pool;
        let _ = writeln!(
            s,
            "# HELP tapir_db_pool_connections Sync pool connections by state."
        );
        let _ = writeln!(s, "# TYPE tapir_db_pool_connections gauge");
        let _ = writeln!(s, "tapir_db_pool_connections{{state=\"open\"}} {size}");
        let _ = writeln!(s, "tapir_db_pool_connections{{state=\"idle\"}} {available}");
        let _ = writeln!(s, "tapir_db_pool_connections{{state=\"waiting\"}} {waiting}");
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_histogram() {
        let m = Metrics::default();
        m.next_request_id();
        m.query_finished("ok", Duration::from_millis(20), 10, 1000);
        m.query_finished("error", Duration::from_secs(2), 0, 0);
        let text = m.render((4, 3, 0));
        assert!(text.contains("tapir_requests_total 1\n"), "{text}");
        assert!(text.contains("tapir_queries_total{outcome=\"ok\"} 1\n"), "{text}");
        assert!(
            text.contains("tapir_queries_total{outcome=\"error\"} 1\n"),
            "{text}"
        );
        assert!(text.contains("tapir_rows_streamed_total 10\n"), "{text}");
        assert!(
            text.contains("tapir_query_duration_seconds_bucket{le=\"0.025\"} 1\n"),
            "{text}"
        );
        assert!(
            text.contains("tapir_query_duration_seconds_bucket{le=\"5\"} 2\n"),
            "{text}"
        );
        assert!(text.contains("tapir_query_duration_seconds_count 2\n"), "{text}");
    }
}
