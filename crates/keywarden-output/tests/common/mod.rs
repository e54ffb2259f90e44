//! The fixture every printer test shares: a small credential report run through the real audit
//! engine at a fixed `now`, so the printers are tested on the findings the core really produces.

#![allow(dead_code)] // each test binary uses its own part of the fixture

use keywarden_core::config::{layer, ConfigFile, RuleSelection, ThresholdOverrides};
use keywarden_core::model::{Known, PasswordPolicy, Trail};
use keywarden_core::report::{ReportReader, COLUMNS};
use keywarden_core::time::parse_timestamp;
use keywarden_core::{audit_report, AccountExtras, AuditConfig, AuditOutcome, Timestamp};
use keywarden_output::{DataSource, FindingsReport, Format};

pub const NOW: &str = "2024-06-01T00:00:00Z";

/// Root is clean; alice has an old, unused key (KEY001, KEY002); ci-bot has a never-used key
/// (KEY001 exempted by the config below, KEY002 failing); bob is a console user without MFA
/// (PWD002) whose exemption expired. From a report file alone, PWD003 and TRAIL001 are unknown.
pub const ROWS: &[&str] = &[
    "<root_account>,arn:aws:iam::123456789012:root,2019-01-01T00:00:00+00:00,not_supported,2024-05-20T10:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
    "alice,arn:aws:iam::123456789012:user/alice,2023-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-01T00:00:00+00:00,2024-02-01T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
    "ci-bot,arn:aws:iam::123456789012:user/ci-bot,2024-03-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-03-01T00:00:00+00:00,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
    "bob,arn:aws:iam::123456789012:user/bob,2023-06-01T00:00:00+00:00,true,2024-05-30T00:00:00+00:00,2024-01-01T00:00:00+00:00,N/A,false,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
];

pub const CONFIG: &str = r#"
[[exemption]]
user = "ci-*"
rules = ["KEY001"]
reason = 'CI migration, see "OPS-12"'
expires = "2024-12-31"

[[exemption]]
user = "bob"
rules = ["PWD002"]
reason = "MFA rollout"
expires = "2024-03-31"
"#;

pub fn ts(text: &str) -> Timestamp {
    parse_timestamp(text).unwrap()
}

pub fn report_csv(rows: &[&str]) -> String {
    let mut text = COLUMNS.join(",");
    for row in rows {
        text.push('\n');
        text.push_str(row);
    }
    text
}

pub fn config(text: &str) -> AuditConfig {
    let file = ConfigFile::parse(text, "keywarden.toml").unwrap();
    layer(
        None,
        Some((&file, "keywarden.toml")),
        &ThresholdOverrides::default(),
        &RuleSelection::default(),
    )
    .unwrap()
}

pub fn audit(rows: &[&str], config: &AuditConfig, extras: AccountExtras) -> AuditOutcome {
    let csv = report_csv(rows);
    let reader = ReportReader::new(csv.as_bytes(), "r.csv").unwrap();
    audit_report(reader, config, ts(NOW), extras).unwrap()
}

/// The standard fixture: fail, unknown, exempted and an ignored exemption.
pub fn outcome() -> AuditOutcome {
    audit(
        ROWS,
        &config(CONFIG),
        AccountExtras::unknown_from_report_file(),
    )
}

/// Account facts under which a clean report has no findings at all.
pub fn clean_extras() -> AccountExtras {
    AccountExtras {
        password_policy: Known::Known(Some(PasswordPolicy {
            minimum_password_length: 16,
            require_uppercase_characters: true,
            require_lowercase_characters: true,
            require_numbers: true,
            require_symbols: true,
            password_reuse_prevention: Some(24),
            max_password_age: Some(90),
        })),
        trails: Known::Known(vec![Trail {
            name: "org-trail".into(),
            home_region: "us-east-1".into(),
            is_multi_region: true,
            is_logging: true,
            logs_management_write_events: true,
        }]),
        root_summary: None,
    }
}

/// A report file read three hours after AWS generated it.
pub fn file_source() -> DataSource {
    DataSource {
        kind: "credential-report-file",
        location: "./r.csv".into(),
        as_of: Some(ts("2024-05-31T21:00:00Z")),
        as_of_basis: "--report-time".into(),
    }
}

pub fn report(outcome: &AuditOutcome, source: DataSource) -> FindingsReport<'_> {
    FindingsReport::audit(outcome, source, "default", "0.1.0")
}

pub fn render(format: Format, report: &FindingsReport<'_>) -> String {
    let mut out = Vec::new();
    format.printer().print_findings(report, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}
