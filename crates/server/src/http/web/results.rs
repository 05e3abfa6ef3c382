//! A finished job's result for a person: `GET {base}/async/{id}/results/view` (the first rows
//! as a paged table with units and descriptions, the download link, the sky plot when the
//! result has positions) and `GET {base}/async/{id}/results/plot.svg`. Server-rendered, so it
//! works without JavaScript; both routes sit behind the owner guard (`jobs::owned`) like every
//! other route of a job. The stored result is read back with the upload reader
//! (`votable::read_upload`: VOTable in any serialisation, or CSV); other formats get the
//! download link only.

use std::path::PathBuf;
use std::sync::Arc;

use axum::extract::{Path, Query, Request, State};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use votable::{ReadLimits, UploadColumn};

use super::page::Page;
use super::plot::{position, position_columns, svg_response, PLOT_MAX};
use super::plot_svg;
use crate::job_store::{self as store, Job};
use crate::tap::{Service, TapError};
use crate::vosi::xml::url_encode;
use xmltext::{attr, text};

/// Rows per page of the table.
pub const PAGE_ROWS: usize = 50;
/// Results larger than this are not read back for a preview (the download link stays).
const PREVIEW_MAX_BYTES: u64 = 64 * 1024 * 1024;

/// A stored result read back: its columns, its number of rows, and the rows asked for (from
/// `first`) as text (None for NULL); only those are unescaped and kept.
pub struct Stored {
    pub columns: Vec<UploadColumn>,
    pub total: usize,
    pub first: usize,
    pub rows: Vec<Vec<Option<String>>>,
}

/// Rows `rows` of PostgreSQL COPY text (what `read_upload` produces), unescaped.
pub fn copy_rows(copy: &[u8], rows: std::ops::Range<usize>) -> Vec<Vec<Option<String>>> {
    let text = String::from_utf8_lossy(copy);
    text.split_terminator('\n')
        .skip(rows.start)
        .take(rows.len())
        .map(|line| {
            line.split('\t')
                .map(|cell| {
                    if cell == "\\N" {
                        return None;
                    }
                    let mut out = String::with_capacity(cell.len());
                    let mut chars = cell.chars();
                    while let Some(c) = chars.next() {
                        if c != '\\' {
                            out.push(c);
                            continue;
                        }
                        match chars.next() {
                            Some('t') => out.push('\t'),
                            Some('n') => out.push('\n'),
                            Some('r') => out.push('\r'),
                            Some(other) => out.push(other),
                            None => {}
                        }
                    }
                    Some(out)
                })
                .collect()
        })
        .collect()
}

/// Why a result is not shown in the page (its download link still is).
fn no_preview(why: impl Into<String>) -> TapError {
    TapError::new(crate::tap::ErrorKind::NotFound, why)
}

/// The job, which must be COMPLETED with a result.
async fn finished(state: &Service, id: &str) -> Result<Job, TapError> {
    let client = state.job_store.connection().await?;
    let job = store::get(&client, id)
        .await?
        .ok_or_else(|| TapError::not_found(format!("no job '{id}'")))?;
    if job.result.is_none() {
        return Err(TapError::not_found(format!(
            "job {id} has no result: it is {}",
            job.phase
        )));
    }
    Ok(job)
}

/// Read the job's stored result, when its format can be read back and it is not too large;
/// keep the rows in `wanted`.
async fn read_result(state: &Service, job: &Job, wanted: std::ops::Range<usize>) -> Result<Stored, TapError> {
    let Some(result) = &job.result else {
        return Err(no_preview("the job has no result"));
    };
    let readable =
        result.mime.starts_with("application/x-votable+xml") || result.mime.starts_with("text/csv");
    if !readable || crate::jobs::stored_encoding(&result.file).is_some() {
        return Err(no_preview(format!(
            "a result in {} cannot be shown here; download it",
            result.mime
        )));
    }
    if result.bytes > PREVIEW_MAX_BYTES {
        return Err(no_preview("the result is too large to show here; download it"));
    }
    let path: PathBuf = state.job_store.results_dir().join(&result.file);
    let task = tokio::task::spawn_blocking(move || -> Result<Stored, TapError> {
        let bytes =
            std::fs::read(&path).map_err(|e| TapError::internal(format!("cannot read the result: {e}")))?;
        let limits = ReadLimits {
            max_rows: 10_000_000,
            max_columns: 10_000,
        };
        let table = votable::read_upload(&bytes, &limits)
            .map_err(|e| no_preview(format!("the result cannot be shown here: {e}")))?;
        Ok(Stored {
            total: table.rows as usize,
            first: wanted.start,
            rows: copy_rows(&table.copy, wanted),
            columns: table.columns,
        })
    });
    task.await
        .map_err(|_| TapError::internal("reading the result ended unexpectedly"))?
}

#[derive(Deserialize)]
pub struct ViewQuery {
    page: Option<usize>,
}

/// `GET {base}/async/{id}/results/view[?page=N]`.
pub async fn view(
    State(state): State<Arc<Service>>,
    Path(id): Path<String>,
    Query(q): Query<ViewQuery>,
    req: Request,
) -> Response {
    let caller = crate::http::auth::caller_of(&req);
    let base = state.config.server.base_path.as_str();
    let mut page = Page::new(format!("Result of job {id}"));
    let job_url = format!("{base}/async/{id}");
    let job = match finished(&state, &id).await {
        Ok(j) => j,
        Err(e) => {
            page.status = crate::http::error::status(e.kind);
            page.body = format!(
                "<p class=\"error\">{}</p>\n<p><a href=\"{}\">The job</a></p>\n",
                text(&e.message),
                attr(&job_url)
            );
            return page.respond(&state.config, &caller);
        }
    };
    let page_no = q.page.unwrap_or(1).max(1);
    let wanted = (page_no - 1).saturating_mul(PAGE_ROWS)..page_no.saturating_mul(PAGE_ROWS);
    let stored = read_result(&state, &job, wanted).await;
    page.body = body(base, &job, stored.as_ref());
    page.respond(&state.config, &caller)
}

/// The page's body: summary, links, plot, one page of rows.
fn body(base: &str, job: &Job, stored: Result<&Stored, &TapError>) -> String {
    let id = &job.id;
    let job_url = format!("{base}/async/{id}");
    let mut out = String::new();
    if let Some(r) = &job.result {
        out.push_str(&format!(
            "<p class=\"summary\">{} row{} · {} bytes · {}{}</p>\n",
            r.rows,
            if r.rows == 1 { "" } else { "s" },
            r.bytes,
            text(&r.mime),
            if r.overflow {
                " · truncated at MAXREC: more rows matched"
            } else {
                ""
            }
        ));
        out.push_str(&format!(
            "<p><a href=\"{}\">Download the result</a> · <a href=\"{}\">The job</a></p>\n",
            attr(&format!("{job_url}/results/result")),
            attr(&job_url)
        ));
        out.push_str(&other_formats(base, job));
    }
    let stored = match stored {
        Ok(s) => s,
        Err(e) => {
            out.push_str(&format!("<p class=\"muted\">{}</p>\n", text(&e.message)));
            return out;
        }
    };
    let names = stored.columns.iter().map(|c| (c.name.as_str(), c.ucd.as_deref()));
    if position_columns(names).is_some() && stored.total > 0 {
        out.push_str(&format!(
            "<figure class=\"skyplot\"><img src=\"{}\" width=\"640\" height=\"480\" alt=\"Sky plot of the positions in the result\">\
             <figcaption>Positions of the result (right ascension increases to the left).</figcaption></figure>\n",
            attr(&format!("{job_url}/results/plot.svg"))
        ));
    }
    let (first, rows) = (stored.first, &stored.rows);
    out.push_str("<div class=\"result-wrap\"><table class=\"result\">\n<thead><tr>");
    for c in &stored.columns {
        let mut about: Vec<String> = Vec::new();
        if let Some(d) = &c.description {
            about.push(d.clone());
        }
        if let Some(u) = &c.ucd {
            about.push(format!("UCD: {u}"));
        }
        if about.is_empty() {
            out.push_str(&format!("<th scope=\"col\">{}</th>", text(&c.name)));
        } else {
            out.push_str(&format!(
                "<th scope=\"col\" title=\"{}\">{}</th>",
                attr(&about.join("\n")),
                text(&c.name)
            ));
        }
    }
    out.push_str("</tr>\n<tr class=\"units\">");
    for c in &stored.columns {
        out.push_str(&format!(
            "<th scope=\"col\">{}</th>",
            text(c.unit.as_deref().unwrap_or(""))
        ));
    }
    out.push_str("</tr></thead>\n<tbody>\n");
    for row in rows {
        out.push_str("<tr>");
        for cell in row {
            out.push_str(&format!("<td>{}</td>", text(cell.as_deref().unwrap_or(""))));
        }
        out.push_str("</tr>\n");
    }
    out.push_str("</tbody></table></div>\n");
    let view = format!("{job_url}/results/view");
    let page_no = first / PAGE_ROWS + 1;
    let pages = stored.total.div_ceil(PAGE_ROWS).max(1);
    if stored.total == 0 {
        out.push_str("<p>No rows.</p>\n");
    } else if rows.is_empty() {
        out.push_str(&format!(
            "<p>The result has {} rows: <a href=\"{}\">its last page</a>.</p>\n",
            stored.total,
            attr(&format!("{view}?page={pages}"))
        ));
    } else {
        out.push_str("<p class=\"pager\">");
        if page_no > 1 {
            out.push_str(&format!(
                "<a href=\"{}\" rel=\"prev\">← Previous</a> ",
                attr(&format!("{view}?page={}", page_no - 1))
            ));
        }
        out.push_str(&format!(
            "rows {}–{} of {}",
            first + 1,
            first + rows.len(),
            stored.total
        ));
        if page_no < pages {
            out.push_str(&format!(
                " <a href=\"{}\" rel=\"next\">Next →</a>",
                attr(&format!("{view}?page={}", page_no + 1))
            ));
        }
        out.push_str("</p>\n");
    }
    out
}

/// Links running the job's query again by `/sync` in every other format (with its MAXREC and
/// the sync limits): the stored result exists in one format only.
fn other_formats(base: &str, job: &Job) -> String {
    let param = |name: &str| {
        job.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let Some(query) = param("QUERY") else {
        return String::new();
    };
    // A query that needs its uploads cannot run again without them.
    if param("UPLOAD").is_some() {
        return String::new();
    }
    let mut out = String::from("<p class=\"downloads\">The same query in another format (runs it again): ");
    for (value, label) in super::query::formats() {
        let mut url = format!("{base}/sync?LANG=ADQL&FORMAT={}", url_encode(value));
        if let Some(m) = param("MAXREC") {
            url.push_str(&format!("&MAXREC={}", url_encode(m)));
        }
        url.push_str(&format!("&QUERY={}", url_encode(query)));
        out.push_str(&format!("<a href=\"{}\">{}</a> ", attr(&url), text(&label)));
    }
    out.push_str("</p>\n");
    out
}

/// `GET {base}/async/{id}/results/plot.svg`: the stored result's positions.
pub async fn plot(State(state): State<Arc<Service>>, Path(id): Path<String>) -> Response {
    let drawn = async {
        let job = finished(&state, &id).await?;
        let stored = read_result(&state, &job, 0..PLOT_MAX as usize).await?;
        let names = stored.columns.iter().map(|c| (c.name.as_str(), c.ucd.as_deref()));
        // No position columns: an empty chart that says so (it is an image either way).
        let Some((ra, dec)) = position_columns(names) else {
            return Ok(plot_svg::render(&[], false));
        };
        let num = |row: &[Option<String>], i: usize| row.get(i)?.as_deref()?.trim().parse::<f64>().ok();
        let points: Vec<(f64, f64)> = stored
            .rows
            .iter()
            .filter_map(|row| position(num(row, ra), num(row, dec)))
            .take(PLOT_MAX as usize)
            .collect();
        let capped = stored.total > PLOT_MAX as usize;
        Ok::<_, TapError>(plot_svg::render(&points, capped))
    }
    .await;
    match drawn {
        Ok(svg) => svg_response(svg),
        Err(e) => (crate::http::error::status(e.kind), e.message).into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copy_text_is_unescaped_and_nulls_are_none() {
        let rows = copy_rows(b"1\t10.5\tM\\t31\n2\t\\N\ta\\\\b\n", 0..10);
        assert_eq!(rows.len(), 2);
        assert_eq!(
            rows[0],
            vec![Some("1".into()), Some("10.5".into()), Some("M\t31".into())]
        );
        assert_eq!(rows[1], vec![Some("2".into()), None, Some("a\\b".into())]);
        let second = copy_rows(b"1\n2\n3\n", 1..2);
        assert_eq!(second, vec![vec![Some("2".to_string())]]);
    }

    /// A job with `n` rows of ra, dec, name, and its result as page `page` reads it.
    fn job_with_rows(n: usize, page: usize) -> (Job, Stored) {
        let mut csv = String::from("ra,dec,name\n");
        for i in 0..n {
            csv.push_str(&format!("{}.5,-3.25,<script>\n", 10 + i));
        }
        let limits = ReadLimits {
            max_rows: 1000,
            max_columns: 10,
        };
        let table = votable::read_upload(csv.as_bytes(), &limits).unwrap_or_else(|e| panic!("{e}"));
        let first = (page - 1) * PAGE_ROWS;
        let stored = Stored {
            total: table.rows as usize,
            first,
            rows: copy_rows(&table.copy, first..first + PAGE_ROWS),
            columns: table.columns,
        };
        let job = Job {
            id: "abc".into(),
            run_id: None,
            owner_id: None,
            phase: uws::Phase::Completed,
            creation_time: uws::UtcTime::from_system(std::time::SystemTime::UNIX_EPOCH),
            start_time: None,
            end_time: None,
            execution_duration: 0,
            destruction: uws::UtcTime::from_system(std::time::SystemTime::UNIX_EPOCH),
            quote: None,
            params: vec![
                ("QUERY".into(), "SELECT ra, dec FROM t".into()),
                ("MAXREC".into(), "500".into()),
            ],
            error_message: None,
            result: Some(store::StoredResult {
                file: "abc.csv".into(),
                mime: "text/csv".into(),
                rows: n as u64,
                bytes: 100,
                overflow: false,
            }),
            upload_parts: Vec::new(),
            progress: None,
        };
        (job, stored)
    }

    #[test]
    fn the_view_pages_rows_escapes_cells_and_plots_positions() {
        let (job, stored) = job_with_rows(120, 2);
        let html = body("/tap", &job, Ok(&stored));
        assert!(html.contains("rows 51–100 of 120"), "{html}");
        assert!(
            html.contains("href=\"/tap/async/abc/results/view?page=1\""),
            "{html}"
        );
        assert!(
            html.contains("href=\"/tap/async/abc/results/view?page=3\""),
            "{html}"
        );
        assert!(html.contains("src=\"/tap/async/abc/results/plot.svg\""), "{html}");
        assert!(html.contains("href=\"/tap/async/abc/results/result\""), "{html}");
        assert!(
            !html.contains("<script>") && html.contains("&lt;script&gt;"),
            "{html}"
        );
        assert_eq!(html.matches("<tr><td>").count(), 50);
        assert!(
            html.contains("href=\"/tap/sync?LANG=ADQL&amp;FORMAT=csv&amp;MAXREC=500&amp;QUERY=SELECT%20ra%2C%20dec%20FROM%20t\""),
            "{html}"
        );
        assert!(html.contains("<tr><td>60.5</td>"), "row 51 first: {html}");
        let (job, stored) = job_with_rows(120, 3);
        let last = body("/tap", &job, Ok(&stored));
        assert!(
            last.contains("rows 101–120 of 120") && !last.contains("rel=\"next\""),
            "{last}"
        );
        let (job, past) = job_with_rows(120, 9);
        let past = body("/tap", &job, Ok(&past));
        assert!(
            past.contains("href=\"/tap/async/abc/results/view?page=3\">its last page"),
            "{past}"
        );
    }
}
