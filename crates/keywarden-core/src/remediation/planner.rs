//! Findings to actions. Only `fail` findings become actions; `unknown` and `exempted` ones are
//! listed as not planned, with why, so a reviewer sees everything the audit raised.
//!
//! What a failing finding becomes is its rule's [`Fix`], declared in the rule's own file next to
//! the data it reads (`keywarden rule CODE`, section Fix safety, says why each action has its
//! level); this file carries the fixes out. A key fix on root's keys becomes steps for root, and
//! a code outside the catalogue (a Sigma rule) steps for a person.
//!
//! Two findings asking for the same action on the same target become one action with both
//! reasons, at the lower safety level (a key KEY001 proves unused is safe to deactivate even if
//! KEY002 also fired).
//!
//! The safety level is never chosen here: it is [`Action::derived_safety`] of the action built,
//! the same function that checks a plan file when it is read, so the two cannot disagree. A
//! deactivation is `safe` only with the proof a [`Fix::RetireKey`] rule that `proves_idle` brings
//! (KEY001: idle for `max_unused_days`); KEY005 proves a key never used, not that it is old, so
//! its deactivation is `unsafe`.
//!
//! A plan names the 12-digit account it is for: findings whose ARNs carry no account (or that
//! name two accounts) are refused, since `apply` could not refuse another account's credentials.

use super::plan::{
    is_account_id, Action, ActionKind, KeyIdle, KeyStatus, NotPlanned, Plan, PlanError, PlanSource,
    Precondition, Reason, Safety, UseBound, PLAN_FORMAT, PLAN_VERSION,
};
use crate::finding::{Finding, Status};
use crate::model::ROOT_USER_NAME;
use crate::rules::{meta_by_code, Fix, ROOT_KEY_STEPS};
use crate::time::{format_timestamp, parse_timestamp, Timestamp};
use std::collections::HashMap;

/// What the planner needs of a finding, whether it came from a live audit or from a saved
/// `audit --format json` document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanFinding {
    pub rule: String,
    pub status: Status,
    pub account: Option<String>,
    pub user: Option<String>,
    pub access_key_id: Option<String>,
    pub message: String,
    /// The finding's evidence as text (instants in RFC 3339), `None` for null.
    pub evidence: Vec<(String, Option<String>)>,
}

/// Why a key finding is not planned when it has no key id: an audit of a credential report
/// file, which names keys by slot, never by id.
pub const NO_KEY_ID: &str = "no access key id: a credential report file has none; plan with \
                             --resolve-key-ids (reads ListAccessKeys) or from a live audit";

impl PlanFinding {
    pub fn from_finding(finding: &Finding) -> Self {
        PlanFinding {
            rule: finding.rule.code.to_owned(),
            status: finding.status,
            account: finding.account.clone(),
            user: finding.user.clone(),
            access_key_id: finding.access_key_id.clone(),
            message: finding.message.clone(),
            evidence: finding
                .evidence
                .iter()
                .map(|(key, value)| {
                    let text = match value {
                        crate::finding::EvidenceValue::Null => None,
                        other => Some(other.to_string()),
                    };
                    ((*key).to_owned(), text)
                })
                .collect(),
        }
    }

    /// An evidence instant: `Some(None)` when the evidence says null or a marker such as `N/A`
    /// (never used), `None` when the finding has no such evidence.
    fn evidence_time(&self, key: &str) -> Option<Option<Timestamp>> {
        self.evidence
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_deref().and_then(parse_timestamp))
    }

    /// An evidence count (`max_unused_days`), when the finding has one.
    fn evidence_days(&self, key: &str) -> Option<u32> {
        self.evidence
            .iter()
            .find(|(k, _)| k == key)
            .and_then(|(_, v)| v.as_deref()?.parse().ok())
    }

    fn reason(&self) -> Reason {
        Reason {
            rule: self.rule.clone(),
            message: self.message.clone(),
        }
    }
}

/// The knobs and facts the planner needs besides the findings.
#[derive(Debug, Clone)]
pub struct PlanSettings {
    pub now: Timestamp,
    /// How long a key stays inactive (and unused) before keywarden deletes it. Default 14.
    pub delete_after_days: u32,
    /// When keywarden knows a key became inactive (from its journal), by key id.
    pub inactive_since: HashMap<String, Timestamp>,
}

impl PlanSettings {
    pub const DEFAULT_DELETE_AFTER_DAYS: u32 = 14;

    pub fn new(now: Timestamp) -> Self {
        PlanSettings {
            now,
            delete_after_days: Self::DEFAULT_DELETE_AFTER_DAYS,
            inactive_since: HashMap::new(),
        }
    }
}

/// Builds the plan for `findings`. Pure: the same input gives the same plan.
///
/// `account` is the account the findings are about (the caller's identity for a live audit,
/// the findings' ARNs for a saved one). A plan without one, or whose findings name another, is
/// refused: `apply` checks the plan's account against its credentials, and an empty one would
/// switch that check off.
pub fn build_plan(
    findings: &[PlanFinding],
    settings: &PlanSettings,
    source: PlanSource,
    account: Option<String>,
) -> Result<Plan, PlanError> {
    let account = plan_account(findings, account)?;
    let mut builder = Builder {
        settings,
        account: account.clone(),
        actions: Vec::new(),
        not_planned: Vec::new(),
    };
    for finding in findings {
        builder.add(finding);
    }
    let Builder {
        mut actions,
        not_planned,
        ..
    } = builder;
    // What keywarden does comes first, in the audit's order (worst first); steps for a person
    // after.
    actions.sort_by_key(|a| a.safety == Safety::Manual);
    for (index, action) in actions.iter_mut().enumerate() {
        action.id = format!("A{:03}", index + 1);
    }
    let plan = Plan {
        format: PLAN_FORMAT.to_owned(),
        version: PLAN_VERSION,
        created_at: settings.now,
        account: Some(account),
        source,
        delete_after_days: settings.delete_after_days,
        actions,
        not_planned,
    };
    // The reader's checks: a plan keywarden writes is one `apply` reads back.
    plan.validate("the new plan")?;
    Ok(plan)
}

/// The one 12-digit account of the findings (or the caller's), or why there is none.
fn plan_account(findings: &[PlanFinding], account: Option<String>) -> Result<String, PlanError> {
    let refuse = |problem: String| Err(PlanError::NoAccount { problem });
    let Some(account) = account.filter(|a| !a.is_empty()) else {
        return refuse(
            "the findings carry no AWS account (their ARNs have none): a plan must name the \
             12-digit account it is for, so that `apply` refuses another account's credentials"
                .to_owned(),
        );
    };
    if !is_account_id(&account) {
        return refuse(format!(
            "`{account}` is not an AWS account id (12 digits): a plan must name the account it \
             is for"
        ));
    }
    if let Some(other) = findings
        .iter()
        .filter_map(|f| f.account.as_deref())
        .find(|a| *a != account)
    {
        return refuse(format!(
            "the findings are about two accounts ({account} and {other}): plan one account at \
             a time"
        ));
    }
    Ok(account)
}

struct Builder<'s> {
    settings: &'s PlanSettings,
    account: String,
    actions: Vec<Action>,
    not_planned: Vec<NotPlanned>,
}

impl Builder<'_> {
    fn add(&mut self, finding: &PlanFinding) {
        match finding.status {
            Status::Fail => {}
            Status::Unknown => return self.skip(finding, "unknown: the audit could not decide"),
            Status::Exempted => return self.skip(finding, "exempted"),
        }
        let rule = finding.rule.to_ascii_uppercase();
        let is_root = finding.user.as_deref() == Some(ROOT_USER_NAME);
        // The rule's own fix; a code outside the catalogue (a Sigma rule) gets steps for a person.
        let meta = meta_by_code(&rule);
        let fix = meta.map_or(Fix::Manual(&[]), |m| m.fix);
        match fix {
            _ if is_root && fix.acts_on_key() => self.manual(finding, steps(ROOT_KEY_STEPS, "")),
            Fix::RetireKey { proves_idle } => {
                let Some(unused) = self.key_target(finding, "last_used") else {
                    return;
                };
                // "Safe" rests on the key being unused: without last-use evidence, demand that
                // it was never used, the strictest bound.
                let unused = unused.or(Some(UseBound { last_used: None }));
                // Only a rule that proves the key idle for the threshold (since its last use, or
                // its creation when never used) makes the deactivation safe; a never-used key
                // made with its user may be minutes old and about to be used.
                let key_idle = if proves_idle {
                    finding.evidence_days("max_unused_days").and_then(|days| {
                        let since = match unused.and_then(|u| u.last_used) {
                            Some(last_used) => Some(last_used),
                            None => finding.evidence_time("created").flatten(),
                        }?;
                        Some(KeyIdle { since, days })
                    })
                } else {
                    None
                };
                let steps = if key_idle.is_none() {
                    vec![
                        "the key was never used but may be new (made with its user) and about \
                         to be: check with its owner first"
                            .to_owned(),
                    ]
                } else {
                    Vec::new()
                };
                self.push(
                    finding,
                    ActionKind::DeactivateKey,
                    None,
                    Precondition {
                        key_status: Some(KeyStatus::Active),
                        key_unused_since: unused,
                        key_idle,
                        ..self.not_exempt(&rule)
                    },
                    steps,
                );
                self.push_delete(finding, &rule, unused, Some(self.delete_due_after_now()));
            }
            Fix::DeactivateAfterRotation { last_used } => {
                let Some(unused) = self.key_target(finding, last_used) else {
                    return;
                };
                let user = finding.user.clone().unwrap_or_default();
                self.push(
                    finding,
                    ActionKind::DeactivateKey,
                    None,
                    Precondition {
                        key_status: Some(KeyStatus::Active),
                        key_unused_since: unused,
                        ..self.not_exempt(&rule)
                    },
                    vec![format!(
                        "the key may be in use: rotate it first (`keywarden rotate {user}`) and \
                         deactivate it once its workloads use the new key"
                    )],
                );
            }
            Fix::DeleteInactiveKey => {
                let Some(unused) = self.key_target(finding, "last_used") else {
                    return;
                };
                let since = finding
                    .access_key_id
                    .as_ref()
                    .and_then(|k| self.settings.inactive_since.get(k))
                    .map(|t| *t + crate::time::days(self.settings.delete_after_days));
                self.push_delete(finding, &rule, unused, since);
            }
            Fix::DeleteLoginProfile if !is_root => {
                let Some(user) = finding.user.clone() else {
                    return self.skip(finding, "the finding names no user");
                };
                let last_used = finding.evidence_time("password_last_used").flatten();
                self.push(
                    finding,
                    ActionKind::DeleteLoginProfile,
                    None,
                    Precondition {
                        password_present: true,
                        password_unused_since: Some(UseBound { last_used }),
                        ..self.not_exempt(&rule)
                    },
                    vec![format!(
                        "{user} loses console access; a new password can be set later, this one \
                         cannot be restored"
                    )],
                );
            }
            Fix::Manual(fixed) if !fixed.is_empty() => {
                let user = finding.user.as_deref().unwrap_or_default();
                self.manual(finding, steps(fixed, user))
            }
            Fix::DeleteLoginProfile | Fix::Manual(_) | Fix::ContainKey => {
                let mut steps = Vec::new();
                if fix == Fix::ContainKey {
                    if let Some(key) = finding
                        .access_key_id
                        .as_deref()
                        .filter(|k| k.starts_with("AKIA"))
                    {
                        steps.push(format!(
                            "if this was not expected, contain the key: keywarden contain {key}"
                        ));
                    }
                }
                let hint = meta
                    .map(|m| m.fix_hint())
                    .filter(|h| !h.is_empty())
                    .unwrap_or_else(|| format!("see `keywarden rule {rule}`"));
                steps.push(hint);
                self.manual(finding, steps)
            }
        }
    }

    /// The key id and the given last-use evidence, or a not-planned entry when the finding has
    /// no key id (an audit of a credential report file).
    fn key_target(&mut self, finding: &PlanFinding, last_used: &str) -> Option<Option<UseBound>> {
        if finding.user.is_none() {
            self.skip(finding, "the finding names no user");
            return None;
        }
        if finding.access_key_id.is_none() {
            self.skip(finding, NO_KEY_ID);
            return None;
        }
        Some(
            finding
                .evidence_time(last_used)
                .map(|last_used| UseBound { last_used }),
        )
    }

    fn not_exempt(&self, rule: &str) -> Precondition {
        Precondition {
            not_exempt_from: vec![rule.to_owned()],
            ..Precondition::default()
        }
    }

    fn delete_due_after_now(&self) -> Timestamp {
        self.settings.now + crate::time::days(self.settings.delete_after_days)
    }

    fn push_delete(
        &mut self,
        finding: &PlanFinding,
        rule: &str,
        unused: Option<UseBound>,
        not_before: Option<Timestamp>,
    ) {
        let days = self.settings.delete_after_days;
        let note = match not_before {
            Some(t) => format!(
                "deleted no earlier than {}, and only if keywarden's journal shows the key \
                 inactive for {days} days and unused since",
                format_timestamp(t)
            ),
            None => format!(
                "keywarden has no record of when this key became inactive: apply records it \
                 and deletes the key {days} days later if it stays inactive and unused"
            ),
        };
        self.push(
            finding,
            ActionKind::DeleteKey,
            not_before,
            Precondition {
                key_status: Some(KeyStatus::Inactive),
                key_unused_since: unused,
                inactive_for_days: Some(days),
                ..self.not_exempt(rule)
            },
            vec![note],
        );
    }

    fn manual(&mut self, finding: &PlanFinding, steps: Vec<String>) {
        self.push(
            finding,
            ActionKind::Manual,
            None,
            Precondition::default(),
            steps,
        );
    }

    /// Adds the action, or merges it into the same action on the same target. Its safety is
    /// what its kind and precondition earn ([`Action::derived_safety`]).
    fn push(
        &mut self,
        finding: &PlanFinding,
        kind: ActionKind,
        not_before: Option<Timestamp>,
        precondition: Precondition,
        steps: Vec<String>,
    ) {
        let mut action = Action {
            id: String::new(),
            kind,
            safety: Safety::Manual,
            account: Some(self.account.clone()),
            user: finding.user.clone(),
            access_key_id: finding.access_key_id.clone(),
            not_before,
            policy_time: None,
            precondition,
            reasons: vec![finding.reason()],
            steps,
        };
        action.safety = action.derived_safety();
        let same_target = |a: &Action| {
            a.kind == kind
                && a.user == finding.user
                && a.access_key_id == finding.access_key_id
                // Manual steps differ by rule; merge only repeated findings of one rule.
                && (kind != ActionKind::Manual || a.reasons.iter().any(|r| r.rule == finding.rule))
        };
        let Some(existing) = self.actions.iter_mut().find(|a| same_target(a)) else {
            self.actions.push(action);
            return;
        };
        existing.reasons.append(&mut action.reasons);
        for rule in action.precondition.not_exempt_from {
            if !existing.precondition.not_exempt_from.contains(&rule) {
                existing.precondition.not_exempt_from.push(rule);
            }
        }
        if action.safety < existing.safety {
            // The safer finding proves more (KEY001 saw the key unused): its precondition
            // and notes are the ones that make the action safe.
            existing.safety = action.safety;
            existing.precondition.key_unused_since = action.precondition.key_unused_since;
            existing.precondition.key_idle = action.precondition.key_idle;
            existing.steps = action.steps;
        }
    }

    fn skip(&mut self, finding: &PlanFinding, why: &str) {
        self.not_planned.push(NotPlanned {
            rule: finding.rule.clone(),
            user: finding.user.clone(),
            access_key_id: finding.access_key_id.clone(),
            why: why.to_owned(),
        });
    }
}

/// A fix's steps for a person, `{user}` replaced by the finding's user.
fn steps(fixed: &[&str], user: &str) -> Vec<String> {
    fixed
        .iter()
        .map(|step| step.replace("{user}", user))
        .collect()
}
