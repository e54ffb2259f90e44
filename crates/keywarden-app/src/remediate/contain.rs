//! `keywarden contain AKIA...`: the playbook for a leaked key in one run.
//!
//! 1. The key id is checked (`AKIA` + 16 upper-case letters or digits; an `ASIA` session key is
//!    refused with a pointer to the long-term key that minted it) and its owner found with
//!    GetAccessKeyLastUsed. A key of the root user cannot be changed by IAM calls: manual steps.
//! 2. A plan of three actions, run by the journaled engine as a `contain` run
//!    ([`super::apply_plan`]): A001 deactivate the key, A002 revoke the sessions issued before
//!    now, A003 quarantine the user until now + `quarantine_hours`. The deactivation is `unsafe`
//!    (it may break a workload: that is the point) and is run regardless; no precondition and no
//!    exemption can stop it: an exemption must not stop containing a leak.
//! 3. Running it twice does no harm: the key already inactive is `already-done`; the second run
//!    re-puts the revocation with its own `now` (revoking everything issued before the second
//!    run, which includes what the first revoked) and refreshes the quarantine's deadline; `undo`
//!    of the second run restores the first run's documents.
//! 4. The incident report ([`IncidentReport`], Markdown and JSON, docs/incident-report.md):
//!    every step with its time and outcome, read back from the journal, the policy documents
//!    exactly as sent, and, when CloudTrail sources were read, the sessions the key minted and
//!    what they did ([`SessionUsage`], [`trail_section`]).

use super::{
    apply_plan, ActionResult, ApplyOptions, Clock, CrashPoint, Effect, RemediationClient,
    RemediationError, RunReport,
};
use crate::files::{create_private_dir_all, write_atomically};
use crate::journal::{Journal, RunKind, StepEntry, StepRecord};
use keywarden_aws::api::{AwsError, CallerIdentity};
use keywarden_core::cloudtrail::event::Event;
use keywarden_core::cloudtrail::lineage::{is_temporary, Change, Lineage, Use, UseSpan};
use keywarden_core::config::AuditConfig;
use keywarden_core::model::ROOT_USER_NAME;
use keywarden_core::remediation::{
    aws_policy_time, quarantine_policy, revoke_sessions_policy, Action, ActionKind, Plan,
    PlanSource, Precondition, Reason, Safety, PLAN_FORMAT, PLAN_VERSION, QUARANTINE_POLICY_NAME,
    REVOKE_SESSIONS_POLICY_NAME,
};
use keywarden_core::Timestamp;
use keywarden_output::escape::{markdown, markdown_code_block};
use schemars::JsonSchema;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// The plan source kind of a contain run.
pub const CONTAIN_SOURCE_KIND: &str = "contain";
/// The `format` field of the incident report's JSON.
pub const INCIDENT_FORMAT: &str = "keywarden-incident";
/// The incident report layout this build writes (docs/incident-report.md).
pub const INCIDENT_VERSION: u32 = 1;
/// The default quarantine: the longest a GetSessionToken credential lives.
pub const DEFAULT_QUARANTINE_HOURS: u32 = 36;

/// Why a containment did not start. Nothing was written to AWS when one of these comes back.
#[derive(Debug, thiserror::Error)]
pub enum ContainError {
    #[error(
        "`{0}` is not an access key id: expected AKIA followed by 16 upper-case letters or digits"
    )]
    BadKeyId(String),
    #[error(
        "{0} is a temporary (session) key: contain takes the long-term key (AKIA...) that minted \
         it; `keywarden key AKIA... SOURCE...` or CloudTrail's userIdentity.accessKeyId of the \
         minting call names it. Containing that key revokes this session too."
    )]
    SessionKey(String),
    #[error("cannot find the owner of {key}, nothing was changed: {error}")]
    Owner { key: String, error: AwsError },
    #[error("GetAccessKeyLastUsed did not name the owner of {0}, nothing was changed")]
    NoOwner(String),
    #[error(
        "{key} is a key of the root user: IAM calls cannot deactivate or delete root's keys, \
         nothing was changed. Do it by hand:\n{}",
        root_steps(key).iter().enumerate().map(|(i, s)| format!("  {}. {s}", i + 1)).collect::<Vec<_>>().join("\n")
    )]
    Root { key: String },
    #[error("cannot tell which credentials keywarden runs with: {0}")]
    Identity(AwsError),
    #[error(transparent)]
    Remediation(#[from] RemediationError),
}

/// What a person does about a leaked root key.
pub fn root_steps(key: &str) -> Vec<String> {
    vec![
        "sign in to the AWS console as the root user (with its MFA)".to_owned(),
        format!("Security credentials > Access keys: deactivate {key}, then delete it"),
        "rotate the root password and check the root MFA device".to_owned(),
        "review CloudTrail for the key's use (`keywarden key KEY SOURCE...`), and for IAM users, \
         roles and keys it created"
            .to_owned(),
    ]
}

/// Checks the shape of the key id: `AKIA` and 16 upper-case letters or digits.
pub fn check_key_id(key_id: &str) -> Result<(), ContainError> {
    let well_formed = |prefix: &str| {
        key_id.len() == 20
            && key_id.starts_with(prefix)
            && key_id[4..]
                .bytes()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    };
    if well_formed("AKIA") {
        Ok(())
    } else if well_formed("ASIA") {
        Err(ContainError::SessionKey(key_id.to_owned()))
    } else {
        Err(ContainError::BadKeyId(key_id.to_owned()))
    }
}

/// The owner of the key, from GetAccessKeyLastUsed's `UserName`. Root's key is refused.
pub async fn find_owner<C: RemediationClient>(
    client: &C,
    key_id: &str,
) -> Result<String, ContainError> {
    let used = client
        .get_access_key_last_used(key_id)
        .await
        .map_err(|error| ContainError::Owner {
            key: key_id.to_owned(),
            error,
        })?;
    let owner = used
        .user
        .filter(|u| !u.is_empty())
        .ok_or_else(|| ContainError::NoOwner(key_id.to_owned()))?;
    let root = || ContainError::Root {
        key: key_id.to_owned(),
    };
    if owner == ROOT_USER_NAME {
        return Err(root());
    }
    if owner == "root" {
        // AWS names root's keys' owner `root`; an IAM user may be called that too, and GetUser
        // tells them apart.
        match client.get_user(&owner).await {
            Ok(Some(_)) => {}
            Ok(None) => return Err(root()),
            Err(error) => {
                return Err(ContainError::Owner {
                    key: key_id.to_owned(),
                    error,
                })
            }
        }
    }
    Ok(owner)
}

/// The contain plan: deactivate the key, revoke the sessions issued before `now`, quarantine
/// the owner until `now + quarantine_hours`.
pub fn contain_plan(
    key_id: &str,
    owner: &str,
    account: Option<String>,
    now: Timestamp,
    quarantine_hours: u32,
) -> Plan {
    let reason = |message: &str| {
        vec![Reason {
            rule: "contain".to_owned(),
            message: message.to_owned(),
        }]
    };
    let action = |id: &str, kind, safety, key: Option<&str>, time, why: &str| Action {
        id: id.to_owned(),
        kind,
        safety,
        account: account.clone(),
        user: Some(owner.to_owned()),
        access_key_id: key.map(str::to_owned),
        not_before: None,
        policy_time: time,
        // Nothing may stop containing a leak: no status, use or exemption condition.
        precondition: Precondition::default(),
        reasons: reason(why),
        steps: Vec::new(),
    };
    let until = now + chrono::Duration::hours(i64::from(quarantine_hours));
    Plan {
        format: PLAN_FORMAT.to_owned(),
        version: PLAN_VERSION,
        created_at: now,
        account: account.clone(),
        source: PlanSource {
            kind: CONTAIN_SOURCE_KIND.to_owned(),
            location: key_id.to_owned(),
            data_as_of: Some(now),
        },
        delete_after_days: 0,
        actions: vec![
            action(
                "A001",
                ActionKind::DeactivateKey,
                Safety::Unsafe,
                Some(key_id),
                None,
                "the key leaked: it must stop signing requests",
            ),
            action(
                "A002",
                ActionKind::RevokeSessions,
                Safety::Unsafe,
                None,
                Some(now),
                "the sessions the key minted stay valid after it is deactivated",
            ),
            action(
                "A003",
                ActionKind::Quarantine,
                Safety::Unsafe,
                None,
                Some(until),
                &format!(
                    "deny everything to the user's credentials for {quarantine_hours} hours, \
                     the longest a GetSessionToken credential lives"
                ),
            ),
        ],
        not_planned: Vec::new(),
    }
}

/// One step of the containment, as the incident report shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ContainStep {
    pub action_id: String,
    pub kind: String,
    pub target: String,
    /// `done`, `already-done`, `failed`, `not-attempted`, `unverified`, ...
    pub outcome: String,
    pub detail: String,
    /// The AWS call made, when one was (`iam:UpdateAccessKey`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub call: Option<String>,
    /// When the journal recorded the intent (or the decision not to call).
    #[serde(with = "opt_time")]
    #[schemars(with = "Option<String>")]
    pub started_at: Option<Timestamp>,
    /// When the journal recorded the call's outcome.
    #[serde(with = "opt_time")]
    #[schemars(with = "Option<String>")]
    pub finished_at: Option<Timestamp>,
    /// Whether reading the state back after the call confirmed it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub verified: Option<bool>,
}

/// An inline policy the containment put on the user.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AttachedPolicy {
    pub action_id: String,
    pub user: String,
    pub policy_name: String,
    /// The document exactly as sent to PutUserPolicy (or as found already in place).
    pub document: String,
    /// The condition's time, as AWS reads it (`2026-01-02T03:04:05Z`).
    pub condition_time: String,
    /// Whether it is in place after the run (`done` or `already-done`).
    pub in_place: bool,
}

/// What a containment did.
#[derive(Debug, Clone)]
pub struct Containment {
    pub key_id: String,
    pub owner: String,
    pub caller: CallerIdentity,
    pub started_at: Timestamp,
    pub finished_at: Timestamp,
    pub quarantine_hours: u32,
    /// Sessions issued before this instant are denied.
    pub revoked_before: Timestamp,
    /// The quarantine lifts itself at this instant.
    pub quarantine_until: Timestamp,
    pub plan: Plan,
    pub report: RunReport,
    pub steps: Vec<ContainStep>,
    pub policies: Vec<AttachedPolicy>,
}

impl Containment {
    /// Every step done or already done: the exit status is 0; otherwise 2.
    pub fn complete(&self) -> bool {
        self.report.actions.iter().all(|a| {
            matches!(
                a.result,
                ActionResult::Done { verified: true, .. } | ActionResult::AlreadyDone(_)
            )
        })
    }
}

/// Contains `key_id`: finds its owner, then runs the contain plan as a journaled `contain` run.
/// An error means nothing was written to AWS; a failed step is in the [`Containment`].
pub async fn contain_key<C: RemediationClient>(
    client: &C,
    journal: &mut Journal,
    clock: Clock<'_>,
    key_id: &str,
    quarantine_hours: u32,
    crash: Option<CrashPoint>,
) -> Result<Containment, ContainError> {
    check_key_id(key_id)?;
    let caller = client
        .caller_identity()
        .await
        .map_err(ContainError::Identity)?;
    let owner = find_owner(client, key_id).await?;
    let started_at = clock();
    let plan = contain_plan(
        key_id,
        &owner,
        Some(caller.account.clone()),
        started_at,
        quarantine_hours,
    );
    let options = ApplyOptions {
        allow_unsafe: true,
        allow_two_phase: false,
        max_actions: None,
    };
    let report = apply_plan(
        client,
        journal,
        clock,
        &plan,
        RunKind::Contain,
        &options,
        &AuditConfig::default(),
        crash,
    )
    .await?;
    let records = journal.steps(&report.run).map_err(RemediationError::from)?;
    let steps = steps_of(&plan, &report, &records);
    let policies = policies_of(&plan, &report, &records);
    let time = |kind| {
        plan.actions
            .iter()
            .find(|a| a.kind == kind)
            .and_then(|a| a.policy_time)
            .unwrap_or(started_at)
    };
    Ok(Containment {
        key_id: key_id.to_owned(),
        owner,
        caller,
        started_at,
        finished_at: clock(),
        quarantine_hours,
        revoked_before: time(ActionKind::RevokeSessions),
        quarantine_until: time(ActionKind::Quarantine),
        steps,
        policies,
        plan,
        report,
    })
}

/// The journal's last record of each action of the run.
fn last_record<'r>(records: &'r [StepRecord], action_id: &str) -> Option<&'r StepRecord> {
    records.iter().rev().find(|r| r.action_id == action_id)
}

fn steps_of(plan: &Plan, report: &RunReport, records: &[StepRecord]) -> Vec<ContainStep> {
    report
        .actions
        .iter()
        .map(|action| {
            let record = last_record(records, &action.action_id);
            let call = record.and_then(StepRecord::call);
            let target = plan
                .actions
                .iter()
                .find(|a| a.id == action.action_id)
                .map_or_else(|| action.target.clone(), Action::target);
            ContainStep {
                action_id: action.action_id.clone(),
                kind: action.kind.clone(),
                target,
                outcome: action.result.label().to_owned(),
                detail: action.result.detail(),
                call: call.map(|c| c.call.clone()),
                started_at: record.map(|r| r.at),
                finished_at: match record.map(|r| &r.entry) {
                    Some(StepEntry::Call(c)) => c.outcome.as_ref().map(|o| o.at),
                    Some(StepEntry::Skipped { .. }) => record.map(|r| r.at),
                    None => None,
                },
                verified: call
                    .and_then(|c| c.verification.as_ref())
                    .map(|v| v.verified),
            }
        })
        .collect()
}

fn policies_of(plan: &Plan, report: &RunReport, records: &[StepRecord]) -> Vec<AttachedPolicy> {
    plan.actions
        .iter()
        .filter_map(|action| {
            let time = action.policy_time?;
            let (name, built) = match action.kind {
                ActionKind::RevokeSessions => {
                    (REVOKE_SESSIONS_POLICY_NAME, revoke_sessions_policy(time))
                }
                ActionKind::Quarantine => (QUARANTINE_POLICY_NAME, quarantine_policy(time)),
                _ => return None,
            };
            // The document the call carried, from the journal; else (nothing sent: already in
            // place, or refused) the one the engine builds, which is the same text.
            let sent = last_record(records, &action.id)
                .and_then(StepRecord::call)
                .and_then(|c| Effect::from_json(&c.params_json).ok())
                .and_then(|e| match e {
                    Effect::PutUserPolicy { document, .. } => Some(document),
                    _ => None,
                });
            let in_place = report
                .actions
                .iter()
                .find(|a| a.action_id == action.id)
                .is_some_and(|a| {
                    matches!(
                        a.result,
                        ActionResult::Done { .. } | ActionResult::AlreadyDone(_)
                    )
                });
            Some(AttachedPolicy {
                action_id: action.id.clone(),
                user: action.user.clone().unwrap_or_default(),
                policy_name: name.to_owned(),
                document: sent.unwrap_or_else(|| built.to_string()),
                condition_time: aws_policy_time(time),
                in_place,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// What the sessions did: counted while the CloudTrail sources are read.

#[derive(Debug, Default)]
struct KeyUsage {
    by_event: BTreeMap<String, u64>,
    errors: u64,
    times: Vec<Timestamp>,
}

/// Counts the calls signed by temporary keys (`ASIA...`), by event name, as the sources are
/// read: lineage keeps only a session's first and last use, an incident report wants what it
/// did. Run it as the reading's inspector ([`crate::trail::Inspector`]). An event read twice
/// (same `eventID`) counts once. Memory: an event id and a time per temporary-key event read.
#[derive(Debug, Default)]
pub struct SessionUsage {
    inner: Mutex<(HashSet<String>, HashMap<String, KeyUsage>)>,
}

impl SessionUsage {
    pub fn observe(&self, event: &Event) {
        let Some(signer) = event.identity.access_key_id.as_deref() else {
            return;
        };
        if !is_temporary(signer) {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        let (seen, keys) = &mut *inner;
        if !event.event_id.is_empty() && !seen.insert(event.event_id.clone()) {
            return;
        }
        let usage = keys.entry(signer.to_owned()).or_default();
        *usage.by_event.entry(event.event_name.clone()).or_default() += 1;
        if !event.succeeded() {
            usage.errors += 1;
        }
        usage.times.push(event.event_time);
    }
}

/// A time, a call and where it came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TrailMoment {
    #[serde(with = "time")]
    #[schemars(with = "String")]
    pub time: Timestamp,
    pub event_name: String,
    pub event_id: String,
    pub source_ip: Option<String>,
}

impl TrailMoment {
    fn of_change(c: &Change) -> TrailMoment {
        TrailMoment {
            time: c.time,
            event_name: c.event_name.clone(),
            event_id: c.event_id.clone(),
            source_ip: c.source_ip.clone(),
        }
    }

    fn of_use(u: &Use) -> TrailMoment {
        TrailMoment {
            time: u.time,
            event_name: u.event_name.clone(),
            event_id: u.event_id.clone(),
            source_ip: u.source_ip.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct EventCount {
    pub event_name: String,
    pub count: u64,
}

/// One session the key minted (directly, or by role chaining from one it minted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct MintedSession {
    pub access_key_id: String,
    /// The key that signed the minting call: the contained key, or a session (role chaining).
    pub parent: String,
    /// How: GetSessionToken, GetFederationToken, AssumeRole.
    pub minted_with: String,
    #[serde(with = "time")]
    #[schemars(with = "String")]
    pub minted_at: Timestamp,
    pub minted_event_id: String,
    pub source_ip: Option<String>,
    pub actor: Option<String>,
    pub first_use: Option<TrailMoment>,
    pub last_use: Option<TrailMoment>,
    /// Calls signed with the session, by event name, most frequent first.
    pub events: Vec<EventCount>,
    pub calls: u64,
    /// Calls AWS answered with an error.
    pub failed_calls: u64,
    /// Calls after the contained key was deactivated or deleted (the logs' first such change
    /// after the minting): the session outlived its key.
    pub uses_after_key_revoked: Option<u64>,
}

/// What CloudTrail says about the key and the sessions it minted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct TrailSection {
    pub sources: String,
    pub events_read: u64,
    pub bad_records: u64,
    /// Whether the logs mention the key at all.
    pub key_seen: bool,
    pub key_first_use: Option<TrailMoment>,
    pub key_last_use: Option<TrailMoment>,
    /// The key's first deactivation or deletion the logs show (not this containment's: those
    /// logs are usually older).
    pub key_revoked: Option<TrailMoment>,
    pub sessions: Vec<MintedSession>,
    /// Why the sources could not be read completely, if they could not.
    pub error: Option<String>,
}

/// The trail section for `key_id`, from the lineage and the usage counted while reading.
pub fn trail_section(
    lineage: &Lineage,
    usage: &SessionUsage,
    key_id: &str,
    sources: String,
    events_read: u64,
    bad_records: u64,
) -> TrailSection {
    let history = lineage.keys.get(key_id);
    let span = |s: Option<&UseSpan>| {
        (
            s.map(|s| TrailMoment::of_use(&s.first)),
            s.map(|s| TrailMoment::of_use(&s.last)),
        )
    };
    let (key_first_use, key_last_use) = span(history.and_then(|h| h.used.as_ref()));
    let first_revocation = history.and_then(|h| {
        h.status_changes
            .iter()
            .filter(|c| c.status.as_deref() == Some("Inactive"))
            .chain(h.deleted.iter())
            .min_by_key(|c| (c.time, c.event_id.clone()))
    });
    let inner = usage.inner.lock().unwrap_or_else(|e| e.into_inner());
    let mut sessions: Vec<MintedSession> = lineage
        .sessions
        .values()
        .filter(|s| lineage.root_key_of(&s.key_id) == Some(key_id))
        .map(|s| {
            let (first_use, last_use) = span(lineage.session_uses.get(&s.key_id));
            let counted = inner.1.get(&s.key_id);
            let mut events: Vec<EventCount> = counted
                .map(|u| {
                    u.by_event
                        .iter()
                        .map(|(name, count)| EventCount {
                            event_name: name.clone(),
                            count: *count,
                        })
                        .collect()
                })
                .unwrap_or_default();
            events.sort_by(|a, b| b.count.cmp(&a.count).then(a.event_name.cmp(&b.event_name)));
            let origin = lineage
                .chain_origin(&s.key_id)
                .map_or(s.minted.time, |(_, t)| t);
            let revoked = history.and_then(|h| h.revoked_after(origin));
            MintedSession {
                access_key_id: s.key_id.clone(),
                parent: s.parent.clone(),
                minted_with: s.minted.event_name.clone(),
                minted_at: s.minted.time,
                minted_event_id: s.minted.event_id.clone(),
                source_ip: s.minted.source_ip.clone(),
                actor: s.minted.actor.clone(),
                first_use,
                last_use,
                calls: events.iter().map(|e| e.count).sum(),
                failed_calls: counted.map_or(0, |u| u.errors),
                uses_after_key_revoked: revoked.map(|r| {
                    counted.map_or(0, |u| {
                        u.times.iter().filter(|t| **t > r.time).count() as u64
                    })
                }),
                events,
            }
        })
        .collect();
    sessions.sort_by(|a, b| (a.minted_at, &a.access_key_id).cmp(&(b.minted_at, &b.access_key_id)));
    TrailSection {
        sources,
        events_read,
        bad_records,
        key_seen: history.is_some(),
        key_first_use,
        key_last_use,
        key_revoked: first_revocation.map(TrailMoment::of_change),
        sessions,
        error: None,
    }
}

// ---------------------------------------------------------------------------------------------
// The incident report.

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct CallerReport {
    pub account: String,
    pub arn: String,
    pub access_key_id: String,
}

/// The incident report's JSON document (docs/incident-report.md is its contract).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct IncidentReport {
    pub format: String,
    pub version: u32,
    pub run_id: String,
    pub access_key_id: String,
    pub owner: String,
    pub account: String,
    /// Who ran contain.
    pub contained_by: CallerReport,
    #[serde(with = "time")]
    #[schemars(with = "String")]
    pub started_at: Timestamp,
    #[serde(with = "time")]
    #[schemars(with = "String")]
    pub finished_at: Timestamp,
    /// `contained` (every step done or already done) or `incomplete`.
    pub status: String,
    /// Sessions issued before this instant are denied (`YYYY-MM-DDTHH:MM:SSZ`).
    pub sessions_revoked_before: String,
    /// When the quarantine lifts itself.
    pub quarantine_until: String,
    pub quarantine_hours: u32,
    pub steps: Vec<ContainStep>,
    pub policies: Vec<AttachedPolicy>,
    /// How to reverse the containment.
    pub undo: String,
    pub trail: Option<TrailSection>,
}

impl IncidentReport {
    pub fn new(containment: &Containment, trail: Option<TrailSection>) -> IncidentReport {
        let c = containment;
        IncidentReport {
            format: INCIDENT_FORMAT.to_owned(),
            version: INCIDENT_VERSION,
            run_id: c.report.run.as_str().to_owned(),
            access_key_id: c.key_id.clone(),
            owner: c.owner.clone(),
            account: c.caller.account.clone(),
            contained_by: CallerReport {
                account: c.caller.account.clone(),
                arn: c.caller.arn.clone(),
                access_key_id: c.caller.access_key_id.clone(),
            },
            started_at: c.started_at,
            finished_at: c.finished_at,
            status: if c.complete() {
                "contained"
            } else {
                "incomplete"
            }
            .to_owned(),
            sessions_revoked_before: aws_policy_time(c.revoked_before),
            quarantine_until: aws_policy_time(c.quarantine_until),
            quarantine_hours: c.quarantine_hours,
            steps: c.steps.clone(),
            policies: c.policies.clone(),
            undo: format!("keywarden undo {}", c.report.run.as_str()),
            trail,
        }
    }

    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string_pretty(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The report's JSON Schema, as committed in `docs/schemas/incident-report.schema.json`
    /// (keywarden-app's `tests/schemas.rs` fails when that file is stale).
    pub fn schema_text() -> String {
        keywarden_output::schema::render(schemars::schema_for!(IncidentReport))
    }

    /// The report as a person reads it.
    ///
    /// Most of it is text that others wrote: the owner's name and every CloudTrail field (event
    /// names, source IPs, session key ids), AWS's error messages, the sources' paths. Each goes
    /// through [`markdown`] (one rule: control and Bidi characters shown, Markdown and HTML
    /// metacharacters escaped) and is never put in a code span, where escapes do not work; the
    /// policy documents go in fences nothing inside can close.
    pub fn to_markdown(&self) -> String {
        let mut md = String::new();
        let t = |t: Timestamp| aws_policy_time(t);
        let opt = |t: Option<Timestamp>| t.map_or_else(|| "-".to_owned(), aws_policy_time);
        let _ = writeln!(
            md,
            "# Incident: access key {}\n",
            markdown(&self.access_key_id)
        );
        let _ = writeln!(md, "| | |\n|---|---|");
        let _ = writeln!(md, "| Key | {} |", markdown(&self.access_key_id));
        let _ = writeln!(md, "| Owner | {} |", markdown(&self.owner));
        let _ = writeln!(md, "| Account | {} |", markdown(&self.account));
        let _ = writeln!(
            md,
            "| Contained by | {} (key {}) |",
            markdown(&self.contained_by.arn),
            markdown(&self.contained_by.access_key_id)
        );
        let _ = writeln!(md, "| Run | {} |", markdown(&self.run_id));
        let _ = writeln!(md, "| Started | {} |", t(self.started_at));
        let _ = writeln!(md, "| Finished | {} |", t(self.finished_at));
        let _ = writeln!(md, "| Status | **{}** |", markdown(&self.status));
        let _ = writeln!(
            md,
            "| Sessions revoked | every session issued before {} |",
            self.sessions_revoked_before
        );
        let _ = writeln!(
            md,
            "| Quarantine lifts | {} ({} hours) |",
            self.quarantine_until, self.quarantine_hours
        );
        let _ = writeln!(md, "\n## Steps\n");
        let _ = writeln!(
            md,
            "| Step | Action | Target | Call | Started | Finished | Outcome | Detail |"
        );
        let _ = writeln!(md, "|---|---|---|---|---|---|---|---|");
        for s in &self.steps {
            let _ = writeln!(
                md,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                markdown(&s.action_id),
                markdown(&s.kind),
                markdown(&s.target),
                markdown(s.call.as_deref().unwrap_or("-")),
                opt(s.started_at),
                opt(s.finished_at),
                markdown(&s.outcome),
                markdown(&s.detail)
            );
        }
        let _ = writeln!(md, "\n## Policies attached\n");
        for p in &self.policies {
            let _ = writeln!(
                md,
                "### {} on {} ({})\n",
                markdown(&p.policy_name),
                markdown(&p.user),
                if p.in_place {
                    "in place"
                } else {
                    "NOT in place"
                }
            );
            let _ = writeln!(
                md,
                "Condition time: {}. The document exactly as sent:\n",
                markdown(&p.condition_time)
            );
            let _ = writeln!(md, "{}", markdown_code_block(&p.document, "json"));
        }
        let _ = writeln!(md, "## Undo\n");
        let _ = writeln!(
            md,
            // `undo` is keywarden's own command line, the run id one keywarden made.
            "`{}` reactivates the key and removes both policies (or restores what an earlier \
             run had put). The quarantine also lifts itself at {}.\n",
            self.undo, self.quarantine_until
        );
        let _ = writeln!(md, "## CloudTrail\n");
        match &self.trail {
            None => {
                let _ = writeln!(
                    md,
                    "No CloudTrail sources were given (`--trail SOURCE...`)."
                );
            }
            Some(trail) => markdown_trail(&mut md, trail),
        }
        md
    }
}

fn markdown_trail(md: &mut String, trail: &TrailSection) {
    let moment = |m: &Option<TrailMoment>| {
        m.as_ref().map_or_else(
            || "-".to_owned(),
            |m| {
                format!(
                    "{} {} from {}",
                    aws_policy_time(m.time),
                    markdown(&m.event_name),
                    markdown(m.source_ip.as_deref().unwrap_or("-"))
                )
            },
        )
    };
    let _ = writeln!(
        md,
        "Sources: {}; {} events read, {} bad records.\n",
        markdown(&trail.sources),
        trail.events_read,
        trail.bad_records
    );
    if let Some(error) = &trail.error {
        let _ = writeln!(
            md,
            "**The sources could not all be read:** {}\n",
            markdown(error)
        );
    }
    if !trail.key_seen {
        let _ = writeln!(md, "The key does not appear in the logs read.");
        return;
    }
    let _ = writeln!(md, "- Key first use: {}", moment(&trail.key_first_use));
    let _ = writeln!(md, "- Key last use: {}", moment(&trail.key_last_use));
    let _ = writeln!(
        md,
        "- Key deactivated or deleted (logs): {}\n",
        moment(&trail.key_revoked)
    );
    if trail.sessions.is_empty() {
        let _ = writeln!(md, "The logs show no session minted by the key.");
        return;
    }
    let _ = writeln!(md, "### Sessions the key minted\n");
    let _ = writeln!(md, "| Session | Minted with | Minted at | From | Calls | First use | Last use | Uses after key revoked | Events |");
    let _ = writeln!(md, "|---|---|---|---|---|---|---|---|---|");
    for s in &trail.sessions {
        let events: Vec<String> = s
            .events
            .iter()
            .map(|e| format!("{} x{}", markdown(&e.event_name), e.count))
            .collect();
        let _ = writeln!(
            md,
            "| {}{} | {} | {} | {} | {} ({} failed) | {} | {} | {} | {} |",
            markdown(&s.access_key_id),
            if s.parent.starts_with("ASIA") {
                format!(" (chained from {})", markdown(&s.parent))
            } else {
                String::new()
            },
            markdown(&s.minted_with),
            aws_policy_time(s.minted_at),
            markdown(s.source_ip.as_deref().unwrap_or("-")),
            s.calls,
            s.failed_calls,
            moment(&s.first_use),
            moment(&s.last_use),
            s.uses_after_key_revoked
                .map_or_else(|| "-".to_owned(), |n| n.to_string()),
            if events.is_empty() {
                "-".to_owned()
            } else {
                events.join(", ")
            }
        );
    }
}

/// Writes `<run id>.md` and `<run id>.json` into `dir` (created 0700 if needed), each atomically
/// and 0600 ([`crate::files::write_atomically`]). Returns the Markdown and JSON paths.
pub fn write_incident_report(
    dir: &Path,
    report: &IncidentReport,
) -> std::io::Result<(PathBuf, PathBuf)> {
    create_private_dir_all(dir)?;
    let md = dir.join(format!("{}.md", report.run_id));
    let json = dir.join(format!("{}.json", report.run_id));
    write_atomically(&md, report.to_markdown().as_bytes())?;
    write_atomically(&json, report.to_json().as_bytes())?;
    Ok((md, json))
}

mod time {
    use keywarden_core::Timestamp;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &Timestamp, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&keywarden_core::remediation::aws_policy_time(*t))
    }
}

mod opt_time {
    use keywarden_core::Timestamp;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &Option<Timestamp>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&keywarden_core::remediation::aws_policy_time(*t)),
            None => s.serialize_none(),
        }
    }
}
