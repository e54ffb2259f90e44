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

const ACCOUNT: &str = "123456789012";

/// A failing finding. KEY001 findings also get the evidence the rule always writes with a key
/// created in 2020 and the default 90-day threshold (`created`, `max_unused_days`), unless the
/// test gives its own.
fn finding(
    rule: &str,
    user: &str,
    key: Option<&str>,
    evidence: &[(&str, Option<&str>)],
) -> PlanFinding {
    let mut evidence: Vec<(String, Option<String>)> = evidence
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.map(str::to_owned)))
        .collect();
    if rule == "KEY001" {
        for (k, v) in [
            ("created", "2020-01-01T00:00:00Z"),
            ("max_unused_days", "90"),
        ] {
            if !evidence.iter().any(|(key, _)| key == k) {
                evidence.push((k.to_owned(), Some(v.to_owned())));
            }
        }
    }
    PlanFinding {
        rule: rule.to_owned(),
        status: Status::Fail,
        account: Some(ACCOUNT.into()),
        user: Some(user.to_owned()),
        access_key_id: key.map(str::to_owned),
        message: format!("{rule} fired"),
        evidence,
    }
}

fn source() -> PlanSource {
    PlanSource {
        kind: "audit-file".into(),
        location: "audit.json".into(),
        data_as_of: None,
    }
}

fn plan(findings: &[PlanFinding]) -> Plan {
    build_plan(
        findings,
        &PlanSettings::new(t(NOW)),
        source(),
        Some(ACCOUNT.into()),
    )
    .expect("a plan")
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
        Some(ACCOUNT.into()),
    )
    .expect("a plan");
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

// ----- a hand-edited plan cannot lower its own guards (issue 9, point 2) -----

/// The plan a reviewer approved for alice's key, unused since January: A001 deactivates it
/// (safe), A002 deletes it 14 days after it went inactive (two-phase).
fn approved() -> Plan {
    plan(&[finding(
        "KEY001",
        "alice",
        Some(KEY),
        &[("last_used", Some("2026-01-01T00:00:00Z"))],
    )])
}

/// The approved plan's file after `edit`, read back.
fn read_edited(edit: impl FnOnce(&mut serde_json::Value)) -> Result<Plan, PlanError> {
    let mut doc: serde_json::Value = serde_json::from_str(&approved().to_json()).unwrap();
    edit(&mut doc);
    Plan::from_json(&doc.to_string(), "plan.json")
}

/// `edit` makes the plan refused, with a message containing every one of `needles`.
fn refused(edit: impl FnOnce(&mut serde_json::Value), needles: &[&str]) {
    match read_edited(edit) {
        Ok(plan) => panic!("the edited plan was accepted: {}", plan.to_json()),
        Err(error) => {
            let message = error.to_string();
            for needle in needles {
                assert!(message.contains(needle), "{needle:?} not in: {message}");
            }
        }
    }
}

#[test]
fn a_delete_edited_to_safe_with_no_wait_is_refused_naming_the_field() {
    // The edit: today it deletes the key on a plain `apply`, a minute after A001
    // deactivated it.
    refused(
        |doc| {
            doc["actions"][1]["safety"] = json!("safe");
            doc["actions"][1]["precondition"] =
                json!({"key_status": "inactive", "inactive_for_days": 0});
        },
        &["plan.json: actions[1] (A002): precondition.inactive_for_days: 0 is below 14"],
    );
    // The wait kept, the level lowered: a delete is always two-phase.
    refused(
        |doc| doc["actions"][1]["safety"] = json!("safe"),
        &["actions[1] (A002): safety: `safe`", "`two-phase`"],
    );
    // A shorter wait than the plan's own delete_after_days.
    refused(
        |doc| doc["actions"][1]["precondition"]["inactive_for_days"] = json!(1),
        &["actions[1] (A002): precondition.inactive_for_days: 1 is below 14"],
    );
    // Lowering the plan's delete_after_days as well still leaves a floor of one day.
    refused(
        |doc| {
            doc["delete_after_days"] = json!(0);
            doc["actions"][1]["precondition"]["inactive_for_days"] = json!(0);
        },
        &["actions[1] (A002): precondition.inactive_for_days: 0 is below 1"],
    );
    refused(
        |doc| doc["actions"][1]["precondition"]["key_status"] = json!("active"),
        &["actions[1] (A002): precondition.key_status"],
    );
}

#[test]
fn a_misspelled_or_unknown_field_anywhere_is_refused() {
    // Today the misspelled bound is dropped and an in-use key is deactivated.
    refused(
        |doc| {
            let pre = doc["actions"][0]["precondition"].as_object_mut().unwrap();
            let bound = pre.remove("key_unused_since").unwrap();
            pre.insert("key_unused_snice".into(), bound);
        },
        &[
            "actions[0] (A001): precondition: unknown field `key_unused_snice`",
            "expected one of",
        ],
    );
    refused(
        |doc| doc["actions"][0]["precondition"]["key_unused_since"]["last_usde"] = json!(null),
        &["actions[0] (A001): precondition: unknown field `last_usde`"],
    );
    refused(
        |doc| doc["actions"][0]["precondition"]["key_idle"]["dasy"] = json!(1),
        &["actions[0] (A001): precondition: unknown field `dasy`"],
    );
    refused(
        |doc| doc["actions"][1]["not_befor"] = json!("2026-12-01T00:00:00Z"),
        &["actions[1] (A002): unknown field `not_befor`"],
    );
    refused(
        |doc| doc["actions"][0]["reasons"][0]["severity"] = json!("low"),
        &["actions[0] (A001): reasons[0]: unknown field `severity`"],
    );
    refused(
        |doc| doc["actions"][0]["kind"] = json!("deactivate-keys"),
        &["actions[0] (A001): unknown variant `deactivate-keys`"],
    );
    refused(
        |doc| doc["delete_after_dyas"] = json!(14),
        &["plan.json: not a keywarden plan: unknown field `delete_after_dyas`"],
    );
    refused(
        |doc| doc["source"]["kinds"] = json!("live"),
        &["plan.json: source: unknown field `kinds`"],
    );
    refused(
        |doc| {
            doc["not_planned"] = json!([{"rule": "KEY001", "user": null, "access_key_id": null, "why": "x", "note": 1}])
        },
        &["unknown field `note`"],
    );
}

#[test]
fn the_plan_and_every_action_name_a_twelve_digit_account() {
    // Today `null` or `""` switches the cross-account refusal off.
    refused(
        |doc| doc["account"] = json!(null),
        &["plan.json: account: missing"],
    );
    refused(
        |doc| doc["account"] = json!(""),
        &["plan.json: account: `` is not an AWS account id (12 digits)"],
    );
    refused(
        |doc| doc["account"] = json!("12345678901a"),
        &["plan.json: account: `12345678901a` is not an AWS account id"],
    );
    refused(
        |doc| {
            doc["actions"][1].as_object_mut().unwrap().remove("account");
        },
        &["actions[1] (A002): account: missing"],
    );
    refused(
        |doc| doc["actions"][0]["account"] = json!("210987654321"),
        &["actions[0] (A001): account: `210987654321` is not the plan's account `123456789012`"],
    );
    // A plan edited to another account consistently is a plan for that account: `apply`
    // refuses it with the other account's credentials.
    let moved = read_edited(|doc| {
        doc["account"] = json!("210987654321");
        for action in doc["actions"].as_array_mut().unwrap() {
            action["account"] = json!("210987654321");
        }
    })
    .unwrap();
    assert_eq!(moved.account.as_deref(), Some("210987654321"));
}

#[test]
fn safety_is_derived_from_the_action_and_the_file_must_agree() {
    let approved = approved();
    assert_eq!(approved.actions[0].derived_safety(), Safety::Safe);
    assert_eq!(approved.actions[1].derived_safety(), Safety::TwoPhase);
    // Without the idle proof, a deactivation may break a workload.
    refused(
        |doc| {
            doc["actions"][0]["precondition"]
                .as_object_mut()
                .unwrap()
                .remove("key_idle");
        },
        &[
            "actions[0] (A001): safety: `safe` does not match",
            "(`unsafe`)",
            "key_idle",
        ],
    );
    refused(
        |doc| {
            doc["actions"][0]["precondition"]
                .as_object_mut()
                .unwrap()
                .remove("key_unused_since");
        },
        &["actions[0] (A001): safety: `safe`", "(`unsafe`)"],
    );
    refused(
        |doc| doc["actions"][0]["precondition"]["key_idle"]["days"] = json!(0),
        &["actions[0] (A001): safety: `safe`"],
    );
    // Idle since before its last use: a gap `apply` cannot check.
    refused(
        |doc| {
            doc["actions"][0]["precondition"]["key_idle"]["since"] = json!("2025-01-01T00:00:00Z")
        },
        &["actions[0] (A001): safety: `safe`"],
    );
    // A recently used key (KEY002) cannot be edited to safe.
    let used = plan(&[finding(
        "KEY002",
        "carol",
        Some(KEY),
        &[("last_used", Some("2026-11-30T00:00:00Z"))],
    )]);
    let mut doc: serde_json::Value = serde_json::from_str(&used.to_json()).unwrap();
    doc["actions"][0]["safety"] = json!("safe");
    let err = Plan::from_json(&doc.to_string(), "plan.json").unwrap_err();
    assert!(
        err.to_string()
            .contains("actions[0] (A001): safety: `safe` does not match"),
        "{err}"
    );
    // A password removal, a manual step: each keeps its level.
    let p = plan(&[
        finding("PWD001", "frank", None, &[("password_last_used", None)]),
        finding("ROOT002", "<root_account>", None, &[]),
    ]);
    for (index, claim) in [(0, "safe"), (1, "unsafe")] {
        let mut doc: serde_json::Value = serde_json::from_str(&p.to_json()).unwrap();
        doc["actions"][index]["safety"] = json!(claim);
        let err = Plan::from_json(&doc.to_string(), "plan.json").unwrap_err();
        assert!(
            err.to_string().contains(&format!(
                "actions[{index}] (A00{}): safety: `{claim}`",
                index + 1
            )),
            "{err}"
        );
    }
    // Raising a level is refused too: the file states what the action is, nothing else.
    refused(
        |doc| doc["actions"][0]["safety"] = json!("unsafe"),
        &["actions[0] (A001): safety: `unsafe` does not match"],
    );
}

#[test]
fn the_idle_proof_is_rechecked_when_the_deactivation_runs() {
    let mut a = approved().actions.remove(0);
    let idle = a.precondition.key_idle.expect("KEY001 proves the key idle");
    assert_eq!(idle.since, t("2026-01-01T00:00:00Z"));
    assert_eq!(idle.days, 90);
    // Idle 90 days from its last use: due from 2026-04-01.
    a.precondition.key_unused_since = None;
    assert_eq!(
        check(&a, &key(true, None), t("2026-03-01T00:00:00Z")),
        Verdict::NotDue(t("2026-04-01T00:00:00Z"))
    );
    assert_eq!(
        check(&a, &key(true, Some("2026-01-01T00:00:00Z")), t(NOW)),
        Verdict::Proceed
    );
    skipped(
        check(&a, &key(true, Some("2026-11-30T00:00:00Z")), t(NOW)),
        "after the plan saw it idle since 2026-01-01",
    );
}

#[test]
fn a_plan_from_findings_without_an_account_is_refused() {
    // A credential report whose ARNs carry no account (`arn:aws:iam:::user/alice`) gives
    // findings without one; a plan for "no account" would switch the cross-account refusal off.
    let mut f = finding("KEY001", "alice", Some(KEY), &[("last_used", None)]);
    f.account = None;
    let err = build_plan(
        std::slice::from_ref(&f),
        &PlanSettings::new(t(NOW)),
        source(),
        None,
    )
    .unwrap_err();
    assert!(matches!(err, PlanError::NoAccount { .. }), "{err}");
    assert!(
        err.to_string()
            .contains("the findings carry no AWS account (their ARNs have none)"),
        "{err}"
    );
    let err = build_plan(
        &[],
        &PlanSettings::new(t(NOW)),
        source(),
        Some(String::new()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("carry no AWS account"), "{err}");
    // Findings about two accounts.
    let mut other = finding(
        "KEY001",
        "bob",
        Some("AKIAEXAMPLE000000002"),
        &[("last_used", None)],
    );
    other.account = Some("210987654321".into());
    let err = build_plan(
        &[
            finding("KEY001", "alice", Some(KEY), &[("last_used", None)]),
            other,
        ],
        &PlanSettings::new(t(NOW)),
        source(),
        Some(ACCOUNT.into()),
    )
    .unwrap_err();
    assert!(err.to_string().contains("two accounts"), "{err}");
    // Every action of a plan keywarden writes names the plan's account.
    assert!(approved()
        .actions
        .iter()
        .all(|a| a.account.as_deref() == Some(ACCOUNT)));
}

// ----- KEY005: a never-used key is not proof of an old one (issue 9, point 8) -----

#[test]
fn a_young_never_used_key_made_with_its_user_is_not_safe_to_deactivate() {
    // KEY005: the console user and its key were created an hour before the audit; the key was
    // never used. It may be handed to a workload tomorrow: the README's `safe` is "a key unused
    // for longer than the threshold", which this key is not.
    let p = plan(&[finding(
        "KEY005",
        "newhire",
        Some(KEY),
        &[
            ("user_created", Some("2026-11-30T23:00:00Z")),
            ("key_created", Some("2026-11-30T23:01:00Z")),
            ("last_used", None),
        ],
    )]);
    assert_eq!(
        kinds(&p),
        vec![
            (ActionKind::DeactivateKey, Safety::Unsafe),
            (ActionKind::DeleteKey, Safety::TwoPhase)
        ]
    );
    assert!(
        p.actions[0].steps[0].contains("may be new"),
        "{:?}",
        p.actions[0].steps
    );
    // The same key old enough for KEY001 as well: KEY001's proof makes it safe.
    let p = plan(&[
        finding(
            "KEY005",
            "newhire",
            Some(KEY),
            &[
                ("key_created", Some("2020-01-01T00:00:00Z")),
                ("last_used", None),
            ],
        ),
        finding("KEY001", "newhire", Some(KEY), &[("last_used", None)]),
    ]);
    assert_eq!(p.actions[0].safety, Safety::Safe);
    assert_eq!(
        p.actions[0].precondition.key_idle.map(|i| i.since),
        Some(t("2020-01-01T00:00:00Z"))
    );
}

/// The plan_reader fuzz target's seeds are plans the reader accepts: a seed it refuses would
/// only fuzz the refusal path.
#[test]
fn the_fuzz_seeds_are_plans_the_reader_accepts() {
    for (name, text) in [
        (
            "audit-plan.json",
            include_str!("../../../fuzz/plan-seeds/audit-plan.json"),
        ),
        (
            "contain-plan.json",
            include_str!("../../../fuzz/plan-seeds/contain-plan.json"),
        ),
        (
            "rotation-plan.json",
            include_str!("../../../fuzz/plan-seeds/rotation-plan.json"),
        ),
    ] {
        let plan = Plan::from_json(text, name).unwrap_or_else(|e| panic!("{e}"));
        assert!(!plan.actions.is_empty(), "{name}");
    }
}
