//! What PostgreSQL's planner expects a query to cost, before it runs: the UWS quote of a job
//! and the admission check of a synchronous query (issue 12) read the same estimate.
//!
//! The planner's total cost is in abstract units where reading one page sequentially costs
//! one. [`SECONDS_PER_COST_UNIT`] turns it into time: measured on the project's 2-core machine
//! with the demo catalogue, a sequential scan and a nested-loop join both came to 10–15 µs per
//! unit with the data in memory. It is an order of magnitude, which is all either use needs.

use tokio_postgres::Client;

use super::{describe, QueryError};

/// Seconds of execution per unit of planner cost.
pub const SECONDS_PER_COST_UNIT: f64 = 1.0e-5;

/// The planner's estimate of one statement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    /// Total cost, in the planner's units.
    pub cost: f64,
    /// Rows the planner expects the statement to return.
    pub rows: f64,
}

impl Estimate {
    /// The estimate as seconds of execution.
    pub fn seconds(&self) -> f64 {
        self.cost * SECONDS_PER_COST_UNIT
    }
}

/// `EXPLAIN` of `sql` on `client`, in whatever transaction (and so under whatever role and
/// planner settings) is open there. One round trip: parse, bind and execute go out together.
pub async fn explain(client: &Client, sql: &str) -> Result<Estimate, tokio_postgres::Error> {
    let row = client
        .query_typed_one(&format!("EXPLAIN (FORMAT JSON) {sql}"), &[])
        .await?;
    let plan: serde_json::Value = row.try_get(0)?;
    let top = &plan[0]["Plan"];
    Ok(Estimate {
        cost: top["Total Cost"].as_f64().unwrap_or(0.0),
        rows: top["Plan Rows"].as_f64().unwrap_or(0.0),
    })
}

/// Refuse a synchronous query whose estimate is above `max_cost`, with the estimate and the
/// way out (an async job) in the message. A query the planner rejects is reported as the
/// planner's error, which is what running it would have said.
pub async fn admit(
    client: &Client,
    sql: &str,
    max_cost: f64,
    timeout: std::time::Duration,
) -> Result<(), QueryError> {
    let estimate = explain(client, sql).await.map_err(|e| describe(&e, timeout))?;
    if estimate.cost <= max_cost {
        return Ok(());
    }
    tracing::info!(
        cost = estimate.cost,
        max_cost,
        "sync query refused: the planner's estimate is over the limit"
    );
    Err(QueryError {
        user_error: true,
        message: format!(
            "this query is too expensive to run synchronously: PostgreSQL's planner estimates \
             its cost at {:.2e} (roughly {}; {:.0} rows expected), above this service's limit for \
             synchronous queries ({:.2e}). Submit it as an asynchronous job (POST to the /async \
             endpoint), or narrow it (a TOP, a smaller region, fewer joins)",
            estimate.cost,
            duration_words(estimate.seconds()),
            estimate.rows,
            max_cost
        ),
    })
}

/// "40 seconds", "3 minutes", "2 hours", "5 days": for a person, not a parser.
fn duration_words(secs: f64) -> String {
    let (n, unit) = if secs < 120.0 {
        (secs, "seconds")
    } else if secs < 7200.0 {
        (secs / 60.0, "minutes")
    } else if secs < 172_800.0 {
        (secs / 3600.0, "hours")
    } else {
        (secs / 86_400.0, "days")
    };
    format!("{n:.0} {unit} of work")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_naturally() {
        assert_eq!(duration_words(42.0), "42 seconds of work");
        assert_eq!(duration_words(600.0), "10 minutes of work");
        assert_eq!(duration_words(3.0 * 3600.0), "3 hours of work");
        assert_eq!(duration_words(1.0e7), "116 days of work");
    }
}
