//! End to end for the ESA TAP+ job calls (CLIENTS.md §5.2): the job search
//! `GET {base}/jobs/async` with its filters, order and paging, and `POST {base}/deletejobs`,
//! spoken to over real HTTP on one server. Skipped like e2e.rs when PostgreSQL or curl are
//! missing (a failure in CI).

mod common;

use common::{curl, get, job_ended, post, start_with, Reply, Server};

#[test]
fn esa_job_search_and_deletion() {
    let Some(s) = start_with(&[], None) else { return };
    let jobs = create_jobs(&s);
    names_are_shown(&s, &jobs);
    filters(&s, &jobs);
    order_and_pages(&s, &jobs);
    refused_searches(&s);
    names_set_later(&s);
    deletion(&s, &jobs);
}

/// The jobs of the suite, oldest first.
struct Jobs {
    /// JOBNAME=esa-a, JOBDESCRIPTION, RUNID; PENDING.
    a1: String,
    /// JOBNAME=esa-b; PENDING.
    b: String,
    /// JOBNAME=esa-a, run to COMPLETED.
    a2: String,
    /// No name; PENDING.
    c: String,
}

fn create_jobs(s: &Server) -> Jobs {
    let query = ("QUERY", "SELECT TOP 2 id FROM bench.objects ORDER BY id");
    let a1 = create(
        s,
        &[
            query,
            ("JOBNAME", "esa-a"),
            ("JOBDESCRIPTION", "the first <a>"),
            ("RUNID", "run-1"),
        ],
    );
    let b = create(s, &[query, ("jobname", "esa-b")]);
    let a2 = create(s, &[query, ("JOBNAME", "esa-a"), ("PHASE", "RUN")]);
    let c = create(s, &[query]);
    let d = job_ended(s, &format!("/async/{a2}"));
    assert!(
        d.contains("<uws:phase>COMPLETED</uws:phase>"),
        "the job did not complete: {d}"
    );
    Jobs { a1, b, a2, c }
}

/// JOBNAME and JOBDESCRIPTION are kept and shown: as parameters in the UWS document (without
/// the ESA-only `uws:name`, which taplint would reject) and as `uws:name` in the search.
fn names_are_shown(s: &Server, j: &Jobs) {
    let d = get(s, &format!("/async/{}", j.a1)).text();
    assert!(
        d.contains("<uws:parameter id=\"jobname\">esa-a</uws:parameter>"),
        "{d}"
    );
    assert!(
        d.contains("<uws:parameter id=\"jobdescription\">the first &lt;a&gt;</uws:parameter>"),
        "{d}"
    );
    assert!(!d.contains("uws:name"), "no uws:name in UWS documents: {d}");

    let r = get(s, "/jobs/async");
    assert_eq!(r.status, 200, "{}", r.text());
    assert_type(&r, "application/xml");
    let list = r.text();
    assert!(
        list.contains("<uws:jobs xmlns:uws=\"http://www.ivoa.net/xml/UWS/v1.0\""),
        "{list}"
    );
    assert_eq!(
        ids(&list),
        [&j.c, &j.a2, &j.b, &j.a1],
        "every job, newest first: {list}"
    );
    let a1 = job_in(&list, &j.a1);
    assert!(a1.contains("<uws:name>esa-a</uws:name>"), "{a1}");
    assert!(a1.contains("<uws:runId>run-1</uws:runId>"), "{a1}");
    assert!(a1.contains("<uws:phase>PENDING</uws:phase>"), "{a1}");
    assert!(
        a1.contains("<uws:parameter id=\"jobdescription\">the first &lt;a&gt;</uws:parameter>"),
        "{a1}"
    );
    let a2 = job_in(&list, &j.a2);
    assert!(a2.contains("<uws:phase>COMPLETED</uws:phase>"), "{a2}");
    assert!(
        a2.contains(&format!(
            "xlink:href=\"{}/async/{}/results/result\"",
            s.base, j.a2
        )),
        "{a2}"
    );
    assert!(!job_in(&list, &j.c).contains("uws:name"), "{list}");

    // metadata_only, as TapPlus sends it: the same jobs, without parameters and results.
    let meta = get(s, "/jobs/async?metadata_only=True").text();
    assert_eq!(ids(&meta), ids(&list), "{meta}");
    assert!(meta.contains("<uws:name>esa-b</uws:name>"), "{meta}");
    for absent in ["uws:parameter", "uws:result"] {
        assert!(!meta.contains(absent), "{absent}: {meta}");
    }

    // Tapir keeps no sync job records: an empty list, not an error.
    let sync = get(s, "/jobs/sync?order=CREATION_TIME:DESC");
    assert_eq!(sync.status, 200);
    assert!(
        sync.text().contains("<uws:jobs ") && !sync.text().contains("<uws:job>"),
        "{}",
        sync.text()
    );
    let other = get(s, "/jobs/archive");
    assert_eq!(other.status, 404);
    assert!(other.text().contains("/jobs/async"), "{}", other.text());
}

fn filters(s: &Server, j: &Jobs) {
    let found = |q: &str| search(s, q);
    assert_eq!(found("jobname=esa-a"), list(&[&j.a2, &j.a1]));
    // load_async_job(name=...) sends `name`.
    assert_eq!(found("name=esa-a&metadata_only=True"), list(&[&j.a2, &j.a1]));
    assert_eq!(found("jobname=esa-b"), list(&[&j.b]));
    assert!(found("jobname=esa").is_empty(), "names match exactly");
    assert!(found("jobname=ESA-A").is_empty(), "case matters");
    // Wildcards: `*` or `%`; `_` is literal, not LIKE's single character.
    assert_eq!(found("jobname=esa-*"), list(&[&j.a2, &j.b, &j.a1]));
    assert_eq!(found("jobname=%25-b"), list(&[&j.b]));
    assert_eq!(found("jobname=e*a*a"), list(&[&j.a2, &j.a1]));
    assert!(found("jobname=esa_*").is_empty(), "_ is literal");
    assert_eq!(found("phaseid=COMPLETED"), list(&[&j.a2]));
    assert_eq!(found("phaseid=pending&jobname=esa-a"), list(&[&j.a1]));
    assert!(found("phaseid=ERROR").is_empty());
    assert_eq!(found(&format!("jobid={}", j.b)), list(&[&j.b]));
    // Empty values are no filter (TapPlus may send `phaseid=`).
    assert_eq!(found("phaseid=&jobname=").len(), 4);
    // Unknown parameters are ignored (REQ-03).
    assert_eq!(found("session=123&list=async").len(), 4);
}

fn order_and_pages(s: &Server, j: &Jobs) {
    let found = |q: &str| search(s, q);
    assert_eq!(
        found("order=CREATION_TIME:ASC"),
        list(&[&j.a1, &j.b, &j.a2, &j.c])
    );
    assert_eq!(
        found("order=creation_time:desc"),
        list(&[&j.c, &j.a2, &j.b, &j.a1])
    );
    // The seed's example request.
    assert_eq!(found("offset=0&limit=20&order=CREATION_TIME:DESC").len(), 4);
    assert_eq!(
        found("order=CREATION_TIME:ASC&limit=2&offset=1"),
        list(&[&j.b, &j.a2])
    );
    assert_eq!(found("order=CREATION_TIME:ASC&limit=2&offset=3"), list(&[&j.c]));
    assert!(found("offset=4").is_empty());
    assert!(found("limit=0").is_empty());
    // Jobs without the value sort last either way; later keys break ties.
    assert_eq!(
        found("order=JOB_NAME:ASC,CREATION_TIME:DESC"),
        list(&[&j.a2, &j.a1, &j.b, &j.c])
    );
    assert_eq!(
        found("order=JOB_NAME:DESC,CREATION_TIME:ASC"),
        list(&[&j.b, &j.a1, &j.a2, &j.c])
    );
    assert_eq!(&found("order=START_TIME:DESC")[0], &j.a2);
    assert_eq!(&found("order=START_TIME:ASC")[0], &j.a2);
    assert_eq!(&found("order=RUN_ID:ASC")[0], &j.a1);
    assert_eq!(&found("order=PHASE:ASC")[0], &j.a2, "COMPLETED < PENDING");
    let mut by_id = list(&[&j.a1, &j.b, &j.a2, &j.c]);
    by_id.sort();
    assert_eq!(found("order=JOB_ID:ASC"), by_id);
    by_id.reverse();
    assert_eq!(found("order=JOB_ID:DESC"), by_id);
    // Paging through a sort with ties: every job exactly once.
    let mut paged = Vec::new();
    for offset in 0..4 {
        paged.extend(found(&format!("order=PHASE:ASC&limit=1&offset={offset}")));
    }
    assert_eq!(paged, found("order=PHASE:ASC"));
}

fn refused_searches(s: &Server) {
    for (q, says) in [
        ("order=OWNER:ASC", "CREATION_TIME, START_TIME, END_TIME"),
        ("order=CREATION_TIME:UP", "ASC or DESC"),
        ("order=creation_time;DROP%20TABLE%20tapir.jobs", "invalid order"),
        ("limit=-1", "invalid limit"),
        ("offset=x", "invalid offset"),
        ("phaseid=DONE", "invalid phaseid"),
        ("metadata_only=maybe", "metadata_only"),
        ("start_time_init=yesterday", "milliseconds since 1970"),
        ("jobname=a&name=b", "more than once"),
    ] {
        let r = get(s, &format!("/jobs/async?{q}"));
        assert_eq!(r.status, 400, "{q}: {}", r.text());
        assert!(r.text().contains(says), "{q}: {}", r.text());
        assert!(
            r.text().contains("<INFO name=\"QUERY_STATUS\" value=\"ERROR\">"),
            "{q}"
        );
    }
    // The store is untouched by the attempt above.
    assert_eq!(search(s, "").len(), 4);
}

/// A name given later through `/parameters` is found too (the column follows the parameters).
fn names_set_later(s: &Server) {
    let d = create(s, &[("QUERY", "SELECT 1")]);
    assert!(search(s, "jobname=late").is_empty());
    let r = post(s, &format!("/async/{d}/parameters"), &[("JOBNAME", "late")]);
    assert_eq!(r.status, 303, "{}", r.text());
    assert_eq!(search(s, "jobname=late"), list(&[&d]));
    let r = curl(s, &["-X", "DELETE", &format!("{}/async/{d}", s.base)]);
    assert_eq!(r.status, 303);
}

fn deletion(s: &Server, j: &Jobs) {
    let result = s.dir.join("data").join("results").join(&j.a2);
    assert!(result.exists(), "{} has its result file", j.a2);

    // As TapPlus's remove_jobs sends it: a raw body with raw commas. Unknown ids, of our shape
    // or not, are ignored.
    let unknown = "a".repeat(26);
    let body = format!("JOB_IDS={},{},nosuchjob,{unknown}", j.a1, j.b);
    let r = raw_post(s, "/deletejobs", &body);
    assert_eq!(r.status, 200, "{}", r.text());
    assert_type(&r, "text/plain");
    let text = r.text();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("deleted 2 of 4 jobs"), "{text}");
    let mut gone: Vec<&str> = lines.collect();
    gone.sort();
    let mut expected = [j.a1.as_str(), j.b.as_str()];
    expected.sort();
    assert_eq!(gone, expected, "{text}");
    for id in [&j.a1, &j.b] {
        assert_eq!(get(s, &format!("/async/{id}")).status, 404, "{id} is gone");
    }
    assert_eq!(search(s, ""), list(&[&j.c, &j.a2]), "the others stay");

    // In the query string, commas encoded; the result file goes with its job.
    let r = curl(
        s,
        &[
            "-X",
            "POST",
            &format!("{}/deletejobs?JOB_IDS={}%2C{}", s.base, j.a2, j.c),
        ],
    );
    assert_eq!(r.status, 200, "{}", r.text());
    assert!(r.text().starts_with("deleted 2 of 2 jobs\n"), "{}", r.text());
    assert!(!result.exists(), "the result file of {} is removed", j.a2);
    assert!(search(s, "").is_empty());

    // Again: nothing left to delete, still 200 (removing twice is harmless).
    let r = raw_post(s, "/deletejobs", &format!("JOB_IDS={}", j.a2));
    assert_eq!((r.status, r.text()), (200, "deleted 0 of 1 jobs\n".to_string()));
    let r = raw_post(s, "/deletejobs", "JOB_IDS=");
    assert_eq!((r.status, r.text()), (200, "deleted 0 of 0 jobs\n".to_string()));
    let r = raw_post(s, "/deletejobs", "IDS=x");
    assert_eq!(r.status, 400);
    assert!(r.text().contains("JOB_IDS is missing"), "{}", r.text());
    assert_eq!(get(s, "/deletejobs").status, 405, "deletion is a POST");
}

// ----- helpers ---------------------------------------------------------------------------

/// POST /async with these parameters; the new job's id (from the 303's Location).
fn create(s: &Server, params: &[(&str, &str)]) -> String {
    let r = post(s, "/async", params);
    assert_eq!(r.status, 303, "{}", r.text());
    let location = r.header("location").expect("a Location");
    let id = location.rsplit('/').next().unwrap_or_default().to_string();
    assert_eq!(location, format!("{}/async/{id}", s.base));
    id
}

/// POST with a body sent byte for byte (urlencoded Content-Type).
fn raw_post(s: &Server, path: &str, body: &str) -> Reply {
    curl(s, &["--data-binary", body, &format!("{}{path}", s.base)])
}

/// Owned ids, to compare with [`search`]'s.
fn list(ids: &[&String]) -> Vec<String> {
    ids.iter().map(|id| id.to_string()).collect()
}

/// The reply's Content-Type starts with `mime`.
fn assert_type(r: &Reply, mime: &str) {
    let found = r.header("content-type").unwrap_or_default();
    assert!(found.starts_with(mime), "{mime} expected: {}", r.headers);
}

/// The ids of a search, in its order.
fn search(s: &Server, query: &str) -> Vec<String> {
    let r = get(s, &format!("/jobs/async?{query}"));
    assert_eq!(r.status, 200, "{query}: {}", r.text());
    ids(&r.text()).into_iter().map(str::to_string).collect()
}

/// The job ids of a search document, in document order.
fn ids(doc: &str) -> Vec<&str> {
    doc.split("<uws:jobId>")
        .skip(1)
        .filter_map(|rest| rest.split("</uws:jobId>").next())
        .collect()
}

/// The `<uws:job>` element of the search document that holds job `id`.
fn job_in<'a>(doc: &'a str, id: &str) -> &'a str {
    let at = doc
        .find(&format!("<uws:jobId>{id}</uws:jobId>"))
        .unwrap_or_else(|| panic!("job {id} is not in {doc}"));
    // The job element may carry attributes (`xmlns:tapir` when it has jobInfo).
    let start = doc[..at]
        .rfind("<uws:job>")
        .into_iter()
        .chain(doc[..at].rfind("<uws:job "))
        .max()
        .expect("a job element");
    let end = doc[at..].find("</uws:job>").map_or(doc.len(), |e| at + e);
    &doc[start..end]
}

#[test]
fn helpers_read_search_documents() {
    let doc = "<uws:jobs>\n  <uws:job>\n    <uws:jobId>x</uws:jobId><uws:name>n</uws:name>\n  </uws:job>\n  \
               <uws:job><uws:jobId>y</uws:jobId></uws:job>\n</uws:jobs>";
    assert_eq!(ids(doc), ["x", "y"]);
    assert!(job_in(doc, "x").contains("<uws:name>n</uws:name>"));
    assert!(!job_in(doc, "y").contains("uws:name"));
}
