//! The five real credential reports in tests/data/credential-reports (captured by Cloud
//! Custodian's tests, see SOURCE.md there), audited at 2021-06-01T00:00:00Z with the default
//! thresholds (unused 45 days, key age 90, inactive 30, setup window 10 minutes) and no account
//! facts, as `keywarden audit --report FILE` would.
//!
//! The expected findings were worked out by hand from each rule's "How it decides" and the CSV
//! values, not copied from the code's output. Every report gives `PWD003 unknown` and
//! `TRAIL001 unknown`: a report file says nothing about the password policy or trails. A report
//! without a `<root_account>` row also gives `ROOT001 unknown` and `ROOT002 unknown`.
//! Ages quoted in comments are whole days at now.

#![allow(clippy::disallowed_methods, reason = "a test reads its fixture files")]

mod common;

use keywarden_core::config::AuditConfig;
use keywarden_core::report::ReportReader;
use keywarden_core::{audit_report, AccountExtras};
use std::path::{Path, PathBuf};

const NOW: &str = "2021-06-01T00:00:00Z";

fn data_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/credential-reports")
}

fn check(file: &str, expected: &[&str]) {
    let path = data_dir().join(file);
    let bytes = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let reader = ReportReader::new(bytes.as_slice(), file).unwrap_or_else(|e| panic!("{e}"));
    assert!(
        reader.missing_columns().is_empty(),
        "{file}: {:?}",
        reader.missing_columns()
    );
    let outcome = audit_report(
        reader,
        &AuditConfig::default(),
        common::instant(NOW),
        AccountExtras::unknown_from_report_file(),
    )
    .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(
        common::rendered(&outcome.findings),
        common::sorted(expected),
        "{file}: findings differ from the hand analysis"
    );
}

/// The account-wide findings every report file gives.
const NO_ACCOUNT_FACTS: [&str; 2] = ["PWD003 unknown - account", "TRAIL001 unknown - account"];
const NO_ROOT_ROW: [&str; 2] = [
    "ROOT001 unknown <root_account> account",
    "ROOT002 unknown <root_account> mfa",
];

fn with(findings: &[&'static str], extra: &[&[&'static str]]) -> Vec<&'static str> {
    let mut all = findings.to_vec();
    for list in extra {
        all.extend_from_slice(list);
    }
    all
}

#[test]
fn multi_delete() {
    // One user, kapil: a console user without MFA and two active keys.
    check(
        "test_iam_user_credential_multi_delete__iam.GetCredentialReport_1.csv",
        &with(
            &[
                // Key 1 shows a last use (2018-11-21) before its creation (2019-12-14): the
                // later instant counts, and even that is 534 days ago.
                "KEY001 fail kapil access_key_1",
                // Key 2: last used 2018-12-01, 912 days.
                "KEY001 fail kapil access_key_2",
                // Created 2019-12-14 (534 days) and 2016-06-24 (1802 days): both over 90.
                "KEY002 fail kapil access_key_1",
                "KEY002 fail kapil access_key_2",
                // Two active keys; the finding goes on the older one, key 2 (2016 < 2019).
                "KEY003 fail kapil access_key_2",
                // Password last used 2018-12-01, 912 days.
                "PWD001 fail kapil password",
                "PWD002 fail kapil mfa",
                // No KEY005: both keys were used, and neither was created with the user (2016-05-16).
            ],
            &[&NO_ROOT_ROW, &NO_ACCOUNT_FACTS],
        ),
    );
}

#[test]
fn multi_delete_noop() {
    // Root plus test1; the file has no final newline.
    check(
        "test_iam_user_credential_multi_delete_noop__iam.GetCredentialReport_1.csv",
        &with(
            &[
                // Root: mfa_active false. Both key slots are false/N/A, so no ROOT001.
                "ROOT002 fail <root_account> mfa",
                // test1's key 1 is inactive and was never used: idle since its creation,
                // 2020-02-03, 483 days, over 30.
                "KEY004 fail test1 access_key_1",
                // test1's key 2 is active and never used, but created "2099-02-03" (the
                // anonymiser's date), after the data's own time (now, for a report file
                // without --report-time): a date that cannot be true. Its age would be
                // negative and pass; KEY001 and KEY002 are unknown for that key instead.
                "KEY001 unknown test1 access_key_2",
                "KEY002 unknown test1 access_key_2",
                // test1 has no password: no PWD*, no KEY005.
            ],
            &[&NO_ACCOUNT_FACTS],
        ),
    );
}

#[test]
fn reverse_filter_delete() {
    // zscholl, written with TRUE/FALSE in capitals; no root row.
    check(
        "test_iam_user_credential_reverse_filter_delete__iam.GetCredentialReport_1.csv",
        &with(
            &[
                // Key 1: created 2019-09-25 10:52, last used six minutes later; 614 days unused.
                "KEY001 fail zscholl access_key_1",
                "KEY002 fail zscholl access_key_1",
                // Both keys TRUE; key 1 (2019) is older than key 2 (2099).
                "KEY003 fail zscholl access_key_1",
                // Key 2: last used 2020-04-02 (424 days ago) but created "2099-08-10", after the
                // data's own time (now): a date that cannot be true. KEY001 and KEY002 read the
                // creation, so both are unknown for key 2 (its negative age used to pass them).
                "KEY001 unknown zscholl access_key_2",
                "KEY002 unknown zscholl access_key_2",
                // password_enabled FALSE: no PWD*, no KEY005 (whose 2099 user_creation_time
                // is never read).
            ],
            &[&NO_ROOT_ROW, &NO_ACCOUNT_FACTS],
        ),
    );
}

#[test]
fn delete_options() {
    // test_user: a console user with one key; no final newline; no root row.
    check(
        "test_iam_user_delete_options__iam.GetCredentialReport_1.csv",
        &with(
            &[
                // Key 1 never used (N/A): aged from its creation, 2018-06-01, 1095 days. Prowler
                // would pass it.
                "KEY001 fail test_user access_key_1",
                "KEY002 fail test_user access_key_1",
                // Password never used (no_information): aged from password_last_changed,
                // 2018-06-01, 1095 days.
                "PWD001 fail test_user password",
                "PWD002 fail test_user mfa",
                // No KEY005: the key came 1 day 4 hours after the user (2018-05-30 19:46), far
                // outside the 10-minute setup window.
            ],
            &[&NO_ROOT_ROW, &NO_ACCOUNT_FACTS],
        ),
    );
}

#[test]
fn unused_keys() {
    // Root plus seven users, each with one active key 1; no final newline.
    check(
        "test_iam_user_unused_keys__iam.GetCredentialReport_2.csv",
        &with(
            &[
                // Root's key 1 is active (created 2011-08-19).
                "ROOT001 fail <root_account> access_key_1",
                // Root's key 2 is inactive but has a creation date (2007-10-13): it exists, and
                // an inactive root key still fails. (User rules skip root, so no KEY004 here.)
                "ROOT001 fail <root_account> access_key_2",
                "ROOT002 fail <root_account> mfa",
                // charmworld, Hazmat, kapilt: active keys never used (N/A), created 2012, 2013
                // and 2015. Aged from creation they are years unused: KEY001 fails although
                // they were never used, which is exactly what Prowler misses. And old: KEY002.
                "KEY001 fail charmworld access_key_1",
                "KEY002 fail charmworld access_key_1",
                "KEY001 fail Hazmat access_key_1",
                "KEY002 fail Hazmat access_key_1",
                "KEY001 fail kapilt access_key_1",
                "KEY002 fail kapilt access_key_1",
                // kaleb: console password (never used, set 2016-07-05), no MFA, and a key created
                // in the same second as the user and never used: KEY005 as well as the others.
                "KEY001 fail kaleb access_key_1",
                "KEY002 fail kaleb access_key_1",
                "KEY005 fail kaleb access_key_1",
                "PWD001 fail kaleb password",
                "PWD002 fail kaleb mfa",
                // rome, syracuse, tyre: used once in 2016 (syracuse with region N/A next to
                // service s3, which does not hide the date): unused and old.
                "KEY001 fail rome access_key_1",
                "KEY002 fail rome access_key_1",
                "KEY001 fail syracuse access_key_1",
                "KEY002 fail syracuse access_key_1",
                "KEY001 fail tyre access_key_1",
                "KEY002 fail tyre access_key_1",
                // charmworld, Hazmat and kapilt also got their key at user creation, but have no
                // password, so KEY005 (about console users) does not apply.
            ],
            &[&NO_ACCOUNT_FACTS],
        ),
    );
}

/// A report added to the data folder must come with its hand analysis here.
#[test]
fn every_report_in_the_data_folder_is_checked() {
    let checked = [
        "test_iam_user_credential_multi_delete__iam.GetCredentialReport_1.csv",
        "test_iam_user_credential_multi_delete_noop__iam.GetCredentialReport_1.csv",
        "test_iam_user_credential_reverse_filter_delete__iam.GetCredentialReport_1.csv",
        "test_iam_user_delete_options__iam.GetCredentialReport_1.csv",
        "test_iam_user_unused_keys__iam.GetCredentialReport_2.csv",
    ];
    let mut found: Vec<String> = std::fs::read_dir(data_dir())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".csv"))
        .collect();
    found.sort();
    assert_eq!(found, checked);
}
