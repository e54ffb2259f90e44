//! The remediation journal against a real SQLite file in a temporary folder.

use std::collections::HashSet;
use std::path::Path;
use std::process::Command;

mod support;

use keywarden_app::journal::{
    process_alive, ActionCounts, Intent, Journal, JournalError, KeyChange, KeyEffect, NewRun,
    Outcome, RunId, RunKind, RunStatus, StepEntry, JOURNAL_FILE_NAME, SCHEMA_VERSION,
};
use support::{contains, journal_bytes, t};

/// Set by `crash_between_intent_and_outcome` when it re-runs this binary as the process to kill.
const CHILD_DIR_ENV: &str = "KEYWARDEN_JOURNAL_TEST_CRASH_DIR";

fn new_run(kind: RunKind, at: &str) -> NewRun {
    NewRun {
        kind,
        started_at: t(at),
        plan_json: r#"{"version":1,"actions":[]}"#.to_string(),
        options_json: r#"{"unsafe":false}"#.to_string(),
        parent_run: None,
    }
}

fn intent(run: &RunId, action_id: &str, at: &str) -> Intent {
    Intent {
        run: run.clone(),
        action_id: action_id.to_string(),
        call: "iam:UpdateAccessKey".to_string(),
        target: format!("user alice, action {action_id}"),
        params_json: r#"{"UserName":"alice","AccessKeyId":"AKIAEXAMPLE1","Status":"Inactive"}"#
            .to_string(),
        undo_json: Some(r#"{"Status":"Active"}"#.to_string()),
        key: None,
        at: t(at),
    }
}

fn key_intent(run: &RunId, action_id: &str, key_id: &str, change: KeyChange, at: &str) -> Intent {
    Intent {
        key: Some(KeyEffect {
            key_id: key_id.to_string(),
            change,
        }),
        ..intent(run, action_id, at)
    }
}

fn ids(set: &HashSet<String>) -> Vec<&str> {
    let mut v: Vec<&str> = set.iter().map(String::as_str).collect();
    v.sort_unstable();
    v
}

#[test]
fn schema_is_created_and_reopened() {
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("nested").join("state");
    let run = {
        let mut j = Journal::open(&state).unwrap();
        assert_eq!(j.path(), state.join(JOURNAL_FILE_NAME));
        j.start_run(new_run(RunKind::Apply, "2024-03-05T06:07:08Z"))
            .unwrap()
    };
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&state), 0o700);
        assert_eq!(mode(&state.join(JOURNAL_FILE_NAME)), 0o600);
    }
    let raw = rusqlite::Connection::open(state.join(JOURNAL_FILE_NAME)).unwrap();
    let version: i64 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    let mode: String = raw
        .query_row("PRAGMA journal_mode", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    assert_eq!(mode, "wal");
    drop(raw);

    // Reopening keeps everything, and a second open of a migrated journal changes nothing.
    for _ in 0..2 {
        let j = Journal::open(&state).unwrap();
        let info = j.run(&run).unwrap().expect("the run survives a reopen");
        assert_eq!(info.kind, RunKind::Apply);
        assert_eq!(info.started_at, t("2024-03-05T06:07:08Z"));
        let inputs = j.run_inputs(&run).unwrap().unwrap();
        assert_eq!(inputs.plan_json, r#"{"version":1,"actions":[]}"#);
        assert_eq!(inputs.options_json, r#"{"unsafe":false}"#);
    }
}

#[test]
fn run_lifecycle_and_listing_order() {
    let tmp = tempfile::tempdir().unwrap();
    let mut j = Journal::open(tmp.path()).unwrap();
    let first = j
        .start_run(new_run(RunKind::Apply, "2024-03-05T06:07:08Z"))
        .unwrap();
    // Same second: still a distinct id.
    let second = j
        .start_run(new_run(RunKind::Contain, "2024-03-05T06:07:08Z"))
        .unwrap();
    assert_ne!(first, second);
    for id in [&first, &second] {
        assert!(id.as_str().starts_with("20240305T060708Z-"), "{id}");
        assert_eq!(RunId::parse(id.as_str()).unwrap(), *id);
    }
    let undo = j
        .start_run(NewRun {
            parent_run: Some(first.clone()),
            ..new_run(RunKind::Undo, "2024-03-06T00:00:00Z")
        })
        .unwrap();

    j.finish_run(&first, RunStatus::Completed, t("2024-03-05T06:10:00Z"))
        .unwrap();
    j.finish_run(
        &undo,
        RunStatus::CompletedWithErrors,
        t("2024-03-06T00:01:00Z"),
    )
    .unwrap();

    let runs = j.runs().unwrap();
    let order: Vec<&RunId> = runs.iter().map(|r| &r.id).collect();
    assert_eq!(order, [&undo, &second, &first], "newest first");
    assert_eq!(runs[0].parent.as_ref(), Some(&first));
    assert_eq!(runs[0].status, Some(RunStatus::CompletedWithErrors));
    assert_eq!(runs[0].status_label(), "completed_with_errors");
    // The run never finished (a killed run) is listed as unfinished.
    assert_eq!(runs[1].kind, RunKind::Contain);
    assert_eq!(runs[1].status, None);
    assert_eq!(runs[1].finished_at, None);
    assert_eq!(runs[1].status_label(), "unfinished");
    assert_eq!(runs[2].finished_at, Some(t("2024-03-05T06:10:00Z")));

    // A resume reopens a run until it finishes again.
    j.reopen_run(&first, t("2024-03-07T00:00:00Z")).unwrap();
    let info = j.run(&first).unwrap().unwrap();
    assert_eq!((info.status, info.resumes), (None, 1));
    j.finish_run(&first, RunStatus::Interrupted, t("2024-03-07T00:01:00Z"))
        .unwrap();
    assert_eq!(
        j.run(&first).unwrap().unwrap().status,
        Some(RunStatus::Interrupted)
    );

    // Unknown runs.
    let missing = RunId::parse("19990101T000000Z-0000").unwrap();
    assert_eq!(j.run(&missing).unwrap(), None);
    assert!(matches!(
        j.finish_run(&missing, RunStatus::Completed, t("2024-01-01T00:00:00Z")),
        Err(JournalError::UnknownRun { .. })
    ));
    assert!(matches!(
        j.start_run(NewRun {
            parent_run: Some(missing.clone()),
            ..new_run(RunKind::Undo, "2024-03-06T00:00:00Z")
        }),
        Err(JournalError::UnknownRun { .. })
    ));
    assert!(matches!(
        j.record_intent(intent(&missing, "a1", "2024-01-01T00:00:00Z")),
        Err(JournalError::UnknownRun { .. })
    ));
    assert!(RunId::parse("not-a-run").is_err());
}

#[test]
fn steps_outcomes_counts_and_completed_actions() {
    let tmp = tempfile::tempdir().unwrap();
    let mut j = Journal::open(tmp.path()).unwrap();
    let run = j
        .start_run(new_run(RunKind::Apply, "2024-03-05T06:00:00Z"))
        .unwrap();

    let ok = j
        .record_intent(intent(&run, "a1", "2024-03-05T06:00:01Z"))
        .unwrap();
    j.record_outcome(ok, Outcome::Succeeded, t("2024-03-05T06:00:02Z"))
        .unwrap();
    j.record_verification(
        ok,
        true,
        "key AKIAEXAMPLE1 is Inactive",
        t("2024-03-05T06:00:03Z"),
    )
    .unwrap();

    let failed = j
        .record_intent(intent(&run, "a2", "2024-03-05T06:00:04Z"))
        .unwrap();
    let denied = Outcome::Failed {
        code: "AccessDenied".into(),
        message: "not authorized to perform iam:UpdateAccessKey".into(),
    };
    j.record_outcome(failed, denied.clone(), t("2024-03-05T06:00:05Z"))
        .unwrap();

    j.record_skip(
        &run,
        "a3",
        "key used since the plan",
        t("2024-03-05T06:00:06Z"),
    )
    .unwrap();

    let abandoned = j
        .record_intent(intent(&run, "a4", "2024-03-05T06:00:07Z"))
        .unwrap();
    j.record_outcome(
        abandoned,
        Outcome::Abandoned {
            reason: "the call did not happen".into(),
        },
        t("2024-03-05T06:00:08Z"),
    )
    .unwrap();

    let unverified = j
        .record_intent(intent(&run, "a5", "2024-03-05T06:00:09Z"))
        .unwrap();
    j.record_outcome(unverified, Outcome::Succeeded, t("2024-03-05T06:00:10Z"))
        .unwrap();
    j.record_verification(
        unverified,
        false,
        "key still Active",
        t("2024-03-05T06:00:11Z"),
    )
    .unwrap();

    let doubt = j
        .record_intent(intent(&run, "a6", "2024-03-05T06:00:12Z"))
        .unwrap();

    // Outcomes are written once; skips and unknown ids have none.
    assert!(matches!(
        j.record_outcome(ok, Outcome::Succeeded, t("2024-03-05T06:01:00Z")),
        Err(JournalError::OutcomeAlreadyRecorded { .. })
    ));
    let skip_id = j.steps(&run).unwrap()[2].id;
    assert!(matches!(
        j.record_outcome(skip_id, Outcome::Succeeded, t("2024-03-05T06:01:00Z")),
        Err(JournalError::UnknownStep { .. })
    ));

    assert_eq!(
        ids(&j.completed_action_ids(&run).unwrap()),
        ["a1", "a2", "a3", "a5"]
    );
    let in_doubt = j.in_doubt(&run).unwrap();
    assert_eq!(in_doubt.len(), 1);
    assert_eq!(
        (in_doubt[0].id, in_doubt[0].action_id.as_str()),
        (doubt, "a6")
    );
    assert!(in_doubt[0].is_in_doubt());

    let steps = j.steps(&run).unwrap();
    let actions: Vec<&str> = steps.iter().map(|s| s.action_id.as_str()).collect();
    assert_eq!(actions, ["a1", "a2", "a3", "a4", "a5", "a6"], "in order");
    let first = steps[0].call().unwrap();
    assert_eq!(first.call, "iam:UpdateAccessKey");
    assert_eq!(first.undo_json.as_deref(), Some(r#"{"Status":"Active"}"#));
    assert_eq!(
        first.outcome.as_ref().unwrap().at,
        t("2024-03-05T06:00:02Z")
    );
    assert!(first.verification.as_ref().unwrap().verified);
    assert_eq!(steps[1].outcome(), Some(&denied));
    assert_eq!(
        steps[2].entry,
        StepEntry::Skipped {
            reason: "key used since the plan".into()
        }
    );
    assert_eq!(steps[2].at, t("2024-03-05T06:00:06Z"));

    // No action done twice: a succeeded action and an action in doubt refuse a new intent;
    // an abandoned one may be tried again.
    assert!(matches!(
        j.record_intent(intent(&run, "a1", "2024-03-05T06:02:00Z")),
        Err(JournalError::ActionAlreadyDone { step, .. }) if step == ok
    ));
    assert!(matches!(
        j.record_intent(intent(&run, "a6", "2024-03-05T06:02:00Z")),
        Err(JournalError::ActionInDoubt { step, .. }) if step == doubt
    ));
    let retry = j
        .record_intent(intent(&run, "a4", "2024-03-05T06:02:01Z"))
        .unwrap();
    j.record_outcome(retry, Outcome::Succeeded, t("2024-03-05T06:02:02Z"))
        .unwrap();

    let info = j.run(&run).unwrap().unwrap();
    assert_eq!(
        info.counts,
        ActionCounts {
            done: 3, // a1, a4 (retried), a5
            skipped: 1,
            failed: 1,
            in_doubt: 1,
            abandoned: 0,
            unverified: 1,
        }
    );
}

/// Not a test on its own: the process `crash_between_intent_and_outcome` kills. Without the
/// environment variable it does nothing.
#[test]
fn crash_child_writes_an_intent_then_aborts() {
    let Some(dir) = std::env::var_os(CHILD_DIR_ENV) else {
        return;
    };
    let mut j = Journal::open(Path::new(&dir)).unwrap();
    let run = j
        .start_run(new_run(RunKind::Apply, "2024-03-05T06:00:00Z"))
        .unwrap();
    j.claim_run(&run, std::process::id(), t("2024-03-05T06:00:00Z"))
        .unwrap();
    let done = j
        .record_intent(intent(&run, "a1", "2024-03-05T06:00:01Z"))
        .unwrap();
    j.record_outcome(done, Outcome::Succeeded, t("2024-03-05T06:00:02Z"))
        .unwrap();
    j.record_intent(intent(&run, "a2", "2024-03-05T06:00:03Z"))
        .unwrap();
    // Killed between the intent and the AWS call (or between the call and its outcome).
    std::process::abort();
}

#[test]
fn crash_between_intent_and_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let status = Command::new(std::env::current_exe().unwrap())
        .args([
            "crash_child_writes_an_intent_then_aborts",
            "--exact",
            "--nocapture",
        ])
        .env(CHILD_DIR_ENV, tmp.path())
        .status()
        .unwrap();
    assert!(!status.success(), "the child must die: {status:?}");
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        assert_eq!(status.signal(), Some(libc::SIGABRT), "{status:?}");
    }

    let mut j = Journal::open(tmp.path()).unwrap();
    let runs = j.runs().unwrap();
    assert_eq!(runs.len(), 1);
    let run = runs[0].id.clone();
    assert_eq!(runs[0].status_label(), "unfinished");
    assert_eq!(runs[0].counts.in_doubt, 1);
    assert_eq!(runs[0].counts.done, 1);
    // The dead child's claim is taken over.
    let dead = runs[0].claim.unwrap().pid;
    assert!(!process_alive(dead));
    j.claim_run(&run, std::process::id(), t("2024-03-05T07:00:00Z"))
        .unwrap();
    j.reopen_run(&run, t("2024-03-05T07:00:00Z")).unwrap();

    // The resume: a1 is settled, a2 is in doubt.
    assert_eq!(ids(&j.completed_action_ids(&run).unwrap()), ["a1"]);
    let doubt = j.in_doubt(&run).unwrap();
    assert_eq!(doubt.len(), 1);
    assert_eq!(doubt[0].action_id, "a2");
    assert!(matches!(
        j.record_intent(intent(&run, "a2", "2024-03-05T07:00:01Z")),
        Err(JournalError::ActionInDoubt { .. })
    ));
    // Re-reading AWS shows the key already inactive: the call is not repeated.
    j.record_outcome(
        doubt[0].id,
        Outcome::AlreadyDone {
            detail: "key AKIAEXAMPLE1 is Inactive".into(),
        },
        t("2024-03-05T07:00:02Z"),
    )
    .unwrap();
    assert!(j.in_doubt(&run).unwrap().is_empty());
    assert_eq!(ids(&j.completed_action_ids(&run).unwrap()), ["a1", "a2"]);
    assert!(matches!(
        j.record_intent(intent(&run, "a2", "2024-03-05T07:00:03Z")),
        Err(JournalError::ActionAlreadyDone { .. })
    ));
    j.finish_run(&run, RunStatus::Completed, t("2024-03-05T07:00:04Z"))
        .unwrap();
    let info = j.run(&run).unwrap().unwrap();
    assert_eq!((info.counts.done, info.counts.in_doubt), (2, 0));
    assert_eq!((info.claim, info.resumes), (None, 1));
}

#[test]
fn an_intent_is_durable_without_an_outcome() {
    let tmp = tempfile::tempdir().unwrap();
    let (run, step) = {
        let mut j = Journal::open(tmp.path()).unwrap();
        let run = j
            .start_run(new_run(RunKind::Rotate, "2024-03-05T06:00:00Z"))
            .unwrap();
        let step = j
            .record_intent(intent(&run, "r1", "2024-03-05T06:00:01Z"))
            .unwrap();
        (run, step)
        // Dropped without an outcome.
    };
    let j = Journal::open(tmp.path()).unwrap();
    let doubt = j.in_doubt(&run).unwrap();
    assert_eq!(doubt.iter().map(|s| s.id).collect::<Vec<_>>(), [step]);
    assert!(j.completed_action_ids(&run).unwrap().is_empty());
}

#[test]
fn last_deactivation_across_runs_and_undo() {
    let tmp = tempfile::tempdir().unwrap();
    let mut j = Journal::open(tmp.path()).unwrap();
    let key = "AKIAEXAMPLEKEY1";
    assert_eq!(j.last_deactivation(key).unwrap(), None);

    let run1 = j
        .start_run(new_run(RunKind::Apply, "2024-03-01T00:00:00Z"))
        .unwrap();
    // A failed deactivation does not count.
    let s = j
        .record_intent(key_intent(
            &run1,
            "a1",
            key,
            KeyChange::Deactivated,
            "2024-03-01T00:00:01Z",
        ))
        .unwrap();
    j.record_outcome(
        s,
        Outcome::Failed {
            code: "Throttling".into(),
            message: "Rate exceeded".into(),
        },
        t("2024-03-01T00:00:02Z"),
    )
    .unwrap();
    assert_eq!(j.last_deactivation(key).unwrap(), None);
    // An intent in doubt does not count either.
    let other = j
        .record_intent(key_intent(
            &run1,
            "a2",
            "AKIAOTHER",
            KeyChange::Deactivated,
            "2024-03-01T00:00:03Z",
        ))
        .unwrap();
    assert_eq!(j.last_deactivation("AKIAOTHER").unwrap(), None);
    j.record_outcome(
        other,
        Outcome::AlreadyDone {
            detail: "Inactive".into(),
        },
        t("2024-03-01T00:00:04Z"),
    )
    .unwrap();
    assert_eq!(
        j.last_deactivation("AKIAOTHER").unwrap(),
        Some(t("2024-03-01T00:00:04Z"))
    );

    let run2 = j
        .start_run(new_run(RunKind::Apply, "2024-03-02T00:00:00Z"))
        .unwrap();
    let s = j
        .record_intent(key_intent(
            &run2,
            "a1",
            key,
            KeyChange::Deactivated,
            "2024-03-02T00:00:01Z",
        ))
        .unwrap();
    j.record_outcome(s, Outcome::Succeeded, t("2024-03-02T00:00:02Z"))
        .unwrap();
    assert_eq!(
        j.last_deactivation(key).unwrap(),
        Some(t("2024-03-02T00:00:02Z"))
    );

    // The undo of run2 reactivates the key: no longer deactivated by keywarden.
    let undo = j
        .start_run(NewRun {
            parent_run: Some(run2.clone()),
            ..new_run(RunKind::Undo, "2024-03-03T00:00:00Z")
        })
        .unwrap();
    let s = j
        .record_intent(key_intent(
            &undo,
            "u1",
            key,
            KeyChange::Reactivated,
            "2024-03-03T00:00:01Z",
        ))
        .unwrap();
    assert_eq!(
        j.last_deactivation(key).unwrap(),
        Some(t("2024-03-02T00:00:02Z")),
        "a reactivation in doubt does not clear it"
    );
    j.record_outcome(s, Outcome::Succeeded, t("2024-03-03T00:00:02Z"))
        .unwrap();
    assert_eq!(j.last_deactivation(key).unwrap(), None);

    // Deactivated again later: the new time.
    let run3 = j
        .start_run(new_run(RunKind::Apply, "2024-03-04T00:00:00Z"))
        .unwrap();
    let s = j
        .record_intent(key_intent(
            &run3,
            "a1",
            key,
            KeyChange::Deactivated,
            "2024-03-04T00:00:01Z",
        ))
        .unwrap();
    j.record_outcome(s, Outcome::Succeeded, t("2024-03-04T00:00:02Z"))
        .unwrap();
    drop(j);
    let j = Journal::open(tmp.path()).unwrap();
    assert_eq!(
        j.last_deactivation(key).unwrap(),
        Some(t("2024-03-04T00:00:02Z"))
    );
    let step = &j.steps(&run3).unwrap()[0];
    assert_eq!(
        step.call().unwrap().key,
        Some(KeyEffect {
            key_id: key.into(),
            change: KeyChange::Deactivated
        })
    );
}

#[test]
fn key_sightings_keep_the_first_inactive_one_until_seen_active() {
    let tmp = tempfile::tempdir().unwrap();
    let mut j = Journal::open(tmp.path()).unwrap();
    let key = "AKIAOBSERVED";
    assert_eq!(j.inactive_since(key).unwrap(), None);
    j.observe_inactive(key, t("2024-03-01T00:00:00Z")).unwrap();
    j.observe_inactive(key, t("2024-03-05T00:00:00Z")).unwrap();
    assert_eq!(
        j.inactive_since(key).unwrap(),
        Some(t("2024-03-01T00:00:00Z"))
    );
    assert_eq!(j.inactive_since("AKIAUNRELATED").unwrap(), None);
    j.observe_active(key, t("2024-03-06T00:00:00Z")).unwrap();
    assert_eq!(j.inactive_since(key).unwrap(), None);
    j.observe_inactive(key, t("2024-03-07T00:00:00Z")).unwrap();
    drop(j);
    let j = Journal::open(tmp.path()).unwrap();
    assert_eq!(
        j.inactive_since(key).unwrap(),
        Some(t("2024-03-07T00:00:00Z"))
    );
}

#[test]
fn claims_refuse_a_live_holder_and_take_over_a_dead_one() {
    let tmp = tempfile::tempdir().unwrap();
    let mut j = Journal::open(tmp.path()).unwrap();
    let run = j
        .start_run(new_run(RunKind::Apply, "2024-03-05T06:00:00Z"))
        .unwrap();
    let me = std::process::id();

    let mut holder = Command::new("sleep").arg("60").spawn().unwrap();
    let holder_pid = holder.id();
    j.claim_run(&run, holder_pid, t("2024-03-05T06:00:01Z"))
        .unwrap();
    let err = j
        .claim_run(&run, me, t("2024-03-05T06:00:02Z"))
        .unwrap_err();
    match &err {
        JournalError::RunClaimed { pid, since, .. } => {
            assert_eq!((*pid, *since), (holder_pid, t("2024-03-05T06:00:01Z")));
        }
        other => panic!("expected RunClaimed, got {other:?}"),
    }
    assert!(err.to_string().contains(&holder_pid.to_string()), "{err}");
    // Another Journal on the same file (another process's view) sees the claim too.
    let mut other = Journal::open(tmp.path()).unwrap();
    assert!(matches!(
        other.claim_run(&run, me, t("2024-03-05T06:00:02Z")),
        Err(JournalError::RunClaimed { .. })
    ));
    // Releasing with the wrong pid leaves the claim.
    other.release_run(&run, me).unwrap();
    assert_eq!(j.run(&run).unwrap().unwrap().claim.unwrap().pid, holder_pid);

    holder.kill().unwrap();
    holder.wait().unwrap();
    assert!(!process_alive(holder_pid));
    j.claim_run(&run, me, t("2024-03-05T06:00:03Z")).unwrap();
    // Claiming again by the holder is fine.
    j.claim_run(&run, me, t("2024-03-05T06:00:04Z")).unwrap();
    let claim = j.run(&run).unwrap().unwrap().claim.unwrap();
    assert_eq!((claim.pid, claim.at), (me, t("2024-03-05T06:00:04Z")));
    j.release_run(&run, me).unwrap();
    assert_eq!(j.run(&run).unwrap().unwrap().claim, None);
    j.claim_run(&run, me, t("2024-03-05T06:00:05Z")).unwrap();
    j.finish_run(&run, RunStatus::Completed, t("2024-03-05T06:00:06Z"))
        .unwrap();
    assert_eq!(
        j.run(&run).unwrap().unwrap().claim,
        None,
        "finishing releases"
    );
}

#[test]
fn a_newer_schema_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    drop(Journal::open(tmp.path()).unwrap());
    let file = tmp.path().join(JOURNAL_FILE_NAME);
    let raw = rusqlite::Connection::open(&file).unwrap();
    raw.execute_batch(&format!("PRAGMA user_version = {}", SCHEMA_VERSION + 1))
        .unwrap();
    drop(raw);
    let err = Journal::open(tmp.path()).unwrap_err();
    assert!(
        matches!(err, JournalError::NewerSchema { found, .. } if found == SCHEMA_VERSION + 1),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(msg.contains(&file.display().to_string()), "{msg}");
    assert!(msg.contains("newer keywarden"), "{msg}");
}

#[test]
fn a_file_that_is_not_sqlite_is_named_in_the_error() {
    for content in [
        b"this is not a database, it is a text file\n".repeat(200),
        b"short".to_vec(),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let file = tmp.path().join(JOURNAL_FILE_NAME);
        std::fs::write(&file, &content).unwrap();
        let err = Journal::open(tmp.path()).unwrap_err();
        assert!(matches!(err, JournalError::NotADatabase { .. }), "{err:?}");
        let msg = err.to_string();
        assert!(msg.contains(&file.display().to_string()), "{msg}");
        assert!(msg.contains("not a keywarden journal"), "{msg}");
        // The file is left as it was.
        assert_eq!(std::fs::read(&file).unwrap(), content);
    }
}

#[test]
fn another_applications_database_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join(JOURNAL_FILE_NAME);
    let raw = rusqlite::Connection::open(&file).unwrap();
    raw.execute_batch("CREATE TABLE notes (body TEXT)").unwrap();
    drop(raw);
    let err = Journal::open(tmp.path()).unwrap_err();
    assert!(
        matches!(err, JournalError::ForeignDatabase { .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains(&file.display().to_string()));
}

/// Every byte of the journal folder (the database, and its WAL while open).

#[test]
fn the_journal_stores_what_it_is_given_and_refuses_secret_fields() {
    // The journal has no secret type: it stores the engine's strings verbatim (so keeping secrets
    // out is the engine's job), and refuses a JSON field named like a secret as a backstop.
    let tmp = tempfile::tempdir().unwrap();
    let secret = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYSECRETMARKER";
    let mut j = Journal::open(tmp.path()).unwrap();
    let run = j
        .start_run(new_run(RunKind::Rotate, "2024-03-05T06:00:00Z"))
        .unwrap();
    let params = r#"{"UserName":"alice","Marker":"VERBATIM-PARAMS-7f3a"}"#;
    let step = j
        .record_intent(Intent {
            call: "iam:CreateAccessKey".into(),
            params_json: params.into(),
            undo_json: None,
            ..intent(&run, "rotate/create", "2024-03-05T06:00:01Z")
        })
        .unwrap();
    assert_eq!(
        j.steps(&run).unwrap()[0].call().unwrap().params_json,
        params
    );

    // An outcome that would carry the created key's secret is refused, and the error does not
    // repeat it.
    let leaked = format!(r#"{{"AccessKeyId":"AKIANEW","SecretAccessKey":"{secret}"}}"#);
    let err = j
        .record_outcome(
            step,
            Outcome::AlreadyDone {
                detail: leaked.clone(),
            },
            t("2024-03-05T06:00:02Z"),
        )
        .unwrap_err();
    assert!(matches!(err, JournalError::SecretField { .. }), "{err:?}");
    assert!(!err.to_string().contains(secret), "{err}");
    let err = j
        .record_intent(Intent {
            params_json: leaked.clone(),
            ..intent(&run, "rotate/store", "2024-03-05T06:00:03Z")
        })
        .unwrap_err();
    assert!(matches!(err, JournalError::SecretField { .. }), "{err:?}");
    assert!(matches!(
        j.start_run(NewRun {
            options_json: r#"{"aws_session_token":"x"}"#.into(),
            ..new_run(RunKind::Rotate, "2024-03-05T06:00:00Z")
        }),
        Err(JournalError::SecretField { .. })
    ));
    j.record_outcome(step, Outcome::Succeeded, t("2024-03-05T06:00:04Z"))
        .unwrap();

    let bytes = journal_bytes(tmp.path());
    assert!(
        contains(&bytes, "VERBATIM-PARAMS-7f3a"),
        "params are stored verbatim"
    );
    assert!(
        !contains(&bytes, secret),
        "the refused secret reached the journal"
    );
    assert!(!contains(&bytes, "SECRETMARKER"));
    drop(j);
    let bytes = journal_bytes(tmp.path());
    assert!(contains(&bytes, "VERBATIM-PARAMS-7f3a"));
    assert!(!contains(&bytes, "SECRETMARKER"));
}

/// What keywarden 0.x (journal schema version 1) wrote, frozen: its schema, and the state the
/// inactive-clock bug left behind. Alice's key: deactivated by run R1, seen inactive by R1's
/// delete check, reactivated by the undo R2, and the sighting kept past the reactivation.
/// Bob's key: deactivated by R1 and never seen since. Carol's key: seen inactive, never
/// touched by keywarden.
const VERSION_1_JOURNAL: &str = "
    PRAGMA application_id = 1264011852; -- KWJL
    PRAGMA user_version = 1;
    CREATE TABLE runs (
        seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
        started_at TEXT NOT NULL, finished_at TEXT, status TEXT, plan_json TEXT NOT NULL,
        options_json TEXT NOT NULL, parent_run TEXT REFERENCES runs(id), claim_pid INTEGER,
        claimed_at TEXT, resumes INTEGER NOT NULL DEFAULT 0, last_resumed_at TEXT
    ) STRICT;
    CREATE TABLE steps (
        id INTEGER PRIMARY KEY AUTOINCREMENT, run_id TEXT NOT NULL REFERENCES runs(id),
        action_id TEXT NOT NULL, kind TEXT NOT NULL CHECK (kind IN ('call', 'skip')),
        at TEXT NOT NULL, call TEXT, target TEXT, params_json TEXT, undo_json TEXT, key_id TEXT,
        key_change TEXT, skip_reason TEXT, outcome TEXT, outcome_code TEXT, outcome_detail TEXT,
        outcome_at TEXT, verified INTEGER, verification_detail TEXT, verified_at TEXT
    ) STRICT;
    CREATE INDEX steps_by_run_action ON steps (run_id, action_id, id);
    CREATE INDEX steps_by_key ON steps (key_id, id) WHERE key_id IS NOT NULL;
    CREATE TABLE key_observations (
        key_id TEXT PRIMARY KEY, first_seen_inactive TEXT NOT NULL
    ) STRICT;
    INSERT INTO runs (id, kind, started_at, finished_at, status, plan_json, options_json)
        VALUES ('20240301T000000Z-0001', 'apply', '2024-03-01T00:00:00.000000000Z',
                '2024-03-01T00:00:09.000000000Z', 'completed', '{}', '{}');
    INSERT INTO runs (id, kind, started_at, finished_at, status, plan_json, options_json,
                      parent_run)
        VALUES ('20240302T000000Z-0002', 'undo', '2024-03-02T00:00:00.000000000Z',
                '2024-03-02T00:00:09.000000000Z', 'completed', '{}', '{}',
                '20240301T000000Z-0001');
    INSERT INTO steps (run_id, action_id, kind, at, call, target, params_json, key_id,
                       key_change, outcome, outcome_at)
        VALUES
        ('20240301T000000Z-0001', 'A001', 'call', '2024-03-01T00:00:01.000000000Z',
         'iam:UpdateAccessKey', 'deactivate key AKIAALICE of alice', '{}', 'AKIAALICE',
         'deactivated', 'succeeded', '2024-03-01T00:00:01.000000000Z'),
        ('20240301T000000Z-0001', 'A002', 'call', '2024-03-01T00:00:02.000000000Z',
         'iam:UpdateAccessKey', 'deactivate key AKIABOB of bob', '{}', 'AKIABOB',
         'deactivated', 'succeeded', '2024-03-01T00:00:02.000000000Z'),
        ('20240302T000000Z-0002', 'undo-A001', 'call', '2024-03-02T00:00:01.000000000Z',
         'iam:UpdateAccessKey', 'reactivate key AKIAALICE of alice', '{}', 'AKIAALICE',
         'reactivated', 'succeeded', '2024-03-02T00:00:01.000000000Z');
    INSERT INTO key_observations VALUES
        ('AKIAALICE', '2024-03-01T00:00:03.000000000Z'),
        ('AKIACAROL', '2024-02-01T00:00:00.000000000Z');
";

#[test]
fn a_journal_of_the_previous_schema_opens_and_its_inactive_clocks_are_repaired() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join(JOURNAL_FILE_NAME);
    rusqlite::Connection::open(&file)
        .unwrap()
        .execute_batch(VERSION_1_JOURNAL)
        .unwrap();

    let mut j = Journal::open(tmp.path()).expect("a version 1 journal opens");
    let raw = rusqlite::Connection::open(&file).unwrap();
    let version: i64 = raw
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, SCHEMA_VERSION);
    drop(raw);
    assert_eq!(j.runs().unwrap().len(), 2, "its runs are kept");
    // Reactivated by the undo after the sighting: the key is not inactive by keywarden's record
    // (version 1 said since 2024-03-01, so a hand deactivation weeks later deleted it at once).
    assert_eq!(j.inactive_since("AKIAALICE").unwrap(), None);
    assert_eq!(
        j.last_seen_active("AKIAALICE").unwrap(),
        Some(t("2024-03-02T00:00:01Z"))
    );
    // keywarden's own deactivation, never recorded as a sighting by version 1, starts the clock.
    assert_eq!(
        j.inactive_since("AKIABOB").unwrap(),
        Some(t("2024-03-01T00:00:02Z"))
    );
    // A sighting of a key keywarden never touched is carried over as it was.
    assert_eq!(
        j.inactive_since("AKIACAROL").unwrap(),
        Some(t("2024-02-01T00:00:00Z"))
    );
    // The migrated journal takes new sightings, and a second open changes nothing.
    j.observe_inactive("AKIAALICE", t("2024-04-01T00:00:00Z"))
        .unwrap();
    drop(j);
    let j = Journal::open(tmp.path()).unwrap();
    assert_eq!(
        j.inactive_since("AKIAALICE").unwrap(),
        Some(t("2024-04-01T00:00:00Z"))
    );
    assert_eq!(
        j.inactive_since("AKIABOB").unwrap(),
        Some(t("2024-03-01T00:00:02Z"))
    );
}

#[test]
fn an_active_sighting_stops_the_inactive_clock_and_records_when() {
    let tmp = tempfile::tempdir().unwrap();
    let mut j = Journal::open(tmp.path()).unwrap();
    let key = "AKIASEEN";
    assert_eq!(j.last_seen_active(key).unwrap(), None);
    j.observe_inactive(key, t("2024-03-01T00:00:00Z")).unwrap();
    j.observe_active(key, t("2024-03-02T00:00:00Z")).unwrap();
    assert_eq!(j.inactive_since(key).unwrap(), None);
    assert_eq!(
        j.last_seen_active(key).unwrap(),
        Some(t("2024-03-02T00:00:00Z"))
    );
    // Seen inactive again: the clock starts from that sighting, not from the first one.
    j.observe_inactive(key, t("2024-04-01T00:00:00Z")).unwrap();
    assert_eq!(
        j.inactive_since(key).unwrap(),
        Some(t("2024-04-01T00:00:00Z"))
    );
    assert_eq!(
        j.last_seen_active(key).unwrap(),
        Some(t("2024-03-02T00:00:00Z"))
    );
}
