//! The table printer on the shared fixture: exact text, so any change to what people read is a
//! reviewed change to this file.

mod common;

use common::*;
use keywarden_core::config::{layer, RuleSelection, ThresholdOverrides};
use keywarden_core::rules::{rule_by_code, ALL_RULES};
use keywarden_core::AccountExtras;
use keywarden_output::{DataSource, Format};

/// The expected text; `{PWD002}`-style placeholders stand for each rule's fix hint, which comes
/// from the rule's documentation and is tested there.
const GOLDEN: &str = r#"credential report ./r.csv, data as of 2024-05-31T21:00:00Z (3 h old)
audited at 2024-06-01T00:00:00Z with keywarden 0.1.0, preset default, 11 rules

HIGH (2)
  FAIL      PWD002    bob        mfa           console user has a password and no MFA device
            exemption not applied: expired: MFA rollout (from config:exemption[1], expired 2024-03-31T23:59:59Z)
            fix PWD002: {PWD002}
  UNKNOWN   TRAIL001  (account)  account       cannot decide: a credential report does not include CloudTrail trails; audit the live account

MEDIUM (5)
  FAIL      KEY001    alice      access_key_1  active access key unused for 121 days (limit 45)
  EXEMPTED  KEY001    ci-bot     access_key_1  active access key never used, created 92 days ago (limit 45)
            exempted: CI migration, see "OPS-12" (from config:exemption[0], until 2024-12-31T23:59:59Z)
            fix KEY001: {KEY001}
  FAIL      KEY002    alice      access_key_1  active access key is 152 days old (limit 90)
  FAIL      KEY002    ci-bot     access_key_1  active access key is 92 days old (limit 90)
            fix KEY002: {KEY002}
  UNKNOWN   PWD003    (account)  account       cannot decide: a credential report does not include the account password policy; audit the live account

PWD003, TRAIL001 unknown: a credential report file does not hold what these rules need to decide; audit the live account, or leave them out with --ignore PWD003,TRAIL001.

4 users, 4 failing, 2 unknown, 1 exempted
"#;

fn golden() -> String {
    let mut text = GOLDEN.to_owned();
    for code in ["PWD002", "KEY001", "KEY002"] {
        let hint = rule_by_code(code).unwrap().meta().fix_hint();
        text = text.replace(&format!("{{{code}}}"), &hint);
    }
    text
}

#[test]
fn golden_output() {
    let outcome = outcome();
    assert_eq!(
        render(Format::Table, &report(&outcome, file_source())),
        golden()
    );
}

#[test]
fn same_input_same_bytes() {
    let outcome = outcome();
    let first = render(Format::Table, &report(&outcome, file_source()));
    assert_eq!(
        render(Format::Table, &report(&outcome, file_source())),
        first
    );
    assert!(!first.contains('\x1b'), "no colour codes");
}

#[test]
fn fix_hints_appear_once_per_rule() {
    let outcome = outcome();
    let text = render(Format::Table, &report(&outcome, file_source()));
    for code in ["KEY001", "KEY002", "PWD002"] {
        assert_eq!(text.matches(&format!("fix {code}:")).count(), 1, "{code}");
    }
    // Unknown-only rules get no fix: nothing is known to need fixing.
    assert!(!text.contains("fix TRAIL001") && !text.contains("fix PWD003"));
}

#[test]
fn a_clean_audit_says_so() {
    let outcome = audit(&ROWS[..1], &Default::default(), clean_extras());
    assert!(outcome.findings.is_empty());
    let text = render(Format::Table, &report(&outcome, file_source()));
    assert_eq!(
        text,
        "credential report ./r.csv, data as of 2024-05-31T21:00:00Z (3 h old)\n\
         audited at 2024-06-01T00:00:00Z with keywarden 0.1.0, preset default, 11 rules\n\
         \n\
         No findings: every credential passed all 11 rules run.\n\
         1 user, 0 failing, 0 unknown, 0 exempted\n"
    );
}

#[test]
fn no_rules_is_not_a_clean_audit() {
    let ignore_all = RuleSelection {
        select: Vec::new(),
        ignore: ALL_RULES.iter().map(|r| r.meta().code.to_owned()).collect(),
    };
    let config = layer(None, None, &ThresholdOverrides::default(), &ignore_all).unwrap();
    let outcome = audit(ROWS, &config, AccountExtras::unknown_from_report_file());
    let text = render(Format::Table, &report(&outcome, file_source()));
    assert!(
        text.contains("\nNo rules ran: nothing was checked.\n"),
        "{text}"
    );
    assert!(!text.contains("No findings"));
}

#[test]
fn unknown_data_age_gives_the_reason() {
    let outcome = outcome();
    let source = DataSource {
        kind: "credential-report-file",
        location: "-".into(),
        as_of: None,
        as_of_basis: "unknown for standard input (pass --report-time)".into(),
    };
    let text = render(Format::Table, &report(&outcome, source));
    let first = text.lines().next().unwrap();
    assert_eq!(
        first,
        "credential report -, data age unknown: unknown for standard input (pass --report-time)"
    );
}

#[test]
fn key_ids_show_when_known() {
    let mut outcome = outcome();
    // A live source attaches key ids; a report file cannot, so set one as a live source would.
    let finding = outcome
        .findings
        .iter_mut()
        .find(|f| f.user.as_deref() == Some("alice"))
        .unwrap();
    finding.access_key_id = Some("AKIAEXAMPLEKEY000001".into());
    let text = render(Format::Table, &report(&outcome, file_source()));
    assert!(
        text.contains("  FAIL      KEY001    alice      access_key_1 AKIAEXAMPLEKEY000001  active access key unused"),
        "{text}"
    );
}

/// The demo's report read years after it was made: "2015 d" read like a year, so long spans
/// are spelled out in days and, past one, in years.
#[test]
fn long_ages_are_spelled_out_in_days_and_years() {
    let outcome = outcome();
    for (as_of, said) in [
        ("2024-05-21T00:00:00Z", "(11 days old)"),
        ("2018-11-25T00:00:00Z", "(5.5 years (2015 days) old)"),
    ] {
        let source = DataSource {
            as_of: Some(ts(as_of)),
            ..file_source()
        };
        let text = render(Format::Table, &report(&outcome, source));
        assert!(
            text.lines().next().unwrap().contains(said),
            "{as_of}: {text}"
        );
    }
}

/// A live audit's account-wide rules are decided from the account: no report-file hint.
#[test]
fn the_report_file_hint_is_only_for_report_files() {
    let outcome = outcome();
    let source = DataSource {
        kind: "live",
        ..file_source()
    };
    let text = render(Format::Table, &report(&outcome, source));
    assert!(!text.contains("does not hold what"), "{text}");
}

// ----- a terminal's table: colour and width (issue 10, point 8) -----

fn render_styled(
    style: keywarden_output::TableStyle,
    report: &keywarden_output::FindingsReport<'_>,
) -> String {
    use keywarden_output::Printer;
    let mut out = Vec::new();
    keywarden_output::TablePrinter { style }
        .print_findings(report, &mut out)
        .unwrap();
    String::from_utf8(out).unwrap()
}

#[test]
fn a_wide_enough_terminal_prints_the_plain_table() {
    // No line of the golden table is longer than 300 characters: nothing wraps, no colour.
    let outcome = outcome();
    let style = keywarden_output::TableStyle {
        color: false,
        width: Some(400),
    };
    assert_eq!(
        render_styled(style, &report(&outcome, file_source())),
        golden()
    );
}

#[test]
fn a_narrow_terminal_wraps_each_message_under_its_column() {
    let outcome = outcome();
    let width = 80;
    let style = keywarden_output::TableStyle {
        color: false,
        width: Some(width),
    };
    let text = render_styled(style, &report(&outcome, file_source()));
    for line in text.lines() {
        assert!(
            line.chars().count() <= width,
            "{line:?} is wider than {width}"
        );
    }
    // The row, then its message's rest under the message column (47: after the credential).
    assert!(
        text.contains(
            "  UNKNOWN   TRAIL001  (account)  account       cannot decide: a credential\n\
             \x20                                              report does not include\n\
             \x20                                              CloudTrail trails; audit the live\n\
             \x20                                              account\n"
        ),
        "{text}"
    );
    // Fix hints wrap under themselves, four columns in.
    let fix = text
        .lines()
        .position(|l| l.starts_with("            fix KEY001: "))
        .unwrap();
    assert!(text
        .lines()
        .nth(fix + 1)
        .unwrap()
        .starts_with("                "));
    // Nothing is lost: the words are the plain table's, in order.
    let words = |t: &str| t.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
    assert_eq!(words(&text), words(&golden()));
}

#[test]
fn a_word_longer_than_the_line_is_cut() {
    let style = keywarden_output::TableStyle {
        color: false,
        width: Some(40),
    };
    let long = format!("  {}", "x".repeat(100));
    let lines = style.wrap(&long);
    assert!(lines.iter().all(|l| l.chars().count() <= 40), "{lines:?}");
    assert_eq!(lines.concat().matches('x').count(), 100);
    // Below 40 columns it wraps at 40: narrower would scatter the words.
    let tiny = keywarden_output::TableStyle {
        color: false,
        width: Some(10),
    };
    assert!(tiny
        .wrap(&"word ".repeat(20))
        .iter()
        .all(|l| l.chars().count() <= 40));
    // No width: one line, as given.
    assert_eq!(
        keywarden_output::TableStyle::default().wrap(&long),
        vec![long.clone()]
    );
}

#[test]
fn colour_marks_severities_and_statuses_only() {
    let outcome = outcome();
    let style = keywarden_output::TableStyle {
        color: true,
        width: None,
    };
    let text = render_styled(style, &report(&outcome, file_source()));
    assert!(text.contains("\x1b[31mHIGH (2)\x1b[0m\n"), "{text}");
    assert!(text.contains("\x1b[33mMEDIUM (5)\x1b[0m\n"));
    assert!(text.contains("  \x1b[31mFAIL\x1b[0m      PWD002    bob "));
    assert!(text.contains("  \x1b[35mUNKNOWN\x1b[0m   TRAIL001"));
    assert!(text.contains("  \x1b[2mEXEMPTED\x1b[0m  KEY001    ci-bot"));
    // Without the codes it is the plain table, byte for byte.
    let stripped = text
        .replace("\x1b[0m", "")
        .replace("\x1b[31m", "")
        .replace("\x1b[33m", "")
        .replace("\x1b[35m", "")
        .replace("\x1b[2m", "");
    assert_eq!(stripped, golden());
}
