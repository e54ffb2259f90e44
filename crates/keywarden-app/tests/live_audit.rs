//! The live audit end to end against the in-memory `FakeAccount`, with a fixed `now`: the
//! scenarios only the fake can express (each says why). Those moto can express too run from one
//! body against both in `crates/keywarden/tests/live_audit_both.rs`.
//!
//! Each test writes the credential report CSV by hand (the 22 columns of
//! `keywarden_core::report::COLUMNS`) and sets the fake account's live answers, which start as
//! the report's truth and are then changed to play "what happened since the report". The tests
//! prove the application layer's promises:
//!
//! - calls grow with findings, not with users: clean users cost no per-user call, and the
//!   account-level calls are a fixed set (exact counts via `FakeAccount::count`);
//! - key ids are matched by creation second (and status, when two keys share a second); keys
//!   deleted since the report drop their findings, keys created since are audited;
//! - fresh data wins over the report (last use, console password, MFA);
//! - a call that fails turns the findings that needed it into `unknown` with the AWS error code,
//!   never into a pass; a report that cannot be read fails the run;
//! - the report is reused when young enough, regenerated (with polling, within a bound) when not;
//! - `enrich: false` makes no per-user call; users created or deleted since the report are
//!   handled with notes; IAM tag exemptions read from ListUserTags apply.

mod support;

use chrono::Duration;
use keywarden_app::report_fetch::{FetchError, PollPolicy, ReportBasis};
use keywarden_app::{
    run_live_audit, LiveAudit, LiveAuditError, LiveAuditOptions, NoProgress, Progress,
};
use keywarden_aws::api::{
    AccessKeyMeta, AccountSummary, CredentialReportBlob, IamUser, KeyLastUsed, TaggedUser,
    TrailInfo,
};
use keywarden_aws::api::{AwsResult, IamRead, ReportGeneration, TrailRead};
use keywarden_aws::fake::FakeAccount;
use keywarden_core::config::{layer, RuleSelection, ThresholdOverrides};
use keywarden_core::model::{PasswordPolicy, Tag};
use keywarden_core::time::{format_timestamp, parse_timestamp};
use keywarden_core::{AuditConfig, Finding, Status, Timestamp};
use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use support::outcome::{evidence, finding, of};

const ACCOUNT: &str = "123456789012";

// --- time ------------------------------------------------------------------------------------

fn now() -> Timestamp {
    parse_timestamp("2025-06-01T12:00:00Z").unwrap()
}

fn days_ago(days: i64) -> Timestamp {
    now() - Duration::days(days)
}

// --- the credential report -------------------------------------------------------------------

/// One access key as the report shows it, with the id the live account knows it by.
#[derive(Debug, Clone)]
struct Key {
    id: &'static str,
    active: bool,
    created: Timestamp,
    last_used: Option<Timestamp>,
}

fn key(id: &'static str, active: bool, created: Timestamp, last_used: Option<Timestamp>) -> Key {
    Key {
        id,
        active,
        created,
        last_used,
    }
}

/// One user row of the report.
#[derive(Debug, Clone)]
struct Row {
    user: String,
    created: Timestamp,
    /// `(last used, last changed)` when the user has a console password.
    password: Option<(Option<Timestamp>, Timestamp)>,
    mfa: bool,
    keys: [Option<Key>; 2],
}

/// A user with no password and no key: nothing to find.
fn user(name: &str) -> Row {
    Row {
        user: name.to_owned(),
        created: parse_timestamp("2024-01-01T00:00:00Z").unwrap(),
        password: None,
        mfa: false,
        keys: [None, None],
    }
}

impl Row {
    fn key1(mut self, key: Key) -> Self {
        self.keys[0] = Some(key);
        self
    }

    fn key2(mut self, key: Key) -> Self {
        self.keys[1] = Some(key);
        self
    }

    fn password(mut self, last_used: Option<Timestamp>, changed: Timestamp) -> Self {
        self.password = Some((last_used, changed));
        self
    }

    fn mfa(mut self) -> Self {
        self.mfa = true;
        self
    }

    fn arn(&self) -> String {
        format!("arn:aws:iam::{ACCOUNT}:user/{}", self.user)
    }

    fn csv(&self) -> String {
        let date = |t: Option<Timestamp>| t.map_or("N/A".to_owned(), format_timestamp);
        let mut fields = vec![
            self.user.clone(),
            self.arn(),
            format_timestamp(self.created),
        ];
        match self.password {
            Some((used, changed)) => fields.extend([
                "true".into(),
                used.map_or("no_information".to_owned(), format_timestamp),
                format_timestamp(changed),
                "N/A".into(),
            ]),
            None => fields.extend(["false", "N/A", "N/A", "N/A"].map(String::from)),
        }
        fields.push(self.mfa.to_string());
        for key in &self.keys {
            match key {
                Some(k) => fields.extend([
                    k.active.to_string(),
                    format_timestamp(k.created),
                    date(k.last_used),
                    k.last_used.map_or("N/A", |_| "us-east-1").to_owned(),
                    k.last_used.map_or("N/A", |_| "s3").to_owned(),
                ]),
                None => fields.extend(["false", "N/A", "N/A", "N/A", "N/A"].map(String::from)),
            }
        }
        fields.extend(["false", "N/A", "false", "N/A"].map(String::from));
        assert_eq!(fields.len(), keywarden_core::report::COLUMNS.len());
        fields.join(",")
    }
}

const ROOT_ROW: &str = "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,\
    not_supported,2025-05-30T00:00:00+00:00,not_supported,not_supported,true,\
    false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";

/// The report CSV: header, the root row when asked, then `rows`.
fn report_csv(rows: &[Row], root: bool) -> Vec<u8> {
    let mut lines = vec![keywarden_core::report::COLUMNS.join(",")];
    if root {
        lines.push(ROOT_ROW.to_owned());
    }
    lines.extend(rows.iter().map(Row::csv));
    (lines.join("\n") + "\n").into_bytes()
}

// --- the fake account ------------------------------------------------------------------------

fn strong_policy() -> PasswordPolicy {
    PasswordPolicy {
        minimum_password_length: 14,
        require_uppercase_characters: true,
        require_lowercase_characters: true,
        require_numbers: true,
        require_symbols: true,
        password_reuse_prevention: Some(24),
        max_password_age: Some(90),
    }
}

const TRAIL_ARN: &str = "arn:aws:cloudtrail:us-east-1:123456789012:trail/org";

/// An account whose live answers agree with the report of `rows` (generated an hour ago, root row
/// included): same users, keys, last uses, passwords, MFA; a strong password policy, root with
/// MFA and no key, one good multi-region trail.
fn account(rows: &[Row]) -> FakeAccount {
    let mut fake = FakeAccount::default();
    fake.report = Some(CredentialReportBlob {
        content: report_csv(rows, true),
        generated_at: now() - Duration::hours(1),
    });
    for row in rows {
        fake.users.push(IamUser {
            name: row.user.clone(),
            arn: row.arn(),
            created: row.created,
            password_last_used: row.password.and_then(|(used, _)| used),
        });
        let keys = fake.keys.entry(row.user.clone()).or_default();
        for k in row.keys.iter().flatten() {
            keys.push(AccessKeyMeta {
                id: k.id.to_owned(),
                active: k.active,
                created: k.created,
            });
            if let Some(used) = k.last_used {
                fake.last_used.insert(k.id.to_owned(), used_on(used));
            }
        }
        if let Some((_, changed)) = row.password {
            fake.login_profiles.insert(row.user.clone(), changed);
        }
        if row.mfa {
            fake.mfa_devices.insert(row.user.clone(), 1);
        }
    }
    fake.summary = Some(AccountSummary {
        root_access_keys_present: 0,
        root_mfa_enabled: true,
    });
    fake.password_policy = Some(strong_policy());
    fake.trails = vec![(
        TrailInfo {
            name: "org".into(),
            arn: TRAIL_ARN.into(),
            home_region: "us-east-1".into(),
            is_multi_region: true,
        },
        true,
        true,
    )];
    fake
}

fn used_on(date: Timestamp) -> KeyLastUsed {
    KeyLastUsed {
        date: Some(date),
        service: Some("s3".into()),
        region: Some("us-east-1".into()),
        user: None,
    }
}

fn fail(fake: &mut FakeAccount, action: &'static str, code: &str) {
    fake.failures.insert(action, code.to_owned());
}

// --- running ---------------------------------------------------------------------------------

fn fast_poll() -> PollPolicy {
    PollPolicy {
        first_delay: std::time::Duration::from_millis(1),
        max_delay: std::time::Duration::from_millis(4),
        bound: std::time::Duration::from_secs(10),
    }
}

fn options() -> LiveAuditOptions {
    LiveAuditOptions {
        poll: fast_poll(),
        ..LiveAuditOptions::default()
    }
}

async fn run_with(
    fake: FakeAccount,
    config: &AuditConfig,
    options: &LiveAuditOptions,
) -> (Arc<FakeAccount>, Result<LiveAudit, LiveAuditError>) {
    let fake = Arc::new(fake);
    let result = run_live_audit(Arc::clone(&fake), config, now(), options, &NoProgress).await;
    (fake, result)
}

/// Runs with the default configuration and options; the run must succeed.
async fn run(fake: FakeAccount) -> (Arc<FakeAccount>, LiveAudit) {
    let (fake, result) = run_with(fake, &AuditConfig::default(), &options()).await;
    (fake, result.expect("the live audit succeeds"))
}

// --- reading the outcome ---------------------------------------------------------------------

/// The finding is `unknown` and says which call failed with which code.
fn assert_unknown_because(finding: &Finding, action: &str, code: &str) {
    assert_eq!(finding.status, Status::Unknown, "{finding:#?}");
    let failed = format!("{action} failed: {code}");
    assert!(finding.message.contains(&failed), "{}", finding.message);
    let reason = evidence(finding, "unknown_reason");
    assert!(reason.contains(&failed), "{finding:#?}");
}

/// Every call made, except the account-level ones.
fn per_user_calls(fake: &FakeAccount) -> Vec<String> {
    let mut calls: Vec<String> = fake
        .calls()
        .into_iter()
        .filter(|c| c.contains('('))
        .filter(|c| !c.starts_with("cloudtrail:"))
        .collect();
    calls.sort();
    calls
}

fn sorted(calls: &[&str]) -> Vec<String> {
    let mut calls: Vec<String> = calls.iter().map(|c| (*c).to_owned()).collect();
    calls.sort();
    calls
}

const PER_USER_ACTIONS: [&str; 5] = [
    "iam:ListAccessKeys",
    "iam:GetAccessKeyLastUsed",
    "iam:GetLoginProfile",
    "iam:ListMFADevices",
    "iam:ListUserTags",
];

// --- calls grow with findings ----------------------------------------------------------------

/// `clean` users who pass every rule, then three failing users.
fn crowd(clean: usize) -> Vec<Row> {
    let mut rows: Vec<Row> = (0..clean)
        .map(|i| {
            let name = format!("clean-{i:03}");
            if i % 2 == 0 {
                let id: &'static str = Box::leak(format!("AKIACLEAN{i:03}").into_boxed_str());
                user(&name).key1(key(id, true, days_ago(30), Some(days_ago(1))))
            } else {
                user(&name).password(Some(days_ago(1)), days_ago(20)).mfa()
            }
        })
        .collect();
    rows.extend([
        // KEY001 (unused 100 days) and KEY002 (150 days old).
        user("f-stale-key").key1(key("AKIASTALE", true, days_ago(150), Some(days_ago(100)))),
        // PWD002.
        user("f-no-mfa").password(Some(days_ago(1)), days_ago(100)),
        // PWD001.
        user("f-old-password")
            .password(Some(days_ago(200)), days_ago(300))
            .mfa(),
    ]);
    rows
}

// One-sided (fake): exact call counts: only the fake records every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn per_user_calls_are_made_only_for_failing_users() {
    let (fake, audit) = run(account(&crowd(200))).await;

    assert_eq!(
        per_user_calls(&fake),
        sorted(&[
            "iam:ListAccessKeys(f-stale-key)",
            "iam:GetAccessKeyLastUsed(AKIASTALE)",
            "iam:GetLoginProfile(f-no-mfa)",
            "iam:ListMFADevices(f-no-mfa)",
            "iam:GetLoginProfile(f-old-password)",
        ])
    );
    assert_eq!(fake.count("iam:ListAccessKeys"), 1);
    assert_eq!(fake.count("iam:GetAccessKeyLastUsed"), 1);
    assert_eq!(fake.count("iam:GetLoginProfile"), 2);
    assert_eq!(fake.count("iam:ListMFADevices"), 1);
    // Every user's tags from one read, not one ListUserTags per failing user.
    assert_eq!(fake.count("iam:ListUserTags"), 0);
    // Account level: a fixed set, once each (one trail).
    for action in [
        "iam:GetCredentialReport",
        "iam:GetAccountAuthorizationDetails",
        "iam:ListUsers",
        "iam:GetAccountPasswordPolicy",
        "iam:GetAccountSummary",
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
    ] {
        assert_eq!(fake.count(action), 1, "{action}");
    }
    assert_eq!(fake.count("iam:GenerateCredentialReport"), 0);
    assert_eq!(fake.calls().len(), 8 + 5);

    assert_eq!(audit.users_enriched, 3);
    assert_eq!(audit.outcome.users_evaluated, 200 + 3 + 1);
    assert!(audit.notes.is_empty(), "{:?}", audit.notes);
    let user_findings: Vec<_> = audit
        .outcome
        .findings
        .iter()
        .map(|f| (f.rule.code, f.status, f.user.as_deref().unwrap_or("-")))
        .collect();
    let mut user_findings = user_findings;
    user_findings.sort();
    assert_eq!(
        user_findings,
        [
            ("KEY001", Status::Fail, "f-stale-key"),
            ("KEY002", Status::Fail, "f-stale-key"),
            ("PWD001", Status::Fail, "f-old-password"),
            ("PWD002", Status::Fail, "f-no-mfa"),
        ]
    );
}

// One-sided (fake): exact call counts: only the fake records every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_calls_for_two_clean_users_as_for_two_hundred() {
    let (few, _) = run(account(&crowd(2))).await;
    let (many, _) = run(account(&crowd(200))).await;
    let sorted_calls = |fake: &FakeAccount| {
        let mut calls = fake.calls();
        calls.sort();
        calls
    };
    assert_eq!(sorted_calls(&few), sorted_calls(&many));
}

// One-sided (fake): exact call counts: only the fake records every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn account_level_calls_are_made_only_for_the_rules_that_run() {
    let config = layer(
        None,
        None,
        &ThresholdOverrides::default(),
        &RuleSelection {
            select: vec!["KEY002".into()],
            ignore: Vec::new(),
        },
    )
    .unwrap();
    let (fake, result) = run_with(account(&crowd(4)), &config, &options()).await;
    let audit = result.unwrap();
    for action in [
        "iam:GetAccountPasswordPolicy",
        "iam:GetAccountSummary",
        "cloudtrail:DescribeTrails",
    ] {
        assert_eq!(fake.count(action), 0, "{action}");
    }
    // Only the user KEY002 fails for is re-read, and only for its keys (its tags came with
    // every user's, from GetAccountAuthorizationDetails).
    assert_eq!(
        per_user_calls(&fake),
        sorted(&["iam:ListAccessKeys(f-stale-key)"])
    );
    assert_eq!(
        of(&audit, "f-stale-key"),
        [("KEY002", Status::Fail, "access_key_1", Some("AKIASTALE"))]
    );
}

// --- key ids ---------------------------------------------------------------------------------

// One-sided (fake): sub-second creation dates and list order: only the fake sets them (moto's variant is in live_moto.rs).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_keys_created_in_the_same_second_get_the_right_ids() {
    let second = parse_timestamp("2025-01-02T03:04:05Z").unwrap();
    let rows = [user("twins")
        .key1(key("AKIATWIN1ACTIVE", true, second, Some(days_ago(2))))
        .key2(key("AKIATWIN0INACTIVE", false, second, None))];
    let mut fake = account(&rows);
    // The live answer has sub-second dates, and lists the inactive key first (earlier and with
    // the smaller id), so only the status tells the two apart.
    fake.keys.insert(
        "twins".into(),
        vec![
            AccessKeyMeta {
                id: "AKIATWIN0INACTIVE".into(),
                active: false,
                created: second + Duration::milliseconds(200),
            },
            AccessKeyMeta {
                id: "AKIATWIN1ACTIVE".into(),
                active: true,
                created: second + Duration::milliseconds(700),
            },
        ],
    );
    let (_, audit) = run(fake).await;
    assert_eq!(
        of(&audit, "twins"),
        [
            (
                "KEY002",
                Status::Fail,
                "access_key_1",
                Some("AKIATWIN1ACTIVE")
            ),
            (
                "KEY004",
                Status::Fail,
                "access_key_2",
                Some("AKIATWIN0INACTIVE")
            ),
        ]
    );
}

// --- fresh data wins -------------------------------------------------------------------------

// --- failures become unknown -----------------------------------------------------------------

// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn last_use_access_denied_makes_key001_unknown_and_leaves_key002() {
    let rows = [user("stale").key1(key("AKIASTALE", true, days_ago(150), Some(days_ago(100))))];
    let mut fake = account(&rows);
    fail(&mut fake, "iam:GetAccessKeyLastUsed", "AccessDenied");
    let (_, audit) = run(fake).await;
    assert_eq!(
        of(&audit, "stale"),
        [
            ("KEY001", Status::Unknown, "access_key_1", Some("AKIASTALE")),
            ("KEY002", Status::Fail, "access_key_1", Some("AKIASTALE")),
        ]
    );
    let key001 = finding(&audit, Some("stale"), "KEY001");
    assert_unknown_because(key001, "iam:GetAccessKeyLastUsed", "AccessDenied");
    assert_eq!(evidence(key001, "aws_error_code"), "AccessDenied");
}

// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_access_denied_makes_every_failing_finding_of_the_user_unknown() {
    let rows = [
        user("stale").key1(key("AKIASTALE", true, days_ago(150), Some(days_ago(100)))),
        user("no-mfa").password(Some(days_ago(1)), days_ago(10)),
    ];
    let mut fake = account(&rows);
    // Tags are read user by user only when the account-wide read is refused.
    fail(
        &mut fake,
        "iam:GetAccountAuthorizationDetails",
        "AccessDenied",
    );
    fail(&mut fake, "iam:ListUserTags", "AccessDenied");
    // A weak policy, so an account-level finding fails too and must stay `fail`.
    fake.password_policy = None;
    let (_, audit) = run(fake).await;
    assert_eq!(
        of(&audit, "stale"),
        [
            ("KEY001", Status::Unknown, "access_key_1", Some("AKIASTALE")),
            ("KEY002", Status::Unknown, "access_key_1", Some("AKIASTALE")),
        ]
    );
    assert_eq!(
        of(&audit, "no-mfa"),
        [("PWD002", Status::Unknown, "mfa", None)]
    );
    for (user, code) in [
        ("stale", "KEY001"),
        ("stale", "KEY002"),
        ("no-mfa", "PWD002"),
    ] {
        assert_unknown_because(
            finding(&audit, Some(user), code),
            "iam:ListUserTags",
            "AccessDenied",
        );
    }
    assert_eq!(finding(&audit, None, "PWD003").status, Status::Fail);
}

// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_access_keys_access_denied_makes_key_findings_unknown() {
    let rows = [user("stale")
        .key1(key("AKIASTALE", true, days_ago(150), Some(days_ago(100))))
        .password(Some(days_ago(1)), days_ago(10))];
    let mut fake = account(&rows);
    fail(&mut fake, "iam:ListAccessKeys", "AccessDenied");
    let (_, audit) = run(fake).await;
    assert_eq!(
        of(&audit, "stale"),
        [
            ("KEY001", Status::Unknown, "access_key_1", None),
            ("KEY002", Status::Unknown, "access_key_1", None),
            ("PWD002", Status::Fail, "mfa", None),
        ]
    );
    assert_unknown_because(
        finding(&audit, Some("stale"), "KEY002"),
        "iam:ListAccessKeys",
        "AccessDenied",
    );
}

// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_profile_and_mfa_failures_make_password_findings_unknown() {
    let rows = [
        user("old-password")
            .password(Some(days_ago(200)), days_ago(300))
            .mfa(),
        user("no-mfa").password(Some(days_ago(1)), days_ago(10)),
    ];
    let mut fake = account(&rows);
    fail(&mut fake, "iam:GetLoginProfile", "AccessDenied");
    let (_, audit) = run(fake).await;
    assert_unknown_because(
        finding(&audit, Some("old-password"), "PWD001"),
        "iam:GetLoginProfile",
        "AccessDenied",
    );
    assert_unknown_because(
        finding(&audit, Some("no-mfa"), "PWD002"),
        "iam:GetLoginProfile",
        "AccessDenied",
    );

    let mut fake = account(&rows[1..]);
    fail(&mut fake, "iam:ListMFADevices", "Throttling");
    let (_, audit) = run(fake).await;
    assert_unknown_because(
        finding(&audit, Some("no-mfa"), "PWD002"),
        "iam:ListMFADevices",
        "Throttling",
    );
}

// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn password_policy_access_denied_makes_pwd003_unknown() {
    let mut fake = account(&[user("quiet")]);
    fail(&mut fake, "iam:GetAccountPasswordPolicy", "AccessDenied");
    let (_, audit) = run(fake).await;
    let pwd003 = finding(&audit, None, "PWD003");
    assert_eq!(pwd003.status, Status::Unknown);
    assert!(
        pwd003
            .message
            .contains("iam:GetAccountPasswordPolicy failed: AccessDenied"),
        "{}",
        pwd003.message
    );
}

// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trail_access_denied_makes_trail001_unknown() {
    for action in [
        "cloudtrail:DescribeTrails",
        "cloudtrail:GetTrailStatus",
        "cloudtrail:GetEventSelectors",
    ] {
        let mut fake = account(&[user("quiet")]);
        fail(&mut fake, action, "AccessDenied");
        let (_, audit) = run(fake).await;
        let trail001 = finding(&audit, None, "TRAIL001");
        assert_eq!(trail001.status, Status::Unknown, "{action}");
        assert!(
            trail001
                .message
                .contains(&format!("{action} failed: AccessDenied")),
            "{action}: {}",
            trail001.message
        );
    }
}

// One-sided (fake): a report without its root row and no account summary: only the fake serves them.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_summary_and_no_root_row_make_root_rules_unknown() {
    let rows = [user("quiet")];
    let mut fake = account(&rows);
    fake.report.as_mut().unwrap().content = report_csv(&rows, false);
    fail(&mut fake, "iam:GetAccountSummary", "AccessDenied");
    let (_, audit) = run(fake).await;
    for code in ["ROOT001", "ROOT002"] {
        let root = finding(&audit, Some("<root_account>"), code);
        assert_eq!(root.status, Status::Unknown, "{code}");
        assert!(
            root.message
                .contains("iam:GetAccountSummary failed: AccessDenied"),
            "{code}: {}",
            root.message
        );
    }
}

// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_summary_falls_back_to_the_root_row() {
    let mut fake = account(&[user("quiet")]);
    fail(&mut fake, "iam:GetAccountSummary", "AccessDenied");
    let (_, audit) = run(fake).await;
    // The root row says MFA and no key: nothing to report, nothing unknown.
    assert!(
        audit
            .outcome
            .findings
            .iter()
            .all(|f| f.user.as_deref() != Some("<root_account>")),
        "{:#?}",
        audit.outcome.findings
    );
}

// One-sided (fake): a summary that disagrees with the report's root row: only the fake serves both apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_summary_overrides_a_stale_root_row() {
    let mut fake = account(&[user("quiet")]);
    // Root added a key and lost MFA since the report.
    fake.summary = Some(AccountSummary {
        root_access_keys_present: 1,
        root_mfa_enabled: false,
    });
    let (_, audit) = run(fake).await;
    assert_eq!(
        finding(&audit, Some("<root_account>"), "ROOT001").status,
        Status::Fail
    );
    assert_eq!(
        finding(&audit, Some("<root_account>"), "ROOT002").status,
        Status::Fail
    );
}

// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn report_access_denied_fails_the_run() {
    let mut fake = account(&crowd(3));
    fail(&mut fake, "iam:GetCredentialReport", "AccessDenied");
    let (_, result) = run_with(fake, &AuditConfig::default(), &options()).await;
    match result {
        Err(LiveAuditError::Report(FetchError::Aws(e))) => {
            assert_eq!(e.code, "AccessDenied");
            assert_eq!(e.action, "iam:GetCredentialReport");
        }
        other => panic!("expected the report error, got {other:?}"),
    }
}

// One-sided (fake): a report body that is not CSV: only the fake serves it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreadable_report_fails_the_run() {
    let mut fake = account(&[user("quiet")]);
    let mut content = report_csv(&[user("quiet")], true);
    content.extend_from_slice(b"broken,row\n");
    fake.report.as_mut().unwrap().content = content;
    let (_, result) = run_with(fake, &AuditConfig::default(), &options()).await;
    assert!(
        matches!(result, Err(LiveAuditError::Parse(_))),
        "{result:?}"
    );
}

// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_users_failing_keeps_the_report_users_with_a_note() {
    let mut fake = account(&crowd(2));
    fail(&mut fake, "iam:ListUsers", "AccessDenied");
    let (_, audit) = run(fake).await;
    assert_eq!(audit.outcome.users_evaluated, 2 + 3 + 1);
    assert_eq!(audit.users_enriched, 3);
    assert!(
        audit
            .notes
            .iter()
            .any(|n| n.contains("iam:ListUsers failed: AccessDenied")),
        "{:?}",
        audit.notes
    );
}

// --- the report ------------------------------------------------------------------------------

// One-sided (fake): report generation timing and exact calls: only the fake records every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_report_is_reused() {
    let fake = account(&crowd(2));
    let generated = fake.report.as_ref().unwrap().generated_at;
    let (fake, audit) = run(fake).await;
    assert_eq!(fake.count("iam:GenerateCredentialReport"), 0);
    assert_eq!(fake.count("iam:GetCredentialReport"), 1);
    assert_eq!(audit.report_basis, ReportBasis::Reused);
    assert_eq!(audit.report_generated_at, generated);
}

// One-sided (fake): report generation timing and exact calls: only the fake records every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_exactly_max_age_old_is_still_reused() {
    let mut fake = account(&crowd(2));
    fake.report.as_mut().unwrap().generated_at = now() - Duration::hours(4);
    let (fake, audit) = run(fake).await;
    assert_eq!(fake.count("iam:GenerateCredentialReport"), 0);
    assert_eq!(audit.report_basis, ReportBasis::Reused);
}

// One-sided (fake): report generation timing and exact calls: only the fake records every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_old_report_is_regenerated() {
    let mut fake = account(&crowd(2));
    fake.report.as_mut().unwrap().generated_at = now() - Duration::hours(5);
    let (fake, audit) = run(fake).await;
    assert_eq!(fake.count("iam:GenerateCredentialReport"), 1);
    assert_eq!(fake.count("iam:GetCredentialReport"), 2);
    // The fake serves the same report again (as AWS does within 4 hours of the last one), so
    // the run must not claim a report generated for it, and must say the data is old.
    assert_eq!(audit.report_basis, ReportBasis::ServedAgain);
    assert!(
        audit
            .notes
            .iter()
            .any(|n| n.contains("older than --max-report-age")),
        "{:?}",
        audit.notes
    );
    assert_eq!(
        of(&audit, "f-no-mfa"),
        [("PWD002", Status::Fail, "mfa", None)]
    );
}

// One-sided (fake): the number of in-progress polls counted exactly: the fake's counter.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generation_is_polled_until_complete() {
    let mut fake = account(&crowd(2));
    fake.report.as_mut().unwrap().generated_at = now() - Duration::days(2);
    *fake.generation_polls.lock().unwrap() = 3;
    let (fake, audit) = run(fake).await;
    // The first read answers ReportInProgress (generation under way), then three INPROGRESS
    // answers, then COMPLETE.
    assert_eq!(fake.count("iam:GenerateCredentialReport"), 4);
    assert_eq!(fake.count("iam:GetCredentialReport"), 2);
    assert_eq!(audit.report_basis, ReportBasis::Generated);
    assert_eq!(audit.outcome.users_evaluated, 2 + 3 + 1);
}

// One-sided (fake): a generation that never completes within a millisecond bound: the fake's timing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bound_too_short_gives_up_with_not_ready() {
    let mut fake = account(&crowd(2));
    fake.report.as_mut().unwrap().generated_at = now() - Duration::days(2);
    *fake.generation_polls.lock().unwrap() = 1_000_000;
    let options = LiveAuditOptions {
        poll: PollPolicy {
            first_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(2),
            bound: std::time::Duration::from_millis(30),
        },
        ..options()
    };
    let (fake, result) = run_with(fake, &AuditConfig::default(), &options).await;
    match result {
        Err(LiveAuditError::Report(FetchError::NotReady { last_answer, .. })) => {
            assert_eq!(last_answer, "InProgress");
        }
        other => panic!("expected NotReady, got {other:?}"),
    }
    assert!(fake.count("iam:GenerateCredentialReport") >= 2);
}

// One-sided (fake): a call failing with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generation_rate_limits_are_waited_out_within_the_bound() {
    let mut fake = account(&crowd(2));
    fake.report.as_mut().unwrap().generated_at = now() - Duration::days(2);
    fail(&mut fake, "iam:GenerateCredentialReport", "LimitExceeded");
    let options = LiveAuditOptions {
        poll: PollPolicy {
            first_delay: std::time::Duration::from_millis(1),
            max_delay: std::time::Duration::from_millis(2),
            bound: std::time::Duration::from_millis(20),
        },
        ..options()
    };
    let (fake, result) = run_with(fake, &AuditConfig::default(), &options).await;
    match result {
        Err(LiveAuditError::Report(FetchError::NotReady { last_answer, .. })) => {
            assert_eq!(last_answer, "LimitExceeded");
        }
        other => panic!("expected NotReady, got {other:?}"),
    }
    assert!(fake.count("iam:GenerateCredentialReport") >= 2);
}

// --- no enrichment ---------------------------------------------------------------------------

// One-sided (fake): exact call counts: only the fake records every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_enrichment_no_per_user_call_is_made() {
    let options = LiveAuditOptions {
        enrich: false,
        ..options()
    };
    let (fake, result) = run_with(account(&crowd(20)), &AuditConfig::default(), &options).await;
    let audit = result.unwrap();
    for action in PER_USER_ACTIONS.iter().chain(&["iam:ListUsers"]) {
        assert_eq!(fake.count(action), 0, "{action}");
    }
    assert_eq!(audit.users_enriched, 0);
    assert_eq!(
        of(&audit, "f-stale-key"),
        [
            ("KEY001", Status::Fail, "access_key_1", None),
            ("KEY002", Status::Fail, "access_key_1", None),
        ]
    );
}

// --- users created or deleted since the report -----------------------------------------------

// One-sided (fake): a report listing users that ListUsers does not: only the fake serves both apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_created_since_are_read_and_users_deleted_since_are_left_out() {
    let departed = user("departed").key1(key(
        "AKIADEPARTED",
        true,
        days_ago(150),
        Some(days_ago(100)),
    ));
    let mut fake = account(&[user("quiet"), departed]);
    fake.users.retain(|u| u.name != "departed");
    fake.keys.remove("departed");
    // A console user created two days ago, with a key made at setup and never used, no MFA.
    let created = days_ago(2);
    fake.users.push(IamUser {
        name: "newbie".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/newbie"),
        created,
        password_last_used: None,
    });
    fake.login_profiles.insert("newbie".into(), created);
    fake.keys.insert(
        "newbie".into(),
        vec![AccessKeyMeta {
            id: "AKIANEWBIE".into(),
            active: true,
            created: created + Duration::minutes(1),
        }],
    );
    let (fake, audit) = run(fake).await;

    assert_eq!(of(&audit, "departed"), []);
    assert_eq!(
        of(&audit, "newbie"),
        [
            ("KEY005", Status::Fail, "access_key_1", Some("AKIANEWBIE")),
            ("PWD002", Status::Fail, "mfa", None),
        ]
    );
    assert_eq!(audit.users_enriched, 1);
    assert_eq!(audit.outcome.users_evaluated, 3, "root, quiet, newbie");
    assert_eq!(
        per_user_calls(&fake),
        sorted(&[
            "iam:ListAccessKeys(newbie)",
            "iam:GetAccessKeyLastUsed(AKIANEWBIE)",
            "iam:GetLoginProfile(newbie)",
            "iam:ListMFADevices(newbie)",
        ])
    );
    assert!(
        audit
            .notes
            .iter()
            .any(|n| n.starts_with("1 user(s) in the credential report no longer exist")),
        "{:?}",
        audit.notes
    );
    assert!(
        audit
            .notes
            .iter()
            .any(|n| n.starts_with("1 user(s) created since the credential report")),
        "{:?}",
        audit.notes
    );
}

// One-sided (fake): a user ListUsers returns and the report lacks: only the fake serves both apart.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_without_a_password_or_keys_passes() {
    let mut fake = account(&[user("quiet")]);
    fake.users.push(IamUser {
        name: "robot".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/robot"),
        created: days_ago(1),
        password_last_used: None,
    });
    let (_, audit) = run(fake).await;
    assert_eq!(of(&audit, "robot"), []);
    assert_eq!(audit.users_enriched, 1);
}

/// A user created since the report has nothing but per-user calls: when ListAccessKeys is
/// denied, nothing at all is known about the user's keys, so the key rules must say `unknown`.
// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_whose_keys_cannot_be_listed_is_not_a_pass() {
    let mut fake = account(&[user("quiet")]);
    fake.users.push(IamUser {
        name: "newbie".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/newbie"),
        created: days_ago(200),
        password_last_used: None,
    });
    // The user has an old, active, never-used key: KEY001 and KEY002 would fail.
    fake.keys.insert(
        "newbie".into(),
        vec![AccessKeyMeta {
            id: "AKIANEWBIE".into(),
            active: true,
            created: days_ago(199),
        }],
    );
    fail(&mut fake, "iam:ListAccessKeys", "AccessDenied");
    let (_, audit) = run(fake).await;
    let findings = of(&audit, "newbie");
    assert!(
        findings
            .iter()
            .any(|&(code, status, _, _)| code.starts_with("KEY") && status == Status::Unknown),
        "ListAccessKeys was denied for a user the report does not have, yet no key rule is \
         unknown: {findings:?}"
    );
    let unknown = audit
        .outcome
        .findings
        .iter()
        .find(|f| f.user.as_deref() == Some("newbie") && f.rule.code.starts_with("KEY"))
        .unwrap();
    assert_unknown_because(unknown, "iam:ListAccessKeys", "AccessDenied");
}

/// A new user's password and MFA come only from GetLoginProfile and ListMFADevices: when those
/// fail, the findings are `unknown` and must say it was the AWS call, not a report column.
// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_new_user_whose_login_profile_cannot_be_read_is_unknown_with_the_aws_code() {
    let mut fake = account(&[user("quiet")]);
    fake.users.push(IamUser {
        name: "newbie".into(),
        arn: format!("arn:aws:iam::{ACCOUNT}:user/newbie"),
        created: days_ago(200),
        password_last_used: Some(days_ago(100)),
    });
    fake.login_profiles.insert("newbie".into(), days_ago(200));
    fail(&mut fake, "iam:GetLoginProfile", "AccessDenied");
    let (_, audit) = run(fake).await;
    let pwd001 = finding(&audit, Some("newbie"), "PWD001");
    assert_unknown_because(pwd001, "iam:GetLoginProfile", "AccessDenied");
}

/// A key created since the report has no last-use column at all: when GetAccessKeyLastUsed
/// fails for it, the `unknown` must name the failed call, not a missing report column.
// One-sided (fake): a call failing every time with a given code: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_added_key_whose_last_use_cannot_be_read_is_unknown_with_the_aws_code() {
    let rows = [user("added").key1(key("AKIAADDOLD", true, days_ago(100), Some(days_ago(1))))];
    let mut fake = account(&rows);
    fake.keys.get_mut("added").unwrap().push(AccessKeyMeta {
        id: "AKIAADDNEW".into(),
        active: true,
        created: days_ago(60),
    });
    fail(&mut fake, "iam:GetAccessKeyLastUsed", "AccessDenied");
    let (_, audit) = run(fake).await;
    let unknown: Vec<&Finding> = audit
        .outcome
        .findings
        .iter()
        .filter(|f| f.access_key_id.as_deref() == Some("AKIAADDNEW"))
        .filter(|f| f.status == Status::Unknown)
        .collect();
    assert!(!unknown.is_empty(), "{:#?}", audit.outcome.findings);
    for finding in unknown {
        assert_unknown_because(finding, "iam:GetAccessKeyLastUsed", "AccessDenied");
    }
}

// --- exemptions ------------------------------------------------------------------------------

// --- progress --------------------------------------------------------------------------------

#[derive(Default)]
struct Counting {
    total: AtomicU64,
    advanced: AtomicU64,
    finished: AtomicU64,
}

impl Progress for Counting {
    fn start(&self, total: u64) {
        self.total.store(total, Ordering::SeqCst);
    }
    fn advance(&self) {
        self.advanced.fetch_add(1, Ordering::SeqCst);
    }
    fn finish(&self) {
        self.finished.fetch_add(1, Ordering::SeqCst);
    }
}

// One-sided (fake): a progress observer on the library call: the fake's report gives exact counts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn progress_counts_the_users_re_read() {
    let progress = Counting::default();
    let options = LiveAuditOptions {
        concurrency: 1,
        ..options()
    };
    let fake = Arc::new(account(&crowd(10)));
    let audit = run_live_audit(fake, &AuditConfig::default(), now(), &options, &progress)
        .await
        .unwrap();
    assert_eq!(audit.users_enriched, 3);
    assert_eq!(progress.total.load(Ordering::SeqCst), 3);
    assert_eq!(progress.advanced.load(Ordering::SeqCst), 3);
    assert_eq!(progress.finished.load(Ordering::SeqCst), 1);
}

// --- concurrency -----------------------------------------------------------------------------

/// The fake account, slowed down, measuring how many users have per-user calls in flight.
struct Gauge {
    inner: FakeAccount,
    in_flight: Mutex<HashMap<String, usize>>,
    max_users: AtomicUsize,
}

impl Gauge {
    async fn per_user<T>(&self, user: &str, call: impl Future<Output = T>) -> T {
        {
            let mut in_flight = self.in_flight.lock().unwrap();
            *in_flight.entry(user.to_owned()).or_default() += 1;
            self.max_users.fetch_max(in_flight.len(), Ordering::SeqCst);
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        let out = call.await;
        {
            let mut in_flight = self.in_flight.lock().unwrap();
            let count = in_flight.get_mut(user).unwrap();
            *count -= 1;
            if *count == 0 {
                in_flight.remove(user);
            }
        }
        out
    }

    fn owner(&self, key_id: &str) -> String {
        self.inner
            .keys
            .iter()
            .find(|(_, keys)| keys.iter().any(|k| k.id == key_id))
            .map(|(user, _)| user.clone())
            .unwrap_or_default()
    }
}

impl IamRead for Gauge {
    async fn generate_credential_report(&self) -> AwsResult<ReportGeneration> {
        self.inner.generate_credential_report().await
    }
    async fn get_credential_report(&self) -> AwsResult<CredentialReportBlob> {
        self.inner.get_credential_report().await
    }
    async fn list_users(&self) -> AwsResult<Vec<IamUser>> {
        self.inner.list_users().await
    }
    async fn list_user_tags(&self, user: &str) -> AwsResult<Vec<Tag>> {
        self.per_user(user, self.inner.list_user_tags(user)).await
    }
    async fn list_users_with_tags(&self) -> AwsResult<Vec<TaggedUser>> {
        self.inner.list_users_with_tags().await
    }
    async fn list_access_keys(&self, user: &str) -> AwsResult<Vec<AccessKeyMeta>> {
        self.per_user(user, self.inner.list_access_keys(user)).await
    }
    async fn get_access_key_last_used(&self, key_id: &str) -> AwsResult<KeyLastUsed> {
        let owner = self.owner(key_id);
        self.per_user(&owner, self.inner.get_access_key_last_used(key_id))
            .await
    }
    async fn get_login_profile(&self, user: &str) -> AwsResult<Option<Timestamp>> {
        self.per_user(user, self.inner.get_login_profile(user))
            .await
    }
    async fn list_mfa_devices(&self, user: &str) -> AwsResult<usize> {
        self.per_user(user, self.inner.list_mfa_devices(user)).await
    }
    async fn get_account_summary(&self) -> AwsResult<AccountSummary> {
        self.inner.get_account_summary().await
    }
    async fn get_account_password_policy(&self) -> AwsResult<Option<PasswordPolicy>> {
        self.inner.get_account_password_policy().await
    }
}

impl TrailRead for Gauge {
    async fn describe_trails(&self) -> AwsResult<Vec<TrailInfo>> {
        self.inner.describe_trails().await
    }
    async fn get_trail_status(&self, trail_arn: &str) -> AwsResult<bool> {
        self.inner.get_trail_status(trail_arn).await
    }
    async fn get_event_selectors(&self, trail_arn: &str) -> AwsResult<bool> {
        self.inner.get_event_selectors(trail_arn).await
    }
}

// One-sided (fake): a client that measures concurrent calls: a wrapper only the test's own client can be.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_more_users_are_re_read_at_once_than_the_concurrency_allows() {
    let rows: Vec<Row> = (0..12)
        .map(|i| {
            let id: &'static str = Box::leak(format!("AKIASLOW{i:02}").into_boxed_str());
            user(&format!("slow-{i:02}"))
                .key1(key(id, true, days_ago(150), Some(days_ago(100))))
                .password(Some(days_ago(1)), days_ago(10))
        })
        .collect();
    let gauge = Arc::new(Gauge {
        inner: account(&rows),
        in_flight: Mutex::new(HashMap::new()),
        max_users: AtomicUsize::new(0),
    });
    let options = LiveAuditOptions {
        concurrency: 3,
        ..options()
    };
    let audit = run_live_audit(
        Arc::clone(&gauge),
        &AuditConfig::default(),
        now(),
        &options,
        &NoProgress,
    )
    .await
    .unwrap();
    assert_eq!(audit.users_enriched, 12);
    let max = gauge.max_users.load(Ordering::SeqCst);
    assert!(max <= 3, "{max} users re-read at once with concurrency 3");
    assert!(
        max >= 2,
        "users are re-read one at a time ({max}) with concurrency 3"
    );
    // Every user went through: each has its KEY001 (re-read, still failing) with its key id.
    for i in 0..12 {
        let user = format!("slow-{i:02}");
        let key001 = finding(&audit, Some(&user), "KEY001");
        assert_eq!(key001.status, Status::Fail);
        assert_eq!(
            key001.access_key_id.as_deref(),
            Some(format!("AKIASLOW{i:02}").as_str())
        );
    }
}

// One-sided (fake): exact call counts: only the fake records every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_generated_minutes_ago_is_not_re_read_for_freshness() {
    // The same failing users as in the call-count test, but the report is 5 minutes old: key
    // ids are still read; last use, login profile and MFA are not read again, and with no user
    // created since the report, GetAccountAuthorizationDetails (tags) stands in for ListUsers.
    let mut fake = account(&crowd(2));
    fake.report.as_mut().unwrap().generated_at = now() - Duration::minutes(5);
    let (fake, audit) = run(fake).await;
    for action in [
        "iam:GetAccessKeyLastUsed",
        "iam:GetLoginProfile",
        "iam:ListMFADevices",
    ] {
        assert_eq!(fake.count(action), 0, "{action}: {:?}", fake.calls());
    }
    assert!(fake.count("iam:ListAccessKeys") > 0);
    assert_eq!(fake.count("iam:ListUserTags"), 0);
    assert_eq!(fake.count("iam:ListUsers"), 0);
    assert_eq!(fake.count("iam:GetAccountAuthorizationDetails"), 1);
    assert!(!audit.outcome.findings.is_empty());
}

// One-sided (fake): exact call counts: only the fake records every call.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_created_since_a_fresh_report_is_still_listed() {
    // A fresh report, but the directory names a user the report does not have: ListUsers is
    // asked for its console sign-in, and the new user is read with per-user calls.
    let mut fake = account(&crowd(2));
    fake.report.as_mut().unwrap().generated_at = now() - Duration::minutes(5);
    fake.users.push(IamUser {
        name: "created-since".into(),
        arn: "arn:aws:iam::123456789012:user/created-since".into(),
        created: now() - Duration::minutes(1),
        password_last_used: None,
    });
    let (fake, audit) = run(fake).await;
    assert_eq!(fake.count("iam:ListUsers"), 1);
    assert_eq!(fake.count("iam:ListUserTags"), 0);
    assert!(fake
        .calls()
        .iter()
        .any(|c| c == "iam:ListAccessKeys(created-since)"));
    assert!(
        audit.notes.iter().any(|n| n.contains("created since")),
        "{:?}",
        audit.notes
    );
}

/// Tags `user` with the exemption tag (docs/exemptions), valid until 2099.
fn exempt_by_tag(fake: &mut FakeAccount, user: &str) {
    fake.tags.insert(
        user.into(),
        vec![Tag {
            key: "keywarden:exempt".into(),
            value: "2099-01-01 break-glass user, owned by the platform team".into(),
        }],
    );
}

// One-sided (fake): exact call counts and a refused action: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tags_of_every_user_come_from_one_read_and_exempt_from_it() {
    // Real shape: a failing user tagged `keywarden:exempt` (the exemption tag, docs/exemptions)
    // is exempted from the account-wide read, with no ListUserTags at all.
    let mut fake = account(&crowd(200));
    exempt_by_tag(&mut fake, "f-stale-key");
    let (fake, audit) = run(fake).await;
    assert_eq!(fake.count("iam:GetAccountAuthorizationDetails"), 1);
    assert_eq!(fake.count("iam:ListUserTags"), 0);
    for code in ["KEY001", "KEY002"] {
        assert_eq!(
            finding(&audit, Some("f-stale-key"), code).status,
            Status::Exempted,
            "{code}"
        );
    }
    assert!(audit.notes.is_empty(), "{:?}", audit.notes);
}

// One-sided (fake): a refused action: the fake's fault injection.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn authorization_details_refused_reads_tags_user_by_user_and_says_so() {
    // A least-privilege role without iam:GetAccountAuthorizationDetails: the tags are read per
    // failing user (ListUserTags), the exemption still applies, and the run says why.
    let mut fake = account(&crowd(200));
    fail(
        &mut fake,
        "iam:GetAccountAuthorizationDetails",
        "AccessDenied",
    );
    exempt_by_tag(&mut fake, "f-stale-key");
    let (fake, audit) = run(fake).await;
    assert_eq!(fake.count("iam:ListUserTags"), 3);
    assert_eq!(fake.count("iam:ListUsers"), 1);
    assert_eq!(
        finding(&audit, Some("f-stale-key"), "KEY002").status,
        Status::Exempted
    );
    assert!(
        audit.notes.iter().any(|n| n
            .contains("iam:GetAccountAuthorizationDetails failed: AccessDenied")
            && n.contains("iam:ListUserTags")),
        "{:?}",
        audit.notes
    );
}
