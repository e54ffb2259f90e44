//! Exemptions by access key id. A credential report carries no key ids (a live source attaches
//! them by matching ListAccessKeys), so these cannot be report-file cases: the users are built
//! here as a live source would build them. Exemptions by user, tag and expiry are rule cases in
//! tests/cases/exemptions/.

#![allow(clippy::disallowed_methods, reason = "a test reads its fixture files")]

mod common;

use keywarden_core::config::{layer, ConfigFile, RuleSelection, ThresholdOverrides};
use keywarden_core::model::{AccessKey, Cell, KeySlot, Known, UserCredentials};
use keywarden_core::{AccountExtras, AuditConfig, AuditRun, CredentialKind, Timestamp};

const NOW: &str = "2024-06-01T12:00:00Z";
const OLD_KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const NEW_KEY: &str = "AKIAI44QH8DHBEXAMPLE";

fn key(slot: KeySlot, id: Option<&str>, created: &str) -> AccessKey {
    AccessKey {
        slot,
        active: Cell::Value(true),
        last_rotated: Cell::Value(common::instant(created)),
        last_used: Cell::NotApplicable,
        last_used_region: Cell::NotApplicable,
        last_used_service: Cell::NotApplicable,
        id: id.map(str::to_owned),
    }
}

/// deploy-bot with two active keys, both never used and older than every threshold: key 1
/// (the older) fails KEY001, KEY002 and KEY003, key 2 fails KEY001 and KEY002.
fn deploy_bot(with_ids: bool) -> UserCredentials {
    let id = |id| with_ids.then_some(id);
    UserCredentials {
        name: "deploy-bot".into(),
        arn: "arn:aws:iam::123456789012:user/deploy-bot".into(),
        is_root: false,
        created: Cell::Value(common::instant("2022-01-10T09:00:00Z")),
        password_enabled: Cell::Value(false),
        password_last_used: Cell::NotApplicable,
        password_last_changed: Cell::NotApplicable,
        mfa_active: Cell::Value(false),
        access_keys: [
            key(KeySlot::One, id(OLD_KEY), "2022-01-10T09:05:00Z"),
            key(KeySlot::Two, id(NEW_KEY), "2023-06-01T10:00:00Z"),
        ],
        tags: Known::Known(Vec::new()),
    }
}

fn config(text: &str) -> AuditConfig {
    let file = ConfigFile::parse(text, "keywarden.toml").unwrap();
    layer(
        None,
        Some((&file, "keywarden.toml")),
        &ThresholdOverrides::default(),
        &RuleSelection::default(),
    )
    .unwrap()
}

fn audit(config: &AuditConfig, user: &UserCredentials, now: Timestamp) -> Vec<String> {
    let mut run = AuditRun::new(config, now);
    run.add_user(user);
    let outcome = run.finish(AccountExtras::unknown_from_report_file());
    let keys: Vec<_> = outcome
        .findings
        .into_iter()
        .filter(|f| f.rule.code.starts_with("KEY"))
        .collect();
    common::rendered(&keys)
}

#[test]
fn without_exemptions_both_keys_fail() {
    let findings = audit(
        &AuditConfig::default(),
        &deploy_bot(true),
        common::instant(NOW),
    );
    assert_eq!(
        findings,
        common::sorted(&[
            "KEY001 fail deploy-bot access_key_1",
            "KEY001 fail deploy-bot access_key_2",
            "KEY002 fail deploy-bot access_key_1",
            "KEY002 fail deploy-bot access_key_2",
            "KEY003 fail deploy-bot access_key_1",
        ])
    );
}

#[test]
fn the_key_id_reaches_the_finding() {
    let config = AuditConfig::default();
    let mut run = AuditRun::new(&config, common::instant(NOW));
    run.add_user(&deploy_bot(true));
    let outcome = run.finish(AccountExtras::unknown_from_report_file());
    for finding in outcome
        .findings
        .iter()
        .filter(|f| f.rule.code.starts_with("KEY"))
    {
        let want = match finding.credential {
            CredentialKind::AccessKey(KeySlot::One) => OLD_KEY,
            CredentialKind::AccessKey(KeySlot::Two) => NEW_KEY,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            finding.access_key_id.as_deref(),
            Some(want),
            "{}",
            common::render(finding)
        );
    }
}

#[test]
fn a_key_id_exemption_covers_that_key_only() {
    // KEY003 sits on the older key, so exempting that key exempts KEY003 too.
    let config = config(&format!(
        "[[exemption]]\naccess_key_id = \"{OLD_KEY}\"\nreason = \"vendor appliance, rotation ticket OPS-812\"\n"
    ));
    assert_eq!(
        audit(&config, &deploy_bot(true), common::instant(NOW)),
        common::sorted(&[
            "KEY001 exempted deploy-bot access_key_1 by config:exemption[0]",
            "KEY001 fail deploy-bot access_key_2",
            "KEY002 exempted deploy-bot access_key_1 by config:exemption[0]",
            "KEY002 fail deploy-bot access_key_2",
            "KEY003 exempted deploy-bot access_key_1 by config:exemption[0]",
        ])
    );
}

#[test]
fn a_key_id_exemption_limited_to_one_rule() {
    let config = config(&format!(
        "[[exemption]]\naccess_key_id = \"{NEW_KEY}\"\nrules = [\"KEY002\"]\nreason = \"rotation scheduled with the vendor\"\n"
    ));
    assert_eq!(
        audit(&config, &deploy_bot(true), common::instant(NOW)),
        common::sorted(&[
            "KEY001 fail deploy-bot access_key_1",
            "KEY001 fail deploy-bot access_key_2",
            "KEY002 fail deploy-bot access_key_1",
            "KEY002 exempted deploy-bot access_key_2 by config:exemption[0]",
            "KEY003 fail deploy-bot access_key_1",
        ])
    );
}

#[test]
fn an_expired_key_id_exemption_is_noted_and_ignored() {
    let config = config(&format!(
        "[[exemption]]\naccess_key_id = \"{NEW_KEY}\"\nrules = [\"KEY001\"]\nreason = \"migration\"\nexpires = \"2024-05-31T23:59:59Z\"\n"
    ));
    let findings = audit(&config, &deploy_bot(true), common::instant(NOW));
    assert!(
        findings.contains(
            &"KEY001 fail deploy-bot access_key_2 ignoring config:exemption[0]".to_owned()
        ),
        "{findings:#?}"
    );
    // One second before it expired, it applied.
    let findings = audit(
        &config,
        &deploy_bot(true),
        common::instant("2024-05-31T23:59:59Z"),
    );
    assert!(
        findings
            .contains(&"KEY001 exempted deploy-bot access_key_2 by config:exemption[0]".to_owned()),
        "{findings:#?}"
    );
}

#[test]
fn another_keys_id_exempts_nothing() {
    let config = config("[[exemption]]\naccess_key_id = \"AKIAOTHERKEYEXAMPLE1\"\nreason = \"someone else's key\"\n");
    assert_eq!(
        audit(&config, &deploy_bot(true), common::instant(NOW)),
        audit(
            &AuditConfig::default(),
            &deploy_bot(true),
            common::instant(NOW)
        )
    );
}

#[test]
fn a_key_id_exemption_cannot_apply_to_a_report_file() {
    // From a report file the keys have no ids: the exemption matches nothing (and is not
    // mistaken for a match on an absent id).
    let config = config(&format!(
        "[[exemption]]\naccess_key_id = \"{OLD_KEY}\"\nreason = \"vendor appliance\"\n"
    ));
    assert_eq!(
        audit(&config, &deploy_bot(false), common::instant(NOW)),
        audit(
            &AuditConfig::default(),
            &deploy_bot(false),
            common::instant(NOW)
        )
    );
}

#[test]
fn user_and_key_id_together_narrow_the_exemption() {
    // An entry naming both a user and a key id reads as "this key of this user". It must not
    // exempt the user's other key.
    let config = config(&format!(
        "[[exemption]]\nuser = \"deploy-bot\"\naccess_key_id = \"{OLD_KEY}\"\nrules = [\"KEY001\"]\nreason = \"vendor appliance\"\n"
    ));
    let findings = audit(&config, &deploy_bot(true), common::instant(NOW));
    assert!(
        findings
            .contains(&"KEY001 exempted deploy-bot access_key_1 by config:exemption[0]".to_owned()),
        "{findings:#?}"
    );
    assert!(
        findings.contains(&"KEY001 fail deploy-bot access_key_2".to_owned()),
        "the exemption names key {OLD_KEY} only, but covers key 2 too: {findings:#?}"
    );
}
