//! One live-audit test body, two accounts (mountpoint-s3's way): the in-memory `FakeAccount` and
//! moto's server reached by the real SDK client (`LiveClient` with an endpoint override).
//!
//! A scenario is written once, in the launcher's format (`tests/moto/README.md`); [`OnMoto`]
//! seeds moto with it, [`OnFake`] builds the same account in memory ([`fake_account`]), and the
//! [`both!`](crate::both) macro instantiates a body generic over [`Side`] once per account. A
//! difference between the fake and AWS's behaviour (as moto plays it) shows there, instead of
//! hiding behind tests that only ever meet the fake.

use super::Moto;
use keywarden_app::{run_live_audit, LiveAudit, LiveAuditError, LiveAuditOptions, NoProgress};
use keywarden_aws::api::{
    AccessKeyMeta, AccountSummary, CredentialReportBlob, IamRead, IamUser, KeyLastUsed, TrailInfo,
    TrailRead,
};
use keywarden_aws::fake::FakeAccount;
use keywarden_aws::live::{ConnectOptions, LiveClient};
use keywarden_core::config::AuditConfig;
use keywarden_core::model::{PasswordPolicy, Tag};
use keywarden_core::report::COLUMNS;
use keywarden_core::time::{format_timestamp, parse_timestamp};
use keywarden_core::Timestamp;
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::Arc;

const ACCOUNT: &str = "123456789012";

/// Instantiates `async fn NAME<S>() { ... }`, a body generic over [`Side`], as two tests:
/// `NAME::fake` and `NAME::moto`.
#[macro_export]
macro_rules! both {
    ($(#[doc = $doc:literal])* async fn $name:ident<$side:ident>() $body:block) => {
        $(#[doc = $doc])*
        mod $name {
            use super::*;

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn fake() {
                body::<$crate::support::both::OnFake>().await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn moto() {
                body::<$crate::support::both::OnMoto>().await
            }

            async fn body<$side: $crate::support::both::Side>() $body
        }
    };
}

/// An account a scenario runs against.
#[allow(async_fn_in_trait)]
pub trait Side: Sized {
    type Client: IamRead + TrailRead + Send + Sync + 'static;

    /// The account seeded with `scenario` (the launcher's format).
    async fn start(scenario: &Value) -> Self;

    fn client(&self) -> Arc<Self::Client>;

    /// The scenario's `now`.
    fn now(&self) -> Timestamp;

    /// The id of `user`'s key `slot` (0-based, in the scenario's order).
    fn key_id(&self, user: &str, slot: usize) -> String;

    /// The calls the fake counted (`iam:Action(argument)`); `None` on moto, which counts none
    /// at this level (the binary's `--stats` count requests in `live_moto.rs`).
    fn calls(&self) -> Option<Vec<String>>;

    /// The live audit of the account with `config` and `options`, at the scenario's `now`.
    async fn audit_with(
        &self,
        config: &AuditConfig,
        options: &LiveAuditOptions,
    ) -> Result<LiveAudit, LiveAuditError> {
        run_live_audit(self.client(), config, self.now(), options, &NoProgress).await
    }

    /// The live audit with the default configuration and options; it must succeed.
    async fn audit(&self) -> LiveAudit {
        self.audit_with(&AuditConfig::default(), &LiveAuditOptions::default())
            .await
            .expect("the live audit runs")
    }
}

/// The in-memory account.
pub struct OnFake {
    fake: Arc<FakeAccount>,
    now: Timestamp,
}

/// The fake's id for `user`'s key `slot`.
fn fake_key_id(user: &str, slot: usize) -> String {
    let name: String = user
        .chars()
        .filter(char::is_ascii_alphanumeric)
        .map(|c| c.to_ascii_uppercase())
        .collect();
    format!("AKIAFAKE{name}{slot}")
}

impl OnFake {
    /// The side of an account already built (e.g. with another side's key ids).
    pub fn from(fake: FakeAccount, scenario: &Value) -> Self {
        OnFake {
            now: scenario_now(scenario),
            fake: Arc::new(fake),
        }
    }
}

impl Side for OnFake {
    type Client = FakeAccount;

    async fn start(scenario: &Value) -> Self {
        OnFake::from(fake_account(scenario, &fake_key_id), scenario)
    }

    fn client(&self) -> Arc<FakeAccount> {
        Arc::clone(&self.fake)
    }

    fn now(&self) -> Timestamp {
        self.now
    }

    fn key_id(&self, user: &str, slot: usize) -> String {
        fake_key_id(user, slot)
    }

    fn calls(&self) -> Option<Vec<String>> {
        Some(self.fake.calls())
    }
}

/// moto's server, seeded by the launcher, reached by the real SDK client.
pub struct OnMoto {
    moto: Moto,
    client: Arc<LiveClient>,
    now: Timestamp,
}

impl Side for OnMoto {
    type Client = LiveClient;

    async fn start(scenario: &Value) -> Self {
        let moto = Moto::start(scenario);
        let admin = moto.admin();
        // The SDK's credential chain reads the environment: only moto's, no developer profile.
        // Every launcher's admin has the same fixed key, so parallel tests set the same values.
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
        let client = LiveClient::connect(&ConnectOptions {
            profile: None,
            region: Some("us-east-1".into()),
            endpoint_url: Some(moto.endpoint().to_owned()),
            max_attempts: 3,
            adaptive_retry: false,
        })
        .await
        .expect("no profile is named");
        OnMoto {
            now: scenario_now(scenario),
            moto,
            client: Arc::new(client),
        }
    }

    fn client(&self) -> Arc<LiveClient> {
        Arc::clone(&self.client)
    }

    fn now(&self) -> Timestamp {
        self.now
    }

    fn key_id(&self, user: &str, slot: usize) -> String {
        self.moto.key_id(user, slot)
    }

    fn calls(&self) -> Option<Vec<String>> {
        None
    }
}

// --- the scenario in memory ------------------------------------------------------------------

fn scenario_now(scenario: &Value) -> Timestamp {
    parse_timestamp(scenario["now"].as_str().expect("the scenario has a `now`"))
        .expect("`now` is a timestamp")
}

/// A scenario time: an instant, `"now"`, or an offset from `now` (`-40d`, `-3h`, `-90m`, `-30s`).
fn at(now: Timestamp, time: &str) -> Timestamp {
    if time == "now" {
        return now;
    }
    let Some(offset) = time.strip_prefix('-') else {
        return parse_timestamp(time).unwrap_or_else(|| panic!("scenario time {time:?}"));
    };
    let (count, unit) = offset.split_at(offset.len() - 1);
    let count: i64 = count.parse().expect("an offset count");
    let seconds = match unit {
        "d" => 86_400,
        "h" => 3_600,
        "m" => 60,
        "s" => 1,
        _ => panic!("scenario offset unit {unit:?}"),
    };
    now - chrono::Duration::seconds(count * seconds)
}

/// An optional scenario time.
fn at_opt(now: Timestamp, time: &Value) -> Option<Timestamp> {
    time.as_str().map(|t| at(now, t))
}

/// A key's `last_used`: absent, a time (service `iam`, region `us-east-1`) or an object.
fn last_used(now: Timestamp, key: &Value, user: Option<&str>) -> KeyLastUsed {
    let used = &key["last_used"];
    let (date, service, region) = if used.is_object() {
        (
            at_opt(now, &used["date"]),
            used["service"].as_str().unwrap_or("iam"),
            used["region"].as_str().unwrap_or("us-east-1"),
        )
    } else {
        (at_opt(now, used), "iam", "us-east-1")
    };
    KeyLastUsed {
        date,
        service: date.map(|_| service.into()),
        region: date.map(|_| region.into()),
        user: user.map(Into::into),
    }
}

/// The report cells of up to two access keys, as AWS writes them.
fn key_cells(
    now: Timestamp,
    keys: &[Value],
    cells: &mut BTreeMap<&'static str, String>,
    prefixes: [&'static [&'static str]; 2],
) {
    for (slot, columns) in prefixes.iter().enumerate() {
        let values = match keys.get(slot) {
            Some(key) => {
                let used = last_used(now, key, None);
                [
                    (key["status"].as_str() != Some("Inactive")).to_string(),
                    format_timestamp(at(now, key["created"].as_str().expect("a key's created"))),
                    used.date.map_or("N/A".into(), format_timestamp),
                    used.region.unwrap_or_else(|| "N/A".into()),
                    used.service.unwrap_or_else(|| "N/A".into()),
                ]
            }
            None => ["false", "N/A", "N/A", "N/A", "N/A"].map(String::from),
        };
        for (column, value) in columns.iter().zip(values) {
            cells.insert(column, value);
        }
    }
}

/// The report's columns of key 1 and key 2 (active, last rotated, last used date, region,
/// service).
fn key_columns() -> [&'static [&'static str]; 2] {
    [&COLUMNS[8..13], &COLUMNS[13..18]]
}

/// `scenario`'s account in memory, in the AWS-shaped report the launcher serves, with the key
/// ids `ids(user, slot)`. The fake does not play the launcher's `faults`, `auth` or slow
/// reports: a scenario with them is one-sided (moto only), and this panics on it.
pub fn fake_account(scenario: &Value, ids: &dyn Fn(&str, usize) -> String) -> FakeAccount {
    for moto_only in ["faults", "auth", "bulk_users"] {
        assert!(
            scenario.get(moto_only).is_none(),
            "the fake does not play `{moto_only}`"
        );
    }
    let now = scenario_now(scenario);
    let empty = Vec::new();
    let mut fake = FakeAccount::default();
    let report = &scenario["credential_report"];
    let overrides = &report["overrides"];
    let mut rows: Vec<BTreeMap<&'static str, String>> = Vec::new();
    let users = scenario["users"].as_array().unwrap_or(&empty);
    for user in users {
        let name = user["name"].as_str().expect("a user's name");
        let arn = format!("arn:aws:iam::{ACCOUNT}:user/{name}");
        let created = at(now, user["created"].as_str().unwrap_or("now"));
        let mut cells = BTreeMap::new();
        cells.insert("user", name.to_owned());
        cells.insert("arn", arn.clone());
        cells.insert("user_creation_time", format_timestamp(created));
        let password = &user["password"];
        let password_used = at_opt(now, &password["last_used"]);
        if password.is_object() && password["set"].as_bool() != Some(false) {
            let changed = at_opt(now, &password["created"]).unwrap_or(created);
            cells.insert("password_enabled", "true".into());
            cells.insert(
                "password_last_used",
                password_used.map_or("no_information".into(), format_timestamp),
            );
            cells.insert("password_last_changed", format_timestamp(changed));
            fake.login_profiles.insert(name.into(), changed);
        } else {
            cells.insert("password_enabled", "false".into());
            cells.insert("password_last_used", "N/A".into());
            cells.insert("password_last_changed", "N/A".into());
        }
        cells.insert("password_next_rotation", "N/A".into());
        let mfa = user["mfa"].as_bool().unwrap_or(false);
        cells.insert("mfa_active", mfa.to_string());
        fake.mfa_devices.insert(name.into(), usize::from(mfa));
        let keys = user["access_keys"].as_array().unwrap_or(&empty);
        key_cells(now, keys, &mut cells, key_columns());
        let mut metas = Vec::new();
        for (slot, key) in keys.iter().enumerate() {
            let id = ids(name, slot);
            metas.push(AccessKeyMeta {
                id: id.clone(),
                active: key["status"].as_str() != Some("Inactive"),
                created: at(now, key["created"].as_str().expect("a key's created")),
            });
            fake.last_used.insert(id, last_used(now, key, Some(name)));
        }
        fake.keys.insert(name.into(), metas);
        if let Some(tags) = user["tags"].as_object() {
            let tags = tags
                .iter()
                .map(|(key, value)| Tag {
                    key: key.clone(),
                    value: value.as_str().expect("a tag's value").to_owned(),
                })
                .collect();
            fake.tags.insert(name.into(), tags);
        }
        fake.users.push(IamUser {
            name: name.into(),
            arn,
            created,
            password_last_used: password_used,
        });
        rows.push(cells);
    }
    for cells in &mut rows {
        cells.insert("cert_1_active", "false".into());
        cells.insert("cert_1_last_rotated", "N/A".into());
        cells.insert("cert_2_active", "false".into());
        cells.insert("cert_2_last_rotated", "N/A".into());
    }

    let root = &scenario["root"];
    let root_keys = root["access_keys"].as_array().unwrap_or(&empty);
    let root_mfa = root["mfa"].as_bool().unwrap_or(true);
    let earliest = fake.users.iter().map(|u| u.created).min().unwrap_or(now);
    let ten_years = now - chrono::Duration::days(3652);
    let root_created = at_opt(now, &root["created"]).unwrap_or(earliest.min(ten_years));
    let mut cells = BTreeMap::new();
    cells.insert("user", "<root_account>".to_owned());
    cells.insert("arn", format!("arn:aws:iam::{ACCOUNT}:root"));
    cells.insert("user_creation_time", format_timestamp(root_created));
    cells.insert("password_enabled", "not_supported".into());
    cells.insert(
        "password_last_used",
        at_opt(now, &root["password_last_used"]).map_or("no_information".into(), format_timestamp),
    );
    cells.insert("password_last_changed", "not_supported".into());
    cells.insert("password_next_rotation", "not_supported".into());
    cells.insert("mfa_active", root_mfa.to_string());
    key_cells(now, root_keys, &mut cells, key_columns());
    for (column, value) in [
        ("cert_1_active", "false"),
        ("cert_1_last_rotated", "N/A"),
        ("cert_2_active", "false"),
        ("cert_2_last_rotated", "N/A"),
    ] {
        cells.insert(column, value.into());
    }
    rows.insert(0, cells);

    // The report's `overrides` patch cells (times may be offsets from `now`).
    for cells in &mut rows {
        let Some(patch) = overrides[cells["user"].as_str()].as_object() else {
            continue;
        };
        for (column, value) in patch {
            let column = COLUMNS
                .iter()
                .find(|c| **c == column.as_str())
                .unwrap_or_else(|| panic!("no report column {column}"));
            let value = value.as_str().expect("an override is a string");
            let value = if value.starts_with('-') || value == "now" {
                format_timestamp(at(now, value))
            } else {
                value.to_owned()
            };
            cells.insert(column, value);
        }
    }
    let mut lines = vec![COLUMNS.join(",")];
    for cells in &rows {
        let line: Vec<&str> = COLUMNS.iter().map(|c| cells[c].as_str()).collect();
        lines.push(line.join(","));
    }
    fake.report = Some(CredentialReportBlob {
        content: (lines.join("\n") + "\n").into_bytes(),
        generated_at: at(now, report["generated"].as_str().unwrap_or("now")),
    });
    fake.summary = Some(AccountSummary {
        root_access_keys_present: root_keys.len() as u32,
        root_mfa_enabled: root_mfa,
    });
    fake.password_policy = scenario["password_policy"]
        .as_object()
        .map(|p| PasswordPolicy {
            minimum_password_length: p
                .get("MinimumPasswordLength")
                .and_then(Value::as_u64)
                .unwrap_or(8) as _,
            require_uppercase_characters: flag(p.get("RequireUppercaseCharacters")),
            require_lowercase_characters: flag(p.get("RequireLowercaseCharacters")),
            require_numbers: flag(p.get("RequireNumbers")),
            require_symbols: flag(p.get("RequireSymbols")),
            password_reuse_prevention: p
                .get("PasswordReusePrevention")
                .and_then(Value::as_u64)
                .map(|n| n as _),
            max_password_age: p
                .get("MaxPasswordAge")
                .and_then(Value::as_u64)
                .map(|n| n as _),
        });
    for trail in scenario["trails"].as_array().unwrap_or(&empty) {
        let name = trail["name"].as_str().expect("a trail's name");
        let management = trail["management_events"].as_bool().unwrap_or(true)
            && trail["read_write_type"].as_str().unwrap_or("All") == "All";
        fake.trails.push((
            TrailInfo {
                name: name.into(),
                arn: format!("arn:aws:cloudtrail:us-east-1:{ACCOUNT}:trail/{name}"),
                home_region: "us-east-1".into(),
                is_multi_region: trail["multi_region"].as_bool().unwrap_or(true),
            },
            trail["logging"].as_bool().unwrap_or(true),
            management,
        ));
    }
    fake
}

fn flag(value: Option<&Value>) -> bool {
    value.and_then(Value::as_bool).unwrap_or(false)
}
