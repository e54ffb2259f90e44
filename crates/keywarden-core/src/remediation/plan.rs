//! The plan file: a versioned JSON list of actions, each with its target, the precondition it
//! relies on, the findings that motivate it and a safety level. `keywarden plan` writes it,
//! a person reviews it, `keywarden apply` runs it.
//!
//! The file is input a person may edit, so reading it trusts nothing the file could use to lower
//! its own guards: every object refuses unknown fields (a misspelled precondition would
//! otherwise be dropped silently, and the action would run without it), every action's safety
//! level is derived from its kind and precondition ([`Action::derived_safety`]) and must agree
//! with the level the file states, deletes are always two-phase, and the plan and each action
//! name the 12-digit account they are for. Errors name the action and the field.

use crate::time::Timestamp;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;

/// The `format` field of every plan file.
pub const PLAN_FORMAT: &str = "keywarden-plan";
/// The plan layout this build writes and reads. A plan of another version is refused.
pub const PLAN_VERSION: u32 = 1;

/// How much an action may break, ordered from the least. `apply` runs `safe` actions by
/// default; `two-phase` and `unsafe` ones only when asked; `manual` ones never.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
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
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "kebab-case", deny_unknown_fields)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UseBound {
    pub last_used: Option<Timestamp>,
}

/// How long a key must have been idle when the action runs: since `since` (its last use, or its
/// creation when it was never used), for at least `days`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KeyIdle {
    pub since: Timestamp,
    pub days: u32,
}

/// What must still be true when `apply` runs the action. Every field is optional; the ones
/// present are all checked against state re-read just before the call.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Precondition {
    /// The key must exist with this status.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_status: Option<KeyStatus>,
    /// The key must not have been used after the plan saw it last used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_unused_since: Option<UseBound>,
    /// The key must have been idle (not used, or never used since it was created) for at least
    /// `days` when the action runs. What makes a deactivation `safe`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub key_idle: Option<KeyIdle>,
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
        if let Some(idle) = self.key_idle {
            parts.push(format!(
                "key idle since {} for {}+ days",
                crate::time::format_timestamp(idle.since),
                idle.days
            ));
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Reason {
    pub rule: String,
    pub message: String,
}

/// One step of a plan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Action {
    /// Unique within the plan (`A001`); the journal records progress by it.
    pub id: String,
    pub kind: ActionKind,
    pub safety: Safety,
    /// The 12-digit AWS account the target is in; the plan's own account. Required when read.
    pub account: Option<String>,
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

    /// The safety level this action's kind and precondition earn, whatever a file says:
    ///
    /// - `manual`: only `manual` actions (steps for a person);
    /// - `two-phase`: a `delete-key`, always (irreversible; its guard is the journal's record
    ///   of inactivity, see [`Plan::from_json`]);
    /// - `safe`: a `deactivate-key` that requires the key active, not used after the use the
    ///   plan saw, and idle (`key_idle`) for at least a day since that use when it runs: a key
    ///   nobody used for the threshold cannot break a workload when it stops working;
    /// - `unsafe`: everything else (a deactivation without that proof, a young or recently used
    ///   key, removing a console password, revoking sessions, quarantine).
    pub fn derived_safety(&self) -> Safety {
        let pre = &self.precondition;
        match self.kind {
            ActionKind::Manual => Safety::Manual,
            ActionKind::DeleteKey => Safety::TwoPhase,
            ActionKind::DeactivateKey => {
                let idle_proven = match (pre.key_unused_since, pre.key_idle) {
                    (Some(bound), Some(idle)) if idle.days >= 1 => match bound.last_used {
                        // Idle since before its last use would claim a gap `apply` cannot check.
                        Some(last_used) => idle.since >= last_used,
                        // Never used: idle since its creation, which `since` states.
                        None => true,
                    },
                    _ => false,
                };
                if pre.key_status == Some(KeyStatus::Active) && idle_proven {
                    Safety::Safe
                } else {
                    Safety::Unsafe
                }
            }
            ActionKind::DeleteLoginProfile
            | ActionKind::RevokeSessions
            | ActionKind::Quarantine => Safety::Unsafe,
        }
    }
}

/// Whether `account` is an AWS account id: exactly 12 ASCII digits.
pub fn is_account_id(account: &str) -> bool {
    account.len() == 12 && account.bytes().all(|b| b.is_ascii_digit())
}

/// Why `account` (a plan's or an action's) is not usable, if it is not.
fn account_problem(account: Option<&str>) -> Option<String> {
    match account {
        None => Some(
            "missing: every plan and every action names the 12-digit AWS account it is for"
                .to_owned(),
        ),
        Some(a) if !is_account_id(a) => Some(format!(
            "`{a}` is not an AWS account id (12 digits); the cross-account refusal needs one"
        )),
        Some(_) => None,
    }
}

/// Where the findings a plan was built from came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanSource {
    /// `live`, `audit-file`, `rotation`.
    pub kind: String,
    pub location: String,
    /// When the audited data was produced, if known.
    pub data_as_of: Option<Timestamp>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Plan {
    pub format: String,
    pub version: u32,
    pub created_at: Timestamp,
    /// The 12-digit AWS account the plan is for; `apply` refuses other accounts' credentials.
    /// Required when read (`None` only so that a caller can build a plan before it knows).
    pub account: Option<String>,
    pub source: PlanSource,
    pub delete_after_days: u32,
    pub actions: Vec<Action>,
    /// Findings the plan does nothing about (unknown, exempted, or without a key id).
    #[serde(default)]
    pub not_planned: Vec<NotPlanned>,
}

/// A finding the plan does nothing about, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
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
    /// A top-level field of the plan is wrong.
    #[error("{origin}: {field}: {problem}")]
    Field {
        origin: String,
        field: &'static str,
        problem: String,
    },
    /// The findings a plan would be made from cannot say which account it is for.
    #[error("cannot plan: {problem}")]
    NoAccount { problem: String },
    /// `index` counts from 0, as in the file's `actions` array; `problem` starts with the
    /// field it is about (`precondition.inactive_for_days: ...`).
    #[error("{origin}: actions[{index}] ({id}): {problem}")]
    Invalid {
        origin: String,
        index: usize,
        id: String,
        problem: String,
    },
}

/// One action of a file, read on its own; the error names the field (`precondition: unknown
/// field `key_unused_snice``).
fn read_action(value: &serde_json::Value) -> Result<Action, String> {
    if let Some(precondition) = value.get("precondition") {
        Precondition::deserialize(precondition).map_err(|e| format!("precondition: {e}"))?;
    }
    if let Some(reasons) = value.get("reasons").and_then(serde_json::Value::as_array) {
        for (i, reason) in reasons.iter().enumerate() {
            Reason::deserialize(reason).map_err(|e| format!("reasons[{i}]: {e}"))?;
        }
    }
    Action::deserialize(value).map_err(|e| e.to_string())
}

/// Why an action earns `derived` rather than what the file says, for the error message.
fn safety_hint(action: &Action, derived: Safety) -> &'static str {
    match (action.kind, derived) {
        (ActionKind::DeleteKey, _) => ": a delete is always two-phase",
        (ActionKind::Manual, _) | (_, Safety::Manual) => ": only manual actions are manual",
        (ActionKind::DeactivateKey, Safety::Unsafe) => {
            ": a deactivation is safe only when the precondition requires the key active, \
             unused since its last use (key_unused_since) and idle for at least a day since \
             then (key_idle)"
        }
        _ => "",
    }
}

impl Plan {
    /// Reads a plan file's text, checking its format, version and internal consistency
    /// (unknown fields, unique ids, accounts, a target for every automated action, safety
    /// levels derived from the actions, two-phase deletes only of inactive keys).
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
        let value: serde_json::Value = serde_json::from_str(text).map_err(json_error)?;
        // Actions first, one by one, so that a wrong or unknown field is reported with the
        // action it is in (serde's own message names the field, not where it is).
        if let Some(actions) = value.get("actions").and_then(serde_json::Value::as_array) {
            for (index, action) in actions.iter().enumerate() {
                read_action(action).map_err(|problem| PlanError::Invalid {
                    origin: origin.to_owned(),
                    index,
                    id: action
                        .get("id")
                        .and_then(serde_json::Value::as_str)
                        .unwrap_or("?")
                        .to_owned(),
                    problem,
                })?;
            }
        }
        if let Some(source) = value.get("source") {
            PlanSource::deserialize(source).map_err(|e| PlanError::Field {
                origin: origin.to_owned(),
                field: "source",
                problem: e.to_string(),
            })?;
        }
        let plan = Plan::deserialize(&value).map_err(json_error)?;
        plan.validate(origin)?;
        Ok(plan)
    }

    /// The checks every plan passes, whoever made it: `build_plan` runs them too, so a plan
    /// keywarden writes is one it will read back.
    pub fn validate(&self, origin: &str) -> Result<(), PlanError> {
        let field = |field: &'static str, problem: String| PlanError::Field {
            origin: origin.to_owned(),
            field,
            problem,
        };
        if let Some(problem) = account_problem(self.account.as_deref()) {
            return Err(field("account", problem));
        }
        let mut seen = std::collections::HashSet::new();
        for (index, action) in self.actions.iter().enumerate() {
            let invalid = |problem: String| PlanError::Invalid {
                origin: origin.to_owned(),
                index,
                id: action.id.clone(),
                problem,
            };
            if !seen.insert(action.id.as_str()) {
                return Err(invalid(format!("id: duplicate id `{}`", action.id)));
            }
            if let Some(problem) = account_problem(action.account.as_deref()) {
                return Err(invalid(format!("account: {problem}")));
            }
            if action.account != self.account {
                return Err(invalid(format!(
                    "account: `{}` is not the plan's account `{}`",
                    action.account.as_deref().unwrap_or_default(),
                    self.account.as_deref().unwrap_or_default()
                )));
            }
            self.validate_action(action).map_err(invalid)?;
        }
        Ok(())
    }

    /// One action's checks; the error starts with the field it is about.
    fn validate_action(&self, action: &Action) -> Result<(), String> {
        let needs_key = matches!(
            action.kind,
            ActionKind::DeactivateKey | ActionKind::DeleteKey
        );
        if action.kind != ActionKind::Manual && action.user.is_none() {
            return Err(format!("user: `{}` needs a user", action.kind));
        }
        if needs_key && action.access_key_id.is_none() {
            return Err(format!("access_key_id: `{}` needs a key", action.kind));
        }
        if action.kind == ActionKind::DeleteKey {
            // A key is deleted only after it has been inactive, by keywarden's own record, for
            // the plan's delete_after_days (at least a day): a hand edit cannot shorten the
            // two-phase guard or drop it.
            let pre = &action.precondition;
            if pre.key_status != Some(KeyStatus::Inactive) {
                return Err(
                    "precondition.key_status: `delete-key` must require the key `inactive`".into(),
                );
            }
            let floor = self.delete_after_days.max(1);
            match pre.inactive_for_days {
                None => {
                    return Err(format!(
                        "precondition.inactive_for_days: `delete-key` must require the key \
                         inactive for at least {floor} days"
                    ))
                }
                Some(days) if days < floor => {
                    return Err(format!(
                        "precondition.inactive_for_days: {days} is below {floor} (the plan's \
                         delete_after_days, and never below 1): a delete is always two-phase"
                    ))
                }
                Some(_) => {}
            }
        }
        let derived = action.derived_safety();
        if action.safety != derived {
            return Err(format!(
                "safety: `{}` does not match what the action and its precondition make it \
                 (`{derived}`){}",
                action.safety,
                safety_hint(action, derived)
            ));
        }
        let needs_time = matches!(
            action.kind,
            ActionKind::RevokeSessions | ActionKind::Quarantine
        );
        if needs_time && action.policy_time.is_none() {
            return Err(format!(
                "policy_time: `{}` needs a policy_time",
                action.kind
            ));
        }
        if action.user.as_deref() == Some(crate::model::ROOT_USER_NAME)
            && action.kind != ActionKind::Manual
        {
            return Err(
                "user: root's credentials can only be changed by root itself: use a manual step"
                    .into(),
            );
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
