//! The live audit end to end: the real `keywarden` binary and the real AWS SDK against moto's
//! server on 127.0.0.1, seeded by `tests/moto/launcher.py` (scenarios, faults, credential-report
//! shaping, IAM authorization; see `tests/moto/README.md`).
//!
//! Each test starts its own launcher, so tests are independent and run in parallel. Scenarios use
//! a fixed `now` and pass it as `--now`, so every age is exact. Key ids are compared with the
//! launcher's JSON line: a live audit must attach the real id to every key finding. moto and
//! Python are required: when `scripts/ensure-moto.sh` fails, every test here fails.
//!
//! These run the binary, which only reaches AWS through the SDK: the live-audit scenarios the
//! fake can express too run from one body against both in `live_audit_both.rs`.

mod support;

use serde_json::{json, Value};
use support::scenario::{clean_account, stale_user, NOW};
use support::{row, Moto, Row};

/// `NOW` minus `days`, as keywarden's JSON writes instants.
/// The scenarios' credential reports are generated two hours before `NOW` (`"generated": "-2h"`).
const REPORT_TIME: &str = "2025-06-01T10:00:00Z";

fn ago(days: i64) -> String {
    let now = chrono::DateTime::parse_from_rfc3339(NOW).unwrap();
    (now - chrono::Duration::days(days))
        .to_utc()
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

/// Adds `fields` to a scenario object.
fn with(mut scenario: Value, fields: Value) -> Value {
    for (key, value) in fields.as_object().unwrap() {
        scenario[key] = value.clone();
    }
    scenario
}

/// A console user with a recently used password and no MFA: PWD002 only.
fn no_mfa_user() -> Value {
    json!({"name": "nomfa", "created": "-30d", "password": {"created": "-30d", "last_used": "-1d"}})
}

/// Per-user calls: what `--no-enrich` and passing users must never cost.
const PER_USER_ACTIONS: [&str; 5] = [
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
    "iam:ListUserTags",
];

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn every_rule_fails_over_the_wire_with_real_key_ids() {
    let moto = Moto::start(&json!({
        "now": NOW,
        "users": [
            stale_user(),
            // Two active keys, both recent and used: KEY003 on the older one only.
            {"name": "pair", "created": "-40d", "access_keys": [
                {"created": "-30d", "last_used": "-1d"},
                {"created": "-20d", "last_used": "-2d"}]},
            // An inactive key idle for 100 days: KEY004.
            {"name": "shelved", "created": "-300d",
             "access_keys": [{"status": "Inactive", "created": "-200d", "last_used": "-100d"}]},
            // A console user given a key at creation, never used: KEY005 (10 days is too young for KEY001).
            {"name": "newhire", "created": "-10d", "mfa": true, "password": {"created": "-10d"},
             "access_keys": [{"created": "-10d"}]},
            // A password last used 200 days ago: PWD001.
            {"name": "dormant", "created": "-300d", "mfa": true,
             "password": {"created": "-300d", "last_used": "-200d"}},
            no_mfa_user(),
            // Everything fresh, used and with MFA: no finding, even in a failing account.
            {"name": "tidy", "created": "-100d", "mfa": true,
             "password": {"created": "-60d", "last_used": "-1d"},
             "access_keys": [{"created": "-30d", "last_used": "-1d"}]}
        ],
        "root": {"mfa": false, "password_last_used": "-30d",
                 "access_keys": [{"created": "-3000d", "last_used": "-500d"}]},
        "password_policy": {"MinimumPasswordLength": 8},
        "trails": [
            {"name": "regional", "multi_region": false},
            {"name": "paused", "logging": false},
            {"name": "reads", "read_write_type": "ReadOnly"}
        ],
        "credential_report": {"aws_shape": true, "generated": "-2h"}
    }));
    let audit = moto.audit(&[]);
    let stale = moto.key_id("stale", 0);
    let pair = moto.key_id("pair", 0);
    let shelved = moto.key_id("shelved", 0);
    let newhire = moto.key_id("newhire", 0);
    audit.assert_exactly(
        1,
        vec![
            row("KEY001", "fail", "stale", "access_key_1", Some(&stale)),
            row("KEY002", "fail", "stale", "access_key_1", Some(&stale)),
            row("KEY003", "fail", "pair", "access_key_1", Some(&pair)),
            row("KEY004", "fail", "shelved", "access_key_1", Some(&shelved)),
            row("KEY005", "fail", "newhire", "access_key_1", Some(&newhire)),
            row("PWD001", "fail", "dormant", "password", None),
            row("PWD002", "fail", "nomfa", "mfa", None),
            row("PWD003", "fail", "-", "account", None),
            // Root's keys cannot be listed through IAM: the report's slot, without an id.
            row("ROOT001", "fail", "<root_account>", "access_key_1", None),
            row("ROOT002", "fail", "<root_account>", "mfa", None),
            row("TRAIL001", "fail", "-", "account", None),
        ],
    );

    let doc = &audit.doc;
    assert_eq!(doc["data_source"]["kind"], "live");
    assert_eq!(doc["data_as_of"], REPORT_TIME, "the report's GeneratedTime");
    assert_eq!(doc["summary"]["users_evaluated"], 8, "seven users and root");
    assert_eq!(doc["summary"]["root_row_seen"], true);
    assert_eq!(doc["summary"]["rules_run"].as_array().unwrap().len(), 11);

    // The evidence carries the dates the API gave, not just a verdict.
    let key001 = audit.finding("KEY001", "stale", "access_key_1");
    assert_eq!(key001["evidence"]["last_used"], ago(100));
    assert_eq!(key001["evidence"]["created"], ago(400));
    let key003 = audit.finding("KEY003", "pair", "access_key_1");
    assert_eq!(
        key003["evidence"]["newer_key_id"],
        moto.key_id("pair", 1),
        "KEY003 names the newer key by its real id too"
    );
    let key004 = audit.finding("KEY004", "shelved", "access_key_1");
    assert_eq!(key004["evidence"]["days_idle"], 100);
    let pwd003 = audit.finding("PWD003", "-", "account");
    assert_eq!(pwd003["evidence"]["custom_policy_set"], true);
    assert_eq!(pwd003["evidence"]["minimum_password_length"], 8);
    let gaps = audit.finding("TRAIL001", "-", "account")["evidence"]["trail_gaps"]
        .as_str()
        .unwrap()
        .to_owned();
    for gap in [
        "regional (us-east-1): single-region",
        "paused (us-east-1): not logging",
        "reads (us-east-1): no write management events",
    ] {
        assert!(gaps.contains(gap), "`{gap}` not in `{gaps}`");
    }
    let root001 = audit.finding("ROOT001", "<root_account>", "access_key_1");
    assert_eq!(root001["evidence"]["created"], ago(3000));

    // Only the users the report makes fail are re-read: tidy costs no per-user call. Their
    // tags come with every user's from one GetAccountAuthorizationDetails, not per user.
    assert_eq!(audit.requests("iam:ListUserTags"), 0, "{:?}", audit.stats());
    assert_eq!(
        audit.requests("iam:GetAccountAuthorizationDetails"),
        1,
        "{:?}",
        audit.stats()
    );
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn a_clean_account_has_no_findings_and_exits_0() {
    let moto = Moto::start(&clean_account(json!([
        {"name": "alice", "created": "-400d", "mfa": true,
         "password": {"created": "-60d", "last_used": "-1d"},
         "access_keys": [{"created": "-30d", "last_used": {"date": "-1d", "service": "s3", "region": "eu-west-1"}}]},
        // A fresh inactive key next to a used active one: nothing stale, one active key. Its
        // last use is before the report was generated (two hours ago): a later one would be a
        // date the report cannot hold, and the audit would re-read the user.
        {"name": "bot", "created": "-200d", "access_keys": [
            {"created": "-60d", "last_used": "-3h"},
            {"status": "Inactive", "created": "-10d"}]},
        {"name": "nocredentials", "created": "-1000d"}
    ])));
    // The endpoint as a flag this time (the other tests use AWS_ENDPOINT_URL).
    let mut command = moto.keywarden(&moto.admin());
    command.env_remove("AWS_ENDPOINT_URL").args([
        "audit",
        "--endpoint-url",
        moto.endpoint(),
        "--now",
        moto.now(),
        "--format",
        "json",
        "--stats",
    ]);
    let audit = support::Audit::run(command);
    audit.assert_exactly(0, vec![]);
    let summary = &audit.doc["summary"];
    assert_eq!(
        (&summary["fail"], &summary["unknown"], &summary["exempted"]),
        (&json!(0), &json!(0), &json!(0))
    );
    assert_eq!(summary["users_evaluated"], 4);
    assert_eq!(summary["root_row_seen"], true);
    // Nothing failed on the report, so nobody was re-read.
    for action in PER_USER_ACTIONS {
        assert_eq!(audit.requests(action), 0, "{action}: {:?}", audit.stats());
    }
}

// The scenarios' reports are two hours old, so the audit re-reads what they may have missed;
// a report generated minutes before is trusted as it is (see keywarden-app's tests).

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn a_fresh_last_use_from_the_api_beats_a_stale_report() {
    // The report says bob's key was last used 50 days ago (KEY001 on the report alone);
    // GetAccessKeyLastUsed says yesterday.
    let mut scenario = clean_account(json!([
        {"name": "bob", "created": "-60d", "access_keys": [{"created": "-60d", "last_used": "-1d"}]}
    ]));
    scenario["credential_report"]["overrides"] =
        json!({"bob": {"access_key_1_last_used_date": "-50d"}});
    let moto = Moto::start(&scenario);

    let audit = moto.audit(&[]);
    audit.assert_exactly(0, vec![]);
    assert_eq!(
        audit.requests("iam:GetAccessKeyLastUsed"),
        1,
        "bob's key was re-read: {:?}",
        audit.stats()
    );

    // Proof that the report really disagrees: without the per-user calls the stale date wins.
    let report_only = moto.audit(&["--no-enrich"]);
    report_only.assert_exactly(1, vec![row("KEY001", "fail", "bob", "access_key_1", None)]);
    assert_eq!(
        report_only.finding("KEY001", "bob", "access_key_1")["evidence"]["last_used"],
        ago(50)
    );
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn a_report_still_being_generated_is_polled_until_complete() {
    // STARTED, then two more in-progress answers, before the report can be read.
    let mut scenario = clean_account(json!([stale_user()]));
    scenario["credential_report"]["in_progress_polls"] = json!(3);
    let moto = Moto::start(&scenario);
    let audit = moto.audit(&[]);
    let key = moto.key_id("stale", 0);
    audit.assert_exactly(
        1,
        vec![
            row("KEY001", "fail", "stale", "access_key_1", Some(&key)),
            row("KEY002", "fail", "stale", "access_key_1", Some(&key)),
        ],
    );
    assert_eq!(audit.doc["data_as_of"], REPORT_TIME);
    assert!(
        audit.doc["data_source"]["as_of_basis"]
            .as_str()
            .unwrap()
            .contains("generated for this run"),
        "{}",
        audit.context()
    );
    // At least STARTED, two in-progress answers and the report itself.
    let polls =
        audit.requests("iam:GenerateCredentialReport") + audit.requests("iam:GetCredentialReport");
    assert!(polls >= 4, "{:?}", audit.stats());
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn throttling_and_server_errors_are_retried() {
    let scenario = with(
        clean_account(json!([stale_user(), no_mfa_user()])),
        json!({"faults": [
            {"action": "ListAccessKeys", "status": 400, "code": "Throttling", "times": 2},
            {"action": "GetAccessKeyLastUsed", "status": 500, "code": "ServiceFailure", "times": 2}
        ]}),
    );
    let moto = Moto::start(&scenario);
    let audit = moto.audit(&[]);
    let key = moto.key_id("stale", 0);
    audit.assert_exactly(
        1,
        vec![
            row("KEY001", "fail", "stale", "access_key_1", Some(&key)),
            row("KEY002", "fail", "stale", "access_key_1", Some(&key)),
            row("PWD002", "fail", "nomfa", "mfa", None),
        ],
    );
    // One user's keys were listed and one key re-read, each after two refused attempts.
    assert_eq!(
        audit.requests("iam:ListAccessKeys"),
        3,
        "{:?}",
        audit.stats()
    );
    assert_eq!(
        audit.requests("iam:GetAccessKeyLastUsed"),
        3,
        "{:?}",
        audit.stats()
    );
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn throttling_past_the_retries_makes_the_findings_that_needed_the_call_unknown() {
    let scenario = with(
        clean_account(json!([stale_user(), no_mfa_user()])),
        json!({"faults": [
            {"action": "ListAccessKeys", "status": 400, "code": "Throttling", "times": 1000},
            {"action": "DescribeTrails", "status": 400, "code": "ThrottlingException", "times": 1000}
        ]}),
    );
    let moto = Moto::start(&scenario);
    let audit = moto.audit(&["--max-attempts", "2"]);
    audit.assert_exactly(
        2,
        vec![
            // Without ListAccessKeys there is no key id, and the verdict is the report's alone.
            row("KEY001", "unknown", "stale", "access_key_1", None),
            row("KEY002", "unknown", "stale", "access_key_1", None),
            // Findings that did not need the call keep their verdict.
            row("PWD002", "fail", "nomfa", "mfa", None),
            // The trail list is needed to pass TRAIL001: unknown, never a pass.
            row("TRAIL001", "unknown", "-", "account", None),
        ],
    );
    for rule in ["KEY001", "KEY002"] {
        let finding = audit.finding(rule, "stale", "access_key_1");
        assert_eq!(
            finding["evidence"]["aws_error_code"], "Throttling",
            "{finding}"
        );
        let message = finding["message"].as_str().unwrap();
        assert!(
            message.contains("iam:ListAccessKeys") && message.contains("Throttling"),
            "{message}"
        );
    }
    let trail = audit.finding("TRAIL001", "-", "account");
    assert!(
        trail["message"]
            .as_str()
            .unwrap()
            .contains("ThrottlingException"),
        "{trail}"
    );
    assert_eq!(
        audit.requests("iam:ListAccessKeys"),
        2,
        "--max-attempts 2: {:?}",
        audit.stats()
    );
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn server_errors_past_the_retries_leave_only_last_use_rules_unknown() {
    let scenario = with(
        clean_account(json!([stale_user()])),
        json!({"faults": [
            {"action": "GetAccessKeyLastUsed", "status": 500, "code": "ServiceFailure", "times": 1000}
        ]}),
    );
    let moto = Moto::start(&scenario);
    let audit = moto.audit(&["--max-attempts", "2"]);
    let key = moto.key_id("stale", 0);
    audit.assert_exactly(
        2,
        vec![
            // ListAccessKeys worked: the id is known even where the verdict is not.
            row("KEY001", "unknown", "stale", "access_key_1", Some(&key)),
            // The key's age does not depend on its last use.
            row("KEY002", "fail", "stale", "access_key_1", Some(&key)),
        ],
    );
    let key001 = audit.finding("KEY001", "stale", "access_key_1");
    assert_eq!(key001["evidence"]["aws_error_code"], "ServiceFailure");
    assert!(
        key001["evidence"]["unknown_reason"]
            .as_str()
            .unwrap()
            .contains("iam:GetAccessKeyLastUsed"),
        "{key001}"
    );
    assert_eq!(audit.requests("iam:GetAccessKeyLastUsed"), 2);
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn a_credential_report_refused_is_an_error_that_prints_nothing_and_exits_2() {
    // Not retryable, and not one of the report's documented "absent" answers: the audit cannot
    // start, so it must not print a partial document.
    let scenario = with(
        clean_account(json!([stale_user()])),
        json!({"faults": [
            {"action": "GetCredentialReport", "status": 403, "code": "AccessDenied",
             "message": "not for you", "times": 1000}
        ]}),
    );
    let moto = Moto::start(&scenario);
    let audit = moto.audit(&[]);
    assert_eq!(audit.code(), Some(2), "{}", audit.context());
    assert_eq!(
        audit.stdout, "",
        "no findings from an audit that could not run"
    );
    let error = audit
        .stderr
        .lines()
        .find(|l| l.starts_with("keywarden: error:"))
        .unwrap_or_else(|| panic!("no error line\n{}", audit.context()));
    assert!(
        error.contains("iam:GetCredentialReport") && error.contains("AccessDenied"),
        "{error}"
    );
    // The cause is said once: the reason is not repeated as its own source.
    assert_eq!(
        error.matches("iam:GetCredentialReport failed").count(),
        1,
        "the AWS error is printed twice: {error}"
    );
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn an_account_without_users_is_judged_on_its_account_rules() {
    // Only the launcher's admin, which is not an IAM user: the report holds the root row alone.
    let moto = Moto::start(&json!({
        "now": NOW,
        "root": {"mfa": true},
        "credential_report": {"aws_shape": true, "generated": "-2h"}
    }));
    let audit = moto.audit(&[]);
    audit.assert_exactly(
        1,
        vec![
            row("PWD003", "fail", "-", "account", None),
            row("TRAIL001", "fail", "-", "account", None),
        ],
    );
    assert_eq!(audit.doc["summary"]["users_evaluated"], 1);
    assert_eq!(
        audit.finding("TRAIL001", "-", "account")["message"],
        "no CloudTrail trail exists"
    );
    assert_eq!(
        audit.finding("PWD003", "-", "account")["evidence"]["custom_policy_set"],
        false
    );
    for action in PER_USER_ACTIONS {
        assert_eq!(audit.requests(action), 0, "{action}: {:?}", audit.stats());
    }

    let ignored = moto.audit(&["--ignore", "PWD003,TRAIL001"]);
    ignored.assert_exactly(0, vec![]);
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn an_active_and_an_inactive_key_created_in_the_same_second_keep_their_ids() {
    // The report's slots can only be matched to ListAccessKeys by creation second and status.
    // Seed 4 gives the inactive key (slot 1) the greater id, so matching by sorted id alone
    // would swap them.
    let scenario = with(
        clean_account(json!([
            {"name": "rotating", "created": "-300d", "access_keys": [
                {"status": "Inactive", "created": "-200d", "last_used": "-150d"},
                {"status": "Active", "created": "-200d", "last_used": "-1d"}]}
        ])),
        json!({"seed": 4}),
    );
    let moto = Moto::start(&scenario);
    let inactive = moto.key_id("rotating", 0);
    let active = moto.key_id("rotating", 1);
    assert!(
        inactive > active,
        "the seed no longer orders the ids against the slots ({inactive} {active}); pick another"
    );
    let audit = moto.audit(&[]);
    audit.assert_exactly(
        1,
        vec![
            row(
                "KEY004",
                "fail",
                "rotating",
                "access_key_1",
                Some(&inactive),
            ),
            row("KEY002", "fail", "rotating", "access_key_2", Some(&active)),
        ],
    );
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn two_active_keys_created_in_the_same_second_keep_their_ids() {
    // Both keys are 200 days old (KEY002 twice, KEY003); one was used yesterday, the other 100
    // days ago (KEY001). Two users, with the unused key in either slot; seed 1 gives twin-a ids
    // in creation order and twin-b ids in the reverse order, so neither matching by slot nor by
    // sorted id can pass by luck.
    let scenario = with(
        clean_account(json!([
            {"name": "twin-a", "created": "-300d", "access_keys": [
                {"created": "-200d", "last_used": "-1d"},
                {"created": "-200d", "last_used": "-100d"}]},
            {"name": "twin-b", "created": "-300d", "access_keys": [
                {"created": "-200d", "last_used": "-100d"},
                {"created": "-200d", "last_used": "-1d"}]}
        ])),
        json!({"seed": 1}),
    );
    let moto = Moto::start(&scenario);
    let (a1, a2) = (moto.key_id("twin-a", 0), moto.key_id("twin-a", 1));
    let (b1, b2) = (moto.key_id("twin-b", 0), moto.key_id("twin-b", 1));
    assert!(
        a1 < a2 && b1 > b2,
        "the seed no longer gives one user ids in creation order and the other in reverse \
         ({a1} {a2}, {b1} {b2}); pick another"
    );
    let audit = moto.audit(&[]);
    // Which report slot a same-second key is called is a matter of convention (AWS does not
    // say); what must hold is that each finding's id, status and dates belong to one real key.
    // So compare (rule, user, key id) and check the slots separately.
    let mut by_key: Vec<(String, String, String, String)> = audit
        .findings()
        .iter()
        .map(|f| {
            let text = |field: &str| f[field].as_str().unwrap_or("-").to_owned();
            (
                text("rule"),
                text("status"),
                text("user"),
                text("access_key_id"),
            )
        })
        .collect();
    by_key.sort();
    let key = |rule: &str, user: &str, id: &str| {
        (
            rule.to_owned(),
            "fail".to_owned(),
            user.to_owned(),
            id.to_owned(),
        )
    };
    let kept = [("twin-a", &a1, &a2), ("twin-b", &b1, &b2)];
    let mut expected = Vec::new();
    for (user, first, second) in kept {
        expected.push(key("KEY002", user, first));
        expected.push(key("KEY002", user, second));
        // Both are equally old: KEY003 may name either, and names the other as the newer key.
        let key003 = audit
            .findings()
            .iter()
            .find(|f| f["rule"] == "KEY003" && f["user"] == user);
        let older = key003
            .and_then(|f| f["access_key_id"].as_str())
            .unwrap_or("-");
        expected.push(key("KEY003", user, older));
        if let Some(f) = key003 {
            let newer = if older == first.as_str() {
                second
            } else {
                first
            };
            assert_eq!(f["evidence"]["newer_key_id"], newer.as_str(), "{f}");
        }
    }
    // The key used 100 days ago, by its own id: twin-a's second key and twin-b's first.
    expected.push(key("KEY001", "twin-a", &a2));
    expected.push(key("KEY001", "twin-b", &b1));
    expected.sort();
    assert_eq!(by_key, expected, "{}", audit.context());
    assert_eq!(audit.code(), Some(1), "{}", audit.context());
    for user in ["twin-a", "twin-b"] {
        let slots: Vec<&str> = audit
            .findings()
            .iter()
            .filter(|f| f["rule"] == "KEY002" && f["user"] == user)
            .map(|f| f["credential"].as_str().unwrap())
            .collect();
        assert_eq!(slots.len(), 2, "{user}: two KEY002 findings");
        assert_ne!(slots[0], slots[1], "{user}: one per slot");
        let key001 = audit
            .findings()
            .iter()
            .find(|f| f["rule"] == "KEY001" && f["user"] == user)
            .unwrap();
        assert_eq!(
            key001["evidence"]["last_used"],
            ago(100),
            "{user}: KEY001 carries the unused key's own last use"
        );
    }
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn no_enrich_makes_no_per_user_calls_and_leaves_key_ids_null() {
    let moto = Moto::start(&clean_account(json!([
        stale_user(),
        {"name": "shelved", "created": "-300d",
         "access_keys": [{"status": "Inactive", "created": "-200d", "last_used": "-100d"}]},
        no_mfa_user()
    ])));
    let report_only = moto.audit(&["--no-enrich"]);
    report_only.assert_exactly(
        1,
        vec![
            row("KEY001", "fail", "stale", "access_key_1", None),
            row("KEY002", "fail", "stale", "access_key_1", None),
            row("KEY004", "fail", "shelved", "access_key_1", None),
            row("PWD002", "fail", "nomfa", "mfa", None),
        ],
    );
    for action in PER_USER_ACTIONS {
        assert_eq!(
            report_only.requests(action),
            0,
            "{action}: {:?}",
            report_only.stats()
        );
    }

    // The same account enriched: the same verdicts, now with ids, at the cost of per-user calls.
    let enriched = moto.audit(&[]);
    let (stale, shelved) = (moto.key_id("stale", 0), moto.key_id("shelved", 0));
    enriched.assert_exactly(
        1,
        vec![
            row("KEY001", "fail", "stale", "access_key_1", Some(&stale)),
            row("KEY002", "fail", "stale", "access_key_1", Some(&stale)),
            row("KEY004", "fail", "shelved", "access_key_1", Some(&shelved)),
            row("PWD002", "fail", "nomfa", "mfa", None),
        ],
    );
    assert_eq!(enriched.requests("iam:ListAccessKeys"), 2);
    assert_eq!(enriched.requests("iam:ListUserTags"), 0);
    assert_eq!(enriched.requests("iam:GetAccountAuthorizationDetails"), 1);
}

/// An account for the least-privilege tests, the audit principal holding `policy`: a stale key
/// (KEY001, KEY002) and a console user without MFA (PWD002), so a complete audit exits 1.
fn least_privilege_scenario(policy: Value) -> Value {
    with(
        clean_account(json!([stale_user(), no_mfa_user()])),
        json!({"auth": {"principal": {"name": "auditor", "policy": policy}}}),
    )
}

/// `keywarden permissions`: the policy the audit documents as sufficient.
fn audit_policy_without(action: Option<&str>) -> Value {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .arg("permissions")
        .output()
        .expect("run keywarden permissions");
    assert_eq!(out.status.code(), Some(0));
    let policy: Value = serde_json::from_slice(&out.stdout).expect("the policy is JSON");
    policy_without(policy, action)
}

/// `policy` without `action` in its first statement (which must hold it).
fn policy_without(mut policy: Value, action: Option<&str>) -> Value {
    if let Some(action) = action {
        let actions = policy["Statement"][0]["Action"].as_array_mut().unwrap();
        let before = actions.len();
        actions.retain(|a| a != action);
        assert_eq!(actions.len(), before - 1, "{action} is in the policy");
    }
    policy
}

/// The least-privilege account audited by the principal holding `policy`: complete (the stale
/// key's findings with its id, PWD002), nothing denied.
fn complete_least_privilege_audit(policy: Value) -> (Moto, support::Audit) {
    let moto = Moto::start(&least_privilege_scenario(policy));
    let audit = moto.audit_as(&moto.principal(), &[]);
    let key = moto.key_id("stale", 0);
    audit.assert_exactly(1, least_privilege_rows("fail", Some(&key)));
    assert!(
        !audit.stdout.contains("AccessDenied"),
        "{}",
        audit.context()
    );
    (moto, audit)
}

/// The least-privilege account audited by the principal holding `policy`, which lacks
/// ListAccessKeys: the key findings unknown, with AccessDenied and the action named.
fn audit_without_list_access_keys(policy: Value) {
    let moto = Moto::start(&least_privilege_scenario(policy));
    let audit = moto.audit_as(&moto.principal(), &[]);
    audit.assert_exactly(2, least_privilege_rows("unknown", None));
    for rule in ["KEY001", "KEY002"] {
        let finding = audit.finding(rule, "stale", "access_key_1");
        assert_eq!(
            finding["evidence"]["aws_error_code"], "AccessDenied",
            "{finding}"
        );
        assert!(
            finding["message"]
                .as_str()
                .unwrap()
                .contains("iam:ListAccessKeys"),
            "{finding}"
        );
    }
}

/// The findings of the least-privilege account: the stale key's two with `key_status` and
/// `key_id`, and PWD002, which needs none of the calls these tests deny.
fn least_privilege_rows(key_status: &str, key_id: Option<&str>) -> Vec<Row> {
    vec![
        row("KEY001", key_status, "stale", "access_key_1", key_id),
        row("KEY002", key_status, "stale", "access_key_1", key_id),
        row("PWD002", "fail", "nomfa", "mfa", None),
    ]
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn the_printed_policy_is_enough_for_a_complete_audit() {
    // moto enforces it for every request once auth is on: IAM (Query) and CloudTrail (JSON)
    // actions are checked against the principal's policy; sts:GetCallerIdentity is always allowed.
    // The principal is a real IAM user with a key dated `now`; moto marks that key used at the
    // wall clock on every request it signs, later than the scenario's `now`, so the auditor
    // itself has no finding (and no rule may misread a last use after `now`).
    let (moto, audit) = complete_least_privilege_audit(audit_policy_without(None));
    assert_eq!(
        audit.doc["summary"]["users_evaluated"], 4,
        "root, two users and the auditor"
    );
    assert!(
        audit.doc["data_source"]["location"]
            .as_str()
            .unwrap()
            .ends_with(":user/auditor"),
        "{}",
        audit.context()
    );
    // The admin credentials are not an IAM user: with auth on, moto refuses them, so the run
    // above really was judged against the printed policy.
    let refused = moto.audit(&[]);
    assert_eq!(refused.code(), Some(2), "{}", refused.context());
    assert!(
        refused.stderr.contains("InvalidClientTokenId"),
        "{}",
        refused.context()
    );
}

// One-sided (moto): moto's authorization refusing one action, end to end.
#[test]
fn without_get_account_authorization_details_tags_are_read_user_by_user() {
    // A role that may not call GetAccountAuthorizationDetails (it reads every policy of the
    // account; some teams refuse it): the audit is still complete, each failing user's tags
    // read with ListUserTags, and stderr says why.
    let (_, audit) = complete_least_privilege_audit(audit_policy_without(Some(
        "iam:GetAccountAuthorizationDetails",
    )));
    // One ListUserTags per user re-read (the two failing users, and any the report leaves
    // undecided, such as the auditor, whose key moto marks used after the report).
    assert!(
        audit.requests("iam:ListUserTags") >= 2,
        "{:?}",
        audit.stats()
    );
    assert!(
        audit
            .stderr
            .contains("iam:GetAccountAuthorizationDetails failed: AccessDenied"),
        "{}",
        audit.context()
    );
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn without_get_account_password_policy_pwd003_is_unknown() {
    let moto = Moto::start(&least_privilege_scenario(audit_policy_without(Some(
        "iam:GetAccountPasswordPolicy",
    ))));
    let audit = moto.audit_as(&moto.principal(), &[]);
    let key = moto.key_id("stale", 0);
    let mut expected = least_privilege_rows("fail", Some(&key));
    expected.push(row("PWD003", "unknown", "-", "account", None));
    audit.assert_exactly(2, expected);
    let pwd003 = audit.finding("PWD003", "-", "account");
    let message = pwd003["message"].as_str().unwrap();
    assert!(
        message.contains("AccessDenied") && message.contains("iam:GetAccountPasswordPolicy"),
        "{pwd003}"
    );
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn without_list_access_keys_key_findings_are_unknown() {
    audit_without_list_access_keys(audit_policy_without(Some("iam:ListAccessKeys")));
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn exemptions_from_tags_and_from_key_ids_apply_in_a_live_audit() {
    let moto = Moto::start(&clean_account(json!([
        // A 400-day-old key in daily use: KEY002 only, exempted by a tag until 2099.
        {"name": "vendor", "created": "-400d",
         "tags": {"keywarden:exempt:KEY002": "2099-01-01 vendor key"},
         "access_keys": [{"created": "-400d", "last_used": "-1d"}]},
        // The same with an exemption that ran out: the finding stands and says why.
        {"name": "lapsed", "created": "-400d",
         "tags": {"keywarden:exempt:KEY002": "2020-01-01 old contract"},
         "access_keys": [{"created": "-400d", "last_used": "-1d"}]},
        // Key 1 is exempted by its id in the config file (KEY001 and KEY002); key 2, inactive and
        // stale (KEY004), is not: an exemption by key id covers that key only.
        {"name": "breakglass", "created": "-600d", "access_keys": [
            {"created": "-500d"},
            {"status": "Inactive", "created": "-300d"}]}
    ])));
    let exempted_key = moto.key_id("breakglass", 0);
    let config = support::scratch_file(
        "exemptions.toml",
        &format!(
            "[[exemption]]\naccess_key_id = \"{exempted_key}\"\nreason = \"break-glass key kept in the safe\"\n"
        ),
    );
    let audit = moto.audit(&["--config", config.to_str().unwrap()]);
    let vendor = moto.key_id("vendor", 0);
    let lapsed = moto.key_id("lapsed", 0);
    let other_key = moto.key_id("breakglass", 1);
    audit.assert_exactly(
        1,
        vec![
            row(
                "KEY002",
                "exempted",
                "vendor",
                "access_key_1",
                Some(&vendor),
            ),
            row("KEY002", "fail", "lapsed", "access_key_1", Some(&lapsed)),
            row(
                "KEY001",
                "exempted",
                "breakglass",
                "access_key_1",
                Some(&exempted_key),
            ),
            row(
                "KEY002",
                "exempted",
                "breakglass",
                "access_key_1",
                Some(&exempted_key),
            ),
            row(
                "KEY004",
                "fail",
                "breakglass",
                "access_key_2",
                Some(&other_key),
            ),
        ],
    );
    assert_eq!(
        audit.finding("KEY002", "vendor", "access_key_1")["exemption"],
        json!({"reason": "vendor key", "source": "tag:keywarden:exempt:KEY002",
               "expires": "2099-01-01T23:59:59Z"})
    );
    let lapsed = audit.finding("KEY002", "lapsed", "access_key_1");
    assert!(
        lapsed["ignored_exemption"]["reason"]
            .as_str()
            .unwrap()
            .starts_with("expired: "),
        "{lapsed}"
    );
    let by_id = audit.finding("KEY001", "breakglass", "access_key_1");
    assert_eq!(by_id["exemption"]["source"], "config:exemption[0]");
    assert_eq!(
        by_id["exemption"]["reason"],
        "break-glass key kept in the safe"
    );
    assert_eq!(audit.doc["summary"]["exempted"], 3);
}

// --- data that cannot be true, and labels that must follow the decision --------------------

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn a_report_served_again_after_a_regeneration_request_is_not_labelled_young() {
    // AWS generates at most one credential report every 4 hours. The report here is 3 hours
    // old and --max-report-age is 1 hour: keywarden asks for a new one and AWS serves the same
    // one again. The JSON used to say "reused: younger than --max-report-age" while stderr said
    // the report was older; the label must say what happened.
    let mut scenario = clean_account(json!([stale_user()]));
    scenario["credential_report"]["generated"] = json!("-3h");
    let moto = Moto::start(&scenario);
    // The first run finds no report (ReportNotPresent): it is generated for that run.
    let first = moto.audit(&["--max-report-age", "1h"]);
    let basis = |audit: &support::Audit| {
        audit.doc["data_source"]["as_of_basis"]
            .as_str()
            .unwrap_or_else(|| panic!("no as_of_basis\n{}", audit.context()))
            .to_owned()
    };
    assert!(
        basis(&first).contains("generated for this run"),
        "{}",
        first.context()
    );

    // The second run finds that report, 3 h old, asks for a new one and gets it again.
    let second = moto.audit(&["--max-report-age", "1h"]);
    assert!(
        second.requests("iam:GenerateCredentialReport") >= 1,
        "{:?}",
        second.stats()
    );
    assert_eq!(second.doc["data_as_of"], "2025-06-01T09:00:00Z");
    let label = basis(&second);
    assert!(
        label.contains("older than --max-report-age") && !label.contains("younger"),
        "{}",
        second.context()
    );
    assert!(
        second
            .stderr
            .contains("3 h old, older than --max-report-age"),
        "{}",
        second.context()
    );

    // Within --max-report-age the same report is reused, and said to be.
    let third = moto.audit(&["--max-report-age", "4h"]);
    assert_eq!(third.requests("iam:GenerateCredentialReport"), 0);
    assert!(basis(&third).contains("reused: younger than --max-report-age"));
    assert!(!third.stderr.contains("older than"), "{}", third.context());
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn an_aws_error_without_a_code_says_its_status_and_body() {
    // A proxy or a misrouted endpoint answers ListAccessKeys with a 404 that carries no AWS
    // error code. The findings that needed the call are unknown, and their reason says what
    // came back instead of `UnknownServiceError ()`.
    let scenario = with(
        clean_account(json!([stale_user()])),
        json!({"faults": [{"action": "ListAccessKeys", "status": 404, "code": "", "times": 5}]}),
    );
    let moto = Moto::start(&scenario);
    let audit = moto.audit(&[]);
    audit.assert_exactly(
        2,
        vec![
            row("KEY001", "unknown", "stale", "access_key_1", None),
            row("KEY002", "unknown", "stale", "access_key_1", None),
        ],
    );
    let finding = audit.finding("KEY001", "stale", "access_key_1");
    assert_eq!(
        finding["evidence"]["aws_error_code"], "HTTP 404 with no error code",
        "{finding}"
    );
    let message = finding["message"].as_str().unwrap();
    assert!(
        message.contains("iam:ListAccessKeys failed: HTTP 404 with no error code (the response body starts `<ErrorResponse>"),
        "{finding}"
    );
    assert!(
        !audit.stdout.contains("UnknownServiceError"),
        "{}",
        audit.context()
    );
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn a_last_use_after_the_report_was_generated_is_not_trusted() {
    // The report (generated 2 h before now) says the stale key was used 1 h ago: it cannot
    // know that. Read from the report alone, the key is unknown rather than fresh; with the
    // per-user reads (the default), GetAccessKeyLastUsed gives the real last use, 100 days ago.
    let mut scenario = clean_account(json!([stale_user()]));
    scenario["credential_report"]["overrides"] =
        json!({"stale": {"access_key_1_last_used_date": "-1h"}});
    let moto = Moto::start(&scenario);
    let key = moto.key_id("stale", 0);

    let report_only = moto.audit(&["--no-enrich"]);
    report_only.assert_exactly(
        2,
        vec![
            row("KEY001", "unknown", "stale", "access_key_1", None),
            row("KEY002", "fail", "stale", "access_key_1", None),
        ],
    );
    let finding = report_only.finding("KEY001", "stale", "access_key_1");
    assert_eq!(finding["evidence"]["data_time"], REPORT_TIME, "{finding}");
    assert_eq!(
        finding["evidence"]["column"], "access_key_1_last_used_date",
        "{finding}"
    );

    let enriched = moto.audit(&[]);
    enriched.assert_exactly(
        1,
        vec![
            row("KEY001", "fail", "stale", "access_key_1", Some(&key)),
            row("KEY002", "fail", "stale", "access_key_1", Some(&key)),
        ],
    );
    assert_eq!(
        enriched.finding("KEY001", "stale", "access_key_1")["evidence"]["last_used"],
        ago(100)
    );
}

/// The policy of the audit role the StackSet template of `keywarden permissions --org
/// --template-out` creates in every member account, without `action`. The launcher's principal
/// is an IAM user, so the role's policy document is given to that user as is: what moto
/// authorizes is the document, whoever holds it (assuming the role is `audit --org`'s part).
fn stackset_role_policy_without(action: Option<&str>) -> Value {
    let dir = support::scratch_dir().join(format!(
        "stackset-{}-{}",
        action.unwrap_or("all").replace(':', "-"),
        std::process::id()
    ));
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(["permissions", "--org", "--template-out"])
        .arg(&dir)
        .output()
        .expect("run keywarden permissions --org");
    assert_eq!(out.status.code(), Some(0));
    let template: Value =
        serde_json::from_slice(&std::fs::read(dir.join("keywarden-audit-role.json")).unwrap())
            .expect("the template is JSON");
    let policy =
        &template["Resources"]["KeywardenAuditRole"]["Properties"]["Policies"][0]["PolicyDocument"];
    policy_without(policy.clone(), action)
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn the_stackset_audit_role_s_policy_is_enough_for_a_complete_audit() {
    complete_least_privilege_audit(stackset_role_policy_without(None));
}

// One-sided (moto): the binary end to end (exit code, printed JSON), which the fake cannot sit behind.
#[test]
fn the_stackset_audit_role_s_policy_without_one_action_leaves_the_audit_incomplete() {
    audit_without_list_access_keys(stackset_role_policy_without(Some("iam:ListAccessKeys")));
}
