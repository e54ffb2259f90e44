//! `keywarden undo RUN_ID`: reverses, newest first, what a run changed and AWS can change back
//! (reactivate keys, remove or restore the inline policies keywarden attached), and says plainly
//! what it cannot (a deleted key or console password is gone).
//!
//! What is reversed is decided by reading AWS, not by the journal's path to it: for each action
//! of the run, keywarden's last call for it is reversed when its effect is in place now, whether
//! the journal says it succeeded, was found already done, or was abandoned on a resume (a write
//! still in flight, or IAM's eventual consistency, can land after the resume read the state).
//! A call whose failure was confirmed by reading back is not keywarden's doing. Left as they
//! are, and said: an effect no longer in place (someone changed it after keywarden), and one a
//! later run made again (undo that run instead).
//!
//! One process per run: the undo claims the run it undoes, so it is refused while that run is
//! being applied (or resumed, or undone) by a live process; when the run's process died, its
//! calls in doubt are settled first by reading AWS, as a resume would.
//!
//! An undo is a run of its own, journaled like any other, so it can be resumed too.

use super::{
    ActionReport, ActionResult, Clock, CrashPoint, Effect, Engine, RemediationClient,
    RemediationError, RunReport,
};
use crate::journal::{
    Journal, JournalError, NewRun, Outcome, RunId, RunKind, RunStatus, StepRecord,
};

pub async fn undo_run<C: RemediationClient>(
    client: &C,
    journal: &mut Journal,
    clock: Clock<'_>,
    target: &RunId,
    crash: Option<CrashPoint>,
) -> Result<RunReport, RemediationError> {
    let refuse = |problem: String| RemediationError::Run {
        run: target.as_str().to_owned(),
        problem,
    };
    let info = journal
        .run(target)?
        .ok_or_else(|| refuse("no such run in the journal".to_owned()))?;
    if info.kind == RunKind::Undo {
        return Err(refuse(
            "this run is itself an undo: apply the original plan again instead".to_owned(),
        ));
    }
    if info.kind == RunKind::Rotate && !journal.in_doubt(target)?.is_empty() {
        // Its CreateAccessKey or hand-over may be in doubt: `rotate` settles those (a key whose
        // secret was lost is removed), which an undo cannot.
        return Err(refuse(
            "this rotation was interrupted: run `keywarden rotate` for its user again, which \
             settles it first"
                .to_owned(),
        ));
    }
    // The account the run acted in, as its stored plan names it (rotate and contain store
    // theirs too): undoing it with another account's credentials would touch that account's
    // same-named users.
    let account = journal
        .run_inputs(target)?
        .and_then(|inputs| serde_json::from_str::<serde_json::Value>(&inputs.plan_json).ok())
        .and_then(|plan| plan["account"].as_str().map(str::to_owned));
    let mut engine = Engine::new(client, journal, clock, crash).await?;
    engine.check_account(account.as_deref())?;
    let pid = std::process::id();
    let settled = hold_target(&mut engine, target, pid).await?;
    let started = engine.journal.start_run(NewRun {
        kind: RunKind::Undo,
        started_at: engine.now(),
        plan_json: serde_json::json!({ "undo_of": target.as_str() }).to_string(),
        options_json: "{}".to_owned(),
        parent_run: Some(target.clone()),
    });
    let run = match started {
        Ok(run) => run,
        Err(error) => {
            engine.journal.release_run(target, pid)?;
            return Err(error.into());
        }
    };
    let report = match engine.journal.claim_run(&run, pid, engine.now()) {
        Ok(()) => undo_steps(&mut engine, &run, target, settled).await,
        Err(error) => Err(error.into()),
    };
    let report = engine.finish(&run, pid, report);
    engine.journal.release_run(target, pid)?;
    report
}

pub(super) async fn resume_undo<C: RemediationClient>(
    client: &C,
    journal: &mut Journal,
    clock: Clock<'_>,
    run: &RunId,
    target: &RunId,
    crash: Option<CrashPoint>,
) -> Result<RunReport, RemediationError> {
    let mut engine = Engine::new(client, journal, clock, crash).await?;
    let pid = std::process::id();
    let mut settled = hold_target(&mut engine, target, pid).await?;
    let report = match engine.reopen_for_resume(run, pid).await {
        Ok(own) => {
            settled.extend(own);
            let report = undo_steps(&mut engine, run, target, settled).await;
            engine.finish(run, pid, report)
        }
        Err(error) => Err(error),
    };
    engine.journal.release_run(target, pid)?;
    report
}

/// Claims the run being undone for this process (refused while a live process applies,
/// resumes or undoes it) and settles the calls its dead process left in doubt, by reading AWS.
/// A run left unfinished is then recorded as interrupted. Returns the settled calls; on an
/// error the claim is released.
async fn hold_target<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    target: &RunId,
    pid: u32,
) -> Result<Vec<String>, RemediationError> {
    match engine.journal.claim_run(target, pid, engine.now()) {
        Ok(()) => {}
        Err(JournalError::RunClaimed {
            pid: holder, since, ..
        }) => {
            return Err(RemediationError::Run {
                run: target.as_str().to_owned(),
                problem: format!(
                    "it is still being run by process {holder} (since {}): undo it once that \
                     process has finished",
                    keywarden_core::time::format_timestamp(since)
                ),
            })
        }
        Err(error) => return Err(error.into()),
    }
    let settled = async {
        let settled = engine.settle_in_doubt(target).await?;
        let unfinished = engine
            .journal
            .run(target)?
            .is_some_and(|info| info.status.is_none());
        if unfinished {
            // Its process died part way: that is what `interrupted` says (and the claim is
            // taken again, since finishing releases it).
            engine
                .journal
                .finish_run(target, RunStatus::Interrupted, engine.now())?;
            engine.journal.claim_run(target, pid, engine.now())?;
        }
        Ok::<_, RemediationError>(settled)
    }
    .await;
    match settled {
        Ok(settled) => Ok(settled
            .into_iter()
            .map(|line| format!("run {}: {line}", target.as_str()))
            .collect()),
        Err(error) => {
            engine.journal.release_run(target, pid)?;
            Err(error)
        }
    }
}

/// The last call step of each action of a run, newest first: what keywarden last tried for it.
fn last_calls(steps: Vec<StepRecord>) -> Vec<StepRecord> {
    let mut last: Vec<StepRecord> = Vec::new();
    for step in steps.into_iter().filter(|s| s.call().is_some()) {
        last.retain(|s| s.action_id != step.action_id);
        last.push(step);
    }
    last.reverse();
    last
}

/// Whether the call may have changed AWS: it succeeded or was found done, or the resume
/// abandoned it (a write in flight may land after the read that abandoned it), or it failed
/// without a read-back confirming the failure (an older journal's lost reply).
fn may_have_landed(step: &StepRecord) -> bool {
    let Some(call) = step.call() else {
        return false;
    };
    match call.outcome.as_ref().map(|o| &o.outcome) {
        Some(Outcome::Succeeded | Outcome::AlreadyDone { .. } | Outcome::Abandoned { .. }) => true,
        Some(Outcome::Failed { .. }) => call.verification.is_none(),
        None => false,
    }
}

async fn undo_steps<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    target: &RunId,
    settled_in_doubt: Vec<String>,
) -> Result<RunReport, RemediationError> {
    let settled = engine.journal.completed_action_ids(run)?;
    let mut actions = Vec::new();
    let mut irreversible = Vec::new();
    for step in last_calls(engine.journal.steps(target)?) {
        let Some(call) = step.call() else { continue };
        let effective = step.outcome().is_some_and(Outcome::is_effective);
        // Not an IAM effect: a rotation's CreateAccessKey or hand-over (said, when done), or a
        // step journaled for a read that failed (nothing was written).
        let Ok(original) = Effect::from_json(&call.params_json) else {
            if effective && call.undo_json.is_none() {
                irreversible.push(irreversible_note(&step.action_id, None, &call.target));
            }
            continue;
        };
        if !may_have_landed(&step) {
            continue;
        }
        let action_id = format!("undo-{}", step.action_id);
        let undo = match &call.undo_json {
            Some(json) => Some(Effect::from_json(json).map_err(|e| RemediationError::Run {
                run: target.as_str().to_owned(),
                problem: format!("step {} has an unreadable undo record: {e}", step.id),
            })?),
            None => None,
        };
        // What the undo does, as its report names it (the original step, when nothing reverses
        // it).
        let shown = undo.as_ref().unwrap_or(&original);
        let (kind, shown) = (undo_kind(shown), shown.describe());
        let report = |result| ActionReport {
            action_id: action_id.clone(),
            kind: kind.to_owned(),
            target: shown.clone(),
            result,
        };
        if settled.contains(&action_id) {
            actions.push(report(ActionResult::Settled));
            continue;
        }
        if undo.is_none() && effective {
            irreversible.push(irreversible_note(
                &step.action_id,
                Some(&original),
                &call.target,
            ));
            continue;
        }
        let now = engine.now();
        let read = match engine.read(&original).await? {
            Ok(read) => read,
            Err(error) => {
                let reason = format!("could not read the state: {error}");
                actions.push(report(
                    engine.fail_before_call(run, &action_id, &shown, error, reason)?,
                ));
                continue;
            }
        };
        let Some(undo) = undo else {
            // A deletion whose reply was lost (an older journal's `failed`), or that landed
            // after a resume abandoned it.
            if read.in_place {
                irreversible.push(irreversible_note(
                    &step.action_id,
                    Some(&original),
                    &call.target,
                ));
            }
            continue;
        };
        if !read.in_place && !effective {
            // An abandoned or failed call that did not land: keywarden changed nothing.
            continue;
        }
        if !read.in_place {
            let gone = original.key_id().is_some() && read.key_active.is_none();
            let reason = if gone {
                let reason = format!(
                    "key {} no longer exists: it cannot be reactivated",
                    original.key_id().unwrap_or_default()
                );
                irreversible.push(reason.clone());
                reason
            } else if engine.read_back(&undo).await?.is_ok_and(|(back, _)| back) {
                let detail = format!("already in place: {}", read.detail);
                engine.journal.record_skip(run, &action_id, &detail, now)?;
                actions.push(report(ActionResult::AlreadyDone(read.detail)));
                continue;
            } else {
                format!(
                    "left as it is: someone changed it after keywarden ({})",
                    read.detail
                )
            };
            engine.journal.record_skip(run, &action_id, &reason, now)?;
            actions.push(report(ActionResult::Skipped(reason)));
            continue;
        }
        if let Some(later) = engine
            .journal
            .later_same_change(target, run, step.id, call)?
        {
            let reason = format!(
                "left as it is: run {} made the same change later ({}); undo that run instead",
                later.as_str(),
                call.target
            );
            engine.journal.record_skip(run, &action_id, &reason, now)?;
            actions.push(report(ActionResult::Skipped(reason)));
            continue;
        }
        let result = engine
            .execute(run, &action_id, &undo, Some(&original))
            .await?;
        actions.push(report(result));
    }
    Ok(RunReport {
        run: run.clone(),
        kind: RunKind::Undo,
        settled_in_doubt,
        actions,
        irreversible,
    })
}

fn undo_kind(effect: &Effect) -> &'static str {
    match effect {
        Effect::SetKeyStatus { active: true, .. } => "reactivate-key",
        Effect::SetKeyStatus { active: false, .. } => "deactivate-key",
        Effect::PutUserPolicy { .. } => "restore-policy",
        Effect::DeleteUserPolicy { .. } => "remove-policy",
        Effect::DeleteKey { .. } => "delete-key",
        Effect::DeleteLoginProfile { .. } => "delete-login-profile",
        Effect::CreateAccessKey { .. } => "create-access-key",
        Effect::CreateSecret { .. } => "create-secret",
    }
}

/// A plain sentence for what cannot be reversed.
fn irreversible_note(action_id: &str, effect: Option<&Effect>, target: &str) -> String {
    match effect {
        Some(Effect::DeleteKey { user, key_id }) => format!(
            "{action_id}: key {key_id} of {user} was deleted; AWS cannot restore a deleted key \
             (create a new one: keywarden rotate {user})"
        ),
        Some(Effect::DeleteLoginProfile { user }) => format!(
            "{action_id}: the console password of {user} was deleted; it cannot be restored \
             (set a new one: aws iam create-login-profile --user-name {user} --password-reset-required)"
        ),
        _ => format!("{action_id}: {target} cannot be undone"),
    }
}
