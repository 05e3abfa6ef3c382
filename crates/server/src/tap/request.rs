//! The TAP query request (TAP §2.7, DALI §3): LANG, REQUEST, QUERY, RESPONSEFORMAT/FORMAT and
//! MAXREC, read and checked once for /sync, for a job when it runs, and for its quote.

use super::{Params, Service, TapError};

/// What a TAP query request asks for, checked.
pub struct QueryRequest {
    pub query: String,
    pub format: votable::RequestedFormat,
    pub maxrec: u64,
}

/// Check LANG, REQUEST, QUERY, RESPONSEFORMAT/FORMAT and MAXREC (TAP §2.7, DALI §3).
pub fn query_request(state: &Service, params: &Params) -> Result<QueryRequest, TapError> {
    if let Some(r) = params.get("REQUEST") {
        if !r.eq_ignore_ascii_case("doQuery") {
            return Err(TapError::bad_request(format!(
                "unknown REQUEST '{r}'; TAP queries use doQuery"
            )));
        }
    }
    // A missing LANG means ADQL (docs/tap.md): every TAP service speaks it.
    let lang = params.get("LANG").unwrap_or("ADQL");
    if adql::Version::from_lang(lang).is_none() {
        return Err(TapError::bad_request(format!(
            "unknown query language '{lang}'; this service accepts ADQL, ADQL-2.0 and ADQL-2.1"
        )));
    }
    let query = params
        .get("QUERY")
        .filter(|q| !q.trim().is_empty())
        .ok_or_else(|| TapError::bad_request("the QUERY parameter is missing"))?
        .to_string();
    // RESPONSEFORMAT is TAP 1.1's name; FORMAT the older one. When both come, RESPONSEFORMAT wins.
    let format_name = params
        .get("RESPONSEFORMAT")
        .or_else(|| params.get("FORMAT"))
        .unwrap_or("votable");
    let format = votable::parse_format(format_name).map_err(|e| TapError::bad_request(e.to_string()))?;
    let limits = &state.config.limits;
    let maxrec = match params.get("MAXREC") {
        None => limits.maxrec_default,
        Some(m) => m.trim().parse::<u64>().map_err(|_| {
            TapError::bad_request(format!("MAXREC must be a non-negative integer, not '{m}'"))
        })?,
    }
    .min(limits.maxrec_hard);
    Ok(QueryRequest {
        query,
        format,
        maxrec,
    })
}
