//! What executionDuration and destruction time a job gets (LF-01).
//!
//! UWS lets the client ask and the server decide; the job document then shows what was granted.
//! Tapir clamps instead of refusing, so a client asking for too much still gets a job (with the
//! most it may have) rather than an error it has to understand. The same numbers are advertised
//! in TAPRegExt `executionDuration` and `retentionPeriod` (`default` and `hard`).

use crate::UtcTime;

/// Seconds in a day.
const DAY_SECS: u64 = 86_400;

/// The limits of one service, from its configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// executionDuration a job gets when the client does not ask.
    pub duration_default_secs: u64,
    /// The longest executionDuration granted. `0` would mean "unlimited" in UWS, so a policy
    /// with `0` here grants unlimited run time to every job.
    pub duration_max_secs: u64,
    /// Time from creation to destruction when the client does not ask.
    pub retention_default_secs: u64,
    /// The longest time from creation to destruction granted.
    pub retention_max_secs: u64,
}

impl Policy {
    /// Defaults close to what archives run: ESO keeps jobs 1 day by default and 6 months (180
    /// days) at most; one hour of run time by default and four at most, as in the TAPRegExt
    /// example of STANDARDS.md §13.
    pub const DEFAULT: Policy = Policy {
        duration_default_secs: 3_600,
        duration_max_secs: 4 * 3_600,
        retention_default_secs: DAY_SECS,
        retention_max_secs: 180 * DAY_SECS,
    };

    /// The granted executionDuration in seconds for a request. `None` gets the default;
    /// `Some(0)`, UWS's "unlimited", gets the maximum, because the server never runs a query
    /// without a limit; anything above the maximum is clamped to it. A default above the maximum
    /// (a configuration slip) is clamped as well.
    pub fn grant_duration(&self, requested: Option<u64>) -> u64 {
        let wanted = match requested {
            None => self.duration_default_secs,
            Some(0) => self.duration_max_secs,
            Some(secs) => secs,
        };
        wanted.min(self.duration_max_secs)
    }

    /// The granted destruction instant of a job created at `created`. `None` gets
    /// `created + default`; anything later than `created + max` is clamped to it (so is a default
    /// above the maximum). An instant in the past is granted as asked: the client wants the job
    /// gone, and the reaper removes it on its next round.
    pub fn grant_destruction(&self, created: UtcTime, requested: Option<UtcTime>) -> UtcTime {
        let latest = created.plus_secs(self.retention_max_secs);
        requested
            .unwrap_or_else(|| created.plus_secs(self.retention_default_secs))
            .min(latest)
    }
}

impl Default for Policy {
    /// [`Policy::DEFAULT`].
    fn default() -> Policy {
        Policy::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POLICY: Policy = Policy {
        duration_default_secs: 600,
        duration_max_secs: 3_600,
        retention_default_secs: DAY_SECS,
        retention_max_secs: 7 * DAY_SECS,
    };

    #[test]
    fn durations() {
        assert_eq!(POLICY.grant_duration(None), 600);
        assert_eq!(POLICY.grant_duration(Some(0)), 3_600);
        assert_eq!(POLICY.grant_duration(Some(1)), 1);
        assert_eq!(POLICY.grant_duration(Some(3_600)), 3_600);
        assert_eq!(POLICY.grant_duration(Some(3_601)), 3_600);
        assert_eq!(POLICY.grant_duration(Some(u64::MAX)), 3_600);
        let slip = Policy {
            duration_default_secs: 10_000,
            ..POLICY
        };
        assert_eq!(slip.grant_duration(None), 3_600);
    }

    #[test]
    fn destructions() {
        let created = UtcTime::from_unix_millis(1_709_633_158_120);
        let day_ms = 86_400_000;
        let at = |days: i64| UtcTime::from_unix_millis(created.unix_millis() + days * day_ms);
        assert_eq!(POLICY.grant_destruction(created, None), at(1));
        assert_eq!(POLICY.grant_destruction(created, Some(at(3))), at(3));
        assert_eq!(POLICY.grant_destruction(created, Some(at(7))), at(7));
        assert_eq!(POLICY.grant_destruction(created, Some(at(8))), at(7));
        assert_eq!(POLICY.grant_destruction(created, Some(at(-2))), at(-2));
        let slip = Policy {
            retention_default_secs: 30 * DAY_SECS,
            ..POLICY
        };
        assert_eq!(slip.grant_destruction(created, None), at(7));
        let huge = Policy {
            retention_max_secs: u64::MAX,
            retention_default_secs: u64::MAX,
            ..POLICY
        };
        assert_eq!(
            huge.grant_destruction(created, None),
            UtcTime::from_unix_millis(i64::MAX)
        );
    }

    #[test]
    fn eso_like_defaults() {
        let p = Policy::default();
        assert_eq!(p.retention_default_secs, 86_400);
        assert_eq!(p.retention_max_secs, 15_552_000);
        assert!(p.duration_default_secs <= p.duration_max_secs);
    }
}
