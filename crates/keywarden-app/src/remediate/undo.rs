//! `keywarden undo RUN_ID`: reverses, newest first, what a run changed and AWS can change back
//! (reactivate keys, remove or restore the inline policies keywarden attached), and says plainly
//! what it cannot (a deleted key or console password is gone).
//!
//! An undo is a run of its own, journaled like any other, so it can be resumed too.

use super::{
    ActionReport, ActionResult, Clock, CrashPoint, Effect, Engine, RemediationClient,
    RemediationError, RunReport,
};
use crate::journal::{Journal, NewRun, RunId, RunKind};

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
    if !journal.in_doubt(target)?.is_empty() {
        return Err(refuse(format!(
            "the run was interrupted with calls in doubt: finish it first with `keywarden apply \
             --resume {}`, then undo it",
            target.as_str()
        )));
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
    let run = engine.journal.start_run(NewRun {
        kind: RunKind::Undo,
        started_at: engine.now(),
        plan_json: serde_json::json!({ "undo_of": target.as_str() }).to_string(),
        options_json: "{}".to_owned(),
        parent_run: Some(target.clone()),
    })?;
    let pid = std::process::id();
    engine.journal.claim_run(&run, pid, engine.now())?;
    let report = undo_steps(&mut engine, &run, target, Vec::new()).await;
    engine.finish(&run, pid, report)
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
    let settled = engine.reopen_for_resume(run, pid).await?;
    let report = undo_steps(&mut engine, run, target, settled).await;
    engine.finish(run, pid, report)
}

async fn undo_steps<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    target: &RunId,
    settled_in_doubt: Vec<String>,
) -> Result<RunReport, RemediationError> {
    let settled = engine.journal.completed_action_ids(run)?;
    let mut steps = engine.journal.steps(target)?;
    steps.reverse();
    let mut actions = Vec::new();
    let mut irreversible = Vec::new();
    for step in steps {
        let Some(call) = step.call() else { continue };
        if !step.outcome().is_some_and(|o| o.is_effective()) {
            continue;
        }
        let original = Effect::from_json(&call.params_json).ok();
        let Some(undo_json) = &call.undo_json else {
            irreversible.push(irreversible_note(
                &step.action_id,
                original.as_ref(),
                &call.target,
            ));
            continue;
        };
        let undo = Effect::from_json(undo_json).map_err(|e| RemediationError::Run {
            run: target.as_str().to_owned(),
            problem: format!("step {} has an unreadable undo record: {e}", step.id),
        })?;
        let action_id = format!("undo-{}", step.action_id);
        let report = |result| ActionReport {
            action_id: action_id.clone(),
            kind: undo_kind(&undo).to_owned(),
            target: undo.describe(),
            result,
        };
        if settled.contains(&action_id) {
            actions.push(report(ActionResult::Settled));
            continue;
        }
        let now = engine.now();
        if let Effect::SetKeyStatus { user, key_id, .. } = &undo {
            match engine.client.list_access_keys(user).await {
                Ok(keys) if !keys.iter().any(|k| &k.id == key_id) => {
                    let reason = format!("key {key_id} no longer exists: it cannot be reactivated");
                    engine.journal.record_skip(run, &action_id, &reason, now)?;
                    irreversible.push(reason.clone());
                    actions.push(report(ActionResult::Skipped(reason)));
                    continue;
                }
                Ok(_) => {}
                Err(error) => {
                    let reason = format!("could not read the key's state: {error}");
                    let target = undo.describe();
                    actions.push(report(
                        engine.fail_before_call(run, &action_id, &target, error, reason)?,
                    ));
                    continue;
                }
            }
        }
        match undo.is_in_place(engine.client).await {
            Ok((true, detail)) => {
                engine.journal.record_skip(
                    run,
                    &action_id,
                    &format!("already in place: {detail}"),
                    now,
                )?;
                actions.push(report(ActionResult::AlreadyDone(detail)));
                continue;
            }
            Ok((false, _)) => {}
            Err(error) => {
                let reason = format!("could not read the state: {error}");
                let target = undo.describe();
                actions.push(report(
                    engine.fail_before_call(run, &action_id, &target, error, reason)?,
                ));
                continue;
            }
        }
        let result = engine
            .execute(run, &action_id, &undo, original.as_ref())
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
