//! The credential-report parser on bad input: every error must say where (origin, line, column)
//! and what, and no input, however broken, may panic the reader.
//!
//! The well-formed quirks (booleans in any case, markers, no final newline, CRLF, reordered
//! columns) are rule cases in tests/cases/report/; this file is about what must be refused.

use keywarden_core::config::AuditConfig;
use keywarden_core::report::{read_all, ReportError, ReportErrorKind, ReportReader, COLUMNS};
use keywarden_core::time::parse_timestamp;
use keywarden_core::{audit_report, AccountExtras};
use proptest::prelude::*;

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";

/// A valid row; the tests below break one value at a time.
const GOOD_ROW: &str = "alice,arn:aws:iam::123456789012:user/alice,2022-01-10T09:00:00+00:00,true,2024-05-31T09:00:00+00:00,2024-03-10T09:00:00+00:00,N/A,true,true,2024-04-01T09:00:00+00:00,2024-05-31T10:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";

/// GOOD_ROW with the value of `column` replaced.
fn row_with(column: &str, value: &str) -> String {
    let index = COLUMNS.iter().position(|c| *c == column).unwrap();
    let mut fields: Vec<&str> = GOOD_ROW.split(',').collect();
    assert_eq!(fields.len(), COLUMNS.len());
    fields[index] = value;
    fields.join(",")
}

/// The first error reading `input` to its end; panics if there is none.
fn first_error(input: &[u8], origin: &str) -> ReportError {
    let reader = match ReportReader::new(input, origin) {
        Ok(reader) => reader,
        Err(error) => return error,
    };
    for row in reader {
        if let Err(error) = row {
            return error;
        }
    }
    panic!("{origin}: expected an error, the input was read without one");
}

/// The assertions every error shares: the where is in the struct and in the message.
fn assert_located(error: &ReportError, origin: &str, line: u64, column: Option<(usize, &str)>) {
    assert_eq!(error.origin, origin);
    assert_eq!(error.line, Some(line), "{error}");
    assert_eq!(
        error.column.as_ref().map(|(n, name)| (*n, name.as_str())),
        column,
        "{error}"
    );
    let text = error.to_string();
    assert!(text.starts_with(&format!("{origin}:{line}: ")), "{text}");
    if let Some((number, name)) = column {
        assert!(
            text.contains(&format!("column {number} (`{name}`)")),
            "{text}"
        );
    }
}

#[test]
fn a_csv_that_is_not_a_credential_report() {
    let error = first_error(
        b"name,email,team\nbob,bob@example.com,payments\n",
        "people.csv",
    );
    assert_located(&error, "people.csv", 1, None);
    match &error.kind {
        ReportErrorKind::NotAReport { missing, found } => {
            assert_eq!(missing, &["user", "arn"]);
            assert_eq!(found, "name,email,team");
        }
        other => panic!("{other:?}"),
    }
    let text = error.to_string();
    assert!(text.contains("not a credential report"), "{text}");
    assert!(text.contains("`user`") && text.contains("`arn`"), "{text}");
}

#[test]
fn the_api_response_instead_of_the_decoded_csv() {
    // GetCredentialReport returns the CSV base64-encoded in `Content`; saving the JSON response
    // instead of decoding it is an easy mistake, and must say so rather than read zero users.
    let json = br#"{"Content": "dXNlcixhcm4sdXNlcl9jcmVhdGlvbl90aW1l", "ReportFormat": "text/csv", "GeneratedTime": "2024-06-01T11:00:00Z"}"#;
    let error = first_error(json, "report.json");
    assert_located(&error, "report.json", 1, None);
    assert!(
        matches!(&error.kind, ReportErrorKind::NotAReport { found, .. } if found.ends_with('…')),
        "{error:?}"
    );
}

#[test]
fn an_empty_file() {
    for input in [&b""[..], b"\n\n"] {
        let error = first_error(input, "empty.csv");
        assert_located(&error, "empty.csv", 1, None);
        assert_eq!(error.kind, ReportErrorKind::Empty);
        assert!(error.to_string().contains("empty input"), "{error}");
    }
}

#[test]
fn a_truncated_row() {
    // The download was cut off in the middle of the second user's row.
    let cut: Vec<&str> = GOOD_ROW.split(',').take(10).collect();
    let input = format!("{HEADER}\n{GOOD_ROW}\n{}", cut.join(","));
    let error = first_error(input.as_bytes(), "cut.csv");
    assert_located(&error, "cut.csv", 3, None);
    assert_eq!(
        error.kind,
        ReportErrorKind::FieldCount {
            expected: 22,
            found: 10
        }
    );
    assert!(
        error
            .to_string()
            .contains("row has 10 fields but the header has 22"),
        "{error}"
    );
    // read_all gives the same error: a half-read report is not a report.
    assert_eq!(read_all(input.as_bytes(), "cut.csv").unwrap_err(), error);
}

#[test]
fn a_row_with_a_field_too_many() {
    let input = format!("{HEADER}\n{GOOD_ROW},extra\n");
    let error = first_error(input.as_bytes(), "long.csv");
    assert_located(&error, "long.csv", 2, None);
    assert_eq!(
        error.kind,
        ReportErrorKind::FieldCount {
            expected: 22,
            found: 23
        }
    );
}

#[test]
fn a_bad_date() {
    let input = format!(
        "{HEADER}\n{GOOD_ROW}\n{}\n",
        row_with("access_key_1_last_rotated", "2024-02-30T00:00:00+00:00")
    );
    let error = first_error(input.as_bytes(), "dates.csv");
    assert_located(
        &error,
        "dates.csv",
        3,
        Some((10, "access_key_1_last_rotated")),
    );
    assert_eq!(
        error.kind,
        ReportErrorKind::BadDate("2024-02-30T00:00:00+00:00".into())
    );
    assert!(
        error
            .to_string()
            .contains("invalid date `2024-02-30T00:00:00+00:00`"),
        "{error}"
    );
}

#[test]
fn a_date_in_a_local_format() {
    let input = format!(
        "{HEADER}\n{}\n",
        row_with("password_last_used", "01/06/2024 09:00")
    );
    let error = first_error(input.as_bytes(), "excel.csv");
    assert_located(&error, "excel.csv", 2, Some((5, "password_last_used")));
    assert_eq!(
        error.kind,
        ReportErrorKind::BadDate("01/06/2024 09:00".into())
    );
}

#[test]
fn the_column_number_is_the_files_own() {
    // With arn first, `user` is the file's second column: the error must point into the file as
    // it is, not into AWS's order.
    let header = HEADER.replacen("user,arn,", "arn,user,", 1);
    let rest: Vec<&str> = GOOD_ROW.split(',').skip(2).collect();
    let row = format!("arn:aws:iam::123456789012:user/alice,,{}", rest.join(","));
    let error = first_error(format!("{header}\n{row}\n").as_bytes(), "swapped.csv");
    assert_located(&error, "swapped.csv", 2, Some((2, "user")));
    assert_eq!(error.kind, ReportErrorKind::EmptyValue);
}

#[test]
fn an_unknown_boolean() {
    let input = format!("{HEADER}\n{}\n", row_with("mfa_active", "yes"));
    let error = first_error(input.as_bytes(), "bools.csv");
    assert_located(&error, "bools.csv", 2, Some((8, "mfa_active")));
    assert_eq!(error.kind, ReportErrorKind::BadBoolean("yes".into()));
    assert!(
        error.to_string().contains("invalid boolean `yes`"),
        "{error}"
    );
}

#[test]
fn an_empty_boolean_is_not_false() {
    let input = format!("{HEADER}\n{}\n", row_with("access_key_1_active", ""));
    let error = first_error(input.as_bytes(), "bools.csv");
    assert_located(&error, "bools.csv", 2, Some((9, "access_key_1_active")));
    assert_eq!(error.kind, ReportErrorKind::BadBoolean(String::new()));
}

#[test]
fn an_empty_user_name() {
    let input = format!("{HEADER}\n{}\n", row_with("user", ""));
    let error = first_error(input.as_bytes(), "names.csv");
    assert_located(&error, "names.csv", 2, Some((1, "user")));
    assert_eq!(error.kind, ReportErrorKind::EmptyValue);
}

#[test]
fn a_duplicated_column() {
    let header = HEADER.replacen("password_next_rotation", "mfa_active", 1);
    let error = first_error(format!("{header}\n{GOOD_ROW}\n").as_bytes(), "dup.csv");
    assert_located(&error, "dup.csv", 1, None);
    assert_eq!(
        error.kind,
        ReportErrorKind::DuplicateColumn("mfa_active".into())
    );
    assert!(
        error
            .to_string()
            .contains("column `mfa_active` appears twice"),
        "{error}"
    );
}

/// The root row as AWS writes it.
const ROOT_ROW: &str = "<root_account>,arn:aws:iam::123456789012:root,2015-01-01T00:00:00+00:00,not_supported,2024-05-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";

/// The error for a row that repeats an earlier one, and its message naming both lines.
fn assert_duplicate(error: &ReportError, origin: &str, name: &str, first: u64, second: u64) {
    assert_located(error, origin, second, Some((1, "user")));
    assert_eq!(
        error.kind,
        ReportErrorKind::DuplicateUser {
            name: name.into(),
            first_line: first
        }
    );
    let text = error.to_string();
    assert!(text.contains(&format!("{origin}:{first}")), "{text}");
}

#[test]
fn the_same_user_twice() {
    // Two exports pasted into one file, the later one after alice's key was rotated: whichever
    // row a consumer keeps would decide her verdicts. Neither is trusted: the read stops, naming
    // both lines, and the audit prints nothing.
    let rotated = row_with("access_key_1_last_rotated", "2019-04-01T09:00:00+00:00");
    let bob = GOOD_ROW.replace("alice", "bob");
    let input = format!("{HEADER}\n{GOOD_ROW}\n{bob}\n{rotated}\n");
    let error = first_error(input.as_bytes(), "merged.csv");
    assert_duplicate(&error, "merged.csv", "alice", 2, 4);
    assert!(error.to_string().contains("appears twice"), "{error}");
    assert_eq!(read_all(input.as_bytes(), "merged.csv").unwrap_err(), error);
    let reader = ReportReader::new(input.as_bytes(), "merged.csv").unwrap();
    let now = parse_timestamp("2024-06-01T12:00:00Z").unwrap();
    let audit = audit_report(
        reader,
        &AuditConfig::default(),
        now,
        AccountExtras::unknown_from_report_file(),
    );
    assert_eq!(audit.unwrap_err(), error);
}

#[test]
fn the_same_user_in_another_case() {
    // IAM user names are unique whatever their case: `Alice` cannot exist beside `alice`.
    let input = format!(
        "{HEADER}\n{GOOD_ROW}\n{}\n",
        GOOD_ROW.replace("alice", "Alice")
    );
    let error = first_error(input.as_bytes(), "case.csv");
    assert_duplicate(&error, "case.csv", "Alice", 2, 3);
}

#[test]
fn two_root_rows() {
    // The audit keeps one root row; a second (a forged one with MFA, say) must not silently
    // replace the first. The lines are the rows' own, after blank lines and a quoted value
    // that spans two lines.
    let quoted = GOOD_ROW
        .replacen("alice,", "\"bob\",", 1)
        .replacen(",s3,", ",\"s3\nx\",", 1);
    let input = format!("{HEADER}\n{ROOT_ROW}\n\n{quoted}\n\n{ROOT_ROW}\n");
    let error = first_error(input.as_bytes(), "roots.csv");
    assert_duplicate(&error, "roots.csv", "<root_account>", 2, 7);
    assert!(error.to_string().contains("a second root row"), "{error}");
}

#[test]
fn the_same_name_in_two_accounts_is_two_users() {
    // Reports of two accounts concatenated under one header: alice exists in both.
    let other = GOOD_ROW.replace("123456789012", "210987654321");
    let input = format!("{HEADER}\n{GOOD_ROW}\n{other}\n");
    let users = read_all(input.as_bytes(), "two-accounts.csv").unwrap();
    assert_eq!(users.len(), 2);
}

#[test]
fn an_account_that_extends_another_is_another_account() {
    // The reader remembers the last row's ARN prefix to find the account without parsing each
    // ARN; `1234567890123` begins like `123456789012`, and the users are still two. The third
    // row, alice again in the first account, is the duplicate.
    let longer = GOOD_ROW.replace("123456789012", "1234567890123");
    let input = format!("{HEADER}\n{GOOD_ROW}\n{longer}\n{GOOD_ROW}\n");
    let error = first_error(input.as_bytes(), "prefix.csv");
    assert_duplicate(&error, "prefix.csv", "alice", 2, 4);
    let two = format!("{HEADER}\n{GOOD_ROW}\n{longer}\n");
    assert_eq!(read_all(two.as_bytes(), "prefix.csv").unwrap().len(), 2);
}

#[test]
fn invalid_utf8_in_a_value() {
    let mut input = format!("{HEADER}\n{GOOD_ROW}\n").into_bytes();
    // Latin-1 "josé" where UTF-8 was expected.
    input.extend_from_slice(b"jos\xe9");
    input.extend_from_slice(&GOOD_ROW.as_bytes()[GOOD_ROW.find(',').unwrap()..]);
    let error = first_error(&input, "latin1.csv");
    assert_located(&error, "latin1.csv", 3, Some((1, "user")));
    assert_eq!(error.kind, ReportErrorKind::NotUtf8);
    assert!(error.to_string().contains("not valid UTF-8"), "{error}");
}

#[test]
fn invalid_utf8_in_the_header() {
    let mut input = b"us\xffer,arn\n".to_vec();
    input.extend_from_slice(GOOD_ROW.as_bytes());
    let error = first_error(&input, "header.csv");
    assert_located(&error, "header.csv", 1, None);
    assert_eq!(error.kind, ReportErrorKind::NotUtf8);
}

#[test]
fn the_line_is_the_rows_own_after_blank_lines() {
    // A report edited by hand (or concatenated) can have blank lines. They are skipped, but an
    // error on the row after them must still name the row's own line, here 4.
    let input = format!("{HEADER}\n\n\n{}\n", row_with("mfa_active", "yes"));
    let error = first_error(input.as_bytes(), "blank.csv");
    assert_located(&error, "blank.csv", 4, Some((8, "mfa_active")));
}

#[test]
fn the_audit_stops_at_the_first_bad_row() {
    let input = format!(
        "{HEADER}\n{GOOD_ROW}\n{}\n{GOOD_ROW}\n",
        row_with("access_key_2_last_used_date", "soon")
    );
    let reader = ReportReader::new(input.as_bytes(), "audit.csv").unwrap();
    let now = parse_timestamp("2024-06-01T12:00:00Z").unwrap();
    let error = audit_report(
        reader,
        &AuditConfig::default(),
        now,
        AccountExtras::unknown_from_report_file(),
    )
    .unwrap_err();
    assert_located(
        &error,
        "audit.csv",
        3,
        Some((16, "access_key_2_last_used_date")),
    );
}

#[test]
fn a_byte_order_mark_is_not_part_of_the_first_column() {
    // Excel writes one; the header must still be recognised and the row read.
    let input = format!("\u{feff}{HEADER}\n{GOOD_ROW}");
    let users = read_all(input.as_bytes(), "bom.csv").unwrap();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].name, "alice");
}

/// Reads `input` to its end or its first error, and checks that an error says where.
fn read_to_end_or_first_error(input: &[u8]) -> Result<usize, TestCaseError> {
    let mut reader = match ReportReader::new(input, "fuzz.csv") {
        Ok(reader) => reader,
        Err(error) => {
            prop_assert!(error.to_string().starts_with("fuzz.csv:"), "{}", error);
            return Ok(0);
        }
    };
    let mut rows = 0;
    while let Some(row) = reader.next_user() {
        match row {
            Ok(_) => rows += 1,
            Err(error) => {
                prop_assert!(error.line.is_some(), "{:?}", error);
                prop_assert!(error.to_string().starts_with("fuzz.csv:"), "{}", error);
                break;
            }
        }
        // Every row consumes at least one byte, so this bounds a reader that never ends.
        prop_assert!(rows <= input.len() + 1, "the reader does not terminate");
    }
    Ok(rows)
}

fn date() -> impl Strategy<Value = String> {
    (0i64..4_102_444_800).prop_map(|s| {
        chrono::DateTime::from_timestamp(s, 0)
            .unwrap()
            .format("%Y-%m-%dT%H:%M:%S+00:00")
            .to_string()
    })
}

fn marker() -> impl Strategy<Value = String> {
    prop_oneof![Just("N/A"), Just("no_information"), Just("not_supported")].prop_map(str::to_owned)
}

/// A cell that fits `column` most of the time: the report's own vocabulary, so that most rows
/// reach the rules; now and then noise, so that the error paths run too.
fn cell(column: &'static str) -> BoxedStrategy<String> {
    let fitting = match column {
        "user" => prop_oneof![Just("<root_account>".to_owned()), "[a-z][a-z.-]{0,8}"].boxed(),
        "arn" => prop_oneof![
            Just("arn:aws:iam::123456789012:root".to_owned()),
            "[a-z]{1,8}".prop_map(|u| format!("arn:aws:iam::123456789012:user/{u}")),
        ]
        .boxed(),
        c if c.ends_with("_active") || c == "password_enabled" => prop_oneof![
            Just("true"),
            Just("false"),
            Just("TRUE"),
            Just("False"),
            Just("not_supported")
        ]
        .prop_map(str::to_owned)
        .boxed(),
        c if c.ends_with("_time")
            || c.ends_with("_date")
            || c.contains("_last_")
            || c.ends_with("_rotation") =>
        {
            prop_oneof![4 => date(), 2 => marker()].boxed()
        }
        _ => prop_oneof![marker(), "[a-z0-9-]{1,10}"].boxed(),
    };
    let noise = prop_oneof![
        Just(String::new()),
        "[0-9T:+Z-]{0,26}",
        "[a-z/:\"\n ]{0,12}"
    ];
    prop_oneof![30 => fitting, 1 => noise].boxed()
}

fn row() -> impl Strategy<Value = Vec<String>> {
    COLUMNS.iter().map(|c| cell(c)).collect::<Vec<_>>()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(input in proptest::collection::vec(any::<u8>(), 0..2048)) {
        read_to_end_or_first_error(&input)?;
    }

    #[test]
    fn arbitrary_rows_under_a_valid_header_never_panic(body in proptest::collection::vec(any::<u8>(), 0..2048)) {
        let mut input = format!("{HEADER}\n").into_bytes();
        input.extend_from_slice(&body);
        read_to_end_or_first_error(&input)?;
    }

    #[test]
    fn plausible_rows_never_panic_the_audit(
        rows in proptest::collection::vec(row(), 0..8),
        now in 0i64..4_102_444_800,
    ) {
        let mut input = String::from(HEADER);
        for row in &rows {
            input.push('\n');
            // Quote every cell so that commas and newlines in the noise stay inside it.
            let quoted: Vec<String> = row.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
            input.push_str(&quoted.join(","));
        }
        let reader = ReportReader::new(input.as_bytes(), "fuzz.csv").unwrap();
        let now = chrono::DateTime::from_timestamp(now, 0).unwrap();
        match audit_report(reader, &AuditConfig::default(), now, AccountExtras::unknown_from_report_file()) {
            Ok(outcome) => {
                prop_assert_eq!(outcome.users_evaluated, rows.len() as u64);
                for finding in &outcome.findings {
                    let user = finding.user.as_deref();
                    prop_assert!(
                        user.is_none() || user == Some("<root_account>") || rows.iter().any(|r| Some(r[0].trim()) == user),
                        "finding about a user not in the report: {:?}", finding
                    );
                }
            }
            Err(error) => prop_assert!(error.to_string().starts_with("fuzz.csv:"), "{}", error),
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    /// The duplicate check keeps only a keyed hash of each user and the names of suspect rows:
    /// against a plain map of `(account, lowercase name)`, it finds the same first duplicate
    /// (the earliest later row, and the first row of its user).
    #[test]
    fn the_duplicate_found_is_the_one_a_plain_map_finds(
        rows in proptest::collection::vec((0usize..5, 0usize..2, 0u64..3), 0..12),
    ) {
        const NAMES: [&str; 5] = ["alice", "Alice", "bob", "BOB", "carol"];
        const ACCOUNTS: [&str; 2] = ["123456789012", "210987654321"];
        let mut input = String::from(HEADER);
        let mut first_seen = std::collections::HashMap::new();
        let mut expected = None;
        // Blank lines before a row: its line is not the last one's plus one.
        let mut line = 1;
        for &(name, account, blank_lines) in &rows {
            for _ in 0..blank_lines {
                input.push('\n');
            }
            line += blank_lines + 1;
            let row = GOOD_ROW
                .replace("alice", NAMES[name])
                .replace("123456789012", ACCOUNTS[account]);
            input.push('\n');
            input.push_str(&row);
            let key = (account, NAMES[name].to_ascii_lowercase());
            if let Some(&first) = first_seen.get(&key) {
                expected.get_or_insert((NAMES[name], first, line));
            } else {
                first_seen.insert(key, line);
            }
        }
        let mut reader = ReportReader::new(input.as_bytes(), "hashed.csv").unwrap();
        let found = reader.find_map(Result::err);
        match expected {
            None => prop_assert!(found.is_none(), "{:?}", found),
            Some((name, first, line)) => {
                let error = found.expect("a duplicate error");
                prop_assert_eq!(error.line, Some(line));
                prop_assert_eq!(
                    error.kind,
                    ReportErrorKind::DuplicateUser { name: name.into(), first_line: first }
                );
            }
        }
    }
}

#[test]
fn a_duplicate_among_thousands_of_users() {
    // The filter that picks the rows to look at again grows with the report (it starts at
    // 65,536 bits, 8,192 rows, and grows four times at a time): 20,000 users, then the 7th again in another case, then the
    // 19,000th. The first duplicate is the earlier of the two later rows.
    let mut input = String::from(HEADER);
    for i in 0..20_000 {
        input.push('\n');
        input.push_str(&GOOD_ROW.replace("alice", &format!("user{i}")));
    }
    input.push('\n');
    input.push_str(&GOOD_ROW.replace("alice", "USER18999"));
    input.push('\n');
    input.push_str(&GOOD_ROW.replace("alice", "User6"));
    let error = first_error(input.as_bytes(), "many.csv");
    assert_duplicate(&error, "many.csv", "USER18999", 19_001, 20_002);
}

#[test]
fn a_row_longer_than_the_maximum_is_an_error_with_its_line_not_an_allocation() {
    use keywarden_core::report::MAX_RECORD_BYTES;
    let mut input = format!("{HEADER}\n{GOOD_ROW}\n").into_bytes();
    input.extend(std::iter::repeat_n(b'a', 2 * MAX_RECORD_BYTES));
    let error = first_error(&input, "long.csv");
    assert_eq!(error.line, Some(3), "{error}");
    assert_eq!(
        error.kind,
        ReportErrorKind::RecordTooLong {
            max: MAX_RECORD_BYTES
        }
    );
}

#[test]
fn nul_bytes_in_the_first_line_are_refused_as_binary() {
    let error = ReportReader::new(&[0u8; 100_000][..], "/dev/zero")
        .err()
        .unwrap();
    assert_eq!(error.line, Some(1));
    assert_eq!(error.kind, ReportErrorKind::Binary { offset: 0 });
}
