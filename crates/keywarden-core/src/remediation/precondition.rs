//! Re-checking a plan's action against live state just before `apply` acts.
//!
//! The application layer reads what the precondition names (the key's status and last use, the
//! login profile, the user's tags and keywarden's own record of when the key became inactive)
//! and hands it in; [`check`] decides. A changed world is a skip with the reason, never an
//! error: the plan was right when it was made, and the reviewer's approval covered that world.

use super::plan::{Action, ActionKind, KeyStatus, UseBound};
use crate::time::{days, format_timestamp, Timestamp};

/// A key as `ListAccessKeys` and `GetAccessKeyLastUsed` show it now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObservedKey {
    pub active: bool,
    pub last_used: Option<Timestamp>,
}

/// What the application layer read for one action. Fields the action's precondition does not
/// name may be left at their defaults.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ObservedState {
    /// `None`: the key no longer exists (or the user does not).
    pub key: Option<ObservedKey>,
    /// `None`: no console password. `Some(last use)` otherwise (`Some(None)`: never used).
    pub password: Option<Option<Timestamp>>,
    /// An exemption that now covers one of the action's rules: its source and reason.
    pub exemption: Option<String>,
    /// Since when keywarden knows the key is inactive: the first time it saw (or made) the key
    /// inactive since it last saw it active, by the journal's sightings.
    pub inactive_since: Option<Timestamp>,
}

/// What `apply` should do with an action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Proceed,
    /// The precondition no longer holds: skip, saying why.
    Skip(String),
    /// The action waits for its grace period: not before this instant.
    NotDue(Timestamp),
}

/// Checks `action`'s precondition against `observed` at `now`.
pub fn check(action: &Action, observed: &ObservedState, now: Timestamp) -> Verdict {
    if action.kind == ActionKind::Manual {
        return Verdict::Skip("manual: keywarden does not do this itself".to_owned());
    }
    if let Some(not_before) = action.not_before {
        if now < not_before {
            return Verdict::NotDue(not_before);
        }
    }
    let pre = &action.precondition;
    if let Some(reason) = &observed.exemption {
        return Verdict::Skip(format!("now exempted: {reason}"));
    }
    if let Some(expected) = pre.key_status {
        let Some(key) = observed.key else {
            return Verdict::Skip("the key no longer exists".to_owned());
        };
        let status = if key.active {
            KeyStatus::Active
        } else {
            KeyStatus::Inactive
        };
        if status != expected {
            return Verdict::Skip(format!(
                "the key is now {}, the plan expected {}",
                status.as_str(),
                expected.as_str()
            ));
        }
    }
    if let Some(bound) = pre.key_unused_since {
        if let Some(skip) = used_after("key", bound, observed.key.and_then(|k| k.last_used)) {
            return skip;
        }
    }
    if let Some(idle) = pre.key_idle {
        // What makes a deactivation safe must hold when it runs, not only when it was planned.
        if let Some(used) = observed.key.and_then(|k| k.last_used) {
            if used > idle.since {
                return Verdict::Skip(format!(
                    "the key was used at {}, after the plan saw it idle since {}",
                    format_timestamp(used),
                    format_timestamp(idle.since)
                ));
            }
        }
        let due = idle.since + days(idle.days);
        if now < due {
            return Verdict::NotDue(due);
        }
    }
    if let Some(required) = pre.inactive_for_days {
        let Some(since) = observed.inactive_since else {
            // `apply` records a sighting before it checks, so this is reached only when the
            // caller had no journal to ask.
            return Verdict::Skip(format!(
                "keywarden has no record of when the key became inactive, so it cannot tell \
                 whether it has been inactive for {required} days"
            ));
        };
        if let Some(used) = observed.key.and_then(|k| k.last_used) {
            if used > since {
                return Verdict::Skip(format!(
                    "the key was used at {}, after it became inactive ({})",
                    format_timestamp(used),
                    format_timestamp(since)
                ));
            }
        }
        let due = since + days(required);
        if now < due {
            return Verdict::NotDue(due);
        }
    }
    if pre.password_present && observed.password.is_none() {
        return Verdict::Skip("the user no longer has a console password".to_owned());
    }
    if let Some(bound) = pre.password_unused_since {
        if let Some(skip) = used_after("password", bound, observed.password.flatten()) {
            return skip;
        }
    }
    Verdict::Proceed
}

fn used_after(what: &str, bound: UseBound, now_last_used: Option<Timestamp>) -> Option<Verdict> {
    let used = now_last_used?;
    let newer = match bound.last_used {
        Some(planned) => used > planned,
        None => true,
    };
    newer.then(|| {
        Verdict::Skip(match bound.last_used {
            Some(planned) => format!(
                "the {what} was used at {}, after the plan saw its last use ({})",
                format_timestamp(used),
                format_timestamp(planned)
            ),
            None => format!(
                "the {what} was used at {}; the plan saw it never used",
                format_timestamp(used)
            ),
        })
    })
}
