//! The plan file: a versioned JSON list of actions, each with its target, the precondition it
//! relies on, the findings that motivate it and a safety level. `keywarden plan` writes it,
//! a person reviews it, `keywarden apply` runs it.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The `format` field of every plan file.
pub const PLAN_FORMAT: &str = "keywarden-plan";
/// The plan layout this build writes and reads. A plan of another version is refused.
pub const PLAN_VERSION: u32 = 1;

/// How much an action may break, ordered from the least. `apply` runs `safe` actions by
/// default; `two-phase` and `unsafe` ones only when asked; `manual` ones never.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Safety {
    /// Cannot break a workload: deactivating a key nobody used for longer than the threshold.
    Safe,
    /// The second phase of a removal: deleting a key that has been inactive (and unused) for
    /// `delete_after_days`. Irreversible, so it is not run by default.
    TwoPhase,
    /// May break a workload: deactivating a recently used key, removing a console password.
    Unsafe,
    /// Something keywarden cannot or should not do itself; `steps` say how.
    Manual,
}

impl Safety {
    pub fn as_str(self) -> &'static str {
        match self {
            Safety::Safe => "safe",
            Safety::TwoPhase => "two-phase",
            Safety::Unsafe => "unsafe",
            Safety::Manual => "manual",
        }
    }
}

impl fmt::Display for Safety {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an action does to AWS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ActionKind {
    /// UpdateAccessKey to Inactive. Reversible.
    DeactivateKey,
    /// DeleteAccessKey. Irreversible; only for a key already inactive (two-phase).
    DeleteKey,
    /// DeleteLoginProfile: removes the console password. Irreversible (a new password can be
    /// set, the old one is gone).
    DeleteLoginProfile,
    /// PutUserPolicy of the deny-all policy conditioned on `aws:TokenIssueTime`.
    RevokeSessions,
    /// PutUserPolicy of the self-lifting deny-all policy conditioned on `aws:CurrentTime`.
    Quarantine,
    /// Steps for a person.
    Manual,
}

impl ActionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ActionKind::DeactivateKey => "deactivate-key",
            ActionKind::DeleteKey => "delete-key",
            ActionKind::DeleteLoginProfile => "delete-login-profile",
            ActionKind::RevokeSessions => "revoke-sessions",
            ActionKind::Quarantine => "quarantine",
            ActionKind::Manual => "manual",
        }
    }

    /// Whether `undo` can reverse it.
    pub fn reversible(self) -> bool {
        matches!(
            self,
            ActionKind::DeactivateKey | ActionKind::RevokeSessions | ActionKind::Quarantine
        )
    }
}

impl fmt::Display for ActionKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum KeyStatus {
    Active,
    Inactive,
}

impl KeyStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyStatus::Active => "Active",
            KeyStatus::Inactive => "Inactive",
        }
    }
}

/// A last use the live state must not be later than: `last_used: null` means "never used".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct UseBound {
    pub last_used: Option<Timestamp>,
}

/// What must still be true when `apply` runs the action. Every field is optional; the ones
/// present are all checked against state re-read just before the call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Precondition {
    /// The key must exist with this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_status: Option<KeyStatus>,
    /// The key must not have been used after the plan saw it last used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_unused_since: Option<UseBound>,
    /// The key must have been inactive for at least this many days, by keywarden's own record
    /// (its journal), and unused since it became inactive.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub inactive_for_days: Option<u32>,
    /// The user must (still) have a console password.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub password_present: bool,
    /// The console password must not have been used after the plan saw it last used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub password_unused_since: Option<UseBound>,
    /// No exemption (config or `keywarden:exempt` tag) may cover these rule codes now.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_exempt_from: Vec<String>,
}

impl Precondition {
    /// One line for a reviewer.
    pub fn describe(&self) -> String {
        let mut parts = Vec::new();
        if let Some(status) = self.key_status {
            parts.push(format!("key is {}", status.as_str()));
        }
        if let Some(bound) = self.key_unused_since {
            parts.push(match bound.last_used {
                Some(t) => format!("key not used after {}", crate::time::format_timestamp(t)),
                None => "key never used".to_owned(),
            });
        }
        if let Some(days) = self.inactive_for_days {
            parts.push(format!("key inactive for {days}+ days and unused since"));
        }
        if self.password_present {
            parts.push("console password exists".to_owned());
        }
        if let Some(bound) = self.password_unused_since {
            parts.push(match bound.last_used {
                Some(t) => format!(
                    "password not used after {}",
                    crate::time::format_timestamp(t)
                ),
                None => "password never used".to_owned(),
            });
        }
        if !self.not_exempt_from.is_empty() {
            parts.push(format!(
                "not exempted ({})",
                self.not_exempt_from.join(", ")
            ));
        }
        if parts.is_empty() {
            "none".to_owned()
        } else {
            parts.join("; ")
        }
    }
}

/// A finding that motivates an action.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    pub rule: String,
    pub message: String,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Action {
    /// Unique within the plan (`A001`); the journal records progress by it.
    pub id: String,
    pub kind: ActionKind,
    pub safety: Safety,
    /// The IAM user; `<root_account>` for root; `null` for account-wide steps.
    pub user: Option<String>,
    pub access_key_id: Option<String>,
    /// Not to be applied before this instant (a two-phase delete waits for its grace period).
    pub not_before: Option<Timestamp>,
    /// The instant in the policy a `revoke-sessions` (sessions issued before it are denied) or
    /// `quarantine` (lifts itself at it) action attaches. Fixed when the action is planned, so
    /// a resumed run attaches the same document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy_time: Option<Timestamp>,
    pub precondition: Precondition,
    pub reasons: Vec<Reason>,
    /// For `manual` actions, what a person should do; otherwise notes for the reviewer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<String>,
}

impl Action {
    /// `user alice, key AKIA...`, for messages.
    pub fn target(&self) -> String {
        match (&self.user, &self.access_key_id) {
            (Some(user), Some(key)) => format!("user {user}, key {key}"),
            (Some(user), None) => format!("user {user}"),
            (None, Some(key)) => format!("key {key}"),
            (None, None) => "account".to_owned(),
        }
    }
}

/// Where the findings a plan was built from came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanSource {
    /// `live`, `audit-file`, `rotation`.
    pub kind: String,
    pub location: String,
    /// When the audited data was produced, if known.
    pub data_as_of: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Plan {
    pub format: String,
    pub version: u32,
    pub created_at: Timestamp,
    pub account: Option<String>,
    pub source: PlanSource,
    pub delete_after_days: u32,
    pub actions: Vec<Action>,
    /// Findings the plan does nothing about (unknown, exempted, or without a key id).
    #[serde(default)]
    pub not_planned: Vec<NotPlanned>,
}

/// A finding the plan does nothing about, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotPlanned {
    pub rule: String,
    pub user: Option<String>,
    pub access_key_id: Option<String>,
    pub why: String,
}

/// Why a plan file could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PlanError {
    #[error("{origin}: not a keywarden plan: {message}")]
    Json {
        origin: String,
        /// serde_json's message, which names the line and column.
        message: String,
    },
    #[error("{origin}: `format` is `{found}`, expected `{PLAN_FORMAT}`")]
    Format { origin: String, found: String },
    #[error(
        "{origin}: plan version {found} is not supported: this build reads version {PLAN_VERSION}"
    )]
    Version { origin: String, found: u32 },
    /// `index` counts from 0, as in the file's `actions` array.
    #[error("{origin}: actions[{index}] ({id}): {problem}")]
    Invalid {
        origin: String,
        index: usize,
        id: String,
        problem: String,
    },
}

impl Plan {
    /// Reads a plan file's text, checking its format, version and internal consistency
    /// (unique ids, a target for every automated action, delete only of inactive keys).
    pub fn from_json(text: &str, origin: &str) -> Result<Plan, PlanError> {
        #[derive(Deserialize)]
        struct Head {
            format: String,
            version: u32,
        }
        let json_error = |error: serde_json::Error| PlanError::Json {
            origin: origin.to_owned(),
            message: error.to_string(),
        };
        let head: Head = serde_json::from_str(text).map_err(json_error)?;
        if head.format != PLAN_FORMAT {
            return Err(PlanError::Format {
                origin: origin.to_owned(),
                found: head.format,
            });
        }
        if head.version != PLAN_VERSION {
            return Err(PlanError::Version {
                origin: origin.to_owned(),
                found: head.version,
            });
        }
        let plan: Plan = serde_json::from_str(text).map_err(json_error)?;
        plan.validate(origin)?;
        Ok(plan)
    }

    fn validate(&self, origin: &str) -> Result<(), PlanError> {
        let mut seen = std::collections::HashSet::new();
        for (index, action) in self.actions.iter().enumerate() {
            let invalid = |problem: String| PlanError::Invalid {
                origin: origin.to_owned(),
                index,
                id: action.id.clone(),
                problem,
            };
            if !seen.insert(action.id.as_str()) {
                return Err(invalid(format!("duplicate id `{}`", action.id)));
            }
            let needs_key = matches!(
                action.kind,
                ActionKind::DeactivateKey | ActionKind::DeleteKey
            );
            if action.kind != ActionKind::Manual && action.user.is_none() {
                return Err(invalid(format!("`{}` needs a user", action.kind)));
            }
            if needs_key && action.access_key_id.is_none() {
                return Err(invalid(format!("`{}` needs an access_key_id", action.kind)));
            }
            if action.kind == ActionKind::Manual && action.safety != Safety::Manual {
                return Err(invalid("a manual action must have safety `manual`".into()));
            }
            if action.kind != ActionKind::Manual && action.safety == Safety::Manual {
                return Err(invalid(format!(
                    "`{}` cannot have safety `manual`",
                    action.kind
                )));
            }
            if action.kind == ActionKind::DeleteKey
                && (action.precondition.inactive_for_days.is_none()
                    || action.precondition.key_status != Some(KeyStatus::Inactive))
            {
                // A key is never deleted without first having been inactive: a hand-edited
                // plan cannot drop that guard.
                return Err(invalid(
                    "`delete-key` must require key_status inactive and inactive_for_days".into(),
                ));
            }
            let needs_time = matches!(
                action.kind,
                ActionKind::RevokeSessions | ActionKind::Quarantine
            );
            if needs_time && action.policy_time.is_none() {
                return Err(invalid(format!("`{}` needs a policy_time", action.kind)));
            }
            if action.user.as_deref() == Some(crate::model::ROOT_USER_NAME)
                && action.kind != ActionKind::Manual
            {
                return Err(invalid(
                    "root's credentials can only be changed by root itself: use a manual step"
                        .into(),
                ));
            }
        }
        Ok(())
    }

    pub fn to_json(&self) -> String {
        // A plan holds only strings, numbers and timestamps: serialization cannot fail.
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }
}
