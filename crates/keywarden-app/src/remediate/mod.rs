//! Remediation runs: `apply` (a reviewed plan), `undo` (a past run reversed), and the engine
//! they share with `contain` and `rotate`.
//!
//! The journal discipline that makes a run safe to kill: before every AWS write an intent is
//! committed to the journal, after it an outcome, then a read-back verification. A resumed run
//! first settles every intent without an outcome by reading AWS: the effect in place means the
//! call happened (`already_done`, not repeated); absent means it did not (`abandoned`, and the
//! action is attempted again). So no action is lost or done twice.
//!
//! Before each action the live state is re-read and the plan's precondition re-checked
//! ([`keywarden_core::remediation::check`]); an action on the key keywarden runs with, or a
//! lock-out of the user it runs as, is refused.

mod apply;
mod contain;
mod effect;
mod rotate;
mod undo;

pub use apply::{apply_plan, resume_run, ApplyOptions};
pub use contain::{
    check_key_id, contain_key, contain_plan, find_owner, root_steps, trail_section,
    write_incident_report, AttachedPolicy, CallerReport, ContainError, ContainStep, Containment,
    EventCount, IncidentReport, MintedSession, SessionUsage, TrailMoment, TrailSection,
    CONTAIN_SOURCE_KIND, DEFAULT_QUARANTINE_HOURS, INCIDENT_FORMAT, INCIDENT_VERSION,
};
pub use effect::{Effect, EffectClient, ReadBack, Reply};
pub use rotate::{
    credentials_file_text, rotate_key, rotation_plan, RotateError, RotateOptions, RotateReport,
    SecretDestination, CREATE_KEY_ACTION, HAND_OVER_ACTION, ROTATION_RULE,
};
pub use undo::undo_run;

use crate::journal::StepRecord;
use crate::journal::{
    Intent, Journal, JournalError, KeyChange, KeyEffect, Outcome, RunId, RunKind, RunStatus, StepId,
};
use keywarden_aws::api::{AwsError, CallerIdentity, SecretString, WhoAmI};
use keywarden_core::remediation::{ActionKind, PlanError};
use keywarden_core::Timestamp;
use std::fmt;
use std::str::FromStr;

/// Everything remediation calls on AWS: the writes and their read-backs ([`EffectClient`]), and
/// who keywarden runs as. Which of them a command may call is its policy's business
/// (`keywarden permissions --command ...`), not the type's: `apply` never builds a
/// [`Effect::CreateSecret`].
pub trait RemediationClient: EffectClient + WhoAmI {}
impl<T: EffectClient + WhoAmI> RemediationClient for T {}

/// Where a test makes the process die (`KEYWARDEN_TEST_CRASH=after-intent:A002`): between the
/// intent record and the AWS call, or between the call and the outcome record. The binary reads
/// the variable; the engine only obeys it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CrashPoint {
    AfterIntent(String),
    AfterCall(String),
}

impl FromStr for CrashPoint {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text.split_once(':') {
            Some(("after-intent", id)) => Ok(CrashPoint::AfterIntent(id.to_owned())),
            Some(("after-call", id)) => Ok(CrashPoint::AfterCall(id.to_owned())),
            _ => Err(format!(
                "`{text}`: expected after-intent:ACTION_ID or after-call:ACTION_ID"
            )),
        }
    }
}

/// The clock the engine stamps journal records with (the binary's `Utc::now`, or a fixed
/// `--now`).
pub type Clock<'a> = &'a (dyn Fn() -> Timestamp + Sync);

/// Why a run could not proceed at all (individual action failures are in the report instead).
#[derive(Debug, thiserror::Error)]
pub enum RemediationError {
    #[error(transparent)]
    Journal(#[from] JournalError),
    #[error(transparent)]
    Plan(#[from] PlanError),
    #[error(
        "cannot tell which credentials keywarden runs with, so it cannot avoid acting on them: {0}"
    )]
    Identity(AwsError),
    #[error("run {run}: {problem}")]
    Run { run: String, problem: String },
    #[error(
        "the plan was made for account {plan}, but keywarden runs in account {caller}: \
         refusing to apply it here"
    )]
    WrongAccount { plan: String, caller: String },
}

/// What happened to one action.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ActionResult {
    /// The call succeeded; `verified` says whether reading the state back confirmed it.
    Done { verified: bool, detail: String },
    /// The effect was already in place (a resumed call that had happened, or an idempotent
    /// step already done by an earlier run).
    AlreadyDone(String),
    /// The precondition no longer holds.
    Skipped(String),
    /// Waiting for its grace period.
    NotDue(Timestamp),
    /// keywarden will not do this (its own key, a manual step, a safety level not allowed).
    NotAttempted(String),
    /// AWS refused the call, or a read needed to decide failed.
    Failed { code: String, message: String },
    /// Settled by an earlier attempt of this run (a resume).
    Settled,
}

impl ActionResult {
    pub fn label(&self) -> &'static str {
        match self {
            ActionResult::Done { verified: true, .. } => "done",
            ActionResult::Done {
                verified: false, ..
            } => "unverified",
            ActionResult::AlreadyDone(_) => "already-done",
            ActionResult::Skipped(_) => "skipped",
            ActionResult::NotDue(_) => "not-due",
            ActionResult::NotAttempted(_) => "not-attempted",
            ActionResult::Failed { .. } => "failed",
            ActionResult::Settled => "settled-earlier",
        }
    }

    /// Whether this result makes the run exit 2.
    pub fn is_error(&self) -> bool {
        matches!(
            self,
            ActionResult::Failed { .. }
                | ActionResult::Done {
                    verified: false,
                    ..
                }
        )
    }

    pub fn detail(&self) -> String {
        match self {
            ActionResult::Done { detail, .. } => detail.clone(),
            ActionResult::AlreadyDone(d)
            | ActionResult::Skipped(d)
            | ActionResult::NotAttempted(d) => d.clone(),
            ActionResult::NotDue(t) => format!(
                "not due before {}",
                keywarden_core::time::format_timestamp(*t)
            ),
            ActionResult::Failed { code, message } => format!("{code}: {message}"),
            ActionResult::Settled => "settled by an earlier attempt of this run".to_owned(),
        }
    }
}

impl fmt::Display for ActionResult {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.label(), self.detail())
    }
}

/// One journaled write, as [`Engine::execute_with`] saw it.
#[derive(Debug)]
pub struct Executed {
    pub result: ActionResult,
    /// The call's reply, when it succeeded (a lost reply is `None` even when the write is done).
    pub reply: Option<Reply>,
    /// The last read-back of the effect, when one was made and answered.
    pub read: Option<ReadBack>,
}

/// One line of a run's report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ActionReport {
    pub action_id: String,
    /// The plan's action kind (`deactivate-key`), or for an undo what it does (`reactivate-key`).
    pub kind: String,
    pub target: String,
    pub result: ActionResult,
}

/// What a run did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunReport {
    pub run: RunId,
    pub kind: RunKind,
    /// Intents left without an outcome by an interrupted attempt, and how they were settled.
    pub settled_in_doubt: Vec<String>,
    pub actions: Vec<ActionReport>,
    /// What undo could not reverse, said plainly.
    pub irreversible: Vec<String>,
}

impl RunReport {
    pub fn has_errors(&self) -> bool {
        self.actions.iter().any(|a| a.result.is_error())
    }
}

/// The AWS side of a run: the client, who it runs as, the journal and the clock.
pub(crate) struct Engine<'a, C> {
    pub client: &'a C,
    pub journal: &'a mut Journal,
    pub clock: Clock<'a>,
    pub caller: CallerIdentity,
    pub crash: Option<CrashPoint>,
}

impl<'a, C: RemediationClient> Engine<'a, C> {
    pub async fn new(
        client: &'a C,
        journal: &'a mut Journal,
        clock: Clock<'a>,
        crash: Option<CrashPoint>,
    ) -> Result<Engine<'a, C>, RemediationError> {
        let caller = client
            .caller_identity()
            .await
            .map_err(RemediationError::Identity)?;
        Ok(Engine {
            client,
            journal,
            clock,
            caller,
            crash,
        })
    }

    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Refuses a plan made for another account: user names repeat across accounts, so
    /// another account's `alice` would lose her password or be quarantined.
    pub fn check_account(&self, plan_account: Option<&str>) -> Result<(), RemediationError> {
        match plan_account {
            Some(plan) if !plan.is_empty() && plan != self.caller.account => {
                Err(RemediationError::WrongAccount {
                    plan: plan.to_owned(),
                    caller: self.caller.account.clone(),
                })
            }
            _ => Ok(()),
        }
    }

    /// The IAM user keywarden runs as, when it runs as one.
    pub fn caller_user(&self) -> Option<&str> {
        let resource = self.caller.arn.split(':').nth(5)?;
        resource.strip_prefix("user/")?.rsplit('/').next()
    }

    /// Why keywarden will not act on this target, if it will not.
    pub fn refusal(
        &self,
        kind: ActionKind,
        user: Option<&str>,
        key: Option<&str>,
    ) -> Option<String> {
        if key.is_some() && key == Some(self.caller.access_key_id.as_str()) {
            return Some(format!(
                "refused: keywarden is running with this key ({})",
                self.caller.access_key_id
            ));
        }
        let locks_out_caller = matches!(kind, ActionKind::RevokeSessions | ActionKind::Quarantine);
        if locks_out_caller && user.is_some() && user == self.caller_user() {
            return Some(format!(
                "refused: keywarden is running as {} and would lock itself out",
                self.caller.arn
            ));
        }
        None
    }

    /// Intent, call, outcome, verification: one journaled write.
    pub async fn execute(
        &mut self,
        run: &RunId,
        action_id: &str,
        effect: &Effect,
        undo: Option<&Effect>,
    ) -> Result<ActionResult, RemediationError> {
        Ok(self
            .execute_with(run, action_id, effect, undo, None)
            .await?
            .result)
    }

    /// [`Engine::execute`], with the call's reply and the read-back, and `secret`, the value a
    /// [`Effect::CreateSecret`] stores (handed to the call only, never to the journal).
    pub async fn execute_with(
        &mut self,
        run: &RunId,
        action_id: &str,
        effect: &Effect,
        undo: Option<&Effect>,
        secret: Option<&SecretString>,
    ) -> Result<Executed, RemediationError> {
        let key = match effect {
            Effect::SetKeyStatus { key_id, active, .. } => Some(KeyEffect {
                key_id: key_id.clone(),
                change: if *active {
                    KeyChange::Reactivated
                } else {
                    KeyChange::Deactivated
                },
            }),
            Effect::DeleteKey { key_id, .. } => Some(KeyEffect {
                key_id: key_id.clone(),
                change: KeyChange::Deleted,
            }),
            _ => None,
        };
        let step = self.journal.record_intent(Intent {
            run: run.clone(),
            action_id: action_id.to_owned(),
            call: effect.call().to_owned(),
            target: effect.describe(),
            params_json: effect.to_json(),
            undo_json: undo.map(Effect::to_json),
            key,
            at: self.now(),
        })?;
        if self.crash == Some(CrashPoint::AfterIntent(action_id.to_owned())) {
            std::process::abort();
        }
        let called = effect.perform(self.client, secret).await;
        if self.crash == Some(CrashPoint::AfterCall(action_id.to_owned())) {
            std::process::abort();
        }
        let reply = match called {
            Ok(reply) => reply,
            Err(error) => return self.settle_failed_call(step, effect, error).await,
        };
        self.journal
            .record_outcome(step, Outcome::Succeeded, self.now())?;
        if let Effect::SetKeyStatus { key_id, active, .. } = effect {
            // keywarden's own change is a sighting: a deactivation starts the key's inactive
            // clock, a reactivation stops it.
            self.sight_key(key_id, *active)?;
        }
        let read = self.read(effect).await?;
        let (verified, detail) = match &read {
            Ok(read) => (read.in_place, read.detail.clone()),
            Err(error) => (false, format!("could not read the state back: {error}")),
        };
        self.journal
            .record_verification(step, verified, &detail, self.now())?;
        Ok(Executed {
            result: ActionResult::Done { verified, detail },
            reply: Some(reply),
            read: read.ok(),
        })
    }

    /// Settles a write whose reply was an error by reading AWS: an error reply does not prove
    /// the write did not happen (a reply lost after AWS made the change comes back as a 500, and
    /// the SDK's retry of a DeleteAccessKey that went through answers NoSuchEntity). The effect
    /// in place means the call is done; absent means it failed; a failed read leaves the step in
    /// doubt, for a resume to settle, rather than guess.
    async fn settle_failed_call(
        &mut self,
        step: StepId,
        effect: &Effect,
        error: AwsError,
    ) -> Result<Executed, RemediationError> {
        let read = self.read(effect).await?;
        let result = match &read {
            Ok(read) if read.in_place => {
                let detail = format!(
                    "the call answered {}: {}, but reading back shows it took effect: {}{}",
                    error.code,
                    error.message,
                    read.detail,
                    if effect.is_irreversible() {
                        " (this cannot be undone)"
                    } else {
                        ""
                    }
                );
                self.journal
                    .record_outcome(step, Outcome::Succeeded, self.now())?;
                self.journal
                    .record_verification(step, true, &detail, self.now())?;
                ActionResult::Done {
                    verified: true,
                    detail,
                }
            }
            Ok(read) => {
                self.journal.record_outcome(
                    step,
                    Outcome::Failed {
                        code: error.code.clone(),
                        message: error.message.clone(),
                    },
                    self.now(),
                )?;
                self.journal
                    .record_verification(step, false, &read.detail, self.now())?;
                ActionResult::Failed {
                    code: error.code,
                    message: error.message,
                }
            }
            Err(read_error) => ActionResult::Failed {
                code: error.code,
                message: format!(
                    "{}; whether it took effect is unknown (reading the state back failed: \
                     {read_error}), so the call stays in doubt: {}",
                    error.message,
                    match effect {
                        Effect::CreateAccessKey { user, .. }
                        | Effect::CreateSecret { user, .. } =>
                            format!("`keywarden rotate {user}` settles it first"),
                        _ => "`keywarden apply --resume` settles it".to_owned(),
                    }
                ),
            },
        };
        Ok(Executed {
            result,
            reply: None,
            read: read.ok(),
        })
    }

    /// Records what keywarden saw of a key's status (see the journal's key sightings).
    pub fn sight_key(&mut self, key_id: &str, active: bool) -> Result<(), RemediationError> {
        let now = self.now();
        if active {
            self.journal.observe_active(key_id, now)?;
        } else {
            self.journal.observe_inactive(key_id, now)?;
        }
        Ok(())
    }

    /// Reads whether `effect` is in place ([`Effect::read_back`]), recording what the read saw of
    /// the effect's key as a sighting. An AWS error inside, a journal error outside.
    pub async fn read_back(
        &mut self,
        effect: &Effect,
    ) -> Result<Result<(bool, String), AwsError>, RemediationError> {
        Ok(self
            .read(effect)
            .await?
            .map(|read| (read.in_place, read.detail)))
    }

    /// [`Engine::read_back`], with what the read saw of the effect's key.
    pub async fn read(
        &mut self,
        effect: &Effect,
    ) -> Result<Result<ReadBack, AwsError>, RemediationError> {
        let read = match effect.read_back(self.client).await {
            Ok(read) => read,
            Err(error) => return Ok(Err(error)),
        };
        if let (Some(key_id), Some(active)) = (effect.key_id(), read.key_active) {
            self.sight_key(key_id, active)?;
        }
        Ok(Ok(read))
    }

    /// Journals an action that failed before its write could be made (a read it needed was
    /// refused): a step for the failed read, so `runs` counts it as failed, not skipped.
    pub fn fail_before_call(
        &mut self,
        run: &RunId,
        action_id: &str,
        target: &str,
        error: AwsError,
        reason: String,
    ) -> Result<ActionResult, RemediationError> {
        let step = self.journal.record_intent(Intent {
            run: run.clone(),
            action_id: action_id.to_owned(),
            call: error.action.to_owned(),
            target: target.to_owned(),
            params_json: "{}".to_owned(),
            undo_json: None,
            key: None,
            at: self.now(),
        })?;
        self.journal.record_outcome(
            step,
            Outcome::Failed {
                code: error.code.clone(),
                message: reason.clone(),
            },
            self.now(),
        )?;
        Ok(ActionResult::Failed {
            code: error.code,
            message: reason,
        })
    }

    /// Claims and reopens an interrupted run, then settles its calls in doubt; if they cannot be
    /// settled the run is left interrupted.
    pub async fn reopen_for_resume(
        &mut self,
        run: &RunId,
        pid: u32,
    ) -> Result<Vec<String>, RemediationError> {
        self.journal.claim_run(run, pid, self.now())?;
        self.journal.reopen_run(run, self.now())?;
        match self.settle_in_doubt(run).await {
            Ok(settled) => Ok(settled),
            Err(error) => {
                self.journal
                    .finish_run(run, RunStatus::Interrupted, self.now())?;
                Err(error)
            }
        }
    }

    /// Records how the run ended (from its report) and releases the claim.
    pub fn finish(
        &mut self,
        run: &RunId,
        pid: u32,
        report: Result<RunReport, RemediationError>,
    ) -> Result<RunReport, RemediationError> {
        let in_doubt = !self.journal.in_doubt(run)?.is_empty();
        let status = match &report {
            // A call left in doubt (its reply an error, the read-back failed): a resume settles it.
            Ok(_) if in_doubt => RunStatus::Interrupted,
            Ok(r) if r.has_errors() => RunStatus::CompletedWithErrors,
            Ok(_) => RunStatus::Completed,
            Err(_) => RunStatus::Interrupted,
        };
        self.journal.finish_run(run, status, self.now())?;
        self.journal.release_run(run, pid)?;
        report
    }

    /// The effect a step in doubt intended.
    pub fn effect_of(run: &RunId, step: &StepRecord) -> Result<Effect, RemediationError> {
        let params = step.call().map_or("", |call| call.params_json.as_str());
        Effect::from_json(params).map_err(|e| RemediationError::Run {
            run: run.as_str().to_owned(),
            problem: format!("step {} has unreadable parameters: {e}", step.id),
        })
    }

    /// Closes a step in doubt from what reading AWS showed ([`Engine::read`]): the effect in
    /// place is `already_done` (the call is not repeated), absent is `abandoned` (`again`: the
    /// action is attempted again, which the reason says).
    pub fn settle_with(
        &mut self,
        step: &StepRecord,
        read: &ReadBack,
        again: bool,
    ) -> Result<Outcome, RemediationError> {
        let outcome = if read.in_place {
            Outcome::AlreadyDone {
                detail: read.detail.clone(),
            }
        } else {
            Outcome::Abandoned {
                reason: format!(
                    "the call did not take effect ({}){}",
                    read.detail,
                    if again { "; attempted again" } else { "" }
                ),
            }
        };
        self.journal
            .record_outcome(step.id, outcome.clone(), self.now())?;
        Ok(outcome)
    }

    /// Settles the intents an interrupted attempt left without an outcome, by reading AWS.
    pub async fn settle_in_doubt(&mut self, run: &RunId) -> Result<Vec<String>, RemediationError> {
        let mut settled = Vec::new();
        for step in self.journal.in_doubt(run)? {
            if step.call().is_none() {
                continue;
            }
            let effect = Self::effect_of(run, &step)?;
            let outcome = match self.read(&effect).await? {
                Ok(read) => self.settle_with(&step, &read, true)?,
                Err(error) => {
                    // Cannot tell: leave it in doubt rather than guess, and stop the resume.
                    return Err(RemediationError::Run {
                        run: run.as_str().to_owned(),
                        problem: format!(
                            "cannot settle step {} ({}): {error}",
                            step.id,
                            effect.describe()
                        ),
                    });
                }
            };
            settled.push(format!(
                "{} {}: {} ({})",
                step.action_id,
                effect.describe(),
                outcome.name(),
                match &outcome {
                    Outcome::AlreadyDone { detail } => detail.clone(),
                    Outcome::Abandoned { reason } => reason.clone(),
                    _ => String::new(),
                }
            ));
        }
        Ok(settled)
    }
}
