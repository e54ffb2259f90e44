//! The table printer on a trail run: it speaks of events and detections, shows each detection's
//! event (time, name, id, source IP), counts findings per rule with the rule's title, and never
//! presents a run that analysed nothing, or could not read all its input, as a pass.

mod common;

use common::*;
use keywarden_core::cloudtrail::detect::ALL_DETECTORS;
use keywarden_core::finding::{EventContext, Finding, Status};
use keywarden_core::rules::RuleMeta;
use keywarden_output::{DataSource, FindingsReport, Format, Subject};

fn detection(code: &str) -> &'static RuleMeta {
    ALL_DETECTORS
        .iter()
        .map(|d| d.meta())
        .find(|m| m.code == code)
        .unwrap()
}

fn source() -> DataSource {
    DataSource {
        kind: "cloudtrail",
        location: "logs/".into(),
        as_of: Some(ts("2024-05-31T21:00:00Z")),
        as_of_basis: "the latest event read".into(),
    }
}

/// EVT001 as the Stratus Red Team detonation `aws.persistence.iam-create-admin-user`'s
/// CreateAccessKey for another user raised it (the event's id and source IP shortened).
fn evt001() -> Finding {
    let mut finding = Finding::for_account(
        detection("EVT001"),
        Status::Fail,
        Some("123456789012"),
        "access key created for stratus-user by arn:aws:iam::123456789012:user/attacker",
    );
    finding.user = Some("stratus-user".into());
    finding.event = Some(Box::new(EventContext {
        event_id: "6c7c8f3a-0001".into(),
        event_time: ts("2024-05-31T20:10:00Z"),
        event_name: "CreateAccessKey".into(),
        region: Some("us-east-1".into()),
        source_ip: Some("198.51.100.7".into()),
        user_agent: None,
        actor: Some("arn:aws:iam::123456789012:user/attacker".into()),
    }));
    finding
}

fn render_events<'a>(
    findings: &'a [Finding],
    rules: &'a [&'static RuleMeta],
    analysed: u64,
    bad_records: u64,
) -> String {
    let report = FindingsReport {
        findings,
        rules_run: rules,
        now: ts("2024-06-01T00:00:00Z"),
        subject: Subject::Events {
            analysed,
            bad_records,
        },
        source: source(),
        preset: "default",
        tool_version: "0.1.0",
        org: None,
    };
    render(Format::Table, &report)
}

fn all_detections() -> Vec<&'static RuleMeta> {
    ALL_DETECTORS.iter().map(|d| d.meta()).collect()
}

#[test]
fn a_trail_table_speaks_of_events_and_detections_not_users_and_presets() {
    let rules = all_detections();
    let text = render_events(&[evt001()], &rules, 120, 0);
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[1],
        format!(
            "analysed at 2024-06-01T00:00:00Z with keywarden 0.1.0, {} detections",
            rules.len()
        )
    );
    assert!(!text.contains("preset"), "{text}");
    assert!(!text.contains("users"), "{text}");
    assert_eq!(
        *lines.last().unwrap(),
        "120 events analysed, 1 failing, 0 unknown, 0 exempted"
    );
}

#[test]
fn each_detection_shows_its_event_time_name_id_and_source_ip() {
    let rules = all_detections();
    let text = render_events(&[evt001()], &rules, 120, 0);
    assert!(
        text.contains("event 2024-05-31T20:10:00Z CreateAccessKey 6c7c8f3a-0001 from 198.51.100.7"),
        "{text}"
    );
}

#[test]
fn findings_are_counted_per_rule_with_the_rules_title() {
    let rules = all_detections();
    let text = render_events(&[evt001(), evt001()], &rules, 120, 0);
    let title = detection("EVT001").name;
    assert!(
        text.contains(&format!("By rule\n  EVT001  2  {title}\n")),
        "{text}"
    );
}

#[test]
fn a_run_that_analysed_no_event_is_not_a_pass() {
    let rules = all_detections();
    let text = render_events(&[], &rules, 0, 0);
    assert!(text.contains("No events were analysed"), "{text}");
    assert!(!text.contains("passed"), "{text}");
    assert!(!text.contains("No findings"), "{text}");
}

#[test]
fn a_run_with_unreadable_records_says_it_is_incomplete() {
    let rules = all_detections();
    let text = render_events(&[], &rules, 5, 2);
    assert!(
        text.contains("No findings in the 5 events read, but 2 records could not be read: the run is incomplete."),
        "{text}"
    );
}

#[test]
fn a_clean_complete_run_says_what_it_checked() {
    let rules = all_detections();
    let text = render_events(&[], &rules, 7, 0);
    assert!(
        text.contains(&format!(
            "No findings: none of the {} detections matched the 7 events analysed.",
            rules.len()
        )),
        "{text}"
    );
}
