//! One live-audit scenario, one test body, two accounts (mountpoint-s3's way): the in-memory
//! `FakeAccount` and moto's server reached by the real SDK client (`LiveClient` with an endpoint
//! override). The scenario is written once, in the launcher's format; the fake is built from the
//! same description (with moto's key ids), and the body runs `run_live_audit` against either and
//! checks the same findings. A difference between the fake and AWS's behaviour (as moto plays
//! it) shows here, instead of hiding behind tests that only ever meet the fake.

mod support;

use keywarden_app::{run_live_audit, LiveAuditOptions, NoProgress};
use keywarden_aws::api::{
    AccessKeyMeta, AccountSummary, CredentialReportBlob, IamRead, IamUser, KeyLastUsed, TrailInfo,
    TrailRead,
};
use keywarden_aws::fake::FakeAccount;
use keywarden_aws::live::{ConnectOptions, LiveClient};
use keywarden_core::config::AuditConfig;
use keywarden_core::model::PasswordPolicy;
use keywarden_core::time::{days, format_timestamp, parse_timestamp};
use keywarden_core::Timestamp;
use serde_json::{json, Value};
use std::sync::Arc;
use support::Moto;

const NOW: &str = "2025-06-01T12:00:00Z";
const ACCOUNT: &str = "123456789012";

/// A key: active, created and last used that many days before NOW.
struct Key {
    active: bool,
    created: i64,
    last_used: Option<i64>,
}

/// A user: created that many days ago, a console password (created, last used), MFA, keys.
struct User {
    name: &'static str,
    created: i64,
    password: Option<(i64, Option<i64>)>,
    mfa: bool,
    keys: Vec<Key>,
}

fn key(active: bool, created: i64, last_used: Option<i64>) -> Key {
    Key {
        active,
        created,
        last_used,
    }
}

/// The account: a strong password policy, root with MFA and no key, one good trail, and users
/// each rule family has something to say about (and one it has nothing to say about).
fn users() -> Vec<User> {
    vec![
        User {
            name: "tidy",
            created: 30,
            password: Some((30, Some(2))),
            mfa: true,
            keys: vec![key(true, 10, Some(1))],
        },
        User {
            name: "stale",
            created: 500,
            password: None,
            mfa: false,
            keys: vec![key(true, 200, Some(100)), key(false, 50, None)],
        },
        User {
            name: "nomfa",
            created: 500,
            password: Some((300, Some(5))),
            mfa: false,
            keys: vec![key(true, 400, Some(1))],
        },
        User {
            name: "dormant",
            created: 500,
            password: Some((300, Some(200))),
            mfa: false,
            keys: vec![],
        },
    ]
}

fn now() -> Timestamp {
    parse_timestamp(NOW).unwrap()
}

fn ago(n: i64) -> Timestamp {
    now() - days(n as u32)
}

fn rel(n: i64) -> String {
    format!("-{n}d")
}

/// The scenario in the launcher's format (`tests/moto/README.md`).
fn scenario() -> Value {
    let users: Vec<Value> = users()
        .iter()
        .map(|u| {
            let keys: Vec<Value> = u
                .keys
                .iter()
                .map(|k| {
                    let mut key = json!({
                        "status": if k.active { "Active" } else { "Inactive" },
                        "created": rel(k.created),
                    });
                    if let Some(used) = k.last_used {
                        key["last_used"] = json!(rel(used));
                    }
                    key
                })
                .collect();
            let mut user = json!({"name": u.name, "created": rel(u.created), "mfa": u.mfa,
                                  "access_keys": keys});
            if let Some((created, used)) = u.password {
                user["password"] = json!({"set": true, "created": rel(created)});
                if let Some(used) = used {
                    user["password"]["last_used"] = json!(rel(used));
                }
            }
            user
        })
        .collect();
    json!({
        "now": NOW,
        "users": users,
        "root": {"created": "2015-03-01T00:00:00Z", "mfa": true, "password_last_used": "-30d"},
        "password_policy": {"MinimumPasswordLength": 14, "RequireSymbols": true,
                            "RequireNumbers": true, "RequireUppercaseCharacters": true,
                            "RequireLowercaseCharacters": true, "MaxPasswordAge": 90,
                            "PasswordReusePrevention": 24},
        "trails": [{"name": "org-trail"}],
        "credential_report": {"aws_shape": true},
    })
}

/// The same account in memory, its key ids `ids[user][slot]` (moto's, so findings compare).
fn fake(ids: &dyn Fn(&str, usize) -> String) -> FakeAccount {
    let time = |t: Timestamp| format_timestamp(t);
    let mut rows = vec![keywarden_core::report::COLUMNS.join(",")];
    rows.push(format!(
        "<root_account>,arn:aws:iam::{ACCOUNT}:root,2015-03-01T00:00:00+00:00,not_supported,{},\
         not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,\
         false,N/A",
        time(ago(30))
    ));
    let mut fake = FakeAccount::default();
    for u in users() {
        let arn = format!("arn:aws:iam::{ACCOUNT}:user/{}", u.name);
        let mut row = vec![u.name.to_owned(), arn.clone(), time(ago(u.created))];
        match u.password {
            Some((created, used)) => row.extend([
                "true".into(),
                used.map_or("no_information".into(), |d| time(ago(d))),
                time(ago(created)),
                "N/A".into(),
            ]),
            None => row.extend(["false", "N/A", "N/A", "N/A"].map(String::from)),
        }
        row.push(u.mfa.to_string());
        let mut metas = Vec::new();
        for slot in 0..2 {
            match u.keys.get(slot) {
                Some(k) => {
                    let id = ids(u.name, slot);
                    row.extend([
                        k.active.to_string(),
                        time(ago(k.created)),
                        k.last_used.map_or("N/A".into(), |d| time(ago(d))),
                        k.last_used.map_or("N/A", |_| "us-east-1").into(),
                        k.last_used.map_or("N/A", |_| "iam").into(),
                    ]);
                    metas.push(AccessKeyMeta {
                        id: id.clone(),
                        active: k.active,
                        created: ago(k.created),
                    });
                    fake.last_used.insert(
                        id,
                        KeyLastUsed {
                            date: k.last_used.map(ago),
                            service: k.last_used.map(|_| "iam".into()),
                            region: k.last_used.map(|_| "us-east-1".into()),
                            user: Some(u.name.into()),
                        },
                    );
                }
                None => row.extend(["false", "N/A", "N/A", "N/A", "N/A"].map(String::from)),
            }
        }
        row.extend(["false", "N/A", "false", "N/A"].map(String::from));
        rows.push(row.join(","));
        fake.users.push(IamUser {
            name: u.name.into(),
            arn,
            created: ago(u.created),
            password_last_used: u.password.and_then(|(_, used)| used.map(ago)),
        });
        fake.keys.insert(u.name.into(), metas);
        if let Some((created, _)) = u.password {
            fake.login_profiles.insert(u.name.into(), ago(created));
        }
        fake.mfa_devices.insert(u.name.into(), usize::from(u.mfa));
    }
    fake.report = Some(CredentialReportBlob {
        content: (rows.join("\n") + "\n").into_bytes(),
        generated_at: now(),
    });
    fake.summary = Some(AccountSummary {
        root_access_keys_present: 0,
        root_mfa_enabled: true,
    });
    fake.password_policy = Some(PasswordPolicy {
        minimum_password_length: 14,
        require_uppercase_characters: true,
        require_lowercase_characters: true,
        require_numbers: true,
        require_symbols: true,
        password_reuse_prevention: Some(24),
        max_password_age: Some(90),
    });
    fake.trails.push((
        TrailInfo {
            name: "org-trail".into(),
            arn: format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/org-trail"),
            home_region: "us-east-1".into(),
            is_multi_region: true,
        },
        true,
        true,
    ));
    fake
}

/// The test body: the live audit of the scenario's account through `client`, whichever it is.
/// Returns the findings as `(rule, user, key, status)`, sorted, after checking what every
/// account must show.
async fn audit_the_scenario<C: IamRead + TrailRead + 'static>(
    client: Arc<C>,
) -> Vec<(String, String, String, String)> {
    let audit = run_live_audit(
        client,
        &AuditConfig::default(),
        now(),
        &LiveAuditOptions::default(),
        &NoProgress,
    )
    .await
    .expect("the live audit runs");
    let mut findings: Vec<(String, String, String, String)> = audit
        .outcome
        .findings
        .iter()
        .map(|f| {
            (
                f.rule.code.to_owned(),
                f.user.clone().unwrap_or_default(),
                f.access_key_id.clone().unwrap_or_default(),
                format!("{:?}", f.status),
            )
        })
        .collect();
    findings.sort();
    // Which rule fails for whom (the key ids are the account's own): tidy is clean, stale's
    // active key is unused and old and its inactive one idle, nomfa's key is old and its
    // password has no MFA, dormant's password is unused and has no MFA; the account-level
    // facts (policy, root, trail) are all good, and nothing failed to read.
    let rules: Vec<(&str, &str, &str)> = findings
        .iter()
        .map(|(rule, user, _, status)| (rule.as_str(), user.as_str(), status.as_str()))
        .collect();
    assert_eq!(
        rules,
        [
            ("KEY001", "stale", "Fail"),
            ("KEY002", "nomfa", "Fail"),
            ("KEY002", "stale", "Fail"),
            ("KEY004", "stale", "Fail"),
            ("PWD001", "dormant", "Fail"),
            ("PWD002", "dormant", "Fail"),
            ("PWD002", "nomfa", "Fail"),
        ]
    );
    findings
}

/// moto's key id of `user`'s key `slot`.
fn moto_key(moto: &Moto, user: &str, slot: usize) -> String {
    moto.key_id(user, slot)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_audit_finds_the_same_against_the_fake_and_against_moto() {
    let moto = Moto::start(&scenario());
    let admin = moto.admin();
    // The SDK's credential chain reads the environment: only moto's, no developer profile.
    for (name, value) in [
        ("AWS_ACCESS_KEY_ID", admin.access_key_id.as_str()),
        ("AWS_SECRET_ACCESS_KEY", admin.secret_access_key.as_str()),
        ("AWS_CONFIG_FILE", "/nonexistent"),
        ("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent"),
        ("AWS_EC2_METADATA_DISABLED", "true"),
    ] {
        std::env::set_var(name, value);
    }
    std::env::remove_var("AWS_PROFILE");
    std::env::remove_var("AWS_SESSION_TOKEN");
    let live = LiveClient::connect(&ConnectOptions {
        profile: None,
        region: Some("us-east-1".into()),
        endpoint_url: Some(moto.endpoint().to_owned()),
        max_attempts: 3,
    })
    .await;
    let against_moto = audit_the_scenario(Arc::new(live)).await;

    let fake = fake(&|user, slot| moto_key(&moto, user, slot));
    let against_the_fake = audit_the_scenario(Arc::new(fake)).await;

    assert_eq!(against_the_fake, against_moto);
}
