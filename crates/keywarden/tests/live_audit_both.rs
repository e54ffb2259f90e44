//! Live-audit scenarios written once and run against two accounts (mountpoint-s3's way): the
//! in-memory `FakeAccount` and moto's server reached by the real SDK client (`LiveClient` with an
//! endpoint override), through `support::both` (each `both!` body is the tests `NAME::fake` and
//! `NAME::moto`). Scenarios only one side can express stay where they are:
//! `keywarden-app/tests/live_audit.rs` (fault injection, call counts, sub-second dates, timing:
//! only the fake plays them) and `live_moto.rs` (the binary end to end, the SDK's retries, IAM
//! authorization, moto's own report behaviour: only moto plays them).

mod support;

use keywarden_app::LiveAuditOptions;
use keywarden_core::config::{layer, ConfigFile, RuleSelection, ThresholdOverrides};
use keywarden_core::Status;
use serde_json::{json, Value};
use support::both::{fake_account, OnFake, OnMoto, Side};
use support::outcome::{evidence, finding, of};
use support::scenario::clean_account;

/// `scenario` with the report's cells of `user` patched by `cells` (what changed since).
fn report_said(mut scenario: Value, user: &str, cells: Value) -> Value {
    scenario["credential_report"]["overrides"][user] = cells;
    scenario
}

/// The account: users each rule family has something to say about (and one it has nothing to
/// say about).
fn mixed_account() -> Value {
    clean_account(json!([
        {"name": "tidy", "created": "-30d", "mfa": true,
         "password": {"set": true, "created": "-30d", "last_used": "-2d"},
         "access_keys": [{"created": "-10d", "last_used": "-1d"}]},
        {"name": "stale", "created": "-500d",
         "access_keys": [{"created": "-200d", "last_used": "-100d"},
                         {"status": "Inactive", "created": "-50d"}]},
        {"name": "nomfa", "created": "-500d",
         "password": {"set": true, "created": "-300d", "last_used": "-5d"},
         "access_keys": [{"created": "-400d", "last_used": "-1d"}]},
        {"name": "dormant", "created": "-500d",
         "password": {"set": true, "created": "-300d", "last_used": "-200d"}},
    ]))
}

/// The findings of the mixed account as `(rule, user, key, status)`, sorted, after checking
/// which rule fails for whom (the key ids are the account's own): tidy is clean, stale's active
/// key is unused and old and its inactive one idle, nomfa's key is old and its password has no
/// MFA, dormant's password is unused and has no MFA; the account-level facts (policy, root,
/// trail) are all good, and nothing failed to read.
async fn audit_the_mixed_account<S: Side>(side: &S) -> Vec<(String, String, String, String)> {
    let audit = side.audit().await;
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

crate::both! {
    /// Each rule family on one account, with the account's own key ids.
    async fn the_mixed_account_fails_the_same_rules<S>() {
        let side = S::start(&mixed_account()).await;
        let findings = audit_the_mixed_account(&side).await;
        let key = |user: &str, slot: usize| side.key_id(user, slot);
        let ids: Vec<(&str, String)> = findings
            .iter()
            .filter(|(rule, ..)| rule.starts_with("KEY"))
            .map(|(rule, _, id, _)| (rule.as_str(), id.clone()))
            .collect();
        assert_eq!(
            ids,
            [
                ("KEY001", key("stale", 0)),
                ("KEY002", key("nomfa", 0)),
                ("KEY002", key("stale", 0)),
                ("KEY004", key("stale", 1)),
            ]
        );
    }
}

/// The fake built with moto's key ids finds exactly what moto finds, field for field.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_audit_finds_the_same_against_the_fake_and_against_moto() {
    let scenario = mixed_account();
    let moto = OnMoto::start(&scenario).await;
    let against_moto = audit_the_mixed_account(&moto).await;
    let fake = OnFake::from(
        fake_account(&scenario, &|user, slot| moto.key_id(user, slot)),
        &scenario,
    );
    let against_the_fake = audit_the_mixed_account(&fake).await;
    assert_eq!(against_the_fake, against_moto);
}

// --- keys changed since the report -----------------------------------------------------------

crate::both! {
    /// A key deleted since the report drops its findings.
    async fn a_key_deleted_since_the_report_drops_its_findings<S>() {
        let scenario = report_said(
            clean_account(json!([{"name": "gone", "created": "-500d"}])),
            "gone",
            json!({"access_key_1_active": "true", "access_key_1_last_rotated": "-150d",
                   "access_key_1_last_used_date": "-100d",
                   "access_key_1_last_used_region": "us-east-1",
                   "access_key_1_last_used_service": "s3"}),
        );
        let side = S::start(&scenario).await;
        let audit = side.audit().await;
        assert_eq!(of(&audit, "gone"), []);
        // No last-use call for a key that no longer exists.
        if let Some(calls) = side.calls() {
            assert!(!calls.iter().any(|c| c.starts_with("iam:GetAccessKeyLastUsed")), "{calls:?}");
        }
    }
}

crate::both! {
    /// A key created since the report is audited, and its last use read.
    async fn a_key_created_since_the_report_is_audited<S>() {
        let scenario = report_said(
            clean_account(json!([{"name": "added", "created": "-500d", "access_keys": [
                {"created": "-100d", "last_used": "-1d"}, {"created": "-1d"}]}])),
            "added",
            json!({"access_key_2_active": "false", "access_key_2_last_rotated": "N/A",
                   "access_key_2_last_used_date": "N/A", "access_key_2_last_used_region": "N/A",
                   "access_key_2_last_used_service": "N/A"}),
        );
        let side = S::start(&scenario).await;
        let (old, new) = (side.key_id("added", 0), side.key_id("added", 1));
        let audit = side.audit().await;
        assert_eq!(
            of(&audit, "added"),
            [
                ("KEY002", Status::Fail, "access_key_1", Some(old.as_str())),
                // Two active keys now: the older one is named, the newer one is evidence.
                ("KEY003", Status::Fail, "access_key_1", Some(old.as_str())),
            ]
        );
        let key003 = finding(&audit, Some("added"), "KEY003");
        assert_eq!(evidence(key003, "newer_key_id"), new);
        assert_eq!(evidence(key003, "newer_key"), "access_key_2");
        // The new key's last use is read: the report never had it.
        if let Some(calls) = side.calls() {
            let mut per_user: Vec<String> = calls
                .into_iter()
                .filter(|c| c.contains('(') && !c.starts_with("cloudtrail:"))
                .collect();
            per_user.sort();
            let mut expected = vec![
                "iam:ListAccessKeys(added)".to_owned(),
                format!("iam:GetAccessKeyLastUsed({new})"),
            ];
            expected.sort();
            assert_eq!(per_user, expected);
        }
    }
}

crate::both! {
    /// Report: one key, failing KEY002 only. Live: that key is gone and another one, created 60
    /// days ago and never used, holds the slot: the verdict follows the live key, with its id.
    async fn a_new_key_that_is_never_used_and_old_fails_key001_with_its_id<S>() {
        let scenario = report_said(
            clean_account(json!([{"name": "rotated", "created": "-500d",
                                  "access_keys": [{"created": "-60d"}]}])),
            "rotated",
            json!({"access_key_1_last_rotated": "-100d", "access_key_1_last_used_date": "-1d",
                   "access_key_1_last_used_region": "us-east-1",
                   "access_key_1_last_used_service": "s3"}),
        );
        let side = S::start(&scenario).await;
        let audit = side.audit().await;
        assert_eq!(
            of(&audit, "rotated"),
            [("KEY001", Status::Fail, "access_key_1", Some(side.key_id("rotated", 0).as_str()))]
        );
    }
}

// --- fresh data wins -------------------------------------------------------------------------

crate::both! {
    /// KEY002 does not depend on use and stays; KEY001 is gone.
    async fn a_key_used_since_the_report_does_not_fail_key001<S>() {
        let scenario = report_said(
            clean_account(json!([{"name": "busy", "created": "-500d",
                                  "access_keys": [{"created": "-150d", "last_used": "-1d"}]}])),
            "busy",
            json!({"access_key_1_last_used_date": "-100d"}),
        );
        let side = S::start(&scenario).await;
        let audit = side.audit().await;
        assert_eq!(
            of(&audit, "busy"),
            [("KEY002", Status::Fail, "access_key_1", Some(side.key_id("busy", 0).as_str()))]
        );
    }
}

crate::both! {
    /// The report shows an old, unused password; the login profile is gone since.
    async fn a_password_removed_since_the_report_does_not_fail_pwd001<S>() {
        let scenario = report_said(
            clean_account(json!([{"name": "no-console", "created": "-500d", "mfa": true}])),
            "no-console",
            json!({"password_enabled": "true", "password_last_used": "-200d",
                   "password_last_changed": "-300d"}),
        );
        let side = S::start(&scenario).await;
        assert_eq!(of(&side.audit().await, "no-console"), []);
    }
}

crate::both! {
    /// The report shows no MFA; the user has a device since.
    async fn mfa_added_since_the_report_does_not_fail_pwd002<S>() {
        let scenario = report_said(
            clean_account(json!([{"name": "secured", "created": "-500d", "mfa": true,
                                  "password": {"set": true, "created": "-10d",
                                               "last_used": "-1d"}}])),
            "secured",
            json!({"mfa_active": "false"}),
        );
        let side = S::start(&scenario).await;
        assert_eq!(of(&side.audit().await, "secured"), []);
        if let Some(calls) = side.calls() {
            let mfa = calls.iter().filter(|c| c.starts_with("iam:ListMFADevices")).count();
            assert_eq!(mfa, 1, "{calls:?}");
        }
    }
}

// --- exemptions ------------------------------------------------------------------------------

crate::both! {
    /// An IAM tag read live exempts a finding until its date; a lapsed one is reported.
    async fn a_tag_read_live_exempts_the_finding<S>() {
        let scenario = clean_account(json!([
            {"name": "vendor", "created": "-500d",
             "tags": {"keywarden:exempt:KEY002": "2099-01-01 vendor key"},
             "access_keys": [{"created": "-150d", "last_used": "-1d"}]},
            {"name": "lapsed", "created": "-500d",
             "tags": {"keywarden:exempt:KEY002": "2020-01-01 vendor key"},
             "access_keys": [{"created": "-150d", "last_used": "-1d"}]},
        ]));
        let side = S::start(&scenario).await;
        let audit = side.audit().await;
        let vendor = finding(&audit, Some("vendor"), "KEY002");
        assert_eq!(vendor.status, Status::Exempted);
        let note = vendor.exemption.as_ref().unwrap();
        assert_eq!(note.source, "tag:keywarden:exempt:KEY002");
        assert_eq!(note.reason, "vendor key");
        assert_eq!(vendor.access_key_id, Some(side.key_id("vendor", 0)));

        let lapsed = finding(&audit, Some("lapsed"), "KEY002");
        assert_eq!(lapsed.status, Status::Fail);
        assert!(lapsed.ignored_exemption.is_some());
    }
}

crate::both! {
    /// A configuration exemption by key id applies to the key the live account matched.
    async fn a_config_exemption_by_key_id_applies_to_the_matched_key<S>() {
        let scenario = clean_account(json!([
            {"name": "vendor", "created": "-500d",
             "access_keys": [{"created": "-150d", "last_used": "-1d"}]},
            {"name": "other", "created": "-500d",
             "access_keys": [{"created": "-150d", "last_used": "-1d"}]},
        ]));
        let side = S::start(&scenario).await;
        let vendor = side.key_id("vendor", 0);
        let file = ConfigFile::parse(
            &format!(
                "[[exemption]]\n\
                 access_key_id = \"{vendor}\"\n\
                 rules = [\"KEY002\"]\n\
                 reason = \"rotated by the vendor\"\n"
            ),
            "keywarden.toml",
        )
        .unwrap();
        let config = layer(
            None,
            Some((&file, "keywarden.toml")),
            &ThresholdOverrides::default(),
            &RuleSelection::default(),
        )
        .unwrap();
        let audit = side
            .audit_with(&config, &LiveAuditOptions::default())
            .await
            .unwrap();
        assert_eq!(
            of(&audit, "vendor"),
            [("KEY002", Status::Exempted, "access_key_1", Some(vendor.as_str()))]
        );
        assert_eq!(
            of(&audit, "other"),
            [("KEY002", Status::Fail, "access_key_1", Some(side.key_id("other", 0).as_str()))]
        );
    }
}
