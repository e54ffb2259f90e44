//! The CloudTrail reader: every format is detected from the bytes, bad records are reported with
//! where (origin, line or record or position) and why while the good ones are kept, events come
//! in any order, fields of unexpected types do not cost the event, and no input panics.
//!
//! Built from the real events in tests/cloudtrail/data (see tests/cloudtrail/README.md). Gzip is
//! the application layer's job (magic bytes, streaming): it is tested through the binary in
//! crates/keywarden/tests/trail_cli.rs.

#[path = "cloudtrail/fixtures.rs"]
mod fixtures;

use fixtures::*;
use keywarden_core::cloudtrail::event::Event;
use keywarden_core::cloudtrail::reader::{
    is_line_oriented, read_document, read_lines_from, BadRecord, Location,
};
use keywarden_core::time::parse_timestamp;
use proptest::prelude::*;
use serde_json::{json, Value};

// --- Harness ----------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct Read {
    events: Vec<Event>,
    /// Each event's `raw` text, parsed back.
    raws: Vec<Value>,
    bad: Vec<BadRecord>,
}

impl Read {
    fn ids(&self) -> Vec<&str> {
        self.events.iter().map(|e| e.event_id.as_str()).collect()
    }
}

fn read_bytes(document: &[u8], origin: &str) -> Read {
    let mut read = Read::default();
    read_document(document, origin, &mut |record| match record {
        Ok(record) => {
            read.raws.push(
                serde_json::from_str(record.raw)
                    .unwrap_or_else(|e| panic!("raw text is not JSON ({e}): {}", record.raw)),
            );
            read.events.push(record.event);
        }
        Err(bad) => read.bad.push(bad),
    });
    read
}

fn read(document: &str) -> Read {
    read_bytes(document.as_bytes(), "test.json")
}

fn ids_of(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["eventID"].as_str().unwrap().to_owned())
        .collect()
}

/// The three events of iam-create-admin-user (CreateUser, AttachUserPolicy, CreateAccessKey),
/// as written: not in time order, all at the same second.
fn admin_events() -> Vec<Value> {
    events_of(CREATE_ADMIN_USER)
}

/// A small real event whose fields are easy to break: the backdoor CreateAccessKey.
fn backdoor() -> Value {
    real(BACKDOOR_USER, BACKDOOR_CREATE_KEY)
}

fn one_line(event: &Value) -> String {
    serde_json::to_string(event).unwrap()
}

// --- Every format is detected -----------------------------------------------------------------

#[test]
fn every_format_is_detected() {
    let events = admin_events();
    let expected = ids_of(&events);
    let pretty_records = serde_json::to_string_pretty(&json!({ "Records": events })).unwrap();
    // `zcat a.json.gz b.json.gz`: CloudTrail files have no final newline, so the documents
    // follow each other on one line.
    let concatenated = records(&events[..1]) + &records(&events[1..]);
    let records_per_line = format!("{}\n{}\n", records(&events[..2]), records(&events[2..]));
    let cases: Vec<(&str, String)> = vec![
        ("Records object on one line", records(&events)),
        (
            "Records object with a final newline",
            records(&events) + "\n",
        ),
        ("pretty-printed Records object", pretty_records),
        (
            "pretty-printed JSON array (Stratus)",
            CREATE_ADMIN_USER.to_owned(),
        ),
        (
            "JSON array on one line",
            serde_json::to_string(&events).unwrap(),
        ),
        ("one event per line", json_lines(&events)),
        (
            "one event per line, no final newline",
            json_lines(&events).trim_end().to_owned(),
        ),
        (
            "one event per line, CRLF and blank lines",
            json_lines(&events).replace('\n', "\r\n\r\n"),
        ),
        ("byte-order mark", format!("\u{feff}{}", records(&events))),
        ("concatenated Records objects", concatenated),
        ("one Records object per line", records_per_line),
    ];
    for (name, document) in cases {
        let read = read(&document);
        assert!(read.bad.is_empty(), "{name}: {:?}", read.bad);
        assert_eq!(read.ids(), expected, "{name}");
    }
}

#[test]
fn a_single_event_is_read_pretty_printed_or_on_one_line() {
    let event = backdoor();
    for document in [
        serde_json::to_string_pretty(&event).unwrap(),
        one_line(&event),
        one_line(&event) + "\n",
    ] {
        let read = read(&document);
        assert!(read.bad.is_empty(), "{:?}", read.bad);
        assert_eq!(read.ids(), [BACKDOOR_CREATE_KEY]);
        // The raw text handed on (for Sigma) is the event itself.
        assert_eq!(read.raws[0]["eventID"], BACKDOOR_CREATE_KEY);
        assert_eq!(read.raws[0]["userIdentity"], event["userIdentity"]);
    }
}

#[test]
fn exporter_wrappers_are_unwrapped() {
    // `{"event": ...}`: the AWS docs extraction, one per line.
    let docs = read(AWSDOCS_EXCERPT);
    assert!(docs.bad.is_empty(), "{:?}", docs.bad);
    assert_eq!(docs.events.len(), 7);
    assert_eq!(docs.events[0].event_id, DOCS_LOGIN_NO_MFA);
    assert_eq!(docs.events[0].event_name, "ConsoleLogin");
    assert_eq!(docs.events[0].identity.user_name.as_deref(), Some("anaya"));

    // `{"detail": ...}`: EventBridge's "AWS API Call via CloudTrail" envelope around the real
    // backdoor CreateAccessKey, one per line and pretty-printed.
    let envelope = |event: &Value| {
        json!({
            "version": "0",
            "id": "6a7e8feb-b491-4cf7-a9f1-bf3703467718",
            "detail-type": "AWS API Call via CloudTrail",
            "source": "aws.iam",
            "account": "946986569305",
            "time": "2024-07-30T21:53:13Z",
            "region": "us-east-1",
            "resources": [],
            "detail": event
        })
    };
    let create_user = real(CREATE_ADMIN_USER, "3346344c-5a3e-429e-8405-420f98f75d6e");
    let lines = json_lines(&[envelope(&backdoor()), envelope(&create_user)]);
    let read_lines = read(&lines);
    assert!(read_lines.bad.is_empty(), "{:?}", read_lines.bad);
    assert_eq!(
        read_lines.ids(),
        [BACKDOOR_CREATE_KEY, "3346344c-5a3e-429e-8405-420f98f75d6e"]
    );
    let pretty = serde_json::to_string_pretty(&envelope(&backdoor())).unwrap();
    let read_pretty = read(&pretty);
    assert_eq!(read_pretty.ids(), [BACKDOOR_CREATE_KEY]);
    let event = &read_pretty.events[0];
    assert_eq!(
        event.event_time,
        parse_timestamp("2024-07-30T21:53:13Z").unwrap()
    );
    assert_eq!(
        event.created_key.access_key_id.as_deref(),
        Some(BACKDOOR_KEY)
    );
    // An array of envelopes, as `aws events` exports keep them.
    let array = serde_json::to_string(&[envelope(&backdoor()), envelope(&create_user)]).unwrap();
    assert_eq!(read(&array).events.len(), 2);
}

#[test]
fn logstash_exports_with_at_timestamp_are_read() {
    // OTRF: one event per line, `@timestamp` with milliseconds, no `eventTime`.
    let read = read(OTRF_EXCERPT);
    assert!(read.bad.is_empty(), "{:?}", read.bad);
    assert_eq!(read.events.len(), 7);
    let first = &read.events[0];
    assert_eq!(first.event_id, CONSOLE_SESSION_EVENT);
    assert_eq!(
        first.event_time,
        parse_timestamp("2020-09-14T00:44:23Z").unwrap()
    );
    assert_eq!(first.identity.kind.as_deref(), Some("IAMUser"));
    assert_eq!(
        first.identity.access_key_id.as_deref(),
        Some(CONSOLE_SESSION_KEY)
    );
    assert_eq!(first.identity.mfa_authenticated, Some(true));
    // When both are there, `eventTime` wins over the exporter's `@timestamp`.
    let mut both = backdoor();
    both["@timestamp"] = json!("2030-01-01T00:00:00.000Z");
    assert_eq!(
        read_one(&one_line(&both)).event_time,
        parse_timestamp("2024-07-30T21:53:13Z").unwrap()
    );
}

fn read_one(document: &str) -> Event {
    let mut read = read(document);
    assert!(read.bad.is_empty(), "{:?}", read.bad);
    assert_eq!(read.events.len(), 1);
    read.events.remove(0)
}

#[test]
fn the_fields_detections_need_are_read_from_real_events() {
    let create = read_one(&one_line(&backdoor()));
    assert_eq!(create.event_source, "iam.amazonaws.com");
    assert_eq!(create.region.as_deref(), Some("ap-central-2r"));
    // Anonymised IPs with leading zeros are kept as text.
    assert_eq!(create.source_ip.as_deref(), Some("211.9.016.253"));
    assert_eq!(create.recipient_account_id.as_deref(), Some("946986569305"));
    assert_eq!(create.identity.kind.as_deref(), Some("IAMUser"));
    assert_eq!(create.identity.user_name.as_deref(), Some("christophe"));
    assert_eq!(
        create.identity.access_key_id.as_deref(),
        Some("AKIA30BEZSJBVKOFKZW0")
    );
    assert_eq!(create.target_user.as_deref(), Some(BACKDOOR_USER_NAME));
    assert_eq!(
        create.created_key.access_key_id.as_deref(),
        Some(BACKDOOR_KEY)
    );
    assert_eq!(
        create.created_key.user_name.as_deref(),
        Some(BACKDOOR_USER_NAME)
    );
    assert_eq!(create.created_key.status.as_deref(), Some("Active"));
    assert!(create.succeeded());

    let federation = read_one(&one_line(&real(FEDERATION_TOKEN, FEDERATION_TOKEN_EVENT)));
    assert_eq!(federation.minted_key.as_deref(), Some(FEDERATION_SESSION));
    let federated_call = read_one(&one_line(&real(FEDERATION_TOKEN, FEDERATED_CALL_EVENT)));
    assert_eq!(
        federated_call.identity.kind.as_deref(),
        Some("FederatedUser")
    );
    assert_eq!(federated_call.identity.mfa_authenticated, Some(false));
    assert_eq!(
        federated_call.identity.session_issuer.as_deref(),
        Some(LEAKED_KEY_OWNER)
    );

    let login = read_one(&one_line(&real(
        CONSOLE_LOGIN_WITHOUT_MFA,
        CONSOLE_LOGIN_EVENT,
    )));
    assert_eq!(login.console_login.as_deref(), Some("Success"));
    assert_eq!(login.mfa_used.as_deref(), Some("No"));
    assert_eq!(login.identity.access_key_id, None);

    let selectors = read_one(&one_line(&real(
        CLOUDTRAIL_EVENT_SELECTORS,
        PUT_EVENT_SELECTORS_EVENT,
    )));
    assert_eq!(
        selectors.trail.name.as_deref(),
        Some("stratus-red-team-ctes-trail-khlvciwdor")
    );
    assert_eq!(selectors.trail.keeps_management_writes, Some(false));

    let refused = read_one(AWSDOCS_EXCERPT.lines().nth(5).unwrap());
    assert_eq!(refused.event_id, DOCS_FAILED_UPDATE_TRAIL);
    assert_eq!(
        refused.error_code.as_deref(),
        Some("TrailNotFoundException")
    );
    assert!(!refused.succeeded());
}

#[test]
fn events_are_handed_on_in_document_order_whatever_their_times() {
    // The Stratus login-profile file is not in time order (13:42:21, 13:42:22, 13:42:21).
    let read = read(CREATE_LOGIN_PROFILE);
    let times: Vec<String> = read
        .events
        .iter()
        .map(|e| keywarden_core::time::format_timestamp(e.event_time))
        .collect();
    assert_eq!(
        times,
        [
            "2024-08-01T13:42:21+00:00",
            "2024-08-01T13:42:22+00:00",
            "2024-08-01T13:42:21+00:00"
        ]
    );
    assert_eq!(read.ids(), ids_of(&events_of(CREATE_LOGIN_PROFILE)));
}

// --- Bad records: the damage is reported, the good events are kept -----------------------------

fn assert_bad(bad: &BadRecord, origin: &str, location: Location, reason_contains: &str) {
    assert_eq!(bad.origin, origin, "{bad}");
    assert_eq!(bad.location, location, "{bad}");
    assert!(
        bad.reason.contains(reason_contains),
        "`{}` lacks `{reason_contains}`",
        bad.reason
    );
    let shown = bad.to_string();
    assert!(
        shown.starts_with(&format!("{origin}: {location}: ")),
        "{shown}"
    );
}

#[test]
fn a_line_that_is_not_json_is_reported_and_the_other_lines_are_kept() {
    let events = admin_events();
    let document = format!(
        "{}{{\"eventVersion\": \"1.09\", truncated by a crash\n{}",
        json_lines(&events[..1]),
        json_lines(&events[1..])
    );
    let read = read_bytes(document.as_bytes(), "export.jsonl");
    assert_eq!(read.ids(), ids_of(&events));
    assert_eq!(read.bad.len(), 1, "{:?}", read.bad);
    assert_bad(
        &read.bad[0],
        "export.jsonl",
        Location::Line(2),
        "not a JSON event",
    );
}

#[test]
fn a_first_line_that_is_not_json_does_not_cost_the_following_lines() {
    // The same damage on line 1 instead of line 2.
    let events = admin_events();
    let document = format!(
        "{{\"eventVersion\": \"1.09\", truncated\n{}",
        json_lines(&events)
    );
    let read = read_bytes(document.as_bytes(), "export.jsonl");
    assert_eq!(
        read.ids(),
        ids_of(&events),
        "a damaged first line makes the reader take the file for one JSON document: {:?}",
        read.bad
    );
    assert_eq!(read.bad.len(), 1, "{:?}", read.bad);
    assert_bad(
        &read.bad[0],
        "export.jsonl",
        Location::Line(1),
        "not a JSON event",
    );
}

#[test]
fn an_event_without_event_time_is_reported_where_it_is() {
    let events = admin_events();
    let mut timeless = backdoor();
    fixtures::remove(&mut timeless, &["eventTime"]);
    // In a Records document: by record number.
    let document = records(&[events[0].clone(), timeless.clone(), events[1].clone()]);
    let read_records = read_bytes(document.as_bytes(), "trail.json");
    assert_eq!(read_records.ids(), ids_of(&events[..2]));
    assert_eq!(read_records.bad.len(), 1);
    assert_bad(
        &read_records.bad[0],
        "trail.json",
        Location::Record(2),
        "event without `eventTime`",
    );
    // In one event per line: by line.
    let lines = json_lines(&[events[0].clone(), events[1].clone(), timeless]);
    let read_lines = read_bytes(lines.as_bytes(), "trail.jsonl");
    assert_eq!(read_lines.ids(), ids_of(&events[..2]));
    assert_bad(
        &read_lines.bad[0],
        "trail.jsonl",
        Location::Line(3),
        "event without `eventTime`",
    );
}

#[test]
fn an_event_with_a_bad_event_time_is_reported_with_the_value() {
    let events = admin_events();
    let mut bad_time = backdoor();
    // The format of responseElements.accessKey.createDate, not an ISO 8601 time.
    bad_time["eventTime"] = json!("Jul 30, 2024 9:53:13 PM");
    let document = json_lines(&[bad_time, events[0].clone()]);
    let read = read(&document);
    assert_eq!(read.ids(), ids_of(&events[..1]));
    assert_eq!(read.bad.len(), 1);
    assert_bad(
        &read.bad[0],
        "test.json",
        Location::Line(1),
        "`Jul 30, 2024 9:53:13 PM` is not an ISO 8601 time",
    );
    // A time past the calendar is bad too.
    let mut impossible = backdoor();
    impossible["eventTime"] = json!("2024-02-30T21:53:13Z");
    assert_eq!(
        read_records_bad(&impossible).reason,
        "`eventTime` `2024-02-30T21:53:13Z` is not an ISO 8601 time"
    );
}

fn read_records_bad(event: &Value) -> BadRecord {
    let read = read(&records(std::slice::from_ref(event)));
    assert!(read.events.is_empty());
    assert_eq!(read.bad.len(), 1);
    read.bad[0].clone()
}

#[test]
fn an_event_without_name_or_source_is_reported() {
    let mut nameless = backdoor();
    fixtures::remove(&mut nameless, &["eventName"]);
    assert_eq!(
        read_records_bad(&nameless).reason,
        "event without `eventName`"
    );
    let mut sourceless = backdoor();
    fixtures::remove(&mut sourceless, &["eventSource"]);
    assert_eq!(
        read_records_bad(&sourceless).reason,
        "event without `eventSource`"
    );
    // A record that is not an object at all.
    let read = read(&format!("[1, {}]", one_line(&backdoor())));
    assert_eq!(read.ids(), [BACKDOOR_CREATE_KEY]);
    assert_bad(
        &read.bad[0],
        "test.json",
        Location::Record(1),
        "not a JSON event",
    );
}

#[test]
fn a_truncated_records_document_keeps_the_events_before_the_damage_and_reports_it() {
    // A CloudTrail file cut in the middle of its third event (a partial download, a full disk).
    let events = admin_events();
    let whole = records(&events);
    let cut = whole
        .find(&format!(
            "\"eventID\":\"{}\"",
            events[2]["eventID"].as_str().unwrap()
        ))
        .unwrap();
    let read = read_bytes(&whole.as_bytes()[..cut], "cut.json");
    assert_eq!(read.ids(), ids_of(&events[..2]));
    assert_eq!(
        read.bad.len(),
        1,
        "a Records document cut short is read as if it were complete: no damage reported"
    );
    assert!(
        matches!(read.bad[0].location, Location::Position { line: 1, .. }),
        "{}",
        read.bad[0]
    );
}

#[test]
fn a_truncated_array_keeps_the_events_before_the_damage_and_reports_it() {
    let events = admin_events();
    // The pretty-printed Stratus array cut after its second event.
    let whole = serde_json::to_string_pretty(&events).unwrap();
    let second_end = whole.find(&ids_of(&events)[2]).unwrap();
    let cut = whole[..second_end].rfind("},").unwrap() + 2;
    let read = read_bytes(&whole.as_bytes()[..cut], "cut.json");
    assert_eq!(read.ids(), ids_of(&events[..2]));
    assert_eq!(
        read.bad.len(),
        1,
        "an array cut short is read as if it were complete: no damage reported"
    );
}

#[test]
fn truncation_anywhere_keeps_a_prefix_of_the_events() {
    // Cut a Records file of the three admin events at every byte: what is read is always a
    // prefix of the events, never a panic, never an invented event.
    let events = admin_events();
    let expected = ids_of(&events);
    let whole = records(&events);
    for cut in 0..whole.len() {
        let read = read_bytes(&whole.as_bytes()[..cut], "cut.json");
        let ids = read.ids();
        assert!(
            expected.starts_with(&ids.iter().map(|s| s.to_string()).collect::<Vec<_>>()),
            "cut at {cut}: {ids:?}"
        );
    }
}

#[test]
fn garbage_after_a_records_document_is_reported() {
    let events = admin_events();
    let document = format!("{} garbage", records(&events));
    let read = read(&document);
    assert_eq!(read.ids(), ids_of(&events));
    assert_eq!(read.bad.len(), 1);
    assert_bad(
        &read.bad[0],
        "test.json",
        Location::Position {
            line: 1,
            column: records(&events).len() as u64 + 2,
        },
        "malformed JSON",
    );
}

#[test]
fn invalid_utf8_is_reported_and_what_precedes_it_is_kept() {
    let events = admin_events();
    let mut bytes = json_lines(&events).into_bytes();
    bytes.extend_from_slice(b"{\"eventID\": \"\xff\xfe\"}\n");
    let read = read_bytes(&bytes, "latin1.jsonl");
    assert_eq!(read.ids(), ids_of(&events));
    assert!(!read.bad.is_empty());
    let last = read.bad.last().unwrap();
    assert_eq!(last.origin, "latin1.jsonl");
    assert!(last.reason.contains("invalid UTF-8"), "{last}");
    // One event per line: the damaged line itself is named.
    assert!(matches!(last.location, Location::Line(4)), "{last}");
}

#[test]
fn invalid_utf8_in_one_line_does_not_cost_the_following_lines() {
    // One event per line: a line with a bad byte is one bad record; the lines after it are
    // events like any other.
    let events = admin_events();
    let mut bytes = json_lines(&events[..1]).into_bytes();
    bytes.extend_from_slice(b"{\"eventID\": \"\xff\xfe\"}\n");
    bytes.extend_from_slice(json_lines(&events[1..]).as_bytes());
    let read = read_bytes(&bytes, "latin1.jsonl");
    assert_eq!(
        read.ids(),
        ids_of(&events),
        "everything after the first invalid byte is dropped: {:?}",
        read.bad
    );
    assert_eq!(read.bad.len(), 1, "{:?}", read.bad);
}

#[test]
fn line_numbers_continue_across_chunks() {
    // The application reads large line-oriented files in chunks and says where each starts.
    let events = admin_events();
    let chunk = format!("{}not json\n", json_lines(&events[..2]));
    let mut ids = Vec::new();
    let mut bad = Vec::new();
    read_lines_from(&chunk, "big.jsonl", 1001, &mut |record| match record {
        Ok(record) => ids.push(record.event.event_id),
        Err(b) => bad.push(b),
    });
    assert_eq!(ids, ids_of(&events[..2]));
    assert_bad(
        &bad[0],
        "big.jsonl",
        Location::Line(1003),
        "not a JSON event",
    );
}

#[test]
fn line_orientation_is_detected_from_the_first_line() {
    let events = admin_events();
    assert!(is_line_oriented(json_lines(&events).as_bytes()));
    assert!(is_line_oriented(AWSDOCS_EXCERPT.as_bytes()));
    assert!(is_line_oriented(OTRF_EXCERPT.as_bytes()));
    assert!(!is_line_oriented(records(&events).as_bytes()));
    assert!(!is_line_oriented((records(&events) + "\n").as_bytes()));
    assert!(!is_line_oriented(CREATE_ADMIN_USER.as_bytes()));
    assert!(!is_line_oriented(
        serde_json::to_string_pretty(&backdoor())
            .unwrap()
            .as_bytes()
    ));
    assert!(!is_line_oriented(b""));
    assert!(!is_line_oriented(b"\xff\xfe"));
}

#[test]
fn empty_and_blank_documents_hold_no_events_and_no_damage() {
    for document in ["", "   ", "\n\n", "\u{feff}", "{\"Records\":[]}", "[]"] {
        let read = read(document);
        assert!(
            read.events.is_empty() && read.bad.is_empty(),
            "{document:?}: {read:?}"
        );
    }
}

// --- Lenient fields: a field of an unexpected type does not lose the event ----------------------

#[test]
fn fields_of_unexpected_types_read_as_absent_and_keep_the_event() {
    // Each case breaks one field of the real backdoor CreateAccessKey (or another real event).
    let with = |path: &[&str], value: Value| {
        let mut e = backdoor();
        fixtures::set(&mut e, path, value);
        e
    };
    let cases: Vec<(&str, Value)> = vec![
        (
            "requestParameters.userName is an object",
            with(&["requestParameters", "userName"], json!({ "name": "x" })),
        ),
        (
            "requestParameters.userName is a number",
            with(&["requestParameters", "userName"], json!(42)),
        ),
        (
            "responseElements is a string",
            with(&["responseElements"], json!("{\"accessKey\": {}}")),
        ),
        (
            "userIdentity is a string",
            with(&["userIdentity"], json!("christophe")),
        ),
        (
            "userIdentity.sessionContext is null",
            with(&["userIdentity", "sessionContext"], Value::Null),
        ),
        (
            "mfaAuthenticated is a boolean",
            with(
                &[
                    "userIdentity",
                    "sessionContext",
                    "attributes",
                    "mfaAuthenticated",
                ],
                json!(true),
            ),
        ),
        (
            "additionalEventData is a string",
            with(&["additionalEventData"], json!("x")),
        ),
        (
            "sourceIPAddress is null",
            with(&["sourceIPAddress"], Value::Null),
        ),
        ("awsRegion is a number", with(&["awsRegion"], json!(1))),
        ("errorCode is null", with(&["errorCode"], Value::Null)),
        (
            "an unknown field holds deep nesting",
            with(&["serviceEventDetails"], json!({ "a": [{ "b": [[{}]] }] })),
        ),
    ];
    for (name, event) in cases {
        let read = read(&records(&[event]));
        assert!(
            read.bad.is_empty(),
            "{name}: the event was lost: {:?}",
            read.bad
        );
        assert_eq!(read.ids(), [BACKDOOR_CREATE_KEY], "{name}");
    }
    // And what the broken fields read as.
    let object_user = read_one(&one_line(&with(
        &["requestParameters", "userName"],
        json!({ "name": "x" }),
    )));
    assert_eq!(object_user.target_user, None);
    assert_eq!(
        object_user.created_key.access_key_id.as_deref(),
        Some(BACKDOOR_KEY)
    );
    let string_response = read_one(&one_line(&with(&["responseElements"], json!("x"))));
    assert_eq!(string_response.created_key.access_key_id, None);
    assert_eq!(
        string_response.target_user.as_deref(),
        Some(BACKDOOR_USER_NAME)
    );
    let null_error = read_one(&one_line(&with(&["errorCode"], Value::Null)));
    assert!(null_error.succeeded());
    let empty_error = read_one(&one_line(&with(&["errorCode"], json!(""))));
    assert!(empty_error.succeeded(), "an empty errorCode is no error");
}

#[test]
fn arrays_in_place_of_objects_read_as_absent() {
    // The event model promises that a nested object of any other JSON type reads as absent.
    // An array is instead read as the struct in sequence form: its elements fill the fields by
    // position, or the event is lost when they do not fit.
    let with = |path: &[&str], value: Value| {
        let mut e = backdoor();
        fixtures::set(&mut e, path, value);
        one_line(&e)
    };
    let read_array_request = read(&with(&["requestParameters"], json!(["x"])));
    assert!(
        read_array_request.bad.is_empty(),
        "requestParameters = [\"x\"]: the event is lost: {:?}",
        read_array_request.bad
    );
    let read_array_data = read(&with(&["additionalEventData"], json!([1, 2])));
    assert!(
        read_array_data.bad.is_empty(),
        "additionalEventData = [1, 2]: the event is lost: {:?}",
        read_array_data.bad
    );
    let key_array = read_one(&with(
        &["responseElements", "accessKey"],
        json!(["AKIAFROMANARRAY00001"]),
    ));
    assert_eq!(
        key_array.created_key.access_key_id, None,
        "responseElements.accessKey = [\"AKIA...\"] is read as the created key's id"
    );
    let identity_array = read_one(&with(&["userIdentity"], json!(["Root"])));
    assert_eq!(
        identity_array.identity.kind, None,
        "userIdentity = [\"Root\"] is read as a root caller"
    );
}

#[test]
fn trail_flags_are_read_as_booleans_or_strings() {
    let update = |value: Value| {
        trail_call(
            "UpdateTrail",
            "derived-flag",
            json!({ "name": "t", "isMultiRegionTrail": value }),
        )
    };
    for (value, expected) in [
        (json!(false), Some(false)),
        (json!("false"), Some(false)),
        (json!("FALSE"), Some(false)),
        (json!(true), Some(true)),
        (json!("yes"), None),
        (json!(0), None),
        (json!({ "x": 1 }), None),
    ] {
        let event = read_one(&one_line(&update(value.clone())));
        assert_eq!(event.trail.is_multi_region, expected, "{value}");
    }
}

#[test]
fn event_selectors_of_unexpected_shapes_keep_the_event() {
    // PutEventSelectors with its selectors as an object instead of a list, and as a list of
    // strings: the event is kept, and no judgement is made on the selectors.
    for selectors in [json!({ "readWriteType": "ReadOnly" }), json!(["ReadOnly"])] {
        let mut event = real(CLOUDTRAIL_EVENT_SELECTORS, PUT_EVENT_SELECTORS_EVENT);
        event["requestParameters"]["eventSelectors"] = selectors.clone();
        let read = read(&records(&[event]));
        assert!(
            read.bad.is_empty(),
            "eventSelectors = {selectors}: the whole event is lost: {:?}",
            read.bad
        );
        assert_eq!(read.events[0].trail.keeps_management_writes, None);
    }
}

// --- Arbitrary input never panics ---------------------------------------------------------------

fn read_anything(bytes: &[u8]) -> usize {
    let mut events = 0;
    read_document(bytes, "fuzz", &mut |record| {
        if let Ok(record) = record {
            // Every event handed on has the fields the model promises.
            assert!(!record.event.event_id.is_empty());
            assert!(!record.event.event_name.is_empty());
            events += 1;
        }
    });
    let _ = is_line_oriented(bytes);
    events
}

/// Fragments that real documents are made of, for inputs deeper than random bytes reach.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("{".to_owned()),
        Just("}".to_owned()),
        Just("[".to_owned()),
        Just("]".to_owned()),
        Just(",".to_owned()),
        Just(":".to_owned()),
        Just("\n".to_owned()),
        Just("\"Records\"".to_owned()),
        Just("\"eventTime\"".to_owned()),
        Just("\"@timestamp\"".to_owned()),
        Just("\"eventID\"".to_owned()),
        Just("\"eventName\"".to_owned()),
        Just("\"eventSource\"".to_owned()),
        Just("\"detail\"".to_owned()),
        Just("\"event\"".to_owned()),
        Just("\"userIdentity\"".to_owned()),
        Just("\"requestParameters\"".to_owned()),
        Just("\"responseElements\"".to_owned()),
        Just("\"eventSelectors\"".to_owned()),
        Just("\"2024-07-30T21:53:13Z\"".to_owned()),
        Just("\"iam.amazonaws.com\"".to_owned()),
        Just("null".to_owned()),
        Just("true".to_owned()),
        Just("12".to_owned()),
        Just("\u{feff}".to_owned()),
        "\"[a-z\\\\\"]{0,6}\"",
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..512)) {
        read_anything(&bytes);
    }

    #[test]
    fn arbitrary_token_soup_never_panics(tokens in proptest::collection::vec(token(), 0..64)) {
        read_anything(tokens.concat().as_bytes());
    }

    #[test]
    fn a_damaged_real_file_never_panics_nor_invents_events(
        position in 0usize..4389,
        byte in any::<u8>(),
        insert in any::<bool>(),
    ) {
        let mut bytes = CREATE_ADMIN_USER.as_bytes().to_vec();
        let position = position.min(bytes.len() - 1);
        if insert {
            bytes.insert(position, byte);
        } else {
            bytes[position] = byte;
        }
        prop_assert!(read_anything(&bytes) <= 3);
    }
}
