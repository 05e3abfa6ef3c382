//! The ESA TAP+ job search, `GET {base}/jobs/async` (CLIENTS.md §5.2), and the id list of
//! `POST {base}/deletejobs`.
//!
//! ESA's archives add to UWS a search over the jobs with paging and ordering, which astroquery's
//! TapPlus calls from `search_async_jobs` and `load_async_job(name=...)`: `jobid`, `jobname`
//! (TapPlus's `load_async_job` sends it as `name`), `phaseid`, `offset`, `limit`, `order` (a comma
//! list of `COLUMN:ASC|DESC`) and `metadata_only`. This module reads and checks those parameters
//! into a [`JobSearch`]; the server turns it into one database statement. Sort columns are an
//! enum, so nothing a client writes can reach the statement's ORDER BY.

use crate::filter::JobFilter;
use crate::{Phase, UtcTime};

/// A column the search can be ordered by, named as in `order=CREATION_TIME:DESC`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SortColumn {
    /// When the job was created (the default order, newest first).
    CreationTime,
    /// When it started executing; jobs that never started sort last.
    StartTime,
    /// When it finished; jobs still running sort last.
    EndTime,
    /// When it will be destroyed.
    Destruction,
    /// The phase name, alphabetically.
    Phase,
    /// The job id.
    JobId,
    /// The JOBNAME parameter; jobs without a name sort last.
    JobName,
    /// The RUNID parameter; jobs without one sort last.
    RunId,
    /// The granted executionDuration.
    ExecutionDuration,
}

impl SortColumn {
    /// Every column, in the order error messages list them.
    pub const ALL: [SortColumn; 9] = [
        SortColumn::CreationTime,
        SortColumn::StartTime,
        SortColumn::EndTime,
        SortColumn::Destruction,
        SortColumn::Phase,
        SortColumn::JobId,
        SortColumn::JobName,
        SortColumn::RunId,
        SortColumn::ExecutionDuration,
    ];

    /// The upper-case name clients write in `order=`.
    pub fn as_str(self) -> &'static str {
        match self {
            SortColumn::CreationTime => "CREATION_TIME",
            SortColumn::StartTime => "START_TIME",
            SortColumn::EndTime => "END_TIME",
            SortColumn::Destruction => "DESTRUCTION",
            SortColumn::Phase => "PHASE",
            SortColumn::JobId => "JOB_ID",
            SortColumn::JobName => "JOB_NAME",
            SortColumn::RunId => "RUN_ID",
            SortColumn::ExecutionDuration => "EXECUTION_DURATION",
        }
    }

    /// Reads a column name in any case, ignoring surrounding whitespace.
    pub fn parse(s: &str) -> Option<SortColumn> {
        let s = s.trim();
        SortColumn::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s))
    }
}

/// The direction of one sort key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Smallest (oldest, alphabetically first) first; the default when a key names none.
    Asc,
    /// Largest (newest) first.
    Desc,
}

/// One `COLUMN:DIRECTION` of `order=`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SortKey {
    /// What to sort by.
    pub column: SortColumn,
    /// Which way.
    pub direction: Direction,
}

/// What `jobname` asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum NameFilter {
    /// Jobs whose name is exactly this (case matters).
    Exact(String),
    /// Jobs whose name consists of these literal pieces in order, with any text (maybe none)
    /// between them, before the first and after the last: `jobname=survey*` gives
    /// `["survey", ""]`. Written with `*` or SQL's `%`; every other character is literal.
    Wildcard(Vec<String>),
}

impl NameFilter {
    /// A name filter from a `jobname` value: a wildcard when it holds `*` or `%`.
    pub fn parse(value: &str) -> NameFilter {
        if value.contains(['*', '%']) {
            NameFilter::Wildcard(value.split(['*', '%']).map(str::to_owned).collect())
        } else {
            NameFilter::Exact(value.to_owned())
        }
    }

    /// Whether a job named `name` passes. The server asks the database instead; this is the
    /// meaning its statement must have, stated where it can be tested.
    pub fn accepts(&self, name: &str) -> bool {
        match self {
            NameFilter::Exact(n) => n == name,
            NameFilter::Wildcard(pieces) => {
                let (Some(first), Some(last)) = (pieces.first(), pieces.last()) else {
                    return true;
                };
                let Some(mut rest) = name.strip_prefix(first.as_str()) else {
                    return false;
                };
                if pieces.len() == 1 {
                    return rest.is_empty();
                }
                for middle in &pieces[1..pieces.len() - 1] {
                    match rest.find(middle.as_str()) {
                        Some(at) => rest = &rest[at + middle.len()..],
                        None => return false,
                    }
                }
                rest.ends_with(last.as_str())
            }
        }
    }
}

/// A search parameter with a value that cannot be used; the server answers 400 with the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SearchError {
    /// `phaseid` is not a UWS phase.
    #[error(
        "invalid phaseid \"{value}\": expected one of PENDING, QUEUED, EXECUTING, COMPLETED, \
         ERROR, ABORTED, UNKNOWN, HELD, SUSPENDED, ARCHIVED"
    )]
    Phase {
        /// The value given (shortened when long).
        value: String,
    },
    /// `offset` or `limit` is not a whole number.
    #[error("invalid {parameter} \"{value}\": expected a whole number of jobs (0 or more)")]
    Count {
        /// `offset` or `limit`.
        parameter: &'static str,
        /// The value given (shortened when long).
        value: String,
    },
    /// `metadata_only` is neither true nor false.
    #[error("invalid metadata_only \"{value}\": expected true or false")]
    Flag {
        /// The value given (shortened when long).
        value: String,
    },
    /// An `order` key names a column the search cannot sort by.
    #[error(
        "invalid order \"{value}\": the jobs can be ordered by CREATION_TIME, START_TIME, \
         END_TIME, DESTRUCTION, PHASE, JOB_ID, JOB_NAME, RUN_ID or EXECUTION_DURATION, each \
         followed by :ASC or :DESC"
    )]
    OrderColumn {
        /// The key given (shortened when long).
        value: String,
    },
    /// An `order` key has a direction other than ASC or DESC.
    #[error("invalid order \"{value}\": the direction after the column is ASC or DESC")]
    OrderDirection {
        /// The key given (shortened when long).
        value: String,
    },
    /// A single-valued parameter was given twice with different values (REQ-04): choosing
    /// one silently could show or hide the wrong jobs.
    #[error("{parameter} was given more than once with different values")]
    Repeated {
        /// The parameter, as the client named it.
        parameter: String,
    },
    /// A time filter that is neither an ISO-8601 instant nor a count of milliseconds.
    #[error(
        "invalid {parameter} \"{value}\": expected an instant as YYYY-MM-DD['T'hh:mm[:ss[.fff]]][Z] \
         (UTC) or as milliseconds since 1970-01-01"
    )]
    Time {
        /// `start_time_init`, `start_time_limit`, `end_time_init` or `end_time_limit`.
        parameter: &'static str,
        /// The value given (shortened when long).
        value: String,
    },
}

/// An inclusive range of instants; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TimeRange {
    /// Not before this (`*_time_init`).
    pub from: Option<UtcTime>,
    /// Not after this (`*_time_limit`).
    pub to: Option<UtcTime>,
}

impl TimeRange {
    /// Whether any end is set (then a job without that instant does not pass).
    pub fn is_set(&self) -> bool {
        self.from.is_some() || self.to.is_some()
    }

    /// Whether an instant passes: the meaning the server's statement must have.
    pub fn accepts(&self, at: Option<UtcTime>) -> bool {
        match at {
            None => !self.is_set(),
            Some(t) => self.from.is_none_or(|f| t >= f) && self.to.is_none_or(|l| t <= l),
        }
    }
}

/// One job search. The default lists every job that is not ARCHIVED, newest first, with
/// parameters and results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobSearch {
    /// Only the job with this id (`jobid`).
    pub job_id: Option<String>,
    /// Only jobs with this name (`jobname` or `name`).
    pub name: Option<NameFilter>,
    /// Only jobs in this phase (`phaseid`); without it, every phase but ARCHIVED.
    pub phase: Option<Phase>,
    /// Only jobs whose QUERY contains this text, without regard to case (`query`).
    pub query: Option<String>,
    /// Only jobs that started within this range (`start_time_init`, `start_time_limit`).
    pub started: TimeRange,
    /// Only jobs that ended within this range (`end_time_init`, `end_time_limit`).
    pub ended: TimeRange,
    /// How many of the ordered jobs to skip (`offset`, 0 by default).
    pub offset: u64,
    /// How many jobs to answer at most (`limit`, no limit by default).
    pub limit: Option<u64>,
    /// The order, never empty (`order`, CREATION_TIME:DESC by default). Each column appears
    /// once; the server breaks remaining ties by job id, so pages do not overlap.
    pub order: Vec<SortKey>,
    /// Whether to leave each job's parameters, results and error out (`metadata_only`).
    pub metadata_only: bool,
}

impl Default for JobSearch {
    fn default() -> JobSearch {
        JobSearch {
            job_id: None,
            name: None,
            phase: None,
            query: None,
            started: TimeRange::default(),
            ended: TimeRange::default(),
            offset: 0,
            limit: None,
            order: vec![SortKey {
                column: SortColumn::CreationTime,
                direction: Direction::Desc,
            }],
            metadata_only: false,
        }
    }
}

/// The canonical name of a search parameter given as `name` (any case), or None for names
/// the search ignores (REQ-03: `session`, `list`, ...).
fn canonical(name: &str) -> Option<&'static str> {
    const KNOWN: [&str; 12] = [
        "jobid",
        "jobname",
        "phaseid",
        "query",
        "start_time_init",
        "start_time_limit",
        "end_time_init",
        "end_time_limit",
        "offset",
        "limit",
        "order",
        "metadata_only",
    ];
    if name.eq_ignore_ascii_case("name") {
        return Some("jobname");
    }
    KNOWN.into_iter().find(|k| k.eq_ignore_ascii_case(name))
}

impl JobSearch {
    /// Reads the search from the request parameters `(name, value)`, names compared without
    /// regard to case (REQ-01). A parameter with an empty value is no filter (TapPlus and HTML
    /// forms send `phaseid=`); the same parameter again with the same value is harmless, with
    /// another it is an error. Names the search does not know are ignored.
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<JobSearch, SearchError> {
        let mut search = JobSearch::default();
        let mut seen: Vec<(&'static str, &'a str)> = Vec::new();
        for (name, value) in params {
            let Some(key) = canonical(name) else { continue };
            // Values are trimmed except the name (a job's name is matched exactly) and the
            // query text (searched for as given).
            let value = if matches!(key, "jobname" | "query") {
                value
            } else {
                value.trim()
            };
            if value.is_empty() {
                continue;
            }
            if let Some((_, old)) = seen.iter().find(|(k, _)| *k == key) {
                if *old == value {
                    continue;
                }
                return Err(SearchError::Repeated {
                    parameter: crate::excerpt(name),
                });
            }
            seen.push((key, value));
            search.set(key, value)?;
        }
        Ok(search)
    }

    /// Apply one parameter, given by its canonical name, with a non-empty value.
    fn set(&mut self, key: &'static str, value: &str) -> Result<(), SearchError> {
        match key {
            "jobid" => self.job_id = Some(value.to_owned()),
            "jobname" => self.name = Some(NameFilter::parse(value)),
            "phaseid" => {
                let phase = Phase::parse(value).ok_or_else(|| SearchError::Phase {
                    value: crate::excerpt(value),
                })?;
                self.phase = Some(phase);
            }
            "query" => self.query = Some(value.to_owned()),
            "start_time_init" => self.started.from = Some(instant(key, value)?),
            "start_time_limit" => self.started.to = Some(instant(key, value)?),
            "end_time_init" => self.ended.from = Some(instant(key, value)?),
            "end_time_limit" => self.ended.to = Some(instant(key, value)?),
            "offset" => self.offset = count(key, value)?,
            "limit" => self.limit = Some(count(key, value)?),
            "order" => self.order = parse_order(value)?,
            "metadata_only" => self.metadata_only = flag(value)?,
            _ => {}
        }
        Ok(())
    }

    /// The phases to list, for the database statement: the one asked for, or every phase but
    /// ARCHIVED (the rule of the UWS job list, so both lists show the same jobs).
    pub fn listed_phases(&self) -> Vec<Phase> {
        JobFilter {
            phases: self.phase.into_iter().collect(),
            ..JobFilter::default()
        }
        .listed_phases()
    }
}

/// An instant of a time filter: ISO-8601 in UTC as UWS writes them, or milliseconds since
/// 1970 (the unit of ESA's Java services and of their job ids).
fn instant(parameter: &'static str, value: &str) -> Result<UtcTime, SearchError> {
    if let Ok(ms) = value.parse::<i64>() {
        return Ok(UtcTime::from_unix_millis(ms));
    }
    UtcTime::parse_iso(value).map_err(|_| SearchError::Time {
        parameter,
        value: crate::excerpt(value),
    })
}

fn count(parameter: &'static str, value: &str) -> Result<u64, SearchError> {
    value.parse::<u64>().map_err(|_| SearchError::Count {
        parameter,
        value: crate::excerpt(value),
    })
}

/// `true` or `false` in any case: TapPlus sends Python's `True`.
fn flag(value: &str) -> Result<bool, SearchError> {
    if value.eq_ignore_ascii_case("true") {
        Ok(true)
    } else if value.eq_ignore_ascii_case("false") {
        Ok(false)
    } else {
        Err(SearchError::Flag {
            value: crate::excerpt(value),
        })
    }
}

/// `COLUMN[:ASC|:DESC][,...]`. Empty items are skipped (a trailing comma); a column named again
/// is dropped, because its first key already decides every tie it could break. All items
/// empty gives the default order.
fn parse_order(value: &str) -> Result<Vec<SortKey>, SearchError> {
    let mut keys: Vec<SortKey> = Vec::new();
    for item in value.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let (column, direction) = match item.split_once(':') {
            Some((c, d)) => (c, Some(d.trim())),
            None => (item, None),
        };
        let column = SortColumn::parse(column).ok_or_else(|| SearchError::OrderColumn {
            value: crate::excerpt(item),
        })?;
        let direction = match direction {
            None => Direction::Asc,
            Some(d) if d.eq_ignore_ascii_case("ASC") => Direction::Asc,
            Some(d) if d.eq_ignore_ascii_case("DESC") => Direction::Desc,
            Some(_) => {
                return Err(SearchError::OrderDirection {
                    value: crate::excerpt(item),
                })
            }
        };
        if !keys.iter().any(|k| k.column == column) {
            keys.push(SortKey { column, direction });
        }
    }
    if keys.is_empty() {
        return Ok(JobSearch::default().order);
    }
    Ok(keys)
}

/// The job ids of `JOB_IDS` values (`a,b,c`, possibly several values): split at commas,
/// trimmed, empty items dropped, each id once, in the order given.
pub fn job_id_list<'a>(values: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
    let mut ids: Vec<&str> = Vec::new();
    for id in values.into_iter().flat_map(|v| v.split(',')).map(str::trim) {
        if !id.is_empty() && !ids.contains(&id) {
            ids.push(id);
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    fn search(params: &[(&str, &str)]) -> Result<JobSearch, SearchError> {
        JobSearch::from_params(params.iter().copied())
    }

    fn key(column: SortColumn, direction: Direction) -> SortKey {
        SortKey { column, direction }
    }

    #[test]
    fn defaults() {
        let s = search(&[]).unwrap();
        assert_eq!(s, JobSearch::default());
        assert_eq!(s.order, [key(SortColumn::CreationTime, Direction::Desc)]);
        assert_eq!((s.offset, s.limit, s.metadata_only), (0, None, false));
        assert!(!s.listed_phases().contains(&Phase::Archived));
        assert_eq!(s.listed_phases().len(), 9);
    }

    #[test]
    fn what_tapplus_sends() {
        // load_async_job(name='survey 1'), and search_async_jobs with a Filter.
        let s = search(&[("name", "survey 1"), ("metadata_only", "True")]).unwrap();
        assert_eq!(s.name, Some(NameFilter::Exact("survey 1".into())));
        assert!(s.metadata_only);
        let s = search(&[
            ("jobname", "a"),
            ("phaseid", "completed"),
            ("metadata_only", "False"),
            ("offset", "20"),
            ("limit", " 10 "),
            ("order", "START_TIME:asc,creation_time:DESC"),
            ("session", "ignored"),
        ])
        .unwrap();
        assert_eq!(s.phase, Some(Phase::Completed));
        assert_eq!(s.listed_phases(), [Phase::Completed]);
        assert_eq!((s.offset, s.limit, s.metadata_only), (20, Some(10), false));
        assert_eq!(
            s.order,
            [
                key(SortColumn::StartTime, Direction::Asc),
                key(SortColumn::CreationTime, Direction::Desc)
            ]
        );
        let s = search(&[("JOBID", "abc"), ("PHASEID", "ARCHIVED")]).unwrap();
        assert_eq!(s.job_id.as_deref(), Some("abc"));
        assert_eq!(s.listed_phases(), [Phase::Archived]);
    }

    #[test]
    fn empty_values_are_no_filter() {
        let s = search(&[("jobname", ""), ("phaseid", " "), ("limit", ""), ("order", ",")]).unwrap();
        assert_eq!(s, JobSearch::default());
    }

    #[test]
    fn order_keys() {
        let order = |v: &str| search(&[("order", v)]).map(|s| s.order);
        assert_eq!(
            order("JOB_NAME").unwrap(),
            [key(SortColumn::JobName, Direction::Asc)]
        );
        assert_eq!(
            order(" phase : desc , JOB_ID:ASC, PHASE:ASC,").unwrap(),
            [
                key(SortColumn::Phase, Direction::Desc),
                key(SortColumn::JobId, Direction::Asc)
            ]
        );
        let unknown = order("NOPE:ASC").unwrap_err().to_string();
        for c in SortColumn::ALL {
            assert_eq!(SortColumn::parse(&c.as_str().to_lowercase()), Some(c));
            assert!(unknown.contains(c.as_str()), "the message names {c:?}: {unknown}");
        }
        let e = order("CREATION_TIME:DESC,OWNER:ASC").unwrap_err();
        assert_eq!(
            e,
            SearchError::OrderColumn {
                value: "OWNER:ASC".into()
            }
        );
        assert!(e
            .to_string()
            .starts_with("invalid order \"OWNER:ASC\": the jobs can be ordered by"));
        let e = order("CREATION_TIME:UP").unwrap_err();
        assert_eq!(
            e.to_string(),
            "invalid order \"CREATION_TIME:UP\": the direction after the column is ASC or DESC"
        );
        // Nothing resembling SQL survives.
        assert!(order("creation_time; DROP TABLE tapir.jobs").is_err());
    }

    #[test]
    fn bad_values() {
        assert_eq!(
            search(&[("phaseid", "DONE")]).unwrap_err(),
            SearchError::Phase { value: "DONE".into() }
        );
        assert_eq!(
            search(&[("offset", "-1")]).unwrap_err().to_string(),
            "invalid offset \"-1\": expected a whole number of jobs (0 or more)"
        );
        assert_eq!(
            search(&[("limit", "ten")]).unwrap_err(),
            SearchError::Count {
                parameter: "limit",
                value: "ten".into()
            }
        );
        assert_eq!(
            search(&[("metadata_only", "yes")]).unwrap_err().to_string(),
            "invalid metadata_only \"yes\": expected true or false"
        );
        let long = "x".repeat(500);
        let e = search(&[("phaseid", &long)]).unwrap_err().to_string();
        assert!(e.len() < 300, "{e}");
    }

    #[test]
    fn repeats() {
        assert!(search(&[("limit", "5"), ("LIMIT", "5")]).is_ok());
        assert_eq!(
            search(&[("jobname", "a"), ("name", "b")])
                .unwrap_err()
                .to_string(),
            "name was given more than once with different values"
        );
    }

    #[test]
    fn query_and_time_filters() {
        let s = search(&[
            ("QUERY", " Gaia_Source "),
            ("start_time_init", "2024-01-01"),
            ("start_time_limit", "2024-01-31T12:00:00Z"),
            ("end_time_init", "1704067200000"),
            ("end_time_limit", ""),
        ])
        .unwrap();
        assert_eq!(
            s.query.as_deref(),
            Some(" Gaia_Source "),
            "the text is searched for as given"
        );
        let jan1 = UtcTime::parse_iso("2024-01-01T00:00:00Z").unwrap();
        assert_eq!(s.started.from, Some(jan1));
        assert_eq!(s.ended.from, Some(jan1), "milliseconds since 1970");
        assert_eq!(s.ended.to, None, "an empty value is no filter");
        let jan15 = UtcTime::parse_iso("2024-01-15").unwrap();
        assert!(s.started.accepts(Some(jan15)));
        assert!(s.started.accepts(Some(jan1)), "inclusive");
        assert!(!s.started.accepts(Some(UtcTime::parse_iso("2024-02-01").unwrap())));
        assert!(
            !s.started.accepts(None),
            "a job that never started is not in a start range"
        );
        assert!(TimeRange::default().accepts(None));
        let e = search(&[("end_time_limit", "yesterday")]).unwrap_err();
        assert_eq!(
            e,
            SearchError::Time {
                parameter: "end_time_limit",
                value: "yesterday".into()
            }
        );
        assert!(e.to_string().contains("milliseconds since 1970"), "{e}");
    }

    #[test]
    fn names_exact_and_wildcard() {
        let exact = NameFilter::parse("run_1");
        assert_eq!(exact, NameFilter::Exact("run_1".into()));
        assert!(exact.accepts("run_1"));
        assert!(!exact.accepts("runX1") && !exact.accepts("RUN_1") && !exact.accepts("run_10"));
        let w = NameFilter::parse("run*");
        assert_eq!(w, NameFilter::Wildcard(vec!["run".into(), String::new()]));
        assert!(w.accepts("run") && w.accepts("run_10") && !w.accepts("a run"));
        let w = NameFilter::parse("%a_b*c");
        assert_eq!(
            w,
            NameFilter::Wildcard(vec![String::new(), "a_b".into(), "c".into()])
        );
        assert!(w.accepts("a_bc") && w.accepts("xxa_b--c") && !w.accepts("axbc") && !w.accepts("a_bcd"));
        let w = NameFilter::parse("*");
        assert!(w.accepts("") && w.accepts("anything"));
        let w = NameFilter::parse("a*a");
        assert!(w.accepts("aa") && w.accepts("aba") && !w.accepts("a"));
    }

    #[test]
    fn job_ids_of_deletejobs() {
        assert_eq!(job_id_list(["a,b,c"]), ["a", "b", "c"]);
        assert_eq!(job_id_list([" a , ,b,a", "c,b"]), ["a", "b", "c"]);
        assert!(job_id_list([""]).is_empty());
        assert!(job_id_list([",,"]).is_empty());
    }
}
