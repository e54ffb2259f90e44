//! `keywarden rotate USER`: a new access key, its secret handed only where the user asked, and a
//! plan for the old key (deactivate after a grace period, delete after another), following AWS's
//! own rotation sample.
//!
//! Both writes go through the engine like any other ([`Effect::CreateAccessKey`],
//! [`Effect::CreateSecret`]): an intent before `iam:CreateAccessKey` (the user and the ids of the
//! keys that existed before; never the secret), its outcome, and a read-back that names the new
//! key's **id** (a key not among the ones before); the same for the Secrets Manager hand-over,
//! read back with DescribeSecret. The secret lives in a [`SecretString`] from the moment AWS
//! returns it and is read with [`SecretString::expose`] at one place only, the hand-over.
//!
//! A `CreateAccessKey` whose reply is lost (an error answer, though AWS made the key) is settled
//! by reading the keys back: a key not among the ones before means it was created. Its secret
//! came only in the lost reply, so the key is useless: it is removed like an orphan (below), no
//! second key is created, and the user is told to rotate again.
//!
//! A key whose secret nobody received is useless and a liability, so it is removed (deactivated,
//! then deleted, through the journaled engine) when:
//! - the hand-over fails (the file exists, the Secrets Manager name is taken, access denied);
//! - an earlier rotation of the same user was killed with its `CreateAccessKey` in doubt and the
//!   key it created is found: the key that is not among that run's pre-existing ids and was
//!   never used. Its secret died with the process.
//!
//! A removal can fail too (access denied, a throttled call past its retries). Then the key is
//! reported as it is, never as removed: its id, its status read back, and the command that
//! removes it; the deletion not attempted is journaled as a skip with the same words, and the
//! run exits 2. Every key an earlier rotation of the user set out to remove and did not delete
//! is a **left-over**: the next `rotate` of that user removes it (unless it was used since:
//! then someone has its secret) before creating anything.
//!
//! A rotation is not resumed (`apply --resume` refuses it): running `rotate` again settles what
//! the interrupted run left, then rotates.

use super::{
    ActionReport, ActionResult, Clock, CrashPoint, Effect, Engine, ReadBack, RemediationClient,
    RemediationError, Reply,
};
use crate::journal::{Journal, StepRecord};
use crate::journal::{NewRun, Outcome, RunId, RunInfo, RunKind, RunStatus};
use keywarden_aws::api::{
    AccessKeyMeta, AwsError, SecretString, IAM_CREATE_ACCESS_KEY, SECRETSMANAGER_CREATE_SECRET,
};
use keywarden_core::remediation::{
    Action, ActionKind, KeyIdle, KeyStatus, Plan, PlanSource, Precondition, Reason, Safety,
    UseBound, PLAN_FORMAT, PLAN_VERSION,
};
use keywarden_core::time::{days, format_timestamp};
use keywarden_core::Timestamp;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

/// The journal's action id of the `CreateAccessKey` call of a rotation.
pub const CREATE_KEY_ACTION: &str = "create-key";
/// The journal's action id of the `secretsmanager:CreateSecret` hand-over.
pub const HAND_OVER_ACTION: &str = "hand-over";
/// The rule code the rotation plan's reasons carry.
pub const ROTATION_RULE: &str = "ROTATION";

/// Where the new key's secret goes. Exactly one, by construction.
pub enum SecretDestination<'a> {
    /// A new file, created with mode 0600 (an existing file is refused), in the AWS CLI
    /// credentials-file format (see [`credentials_file_text`]).
    File(PathBuf),
    /// A new AWS Secrets Manager secret of this name, whose value is the console's shape,
    /// `{"AccessKeyId": ..., "SecretAccessKey": ...}`. A name in use is refused by AWS.
    SecretsManager(String),
    /// A writer (`--show-secret`: standard output), in the credentials-file format.
    Writer(&'a mut (dyn Write + Send)),
}

impl SecretDestination<'_> {
    fn kind(&self) -> &'static str {
        match self {
            SecretDestination::File(_) => "file",
            SecretDestination::SecretsManager(_) => "secrets-manager",
            SecretDestination::Writer(_) => "stdout",
        }
    }
}

/// What to rotate, and the grace periods of the old key's plan.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotateOptions {
    pub user: String,
    /// Days after the rotation before the old key is deactivated.
    pub deactivate_after_days: u32,
    /// Days after the deactivation before the old key is deleted.
    pub delete_after_days: u32,
}

/// The inputs stored with the run (never a secret).
#[derive(Debug, Serialize, Deserialize)]
struct RotateInputs {
    rotate_user: String,
    destination: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    destination_name: Option<String>,
    deactivate_after_days: u32,
    delete_after_days: u32,
}

/// Why a rotation did not start (nothing was created).
#[derive(Debug, thiserror::Error)]
pub enum RotateError {
    #[error("{0}")]
    Refused(String),
    #[error("cannot read {user}'s access keys: {error}")]
    Read { user: String, error: AwsError },
    #[error(transparent)]
    Remediation(#[from] RemediationError),
}

impl From<crate::journal::JournalError> for RotateError {
    fn from(error: crate::journal::JournalError) -> Self {
        RotateError::Remediation(error.into())
    }
}

/// What a rotation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RotateReport {
    pub run: RunId,
    pub user: String,
    /// What an earlier, interrupted rotation of the user left, and how it was settled.
    pub settled: Vec<String>,
    /// The keys the user had before the new one.
    pub old_keys: Vec<AccessKeyMeta>,
    /// The new key's id, when it was created (it may have been removed since: see `failure`).
    pub new_key_id: Option<String>,
    /// Where the secret went, for a person: `file creds (mode 0600)`, a secret's ARN...
    pub handed_to: Option<String>,
    /// Why the rotation failed, when it did (the new key, if any, was then removed).
    pub failure: Option<String>,
    /// Removals of keys whose secret nobody has: the orphan of an interrupted run, a left-over
    /// of an earlier rotation, or the new key when the hand-over failed.
    pub cleanup: Vec<ActionReport>,
    /// Keys whose secret nobody has that are still there because their removal failed, each as
    /// a person must read it: the key, its status now, the command that removes it.
    pub left_over: Vec<String>,
    /// The old key's plan; `None` when the user had no key before, or the rotation failed.
    pub plan: Option<Plan>,
}

impl RotateReport {
    /// True when the new key was created and its secret handed over, and every cleanup worked.
    pub fn succeeded(&self) -> bool {
        self.failure.is_none()
            && self.left_over.is_empty()
            && !self.cleanup.iter().any(|a| a.result.is_error())
    }
}

/// Rotates `options.user`'s access key: see the module documentation.
pub async fn rotate_key<C: RemediationClient>(
    client: &C,
    journal: &mut Journal,
    clock: Clock<'_>,
    options: &RotateOptions,
    destination: &mut SecretDestination<'_>,
    crash: Option<CrashPoint>,
) -> Result<RotateReport, RotateError> {
    let user = options.user.as_str();
    // Refusals that need no AWS call first.
    if let SecretDestination::File(path) = destination {
        check_secret_file(path)?;
    }
    let mut engine = Engine::new(client, journal, clock, crash).await?;
    let read_keys = |error| RotateError::Read {
        user: user.to_owned(),
        error,
    };
    let keys = engine
        .client
        .list_access_keys(user)
        .await
        .map_err(read_keys)?;
    let interrupted = interrupted_rotations(engine.journal, user)?;
    let left_over = left_over_keys(engine.journal, user, None)?;
    if interrupted.is_empty()
        && !left_over
            .iter()
            .any(|l| keys.iter().any(|k| k.id == l.key_id))
    {
        refuse_two_keys(user, &keys)?;
    }

    let (destination_name, destination_kind) = match &*destination {
        SecretDestination::File(path) => (Some(path.display().to_string()), destination.kind()),
        SecretDestination::SecretsManager(name) => (Some(name.clone()), destination.kind()),
        SecretDestination::Writer(_) => (None, destination.kind()),
    };
    let inputs = RotateInputs {
        rotate_user: user.to_owned(),
        destination: destination_kind.to_owned(),
        destination_name,
        deactivate_after_days: options.deactivate_after_days,
        delete_after_days: options.delete_after_days,
    };
    let run = engine.journal.start_run(NewRun {
        kind: RunKind::Rotate,
        started_at: engine.now(),
        plan_json: serde_json::to_string(&inputs).unwrap_or_default(),
        options_json: "{}".to_owned(),
        parent_run: None,
    })?;
    let pid = std::process::id();
    engine.journal.claim_run(&run, pid, engine.now())?;
    let mut report = RotateReport {
        run: run.clone(),
        user: user.to_owned(),
        settled: Vec::new(),
        old_keys: Vec::new(),
        new_key_id: None,
        handed_to: None,
        failure: None,
        cleanup: Vec::new(),
        left_over: Vec::new(),
        plan: None,
    };
    let result = rotate_in_run(
        &mut engine,
        &run,
        options,
        destination,
        keys,
        interrupted,
        &mut report,
    )
    .await;
    let in_doubt = !engine.journal.in_doubt(&run)?.is_empty();
    let status = match &result {
        Err(RotateError::Refused(_)) => RunStatus::Failed,
        // A call left in doubt (its reply an error, the read-back failed): the next rotation
        // of the user settles it.
        Err(_) => RunStatus::Interrupted,
        Ok(()) if in_doubt => RunStatus::Interrupted,
        Ok(()) if report.succeeded() => RunStatus::Completed,
        Ok(()) => RunStatus::CompletedWithErrors,
    };
    engine.journal.finish_run(&run, status, engine.now())?;
    engine.journal.release_run(&run, pid)?;
    result.map(|()| report)
}

async fn rotate_in_run<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    options: &RotateOptions,
    destination: &mut SecretDestination<'_>,
    mut keys: Vec<AccessKeyMeta>,
    interrupted: Vec<RunId>,
    report: &mut RotateReport,
) -> Result<(), RotateError> {
    let user = options.user.as_str();
    for old in &interrupted {
        settle_interrupted(engine, run, old, user, report).await?;
    }
    // After the interrupted runs are settled: their removals in doubt are now done or not.
    let left_over = left_over_keys(engine.journal, user, Some(run))?;
    let mut settled_left_over = false;
    for left in &left_over {
        settled_left_over |= remove_left_over(engine, run, user, left, &keys, report).await?;
    }
    if !report.left_over.is_empty() {
        // A key nobody holds is still there: creating another would only add a second one.
        report.failure = Some(format!(
            "a key of {user} that an earlier rotation could not remove is still there: no new \
             key was created"
        ));
        return Ok(());
    }
    if !interrupted.is_empty() || settled_left_over {
        keys = engine
            .client
            .list_access_keys(user)
            .await
            .map_err(|error| RotateError::Read {
                user: user.to_owned(),
                error,
            })?;
        refuse_two_keys(user, &keys)?;
    }
    report.old_keys = keys.clone();

    // The call, journaled: the intent names the user and the keys before, never the secret.
    let create = Effect::CreateAccessKey {
        user: user.to_owned(),
        existing_key_ids: keys.iter().map(|k| k.id.clone()).collect(),
    };
    let created = engine
        .execute_with(run, CREATE_KEY_ACTION, &create, None, None)
        .await?;
    let new_key = match (created.result, created.reply) {
        (ActionResult::Done { .. }, Some(Reply::NewKey(new_key))) => new_key,
        (ActionResult::Done { detail, .. }, _) => {
            return lost_reply(engine, run, user, created.read, &detail, report).await;
        }
        (ActionResult::Failed { code, message }, _) => {
            let error = AwsError {
                action: IAM_CREATE_ACCESS_KEY,
                code,
                message,
            };
            report.failure = Some(if engine.journal.in_doubt(run)?.is_empty() {
                format!("the new key was not created: {error}")
            } else {
                format!(
                    "whether a new key was created is unknown ({error}): run `keywarden rotate \
                     {user}` again, which settles it first"
                )
            });
            return Ok(());
        }
        (other, _) => {
            report.failure = Some(format!("the new key was not created: {other}"));
            return Ok(());
        }
    };
    report.new_key_id = Some(new_key.id.clone());

    // The hand-over: the only place the secret is read.
    let handed = hand_over(engine, run, user, &new_key.id, &new_key.secret, destination).await?;
    drop(new_key.secret);
    match handed {
        Ok(to) => report.handed_to = Some(to),
        Err(why) => {
            let removed = remove_key(engine, run, user, &new_key.id, "cleanup", report).await?;
            report.failure = Some(if removed {
                format!(
                    "the secret could not be handed over ({why}); the new key {} was useless \
                     without it, so it was removed",
                    new_key.id
                )
            } else {
                format!(
                    "the secret could not be handed over ({why}), and the new key {} is still \
                     there (see above)",
                    new_key.id
                )
            });
            return Ok(());
        }
    }

    let old: Vec<&AccessKeyMeta> = keys.iter().collect();
    if !old.is_empty() {
        let account = Some(engine.caller.account.clone());
        report.plan = Some(rotation_plan(
            user,
            &old,
            &new_key.id,
            run,
            account,
            engine.now(),
            options,
        ));
    }
    Ok(())
}

/// Refuses a file destination that already exists or whose folder does not, before any AWS call.
fn check_secret_file(path: &Path) -> Result<(), RotateError> {
    if std::fs::symlink_metadata(path).is_ok() {
        return Err(RotateError::Refused(format!(
            "{}: the file exists; keywarden writes a secret only to a new file",
            path.display()
        )));
    }
    let parent = path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    if !parent.is_dir() {
        return Err(RotateError::Refused(format!(
            "{}: the folder {} does not exist",
            path.display(),
            parent.display()
        )));
    }
    Ok(())
}

fn refuse_two_keys(user: &str, keys: &[AccessKeyMeta]) -> Result<(), RotateError> {
    if keys.len() < 2 {
        return Ok(());
    }
    let listed: Vec<String> = keys
        .iter()
        .map(|k| {
            format!(
                "{} ({})",
                k.id,
                if k.active { "Active" } else { "Inactive" }
            )
        })
        .collect();
    Err(RotateError::Refused(format!(
        "{user} already has two access keys ({}), the most AWS allows: deactivate and delete one \
         first (for example with `keywarden plan` and `keywarden apply`), then rotate",
        listed.join(", ")
    )))
}

/// Earlier rotations of `user` that never finished (killed) or left a call in doubt, oldest
/// first.
fn interrupted_rotations(journal: &Journal, user: &str) -> Result<Vec<RunId>, RotateError> {
    let mut interrupted = Vec::new();
    for info in rotations_of(journal, user)? {
        if info.status.is_none() || !journal.in_doubt(&info.id)?.is_empty() {
            interrupted.push(info.id);
        }
    }
    Ok(interrupted)
}

/// Every rotation of `user` in the journal, oldest first.
fn rotations_of(journal: &Journal, user: &str) -> Result<Vec<RunInfo>, RotateError> {
    let mut found = Vec::new();
    for info in journal.runs()? {
        if info.kind != RunKind::Rotate {
            continue;
        }
        let Some(inputs) = journal.run_inputs(&info.id)? else {
            continue;
        };
        let Ok(inputs) = serde_json::from_str::<RotateInputs>(&inputs.plan_json) else {
            continue;
        };
        if inputs.rotate_user == user {
            found.push(info);
        }
    }
    found.reverse();
    Ok(found)
}

/// Settles what an interrupted rotation of `user` left: a `CreateAccessKey` in doubt (the key it
/// created, if any, is removed: its secret is lost), other calls in doubt (read back), then
/// closes the old run as interrupted.
async fn settle_interrupted<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    old: &RunId,
    user: &str,
    report: &mut RotateReport,
) -> Result<(), RotateError> {
    let pid = std::process::id();
    if let Err(error) = engine.journal.claim_run(old, pid, engine.now()) {
        return Err(RotateError::Refused(format!(
            "an earlier rotation of {user} (run {old}) is still running or cannot be claimed: \
             {error}"
        )));
    }
    let settled = settle_claimed(engine, run, old, user, report).await;
    if settled.is_ok() {
        engine
            .journal
            .finish_run(old, RunStatus::Interrupted, engine.now())?;
    }
    engine.journal.release_run(old, pid)?;
    settled
}

async fn settle_claimed<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    old: &RunId,
    user: &str,
    report: &mut RotateReport,
) -> Result<(), RotateError> {
    // The key whose hand-over to Secrets Manager did not happen: its secret died with the run.
    let mut lost_hand_over: Option<String> = None;
    for step in engine.journal.in_doubt(old)? {
        if step.call().is_none() {
            continue;
        }
        let effect = Engine::<C>::effect_of(old, &step)?;
        let read = match engine.read(&effect).await? {
            Ok(read) => read,
            Err(error) => {
                return Err(RotateError::Refused(format!(
                    "cannot settle step {} of the interrupted run {old} ({}): {error}",
                    step.id,
                    effect.describe()
                )))
            }
        };
        if let Effect::CreateAccessKey { .. } = effect {
            settle_create(engine, run, old, user, &step, &read, report).await?;
            continue;
        }
        let outcome = engine.settle_with(&step, &read, false)?;
        if let Effect::CreateSecret { access_key_id, .. } = &effect {
            if !outcome.is_effective() {
                lost_hand_over = Some(access_key_id.clone());
            }
        }
        let done = if outcome.is_effective() {
            "done"
        } else {
            "not done"
        };
        report
            .settled
            .push(format!("run {old}: {} was {done}", effect.describe()));
    }
    // A key the old run created, whose secret is not known to have reached its destination.
    let steps = engine.journal.steps(old)?;
    let effective = |call: &str| {
        steps.iter().any(|step| {
            step.call().is_some_and(|c| {
                c.call == call && c.outcome.as_ref().is_some_and(|o| o.outcome.is_effective())
            })
        })
    };
    if effective(SECRETSMANAGER_CREATE_SECRET) {
        return Ok(());
    }
    if let Some(key_id) = lost_hand_over {
        return remove_lost_hand_over(engine, run, old, user, &key_id, report).await;
    }
    for step in &steps {
        let Some(call) = step.call() else { continue };
        if call.call == IAM_CREATE_ACCESS_KEY
            && matches!(
                call.outcome.as_ref().map(|o| &o.outcome),
                Some(Outcome::Succeeded)
            )
        {
            let detail = call
                .verification
                .as_ref()
                .map(|v| v.detail.clone())
                .unwrap_or_default();
            report.settled.push(format!(
                "run {old} created a key and was interrupted before it finished ({detail}); \
                 if its secret did not reach its destination, deactivate and delete that key"
            ));
        }
    }
    Ok(())
}

/// Settles an interrupted run's `CreateAccessKey` from the keys read back: no new key, the call
/// did not happen; one, it did and its secret died with the run (the key is removed, unless it
/// was used: then it is someone's); several, keywarden cannot tell which is its own and stops.
async fn settle_create<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    old: &RunId,
    user: &str,
    step: &StepRecord,
    read: &ReadBack,
    report: &mut RotateReport,
) -> Result<(), RotateError> {
    if !read.in_place {
        engine.settle_with(step, read, false)?;
        report.settled.push(format!(
            "run {old} was interrupted around CreateAccessKey; no key was created"
        ));
        return Ok(());
    }
    let Some(orphan) = read.created.clone() else {
        return Err(RotateError::Refused(format!(
            "run {old} was interrupted around CreateAccessKey for {user}: {}; delete the one \
             nobody uses, then rotate again",
            read.detail
        )));
    };
    // The orphan was never handed to anyone, so it was never used. A used key is someone's.
    if let Some(used) = last_used(engine, user, &orphan).await? {
        return Err(RotateError::Refused(format!(
            "run {old} was interrupted around CreateAccessKey for {user}; key {orphan} is new \
             since, but it was used at {}, so it is someone's: keywarden leaves it alone. Settle \
             it by hand, then rotate again",
            format_timestamp(used)
        )));
    }
    engine.settle_with(step, read, false)?;
    report.settled.push(format!(
        "run {old} was interrupted after creating key {orphan}; its secret was lost, so the key \
         is removed (deactivated, then deleted)"
    ));
    remove_key(
        engine,
        run,
        user,
        &orphan,
        &format!("orphan-{orphan}"),
        report,
    )
    .await?;
    Ok(())
}

/// Removes the key an interrupted rotation created whose secret never reached Secrets Manager
/// (its hand-over read back absent), unless it is gone or was used since.
async fn remove_lost_hand_over<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    old: &RunId,
    user: &str,
    key_id: &str,
    report: &mut RotateReport,
) -> Result<(), RotateError> {
    let keys = engine
        .client
        .list_access_keys(user)
        .await
        .map_err(|error| RotateError::Read {
            user: user.to_owned(),
            error,
        })?;
    if !keys.iter().any(|k| k.id == key_id) {
        return Ok(());
    }
    if let Some(used) = last_used(engine, user, key_id).await? {
        report.settled.push(format!(
            "run {old} was interrupted before key {key_id}'s secret reached Secrets Manager, but \
             the key was used at {} since: someone has its secret, so keywarden leaves it alone",
            format_timestamp(used)
        ));
        return Ok(());
    }
    report.settled.push(format!(
        "run {old} was interrupted before key {key_id}'s secret reached Secrets Manager; its \
         secret was lost, so the key is removed (deactivated, then deleted)"
    ));
    remove_key(
        engine,
        run,
        user,
        key_id,
        &format!("orphan-{key_id}"),
        report,
    )
    .await?;
    Ok(())
}

/// When the key was last used, if ever.
async fn last_used<C: RemediationClient>(
    engine: &Engine<'_, C>,
    user: &str,
    key_id: &str,
) -> Result<Option<Timestamp>, RotateError> {
    engine
        .client
        .get_access_key_last_used(key_id)
        .await
        .map(|used| used.date)
        .map_err(|error| RotateError::Read {
            user: user.to_owned(),
            error,
        })
}

/// A `CreateAccessKey` whose reply was an error although reading back shows a new key: the key
/// exists, its secret came only in the reply, which is lost, and AWS cannot show it again. The
/// key is removed (unless it was used: then it is someone's) and no second key is created.
async fn lost_reply<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    user: &str,
    read: Option<ReadBack>,
    detail: &str,
    report: &mut RotateReport,
) -> Result<(), RotateError> {
    let lost = format!(
        "CreateAccessKey's reply was lost ({detail}); the new key's secret came only in that \
         reply, and AWS cannot show it again"
    );
    let Some(key_id) = read.and_then(|read| read.created) else {
        report.failure = Some(format!(
            "{lost}. keywarden cannot tell which new key is the one it created: delete the one \
             nobody uses (`aws iam list-access-keys --user-name {user}`), then run `keywarden \
             rotate {user}` again"
        ));
        return Ok(());
    };
    report.new_key_id = Some(key_id.clone());
    if let Some(used) = last_used(engine, user, &key_id).await? {
        report.failure = Some(format!(
            "{lost}. Key {key_id} was used at {} since, so it is someone's: keywarden leaves it \
             alone; settle it by hand, then rotate again",
            format_timestamp(used)
        ));
        return Ok(());
    }
    let removed = remove_key(engine, run, user, &key_id, "lost-reply", report).await?;
    report.failure = Some(if removed {
        format!(
            "{lost}, so key {key_id} was removed: run `keywarden rotate {user}` again for a key \
             whose secret you receive"
        )
    } else {
        format!(
            "{lost}; key {key_id} is still there (see above): remove it, or run `keywarden \
             rotate {user}` again, which removes it first"
        )
    });
    Ok(())
}

/// Deactivates, then deletes, a key whose secret nobody has, through the journal; the steps go
/// to `report.cleanup`. Returns whether the key is gone. When it is not, `report.left_over` says
/// which key, its status and how to remove it, and a deletion not attempted is journaled as a
/// skip with the same words.
async fn remove_key<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    user: &str,
    key_id: &str,
    prefix: &str,
    report: &mut RotateReport,
) -> Result<bool, RemediationError> {
    let steps = [
        (
            "deactivate",
            ActionKind::DeactivateKey,
            Effect::SetKeyStatus {
                user: user.to_owned(),
                key_id: key_id.to_owned(),
                active: false,
            },
        ),
        (
            "delete",
            ActionKind::DeleteKey,
            Effect::DeleteKey {
                user: user.to_owned(),
                key_id: key_id.to_owned(),
            },
        ),
    ];
    // Why the steps stopped, once one failed: the later ones are not attempted.
    let mut stopped: Option<String> = None;
    for (suffix, kind, effect) in steps {
        let action_id = format!("{prefix}/{suffix}");
        let result = if let Some(previous) = &stopped {
            engine
                .journal
                .record_skip(run, &action_id, previous, engine.now())?;
            ActionResult::NotAttempted(previous.clone())
        } else if let Some(refusal) = engine.refusal(kind, Some(user), Some(key_id)) {
            engine
                .journal
                .record_skip(run, &action_id, &refusal, engine.now())?;
            ActionResult::NotAttempted(refusal)
        } else {
            engine.execute(run, &action_id, &effect, None).await?
        };
        let in_place = matches!(
            result,
            ActionResult::Done { verified: true, .. } | ActionResult::AlreadyDone(_)
        );
        let mut gone = false;
        if !in_place && stopped.is_none() {
            // Say where the key stands now, read back, so nobody is told it was removed; deleting
            // a key still active is not what was intended, so the rest waits.
            let now = key_status(engine, user, key_id).await;
            gone = matches!(now, KeyNow::Gone);
            let deactivated = matches!(now, KeyNow::Inactive) && kind == ActionKind::DeactivateKey;
            if !gone && !deactivated {
                let left = left_over_text(user, key_id, &now);
                stopped = Some(format!("{} did not take effect; {left}", effect.describe()));
                report.left_over.push(left);
            }
        }
        report.cleanup.push(ActionReport {
            action_id,
            kind: kind.as_str().to_owned(),
            target: format!("user {user}, key {key_id}"),
            result,
        });
        if gone {
            return Ok(true);
        }
    }
    Ok(stopped.is_none())
}
/// A key's status, read back after a removal step did not take effect.
enum KeyNow {
    Active,
    Inactive,
    Gone,
    Unknown(AwsError),
}

async fn key_status<C: RemediationClient>(
    engine: &Engine<'_, C>,
    user: &str,
    key_id: &str,
) -> KeyNow {
    match engine.client.list_access_keys(user).await {
        Ok(keys) => match keys.iter().find(|k| k.id == key_id) {
            Some(k) if k.active => KeyNow::Active,
            Some(_) => KeyNow::Inactive,
            None => KeyNow::Gone,
        },
        Err(error) => KeyNow::Unknown(error),
    }
}

/// A key left in place, as a person must read it: which key, its status, how to remove it.
fn left_over_text(user: &str, key_id: &str, now: &KeyNow) -> String {
    let status = match now {
        KeyNow::Active => "is still Active".to_owned(),
        KeyNow::Inactive => "is Inactive but not deleted".to_owned(),
        KeyNow::Gone => "is gone".to_owned(),
        KeyNow::Unknown(error) => {
            format!("may still exist (its status could not be read: {error})")
        }
    };
    format!(
        "key {key_id} of {user} {status}, and nobody has its secret: remove it with `aws iam \
         delete-access-key --user-name {user} --access-key-id {key_id}`, or run `keywarden \
         rotate {user}` again, which removes it first"
    )
}

/// A key an earlier rotation of the user set out to remove (a removal step in its journal) and
/// that no rotation of the user deleted.
#[derive(Debug)]
struct LeftOver {
    run: RunId,
    key_id: String,
}

/// The left-overs of `user`'s rotations other than `current`, oldest first. Journal only: whether
/// the key is still there is read later.
fn left_over_keys(
    journal: &Journal,
    user: &str,
    current: Option<&RunId>,
) -> Result<Vec<LeftOver>, RotateError> {
    let mut targeted: Vec<LeftOver> = Vec::new();
    let mut deleted: Vec<String> = Vec::new();
    for info in rotations_of(journal, user)? {
        if Some(&info.id) == current {
            continue;
        }
        for step in journal.steps(&info.id)? {
            let Some(call) = step.call() else { continue };
            // CreateAccessKey's and the hand-over's parameters are not effects: skipped here.
            let Ok(effect) = Effect::from_json(&call.params_json) else {
                continue;
            };
            let effective = call
                .outcome
                .as_ref()
                .is_some_and(|o| o.outcome.is_effective());
            let key_id = match &effect {
                Effect::DeleteKey { key_id, .. } => {
                    if effective {
                        deleted.push(key_id.clone());
                    }
                    key_id
                }
                Effect::SetKeyStatus {
                    key_id,
                    active: false,
                    ..
                } => key_id,
                _ => continue,
            };
            if !targeted.iter().any(|l| &l.key_id == key_id) {
                targeted.push(LeftOver {
                    run: info.id.clone(),
                    key_id: key_id.clone(),
                });
            }
        }
    }
    targeted.retain(|l| !deleted.contains(&l.key_id));
    Ok(targeted)
}

/// Removes a left-over that is still among the user's keys, unless it was used since (then
/// someone has its secret after all). Returns whether a key was removed.
async fn remove_left_over<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    user: &str,
    left: &LeftOver,
    keys: &[AccessKeyMeta],
    report: &mut RotateReport,
) -> Result<bool, RotateError> {
    if !keys.iter().any(|k| k.id == left.key_id) {
        // Deleted since, by hand: nothing left to do.
        return Ok(false);
    }
    if let Some(used) = last_used(engine, user, &left.key_id).await? {
        report.settled.push(format!(
            "run {} could not remove key {} of {user}, and the key was used at {} since: someone \
             has its secret, so keywarden leaves it alone",
            left.run,
            left.key_id,
            format_timestamp(used)
        ));
        return Ok(false);
    }
    report.settled.push(format!(
        "run {} could not remove key {} of {user}, whose secret nobody has: it is removed now \
         (deactivated, then deleted)",
        left.run, left.key_id
    ));
    let prefix = format!("left-over-{}", left.key_id);
    remove_key(engine, run, user, &left.key_id, &prefix, report)
        .await
        .map_err(RotateError::from)
}

/// Hands the secret to its destination: `Ok(where)` for a person, or `Err(why)` (never the
/// secret). A journal error (the Secrets Manager call is journaled) stops the run.
async fn hand_over<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    user: &str,
    key_id: &str,
    secret: &SecretString,
    destination: &mut SecretDestination<'_>,
) -> Result<Result<String, String>, RemediationError> {
    Ok(match destination {
        SecretDestination::File(path) => write_secret_file(path, user, key_id, secret)
            .map(|()| format!("{} (mode 0600)", path.display()))
            .map_err(|e| format!("{}: {e}", path.display())),
        SecretDestination::Writer(writer) => {
            let text = credentials_file_text(user, key_id, secret);
            writer
                .write_all(text.expose().as_bytes())
                .and_then(|()| writer.flush())
                .map(|()| "standard output".to_owned())
                .map_err(|e| format!("standard output: {e}"))
        }
        SecretDestination::SecretsManager(name) => {
            let name = name.clone();
            let effect = Effect::CreateSecret {
                name: name.clone(),
                access_key_id: key_id.to_owned(),
                user: user.to_owned(),
                description: format!(
                    "Access key {key_id} of IAM user {user}, created by keywarden rotate (run \
                     {run})"
                ),
            };
            let value = secret_json(key_id, secret);
            let stored = engine
                .execute_with(run, HAND_OVER_ACTION, &effect, None, Some(&value))
                .await?;
            drop(value);
            match stored.result {
                // AWS took it (a lost reply included: the read-back found it).
                ActionResult::Done { .. } => {
                    let arn = match stored.reply {
                        Some(Reply::SecretArn(arn)) => Some(arn),
                        _ => stored.read.and_then(|read| read.created),
                    };
                    Ok(format!(
                        "Secrets Manager secret {name} ({})",
                        arn.unwrap_or_default()
                    ))
                }
                ActionResult::Failed { code, message } => {
                    let error = AwsError {
                        action: SECRETSMANAGER_CREATE_SECRET,
                        code,
                        message,
                    };
                    Err(if error.is_already_exists() {
                        format!("the Secrets Manager secret {name} already exists: {error}")
                    } else {
                        error.reason()
                    })
                }
                other => Err(other.to_string()),
            }
        }
    })
}

/// The AWS CLI credentials-file format (a `[default]` profile), usable as is with
/// `AWS_SHARED_CREDENTIALS_FILE`; what `--secret-file` and `--show-secret` write. A secret
/// itself: zeroed when dropped.
pub fn credentials_file_text(user: &str, key_id: &str, secret: &SecretString) -> SecretString {
    SecretString::concat(&[
        "# IAM user ",
        user,
        ", access key ",
        key_id,
        " (keywarden rotate)\n[default]\naws_access_key_id = ",
        key_id,
        "\naws_secret_access_key = ",
        secret.expose(),
        "\n",
    ])
}

/// `{"AccessKeyId":"...","SecretAccessKey":"..."}`, the Secrets Manager hand-over, built so
/// that every copy of the secret is zeroed when dropped (a `serde_json::Value` would hold one
/// that is not).
fn secret_json(key_id: &str, secret: &SecretString) -> SecretString {
    // Serializing a string cannot fail. serde_json writes into a 128-byte buffer first, more
    // than an access key's 40-character secret needs, so that buffer is not outgrown.
    let quoted = SecretString::new(serde_json::to_string(secret.expose()).unwrap_or_default());
    let id = serde_json::to_string(key_id).unwrap_or_default();
    SecretString::concat(&[
        "{\"AccessKeyId\":",
        &id,
        ",\"SecretAccessKey\":",
        quoted.expose(),
        "}",
    ])
}

/// Creates `path` (never an existing file) with mode 0600 and writes the credentials; a
/// partial file is removed.
fn write_secret_file(
    path: &Path,
    user: &str,
    key_id: &str,
    secret: &SecretString,
) -> std::io::Result<()> {
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        open.mode(0o600);
    }
    let mut file = open.open(path)?;
    let written = file
        .write_all(
            credentials_file_text(user, key_id, secret)
                .expose()
                .as_bytes(),
        )
        .and_then(|()| file.sync_all());
    if let Err(error) = written {
        drop(file);
        let _ = std::fs::remove_file(path);
        return Err(error);
    }
    Ok(())
}

/// The old keys' plan: deactivate each active one `deactivate_after_days` after the rotation
/// (safe: skipped if a workload used it after the rotation), then delete it
/// `delete_after_days` after that (two-phase: only once inactive for that long, and unused).
pub fn rotation_plan(
    user: &str,
    old_keys: &[&AccessKeyMeta],
    new_key_id: &str,
    run: &RunId,
    account: Option<String>,
    now: Timestamp,
    options: &RotateOptions,
) -> Plan {
    let deactivate_at = now + days(options.deactivate_after_days);
    let delete_at = deactivate_at + days(options.delete_after_days);
    let reason = |key: &str| Reason {
        rule: ROTATION_RULE.to_owned(),
        message: format!(
            "key {key} of {user} was replaced by {new_key_id} at {} (keywarden rotate, run {run})",
            format_timestamp(now)
        ),
    };
    let mut actions = Vec::new();
    let mut n = 0usize;
    for key in old_keys {
        if key.active {
            n += 1;
            let mut deactivate = Action {
                id: format!("A{n:03}"),
                kind: ActionKind::DeactivateKey,
                safety: Safety::Safe,
                account: account.clone(),
                user: Some(user.to_owned()),
                access_key_id: Some(key.id.clone()),
                not_before: Some(deactivate_at),
                policy_time: None,
                // Safe because no workload used the key in the days it had to move to the new
                // one (`key_idle`, re-checked by `apply`).
                precondition: Precondition {
                    key_status: Some(KeyStatus::Active),
                    key_unused_since: Some(UseBound {
                        last_used: Some(now),
                    }),
                    key_idle: Some(KeyIdle {
                        since: now,
                        days: options.deactivate_after_days,
                    }),
                    ..Precondition::default()
                },
                reasons: vec![reason(&key.id)],
                steps: vec![format!(
                    "skipped if the key is used after {}: a workload still needs it; move it to \
                     {new_key_id} and rotate again",
                    format_timestamp(now)
                )],
            };
            // `--deactivate-after-days 0` gives workloads no time to move: not safe.
            deactivate.safety = deactivate.derived_safety();
            actions.push(deactivate);
        }
        n += 1;
        // An old key already inactive waits only for the delete's grace period.
        let delete_not_before = if key.active {
            delete_at
        } else {
            now + days(options.delete_after_days)
        };
        actions.push(Action {
            id: format!("A{n:03}"),
            kind: ActionKind::DeleteKey,
            safety: Safety::TwoPhase,
            account: account.clone(),
            user: Some(user.to_owned()),
            access_key_id: Some(key.id.clone()),
            not_before: Some(delete_not_before),
            policy_time: None,
            precondition: Precondition {
                key_status: Some(KeyStatus::Inactive),
                inactive_for_days: Some(options.delete_after_days),
                ..Precondition::default()
            },
            reasons: vec![reason(&key.id)],
            steps: Vec::new(),
        });
    }
    Plan {
        format: PLAN_FORMAT.to_owned(),
        version: PLAN_VERSION,
        created_at: now,
        account,
        source: PlanSource {
            kind: "rotation".to_owned(),
            location: format!("keywarden rotate {user} (run {run})"),
            data_as_of: Some(now),
        },
        delete_after_days: options.delete_after_days,
        actions,
        not_planned: Vec::new(),
    }
}
