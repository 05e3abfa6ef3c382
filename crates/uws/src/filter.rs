//! The job-list filters of JL-02: `PHASE` (repeatable), `AFTER` and `LAST`.
//!
//! The server reads them from `GET /async?...` and turns them into a database query; this module
//! only reads and checks the parameters and says which jobs pass, so the rules (ARCHIVED left out
//! unless asked for, AND between filters, union within PHASE) are in one place.

use crate::time::TimeProblem;
use crate::{Phase, UtcTime};

/// The filters of one job-list request. The default (no filters) lists every job that is not
/// ARCHIVED.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JobFilter {
    /// The phases asked for (`PHASE=`, any case); empty means "every phase but ARCHIVED".
    pub phases: Vec<Phase>,
    /// Only jobs created strictly after this instant (`AFTER=`).
    pub after: Option<UtcTime>,
    /// Only the newest n jobs (`LAST=`); the caller applies it when sorting.
    pub last: Option<u64>,
}

/// A filter parameter with a value that cannot be used; the server answers 400 with the message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilterError {
    /// `PHASE` is not one of the ten phases.
    #[error(
        "invalid PHASE \"{value}\": expected one of PENDING, QUEUED, EXECUTING, COMPLETED, ERROR, \
         ABORTED, UNKNOWN, HELD, SUSPENDED, ARCHIVED"
    )]
    Phase {
        /// The value given (shortened when long).
        value: String,
    },
    /// `AFTER` is not a timestamp.
    #[error("invalid AFTER \"{value}\": {problem}")]
    After {
        /// The value given (shortened when long).
        value: String,
        /// What is wrong with it.
        problem: TimeProblem,
    },
    /// `LAST` is not a positive integer.
    #[error("invalid LAST \"{value}\": expected a positive integer")]
    Last {
        /// The value given (shortened when long).
        value: String,
    },
    /// `AFTER` or `LAST` was given twice: they are single-valued (REQ-04), and picking one
    /// silently could hide jobs the client expects.
    #[error("{parameter} was given more than once")]
    Repeated {
        /// `AFTER` or `LAST`.
        parameter: &'static str,
    },
}

impl JobFilter {
    /// Reads the filters from the request parameters `(name, value)`, comparing names without
    /// regard to case (REQ-01). `PHASE` may repeat, and the phases are united; `AFTER` is a DALI
    /// timestamp; `LAST` is a positive integer. Other names are ignored (REQ-03), and so is a
    /// filter given with an empty value (`?PHASE=` from an HTML form means no filter). Values
    /// may carry surrounding whitespace.
    pub fn from_params<'a>(
        params: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<JobFilter, FilterError> {
        let mut filter = JobFilter::default();
        for (name, value) in params {
            let trimmed = value.trim();
            if trimmed.is_empty() {
                continue;
            }
            if name.eq_ignore_ascii_case("PHASE") {
                let phase = Phase::parse(trimmed).ok_or_else(|| FilterError::Phase {
                    value: crate::excerpt(value),
                })?;
                if !filter.phases.contains(&phase) {
                    filter.phases.push(phase);
                }
            } else if name.eq_ignore_ascii_case("AFTER") {
                let after = UtcTime::parse_iso(trimmed).map_err(|e| FilterError::After {
                    value: e.input,
                    problem: e.problem,
                })?;
                if filter.after.replace(after).is_some() {
                    return Err(FilterError::Repeated { parameter: "AFTER" });
                }
            } else if name.eq_ignore_ascii_case("LAST") {
                let last =
                    trimmed
                        .parse::<u64>()
                        .ok()
                        .filter(|n| *n > 0)
                        .ok_or_else(|| FilterError::Last {
                            value: crate::excerpt(value),
                        })?;
                if filter.last.replace(last).is_some() {
                    return Err(FilterError::Repeated { parameter: "LAST" });
                }
            }
        }
        Ok(filter)
    }

    /// Whether a job in `phase` created at `created` passes the PHASE and AFTER filters (ARCHIVED
    /// jobs only when `PHASE=ARCHIVED` was asked for). LAST is applied by the caller, as
    /// `ORDER BY creation DESC LIMIT n`, because it depends on the other jobs.
    pub fn accepts(&self, phase: Phase, created: UtcTime) -> bool {
        let phase_ok = if self.phases.is_empty() {
            phase != Phase::Archived
        } else {
            self.phases.contains(&phase)
        };
        phase_ok && self.after.is_none_or(|after| created > after)
    }

    /// The phases to list, for the database query: the ones asked for (each once, in the order
    /// asked), or every phase except ARCHIVED.
    pub fn listed_phases(&self) -> Vec<Phase> {
        if self.phases.is_empty() {
            return Phase::ALL.into_iter().filter(|p| *p != Phase::Archived).collect();
        }
        let mut phases = Vec::with_capacity(self.phases.len());
        for p in &self.phases {
            if !phases.contains(p) {
                phases.push(*p);
            }
        }
        phases
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Phase::*;

    fn filter(params: &[(&'static str, &'static str)]) -> Result<JobFilter, FilterError> {
        JobFilter::from_params(params.iter().copied())
    }

    fn t(ms: i64) -> UtcTime {
        UtcTime::from_unix_millis(ms)
    }

    #[test]
    fn no_filters_lists_everything_but_archived() {
        let f = filter(&[("QUERY", "x"), ("lang", "ADQL")]).unwrap();
        assert_eq!(f, JobFilter::default());
        assert_eq!(f.listed_phases().len(), 9);
        assert!(!f.listed_phases().contains(&Archived));
        for p in Phase::ALL {
            assert_eq!(f.accepts(p, t(0)), p != Archived, "{p}");
        }
    }

    #[test]
    fn phases_unite_and_archived_only_on_request() {
        let f = filter(&[
            ("PHASE", "completed"),
            ("phase", " ERROR "),
            ("Phase", "COMPLETED"),
        ])
        .unwrap();
        assert_eq!(f.phases, [Completed, Error]);
        assert_eq!(f.listed_phases(), [Completed, Error]);
        assert!(f.accepts(Completed, t(0)) && f.accepts(Error, t(0)));
        assert!(!f.accepts(Pending, t(0)) && !f.accepts(Archived, t(0)));
        let archived = filter(&[("PHASE", "ARCHIVED")]).unwrap();
        assert!(archived.accepts(Archived, t(0)));
        assert!(!archived.accepts(Completed, t(0)));
        let repeated = JobFilter {
            phases: vec![Held, Held, Queued],
            ..JobFilter::default()
        };
        assert_eq!(repeated.listed_phases(), [Held, Queued]);
    }

    #[test]
    fn after_and_last_combine_with_phase() {
        let f = filter(&[
            ("after", "1970-01-01T00:00:01Z"),
            ("LAST", "5"),
            ("PHASE", "PENDING"),
        ])
        .unwrap();
        assert_eq!(f.after, Some(t(1000)));
        assert_eq!(f.last, Some(5));
        assert!(!f.accepts(Pending, t(1000)), "AFTER is strict");
        assert!(f.accepts(Pending, t(1001)));
        assert!(!f.accepts(Queued, t(1001)));
    }

    #[test]
    fn empty_values_are_no_filter() {
        assert_eq!(
            filter(&[("PHASE", ""), ("AFTER", " "), ("LAST", "")]).unwrap(),
            JobFilter::default()
        );
    }

    #[test]
    fn bad_values_name_the_parameter_and_value() {
        let cases = [
            (
                ("PHASE", "DONE"),
                "invalid PHASE \"DONE\": expected one of PENDING",
            ),
            (
                ("AFTER", "yesterday"),
                "invalid AFTER \"yesterday\": expected a four-digit year",
            ),
            (
                ("AFTER", "2023-02-29"),
                "invalid AFTER \"2023-02-29\": day 29 does not exist in 2023-02",
            ),
            (("LAST", "0"), "invalid LAST \"0\": expected a positive integer"),
            (("LAST", "-3"), "invalid LAST \"-3\": expected a positive integer"),
            (
                ("LAST", "1.5"),
                "invalid LAST \"1.5\": expected a positive integer",
            ),
            (
                ("LAST", "99999999999999999999999"),
                "invalid LAST \"99999999999999999999999\"",
            ),
        ];
        for (param, expected) in cases {
            let msg = filter(&[param]).unwrap_err().to_string();
            assert!(msg.starts_with(expected), "{param:?}: {msg}");
        }
    }

    #[test]
    fn single_valued_filters_must_not_repeat() {
        let e = filter(&[("LAST", "1"), ("last", "2")]).unwrap_err();
        assert_eq!(e, FilterError::Repeated { parameter: "LAST" });
        let e = filter(&[("AFTER", "2024-01-01"), ("AFTER", "2024-01-01")]).unwrap_err();
        assert_eq!(e.to_string(), "AFTER was given more than once");
    }
}
