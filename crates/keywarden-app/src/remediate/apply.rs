//! `keywarden apply PLAN` and `apply --resume RUN_ID`: the plan's actions in order, each
//! re-checked against live state, journaled, and read back.

use super::{
    ActionReport, ActionResult, Clock, CrashPoint, Effect, Engine, RemediationClient,
    RemediationError, RunReport,
};
use crate::journal::{Journal, NewRun, RunId, RunKind};
use keywarden_aws::api::AwsError;
use keywarden_core::config::{AuditConfig, ExemptionMatch};
use keywarden_core::remediation::{
    check, quarantine_policy, revoke_sessions_policy, Action, ActionKind, ObservedKey,
    ObservedState, Plan, Safety, Verdict, QUARANTINE_POLICY_NAME, REVOKE_SESSIONS_POLICY_NAME,
};
use keywarden_core::rules::meta_by_code;
use serde::{Deserialize, Serialize};

/// What a run may do; stored with the run so a resume keeps the same limits.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApplyOptions {
    /// Also run `unsafe` actions (and `two-phase` ones).
    pub allow_unsafe: bool,
    /// Also run `two-phase` actions (deletions of keys inactive long enough).
    pub allow_two_phase: bool,
    /// At most this many AWS write calls in the run.
    pub max_actions: Option<usize>,
}

impl ApplyOptions {
    fn allows(&self, safety: Safety) -> bool {
        match safety {
            Safety::Safe => true,
            Safety::TwoPhase => self.allow_two_phase || self.allow_unsafe,
            Safety::Unsafe => self.allow_unsafe,
            Safety::Manual => false,
        }
    }
}

/// Applies `plan` as a new run of `kind` (`apply`, or `contain` for its generated plan).
#[allow(clippy::too_many_arguments)]
pub async fn apply_plan<C: RemediationClient>(
    client: &C,
    journal: &mut Journal,
    clock: Clock<'_>,
    plan: &Plan,
    kind: RunKind,
    options: &ApplyOptions,
    config: &AuditConfig,
    crash: Option<CrashPoint>,
) -> Result<RunReport, RemediationError> {
    let mut engine = Engine::new(client, journal, clock, crash).await?;
    engine.check_account(plan.account.as_deref())?;
    let run = engine.journal.start_run(NewRun {
        kind,
        started_at: engine.now(),
        plan_json: plan.to_json(),
        options_json: serde_json::to_string(options).unwrap_or_default(),
        parent_run: None,
    })?;
    let pid = std::process::id();
    engine.journal.claim_run(&run, pid, engine.now())?;
    let report = run_actions(&mut engine, &run, kind, plan, options, config, Vec::new()).await;
    engine.finish(&run, pid, report)
}

/// Resumes an interrupted run: settles its calls in doubt, then carries on with the actions it
/// had not settled, under the options it started with.
pub async fn resume_run<C: RemediationClient>(
    client: &C,
    journal: &mut Journal,
    clock: Clock<'_>,
    run: &RunId,
    config: &AuditConfig,
    crash: Option<CrashPoint>,
) -> Result<RunReport, RemediationError> {
    let info = journal.run(run)?.ok_or_else(|| RemediationError::Run {
        run: run.as_str().to_owned(),
        problem: "no such run in the journal".to_owned(),
    })?;
    if info.kind == RunKind::Undo {
        let parent = info.parent.clone().ok_or_else(|| RemediationError::Run {
            run: run.as_str().to_owned(),
            problem: "an undo run without the run it undoes".to_owned(),
        })?;
        return super::undo::resume_undo(client, journal, clock, run, &parent, crash).await;
    }
    if info.kind == RunKind::Rotate {
        return Err(RemediationError::Run {
            run: run.as_str().to_owned(),
            problem: "a rotation is not resumed: run `keywarden rotate` again (it checks what \
                      the interrupted one did)"
                .to_owned(),
        });
    }
    let inputs = journal
        .run_inputs(run)?
        .ok_or_else(|| RemediationError::Run {
            run: run.as_str().to_owned(),
            problem: "the run's plan is missing from the journal".to_owned(),
        })?;
    let plan = Plan::from_json(&inputs.plan_json, &format!("run {run}", run = run.as_str()))?;
    let options: ApplyOptions =
        serde_json::from_str(&inputs.options_json).map_err(|e| RemediationError::Run {
            run: run.as_str().to_owned(),
            problem: format!("unreadable options: {e}"),
        })?;
    let mut engine = Engine::new(client, journal, clock, crash).await?;
    engine.check_account(plan.account.as_deref())?;
    let pid = std::process::id();
    let settled = engine.reopen_for_resume(run, pid).await?;
    let report = run_actions(
        &mut engine,
        run,
        info.kind,
        &plan,
        &options,
        config,
        settled,
    )
    .await;
    engine.finish(run, pid, report)
}

async fn run_actions<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    kind: RunKind,
    plan: &Plan,
    options: &ApplyOptions,
    config: &AuditConfig,
    settled_in_doubt: Vec<String>,
) -> Result<RunReport, RemediationError> {
    let settled = engine.journal.completed_action_ids(run)?;
    let mut calls_made = engine
        .journal
        .steps(run)?
        .iter()
        .filter(|s| {
            s.call()
                .is_some_and(|c| c.outcome.as_ref().is_some_and(|o| o.outcome.is_terminal()))
        })
        .count();
    let mut actions = Vec::new();
    for action in &plan.actions {
        let report = |result| ActionReport {
            action_id: action.id.clone(),
            kind: action.kind.as_str().to_owned(),
            target: action.target(),
            result,
        };
        if settled.contains(&action.id) {
            actions.push(report(ActionResult::Settled));
            continue;
        }
        if action.safety == Safety::Manual {
            actions.push(report(ActionResult::NotAttempted(format!(
                "manual: {}",
                action.steps.join("; ")
            ))));
            continue;
        }
        if !options.allows(action.safety) {
            let flag = if action.safety == Safety::TwoPhase {
                "--two-phase or --unsafe"
            } else {
                "--unsafe"
            };
            actions.push(report(ActionResult::NotAttempted(format!(
                "{} action: run with {flag} to include it",
                action.safety
            ))));
            continue;
        }
        if options.max_actions.is_some_and(|max| calls_made >= max) {
            actions.push(report(ActionResult::NotAttempted(format!(
                "--max-actions {} reached",
                options.max_actions.unwrap_or_default()
            ))));
            continue;
        }
        let result = run_action(engine, run, action, config).await?;
        if matches!(
            result,
            ActionResult::Done { .. } | ActionResult::Failed { .. }
        ) {
            calls_made += 1;
        }
        actions.push(report(result));
    }
    Ok(RunReport {
        run: run.clone(),
        kind,
        settled_in_doubt,
        actions,
        irreversible: Vec::new(),
    })
}

async fn run_action<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    run: &RunId,
    action: &Action,
    config: &AuditConfig,
) -> Result<ActionResult, RemediationError> {
    let user = action.user.clone().unwrap_or_default();
    let key = action.access_key_id.clone();
    if let Some(refusal) = engine.refusal(action.kind, Some(&user), key.as_deref()) {
        engine
            .journal
            .record_skip(run, &action.id, &refusal, engine.now())?;
        return Ok(ActionResult::NotAttempted(refusal));
    }
    let observed = match observe(engine, action, config).await? {
        Ok(observed) => observed,
        Err(error) => {
            let reason = format!("could not re-read the state to check the precondition: {error}");
            return engine.fail_before_call(run, &action.id, &action.target(), error, reason);
        }
    };
    let now = engine.now();
    let (effect, undo) = match effects_of(engine, action, &user).await {
        Ok(pair) => pair,
        Err(error) => {
            let reason = format!("could not read the state undo needs: {error}");
            return engine.fail_before_call(run, &action.id, &action.target(), error, reason);
        }
    };
    // A step already in place (a key already inactive, the same policy a second `contain`
    // would attach) is reported, not repeated, whatever the precondition says.
    if let Ok((true, detail)) = engine.read_back(&effect).await? {
        engine
            .journal
            .record_skip(run, &action.id, &format!("already in place: {detail}"), now)?;
        return Ok(ActionResult::AlreadyDone(detail));
    }
    match check(action, &observed, now) {
        Verdict::Proceed => {}
        Verdict::Skip(reason) => {
            engine.journal.record_skip(run, &action.id, &reason, now)?;
            return Ok(ActionResult::Skipped(reason));
        }
        // Not journaled as a skip: a later run may find it due.
        Verdict::NotDue(at) => return Ok(ActionResult::NotDue(at)),
    }
    engine
        .execute(run, &action.id, &effect, undo.as_ref())
        .await
}

/// The write an action makes, and the write that reverses it (`None` when nothing can).
async fn effects_of<C: RemediationClient>(
    engine: &Engine<'_, C>,
    action: &Action,
    user: &str,
) -> Result<(Effect, Option<Effect>), AwsError> {
    let user = user.to_owned();
    let key_id = action.access_key_id.clone().unwrap_or_default();
    let policy = |name: &str, document: serde_json::Value| Effect::PutUserPolicy {
        user: user.clone(),
        policy_name: name.to_owned(),
        document: document.to_string(),
    };
    let time = action.policy_time.unwrap_or_else(|| engine.now());
    let effect = match action.kind {
        ActionKind::DeactivateKey => Effect::SetKeyStatus {
            user: user.clone(),
            key_id: key_id.clone(),
            active: false,
        },
        ActionKind::DeleteKey => Effect::DeleteKey {
            user: user.clone(),
            key_id,
        },
        ActionKind::DeleteLoginProfile => Effect::DeleteLoginProfile { user: user.clone() },
        ActionKind::RevokeSessions => {
            policy(REVOKE_SESSIONS_POLICY_NAME, revoke_sessions_policy(time))
        }
        ActionKind::Quarantine => policy(QUARANTINE_POLICY_NAME, quarantine_policy(time)),
        ActionKind::Manual => unreachable!("manual actions are filtered before"),
    };
    let undo = match &effect {
        Effect::SetKeyStatus {
            user,
            key_id,
            active,
        } => Some(Effect::SetKeyStatus {
            user: user.clone(),
            key_id: key_id.clone(),
            active: !active,
        }),
        Effect::PutUserPolicy {
            user, policy_name, ..
        } => Some(
            // Restore what was there before, or remove the policy when nothing was.
            match engine.client.get_user_policy(user, policy_name).await? {
                Some(previous) => Effect::PutUserPolicy {
                    user: user.clone(),
                    policy_name: policy_name.clone(),
                    document: previous,
                },
                None => Effect::DeleteUserPolicy {
                    user: user.clone(),
                    policy_name: policy_name.clone(),
                },
            },
        ),
        _ => None,
    };
    Ok((effect, undo))
}

/// Reads what the action's precondition names: an AWS error inside (the action fails), a
/// journal error outside (the run stops).
async fn observe<C: RemediationClient>(
    engine: &mut Engine<'_, C>,
    action: &Action,
    config: &AuditConfig,
) -> Result<Result<ObservedState, AwsError>, RemediationError> {
    macro_rules! aws {
        ($e:expr) => {
            match $e {
                Ok(v) => v,
                Err(error) => return Ok(Err(error)),
            }
        };
    }
    let user = action.user.as_deref().unwrap_or_default();
    let pre = &action.precondition;
    let mut observed = ObservedState::default();
    let now = engine.now();
    if let Some(key_id) = action.access_key_id.as_deref() {
        let keys = aws!(engine.client.list_access_keys(user).await);
        if let Some(meta) = keys.iter().find(|k| k.id == key_id) {
            let last_used = if pre.key_unused_since.is_some() || pre.inactive_for_days.is_some() {
                aws!(engine.client.get_access_key_last_used(key_id).await).date
            } else {
                None
            };
            observed.key = Some(ObservedKey {
                active: meta.active,
                last_used,
            });
            // Every read is a sighting: an active key's inactive clock stops, an inactive
            // key's starts now unless keywarden has seen it inactive since it last saw it
            // active.
            engine.sight_key(key_id, meta.active)?;
        }
        if pre.inactive_for_days.is_some() {
            observed.inactive_since = engine.journal.inactive_since(key_id)?;
        }
    }
    if pre.password_present || pre.password_unused_since.is_some() {
        observed.password = match aws!(engine.client.get_login_profile(user).await) {
            None => None,
            Some(_) => {
                Some(aws!(engine.client.get_user(user).await).and_then(|u| u.password_last_used))
            }
        };
    }
    if !pre.not_exempt_from.is_empty() {
        let tags = aws!(engine.client.list_user_tags(user).await);
        for code in &pre.not_exempt_from {
            let Some(meta) = meta_by_code(code) else {
                continue;
            };
            let by_config =
                config.exemption_for(meta, None, Some(user), action.access_key_id.as_deref(), now);
            let by_tag = config.tag_exemption(meta, &tags, now);
            for found in [by_config, by_tag] {
                if let ExemptionMatch::Applies(note) = found {
                    observed.exemption =
                        Some(format!("{} ({}) for {code}", note.source, note.reason));
                }
            }
        }
    }
    Ok(Ok(observed))
}
