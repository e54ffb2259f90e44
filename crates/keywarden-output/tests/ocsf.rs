//! The OCSF printer on the shared fixture: statuses, classes, framing and stable ids. Schema
//! validity is checked on the binary's real outputs (`crates/keywarden/tests/formats_cli.rs`).

mod common;

use common::*;
use keywarden_output::Format;
use serde_json::{json, Value};

fn documents() -> Vec<Value> {
    let outcome = outcome();
    let text = render(Format::Ocsf, &report(&outcome, file_source()));
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn by(docs: &[Value], code: &str, user: &str) -> Value {
    docs.iter()
        .find(|d| {
            d["finding_info"]["analytic"]["uid"] == code
                && d["user"]["name"].as_str().unwrap_or("-") == user
        })
        .unwrap_or_else(|| panic!("{code} {user}"))
        .clone()
}

#[test]
fn one_line_per_finding_and_the_array_holds_the_same_documents() {
    let outcome = outcome();
    let lines = render(Format::Ocsf, &report(&outcome, file_source()));
    assert_eq!(lines.lines().count(), outcome.findings.len());
    assert!(lines.ends_with('\n'));
    let array: Vec<Value> =
        serde_json::from_str(&render(Format::OcsfJson, &report(&outcome, file_source()))).unwrap();
    assert_eq!(array, documents());
}

#[test]
fn statuses_map_to_ocsf_statuses_and_keywardens_is_kept() {
    let docs = documents();
    let failing = by(&docs, "KEY002", "alice");
    assert_eq!(
        (failing["status_id"].clone(), failing["status"].clone()),
        (json!(1), json!("New"))
    );
    let exempted = by(&docs, "KEY001", "ci-bot");
    assert_eq!(exempted["status_id"], 3);
    assert_eq!(exempted["status"], "Suppressed");
    assert_eq!(exempted["unmapped"]["keywarden_status"], "exempted");
    assert_eq!(
        exempted["unmapped"]["exemption"]["source"],
        "config:exemption[0]"
    );
    // Unknown: the account's trails, from a report file alone: a Compliance Finding whose state
    // is unknown, with why.
    let trail = by(&docs, "TRAIL001", "-");
    assert_eq!(trail["class_uid"], 2003);
    assert_eq!(trail["status_id"], 0);
    assert_eq!(trail["compliance"]["status_id"], 0);
    assert!(trail["status_detail"]
        .as_str()
        .unwrap()
        .starts_with("unknown: "));
    assert_eq!(
        trail["compliance"]["status_details"][0],
        trail["status_detail"]
    );
    // A failing credential finding whose exemption expired still fails.
    let bob = by(&docs, "PWD002", "bob");
    assert_eq!(bob["class_uid"], 2008);
    assert_eq!(bob["status_id"], 1);
    assert_eq!(bob["user"]["has_mfa"], false);
    assert_eq!(
        bob["unmapped"]["ignored_exemption"]["reason"],
        "expired: MFA rollout"
    );
}

#[test]
fn the_key_and_its_dates_are_where_ocsf_puts_them() {
    let alice = by(&documents(), "KEY001", "alice");
    assert_eq!(alice["class_uid"], 2008);
    // A report has no key ids: the user is the resource, and no credential without an id.
    assert_eq!(
        alice["resources"],
        json!([{"type": "AwsIamUser", "name": "alice"}])
    );
    assert!(alice["identity_activity_metrics"]
        .get("programmatic_credentials")
        .is_none());
    let metrics = &alice["identity_activity_metrics"];
    // Created 2024-01-01, last used 2024-02-01.
    assert_eq!(metrics["first_seen_time"], 1_704_067_200_000_i64);
    assert_eq!(metrics["last_seen_time"], 1_706_745_600_000_i64);
    assert_eq!(alice["time"], 1_717_200_000_000_i64, "the run's now");
    assert_eq!(alice["cloud"]["account"]["uid"], "123456789012");
}

#[test]
fn finding_uids_ignore_the_message_and_differ_per_finding() {
    let docs = documents();
    let uids: std::collections::BTreeSet<&str> = docs
        .iter()
        .map(|d| d["finding_info"]["uid"].as_str().unwrap())
        .collect();
    assert_eq!(uids.len(), docs.len());
    let mut outcome = outcome();
    for f in &mut outcome.findings {
        f.message.push_str(" (a day later)");
    }
    let later: Vec<Value> = render(Format::Ocsf, &report(&outcome, file_source()))
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for (a, b) in docs.iter().zip(&later) {
        assert_eq!(a["finding_info"]["uid"], b["finding_info"]["uid"]);
        assert_ne!(a["message"], b["message"]);
    }
}

#[test]
fn hostile_values_are_written_exactly() {
    let name = "<img src=x onerror=alert(1)>\u{202e}|`";
    let row = ROWS[1].replacen("alice", &format!("\"{name}\""), 1);
    let outcome = audit(
        &[ROWS[0], &row],
        &config(CONFIG),
        keywarden_core::AccountExtras::unknown_from_report_file(),
    );
    let text = render(Format::Ocsf, &report(&outcome, file_source()));
    let doc: Value =
        serde_json::from_str(text.lines().find(|l| l.contains("KEY001")).unwrap()).unwrap();
    assert_eq!(doc["user"]["name"], name);
    assert_eq!(
        text.lines().count(),
        outcome.findings.len(),
        "no line break got through"
    );
}

#[test]
fn no_findings_is_no_line_and_an_empty_array() {
    let clean = audit(&ROWS[..1], &Default::default(), clean_extras());
    assert!(clean.findings.is_empty());
    assert_eq!(render(Format::Ocsf, &report(&clean, file_source())), "");
    let array = render(Format::OcsfJson, &report(&clean, file_source()));
    assert_eq!(array, "[\n]\n");
    assert_eq!(serde_json::from_str::<Value>(&array).unwrap(), json!([]));
}
