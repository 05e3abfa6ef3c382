//! The UWS 1.1 XML documents: a job, the job list, and a job's parameters and results; and the
//! ESA TAP+ job search document, whose jobs are written like the job document's root.
//!
//! Each writer appends a complete document to a `String`. The shapes follow the UWS 1.1 XSD and
//! what the clients parse (CLIENTS.md): the prefixes are literally `uws:` and `xlink:` because
//! TapPlus matches raw names and pyvo needs `xlink:href`; leaf elements hold no whitespace
//! because TapPlus reads `<uws:phase>` raw; `runId` is left out when absent (not nillable) while
//! the nillable elements are always written, with `xsi:nil="true"` when empty. All text and
//! attribute values are escaped, and characters XML 1.0 forbids become U+FFFD, so no input can
//! make a document ill-formed.

use std::collections::HashSet;
use std::fmt::Write as _;
use std::hash::Hash;

use crate::{Phase, UtcTime};

/// The declaration every document starts with.
const XML_DECL: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";

/// The namespace declarations on every root element: UWS (its 1.1 schema kept the v1.0 name),
/// XLink for the references and XML Schema instance for `xsi:nil`.
const NAMESPACES: &str = " xmlns:uws=\"http://www.ivoa.net/xml/UWS/v1.0\" \
                          xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
                          xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

/// Tapir's own namespace for `jobInfo` children. The XSD processes jobInfo content laxly, so
/// elements of a namespace without a schema pass; UWS-namespace children would not.
pub const JOB_INFO_NAMESPACE: &str = "http://tapir.dev/xml/jobinfo";

/// The largest value of `xs:int`, the XSD type of executionDuration.
const XS_INT_MAX: u64 = 2_147_483_647;

/// The largest value of `xs:long`, the XSD type of a result's size.
const XS_LONG_MAX: u64 = i64::MAX as u64;

/// One job parameter, as `<uws:parameter id="...">value</uws:parameter>` (JB-04).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Parameter<'a> {
    /// The parameter name as the client sent it; written lower-cased.
    pub id: &'a str,
    /// The value, or the URL where it can be read when `by_reference`.
    pub value: &'a str,
    /// Whether `value` is a URL to the content (inline uploads, UP-06): adds `byReference="true"`.
    pub by_reference: bool,
}

/// One job result, as `<uws:result id="..." xlink:href="..."/>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ResultRef<'a> {
    /// The result's name; TAP's is `result` (AS-01).
    pub id: &'a str,
    /// The absolute URL of the result (clients resolve nothing else reliably).
    pub href: &'a str,
    /// The result's media type, when known.
    pub mime_type: Option<&'a str>,
    /// The result's size in bytes, when known.
    pub size: Option<u64>,
}

/// The `type` attribute of `uws:errorSummary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorType {
    /// Running the same job again fails the same way (a bad query).
    Fatal,
    /// The failure may go away (a database outage).
    Transient,
}

impl ErrorType {
    /// The attribute value the XSD allows.
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorType::Fatal => "fatal",
            ErrorType::Transient => "transient",
        }
    }
}

/// Why a job ended in ERROR (or ABORTED), as `uws:errorSummary`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ErrorSummary<'a> {
    /// Fatal or transient.
    pub error_type: ErrorType,
    /// Whether `/error` holds a document with more detail.
    pub has_detail: bool,
    /// The leading error text; pyvo shows it as the exception message.
    pub message: &'a str,
}

/// Everything in a `uws:job` document, borrowed from wherever the server keeps it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobDoc<'a> {
    /// The job id, also the last path segment of the job URL.
    pub job_id: &'a str,
    /// The client's RUNID; the element is left out when `None` (runId is not nillable).
    pub run_id: Option<&'a str>,
    /// The authenticated owner; always written, `xsi:nil="true"` when `None`.
    pub owner_id: Option<&'a str>,
    /// The current phase.
    pub phase: Phase,
    /// When the job is expected to finish; always written, nil when `None`.
    pub quote: Option<UtcTime>,
    /// When the job was created (required by UWS 1.1).
    pub creation_time: UtcTime,
    /// When it started executing; always written, nil when `None`.
    pub start_time: Option<UtcTime>,
    /// When it finished; always written, nil when `None`.
    pub end_time: Option<UtcTime>,
    /// The granted run time in seconds, `0` = unlimited. Values above `xs:int` are written as
    /// 2147483647 (68 years), so the document stays valid.
    pub execution_duration: u64,
    /// When the job will be destroyed; always written, nil when `None`.
    pub destruction: Option<UtcTime>,
    /// The parameters; `<uws:parameters>` is always written, maybe empty. Ids are written
    /// lower-cased and a repeated id (compared case-insensitively) only once, the first winning,
    /// because taplint rejects duplicate ids (E-UWS-PADU) and TapPlus looks up `query`.
    pub parameters: &'a [Parameter<'a>],
    /// The results; `<uws:results/>` is always written. A repeated id is written once (the XSD
    /// wants ids unique).
    pub results: &'a [ResultRef<'a>],
    /// The error summary, written after the results when present.
    pub error: Option<ErrorSummary<'a>>,
    /// Extra `(name, value)` pairs, written as `<tapir:NAME>value</tapir:NAME>` inside
    /// `<uws:jobInfo>` with `xmlns:tapir` ([`JOB_INFO_NAMESPACE`]) declared on the root. Names
    /// must be XML names without a colon (letters, digits, `_`, `-`, `.`, not starting with a
    /// digit, `-` or `.`); pairs with other names are left out rather than breaking the
    /// document. No jobInfo element is written when no pair remains.
    pub job_info: &'a [(&'a str, &'a str)],
}

/// Writes a complete `uws:job` document. The element order is fixed by the UWS 1.1 XSD: jobId,
/// runId?, ownerId, phase, quote, creationTime, startTime, endTime, executionDuration,
/// destruction, parameters, results, errorSummary?, jobInfo?. The root `<uws:job ...
/// version="1.1">` declares uws, xlink and xsi (JB-05: without `version` a client assumes 1.0).
pub fn write_job(doc: &JobDoc<'_>, out: &mut String) {
    out.push_str(XML_DECL);
    job_element(doc, JobForm::Document, out);
}

/// One job of the ESA TAP+ job search (`{base}/jobs/async`): a `<uws:job>` element, to be
/// written between [`job_list_start`] and [`job_list_end`], which give that document the root
/// TapPlus's `search_async_jobs` accepts (its parser only looks for the `uws:`-prefixed job
/// elements, and a job starts at `uws:jobId`). The children are those of [`write_job`], in its
/// order; `metadata_only` leaves out parameters, results, errorSummary and jobInfo (what ESA's
/// `metadata_only=true` asks for). The job's `name` is written as `<uws:name>` after
/// destruction, where TapPlus reads a job's name from: that element is not in the UWS schema,
/// so it belongs to this ESA document only, never to [`write_job`]'s.
pub fn job_search_entry(doc: &JobDoc<'_>, name: Option<&str>, metadata_only: bool, out: &mut String) {
    job_element(doc, JobForm::Searched { name, metadata_only }, out);
}

/// Where a `uws:job` element stands.
#[derive(Clone, Copy)]
enum JobForm<'a> {
    /// The root of the UWS job document.
    Document,
    /// Inside the ESA job search document.
    Searched {
        name: Option<&'a str>,
        metadata_only: bool,
    },
}

/// A `<uws:job>` element: the root of a job document, or one job of a search.
fn job_element(doc: &JobDoc<'_>, form: JobForm<'_>, out: &mut String) {
    let (depth, root, name, full) = match form {
        JobForm::Document => (0, true, None, true),
        JobForm::Searched { name, metadata_only } => (1, false, name, !metadata_only),
    };
    let info: Vec<&(&str, &str)> = doc
        .job_info
        .iter()
        .filter(|(name, _)| full && is_plain_name(name))
        .collect();
    indent(out, depth);
    out.push_str("<uws:job");
    if root {
        out.push_str(NAMESPACES);
    }
    if !info.is_empty() {
        out.push_str(" xmlns:tapir=\"");
        out.push_str(JOB_INFO_NAMESPACE);
        out.push('"');
    }
    if root {
        out.push_str(" version=\"1.1\"");
    }
    out.push_str(">\n");
    let line = Some(depth + 1);
    text_element(out, line, "jobId", doc.job_id);
    if let Some(run_id) = doc.run_id {
        text_element(out, line, "runId", run_id);
    }
    match doc.owner_id {
        Some(owner) => text_element(out, line, "ownerId", owner),
        None => nil_element(out, line, "ownerId"),
    }
    text_element(out, line, "phase", doc.phase.as_str());
    time_element(out, line, "quote", doc.quote);
    time_element(out, line, "creationTime", Some(doc.creation_time));
    time_element(out, line, "startTime", doc.start_time);
    time_element(out, line, "endTime", doc.end_time);
    element(out, line, "executionDuration", |o| {
        push_u64(o, doc.execution_duration.min(XS_INT_MAX))
    });
    time_element(out, line, "destruction", doc.destruction);
    if let Some(name) = name {
        text_element(out, line, "name", name);
    }
    if full {
        parameters_element(doc.parameters, depth + 1, false, out);
        results_element(doc.results, depth + 1, false, out);
    }
    if let Some(error) = doc.error.as_ref().filter(|_| full) {
        indent(out, depth + 1);
        out.push_str("<uws:errorSummary type=\"");
        out.push_str(error.error_type.as_str());
        out.push_str("\" hasDetail=\"");
        out.push_str(if error.has_detail { "true" } else { "false" });
        out.push_str("\">");
        text_element(out, None, "message", error.message);
        out.push_str("</uws:errorSummary>\n");
    }
    if !info.is_empty() {
        indent(out, depth + 1);
        out.push_str("<uws:jobInfo>\n");
        for (name, value) in info {
            indent(out, depth + 2);
            out.push_str("<tapir:");
            out.push_str(name);
            out.push('>');
            escape(value, false, out);
            out.push_str("</tapir:");
            out.push_str(name);
            out.push_str(">\n");
        }
        indent(out, depth + 1);
        out.push_str("</uws:jobInfo>\n");
    }
    indent(out, depth);
    out.push_str("</uws:job>\n");
}

/// One entry of the job list (JL-01), borrowed from the server's job record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobRef<'a> {
    /// The job id (the `id` attribute).
    pub job_id: &'a str,
    /// The absolute job URL (`xlink:href`).
    pub href: &'a str,
    /// The current phase; TapPlus needs it in every jobref.
    pub phase: Phase,
    /// The client's RUNID, left out when `None`.
    pub run_id: Option<&'a str>,
    /// The owner; written with `xsi:nil="true"` when `None`, as in the job document.
    pub owner_id: Option<&'a str>,
    /// The creation time, left out when `None`.
    pub creation_time: Option<UtcTime>,
}

/// Writes a complete `<uws:jobs version="1.1">` document of `<uws:jobref id=".." xlink:href="..">`
/// elements whose children come in the XSD's order: phase, runId?, ownerId (nil when `None`),
/// creationTime?.
pub fn write_job_list(jobs: &[JobRef<'_>], out: &mut String) {
    job_list_start(out);
    for job in jobs {
        job_list_entry(job, out);
    }
    job_list_end(out);
}

/// The start of a job list, for streaming a long list: then [`job_list_entry`] for each job and
/// [`job_list_end`], flushing `out` in between as the caller likes.
pub fn job_list_start(out: &mut String) {
    out.push_str(XML_DECL);
    out.push_str("<uws:jobs");
    out.push_str(NAMESPACES);
    out.push_str(" version=\"1.1\">\n");
}

/// One `<uws:jobref>`, on one line.
pub fn job_list_entry(job: &JobRef<'_>, out: &mut String) {
    out.push_str("  <uws:jobref id=\"");
    escape(job.job_id, true, out);
    out.push_str("\" xlink:href=\"");
    escape(job.href, true, out);
    out.push_str("\">");
    text_element(out, None, "phase", job.phase.as_str());
    if let Some(run_id) = job.run_id {
        text_element(out, None, "runId", run_id);
    }
    match job.owner_id {
        Some(owner) => text_element(out, None, "ownerId", owner),
        None => nil_element(out, None, "ownerId"),
    }
    if let Some(created) = job.creation_time {
        time_element(out, None, "creationTime", Some(created));
    }
    out.push_str("</uws:jobref>\n");
}

/// The end of a job list.
pub fn job_list_end(out: &mut String) {
    out.push_str("</uws:jobs>\n");
}

/// Writes the `{job}/parameters` resource: a document whose root is `<uws:parameters>`, with the
/// same lower-casing and duplicate rule as in [`JobDoc::parameters`].
pub fn write_parameters(params: &[Parameter<'_>], out: &mut String) {
    out.push_str(XML_DECL);
    parameters_element(params, 0, true, out);
}

/// Writes the `{job}/results` resource: a document whose root is `<uws:results>`.
pub fn write_results(results: &[ResultRef<'_>], out: &mut String) {
    out.push_str(XML_DECL);
    results_element(results, 0, true, out);
}

/// `<uws:parameters>` at `depth`, with the namespaces when it is the root.
fn parameters_element(params: &[Parameter<'_>], depth: usize, root: bool, out: &mut String) {
    let lower_id = |p: &Parameter<'_>| p.id.to_lowercase();
    container(
        out,
        depth,
        "parameters",
        root,
        params,
        lower_id,
        |param, id, out| {
            out.push_str("<uws:parameter id=\"");
            escape(id, true, out);
            out.push('"');
            if param.by_reference {
                out.push_str(" byReference=\"true\"");
            }
            out.push('>');
            escape(param.value, false, out);
            out.push_str("</uws:parameter>");
        },
    );
}

/// `<uws:results>` at `depth`, with the namespaces when it is the root.
fn results_element(results: &[ResultRef<'_>], depth: usize, root: bool, out: &mut String) {
    container(
        out,
        depth,
        "results",
        root,
        results,
        |r| r.id,
        |result, id, out| {
            out.push_str("<uws:result id=\"");
            escape(id, true, out);
            out.push_str("\" xlink:href=\"");
            escape(result.href, true, out);
            out.push('"');
            if let Some(mime) = result.mime_type {
                out.push_str(" mime-type=\"");
                escape(mime, true, out);
                out.push('"');
            }
            if let Some(size) = result.size {
                out.push_str(" size=\"");
                push_u64(out, size.min(XS_LONG_MAX));
                out.push('"');
            }
            out.push_str("/>");
        },
    );
}

/// A container element `<uws:NAME>` at `depth` holding one line per item, self-closed when there
/// are none. Items whose `key` was seen before are left out (the first wins), because both
/// parameter and result ids must be unique; `item` writes one child, given its key.
fn container<T, K: Eq + Hash>(
    out: &mut String,
    depth: usize,
    name: &str,
    root: bool,
    items: &[T],
    key: impl Fn(&T) -> K,
    item: impl Fn(&T, &K, &mut String),
) {
    indent(out, depth);
    out.push_str("<uws:");
    out.push_str(name);
    if root {
        out.push_str(NAMESPACES);
    }
    if items.is_empty() {
        out.push_str("/>\n");
        return;
    }
    out.push_str(">\n");
    let mut seen = HashSet::new();
    for it in items {
        let k = key(it);
        if seen.contains(&k) {
            continue;
        }
        indent(out, depth + 1);
        item(it, &k, out);
        out.push('\n');
        seen.insert(k);
    }
    indent(out, depth);
    out.push_str("</uws:");
    out.push_str(name);
    out.push_str(">\n");
}

/// Two spaces per level, for readable documents.
fn indent(out: &mut String, depth: usize) {
    for _ in 0..depth {
        out.push_str("  ");
    }
}

/// A leaf `<uws:NAME>...</uws:NAME>` whose content `content` writes. With `line` = Some(depth) it
/// stands on its own indented line; with `None` it is written inline.
fn element(out: &mut String, line: Option<usize>, name: &str, content: impl FnOnce(&mut String)) {
    if let Some(depth) = line {
        indent(out, depth);
    }
    out.push_str("<uws:");
    out.push_str(name);
    out.push('>');
    content(out);
    out.push_str("</uws:");
    out.push_str(name);
    out.push('>');
    if line.is_some() {
        out.push('\n');
    }
}

/// A leaf element holding escaped text.
fn text_element(out: &mut String, line: Option<usize>, name: &str, text: &str) {
    element(out, line, name, |o| escape(text, false, o));
}

/// A leaf element holding an instant, or nil.
fn time_element(out: &mut String, line: Option<usize>, name: &str, time: Option<UtcTime>) {
    match time {
        Some(t) => element(out, line, name, |o| t.write_iso(o)),
        None => nil_element(out, line, name),
    }
}

/// `<uws:NAME xsi:nil="true"/>`: a nillable element with no value.
fn nil_element(out: &mut String, line: Option<usize>, name: &str) {
    if let Some(depth) = line {
        indent(out, depth);
    }
    out.push_str("<uws:");
    out.push_str(name);
    out.push_str(" xsi:nil=\"true\"/>");
    if line.is_some() {
        out.push('\n');
    }
}

/// A number in decimal.
fn push_u64(out: &mut String, n: u64) {
    // Writing into a String cannot fail.
    let _ = write!(out, "{n}");
}

/// Whether `name` can be written as an element's local name as it is: an XML NCName restricted
/// to ASCII, which covers the fixed names the server passes and nothing that needs escaping.
fn is_plain_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
}

/// Appends `text` escaped for element content, or for a double-quoted attribute when `attr`
/// (the one escaper every Tapir document uses, `xmltext`).
fn escape(text: &str, attr: bool, out: &mut String) {
    xmltext::push_escaped_str(out, text, attr);
}

#[cfg(test)]
mod tests {
    use super::*;

    const ROOT_NS: &str = "xmlns:uws=\"http://www.ivoa.net/xml/UWS/v1.0\" \
                           xmlns:xlink=\"http://www.w3.org/1999/xlink\" \
                           xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"";

    fn t(ms: i64) -> UtcTime {
        UtcTime::from_unix_millis(ms)
    }

    fn minimal() -> JobDoc<'static> {
        JobDoc {
            job_id: "k7q2m9x4",
            run_id: None,
            owner_id: None,
            phase: Phase::Pending,
            quote: None,
            creation_time: t(1_709_633_158_120),
            start_time: None,
            end_time: None,
            execution_duration: 0,
            destruction: None,
            parameters: &[],
            results: &[],
            error: None,
            job_info: &[],
        }
    }

    fn job(doc: &JobDoc<'_>) -> String {
        let mut out = String::new();
        write_job(doc, &mut out);
        out
    }

    #[test]
    fn minimal_job_with_nils() {
        let expected = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <uws:job {ROOT_NS} version=\"1.1\">\n  \
             <uws:jobId>k7q2m9x4</uws:jobId>\n  \
             <uws:ownerId xsi:nil=\"true\"/>\n  \
             <uws:phase>PENDING</uws:phase>\n  \
             <uws:quote xsi:nil=\"true\"/>\n  \
             <uws:creationTime>2024-03-05T10:05:58.120Z</uws:creationTime>\n  \
             <uws:startTime xsi:nil=\"true\"/>\n  \
             <uws:endTime xsi:nil=\"true\"/>\n  \
             <uws:executionDuration>0</uws:executionDuration>\n  \
             <uws:destruction xsi:nil=\"true\"/>\n  \
             <uws:parameters/>\n  \
             <uws:results/>\n\
             </uws:job>\n"
        );
        assert_eq!(job(&minimal()), expected);
    }

    #[test]
    fn full_job_in_schema_order() {
        let params = [
            Parameter {
                id: "LANG",
                value: "ADQL",
                by_reference: false,
            },
            Parameter {
                id: "QUERY",
                value: "SELECT * FROM t WHERE a < 1 & b > \"2\"",
                by_reference: false,
            },
            Parameter {
                id: "lang",
                value: "ADQL-2.0",
                by_reference: false,
            },
            Parameter {
                id: "t1",
                value: "https://h/tap/async/x/parameters/t1",
                by_reference: true,
            },
        ];
        let results = [ResultRef {
            id: "result",
            href: "https://h/tap/async/x/results/result?a=1&b=2",
            mime_type: Some("application/x-votable+xml"),
            size: Some(1234),
        }];
        let doc = JobDoc {
            run_id: Some("TAPLINT-001"),
            owner_id: Some("alice"),
            phase: Phase::Error,
            quote: Some(t(1_709_636_758_120)),
            start_time: Some(t(1_709_633_158_300)),
            end_time: Some(t(1_709_633_158_410)),
            execution_duration: 3600,
            destruction: Some(t(1_710_237_958_120)),
            parameters: &params,
            results: &results,
            error: Some(ErrorSummary {
                error_type: ErrorType::Fatal,
                has_detail: true,
                message: "column rax not found",
            }),
            job_info: &[
                ("jobname", "my <job>"),
                ("bad name", "dropped"),
                ("1st", "dropped"),
            ],
            ..minimal()
        };
        let expected = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <uws:job {ROOT_NS} xmlns:tapir=\"http://tapir.dev/xml/jobinfo\" version=\"1.1\">\n  \
             <uws:jobId>k7q2m9x4</uws:jobId>\n  \
             <uws:runId>TAPLINT-001</uws:runId>\n  \
             <uws:ownerId>alice</uws:ownerId>\n  \
             <uws:phase>ERROR</uws:phase>\n  \
             <uws:quote>2024-03-05T11:05:58.120Z</uws:quote>\n  \
             <uws:creationTime>2024-03-05T10:05:58.120Z</uws:creationTime>\n  \
             <uws:startTime>2024-03-05T10:05:58.300Z</uws:startTime>\n  \
             <uws:endTime>2024-03-05T10:05:58.410Z</uws:endTime>\n  \
             <uws:executionDuration>3600</uws:executionDuration>\n  \
             <uws:destruction>2024-03-12T10:05:58.120Z</uws:destruction>\n  \
             <uws:parameters>\n    \
             <uws:parameter id=\"lang\">ADQL</uws:parameter>\n    \
             <uws:parameter id=\"query\">SELECT * FROM t WHERE a &lt; 1 &amp; b &gt; \"2\"</uws:parameter>\n    \
             <uws:parameter id=\"t1\" byReference=\"true\">https://h/tap/async/x/parameters/t1</uws:parameter>\n  \
             </uws:parameters>\n  \
             <uws:results>\n    \
             <uws:result id=\"result\" xlink:href=\"https://h/tap/async/x/results/result?a=1&amp;b=2\" \
             mime-type=\"application/x-votable+xml\" size=\"1234\"/>\n  \
             </uws:results>\n  \
             <uws:errorSummary type=\"fatal\" hasDetail=\"true\">\
             <uws:message>column rax not found</uws:message></uws:errorSummary>\n  \
             <uws:jobInfo>\n    \
             <tapir:jobname>my &lt;job&gt;</tapir:jobname>\n  \
             </uws:jobInfo>\n\
             </uws:job>\n"
        );
        let text = job(&doc);
        assert_eq!(text, expected);
        let results_at = text.find("<uws:results>").unwrap_or(usize::MAX);
        let error_at = text.find("<uws:errorSummary").unwrap_or(0);
        assert!(results_at < error_at);
    }

    #[test]
    fn transient_error_without_detail_and_huge_duration() {
        let doc = JobDoc {
            execution_duration: u64::MAX,
            error: Some(ErrorSummary {
                error_type: ErrorType::Transient,
                has_detail: false,
                message: "",
            }),
            job_info: &[("bad:name", "x")],
            ..minimal()
        };
        let text = job(&doc);
        assert!(
            text.contains("<uws:executionDuration>2147483647</uws:executionDuration>"),
            "{text}"
        );
        assert!(text.contains(
            "<uws:errorSummary type=\"transient\" hasDetail=\"false\"><uws:message></uws:message></uws:errorSummary>"
        ));
        assert!(!text.contains("jobInfo") && !text.contains("tapir"), "{text}");
    }

    #[test]
    fn escaping_of_text_and_attributes() {
        let mut out = String::new();
        escape("a&b<c>d\"e'f\tg\nh\ri\u{0}j\u{1b}k\u{FFFF}l€", false, &mut out);
        assert_eq!(
            out,
            "a&amp;b&lt;c&gt;d\"e'f\tg\nh&#13;i\u{FFFD}j\u{FFFD}k\u{FFFD}l€"
        );
        out.clear();
        escape("a&b<c>d\"e'f\tg\nh\ri\u{7}j", true, &mut out);
        assert_eq!(out, "a&amp;b&lt;c&gt;d&quot;e'f&#9;g&#10;h&#13;i\u{FFFD}j");
        out.clear();
        escape("plain", true, &mut out);
        assert_eq!(out, "plain");
    }

    #[test]
    fn hostile_values_stay_inside_their_elements() {
        let params = [Parameter {
            id: "Q\"><x>",
            value: "</uws:parameter>\u{0}",
            by_reference: false,
        }];
        let doc = JobDoc {
            job_id: "<id>",
            run_id: Some("]]>"),
            owner_id: Some("a&b"),
            parameters: &params,
            ..minimal()
        };
        let text = job(&doc);
        assert!(text.contains("<uws:jobId>&lt;id&gt;</uws:jobId>"));
        assert!(text.contains("<uws:runId>]]&gt;</uws:runId>"));
        assert!(text.contains("<uws:ownerId>a&amp;b</uws:ownerId>"));
        assert!(text.contains(
            "<uws:parameter id=\"q&quot;&gt;&lt;x&gt;\">&lt;/uws:parameter&gt;\u{FFFD}</uws:parameter>"
        ));
        assert!(!text.contains('\u{0}'));
    }

    #[test]
    fn job_list() {
        let jobs = [
            JobRef {
                job_id: "abc",
                href: "https://h/tap/async/abc",
                phase: Phase::Completed,
                run_id: Some("r1"),
                owner_id: Some("bob"),
                creation_time: Some(t(0)),
            },
            JobRef {
                job_id: "def",
                href: "https://h/tap/async/def",
                phase: Phase::Pending,
                run_id: None,
                owner_id: None,
                creation_time: None,
            },
        ];
        let mut out = String::new();
        write_job_list(&jobs, &mut out);
        let expected = format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n\
             <uws:jobs {ROOT_NS} version=\"1.1\">\n  \
             <uws:jobref id=\"abc\" xlink:href=\"https://h/tap/async/abc\"><uws:phase>COMPLETED</uws:phase>\
             <uws:runId>r1</uws:runId><uws:ownerId>bob</uws:ownerId>\
             <uws:creationTime>1970-01-01T00:00:00.000Z</uws:creationTime></uws:jobref>\n  \
             <uws:jobref id=\"def\" xlink:href=\"https://h/tap/async/def\"><uws:phase>PENDING</uws:phase>\
             <uws:ownerId xsi:nil=\"true\"/></uws:jobref>\n\
             </uws:jobs>\n"
        );
        assert_eq!(out, expected);

        let mut streamed = String::new();
        job_list_start(&mut streamed);
        for j in &jobs {
            job_list_entry(j, &mut streamed);
        }
        job_list_end(&mut streamed);
        assert_eq!(streamed, out);

        out.clear();
        write_job_list(&[], &mut out);
        assert_eq!(
            out,
            format!("{XML_DECL}<uws:jobs {ROOT_NS} version=\"1.1\">\n</uws:jobs>\n")
        );
    }

    #[test]
    fn job_search_entries() {
        let params = [Parameter {
            id: "JOBNAME",
            value: "survey <1>",
            by_reference: false,
        }];
        let results = [ResultRef {
            id: "result",
            href: "https://h/tap/async/k7q2m9x4/results/result",
            mime_type: Some("text/csv"),
            size: Some(12),
        }];
        let doc = JobDoc {
            phase: Phase::Completed,
            destruction: Some(t(1_710_237_958_120)),
            parameters: &params,
            results: &results,
            job_info: &[("rows", "3")],
            ..minimal()
        };
        let mut out = String::new();
        job_list_start(&mut out);
        job_search_entry(&doc, Some("survey <1>"), false, &mut out);
        job_list_end(&mut out);
        let expected = format!(
            "{XML_DECL}<uws:jobs {ROOT_NS} version=\"1.1\">\n  \
             <uws:job xmlns:tapir=\"http://tapir.dev/xml/jobinfo\">\n    \
             <uws:jobId>k7q2m9x4</uws:jobId>\n    \
             <uws:ownerId xsi:nil=\"true\"/>\n    \
             <uws:phase>COMPLETED</uws:phase>\n    \
             <uws:quote xsi:nil=\"true\"/>\n    \
             <uws:creationTime>2024-03-05T10:05:58.120Z</uws:creationTime>\n    \
             <uws:startTime xsi:nil=\"true\"/>\n    \
             <uws:endTime xsi:nil=\"true\"/>\n    \
             <uws:executionDuration>0</uws:executionDuration>\n    \
             <uws:destruction>2024-03-12T10:05:58.120Z</uws:destruction>\n    \
             <uws:name>survey &lt;1&gt;</uws:name>\n    \
             <uws:parameters>\n      \
             <uws:parameter id=\"jobname\">survey &lt;1&gt;</uws:parameter>\n    \
             </uws:parameters>\n    \
             <uws:results>\n      \
             <uws:result id=\"result\" xlink:href=\"https://h/tap/async/k7q2m9x4/results/result\" \
             mime-type=\"text/csv\" size=\"12\"/>\n    \
             </uws:results>\n    \
             <uws:jobInfo>\n      \
             <tapir:rows>3</tapir:rows>\n    \
             </uws:jobInfo>\n  \
             </uws:job>\n\
             </uws:jobs>\n"
        );
        assert_eq!(out, expected);
    }

    #[test]
    fn metadata_only_leaves_out_parameters_results_error_and_info() {
        let params = [Parameter {
            id: "QUERY",
            value: "SELECT 1",
            by_reference: false,
        }];
        let doc = JobDoc {
            phase: Phase::Error,
            parameters: &params,
            error: Some(ErrorSummary {
                error_type: ErrorType::Fatal,
                has_detail: true,
                message: "boom",
            }),
            job_info: &[("rows", "3")],
            ..minimal()
        };
        let mut out = String::new();
        job_search_entry(&doc, Some("n"), true, &mut out);
        assert!(
            out.starts_with("  <uws:job>\n    <uws:jobId>k7q2m9x4</uws:jobId>\n"),
            "{out}"
        );
        assert!(out.contains("\n    <uws:phase>ERROR</uws:phase>\n"), "{out}");
        assert!(
            out.ends_with(
                "\n    <uws:destruction xsi:nil=\"true\"/>\n    <uws:name>n</uws:name>\n  </uws:job>\n"
            ),
            "the name follows destruction, and nothing follows the name: {out}"
        );
        for absent in [
            "parameter",
            "results",
            "errorSummary",
            "jobInfo",
            "tapir",
            "xmlns",
            "version",
        ] {
            assert!(!out.contains(absent), "{absent}: {out}");
        }
        out.clear();
        job_search_entry(&doc, None, false, &mut out);
        assert!(
            out.contains("<uws:errorSummary type=\"fatal\" hasDetail=\"true\">"),
            "{out}"
        );
        assert!(!out.contains("uws:name"), "{out}");
        // The UWS job document never carries the ESA name.
        assert!(!job(&doc).contains("uws:name"));
    }

    #[test]
    fn standalone_parameters_and_results() {
        let mut out = String::new();
        write_parameters(
            &[
                Parameter {
                    id: "REQUEST",
                    value: "doQuery",
                    by_reference: false,
                },
                Parameter {
                    id: "Request",
                    value: "other",
                    by_reference: false,
                },
            ],
            &mut out,
        );
        let expected = format!(
            "{XML_DECL}<uws:parameters {ROOT_NS}>\n  \
             <uws:parameter id=\"request\">doQuery</uws:parameter>\n\
             </uws:parameters>\n"
        );
        assert_eq!(out, expected);

        out.clear();
        write_parameters(&[], &mut out);
        assert_eq!(out, format!("{XML_DECL}<uws:parameters {ROOT_NS}/>\n"));

        out.clear();
        let result = ResultRef {
            id: "result",
            href: "u",
            mime_type: None,
            size: Some(u64::MAX),
        };
        write_results(&[result, ResultRef { href: "v", ..result }], &mut out);
        let expected = format!(
            "{XML_DECL}<uws:results {ROOT_NS}>\n  \
             <uws:result id=\"result\" xlink:href=\"u\" size=\"9223372036854775807\"/>\n\
             </uws:results>\n"
        );
        assert_eq!(out, expected);

        out.clear();
        write_results(&[], &mut out);
        assert_eq!(out, format!("{XML_DECL}<uws:results {ROOT_NS}/>\n"));
    }

    #[test]
    fn plain_names() {
        for ok in ["jobname", "_x", "a-b.c_1", "A"] {
            assert!(is_plain_name(ok), "{ok}");
        }
        for bad in ["", "1a", "-a", ".a", "a b", "a:b", "é", "a>"] {
            assert!(!is_plain_name(bad), "{bad}");
        }
    }
}
