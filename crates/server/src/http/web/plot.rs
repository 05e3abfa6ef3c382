//! `GET {base}/plot.svg?QUERY=...`: the sky plot of a query's positions, drawn by Tapir
//! (`plot_svg`). The query goes through the same pipeline as `/sync` (`tap::pipeline::prepare`
//! with the caller's identity and the sync limits, a sync connection, `exec::run` under the
//! query role and timeout, the planner's cost bound, the per-client slot on the route) into a
//! writer that keeps the two position columns instead of encoding rows. MAXREC is capped at
//! [`PLOT_MAX`] so a plot never costs more than a page's worth of points.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::response::{IntoResponse, Response};
use tokio::sync::oneshot;
use votable::{Ending, Format, ResultWriter, TableMeta, Value};

use super::plot_svg;
use crate::exec::{self, Outcome, Sink};
use crate::http::body::read_params;
use crate::tap::{pipeline, Service, TapError};
use crate::upload;

/// The most points one plot draws (and so the MAXREC a plot query runs with at most).
pub const PLOT_MAX: u64 = 20_000;

/// Which columns hold right ascension and declination: by UCD (`pos.eq.ra`/`pos.eq.dec`,
/// the `meta.main` ones first), else by the usual names. `columns` gives (name, ucd).
pub fn position_columns<'a>(
    columns: impl Iterator<Item = (&'a str, Option<&'a str>)> + Clone,
) -> Option<(usize, usize)> {
    let has = |ucd: Option<&str>, word: &str| {
        ucd.unwrap_or("")
            .split(';')
            .any(|w| w.trim().eq_ignore_ascii_case(word))
    };
    let find = |word: &str, names: &[&str]| {
        let cols = columns.clone();
        cols.clone()
            .position(|(_, u)| has(u, word) && has(u, "meta.main"))
            .or_else(|| cols.clone().position(|(_, u)| has(u, word)))
            .or_else(|| {
                cols.clone()
                    .position(|(n, _)| names.iter().any(|x| n.eq_ignore_ascii_case(x)))
            })
    };
    let ra = find("pos.eq.ra", &["ra", "raj2000", "ra_icrs"])?;
    let dec = find("pos.eq.dec", &["dec", "dej2000", "de_icrs", "dec_icrs"])?;
    Some((ra, dec))
}

/// A position from two cells, when both are finite numbers and the declination is on the sky.
pub fn position(ra: Option<f64>, dec: Option<f64>) -> Option<(f64, f64)> {
    match (ra, dec) {
        (Some(r), Some(d)) if r.is_finite() && d.is_finite() && (-90.0..=90.0).contains(&d) => Some((r, d)),
        _ => None,
    }
}

/// The rows' positions, kept instead of written.
#[derive(Default)]
struct PointWriter {
    columns: Option<(usize, usize)>,
    points: Vec<(f64, f64)>,
    rows: u64,
    overflow: bool,
}

fn number(v: &Value<'_>) -> Option<f64> {
    match v {
        Value::Double(x) => Some(*x),
        Value::Float(x) => Some(f64::from(*x)),
        Value::Int(x) => Some(f64::from(*x)),
        Value::Short(x) => Some(f64::from(*x)),
        Value::Long(x) => Some(*x as f64),
        _ => None,
    }
}

impl ResultWriter for PointWriter {
    fn content_type(&self) -> &str {
        "image/svg+xml"
    }

    fn format(&self) -> Format {
        // Not sent anywhere; the nearest kin of "values, not bytes".
        Format::Json
    }

    fn begin(&mut self, _out: &mut Vec<u8>, meta: &TableMeta<'_>) -> Result<(), votable::Error> {
        self.columns = position_columns(meta.fields.iter().map(|f| (f.name.as_str(), f.ucd.as_deref())));
        Ok(())
    }

    fn row(&mut self, _out: &mut Vec<u8>, values: &[Value<'_>]) -> Result<(), votable::Error> {
        self.rows += 1;
        if let Some((r, d)) = self.columns {
            let cell = |i: usize| values.get(i).and_then(number);
            if let Some(p) = position(cell(r), cell(d)) {
                self.points.push(p);
            }
        }
        Ok(())
    }

    fn end(&mut self, _out: &mut Vec<u8>, ending: Ending<'_>) -> Result<(), votable::Error> {
        self.overflow = matches!(ending, Ending::Overflow);
        Ok(())
    }

    fn rows(&self) -> u64 {
        self.rows
    }
}

/// Nothing is sent: the writer keeps what it needs.
struct Discard;

impl Sink for Discard {
    async fn send(&mut self, _chunk: Vec<u8>) -> bool {
        true
    }

    async fn abort(&mut self, _message: &str) {}
}

/// The SVG answer, with a policy that lets the image run nothing.
pub fn svg_response(svg: String) -> Response {
    let mut r = ([(header::CONTENT_TYPE, "image/svg+xml; charset=utf-8")], svg).into_response();
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static("default-src 'none'"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

/// `GET|POST {base}/plot.svg`: LANG, QUERY, MAXREC (at most [`PLOT_MAX`]), UPLOAD as for /sync.
pub async fn sync_plot(State(state): State<Arc<Service>>, req: Request) -> Response {
    match plot(&state, req).await {
        Ok(svg) => svg_response(svg),
        Err(e) => e.into_response(),
    }
}

async fn plot(state: &Arc<Service>, req: Request) -> Result<String, TapError> {
    let caller = crate::http::auth::caller_of(&req);
    let mut params = read_params(state, req, state.config.limits.upload_max_bytes).await?;
    let maxrec = match params.take("MAXREC") {
        None => PLOT_MAX,
        Some(v) => v
            .trim()
            .parse::<u64>()
            .map_err(|_| TapError::bad_request(format!("MAXREC must be a whole number, not '{v}'")))?
            .min(PLOT_MAX),
    };
    params.push("MAXREC", maxrec.to_string())?;
    // The plot is the answer: whatever format was asked for is not.
    params.take("FORMAT");
    params.take("RESPONSEFORMAT");
    let prepared = pipeline::prepare(state, &caller, &params, upload::Limits::sync(state)).await?;
    tracing::info!(maxrec, query = %prepared.request.query, "sky plot query");
    let client = crate::http::sync::sync_connection(state).await?;
    let task_state = Arc::clone(state);
    // A task of its own, as /sync runs its queries: the query and its connection end cleanly
    // even if the browser stops waiting (bounded by the sync timeout and PLOT_MAX rows).
    let work = tokio::spawn(async move {
        if let Err(message) = prepared.load_uploads(&task_state, &client).await {
            return Err(TapError::bad_request(message));
        }
        let timeout = Duration::from_secs(task_state.config.limits.sync_timeout_secs);
        let mut run = prepared.run(&task_state, timeout, None);
        let max_cost = task_state.config.limits.sync_max_cost;
        run.max_cost = (max_cost > 0.0).then_some(max_cost);
        let mut writer = PointWriter::default();
        let (ready_tx, ready_rx) = oneshot::channel();
        let outcome = exec::run(&client, &run, &mut writer, &mut Discard, ready_tx).await;
        prepared.unload_uploads(&client).await;
        match ready_rx.await {
            Ok(Err(e)) if e.user_error => return Err(TapError::bad_request(e.message)),
            Ok(Err(e)) => return Err(TapError::internal(e.message)),
            _ => {}
        }
        match outcome {
            Outcome::Failed { message, .. } => Err(TapError::bad_request(message)),
            _ => Ok(plot_svg::render(&writer.points, writer.overflow)),
        }
    });
    work.await
        .map_err(|_| TapError::internal("the plot's query task ended unexpectedly"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_by_ucd_then_by_name() {
        let cols = [
            ("id", None),
            ("alpha", Some("pos.eq.ra;meta.main")),
            ("delta", Some("pos.eq.dec;meta.main")),
        ];
        assert_eq!(position_columns(cols.iter().map(|(n, u)| (*n, *u))), Some((1, 2)));
        let named = [("RA", None), ("x", None), ("Dec", None)];
        assert_eq!(
            position_columns(named.iter().map(|(n, u)| (*n, *u))),
            Some((0, 2))
        );
        let main_first = [
            ("ra2", Some("pos.eq.ra")),
            ("ra", Some("pos.eq.ra;meta.main")),
            ("dec", Some("pos.eq.dec")),
        ];
        assert_eq!(
            position_columns(main_first.iter().map(|(n, u)| (*n, *u))),
            Some((1, 2))
        );
        let none = [("id", None), ("mag", Some("phot.mag"))];
        assert_eq!(position_columns(none.iter().map(|(n, u)| (*n, *u))), None);
    }

    #[test]
    fn only_finite_positions_on_the_sky() {
        assert_eq!(position(Some(10.0), Some(-5.0)), Some((10.0, -5.0)));
        assert_eq!(position(Some(f64::NAN), Some(0.0)), None);
        assert_eq!(position(Some(1.0), Some(91.0)), None);
        assert_eq!(position(None, Some(1.0)), None);
    }
}
