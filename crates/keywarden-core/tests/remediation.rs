//! The pure half of remediation: findings to plan, the plan file's checks, preconditions
//! re-checked against live state, and the policy documents as AWS will read them.

use keywarden_core::remediation::{
    build_plan, check, quarantine_policy, revoke_sessions_policy, Action, ActionKind, KeyStatus,
    ObservedKey, ObservedState, Plan, PlanError, PlanFinding, PlanSettings, PlanSource, Safety,
    Verdict,
};
use keywarden_core::time::parse_timestamp;
use keywarden_core::{Status, Timestamp};
use serde_json::json;

fn t(s: &str) -> Timestamp {
    parse_timestamp(s).unwrap_or_else(|| panic!("bad test time {s}"))
}

const NOW: &str = "2026-12-01T00:00:00Z";
const KEY: &str = "AKIAEXAMPLE000000001";

fn finding(
    rule: &str,
    user: &str,
    key: Option<&str>,
    evidence: &[(&str, Option<&str>)],
) -> PlanFinding {
    PlanFinding {
        rule: rule.to_owned(),
        status: Status::Fail,
        account: Some("123456789012".into()),
        user: Some(user.to_owned()),
        access_key_id: key.map(str::to_owned),
        message: format!("{rule} fired"),
        evidence: evidence
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
            .collect(),
    }
}

fn plan(findings: &[PlanFinding]) -> Plan {
    build_plan(
        findings,
        &PlanSettings::new(t(NOW)),
        PlanSource {
            kind: "audit-file".into(),
            location: "audit.json".into(),
            data_as_of: None,
        },
        Some("123456789012".into()),
    )
}

fn kinds(plan: &Plan) -> Vec<(ActionKind, Safety)> {
    plan.actions.iter().map(|a| (a.kind, a.safety)).collect()
}

#[test]
fn unused_key_is_deactivated_safely_then_deleted_two_phase() {
    let p = plan(&[finding(
        "KEY001",
        "alice",
        Some(KEY),
        &[("last_used", Some("2026-01-01T00:00:00Z"))],
    )]);
    assert_eq!(
        kinds(&p),
        vec![
            (ActionKind::DeactivateKey, Safety::Safe),
            (ActionKind::DeleteKey, Safety::TwoPhase)
        ]
    );
    let deactivate = &p.actions[0];
    assert_eq!(deactivate.id, "A001");
    assert_eq!(deactivate.precondition.key_status, Some(KeyStatus::Active));
    assert_eq!(
        deactivate.precondition.key_unused_since.unwrap().last_used,
        Some(t("2026-01-01T00:00:00Z"))
    );
    assert_eq!(deactivate.precondition.not_exempt_from, vec!["KEY001"]);
    let delete = &p.actions[1];
    assert_eq!(delete.precondition.key_status, Some(KeyStatus::Inactive));
    assert_eq!(delete.precondition.inactive_for_days, Some(14));
    assert_eq!(delete.not_before, Some(t("2026-12-15T00:00:00Z")));
}

#[test]
fn never_used_key_bound_is_never_used() {
    let p = plan(&[finding("KEY005", "bob", Some(KEY), &[("last_used", None)])]);
    assert_eq!(
        p.actions[0]
            .precondition
            .key_unused_since
            .unwrap()
            .last_used,
        None
    );
    // A marker such as N/A also means never used.
    let p = plan(&[finding(
        "KEY001",
        "bob",
        Some(KEY),
        &[("last_used", Some("N/A"))],
    )]);
    assert_eq!(
        p.actions[0]
            .precondition
            .key_unused_since
            .unwrap()
            .last_used,
        None
    );
}

#[test]
fn old_but_used_key_is_unsafe_and_merges_into_a_safe_deactivation() {
    let p = plan(&[finding(
        "KEY002",
        "carol",
        Some(KEY),
        &[("created", Some("2020-01-01T00:00:00Z"))],
    )]);
    assert_eq!(kinds(&p), vec![(ActionKind::DeactivateKey, Safety::Unsafe)]);
    assert!(p.actions[0].precondition.key_unused_since.is_none());
    assert!(p.actions[0].steps[0].contains("keywarden rotate carol"));

    let p = plan(&[
        finding(
            "KEY001",
            "carol",
            Some(KEY),
            &[("last_used", Some("2026-01-01T00:00:00Z"))],
        ),
        finding(
            "KEY002",
            "carol",
            Some(KEY),
            &[("created", Some("2020-01-01T00:00:00Z"))],
        ),
    ]);
    assert_eq!(
        kinds(&p),
        vec![
            (ActionKind::DeactivateKey, Safety::Safe),
            (ActionKind::DeleteKey, Safety::TwoPhase)
        ]
    );
    let rules: Vec<_> = p.actions[0]
        .reasons
        .iter()
        .map(|r| r.rule.as_str())
        .collect();
    assert_eq!(rules, ["KEY001", "KEY002"]);
    assert_eq!(
        p.actions[0].precondition.not_exempt_from,
        ["KEY001", "KEY002"]
    );

    // In the other order the safer finding still wins, with its own use bound.
    let p = plan(&[
        finding(
            "KEY002",
            "carol",
            Some(KEY),
            &[("created", Some("2020-01-01T00:00:00Z"))],
        ),
        finding(
            "KEY001",
            "carol",
            Some(KEY),
            &[("last_used", Some("2026-01-01T00:00:00Z"))],
        ),
    ]);
    assert_eq!(p.actions[0].safety, Safety::Safe);
    assert!(p.actions[0].precondition.key_unused_since.is_some());
}

#[test]
fn second_active_key_is_an_unsafe_deactivation_of_the_older_one() {
    let p = plan(&[finding(
        "KEY003",
        "dave",
        Some(KEY),
        &[("older_key_last_used", Some("2026-11-30T00:00:00Z"))],
    )]);
    assert_eq!(kinds(&p), vec![(ActionKind::DeactivateKey, Safety::Unsafe)]);
    assert_eq!(
        p.actions[0]
            .precondition
            .key_unused_since
            .unwrap()
            .last_used,
        Some(t("2026-11-30T00:00:00Z"))
    );
}

#[test]
fn stale_inactive_key_is_deleted_when_keywarden_knows_since_when() {
    let f = finding(
        "KEY004",
        "erin",
        Some(KEY),
        &[("last_used", Some("2025-01-01T00:00:00Z"))],
    );
    let p = plan(std::slice::from_ref(&f));
    assert_eq!(kinds(&p), vec![(ActionKind::DeleteKey, Safety::TwoPhase)]);
    assert_eq!(
        p.actions[0].not_before, None,
        "unknown: apply decides and records"
    );

    let mut settings = PlanSettings::new(t(NOW));
    settings
        .inactive_since
        .insert(KEY.to_owned(), t("2026-11-10T00:00:00Z"));
    let p = build_plan(
        &[f],
        &settings,
        PlanSource {
            kind: "live".into(),
            location: "123456789012".into(),
            data_as_of: None,
        },
        None,
    );
    assert_eq!(p.actions[0].not_before, Some(t("2026-11-24T00:00:00Z")));
}

#[test]
fn unused_password_removal_is_unsafe() {
    let p = plan(&[finding(
        "PWD001",
        "frank",
        None,
        &[("password_last_used", Some("no_information"))],
    )]);
    assert_eq!(
        kinds(&p),
        vec![(ActionKind::DeleteLoginProfile, Safety::Unsafe)]
    );
    assert!(p.actions[0].precondition.password_present);
    assert_eq!(
        p.actions[0]
            .precondition
            .password_unused_since
            .unwrap()
            .last_used,
        None
    );
}

#[test]
fn root_and_account_findings_are_manual_steps() {
    let p = plan(&[
        finding("ROOT001", "<root_account>", None, &[]),
        finding(
            "KEY001",
            "<root_account>",
            Some(KEY),
            &[("last_used", None)],
        ),
        finding("ROOT002", "<root_account>", None, &[]),
        finding("PWD002", "gina", None, &[]),
    ]);
    assert!(p
        .actions
        .iter()
        .all(|a| a.kind == ActionKind::Manual && a.safety == Safety::Manual));
    assert_eq!(p.actions.len(), 4);
    assert!(p.actions[0].steps[0].contains("root"));
    let mut trail = finding("TRAIL001", "x", None, &[]);
    trail.user = None;
    let p = plan(&[trail]);
    assert_eq!(p.actions[0].kind, ActionKind::Manual);
    assert!(!p.actions[0].steps.is_empty());
}

#[test]
fn unknown_exempted_and_keyless_findings_are_listed_not_planned() {
    let mut unknown = finding("KEY001", "hank", Some(KEY), &[]);
    unknown.status = Status::Unknown;
    let mut exempted = finding("KEY002", "hank", Some(KEY), &[]);
    exempted.status = Status::Exempted;
    let keyless = finding("KEY001", "ivy", None, &[("last_used", None)]);
    let p = plan(&[unknown, exempted, keyless]);
    assert!(p.actions.is_empty());
    let why: Vec<_> = p.not_planned.iter().map(|n| n.why.as_str()).collect();
    assert_eq!(why.len(), 3);
    assert!(why[0].starts_with("unknown"));
    assert_eq!(why[1], "exempted");
    assert!(why[2].contains("no access key id"));
}

#[test]
fn plan_file_round_trips_and_bad_files_are_refused_with_the_reason() {
    let p = plan(&[finding(
        "KEY001",
        "alice",
        Some(KEY),
        &[("last_used", None)],
    )]);
    let text = p.to_json();
    assert_eq!(Plan::from_json(&text, "plan.json").unwrap(), p);

    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["version"] = json!(2);
    let err = Plan::from_json(&doc.to_string(), "plan.json").unwrap_err();
    assert!(matches!(err, PlanError::Version { found: 2, .. }), "{err}");

    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["format"] = json!("something-else");
    let err = Plan::from_json(&doc.to_string(), "plan.json").unwrap_err();
    assert!(err.to_string().contains("plan.json"), "{err}");

    // A hand edit cannot drop the two-phase guard from a delete.
    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["actions"][1]["precondition"]
        .as_object_mut()
        .unwrap()
        .remove("inactive_for_days");
    let err = Plan::from_json(&doc.to_string(), "plan.json").unwrap_err();
    assert!(err.to_string().contains("actions[1] (A002)"), "{err}");

    let mut doc: serde_json::Value = serde_json::from_str(&text).unwrap();
    doc["actions"][1]["id"] = json!("A001");
    let err = Plan::from_json(&doc.to_string(), "plan.json").unwrap_err();
    assert!(err.to_string().contains("duplicate id"), "{err}");

    let err = Plan::from_json("{not json", "plan.json").unwrap_err();
    assert!(
        err.to_string()
            .starts_with("plan.json: not a keywarden plan"),
        "{err}"
    );
}

#[test]
fn plan_json_uses_kebab_case_and_z_times() {
    let p = plan(&[finding(
        "KEY001",
        "alice",
        Some(KEY),
        &[("last_used", None)],
    )]);
    let doc: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
    assert_eq!(doc["format"], "keywarden-plan");
    assert_eq!(doc["version"], 1);
    assert_eq!(doc["created_at"], "2026-12-01T00:00:00Z");
    assert_eq!(doc["actions"][0]["kind"], "deactivate-key");
    assert_eq!(doc["actions"][1]["safety"], "two-phase");
    assert_eq!(doc["actions"][1]["precondition"]["key_status"], "inactive");
}

fn deactivate(last_used: Option<&str>) -> Action {
    plan(&[finding(
        "KEY001",
        "alice",
        Some(KEY),
        &[("last_used", last_used)],
    )])
    .actions
    .remove(0)
}

fn delete() -> Action {
    plan(&[finding(
        "KEY004",
        "alice",
        Some(KEY),
        &[("last_used", Some("2026-01-01T00:00:00Z"))],
    )])
    .actions
    .remove(0)
}

fn key(active: bool, last_used: Option<&str>) -> ObservedState {
    ObservedState {
        key: Some(ObservedKey {
            active,
            last_used: last_used.map(t),
        }),
        ..ObservedState::default()
    }
}

fn skipped(v: Verdict, needle: &str) {
    match v {
        Verdict::Skip(reason) => assert!(reason.contains(needle), "{reason}"),
        other => panic!("expected a skip containing {needle:?}, got {other:?}"),
    }
}

#[test]
fn deactivation_proceeds_only_while_the_world_is_as_planned() {
    let now = t(NOW);
    let a = deactivate(Some("2026-01-01T00:00:00Z"));
    assert_eq!(
        check(&a, &key(true, Some("2026-01-01T00:00:00Z")), now),
        Verdict::Proceed
    );
    skipped(
        check(&a, &key(true, Some("2026-11-30T08:00:00Z")), now),
        "was used at 2026-11-30T08:00:00",
    );
    skipped(
        check(&a, &key(false, Some("2026-01-01T00:00:00Z")), now),
        "now Inactive",
    );
    skipped(
        check(&a, &ObservedState::default(), now),
        "no longer exists",
    );
    let exempt = ObservedState {
        exemption: Some("tag:keywarden:exempt (build server)".into()),
        ..key(true, None)
    };
    skipped(check(&a, &exempt, now), "exempted");

    let never = deactivate(None);
    assert_eq!(check(&never, &key(true, None), now), Verdict::Proceed);
    skipped(
        check(&never, &key(true, Some("2026-11-01T00:00:00Z")), now),
        "saw it never used",
    );
}

#[test]
fn deletion_waits_for_the_grace_period_and_needs_a_record_of_inactivity() {
    let now = t(NOW);
    let a = delete();
    let mut state = key(false, Some("2026-01-01T00:00:00Z"));
    skipped(
        check(&a, &state, now),
        "no record of when the key became inactive",
    );
    state.inactive_since = Some(t("2026-11-20T00:00:00Z"));
    assert_eq!(
        check(&a, &state, now),
        Verdict::NotDue(t("2026-12-04T00:00:00Z"))
    );
    state.inactive_since = Some(t("2026-11-16T23:59:59Z"));
    assert_eq!(check(&a, &state, now), Verdict::Proceed);
    skipped(check(&a, &key(true, None), now), "now Active");

    // Used after it became inactive (reactivated and deactivated again outside keywarden).
    let mut used = key(false, Some("2025-12-01T00:00:00Z"));
    used.inactive_since = Some(t("2025-06-01T00:00:00Z"));
    skipped(check(&a, &used, now), "after it became inactive");

    let mut planned = plan(&[finding(
        "KEY001",
        "alice",
        Some(KEY),
        &[("last_used", None)],
    )])
    .actions;
    let scheduled = planned.remove(1);
    let mut state = key(false, None);
    state.inactive_since = Some(t("2026-11-01T00:00:00Z"));
    assert_eq!(
        check(&scheduled, &state, now),
        Verdict::NotDue(t("2026-12-15T00:00:00Z"))
    );
    assert_eq!(
        check(&scheduled, &state, t("2026-12-15T00:00:00Z")),
        Verdict::Proceed
    );
}

#[test]
fn password_removal_rechecks_the_login_profile() {
    let now = t(NOW);
    let a = plan(&[finding(
        "PWD001",
        "frank",
        None,
        &[("password_last_used", Some("2026-01-01T00:00:00Z"))],
    )])
    .actions
    .remove(0);
    let with = |p: Option<Option<&str>>| ObservedState {
        password: p.map(|u| u.map(t)),
        ..ObservedState::default()
    };
    assert_eq!(
        check(&a, &with(Some(Some("2026-01-01T00:00:00Z"))), now),
        Verdict::Proceed
    );
    skipped(
        check(&a, &with(None), now),
        "no longer has a console password",
    );
    skipped(
        check(&a, &with(Some(Some("2026-11-29T00:00:00Z"))), now),
        "password was used",
    );
}

#[test]
fn manual_actions_never_proceed() {
    let a = plan(&[finding("ROOT002", "<root_account>", None, &[])])
        .actions
        .remove(0);
    skipped(check(&a, &ObservedState::default(), t(NOW)), "manual");
}

#[test]
fn revocation_and_quarantine_documents_are_exactly_what_aws_reads() {
    assert_eq!(
        revoke_sessions_policy(t("2026-12-06T15:30:07.250Z")),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "KeywardenRevokeOlderSessions",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:TokenIssueTime": "2026-12-06T15:30:07Z"}}
            }]
        })
    );
    assert_eq!(
        quarantine_policy(t("2026-12-08T03:30:00Z")),
        json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Sid": "KeywardenQuarantine",
                "Effect": "Deny",
                "Action": "*",
                "Resource": "*",
                "Condition": {"DateLessThan": {"aws:CurrentTime": "2026-12-08T03:30:00Z"}}
            }]
        })
    );
}
