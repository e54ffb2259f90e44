//! The CSV printer, read back with the `csv` crate as a spreadsheet import or script would.

mod common;

use common::*;
use keywarden_output::csv::HEADER;
use keywarden_output::Format;
use serde_json::{json, Value};
use std::collections::HashMap;

fn rows() -> (String, Vec<HashMap<String, String>>) {
    let outcome = outcome();
    let text = render(Format::Csv, &report(&outcome, file_source()));
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .unwrap()
        .iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(header, HEADER);
    let rows = reader
        .records()
        .map(|r| {
            let record = r.unwrap();
            assert_eq!(record.len(), HEADER.len());
            header
                .iter()
                .cloned()
                .zip(record.iter().map(str::to_owned))
                .collect()
        })
        .collect();
    (text, rows)
}

#[test]
fn header_is_the_documented_one() {
    let (text, _) = rows();
    assert_eq!(
        text.lines().next().unwrap(),
        "rule,name,severity,status,account,user,credential,access_key_id,message,evidence,exemption_reason,exemption_expires,generated_at,data_as_of"
    );
}

#[test]
fn one_row_per_finding_in_order() {
    let (_, rows) = rows();
    let order: Vec<(&str, &str, &str)> = rows
        .iter()
        .map(|r| (r["rule"].as_str(), r["user"].as_str(), r["status"].as_str()))
        .collect();
    assert_eq!(
        order,
        [
            ("PWD002", "bob", "fail"),
            ("TRAIL001", "", "unknown"),
            ("KEY001", "alice", "fail"),
            ("KEY001", "ci-bot", "exempted"),
            ("KEY002", "alice", "fail"),
            ("KEY002", "ci-bot", "fail"),
            ("PWD003", "", "unknown"),
        ]
    );
}

#[test]
fn cells_and_evidence() {
    let (_, rows) = rows();
    let alice = &rows[2];
    assert_eq!(alice["name"], "unused-access-key");
    assert_eq!(alice["severity"], "medium");
    assert_eq!(alice["account"], "123456789012");
    assert_eq!(alice["credential"], "access_key_1");
    assert_eq!(alice["access_key_id"], "");
    assert_eq!(
        alice["message"],
        "active access key unused for 121 days (limit 45)"
    );
    assert_eq!(alice["exemption_reason"], "");
    assert_eq!(alice["exemption_expires"], "");
    // Compact JSON, keys in the rule's order.
    assert_eq!(
        alice["evidence"],
        r#"{"active":true,"created":"2024-01-01T00:00:00Z","last_used":"2024-02-01T00:00:00Z","last_used_service":"s3","days_unused":121,"max_unused_days":45}"#
    );
    let trail: Value = serde_json::from_str(&rows[1]["evidence"]).unwrap();
    assert_eq!(
        trail,
        json!({"unknown_reason": "a credential report does not include CloudTrail trails; audit the live account"})
    );
    assert_eq!(rows[1]["credential"], "account");
}

#[test]
fn exemptions_and_quoting() {
    let (text, rows) = rows();
    let ci_bot = &rows[3];
    // The reason holds a comma and quotes; the csv crate quotes it and it reads back intact.
    assert_eq!(ci_bot["exemption_reason"], r#"CI migration, see "OPS-12""#);
    assert_eq!(ci_bot["exemption_expires"], "2024-12-31T23:59:59Z");
    assert!(
        text.contains(r#","CI migration, see ""OPS-12""",2024-12-31T23:59:59Z"#),
        "{text}"
    );
    // An expired exemption does not fill the exemption columns: the finding stands.
    assert_eq!(rows[0]["exemption_reason"], "");
}

#[test]
fn a_clean_audit_is_just_the_header() {
    let outcome = audit(&ROWS[..1], &Default::default(), clean_extras());
    let text = render(Format::Csv, &report(&outcome, file_source()));
    assert_eq!(text, HEADER.join(",") + "\n");
}
