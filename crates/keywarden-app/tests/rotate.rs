//! `rotate_key` against the in-memory `FakeAccount` and a real journal file: the refusals, the
//! journaled happy paths, a failed hand-over cleaning up the useless key, an interrupted
//! rotation's orphan key settled and removed, a lost reply settled by reading back (the key
//! removed, never a second one created; the secret found in Secrets Manager), and no secret in
//! the journal's bytes.

mod support;

use keywarden_app::journal::{Intent, Journal, NewRun, Outcome, RunKind, RunStatus, StepEntry};
use keywarden_app::remediate::{
    rotate_key, RotateError, RotateOptions, RotateReport, SecretDestination, CREATE_KEY_ACTION,
};
use keywarden_aws::api::{
    AccessKeyMeta, IamRead, IamWrite, SecretString, SecretWrite, IAM_CREATE_ACCESS_KEY,
    SECRETSMANAGER_CREATE_SECRET,
};
use keywarden_aws::fake::FakeAccount;
use keywarden_core::remediation::{ActionKind, KeyStatus, Plan, Safety};
use keywarden_core::time::days;
use support::{contains, fresh_journal, journal_bytes, key, t};

const NOW: &str = "2025-06-01T12:00:00Z";
/// The fake's first created key and its secret's prefix.
const NEW_KEY: &str = "AKIAFAKE000000000001";
const SECRET_PREFIX: &str = "fake-secret-";

fn account(keys: Vec<AccessKeyMeta>) -> FakeAccount {
    let mut fake = FakeAccount::default();
    fake.now = t(NOW);
    fake.keys.insert("alice".into(), keys);
    fake
}

fn options() -> RotateOptions {
    RotateOptions {
        user: "alice".into(),
        deactivate_after_days: 7,
        delete_after_days: 7,
    }
}

async fn rotate(
    fake: &FakeAccount,
    journal: &mut Journal,
    destination: &mut SecretDestination<'_>,
) -> Result<RotateReport, RotateError> {
    let now = t(NOW);
    let clock = move || now;
    rotate_key(fake, journal, &clock, &options(), destination, None).await
}

/// alice's key ids, as the fake has them now.
async fn key_ids(fake: &FakeAccount) -> Vec<String> {
    fake.list_access_keys("alice")
        .await
        .unwrap()
        .into_iter()
        .map(|k| k.id)
        .collect()
}

#[tokio::test]
async fn rotate_a_user_with_two_keys_is_refused_before_anything_is_written() {
    let (_dir, mut journal) = fresh_journal();
    let fake = account(vec![key("AKIAOLD1", true), key("AKIAOLD2", false)]);
    let mut out = Vec::new();
    let error = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut out),
    )
    .await
    .unwrap_err();
    let message = error.to_string();
    assert!(matches!(error, RotateError::Refused(_)), "{message}");
    assert!(message.contains("two access keys"), "{message}");
    assert!(message.contains("AKIAOLD1 (Active)") && message.contains("AKIAOLD2 (Inactive)"));
    assert!(message.contains("keywarden apply"), "{message}");
    assert_eq!(fake.count("iam:CreateAccessKey"), 0);
    assert!(journal.runs().unwrap().is_empty());
    assert!(out.is_empty());
}

#[tokio::test]
async fn rotate_an_existing_secret_file_is_refused_before_any_aws_call() {
    let (dir, mut journal) = fresh_journal();
    let file = dir.path().join("creds");
    std::fs::write(&file, "keep me").unwrap();
    let fake = account(vec![key("AKIAOLD1", true)]);
    let error = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::File(file.clone()),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("the file exists"), "{error}");
    assert!(fake.calls().is_empty(), "{:?}", fake.calls());
    assert_eq!(std::fs::read_to_string(&file).unwrap(), "keep me");
}

#[tokio::test]
async fn rotate_a_rotation_to_a_file_is_journaled_and_plans_the_old_key() {
    let (dir, mut journal) = fresh_journal();
    let file = dir.path().join("creds");
    let fake = account(vec![key("AKIAOLD1", true)]);
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::File(file.clone()),
    )
    .await
    .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(report.new_key_id.as_deref(), Some(NEW_KEY));
    assert!(report.handed_to.as_deref().unwrap().contains("mode 0600"));

    // The file: new, 0600, the credentials-file shape with the key and its secret.
    let text = std::fs::read_to_string(&file).unwrap();
    assert!(text.contains("[default]"), "{text}");
    assert!(
        text.contains(&format!("aws_access_key_id = {NEW_KEY}")),
        "{text}"
    );
    assert!(text.contains(&format!("aws_secret_access_key = {SECRET_PREFIX}")));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&file).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }

    // The journal: a completed rotate run, the create's intent with the keys before, its
    // outcome, and a verification naming the new key.
    let info = journal.run(&report.run).unwrap().unwrap();
    assert_eq!(info.kind, RunKind::Rotate);
    assert_eq!(info.status, Some(RunStatus::Completed));
    let steps = journal.steps(&report.run).unwrap();
    assert_eq!(steps.len(), 1, "{steps:?}");
    let call = steps[0].call().unwrap();
    assert_eq!(steps[0].action_id, CREATE_KEY_ACTION);
    assert_eq!(call.call, "iam:CreateAccessKey");
    assert!(
        call.params_json.contains("\"alice\""),
        "{}",
        call.params_json
    );
    assert!(
        call.params_json.contains("AKIAOLD1"),
        "{}",
        call.params_json
    );
    assert_eq!(call.outcome.as_ref().unwrap().outcome, Outcome::Succeeded);
    let verification = call.verification.as_ref().unwrap();
    assert!(verification.verified);
    assert!(
        verification.detail.contains(NEW_KEY),
        "{}",
        verification.detail
    );

    // The plan: deactivate (safe, skipped if the old key is used after the rotation), then delete.
    let plan = report.plan.clone().unwrap();
    let plan = Plan::from_json(&plan.to_json(), "test").unwrap();
    assert_eq!(plan.source.kind, "rotation");
    assert_eq!(plan.account.as_deref(), Some("123456789012"));
    assert_eq!(plan.actions.len(), 2);
    let (deactivate, delete) = (&plan.actions[0], &plan.actions[1]);
    assert_eq!(
        (deactivate.id.as_str(), delete.id.as_str()),
        ("A001", "A002")
    );
    assert_eq!(deactivate.kind, ActionKind::DeactivateKey);
    assert_eq!(deactivate.safety, Safety::Safe);
    assert_eq!(deactivate.access_key_id.as_deref(), Some("AKIAOLD1"));
    assert_eq!(deactivate.not_before, Some(t(NOW) + days(7)));
    assert_eq!(deactivate.precondition.key_status, Some(KeyStatus::Active));
    assert_eq!(
        deactivate.precondition.key_unused_since.unwrap().last_used,
        Some(t(NOW))
    );
    assert_eq!(deactivate.reasons[0].rule, "ROTATION");
    assert!(deactivate.reasons[0].message.contains(NEW_KEY));
    assert_eq!(delete.kind, ActionKind::DeleteKey);
    assert_eq!(delete.safety, Safety::TwoPhase);
    assert_eq!(delete.not_before, Some(t(NOW) + days(14)));
    assert_eq!(delete.precondition.key_status, Some(KeyStatus::Inactive));
    assert_eq!(delete.precondition.inactive_for_days, Some(7));

    // The secret is nowhere but the file.
    let secret_start = format!("{SECRET_PREFIX}000000000001");
    assert!(!contains(&journal_bytes(dir.path()), &secret_start));
    assert!(!plan.to_json().contains(SECRET_PREFIX));
    assert!(!format!("{report:?}").contains(SECRET_PREFIX));
}

#[tokio::test]
async fn rotate_a_user_without_a_key_gets_one_and_no_plan() {
    let (_dir, mut journal) = fresh_journal();
    let mut fake = account(Vec::new());
    fake.users.push(keywarden_aws::api::IamUser {
        name: "alice".into(),
        arn: "arn:aws:iam::123456789012:user/alice".into(),
        created: t("2024-01-01T00:00:00Z"),
        password_last_used: None,
    });
    let mut out = Vec::new();
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut out),
    )
    .await
    .unwrap();
    assert!(report.succeeded());
    assert!(report.plan.is_none());
    let text = String::from_utf8(out).unwrap();
    assert!(
        text.contains(NEW_KEY) && text.contains(SECRET_PREFIX),
        "{text}"
    );
}

#[tokio::test]
async fn rotate_secrets_manager_gets_the_console_shape_and_the_journal_no_secret() {
    let (dir, mut journal) = fresh_journal();
    let fake = account(vec![key("AKIAOLD1", true)]);
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::SecretsManager("prod/alice".into()),
    )
    .await
    .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert!(report.handed_to.as_deref().unwrap().contains("prod/alice"));
    let secrets = fake.secrets();
    assert_eq!(secrets.len(), 1);
    let value: serde_json::Value = serde_json::from_str(secrets[0].value.expose()).unwrap();
    assert_eq!(value["AccessKeyId"], NEW_KEY);
    let secret = value["SecretAccessKey"].as_str().unwrap().to_owned();
    assert!(secret.starts_with(SECRET_PREFIX));
    assert!(secrets[0].description.contains(NEW_KEY));
    assert!(!secrets[0].description.contains(SECRET_PREFIX));

    // The hand-over is journaled (an AWS write) by name and key id.
    let steps = journal.steps(&report.run).unwrap();
    let calls: Vec<&str> = steps
        .iter()
        .map(|s| s.call().unwrap().call.as_str())
        .collect();
    assert_eq!(
        calls,
        ["iam:CreateAccessKey", "secretsmanager:CreateSecret"]
    );
    assert_eq!(
        steps[1].outcome(),
        Some(&Outcome::Succeeded),
        "{:?}",
        steps[1]
    );
    drop(journal);
    let bytes = journal_bytes(dir.path());
    assert!(!bytes.is_empty());
    assert!(!contains(&bytes, &secret), "the secret is in the journal");
    assert!(
        !contains(&bytes, SECRET_PREFIX),
        "the secret is in the journal"
    );
}

#[tokio::test]
async fn rotate_a_failed_hand_over_removes_the_new_key() {
    for (name, code) in [
        ("taken", "ResourceExistsException"),
        ("denied", "AccessDenied"),
    ] {
        let (dir, mut journal) = fresh_journal();
        let mut fake = account(vec![key("AKIAOLD1", true)]);
        if code == "AccessDenied" {
            fake.failures
                .insert("secretsmanager:CreateSecret", code.to_owned());
        } else {
            fake.create_secret(name, &SecretString::new("someone else's"), "")
                .await
                .unwrap();
        }
        let report = rotate(
            &fake,
            &mut journal,
            &mut SecretDestination::SecretsManager(name.into()),
        )
        .await
        .unwrap();
        assert!(!report.succeeded());
        let failure = report.failure.clone().unwrap();
        assert!(failure.contains(code), "{failure}");
        assert!(!failure.contains(SECRET_PREFIX), "{failure}");
        assert!(report.plan.is_none());
        let cleanup: Vec<(&str, &str)> = report
            .cleanup
            .iter()
            .map(|a| (a.action_id.as_str(), a.result.label()))
            .collect();
        assert_eq!(
            cleanup,
            [("cleanup/deactivate", "done"), ("cleanup/delete", "done")],
            "{code}"
        );
        let keys = fake.list_access_keys("alice").await.unwrap();
        assert_eq!(keys, vec![key("AKIAOLD1", true)], "{code}");
        let info = journal.run(&report.run).unwrap().unwrap();
        assert_eq!(info.status, Some(RunStatus::CompletedWithErrors));
        assert_eq!(
            fake.calls()
                .iter()
                .filter(|c| c.starts_with("iam:DeleteAccessKey"))
                .cloned()
                .collect::<Vec<_>>(),
            [format!("iam:DeleteAccessKey(alice/{NEW_KEY})")]
        );
        drop(journal);
        assert!(!contains(&journal_bytes(dir.path()), SECRET_PREFIX));
    }
}

#[tokio::test]
async fn rotate_a_failed_create_is_journaled_and_reported() {
    let (_dir, mut journal) = fresh_journal();
    let mut fake = account(vec![key("AKIAOLD1", true)]);
    fake.failures
        .insert("iam:CreateAccessKey", "AccessDenied".to_owned());
    let mut out = Vec::new();
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut out),
    )
    .await
    .unwrap();
    assert!(!report.succeeded());
    assert!(report.failure.unwrap().contains("AccessDenied"));
    assert!(out.is_empty());
    let steps = journal.steps(&report.run).unwrap();
    assert!(
        matches!(steps[0].outcome(), Some(Outcome::Failed { code, .. }) if code == "AccessDenied")
    );
}

/// Writes what a rotation killed between its `CreateAccessKey` intent and the outcome leaves:
/// an unfinished rotate run and an intent without an outcome (the format `rotate_key` writes).
fn interrupted_run(journal: &mut Journal, existing: &[&str]) -> keywarden_app::journal::RunId {
    let run = journal
        .start_run(NewRun {
            kind: RunKind::Rotate,
            started_at: t("2025-05-31T09:00:00Z"),
            plan_json: r#"{"rotate_user":"alice","destination":"stdout","deactivate_after_days":7,"delete_after_days":7}"#.into(),
            options_json: "{}".into(),
            parent_run: None,
        })
        .unwrap();
    journal
        .record_intent(Intent {
            run: run.clone(),
            action_id: CREATE_KEY_ACTION.into(),
            call: "iam:CreateAccessKey".into(),
            target: "create a new access key for alice".into(),
            params_json: serde_json::json!({
                "call": "create-access-key",
                "user": "alice",
                "existing_key_ids": existing,
            })
            .to_string(),
            undo_json: None,
            key: None,
            at: t("2025-05-31T09:00:01Z"),
        })
        .unwrap();
    run
}

#[tokio::test]
async fn rotate_an_interrupted_create_is_settled_and_its_orphan_removed() {
    let (_dir, mut journal) = fresh_journal();
    let fake = account(vec![key("AKIAOLD1", true)]);
    let old = interrupted_run(&mut journal, &["AKIAOLD1"]);
    // The killed process's call reached AWS: the key exists, its secret is gone.
    let orphan = fake.create_access_key("alice").await.unwrap();
    assert_eq!(orphan.id, NEW_KEY);

    let mut out = Vec::new();
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut out),
    )
    .await
    .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert!(
        report
            .settled
            .iter()
            .any(|s| s.contains(NEW_KEY) && s.contains("lost")),
        "{:?}",
        report.settled
    );
    let cleanup: Vec<(&str, &str)> = report
        .cleanup
        .iter()
        .map(|a| (a.action_id.as_str(), a.result.label()))
        .collect();
    let deactivate = format!("orphan-{NEW_KEY}/deactivate");
    let delete = format!("orphan-{NEW_KEY}/delete");
    assert_eq!(
        cleanup,
        [(deactivate.as_str(), "done"), (delete.as_str(), "done")]
    );
    // The old step is closed as already done, naming the key; the old run is finished.
    let old_steps = journal.steps(&old).unwrap();
    match old_steps[0].outcome() {
        Some(Outcome::AlreadyDone { detail }) => assert!(detail.contains(NEW_KEY), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        journal.run(&old).unwrap().unwrap().status,
        Some(RunStatus::Interrupted)
    );
    // Then the rotation itself: the orphan gone, the old key and the new one left.
    let second = "AKIAFAKE000000000002";
    assert_eq!(report.new_key_id.as_deref(), Some(second));
    let ids = key_ids(&fake).await;
    assert_eq!(ids, ["AKIAOLD1", second]);
    let new_steps: Vec<String> = journal
        .steps(&report.run)
        .unwrap()
        .iter()
        .map(|s| match &s.entry {
            StepEntry::Call(c) => format!("{} {}", s.action_id, c.call),
            StepEntry::Skipped { reason } => format!("{} skipped {reason}", s.action_id),
        })
        .collect();
    assert_eq!(
        new_steps,
        [
            format!("{deactivate} iam:UpdateAccessKey"),
            format!("{delete} iam:DeleteAccessKey"),
            format!("{CREATE_KEY_ACTION} iam:CreateAccessKey"),
        ]
    );
    // The plan is for the old key only, never the orphan.
    let plan = report.plan.unwrap();
    assert!(plan
        .actions
        .iter()
        .all(|a| a.access_key_id.as_deref() == Some("AKIAOLD1")));

    // A third rotation finds nothing left to settle (and refuses: two keys).
    let error = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut Vec::new()),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("two access keys"), "{error}");
}

#[tokio::test]
async fn rotate_an_interrupted_create_that_did_not_happen_is_abandoned() {
    let (_dir, mut journal) = fresh_journal();
    let fake = account(vec![key("AKIAOLD1", true)]);
    let old = interrupted_run(&mut journal, &["AKIAOLD1"]);
    let mut out = Vec::new();
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut out),
    )
    .await
    .unwrap();
    assert!(report.succeeded());
    assert!(report.cleanup.is_empty());
    assert!(matches!(
        journal.steps(&old).unwrap()[0].outcome(),
        Some(Outcome::Abandoned { .. })
    ));
    assert_eq!(report.new_key_id.as_deref(), Some(NEW_KEY));
}

#[tokio::test]
async fn rotate_a_used_key_is_never_taken_for_an_orphan() {
    let (_dir, mut journal) = fresh_journal();
    let mut fake = account(vec![key("AKIAOLD1", true), key("AKIAHANDMADE", true)]);
    fake.last_used.insert(
        "AKIAHANDMADE".into(),
        keywarden_aws::api::KeyLastUsed {
            date: Some(t("2025-05-31T10:00:00Z")),
            service: Some("s3".into()),
            region: Some("us-east-1".into()),
            user: Some("alice".into()),
        },
    );
    let old = interrupted_run(&mut journal, &["AKIAOLD1"]);
    let error = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut Vec::new()),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("leaves it alone"), "{error}");
    assert_eq!(fake.count("iam:UpdateAccessKey"), 0);
    assert_eq!(fake.count("iam:DeleteAccessKey"), 0);
    // Still in doubt: nothing was guessed.
    assert!(journal.steps(&old).unwrap()[0].is_in_doubt());
}

/// The `(action id, result)` of each cleanup step.
fn cleanup_of(report: &RotateReport) -> Vec<(String, &'static str)> {
    report
        .cleanup
        .iter()
        .map(|a| (a.action_id.clone(), a.result.label()))
        .collect()
}

#[tokio::test]
async fn rotate_a_lost_create_reply_is_settled_by_listing_keys_and_never_creates_a_second() {
    let (_dir, mut journal) = fresh_journal();
    let mut fake = account(vec![key("AKIAOLD1", true)]);
    // AWS creates the key; its answer (the only copy of the secret) never arrives.
    fake.lost_replies.insert(IAM_CREATE_ACCESS_KEY);
    let mut out = Vec::new();
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut out),
    )
    .await
    .unwrap();
    assert!(!report.succeeded(), "{report:?}");
    assert!(out.is_empty(), "nothing was handed over");
    assert_eq!(
        fake.count(IAM_CREATE_ACCESS_KEY),
        1,
        "one CreateAccessKey only"
    );
    // Truthful: the key was created, its secret is lost, it was removed, rotate again.
    let failure = report.failure.clone().unwrap();
    for words in [
        NEW_KEY,
        "lost",
        "cannot show it again",
        "removed",
        "rotate alice` again",
    ] {
        assert!(failure.contains(words), "{words:?} in {failure}");
    }
    assert_eq!(report.new_key_id.as_deref(), Some(NEW_KEY));
    assert_eq!(
        cleanup_of(&report),
        [
            ("lost-reply/deactivate".to_owned(), "done"),
            ("lost-reply/delete".to_owned(), "done")
        ]
    );
    let ids = key_ids(&fake).await;
    assert_eq!(ids, ["AKIAOLD1"]);
    // Journaled as done (the read-back found the key), not as a failure.
    let steps = journal.steps(&report.run).unwrap();
    let create = steps
        .iter()
        .find(|s| s.action_id == CREATE_KEY_ACTION)
        .unwrap();
    assert_eq!(create.outcome(), Some(&Outcome::Succeeded), "{create:?}");
    let verification = create.call().unwrap().verification.clone().unwrap();
    assert!(verification.verified && verification.detail.contains(NEW_KEY));
    assert_eq!(
        journal.run(&report.run).unwrap().unwrap().status,
        Some(RunStatus::CompletedWithErrors)
    );

    // The next rotation has nothing to settle and creates one key.
    fake.lost_replies.clear();
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut Vec::new()),
    )
    .await
    .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert!(report.settled.is_empty(), "{:?}", report.settled);
    assert_eq!(fake.count(IAM_CREATE_ACCESS_KEY), 2);
}

#[tokio::test]
async fn rotate_an_interrupted_create_with_two_new_keys_removes_neither() {
    let (_dir, mut journal) = fresh_journal();
    let fake = account(vec![]);
    // The interrupted rotation listed no key; two keys are new since: which is its own?
    let old = interrupted_run(&mut journal, &[]);
    fake.create_access_key("alice").await.unwrap();
    fake.create_access_key("alice").await.unwrap();
    let error = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::Writer(&mut Vec::new()),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("cannot be told"), "{error}");
    assert_eq!(fake.count("iam:UpdateAccessKey"), 0);
    assert_eq!(fake.count(IAM_CREATE_ACCESS_KEY), 2);
    assert!(journal.steps(&old).unwrap()[0].is_in_doubt());
}

#[tokio::test]
async fn rotate_a_lost_create_secret_reply_is_read_back_and_the_rotation_succeeds() {
    let (_dir, mut journal) = fresh_journal();
    let mut fake = account(vec![key("AKIAOLD1", true)]);
    fake.lost_replies.insert(SECRETSMANAGER_CREATE_SECRET);
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::SecretsManager("prod/alice".into()),
    )
    .await
    .unwrap();
    assert!(report.succeeded(), "{report:?}");
    assert_eq!(fake.count(SECRETSMANAGER_CREATE_SECRET), 1);
    assert_eq!(fake.count("secretsmanager:DescribeSecret"), 1);
    let handed = report.handed_to.unwrap();
    assert!(handed.contains("arn:aws:secretsmanager:"), "{handed}");
    assert!(
        report.cleanup.is_empty(),
        "the key is kept: its secret is stored"
    );
    let steps = journal.steps(&report.run).unwrap();
    let hand_over = steps.iter().find(|s| s.action_id == "hand-over").unwrap();
    assert_eq!(hand_over.outcome(), Some(&Outcome::Succeeded));
    let detail = &hand_over
        .call()
        .unwrap()
        .verification
        .as_ref()
        .unwrap()
        .detail;
    assert!(
        detail.contains("took effect") && detail.contains(NEW_KEY),
        "{detail}"
    );
}

/// A rotation killed around its hand-over to Secrets Manager: the key created and verified, the
/// `CreateSecret` intent without an outcome.
async fn interrupted_hand_over(
    fake: &FakeAccount,
    journal: &mut Journal,
    stored: bool,
) -> keywarden_app::journal::RunId {
    let old = interrupted_run(journal, &["AKIAOLD1"]);
    let created = fake.create_access_key("alice").await.unwrap();
    let step = journal.in_doubt(&old).unwrap()[0].id;
    journal
        .record_outcome(step, Outcome::Succeeded, t("2025-05-31T09:00:02Z"))
        .unwrap();
    let description = format!(
        "Access key {} of IAM user alice, created by keywarden rotate (run {old})",
        created.id
    );
    journal
        .record_intent(Intent {
            run: old.clone(),
            action_id: "hand-over".into(),
            call: SECRETSMANAGER_CREATE_SECRET.into(),
            target: "Secrets Manager secret prod/alice".into(),
            params_json: serde_json::json!({
                "call": "create-secret",
                "name": "prod/alice",
                "access_key_id": created.id,
                "user": "alice",
                "description": description,
            })
            .to_string(),
            undo_json: None,
            key: None,
            at: t("2025-05-31T09:00:03Z"),
        })
        .unwrap();
    if stored {
        fake.create_secret("prod/alice", &created.secret, &description)
            .await
            .unwrap();
    }
    old
}

#[tokio::test]
async fn rotate_an_interrupted_hand_over_is_settled_by_reading_secrets_manager() {
    // Stored: the key is someone's to use; alice now has two keys, so the rotation refuses.
    let (_dir, mut journal) = fresh_journal();
    let fake = account(vec![key("AKIAOLD1", true)]);
    let old = interrupted_hand_over(&fake, &mut journal, true).await;
    let error = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::SecretsManager("prod/alice-2".into()),
    )
    .await
    .unwrap_err();
    assert!(error.to_string().contains("two access keys"), "{error}");
    let hand_over = |journal: &Journal, old| {
        journal
            .steps(old)
            .unwrap()
            .into_iter()
            .find(|s| s.action_id == "hand-over")
            .unwrap()
    };
    match hand_over(&journal, &old).outcome() {
        Some(Outcome::AlreadyDone { detail }) => assert!(detail.contains(NEW_KEY), "{detail}"),
        other => panic!("{other:?}"),
    }
    assert_eq!(fake.count("iam:UpdateAccessKey"), 0);

    // Not stored: the key's secret died with the run, so the key is removed, then rotated.
    let (_dir, mut journal) = fresh_journal();
    let fake = account(vec![key("AKIAOLD1", true)]);
    let old = interrupted_hand_over(&fake, &mut journal, false).await;
    let report = rotate(
        &fake,
        &mut journal,
        &mut SecretDestination::SecretsManager("prod/alice-2".into()),
    )
    .await
    .unwrap();
    assert!(report.succeeded(), "{report:?}");
    match hand_over(&journal, &old).outcome() {
        Some(Outcome::Abandoned { reason }) => {
            assert!(reason.contains("no secret prod/alice"), "{reason}")
        }
        other => panic!("{other:?}"),
    }
    assert!(
        report
            .settled
            .iter()
            .any(|s| s.contains(NEW_KEY) && s.contains("removed")),
        "{:?}",
        report.settled
    );
    let second = "AKIAFAKE000000000002";
    let ids = key_ids(&fake).await;
    assert_eq!(ids, ["AKIAOLD1", second]);
    let names: Vec<String> = fake.secrets().into_iter().map(|s| s.name).collect();
    assert_eq!(names, ["prod/alice-2"]);
}

#[tokio::test]
async fn an_interrupted_rotation_is_settled_by_rotate_not_by_undo() {
    let (_dir, mut journal) = fresh_journal();
    let fake = account(vec![key("AKIAOLD1", true)]);
    let old = interrupted_run(&mut journal, &["AKIAOLD1"]);
    fake.create_access_key("alice").await.unwrap();
    let now = t(NOW);
    let clock = move || now;
    let error = keywarden_app::remediate::undo_run(&fake, &mut journal, &clock, &old, None)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("keywarden rotate"), "{error}");
    // Left in doubt for the next rotation, which removes the orphan.
    assert!(journal.steps(&old).unwrap()[0].is_in_doubt());
    assert_eq!(fake.count("iam:UpdateAccessKey"), 0);
}
