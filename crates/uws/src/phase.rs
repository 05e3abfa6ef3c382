//! Job phases, who may move a job between them, and what a client's `PHASE=RUN|ABORT` does.
//!
//! The server keeps the phase of every job and changes it from two directions: the client asks
//! (`POST {job}/phase`) and the executor reports progress. Both go through [`Phase::can_become`],
//! so an illegal change is caught in one place instead of in every handler.

use std::fmt;
use std::str::FromStr;

/// The execution phase of a UWS job (UWS 1.1 §2.1.3), as written in `<uws:phase>` and `/phase`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Phase {
    /// Accepted, not yet asked to run: parameters may still change.
    Pending,
    /// Asked to run, waiting for an executor.
    Queued,
    /// Running now.
    Executing,
    /// Finished with a result.
    Completed,
    /// Finished without a result; `/error` says why.
    Error,
    /// Stopped by the client, the time limit or destruction.
    Aborted,
    /// The server does not know the phase for the moment; clients poll again.
    Unknown,
    /// Cannot be queued now; the client has to ask again.
    Held,
    /// Stopped for a while by the server; it resumes by itself.
    Suspended,
    /// Finished long ago: the results are gone, the record is kept.
    Archived,
}

impl Phase {
    /// Every phase, in the order of the enum, for listings (the job-list filter), parsing and
    /// exhaustive checks without repeating the list.
    pub const ALL: [Phase; 10] = [
        Phase::Pending,
        Phase::Queued,
        Phase::Executing,
        Phase::Completed,
        Phase::Error,
        Phase::Aborted,
        Phase::Unknown,
        Phase::Held,
        Phase::Suspended,
        Phase::Archived,
    ];

    /// The upper-case name UWS uses in XML, in `/phase` and in `PHASE=` filters.
    pub fn as_str(self) -> &'static str {
        match self {
            Phase::Pending => "PENDING",
            Phase::Queued => "QUEUED",
            Phase::Executing => "EXECUTING",
            Phase::Completed => "COMPLETED",
            Phase::Error => "ERROR",
            Phase::Aborted => "ABORTED",
            Phase::Unknown => "UNKNOWN",
            Phase::Held => "HELD",
            Phase::Suspended => "SUSPENDED",
            Phase::Archived => "ARCHIVED",
        }
    }

    /// Reads a phase name in any case (REQ-01 lets clients send `phase=completed`), ignoring
    /// surrounding whitespace (TapPlus and form posts may carry a line end).
    pub fn parse(s: &str) -> Option<Phase> {
        let s = s.trim();
        Phase::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
    }

    /// Whether the job has stopped for good (PH-02): COMPLETED, ERROR, ABORTED, and ARCHIVED,
    /// which only follows those three.
    pub fn is_final(self) -> bool {
        matches!(
            self,
            Phase::Completed | Phase::Error | Phase::Aborted | Phase::Archived
        )
    }

    /// Whether the job may still change by itself, which is where `WAIT` blocks (WT-02):
    /// PENDING, QUEUED and EXECUTING.
    pub fn is_active(self) -> bool {
        matches!(self, Phase::Pending | Phase::Queued | Phase::Executing)
    }

    /// Whether `self -> to` is a legal transition when made by `by` (the table in STANDARDS.md §5
    /// "Phases"). Staying in the same phase is never a transition.
    ///
    /// By the client: PENDING or HELD -> QUEUED, EXECUTING (RUN; PENDING may also go to HELD when
    /// it cannot be queued now), and PENDING, QUEUED, EXECUTING, HELD, SUSPENDED -> ABORTED (ABORT).
    ///
    /// By the server: QUEUED -> EXECUTING; EXECUTING -> COMPLETED, ERROR, ABORTED, SUSPENDED,
    /// HELD; SUSPENDED -> EXECUTING; PENDING, QUEUED -> ERROR (validation failed); COMPLETED,
    /// ERROR, ABORTED -> ARCHIVED; any phase -> UNKNOWN. Two edges the table implies without a row:
    /// UNKNOWN -> any phase, because UNKNOWN is transient and the server must be able to report
    /// the real phase again; and PENDING, QUEUED, HELD, SUSPENDED -> ABORTED, because destruction
    /// (LF-03) and shutdown abort jobs that have not finished, not only executing ones. One edge
    /// of Tapir's own: EXECUTING -> QUEUED, when the process running a job died and the job is
    /// queued again rather than failed (`jobs.requeue_on_crash`); it was never the client's
    /// doing, and the job runs from the start.
    pub fn can_become(self, to: Phase, by: Actor) -> bool {
        use Phase::*;
        if self == to {
            return false;
        }
        match by {
            Actor::Client => matches!(
                (self, to),
                (Pending, Queued | Executing | Held)
                    | (Held, Queued | Executing)
                    | (Pending | Queued | Executing | Held | Suspended, Aborted)
            ),
            Actor::Server => matches!(
                (self, to),
                (_, Unknown)
                    | (Unknown, _)
                    | (Queued, Executing)
                    | (Executing, Completed | Error | Aborted | Suspended | Held | Queued)
                    | (Suspended, Executing)
                    | (Pending | Queued, Error)
                    | (Pending | Queued | Held | Suspended, Aborted)
                    | (Completed | Error | Aborted, Archived)
            ),
        }
    }
}

impl fmt::Display for Phase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A phase name that is none of the ten UWS phases; the message lists them so the client can fix
/// the request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "unknown phase \"{input}\": expected one of PENDING, QUEUED, EXECUTING, COMPLETED, ERROR, \
     ABORTED, UNKNOWN, HELD, SUSPENDED, ARCHIVED"
)]
pub struct UnknownPhase {
    /// What was given (shortened when long, so the message stays readable).
    pub input: String,
}

impl FromStr for Phase {
    type Err = UnknownPhase;

    fn from_str(s: &str) -> Result<Phase, UnknownPhase> {
        Phase::parse(s).ok_or_else(|| UnknownPhase {
            input: crate::excerpt(s),
        })
    }
}

/// Who makes a transition: the rules differ (a client may abort, only the server completes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor {
    /// The job's owner, through `POST {job}/phase` or the creation POST.
    Client,
    /// The service itself: executor, reaper, recovery after a restart.
    Server,
}

/// The two values a client may POST as `PHASE` to `{job}/phase` (PH-01).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `PHASE=RUN`: start the job.
    Run,
    /// `PHASE=ABORT`: stop the job.
    Abort,
}

impl Action {
    /// Reads `RUN` or `ABORT` in any case (REQ-01), ignoring surrounding whitespace; anything
    /// else is `None`, which the server answers with 400 (PH-01).
    pub fn parse(s: &str) -> Option<Action> {
        let s = s.trim();
        if s.eq_ignore_ascii_case("RUN") {
            Some(Action::Run)
        } else if s.eq_ignore_ascii_case("ABORT") {
            Some(Action::Abort)
        } else {
            None
        }
    }

    /// The upper-case word, for logs and messages.
    pub fn as_str(self) -> &'static str {
        match self {
            Action::Run => "RUN",
            Action::Abort => "ABORT",
        }
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A client action that the job's phase does not allow; the server answers 403 (AS-02).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a job in phase {from} cannot become {to}")]
pub struct TransitionError {
    /// The phase the job is in.
    pub from: Phase,
    /// The phase the action would have led to.
    pub to: Phase,
}

/// What a client's `PHASE=RUN` or `PHASE=ABORT` does to a job in `from`: `Ok(Some(new))` is a
/// change to store, `Ok(None)` a request that changes nothing and is answered with the usual 303
/// (project decision PH-02), `Err` an action the phase does not allow (403, AS-02).
///
/// * RUN: PENDING and HELD -> QUEUED (the executor takes it from there). QUEUED, EXECUTING and
///   SUSPENDED are already on their way, and a final job (COMPLETED, ERROR, ABORTED, ARCHIVED)
///   can never run again, so RUN on them is a no-op.
/// * ABORT: PENDING, QUEUED, EXECUTING, HELD, SUSPENDED -> ABORTED; on a final job the job is
///   stopped already, so ABORT is a no-op.
/// * UNKNOWN refuses both. A no-op answer would tell the client its request took effect when the
///   server cannot know that (the job may be running, or may come back as PENDING and never
///   start); a 403 makes the client poll and ask again once the phase is known.
pub fn client_action(from: Phase, action: Action) -> Result<Option<Phase>, TransitionError> {
    use Phase::*;
    match (action, from) {
        (Action::Run, Pending | Held) => Ok(Some(Queued)),
        (Action::Run, Queued | Executing | Suspended) => Ok(None),
        (Action::Abort, Pending | Queued | Executing | Held | Suspended) => Ok(Some(Aborted)),
        (Action::Run, Unknown) => Err(TransitionError { from, to: Queued }),
        (Action::Abort, Unknown) => Err(TransitionError { from, to: Aborted }),
        (_, Completed | Error | Aborted | Archived) => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Phase::*;

    /// The legal targets of each phase, written out by hand from STANDARDS.md §5 rather than
    /// derived from the code under test.
    fn expected_targets(from: Phase, by: Actor) -> &'static [Phase] {
        match (by, from) {
            (Actor::Client, Pending) => &[Queued, Executing, Held, Aborted],
            (Actor::Client, Queued) => &[Aborted],
            (Actor::Client, Executing) => &[Aborted],
            (Actor::Client, Held) => &[Queued, Executing, Aborted],
            (Actor::Client, Suspended) => &[Aborted],
            (Actor::Client, Completed | Error | Aborted | Unknown | Archived) => &[],
            (Actor::Server, Pending) => &[Error, Aborted, Unknown],
            (Actor::Server, Queued) => &[Executing, Error, Aborted, Unknown],
            // QUEUED again: Tapir's recovery of a dead process's job (requeue_on_crash).
            (Actor::Server, Executing) => &[Completed, Error, Aborted, Unknown, Held, Suspended, Queued],
            (Actor::Server, Completed) => &[Unknown, Archived],
            (Actor::Server, Error) => &[Unknown, Archived],
            (Actor::Server, Aborted) => &[Unknown, Archived],
            (Actor::Server, Unknown) => &[
                Pending, Queued, Executing, Completed, Error, Aborted, Held, Suspended, Archived,
            ],
            (Actor::Server, Held) => &[Aborted, Unknown],
            (Actor::Server, Suspended) => &[Executing, Aborted, Unknown],
            (Actor::Server, Archived) => &[Unknown],
        }
    }

    #[test]
    fn transition_table_is_exact() {
        let mut legal = 0;
        for by in [Actor::Client, Actor::Server] {
            for from in Phase::ALL {
                for to in Phase::ALL {
                    let expected = expected_targets(from, by).contains(&to);
                    assert_eq!(from.can_become(to, by), expected, "{from} -> {to} by {by:?}");
                    legal += usize::from(expected);
                }
            }
        }
        assert_eq!(legal, 10 + 35, "client edges + server edges");
    }

    #[test]
    fn names_round_trip_in_any_case() {
        for p in Phase::ALL {
            assert_eq!(Phase::parse(p.as_str()), Some(p));
            assert_eq!(Phase::parse(&p.as_str().to_lowercase()), Some(p));
            assert_eq!(format!(" {p}\r\n").parse::<Phase>(), Ok(p));
        }
        assert_eq!(Phase::parse("Executing"), Some(Executing));
        assert_eq!(Phase::parse(""), None);
        assert_eq!(Phase::parse("RUN"), None);
        assert_eq!(Phase::parse("PENDINGX"), None);
    }

    #[test]
    fn unknown_phase_message_lists_the_phases() {
        let err = "done".parse::<Phase>().unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("unknown phase \"done\": expected one of PENDING"),
            "{msg}"
        );
        for p in Phase::ALL {
            assert!(msg.contains(p.as_str()), "{msg}");
        }
    }

    #[test]
    fn final_and_active() {
        let finals: Vec<Phase> = Phase::ALL.into_iter().filter(|p| p.is_final()).collect();
        assert_eq!(finals, [Completed, Error, Aborted, Archived]);
        let active: Vec<Phase> = Phase::ALL.into_iter().filter(|p| p.is_active()).collect();
        assert_eq!(active, [Pending, Queued, Executing]);
    }

    #[test]
    fn actions_parse_in_any_case() {
        assert_eq!(Action::parse("RUN"), Some(Action::Run));
        assert_eq!(Action::parse(" run\n"), Some(Action::Run));
        assert_eq!(Action::parse("Abort"), Some(Action::Abort));
        assert_eq!(Action::parse("ABORTED"), None);
        assert_eq!(Action::parse("SUSPEND"), None);
        assert_eq!(Action::parse(""), None);
        assert_eq!(Action::Abort.to_string(), "ABORT");
    }

    #[test]
    fn client_actions() {
        let run = |p| client_action(p, Action::Run);
        let abort = |p| client_action(p, Action::Abort);
        assert_eq!(run(Pending), Ok(Some(Queued)));
        assert_eq!(run(Held), Ok(Some(Queued)));
        for p in [Queued, Executing, Suspended, Completed, Error, Aborted, Archived] {
            assert_eq!(run(p), Ok(None), "RUN on {p}");
        }
        for p in [Pending, Queued, Executing, Held, Suspended] {
            assert_eq!(abort(p), Ok(Some(Aborted)), "ABORT on {p}");
        }
        for p in [Completed, Error, Aborted, Archived] {
            assert_eq!(abort(p), Ok(None), "ABORT on {p}");
        }
        let err = run(Unknown).unwrap_err();
        assert_eq!(err.to_string(), "a job in phase UNKNOWN cannot become QUEUED");
        assert_eq!(
            abort(Unknown),
            Err(TransitionError {
                from: Unknown,
                to: Aborted
            })
        );
    }

    #[test]
    fn client_actions_agree_with_the_table() {
        for from in Phase::ALL {
            for action in [Action::Run, Action::Abort] {
                match client_action(from, action) {
                    Ok(Some(to)) => assert!(from.can_become(to, Actor::Client), "{action} on {from}"),
                    Ok(None) => {}
                    Err(e) => assert!(!from.can_become(e.to, Actor::Client), "{action} on {from}"),
                }
            }
        }
    }

    #[test]
    fn transition_error_message() {
        let e = TransitionError {
            from: Completed,
            to: Executing,
        };
        assert_eq!(e.to_string(), "a job in phase COMPLETED cannot become EXECUTING");
    }
}
