//! `contain` against the in-memory fake account: owner lookup, the three journaled steps,
//! running it twice, a refused step, the caller's own key, and the incident report.

use keywarden_app::journal::{Journal, Outcome, RunKind, StepEntry};
use keywarden_app::remediate::{
    check_key_id, contain_key, trail_section, undo_run, write_incident_report, ContainError,
    IncidentReport, SessionUsage,
};
use keywarden_aws::api::{
    AccessKeyMeta, CallerIdentity, IamRead, IamUser, KeyLastUsed, RemediationRead,
};
use keywarden_aws::fake::FakeAccount;
use keywarden_core::cloudtrail::event::parse_event;
use keywarden_core::cloudtrail::lineage::Lineage;
use keywarden_core::remediation::{
    quarantine_policy, revoke_sessions_policy, QUARANTINE_POLICY_NAME, REVOKE_SESSIONS_POLICY_NAME,
};
use keywarden_core::time::parse_timestamp;
use keywarden_core::Timestamp;

const LEAKED: &str = "AKIAIOSFODNN7LEAKED1";

fn t(s: &str) -> Timestamp {
    parse_timestamp(s).unwrap()
}

fn account() -> FakeAccount {
    let mut fake = FakeAccount::default();
    fake.users.push(IamUser {
        name: "alice".into(),
        arn: "arn:aws:iam::123456789012:user/alice".into(),
        created: t("2024-01-01T00:00:00Z"),
        password_last_used: None,
    });
    fake.keys.insert(
        "alice".into(),
        vec![AccessKeyMeta {
            id: LEAKED.into(),
            active: true,
            created: t("2024-01-01T00:00:00Z"),
        }],
    );
    fake
}

async fn policy(fake: &FakeAccount, name: &str) -> Option<serde_json::Value> {
    fake.get_user_policy("alice", name)
        .await
        .unwrap()
        .map(|d| serde_json::from_str(&d).unwrap())
}

async fn active(fake: &FakeAccount) -> bool {
    fake.list_access_keys("alice").await.unwrap()[0].active
}

#[test]
fn contain_checks_the_key_id_shape() {
    assert!(check_key_id(LEAKED).is_ok());
    assert!(matches!(
        check_key_id("ASIAIOSFODNN7SESSION"),
        Err(ContainError::SessionKey(_))
    ));
    for bad in [
        "AKIA123",
        "akiaiosfodnn7leaked1",
        "AKIAIOSFODNN7LEAKED12",
        "AKIAIOSFODNN7LEAKE-1",
    ] {
        assert!(
            matches!(check_key_id(bad), Err(ContainError::BadKeyId(_))),
            "{bad}"
        );
    }
}

#[tokio::test]
async fn contain_deactivates_revokes_and_quarantines_with_journal_records() {
    let fake = account();
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path()).unwrap();
    let now = t("2026-03-01T10:00:00Z");
    let clock = move || now;
    let done = contain_key(&fake, &mut journal, &clock, LEAKED, 36, None)
        .await
        .unwrap();
    // The owner came from GetAccessKeyLastUsed.
    assert_eq!(done.owner, "alice");
    assert_eq!(fake.count("iam:GetAccessKeyLastUsed"), 1);
    assert!(done.complete(), "{:?}", done.report);
    let labels: Vec<_> = done
        .steps
        .iter()
        .map(|s| (s.action_id.as_str(), s.kind.as_str(), s.outcome.as_str()))
        .collect();
    assert_eq!(
        labels,
        [
            ("A001", "deactivate-key", "done"),
            ("A002", "revoke-sessions", "done"),
            ("A003", "quarantine", "done")
        ]
    );
    assert!(!active(&fake).await);
    assert_eq!(
        policy(&fake, REVOKE_SESSIONS_POLICY_NAME).await.unwrap(),
        revoke_sessions_policy(now)
    );
    assert_eq!(
        policy(&fake, QUARANTINE_POLICY_NAME).await.unwrap(),
        quarantine_policy(t("2026-03-02T22:00:00Z"))
    );
    // Journal: a contain run, each step an intent with a succeeded, verified outcome.
    let info = journal.run(&done.report.run).unwrap().unwrap();
    assert_eq!(info.kind, RunKind::Contain);
    let steps = journal.steps(&done.report.run).unwrap();
    let calls: Vec<_> = steps
        .iter()
        .map(|s| match &s.entry {
            StepEntry::Call(c) => (
                s.action_id.clone(),
                c.call.clone(),
                c.outcome.as_ref().map(|o| o.outcome.clone()),
                c.verification.as_ref().map(|v| v.verified),
            ),
            StepEntry::Skipped { reason } => panic!("unexpected skip: {reason}"),
        })
        .collect();
    assert_eq!(
        calls,
        [
            (
                "A001".into(),
                "iam:UpdateAccessKey".into(),
                Some(Outcome::Succeeded),
                Some(true)
            ),
            (
                "A002".into(),
                "iam:PutUserPolicy".into(),
                Some(Outcome::Succeeded),
                Some(true)
            ),
            (
                "A003".into(),
                "iam:PutUserPolicy".into(),
                Some(Outcome::Succeeded),
                Some(true)
            ),
        ]
    );
    // The report: steps with times, the documents exactly as sent, the undo command.
    let report = IncidentReport::new(&done, None);
    assert_eq!(report.status, "contained");
    assert_eq!(report.sessions_revoked_before, "2026-03-01T10:00:00Z");
    assert_eq!(report.quarantine_until, "2026-03-02T22:00:00Z");
    assert_eq!(report.contained_by.arn, FakeAccount::DEFAULT_CALLER.1);
    assert_eq!(report.undo, format!("keywarden undo {}", done.report.run));
    assert_eq!(report.policies.len(), 2);
    assert_eq!(
        report.policies[0].document,
        revoke_sessions_policy(now).to_string()
    );
    assert!(report
        .steps
        .iter()
        .all(|s| s.started_at == Some(now) && s.verified == Some(true)));
    let out = tempfile::tempdir().unwrap();
    let (md, json) = write_incident_report(&out.path().join("incidents"), &report).unwrap();
    assert_eq!(
        md.file_name().unwrap().to_str().unwrap(),
        format!("{}.md", done.report.run)
    );
    let parsed: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(parsed["format"], "keywarden-incident");
    assert_eq!(parsed["steps"].as_array().unwrap().len(), 3);
    assert_eq!(parsed["steps"][0]["started_at"], "2026-03-01T10:00:00Z");
    let text = std::fs::read_to_string(&md).unwrap();
    assert!(text.contains("keywarden undo"), "{text}");
    assert!(text.contains("aws:TokenIssueTime"), "{text}");
    // Nothing but the two files: the temporary names were renamed.
    assert_eq!(
        std::fs::read_dir(out.path().join("incidents"))
            .unwrap()
            .count(),
        2
    );
}

#[tokio::test]
async fn contain_twice_does_no_harm_and_undo_of_the_second_restores_the_first() {
    let fake = account();
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path()).unwrap();
    let first_now = t("2026-03-01T10:00:00Z");
    let first = contain_key(&fake, &mut journal, &move || first_now, LEAKED, 36, None)
        .await
        .unwrap();
    assert!(first.complete());
    let second_now = t("2026-03-01T11:00:00Z");
    let second = contain_key(&fake, &mut journal, &move || second_now, LEAKED, 36, None)
        .await
        .unwrap();
    assert!(second.complete(), "{:?}", second.report);
    let outcomes: Vec<_> = second.steps.iter().map(|s| s.outcome.as_str()).collect();
    // The key is already inactive; the revocation moves to the second run's now (revoking
    // everything issued before it), and the quarantine's deadline is refreshed.
    assert_eq!(outcomes, ["already-done", "done", "done"]);
    assert_eq!(fake.count("iam:UpdateAccessKey"), 1);
    assert_eq!(
        policy(&fake, REVOKE_SESSIONS_POLICY_NAME).await.unwrap(),
        revoke_sessions_policy(second_now)
    );
    assert_eq!(
        policy(&fake, QUARANTINE_POLICY_NAME).await.unwrap(),
        quarantine_policy(t("2026-03-02T23:00:00Z"))
    );
    // A third run in the same second finds everything in place and calls nothing.
    let puts = fake.count("iam:PutUserPolicy");
    let third = contain_key(&fake, &mut journal, &move || second_now, LEAKED, 36, None)
        .await
        .unwrap();
    assert!(third.complete());
    assert!(third.steps.iter().all(|s| s.outcome == "already-done"));
    assert_eq!(fake.count("iam:PutUserPolicy"), puts);
    // Undoing the second run puts the first run's documents back; the key stays inactive
    // (the second run did not deactivate it).
    let undone = undo_run(
        &fake,
        &mut journal,
        &move || second_now,
        &second.report.run,
        None,
    )
    .await
    .unwrap();
    assert!(!undone.has_errors(), "{undone:?}");
    assert_eq!(
        policy(&fake, REVOKE_SESSIONS_POLICY_NAME).await.unwrap(),
        revoke_sessions_policy(first_now)
    );
    assert!(!active(&fake).await);
    // Undoing the first run reactivates the key and removes both policies.
    let undone = undo_run(
        &fake,
        &mut journal,
        &move || second_now,
        &first.report.run,
        None,
    )
    .await
    .unwrap();
    assert!(!undone.has_errors(), "{undone:?}");
    assert!(active(&fake).await);
    assert_eq!(policy(&fake, REVOKE_SESSIONS_POLICY_NAME).await, None);
    assert_eq!(policy(&fake, QUARANTINE_POLICY_NAME).await, None);
}

#[tokio::test]
async fn a_refused_deactivation_is_recorded_and_the_other_steps_still_run() {
    let mut fake = account();
    fake.failures
        .insert("iam:UpdateAccessKey", "AccessDenied".into());
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path()).unwrap();
    let now = t("2026-03-01T10:00:00Z");
    let done = contain_key(&fake, &mut journal, &move || now, LEAKED, 36, None)
        .await
        .unwrap();
    // Exit status 2.
    assert!(!done.complete());
    let outcomes: Vec<_> = done.steps.iter().map(|s| s.outcome.as_str()).collect();
    assert_eq!(outcomes, ["failed", "done", "done"]);
    assert!(done.steps[0].detail.contains("AccessDenied"));
    let steps = journal.steps(&done.report.run).unwrap();
    let first = steps.iter().find(|s| s.action_id == "A001").unwrap();
    assert!(matches!(
        first.outcome(),
        Some(Outcome::Failed { code, .. }) if code == "AccessDenied"
    ));
    assert!(active(&fake).await);
    assert!(policy(&fake, QUARANTINE_POLICY_NAME).await.is_some());
    assert_eq!(IncidentReport::new(&done, None).status, "incomplete");
}

#[tokio::test]
async fn an_owner_that_cannot_be_found_stops_before_any_write() {
    for (failure, key) in [
        (Some("AccessDenied"), LEAKED),
        (None, "AKIAIOSFODNN7UNKNOWN"),
    ] {
        let mut fake = account();
        if let Some(code) = failure {
            fake.failures
                .insert("iam:GetAccessKeyLastUsed", code.into());
        }
        let dir = tempfile::tempdir().unwrap();
        let mut journal = Journal::open(dir.path()).unwrap();
        let now = t("2026-03-01T10:00:00Z");
        let error = contain_key(&fake, &mut journal, &move || now, key, 36, None)
            .await
            .unwrap_err();
        let ContainError::Owner { error, .. } = &error else {
            panic!("{error}")
        };
        assert_eq!(error.code, failure.unwrap_or("NoSuchEntity"));
        assert_eq!(
            fake.count("iam:UpdateAccessKey") + fake.count("iam:PutUserPolicy"),
            0
        );
        assert!(journal.runs().unwrap().is_empty());
    }
}

#[tokio::test]
async fn a_root_key_is_left_to_manual_steps() {
    let mut fake = FakeAccount::default();
    fake.keys.insert(
        "root".into(),
        vec![AccessKeyMeta {
            id: LEAKED.into(),
            active: true,
            created: t("2024-01-01T00:00:00Z"),
        }],
    );
    fake.last_used.insert(
        LEAKED.into(),
        KeyLastUsed {
            date: None,
            service: None,
            region: None,
            user: Some("root".into()),
        },
    );
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path()).unwrap();
    let now = t("2026-03-01T10:00:00Z");
    let error = contain_key(&fake, &mut journal, &move || now, LEAKED, 36, None)
        .await
        .unwrap_err();
    assert!(matches!(error, ContainError::Root { .. }), "{error}");
    assert!(error.to_string().contains("root user"), "{error}");
    assert_eq!(fake.count("iam:UpdateAccessKey"), 0);
}

#[tokio::test]
async fn contain_refuses_the_key_keywarden_runs_with() {
    let mut fake = account();
    fake.caller = Some(CallerIdentity {
        account: "123456789012".into(),
        arn: "arn:aws:iam::123456789012:user/alice".into(),
        access_key_id: LEAKED.into(),
    });
    let dir = tempfile::tempdir().unwrap();
    let mut journal = Journal::open(dir.path()).unwrap();
    let now = t("2026-03-01T10:00:00Z");
    let done = contain_key(&fake, &mut journal, &move || now, LEAKED, 36, None)
        .await
        .unwrap();
    assert!(!done.complete());
    assert!(
        done.steps.iter().all(|s| s.outcome == "not-attempted"),
        "{:?}",
        done.steps
    );
    assert!(done.steps[0].detail.contains("running with this key"));
    assert_eq!(
        fake.count("iam:UpdateAccessKey") + fake.count("iam:PutUserPolicy"),
        0
    );
    assert!(active(&fake).await);
}

#[test]
fn the_trail_section_lists_the_minted_sessions_and_what_they_did() {
    let event = |id: &str, time: &str, key: &str, source: &str, name: &str, extra: &str| {
        format!(
            r#"{{"eventVersion":"1.08","eventID":"{id}","eventTime":"{time}","eventSource":"{source}","eventName":"{name}","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.7","userIdentity":{{"type":"IAMUser","userName":"alice","accountId":"123456789012","arn":"arn:aws:iam::123456789012:user/alice","accessKeyId":"{key}"}}{extra}}}"#
        )
    };
    let session = "ASIAIOSFODNN7SESSION";
    let records = [
        event(
            "e1",
            "2026-02-01T00:00:00Z",
            LEAKED,
            "sts.amazonaws.com",
            "GetSessionToken",
            &format!(
                r#","responseElements":{{"credentials":{{"accessKeyId":"{session}","expiration":"Feb 2, 2026 12:00:00 AM"}}}}"#
            ),
        ),
        event(
            "e2",
            "2026-02-01T00:05:00Z",
            session,
            "s3.amazonaws.com",
            "ListBuckets",
            "",
        ),
        event(
            "e3",
            "2026-02-01T00:06:00Z",
            session,
            "s3.amazonaws.com",
            "ListBuckets",
            "",
        ),
        event(
            "e4",
            "2026-02-01T01:00:00Z",
            LEAKED,
            "iam.amazonaws.com",
            "UpdateAccessKey",
            &format!(
                r#","requestParameters":{{"accessKeyId":"{LEAKED}","status":"Inactive","userName":"alice"}}"#
            ),
        ),
        event(
            "e5",
            "2026-02-01T02:00:00Z",
            session,
            "iam.amazonaws.com",
            "CreateUser",
            "",
        ),
    ];
    let mut lineage = Lineage::default();
    let usage = SessionUsage::default();
    for text in records.iter().chain(std::iter::once(&records[2])) {
        let event = parse_event(text).unwrap();
        usage.observe(&event);
        lineage.observe(&event);
    }
    lineage.finish();
    let section = trail_section(&lineage, &usage, LEAKED, "fixture".into(), 6, 0);
    assert!(section.key_seen);
    assert_eq!(section.sessions.len(), 1, "{section:?}");
    let s = &section.sessions[0];
    assert_eq!(s.access_key_id, session);
    assert_eq!(s.minted_with, "GetSessionToken");
    assert_eq!(s.source_ip.as_deref(), Some("203.0.113.7"));
    // e3 read twice counts once.
    assert_eq!(s.calls, 3);
    assert_eq!(s.events[0].event_name, "ListBuckets");
    assert_eq!(s.events[0].count, 2);
    // CreateUser came after the key's deactivation.
    assert_eq!(s.uses_after_key_revoked, Some(1));
    assert_eq!(section.key_revoked.as_ref().unwrap().event_id, "e4");
}
