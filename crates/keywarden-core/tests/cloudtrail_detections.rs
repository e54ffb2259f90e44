//! The CloudTrail detections EVT001-EVT009 on real events (Stratus Red Team detonations, OTRF,
//! the AWS documentation) and on events derived from them for the cases no public data shows.
//! Every detection has positive and negative cases. Driven through the public API: documents are
//! read with `reader::read_document` and folded into one `analyzer::TrailAnalyzer`, as the
//! `trail` command does.
//!
//! Fixtures and the derivations (with what each changes) are in tests/cloudtrail/fixtures.rs.

#[path = "cloudtrail/fixtures.rs"]
mod fixtures;

use fixtures::*;
use keywarden_core::cloudtrail::analyzer::{TrailAnalyzer, TrailOutcome};
use keywarden_core::cloudtrail::reader::read_document;
use keywarden_core::config::RuleSelection;
use keywarden_core::finding::{CredentialKind, EvidenceValue, Finding, Severity, Status};
use keywarden_core::time::parse_timestamp;
use serde_json::{json, Value};

// --- Harness ----------------------------------------------------------------------------------

/// Reads every `(origin, document)` into one analyzer, as `keywarden trail` does with several
/// files. A bad record fails the test: these fixtures are all well-formed.
fn analyze_documents(documents: &[(&str, String)], selection: &RuleSelection) -> TrailOutcome {
    let mut analyzer = TrailAnalyzer::new(selection);
    for (origin, document) in documents {
        let mut read = 0;
        read_document(document.as_bytes(), origin, &mut |record| match record {
            Ok(record) => {
                read += 1;
                analyzer.observe(&record.event)
            }
            Err(bad) => panic!("unexpected bad record: {bad}"),
        });
        assert!(read > 0, "{origin}: no event read");
    }
    analyzer.finish()
}

/// The events as one CloudTrail file.
fn analyze(events: &[Value]) -> TrailOutcome {
    analyze_documents(
        &[("events.json", records(events))],
        &RuleSelection::default(),
    )
}

/// `CODE user key eventID` for each finding, sorted.
fn summary(outcome: &TrailOutcome) -> Vec<String> {
    let mut lines: Vec<String> = outcome.findings.iter().map(line).collect();
    lines.sort();
    lines
}

fn line(f: &Finding) -> String {
    format!(
        "{} {} {} {}",
        f.rule.code,
        f.user.as_deref().unwrap_or("-"),
        f.access_key_id.as_deref().unwrap_or("-"),
        f.event.as_ref().map_or("-", |e| e.event_id.as_str())
    )
}

fn expect(outcome: &TrailOutcome, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    expected.sort();
    assert_eq!(summary(outcome), expected);
}

fn only<'o>(outcome: &'o TrailOutcome, code: &str) -> Vec<&'o Finding> {
    outcome
        .findings
        .iter()
        .filter(|f| f.rule.code == code)
        .collect()
}

fn codes(outcome: &TrailOutcome) -> Vec<&'static str> {
    let mut codes: Vec<_> = outcome.findings.iter().map(|f| f.rule.code).collect();
    codes.sort();
    codes
}

fn evidence<'f>(finding: &'f Finding, key: &str) -> &'f EvidenceValue {
    finding
        .evidence
        .iter()
        .find(|(k, _)| *k == key)
        .map(|(_, v)| v)
        .unwrap_or_else(|| panic!("{} has no evidence `{key}`", finding.rule.code))
}

fn text(value: &EvidenceValue) -> String {
    value.to_string()
}

fn at(text: &str) -> keywarden_core::Timestamp {
    parse_timestamp(text).unwrap()
}

// --- EVT001 access-key-created-for-another-user ------------------------------------------------

#[test]
fn evt001_fires_when_a_user_creates_a_key_for_another_user() {
    // Real: christophe creates a key for stratus-red-team-backdoor-u-user.
    let outcome = analyze(&events_of(BACKDOOR_USER));
    expect(
        &outcome,
        &["EVT001 stratus-red-team-backdoor-u-user AKIAL80DWDVKKM0UXEER c64c4ded-ef03-4e5c-81eb-153b118d72f2"],
    );
    let f = &outcome.findings[0];
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.severity(), Severity::High);
    assert_eq!(f.credential, CredentialKind::AccessKeyId);
    assert_eq!(f.account.as_deref(), Some("946986569305"));
    let event = f.event.as_ref().unwrap();
    assert_eq!(event.event_name, "CreateAccessKey");
    assert_eq!(event.event_time, at("2024-07-30T21:53:13Z"));
    assert_eq!(event.source_ip.as_deref(), Some("211.9.016.253"));
    assert_eq!(
        event.user_agent.as_deref(),
        Some("stratus-red-team_f3f19dcd-8552-47ca-a01e-0e1f5578d15e")
    );
    assert_eq!(
        event.actor.as_deref(),
        Some("arn:aws:iam::946986569305:user/christophe")
    );
    assert_eq!(text(evidence(f, "target_user")), BACKDOOR_USER_NAME);
    assert_eq!(
        text(evidence(f, "caller")),
        "arn:aws:iam::946986569305:user/christophe"
    );
}

#[test]
fn evt001_fires_on_the_key_of_a_new_admin_user_and_not_on_the_user_or_its_policy() {
    // Real: CreateUser, AttachUserPolicy(AdministratorAccess) and CreateAccessKey for
    // malicious-iam-user, all by christophe. Only the key creation is EVT001.
    let outcome = analyze(&events_of(CREATE_ADMIN_USER));
    expect(
        &outcome,
        &["EVT001 malicious-iam-user AKIAXAFZN8JEPF6L682H 94faedcc-0fa4-46e6-9322-022e8e934f04"],
    );
}

#[test]
fn evt001_does_not_fire_when_a_user_creates_their_own_key() {
    // Derived: christophe creates his own key, once without --user-name (requestParameters
    // null) and once naming himself.
    let outcome = analyze(&[
        create_own_key("derived-evt001-own-implicit", Value::Null),
        create_own_key(
            "derived-evt001-own-named",
            json!({ "userName": "christophe" }),
        ),
    ]);
    expect(&outcome, &[]);
    // The key is still in the lineage, owned by christophe.
    let history = &outcome.lineage.keys["AKIAL80DWDVKKM0OWN01"];
    assert_eq!(history.owner.as_deref(), Some("christophe"));
    assert!(history.created.is_some());
}

#[test]
fn evt001_does_not_fire_on_a_failed_attempt() {
    // Derived: the real backdoor CreateAccessKey refused with LimitExceeded (the user already has
    // two keys).
    let attempt = failed(real(BACKDOOR_USER, BACKDOOR_CREATE_KEY), "LimitExceeded");
    let outcome = analyze(&[attempt]);
    expect(&outcome, &[]);
    assert!(!outcome.lineage.keys.contains_key(BACKDOOR_KEY));
}

// --- EVT002 access-key-reactivated ------------------------------------------------------------

#[test]
fn evt002_fires_when_an_inactive_key_is_set_active_again() {
    let events = vec![
        real(BACKDOOR_USER, BACKDOOR_CREATE_KEY),
        backdoor_key_deactivated(),
        backdoor_key_reactivated(),
    ];
    let outcome = analyze(&events);
    let reactivations = only(&outcome, "EVT002");
    assert_eq!(
        reactivations.iter().map(|f| line(f)).collect::<Vec<_>>(),
        ["EVT002 stratus-red-team-backdoor-u-user AKIAL80DWDVKKM0UXEER derived-evt002-reactivate"]
    );
    let f = reactivations[0];
    assert_eq!(f.account.as_deref(), Some("946986569305"));
    assert_eq!(
        evidence(f, "deactivated_at"),
        &EvidenceValue::Time(at("2024-07-30T22:00:00Z"))
    );
    assert_eq!(
        text(evidence(f, "deactivation_event_id")),
        "derived-evt002-deactivate"
    );
    // EVT001 for the creation and EVT003 for both status changes ride along.
    assert_eq!(codes(&outcome), ["EVT001", "EVT002", "EVT003", "EVT003"]);
}

#[test]
fn evt002_does_not_depend_on_the_order_events_arrive_in() {
    // The reactivation delivered first, the deactivation after it, the creation last.
    let events = vec![
        backdoor_key_reactivated(),
        backdoor_key_deactivated(),
        real(BACKDOOR_USER, BACKDOOR_CREATE_KEY),
    ];
    let reversed = analyze(&events);
    // And the two halves in two files, the later one read first.
    let split = analyze_documents(
        &[
            ("b.json", records(&[backdoor_key_reactivated()])),
            (
                "a.json",
                records(&[
                    real(BACKDOOR_USER, BACKDOOR_CREATE_KEY),
                    backdoor_key_deactivated(),
                ]),
            ),
        ],
        &RuleSelection::default(),
    );
    let in_order = analyze(&[
        real(BACKDOOR_USER, BACKDOOR_CREATE_KEY),
        backdoor_key_deactivated(),
        backdoor_key_reactivated(),
    ]);
    assert_eq!(summary(&reversed), summary(&in_order));
    assert_eq!(summary(&split), summary(&in_order));
    assert_eq!(only(&reversed, "EVT002").len(), 1);
}

#[test]
fn evt002_finding_carries_the_reactivation_call() {
    // The finding is about the UpdateAccessKey to Active: the JSON output promises its id, time,
    // source IP, user agent and caller, like every other event finding.
    let outcome = analyze(&[backdoor_key_deactivated(), backdoor_key_reactivated()]);
    let f = only(&outcome, "EVT002")[0];
    let event = f.event.as_ref().unwrap();
    let call = backdoor_key_reactivated();
    assert_eq!(event.event_id, "derived-evt002-reactivate");
    assert_eq!(event.event_name, "UpdateAccessKey");
    assert_eq!(event.event_time, at("2024-07-30T23:00:00Z"));
    assert_eq!(event.source_ip.as_deref(), call["sourceIPAddress"].as_str());
    assert_eq!(
        event.actor.as_deref(),
        Some("arn:aws:iam::946986569305:user/christophe")
    );
    assert_eq!(
        event.user_agent.as_deref(),
        call["userAgent"].as_str(),
        "EVT002 drops the user agent of the reactivation call"
    );
    assert_eq!(
        event.region.as_deref(),
        call["awsRegion"].as_str(),
        "EVT002 drops the region of the reactivation call"
    );
}

#[test]
fn evt002_does_not_fire_without_an_earlier_deactivation_or_on_a_failed_reactivation() {
    // Set Active while already active: a no-op as far as the logs tell.
    let outcome = analyze(&[backdoor_key_reactivated()]);
    assert!(only(&outcome, "EVT002").is_empty());
    // Active first, then Inactive: a deactivation, not a reactivation.
    let mut earlier_active = backdoor_key_reactivated();
    earlier_active["eventTime"] = json!("2024-07-30T21:55:00Z");
    let outcome = analyze(&[earlier_active, backdoor_key_deactivated()]);
    assert!(only(&outcome, "EVT002").is_empty());
    // Inactive, then a refused call to Active: nothing changed.
    let outcome = analyze(&[
        backdoor_key_deactivated(),
        failed(backdoor_key_reactivated(), "AccessDenied"),
    ]);
    assert!(only(&outcome, "EVT002").is_empty());
    assert_eq!(codes(&outcome), ["EVT003"]);
}

// --- EVT003 access-key-status-changed ---------------------------------------------------------

#[test]
fn evt003_records_every_successful_update_access_key_and_no_failed_one() {
    let outcome = analyze(&[
        backdoor_key_deactivated(),
        backdoor_key_reactivated(),
        // Derived: a third change refused (NoSuchEntity: a wrong key id).
        failed(
            update_access_key(
                "derived-evt003-failed",
                "2024-07-30T23:30:00Z",
                "946986569305",
                BACKDOOR_USER_NAME,
                "AKIAL80DWDVKKM0WRONG",
                "Inactive",
            ),
            "NoSuchEntity",
        ),
    ]);
    let changes = only(&outcome, "EVT003");
    assert_eq!(
        changes.iter().map(|f| line(f)).collect::<Vec<_>>(),
        [
            "EVT003 stratus-red-team-backdoor-u-user AKIAL80DWDVKKM0UXEER derived-evt002-deactivate",
            "EVT003 stratus-red-team-backdoor-u-user AKIAL80DWDVKKM0UXEER derived-evt002-reactivate",
        ]
    );
    assert_eq!(text(evidence(changes[0], "new_status")), "Inactive");
    assert_eq!(text(evidence(changes[1], "new_status")), "Active");
    for f in &changes {
        assert_eq!(f.severity(), Severity::Low);
        let event = f.event.as_ref().unwrap();
        assert_eq!(event.source_ip.as_deref(), Some("211.9.016.253"));
        assert!(event.user_agent.is_some());
        assert_eq!(
            text(evidence(f, "caller")),
            "arn:aws:iam::946986569305:user/christophe"
        );
    }
    // The failed call is not in the key's history either.
    assert!(!outcome.lineage.keys.contains_key("AKIAL80DWDVKKM0WRONG"));
}

#[test]
fn evt003_names_the_caller_as_owner_when_the_request_names_no_user() {
    // Derived: christophe deactivates his own key without --user-name (requestParameters
    // without userName).
    let mut own = backdoor_key_deactivated();
    own["requestParameters"] =
        json!({ "accessKeyId": "AKIA30BEZSJBVKOFKZW0", "status": "Inactive" });
    let outcome = analyze(&[own]);
    expect(
        &outcome,
        &["EVT003 christophe AKIA30BEZSJBVKOFKZW0 derived-evt002-deactivate"],
    );
}

// --- EVT004 login-profile-changed-for-another-user --------------------------------------------

#[test]
fn evt004_fires_on_a_password_given_or_reset_for_another_user() {
    // Real: CreateLoginProfile (with a failed DeleteLoginProfile and a GetCallerIdentity in the
    // same file) and UpdateLoginProfile, both by christophe on someone else.
    let created = analyze(&events_of(CREATE_LOGIN_PROFILE));
    expect(
        &created,
        &["EVT004 stratus-red-team-login-profile-user - d3906a7d-604b-407f-acb6-fc425742821e"],
    );
    assert_eq!(created.findings[0].credential, CredentialKind::Password);
    assert!(created.findings[0].message.contains("gave"));
    let updated = analyze(&events_of(UPDATE_LOGIN_PROFILE));
    expect(
        &updated,
        &["EVT004 stratus-red-team-update-login-profile-user - a46a1a42-9ef1-48d4-9c61-507eb6d4019f"],
    );
    assert!(updated.findings[0].message.contains("reset"));
}

#[test]
fn evt004_does_not_fire_on_ones_own_password_or_a_failed_call() {
    let outcome = analyze(&[
        update_own_login_profile(),
        // Derived: the real CreateLoginProfile refused (EntityAlreadyExists).
        failed(
            real(CREATE_LOGIN_PROFILE, CREATE_LOGIN_PROFILE_EVENT),
            "EntityAlreadyExists",
        ),
    ]);
    expect(&outcome, &[]);
}

// --- EVT005 session-minted-by-long-term-key ---------------------------------------------------

#[test]
fn evt005_fires_on_get_federation_token_and_get_session_token_with_an_akia_key() {
    let outcome = analyze(&[
        // Real: GetFederationToken signed by AKIA6V1GNZTT65XQH36M, and the federation session's
        // GetCallerIdentity (an ASIA key: no finding).
        real(FEDERATION_TOKEN, FEDERATION_TOKEN_EVENT),
        real(FEDERATION_TOKEN, FEDERATED_CALL_EVENT),
        // Derived: GetSessionToken by the same key.
        get_session_token("derived-evt005-gst", "2024-11-30T09:00:00Z"),
    ]);
    expect(
        &outcome,
        &[
            "EVT005 stratus-red-team-user-federation-user AKIA6V1GNZTT65XQH36M 6e882b9d-2af8-4c67-b91f-aeac6a0e5e70",
            "EVT005 stratus-red-team-user-federation-user AKIA6V1GNZTT65XQH36M derived-evt005-gst",
        ],
    );
    let minted: Vec<String> = outcome
        .findings
        .iter()
        .map(|f| text(evidence(f, "minted_key")))
        .collect();
    assert_eq!(minted, [FEDERATION_SESSION, SESSION]);
    // Lineage links both sessions to the key.
    assert_eq!(
        outcome.lineage.keys[LEAKED_KEY].minted,
        [FEDERATION_SESSION, SESSION]
    );
}

#[test]
fn evt005_does_not_fire_on_assume_role_a_session_key_or_a_failed_call() {
    // Real: AssumeRole signed by christophe's AKIA key (not GetSessionToken/GetFederationToken).
    let outcome = analyze(&events_of(LAUNCH_UNUSUAL_INSTANCES));
    expect(&outcome, &[]);
    // The role session is still in the lineage.
    assert_eq!(
        outcome.lineage.root_key_of("ASIA9F6MXE9HSYOXYQOS"),
        Some("AKIAR7ISFR69YWROPYAN")
    );

    // Derived: GetSessionToken signed with pedro's console session key (OTRF, IAMUser with an
    // ASIA key) instead of a long-term key.
    let mut by_console_session = get_session_token("derived-evt005-asia", "2020-09-14T00:50:00Z");
    by_console_session["userIdentity"] =
        real(OTRF_EXCERPT, CONSOLE_SESSION_EVENT)["userIdentity"].clone();
    // Derived: GetSessionToken refused.
    let refused = failed(
        get_session_token("derived-evt005-failed", "2024-11-30T09:00:00Z"),
        "AccessDenied",
    );
    let outcome = analyze(&[by_console_session, refused]);
    expect(&outcome, &[]);
}

// --- EVT006 session-used-after-parent-key-revoked ---------------------------------------------

const USE_AFTER: &str = "derived-evt006-use-after";
const CHAINED_USE_AFTER: &str = "derived-evt006-chained-use-after";
const FEDERATED_USE_AFTER: &str = "derived-evt006-federated-use-after";

fn evt006_lines(outcome: &TrailOutcome) -> Vec<String> {
    let mut lines: Vec<String> = only(outcome, "EVT006").iter().map(|f| line(f)).collect();
    lines.sort();
    lines
}

fn all_three_sessions_flagged() -> Vec<String> {
    let mut lines = vec![
        format!("EVT006 {LEAKED_KEY_OWNER} {SESSION} {USE_AFTER}"),
        format!("EVT006 {LEAKED_KEY_OWNER} {CHAINED_SESSION} {CHAINED_USE_AFTER}"),
        format!("EVT006 {LEAKED_KEY_OWNER} {FEDERATION_SESSION} {FEDERATED_USE_AFTER}"),
    ];
    lines.sort();
    lines
}

#[test]
fn evt006_fires_when_a_session_is_used_after_its_parent_key_was_deleted() {
    let outcome = analyze(&incident(leaked_key_deleted("2024-11-30T10:00:00Z")));
    assert_eq!(evt006_lines(&outcome), all_three_sessions_flagged());
    let f = only(&outcome, "EVT006")
        .into_iter()
        .find(|f| f.access_key_id.as_deref() == Some(SESSION))
        .unwrap();
    assert_eq!(f.status, Status::Fail);
    assert_eq!(f.severity(), Severity::Critical);
    assert_eq!(f.credential, CredentialKind::SessionKey);
    assert_eq!(f.account.as_deref(), Some(LEAKED_ACCOUNT));
    assert_eq!(text(evidence(f, "parent_key")), LEAKED_KEY);
    assert_eq!(text(evidence(f, "minted_with")), "GetSessionToken");
    assert_eq!(text(evidence(f, "revoked_by")), "DeleteAccessKey");
    assert_eq!(
        evidence(f, "minted_at"),
        &EvidenceValue::Time(at("2024-11-30T09:00:00Z"))
    );
    assert_eq!(
        evidence(f, "revoked_at"),
        &EvidenceValue::Time(at("2024-11-30T10:00:00Z"))
    );
    assert_eq!(
        evidence(f, "first_use"),
        &EvidenceValue::Time(at("2024-11-30T09:05:00Z"))
    );
    assert_eq!(
        evidence(f, "last_use"),
        &EvidenceValue::Time(at("2024-11-30T11:00:00Z"))
    );
    let event = f.event.as_ref().unwrap();
    assert_eq!(event.event_id, USE_AFTER);
    assert_eq!(event.event_time, at("2024-11-30T11:00:00Z"));
    assert_eq!(event.source_ip.as_deref(), Some("255.090.254.5"));
    assert!(event.user_agent.is_some());
    assert!(f.message.contains("deleted"), "{}", f.message);
    // The real GetFederationToken's session: minted by the real call, used after the deletion.
    let federated = only(&outcome, "EVT006")
        .into_iter()
        .find(|f| f.access_key_id.as_deref() == Some(FEDERATION_SESSION))
        .unwrap();
    assert_eq!(
        text(evidence(federated, "minted_with")),
        "GetFederationToken"
    );
}

#[test]
fn evt006_fires_when_a_session_is_used_after_its_parent_key_was_deactivated() {
    let outcome = analyze(&incident(leaked_key_deactivated("2024-11-30T10:00:00Z")));
    assert_eq!(evt006_lines(&outcome), all_three_sessions_flagged());
    for f in only(&outcome, "EVT006") {
        assert_eq!(text(evidence(f, "revoked_by")), "UpdateAccessKey");
        assert!(f.message.contains("deactivated"), "{}", f.message);
    }
    // The deactivation itself is on record.
    assert_eq!(only(&outcome, "EVT003").len(), 1);
}

#[test]
fn evt006_follows_role_chaining_back_to_the_long_term_key() {
    // CHAINED_SESSION was minted by AssumeRole signed with SESSION, itself minted by the leaked
    // key: the chain leads back to the key.
    let outcome = analyze(&incident(leaked_key_deleted("2024-11-30T10:00:00Z")));
    let lineage = &outcome.lineage;
    assert_eq!(lineage.sessions[CHAINED_SESSION].parent, SESSION);
    assert_eq!(lineage.root_key_of(CHAINED_SESSION), Some(LEAKED_KEY));
    let chained = only(&outcome, "EVT006")
        .into_iter()
        .find(|f| f.access_key_id.as_deref() == Some(CHAINED_SESSION))
        .unwrap();
    assert_eq!(text(evidence(chained, "parent_key")), LEAKED_KEY);
    assert_eq!(text(evidence(chained, "minted_with")), "AssumeRole");
    assert_eq!(chained.event.as_ref().unwrap().event_name, "RunInstances");
}

#[test]
fn evt006_flags_a_session_chained_after_the_revocation_from_a_surviving_session() {
    // The key is deleted at 10:00, but SESSION (minted at 09:00) stays valid: at 10:30 it assumes
    // a role, and the chained session is used at 11:05. Both descend from the revoked key and
    // both are used after its revocation; the chained one is the session still doing harm.
    let events = vec![
        get_session_token("derived-evt006-gst", "2024-11-30T09:00:00Z"),
        leaked_key_deleted("2024-11-30T10:00:00Z"),
        chained_assume_role("derived-evt006-chain-late", "2024-11-30T10:30:00Z"),
        chained_call(CHAINED_USE_AFTER, "2024-11-30T11:05:00Z"),
    ];
    let outcome = analyze(&events);
    assert_eq!(
        outcome.lineage.root_key_of(CHAINED_SESSION),
        Some(LEAKED_KEY)
    );
    let mut expected = vec![
        format!("EVT006 {LEAKED_KEY_OWNER} {SESSION} derived-evt006-chain-late"),
        format!("EVT006 {LEAKED_KEY_OWNER} {CHAINED_SESSION} {CHAINED_USE_AFTER}"),
    ];
    expected.sort();
    assert_eq!(
        evt006_lines(&outcome),
        expected,
        "a session chained after the revocation is measured against its own minting time, \
         after which the root key is never revoked"
    );
}

#[test]
fn evt006_does_not_fire_on_sessions_used_only_before_the_revocation() {
    let events: Vec<Value> = incident(leaked_key_deleted("2024-11-30T10:00:00Z"))
        .into_iter()
        .filter(|e| !e["eventID"].as_str().unwrap().ends_with("use-after"))
        .collect();
    let outcome = analyze(&events);
    assert!(
        only(&outcome, "EVT006").is_empty(),
        "{:?}",
        summary(&outcome)
    );
    // The sessions are known, and so is the deletion.
    assert_eq!(
        outcome.lineage.root_key_of(CHAINED_SESSION),
        Some(LEAKED_KEY)
    );
    assert!(outcome.lineage.keys[LEAKED_KEY].deleted.is_some());
}

#[test]
fn evt006_does_not_fire_when_the_parent_key_is_never_revoked() {
    let events: Vec<Value> = incident(Value::Null)
        .into_iter()
        .filter(|e| !e.is_null())
        .collect();
    let outcome = analyze(&events);
    assert!(
        only(&outcome, "EVT006").is_empty(),
        "{:?}",
        summary(&outcome)
    );
}

#[test]
fn evt006_does_not_depend_on_the_order_events_arrive_in() {
    let in_order = analyze(&incident(leaked_key_deleted("2024-11-30T10:00:00Z")));
    let mut reversed_events = incident(leaked_key_deleted("2024-11-30T10:00:00Z"));
    reversed_events.reverse();
    let reversed = analyze(&reversed_events);
    assert_eq!(evt006_lines(&reversed), all_three_sessions_flagged());
    assert_eq!(summary(&reversed), summary(&in_order));
}

#[test]
fn evt006_matches_events_across_files() {
    // The minting calls in one file, the deletion in a second, the later use in a third (as
    // CloudTrail delivers them: one file per region and five minutes), the last file read first.
    let events = incident(leaked_key_deleted("2024-11-30T10:00:00Z"));
    let documents = [
        ("us-east-1/11-00.json", records(&events[6..])),
        ("us-east-1/08-40.json", records(&events[..5])),
        ("us-east-1/10-00.json", records(&events[5..6])),
    ];
    let outcome = analyze_documents(&documents, &RuleSelection::default());
    assert_eq!(evt006_lines(&outcome), all_three_sessions_flagged());
}

#[test]
fn evt006_counts_a_revocation_logged_in_the_same_second_as_the_minting() {
    // CloudTrail times have one-second precision. A session minted at 09:00:00 proves the key was
    // active then, so a deletion also stamped 09:00:00 came after the minting, and a use at 11:00
    // is a use after the revocation.
    let events = vec![
        get_session_token("derived-evt006-gst", "2024-11-30T09:00:00Z"),
        leaked_key_deleted("2024-11-30T09:00:00Z"),
        session_call(USE_AFTER, "2024-11-30T11:00:00Z"),
    ];
    let outcome = analyze(&events);
    assert_eq!(
        evt006_lines(&outcome),
        [format!("EVT006 {LEAKED_KEY_OWNER} {SESSION} {USE_AFTER}")],
        "a deletion in the minting's second is ignored (KeyHistory::revoked_after uses `>`)"
    );
}

#[test]
fn a_console_session_is_not_a_session_minted_by_a_long_term_key() {
    // Real (OTRF): pedro's console session, an IAMUser identity with the ASIA key
    // ASIA5FLZVX4OI4ZDQJOL, used at 00:44 and 00:57, and a stolen instance-profile session.
    // Derived: pedro's long-term key AKIA5FLZVX4OPEDRO001 used at 00:40 (the real
    // DescribeVolumes of 00:44:20 with a new eventID, @timestamp moved, accessKeyId changed and
    // the console's sessionContext removed) and deleted at 00:50, between the console session's
    // uses (`delete_access_key` into account 123456789123).
    let mut pedro_key_use = real(OTRF_EXCERPT, "08995520-0ec9-4966-8ff5-22517e5a0a81");
    pedro_key_use["userIdentity"]["accessKeyId"] = json!("AKIA5FLZVX4OPEDRO001");
    fixtures::remove(&mut pedro_key_use, &["userIdentity", "sessionContext"]);
    pedro_key_use["eventID"] = json!("derived-console-akia-use");
    pedro_key_use["@timestamp"] = json!("2020-09-14T00:40:00.000Z");
    let mut documents = vec![("otrf.json", OTRF_EXCERPT.to_owned())];
    documents.push((
        "derived.json",
        records(&[
            pedro_key_use,
            delete_access_key(
                "derived-console-delete",
                "2020-09-14T00:50:00Z",
                "123456789123",
                "pedro",
                "AKIA5FLZVX4OPEDRO001",
            ),
        ]),
    ));
    let outcome = analyze_documents(&documents, &RuleSelection::default());
    // No STS session from a long-term key, no session used after a revocation.
    assert!(only(&outcome, "EVT005").is_empty());
    assert!(
        only(&outcome, "EVT006").is_empty(),
        "{:?}",
        summary(&outcome)
    );
    let lineage = &outcome.lineage;
    assert!(!lineage.sessions.contains_key(CONSOLE_SESSION_KEY));
    assert_eq!(lineage.root_key_of(CONSOLE_SESSION_KEY), None);
    // Its use is still recorded, and pedro's key shows no minted session.
    assert!(lineage.session_uses.contains_key(CONSOLE_SESSION_KEY));
    let pedro = &lineage.keys["AKIA5FLZVX4OPEDRO001"];
    assert!(pedro.minted.is_empty());
    assert_eq!(pedro.owner.as_deref(), Some("pedro"));
    assert!(pedro.deleted.is_some());
}

// --- EVT007 console-login-without-mfa ---------------------------------------------------------

#[test]
fn evt007_fires_on_successful_console_logins_without_mfa_by_users_and_root() {
    let outcome = analyze_documents(
        &[
            // Real: Stratus console-login-without-mfa.
            ("stratus.json", CONSOLE_LOGIN_WITHOUT_MFA.to_owned()),
            // Real: the AWS docs examples (IAM user and root, with and without MFA, failures).
            ("awsdocs.jsonl", AWSDOCS_EXCERPT.to_owned()),
        ],
        &RuleSelection::default(),
    );
    expect(
        &outcome,
        &[
            "EVT007 <root_account> - deb1e1f9-c99b-4612-8e9f-21f93b5d79c0",
            "EVT007 anaya - 3fcfb182-98f8-4744-bd45-10a395ab61cb",
            "EVT007 stratus-red-team-nmfalu-jfzdtsvchl - 865d9377-9c6b-4fd7-8aad-725e95f6a140",
        ],
    );
    for f in &outcome.findings {
        assert_eq!(f.credential, CredentialKind::Mfa);
        assert!(f.event.as_ref().unwrap().source_ip.is_some());
    }
}

#[test]
fn evt007_does_not_fire_with_mfa_on_failure_or_for_federated_sign_ins() {
    let outcome = analyze(&[
        // Real (AWS docs): with MFA, a failed sign-in, a failed root sign-in.
        real(AWSDOCS_EXCERPT, DOCS_LOGIN_MFA),
        real(AWSDOCS_EXCERPT, DOCS_LOGIN_FAILURE),
        real(AWSDOCS_EXCERPT, DOCS_ROOT_LOGIN_FAILURE),
        // Derived: an SSO sign-in (AssumedRole), where CloudTrail always says MFAUsed No.
        sso_console_login(),
    ]);
    expect(&outcome, &[]);
}

// --- EVT008 root-access-key-created -----------------------------------------------------------

#[test]
fn evt008_fires_when_root_creates_its_own_key() {
    let outcome = analyze(&[root_creates_own_key()]);
    expect(
        &outcome,
        &["EVT008 <root_account> AKIAL80DWDVKKMROOT01 derived-evt008-root-own-key"],
    );
    let f = &outcome.findings[0];
    assert_eq!(f.severity(), Severity::Critical);
    assert_eq!(
        f.event.as_ref().unwrap().actor.as_deref(),
        Some("arn:aws:iam::946986569305:root")
    );
    // Root's own key is owned by root in the lineage.
    assert_eq!(
        outcome.lineage.keys["AKIAL80DWDVKKMROOT01"]
            .owner
            .as_deref(),
        Some("<root_account>")
    );
}

#[test]
fn evt008_does_not_fire_on_keys_for_iam_users() {
    // Root creating a key for an IAM user is EVT001 (another user), not EVT008.
    let outcome = analyze(&[root_creates_key_for_user()]);
    expect(
        &outcome,
        &["EVT001 stratus-red-team-backdoor-u-user AKIAL80DWDVKKM0UXEER derived-evt008-root-for-user"],
    );
    // An IAM user creating their own key, and the real backdoor key: no EVT008.
    let outcome = analyze(&[
        create_own_key("derived-evt008-own", Value::Null),
        real(BACKDOOR_USER, BACKDOOR_CREATE_KEY),
    ]);
    assert!(only(&outcome, "EVT008").is_empty());
    // A refused root key creation.
    let outcome = analyze(&[failed(root_creates_own_key(), "LimitExceeded")]);
    expect(&outcome, &[]);
}

// --- EVT009 trail-logging-stopped -------------------------------------------------------------

#[test]
fn evt009_fires_on_stop_logging_delete_trail_and_selectors_that_drop_management_writes() {
    let outcome = analyze_documents(
        &[
            ("stop.json", CLOUDTRAIL_STOP.to_owned()),
            ("delete.json", CLOUDTRAIL_DELETE.to_owned()),
            ("selectors.json", CLOUDTRAIL_EVENT_SELECTORS.to_owned()),
        ],
        &RuleSelection::default(),
    );
    expect(
        &outcome,
        &[
            "EVT009 - - 10163ed2-2253-469d-a5ee-cbc6651f8934",
            "EVT009 - - c2a89408-340a-42f0-8ace-75d9f5769393",
            "EVT009 - - ee73c230-44bc-4492-8542-cfb189eae287",
        ],
    );
    let trails: Vec<String> = outcome
        .findings
        .iter()
        .map(|f| text(evidence(f, "trail")))
        .collect();
    assert!(trails.contains(&"stratus-red-team-ct-stop-trail-buykxbqejv".to_owned()));
    assert!(trails.contains(&"stratus-red-team-cloudtraild-trail-kvrwohmiai".to_owned()));
    assert!(trails.contains(&"stratus-red-team-ctes-trail-khlvciwdor".to_owned()));
    for f in &outcome.findings {
        assert_eq!(f.credential, CredentialKind::Account);
        assert!(f.account.is_some());
    }
}

#[test]
fn evt009_fires_on_update_trail_that_narrows_coverage() {
    let name = "stratus-red-team-ct-stop-trail-buykxbqejv";
    let outcome = analyze(&[
        // Derived from the real StopLogging: UpdateTrail making the trail single-region ...
        trail_call(
            "UpdateTrail",
            "derived-evt009-single-region",
            json!({ "name": name, "isMultiRegionTrail": false }),
        ),
        // ... and dropping global service events (IAM), the flag written as a string.
        trail_call(
            "UpdateTrail",
            "derived-evt009-no-global",
            json!({ "name": name, "includeGlobalServiceEvents": "false" }),
        ),
    ]);
    expect(
        &outcome,
        &[
            "EVT009 - - derived-evt009-no-global",
            "EVT009 - - derived-evt009-single-region",
        ],
    );
}

#[test]
fn evt009_does_not_fire_on_harmless_or_failed_trail_changes() {
    let name = "stratus-red-team-ct-stop-trail-buykxbqejv";
    let outcome = analyze(&[
        // Real (AWS docs): an UpdateTrail that failed (TrailNotFoundException).
        real(AWSDOCS_EXCERPT, DOCS_FAILED_UPDATE_TRAIL),
        // Derived from the real StopLogging: StartLogging, an UpdateTrail that keeps coverage,
        // a refused StopLogging.
        trail_call(
            "StartLogging",
            "derived-evt009-start",
            json!({ "name": name }),
        ),
        trail_call(
            "UpdateTrail",
            "derived-evt009-multi-region",
            json!({ "name": name, "isMultiRegionTrail": true, "s3BucketName": "new-bucket" }),
        ),
        failed(real(CLOUDTRAIL_STOP, STOP_LOGGING_EVENT), "AccessDenied"),
        // Derived from the real PutEventSelectors: a selector keeping all management events.
        harmless_event_selectors(),
    ]);
    expect(&outcome, &[]);
}

// --- Deduplication, selection, the whole corpus -----------------------------------------------

#[test]
fn the_same_event_in_two_files_gives_one_finding() {
    // The backdoor CreateAccessKey delivered twice (CloudTrail can), once as a Records file and
    // once as the Stratus array.
    let outcome = analyze_documents(
        &[
            ("a.json", records(&events_of(BACKDOOR_USER))),
            ("b.json", BACKDOOR_USER.to_owned()),
        ],
        &RuleSelection::default(),
    );
    expect(
        &outcome,
        &["EVT001 stratus-red-team-backdoor-u-user AKIAL80DWDVKKM0UXEER c64c4ded-ef03-4e5c-81eb-153b118d72f2"],
    );
    assert_eq!(outcome.stats.events, 2);
    assert_eq!(outcome.stats.duplicates, 1);
}

#[test]
fn a_duplicated_incident_gives_the_same_findings_once() {
    let events = incident(leaked_key_deleted("2024-11-30T10:00:00Z"));
    let once = analyze(&events);
    let twice = analyze_documents(
        &[
            ("a.json", records(&events)),
            ("b.jsonl", json_lines(&events)),
        ],
        &RuleSelection::default(),
    );
    assert_eq!(summary(&twice), summary(&once));
    assert_eq!(twice.stats.events, 2 * events.len() as u64);
    // Every state-changing or STS event is counted as a duplicate.
    let tracked = events
        .iter()
        .filter(|e| {
            let source = e["eventSource"].as_str().unwrap();
            source == "sts.amazonaws.com" || e["eventName"] == "DeleteAccessKey"
        })
        .count() as u64;
    assert_eq!(twice.stats.duplicates, tracked);
}

#[test]
fn selection_runs_only_the_selected_detections() {
    let selection = RuleSelection {
        select: vec!["EVT006".into()],
        ignore: vec![],
    };
    let outcome = analyze_documents(
        &[(
            "incident.json",
            records(&incident(leaked_key_deleted("2024-11-30T10:00:00Z"))),
        )],
        &selection,
    );
    assert_eq!(
        outcome
            .detections_run
            .iter()
            .map(|m| m.code)
            .collect::<Vec<_>>(),
        ["EVT006"]
    );
    assert_eq!(codes(&outcome), ["EVT006", "EVT006", "EVT006"]);
    let ignoring = RuleSelection {
        select: vec![],
        ignore: vec!["EVT006".into(), "evt005".into()],
    };
    let outcome = analyze_documents(
        &[(
            "incident.json",
            records(&incident(leaked_key_deleted("2024-11-30T10:00:00Z"))),
        )],
        &ignoring,
    );
    assert!(outcome
        .findings
        .iter()
        .all(|f| f.rule.code != "EVT006" && f.rule.code != "EVT005"));
    assert_eq!(outcome.detections_run.len(), 7);
}

#[test]
fn every_real_fixture_read_in_its_own_format_gives_the_expected_findings() {
    let documents: Vec<(&str, String)> = REAL_FILES
        .iter()
        .map(|(name, text)| (*name, (*text).to_owned()))
        .collect();
    let outcome = analyze_documents(&documents, &RuleSelection::default());
    expect(
        &outcome,
        &[
            "EVT001 malicious-iam-user AKIAXAFZN8JEPF6L682H 94faedcc-0fa4-46e6-9322-022e8e934f04",
            "EVT001 stratus-red-team-backdoor-u-user AKIAL80DWDVKKM0UXEER c64c4ded-ef03-4e5c-81eb-153b118d72f2",
            "EVT004 stratus-red-team-login-profile-user - d3906a7d-604b-407f-acb6-fc425742821e",
            "EVT004 stratus-red-team-update-login-profile-user - a46a1a42-9ef1-48d4-9c61-507eb6d4019f",
            "EVT005 stratus-red-team-user-federation-user AKIA6V1GNZTT65XQH36M 6e882b9d-2af8-4c67-b91f-aeac6a0e5e70",
            "EVT007 <root_account> - deb1e1f9-c99b-4612-8e9f-21f93b5d79c0",
            "EVT007 anaya - 3fcfb182-98f8-4744-bd45-10a395ab61cb",
            "EVT007 stratus-red-team-nmfalu-jfzdtsvchl - 865d9377-9c6b-4fd7-8aad-725e95f6a140",
            "EVT009 - - 10163ed2-2253-469d-a5ee-cbc6651f8934",
            "EVT009 - - c2a89408-340a-42f0-8ace-75d9f5769393",
            "EVT009 - - ee73c230-44bc-4492-8542-cfb189eae287",
        ],
    );
    let total: usize = REAL_FILES.iter().map(|(_, t)| events_of(t).len()).sum();
    assert_eq!(outcome.stats.events, total as u64);
    assert_eq!(outcome.stats.duplicates, 0);
    assert_eq!(outcome.stats.bad_records, 0);
    // The latest event read: the federation session's GetCallerIdentity.
    assert_eq!(outcome.stats.latest_event, Some(at("2024-11-30T08:43:18Z")));
    // Findings come in event-time order.
    let times: Vec<_> = outcome
        .findings
        .iter()
        .map(|f| f.event.as_ref().unwrap().event_time)
        .collect();
    assert!(times.windows(2).all(|w| w[0] <= w[1]));
}

// --- An organization trail: lineage across accounts -------------------------------------------

/// Every event of the org-trail fixtures, the accounts' files in `order`.
fn analyze_org(order: &[&str]) -> TrailOutcome {
    let by_account = org_trail_events();
    let documents: Vec<(&str, String)> = order
        .iter()
        .map(|account| {
            let (name, events) = by_account
                .iter()
                .find(|(a, _)| a == account)
                .expect("an account of the fixtures");
            (*name, records(events))
        })
        .collect();
    analyze_documents(&documents, &RuleSelection::default())
}

#[test]
fn a_session_minted_into_another_account_belongs_to_the_key_that_minted_it() {
    // Both orders: the caller's copy of the AssumeRole (no key, the same eventID in AWS's sample)
    // read first must not hide the role account's copy, which names the key.
    for order in [
        [ORG_CALLER_ACCOUNT, ORG_ROLE_ACCOUNT, ORG_OTHER_ACCOUNT],
        [ORG_ROLE_ACCOUNT, ORG_CALLER_ACCOUNT, ORG_OTHER_ACCOUNT],
    ] {
        let outcome = analyze_org(&order);
        let lineage = &outcome.lineage;
        let key = &lineage.keys[CROSS_ACCOUNT_KEY];
        assert_eq!(key.owner.as_deref(), Some(CROSS_ACCOUNT_OWNER), "{order:?}");
        // The key's account is its user's, not the account its AssumeRole was recorded in.
        assert_eq!(
            key.account.as_deref(),
            Some(ORG_CALLER_ACCOUNT),
            "{order:?}"
        );
        assert_eq!(key.minted, [CROSS_ACCOUNT_SESSION], "{order:?}");
        let sessions = lineage.sessions_of(CROSS_ACCOUNT_KEY);
        assert_eq!(sessions.len(), 1, "{order:?}");
        let session = sessions[0];
        assert_eq!(session.key_id, CROSS_ACCOUNT_SESSION);
        assert_eq!(session.parent, CROSS_ACCOUNT_KEY);
        assert_eq!(session.minted.event_id, CROSS_ACCOUNT_ASSUME_ROLE_EVENT);
        // Minted into the role's account.
        assert_eq!(session.minted.account.as_deref(), Some(ORG_ROLE_ACCOUNT));
        // Its use in the role's account's logs is the key's session's use.
        let used = &lineage.session_uses[CROSS_ACCOUNT_SESSION];
        assert_eq!(used.first.event_id, "derived-org-session-call-1");
        assert_eq!(used.last.event_id, "derived-org-session-call-2");
        assert_eq!(
            lineage.root_key_of(CROSS_ACCOUNT_SESSION),
            Some(CROSS_ACCOUNT_KEY)
        );
        // Both copies were kept (one per account), nothing else repeated.
        assert_eq!(outcome.stats.duplicates, 0, "{order:?}");
    }
}

#[test]
fn the_same_copy_read_twice_is_still_one_event() {
    // The role account's file read twice (overlapping sources): its events count once.
    let outcome = analyze_org(&[ORG_ROLE_ACCOUNT, ORG_ROLE_ACCOUNT]);
    assert_eq!(
        outcome.stats.duplicates, 1,
        "the AssumeRole, the one tracked event"
    );
    assert_eq!(
        outcome.lineage.keys[CROSS_ACCOUNT_KEY].minted,
        [CROSS_ACCOUNT_SESSION]
    );
}
