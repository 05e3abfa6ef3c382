//! The UWS 1.1 job domain of Tapir's `/async` endpoint, as plain functions and data.
//!
//! TAP runs asynchronous queries as UWS jobs (STANDARDS.md §5): a job has a phase that moves
//! along a fixed table, a handful of instants written in one exact ISO form, limits the server
//! grants, and XML documents whose element order, prefixes and nil forms the clients (taplint,
//! pyvo, astroquery's TapPlus) check closely. All of that is decided here, apart from the server:
//! this crate does no I/O, runs no async code and knows no database, so every rule is a function
//! that unit tests can call exhaustively, and the HTTP handlers only glue them together.
//!
//! * [`phase`]: the ten phases, the legal transitions by client and server, and what
//!   `PHASE=RUN|ABORT` does ([`client_action`]).
//! * [`time`]: [`UtcTime`], milliseconds since the epoch, written as
//!   `YYYY-MM-DDThh:mm:ss.sssZ` and read from every DALI timestamp form.
//! * [`doc`]: the `uws:job`, `uws:jobs`, `uws:parameters` and `uws:results` documents, and the
//!   jobs of ESA's job search.
//! * [`filter`]: the `PHASE`, `AFTER` and `LAST` filters of the job list.
//! * [`search`]: ESA TAP+'s job search (`jobname`, `phaseid`, `offset`, `limit`, `order`) and
//!   the `JOB_IDS` list of its `deletejobs`.
//! * [`limits`]: the granted executionDuration and destruction time.
//! * [`id`]: unguessable, URL-safe job ids.
//!
//! ```
//! use uws::{client_action, Action, Phase, UtcTime};
//!
//! assert_eq!(client_action(Phase::Pending, Action::Run), Ok(Some(Phase::Queued)));
//! let t = UtcTime::parse_iso("2024-03-05 10:05:58.12").unwrap();
//! assert_eq!(t.to_iso(), "2024-03-05T10:05:58.120Z");
//! ```
#![warn(missing_docs)]

pub mod doc;
pub mod filter;
pub mod id;
pub mod limits;
pub mod phase;
pub mod search;
pub mod time;

pub use doc::{
    job_list_end, job_list_entry, job_list_start, job_search_entry, write_job, write_job_list,
    write_parameters, write_results, ErrorSummary, ErrorType, JobDoc, JobRef, Parameter, ResultRef,
};
pub use filter::{FilterError, JobFilter};
pub use id::{job_id_from_bytes, looks_like_job_id};
pub use limits::Policy;
pub use phase::{client_action, Action, Actor, Phase, TransitionError, UnknownPhase};
pub use search::{job_id_list, Direction, JobSearch, NameFilter, SearchError, SortColumn, SortKey};
pub use time::{TimeError, TimeProblem, UtcTime};

/// How many characters of a client's input an error message quotes.
const EXCERPT_CHARS: usize = 60;

/// The start of `s` for quoting in an error message: a request parameter can be megabytes long,
/// and the message goes back to the client and into the log.
pub(crate) fn excerpt(s: &str) -> String {
    match s.char_indices().nth(EXCERPT_CHARS) {
        Some((cut, _)) => format!("{}…", &s[..cut]),
        None => s.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::excerpt;

    #[test]
    fn excerpt_cuts_long_input_on_a_character_boundary() {
        assert_eq!(excerpt("short"), "short");
        let long = "é".repeat(100);
        let cut = excerpt(&long);
        assert_eq!(cut.chars().count(), 61);
        assert!(cut.ends_with("é…"));
        assert_eq!(excerpt(&"a".repeat(60)), "a".repeat(60));
    }
}
