//! The UWS quote (LF-04): when a job would finish if it ran now, from PostgreSQL's own plan.
//!
//! The planner's estimate (`exec::admission`, shared with the sync admission check) turned into
//! time. It is an order-of-magnitude estimate, which is all a quote promises. A query that does
//! not translate, or that the planner rejects, has no quote (nil): it will end in ERROR anyway. Planning must not hold up job creation, so it
//! gives up (no quote) when a table it needs is locked or planning takes long.

use std::time::Duration;

use uws::UtcTime;

use crate::exec::admission::explain;
use crate::exec::{guarded, limited, QueryBounds};
use crate::identity::Caller;
use crate::tap::Params;
use crate::tap::Service;

/// The longest planning may take before the job goes without a quote.
const PLAN_TIMEOUT: Duration = Duration::from_secs(1);

/// The quote for a job with these parameters, asked at `now`.
pub async fn quote(
    state: &Service,
    caller: &Caller,
    params: &[(String, String)],
    now: UtcTime,
) -> Option<UtcTime> {
    let secs = plan_estimate(state, caller, params)
        .await?
        .seconds()
        .clamp(0.0, 1.0e9);
    let ms = Duration::from_secs_f64(secs).as_millis();
    Some(UtcTime::from_unix_millis(
        now.unix_millis()
            .saturating_add(i64::try_from(ms).unwrap_or(i64::MAX)),
    ))
}

/// The planner's estimate of the job's query, as it would run (with its row limit).
async fn plan_estimate(
    state: &Service,
    caller: &Caller,
    params: &[(String, String)],
) -> Option<crate::exec::admission::Estimate> {
    let params = Params::from_pairs(params.to_vec());
    let (qr, translation) = crate::tap::pipeline::translate_only(state, caller, &params).ok()?;
    let role = state.role_for(caller).await.ok()?;
    let client = state.job_store.connection().await.ok()?;
    // The same guard rails as the query itself: read-only, as the query role, time-limited.
    let mut setup = guarded(
        PLAN_TIMEOUT,
        role.as_deref(),
        QueryBounds::of(&state.config.limits),
    );
    setup.push_str(" SET LOCAL lock_timeout = 50;");
    if client.batch_execute(&setup).await.is_err() {
        let _ = client.batch_execute("ROLLBACK").await;
        return None;
    }
    let sql = limited(&translation.sql, qr.maxrec.saturating_add(1));
    let estimate = explain(&client, &sql).await;
    let _ = client.batch_execute("ROLLBACK").await;
    estimate.ok()
}
