//! The UWS quote (LF-04): when a job would finish if it ran now, from PostgreSQL's own plan.
//!
//! The planner's total cost (in its abstract units, where reading one page sequentially
//! costs one) is multiplied by [`SECONDS_PER_COST_UNIT`]. The factor was measured on the project's
//! 2-core machine with the demo catalogue: a sequential scan and a nested-loop join both came
//! to 10–15 µs per unit with the data in memory. It is an order-of-magnitude estimate, which is
//! all a quote promises. A query that does not translate, or that the planner rejects, has no
//! quote (nil): it will end in ERROR anyway. Planning must not hold up job creation, so it
//! gives up (no quote) when a table it needs is locked or planning takes long.

use std::time::Duration;

use uws::UtcTime;

use crate::exec::{guarded, limited, QueryBounds};
use crate::tap::Params;
use crate::tap::Service;

/// The longest planning may take before the job goes without a quote.
const PLAN_TIMEOUT: Duration = Duration::from_secs(1);

/// Seconds of execution per unit of planner cost.
const SECONDS_PER_COST_UNIT: f64 = 1.0e-5;

/// The quote for a job with these parameters, asked at `now`.
pub async fn quote(state: &Service, params: &[(String, String)], now: UtcTime) -> Option<UtcTime> {
    let cost = plan_cost(state, params).await?;
    let secs = (cost * SECONDS_PER_COST_UNIT).clamp(0.0, 1.0e9);
    let ms = Duration::from_secs_f64(secs).as_millis();
    Some(UtcTime::from_unix_millis(
        now.unix_millis()
            .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
    ))
}

/// The planner's total cost of the job's query, as it would run (with its row limit).
async fn plan_cost(state: &Service, params: &[(String, String)]) -> Option<f64> {
    let params = Params::from_pairs(params.to_vec());
    let (qr, translation) = crate::tap::pipeline::translate_only(state, &params).ok()?;
    let client = state.jobs.connection().await.ok()?;
    // The same guard rails as the query itself: read-only, as the query role, time-limited.
    let mut setup = guarded(
        PLAN_TIMEOUT,
        state.query_role.as_deref(),
        QueryBounds::of(&state.config.limits),
    );
    setup.push_str(" SET LOCAL lock_timeout = 50;");
    if client.batch_execute(&setup).await.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
        return None;
    }
    let sql = format!(
        "EXPLAIN (FORMAT JSON) {}",
        limited(&translation.sql, qr.maxrec.saturating_add(1))
    );
    let plan = client.query_one(&sql, &[]).await;
    let _ = client.batch_execute("ROLLBACK").await;
    let plan: serde_json::Value = plan.ok()?.try_get(0).ok()?;
    plan.get(0)?.get("Plan")?.get("Total Cost")?.as_f64()
}
