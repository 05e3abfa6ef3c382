//! What one caller may use (issue 14): the per-user defaults, raised or lowered for members of
//! groups (`[group_limits.NAME]`). Decided here, once, from the caller; the job queue, the
//! workers' fair share and the sync slots read the answer.

use crate::config::{Config, GroupLimits};
use crate::identity::Caller;
pub use crate::job_store::RunningLimits;

/// One user's limits; `None` is no limit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserLimits {
    pub queued: Option<u64>,
    pub running: Option<u32>,
    pub sync: Option<u32>,
    pub result_storage_bytes: Option<u64>,
}

/// 0 in the configuration means no limit.
fn limit<T: PartialEq + Default>(v: T) -> Option<T> {
    (v != T::default()).then_some(v)
}

/// The more generous of two limits (no limit beats any).
fn wider<T: Ord>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.max(b)),
        _ => None,
    }
}

impl UserLimits {
    /// The defaults: what a user in no listed group gets, and (for `sync`) any client.
    pub fn defaults(config: &Config) -> UserLimits {
        UserLimits {
            queued: limit(config.jobs.queued_per_user),
            running: limit(config.jobs.running_per_user),
            sync: limit(config.limits.sync_per_client),
            result_storage_bytes: limit(config.jobs.result_storage_per_user_bytes),
        }
    }

    /// What `caller` may use. Anonymous callers share the service's global limits, so only
    /// `sync` (per address) applies to them; their other values are the defaults.
    pub fn of(config: &Config, caller: &Caller) -> UserLimits {
        let defaults = UserLimits::defaults(config);
        let Caller::User(account) = caller else {
            return defaults;
        };
        let listed: Vec<&GroupLimits> = account
            .groups
            .iter()
            .filter_map(|g| config.group_limits.get(g))
            .collect();
        if listed.is_empty() {
            return defaults;
        }
        // Each key: the widest value among the groups that set it; the default where none does.
        fn pick<T: Copy + Ord + Default + PartialEq>(
            listed: &[&GroupLimits],
            get: impl Fn(&GroupLimits) -> Option<T>,
            default: Option<T>,
        ) -> Option<T> {
            let set: Vec<Option<T>> = listed.iter().filter_map(|g| get(g)).map(limit).collect();
            match set.split_first() {
                None => default,
                Some((first, rest)) => rest.iter().fold(*first, |acc, v| wider(acc, *v)),
            }
        }
        UserLimits {
            queued: pick(&listed, |g| g.queued_per_user, defaults.queued),
            running: pick(&listed, |g| g.running_per_user, defaults.running),
            sync: pick(&listed, |g| g.sync_per_client, defaults.sync),
            result_storage_bytes: pick(&listed, |g| g.result_storage_bytes, defaults.result_storage_bytes),
        }
    }
}

/// The claim's allowance (defined with the claim in `job_store`), decided from the
/// configuration here with the other limits.
impl RunningLimits {
    pub fn new(config: &Config) -> RunningLimits {
        let as_i64 = |v: u32| if v == 0 { i64::MAX } else { i64::from(v) };
        let (groups, limits) = config
            .group_limits
            .iter()
            .filter_map(|(g, l)| l.running_per_user.map(|n| (g.clone(), as_i64(n))))
            .unzip();
        RunningLimits {
            default: as_i64(config.jobs.running_per_user),
            groups,
            limits,
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::identity::Account;

    fn user(groups: &[&str]) -> Caller {
        Caller::User(Arc::new(Account {
            name: "u".into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
        }))
    }

    #[test]
    fn the_widest_of_the_users_groups_wins() {
        let mut c = Config::default();
        c.jobs.running_per_user = 2;
        c.jobs.queued_per_user = 200;
        c.group_limits.insert(
            "staff".into(),
            GroupLimits {
                running_per_user: Some(8),
                result_storage_bytes: Some(0),
                ..Default::default()
            },
        );
        c.group_limits.insert(
            "students".into(),
            GroupLimits {
                running_per_user: Some(1),
                queued_per_user: Some(10),
                ..Default::default()
            },
        );
        let d = UserLimits::of(&c, &user(&[]));
        assert_eq!((d.running, d.queued), (Some(2), Some(200)));
        assert_eq!(d.result_storage_bytes, Some(10 << 30));
        let s = UserLimits::of(&c, &user(&["students"]));
        assert_eq!(
            (s.running, s.queued),
            (Some(1), Some(10)),
            "a group may lower a limit"
        );
        let both = UserLimits::of(&c, &user(&["students", "staff"]));
        assert_eq!(both.running, Some(8));
        assert_eq!(both.queued, Some(10), "only students sets it");
        assert_eq!(both.result_storage_bytes, None, "staff: no limit");
        assert_eq!(UserLimits::of(&c, &Caller::Anonymous), d);
        let r = RunningLimits::new(&c);
        assert_eq!((r.default, r.groups.len()), (2, 2));
        assert_eq!(r.limits, [8, 1]);
    }
}
