//! The bundled demo account (demo/, served by `keywarden demo`) keeps its promise: audited with
//! its own account facts at its own `now`, every rule fails at least once, several users are
//! clean, nothing is unknown, and the findings are exactly the story demo/README.md tells.

mod common;

use keywarden_core::account_file::parse_account_file;
use keywarden_core::demo::{DEMO_ACCOUNT, DEMO_NOW, DEMO_REPORT};
use keywarden_core::report::{read_all, ReportReader};
use keywarden_core::rules::ALL_RULES;
use keywarden_core::{audit_report, AuditConfig, AuditOutcome, Status};

fn audit_demo() -> AuditOutcome {
    let extras =
        parse_account_file(DEMO_ACCOUNT, "demo/account.toml").unwrap_or_else(|e| panic!("{e}"));
    let reader = ReportReader::new(DEMO_REPORT.as_bytes(), "demo/credential-report.csv")
        .unwrap_or_else(|e| panic!("{e}"));
    assert!(
        reader.missing_columns().is_empty(),
        "{:?}",
        reader.missing_columns()
    );
    audit_report(
        reader,
        &AuditConfig::default(),
        common::instant(DEMO_NOW),
        extras,
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_rule_fails_at_least_once() {
    let outcome = audit_demo();
    let silent: Vec<&str> = ALL_RULES
        .iter()
        .map(|r| r.meta().code)
        .filter(|code| {
            !outcome
                .findings
                .iter()
                .any(|f| f.rule.code == *code && f.status == Status::Fail)
        })
        .collect();
    assert!(
        silent.is_empty(),
        "rules that never fail on the demo: {silent:?}"
    );
}

#[test]
fn nothing_is_unknown_or_exempted() {
    // The demo has every column and every account fact: an unknown would mean a broken fixture.
    let outcome = audit_demo();
    let odd: Vec<String> = outcome
        .findings
        .iter()
        .filter(|f| f.status != Status::Fail)
        .map(common::render)
        .collect();
    assert!(odd.is_empty(), "{odd:#?}");
    assert!(outcome.root_row_seen);
    assert_eq!(outcome.account_ids, ["111122223333"]);
}

#[test]
fn several_users_are_clean() {
    let users = read_all(DEMO_REPORT.as_bytes(), "demo/credential-report.csv").unwrap();
    let outcome = audit_demo();
    let clean: Vec<&str> = users
        .iter()
        .filter(|u| !u.is_root)
        .map(|u| u.name.as_str())
        .filter(|name| {
            !outcome
                .findings
                .iter()
                .any(|f| f.user.as_deref() == Some(*name))
        })
        .collect();
    assert!(
        clean.len() >= 4,
        "only {} clean users: {clean:?}",
        clean.len()
    );
    assert_eq!(
        clean,
        [
            "ci-github-actions",
            "alice.nguyen",
            "bob.okafor",
            "ext-auditor.shah",
            "frank.li",
            "gina.rossi",
            "monitoring-datadog",
        ]
    );
    assert!((15..=20).contains(&users.iter().filter(|u| !u.is_root).count()));
}

#[test]
fn the_findings_are_the_readme_story() {
    let outcome = audit_demo();
    assert_eq!(
        common::rendered(&outcome.findings),
        common::sorted(&[
            // The account.
            "ROOT001 fail <root_account> access_key_1",
            "ROOT002 fail <root_account> mfa",
            "PWD003 fail - account",
            "TRAIL001 fail - account",
            // Bots.
            "KEY002 fail deploy-legacy-jenkins access_key_1",
            "KEY001 fail terraform-ci access_key_1",
            "KEY003 fail terraform-ci access_key_1",
            "KEY004 fail backup-s3-sync access_key_1",
            "KEY001 fail old-reporting-bot access_key_1",
            "KEY002 fail old-reporting-bot access_key_1",
            "KEY004 fail old-reporting-bot access_key_2",
            "KEY002 fail ses-smtp-notifications access_key_1",
            // People.
            "KEY002 fail carol.diaz access_key_1",
            "PWD002 fail carol.diaz mfa",
            "PWD001 fail dan.kowalski password",
            "KEY001 fail ext-erin.walsh access_key_1",
            "KEY005 fail ext-erin.walsh access_key_1",
            "PWD001 fail ext-erin.walsh password",
            "PWD002 fail ext-erin.walsh mfa",
            "PWD001 fail breakglass-admin password",
            "KEY005 fail henry.park access_key_1",
        ])
    );
}
