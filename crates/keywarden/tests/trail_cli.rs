//! `keywarden trail`, `keywarden key`, `keywarden rules` and `keywarden rule` end to end, on the
//! real binary: CloudTrail folder trees as S3 delivers them (gzipped, with digest files), standard
//! input, gzip recognised by its bytes, exit statuses, the JSON fields of event findings, time
//! windows, rule selection, and one key's timeline.
//!
//! The events are the real and derived ones of keywarden-core's CloudTrail fixtures
//! (crates/keywarden-core/tests/cloudtrail/fixtures.rs, included below); detection semantics are
//! tested there, this file tests what the user touches.

#[path = "../../keywarden-core/tests/cloudtrail/fixtures.rs"]
mod fixtures;
mod support;

use fixtures::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use support::cli::{arg, keywarden, keywarden_stdin, stderr, stdout, stdout_json};

// --- Harness ----------------------------------------------------------------------------------

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    support::fresh_dir("trail-cli", test)
}

fn write(path: &Path, bytes: &[u8]) -> PathBuf {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, bytes).unwrap();
    path.to_path_buf()
}

/// `RULE access_key_id event_id` per finding, sorted.
fn findings(doc: &Value) -> Vec<String> {
    let mut lines: Vec<String> = doc["findings"]
        .as_array()
        .expect("a findings array")
        .iter()
        .map(|f| {
            format!(
                "{} {} {}",
                f["rule"].as_str().unwrap(),
                f["access_key_id"].as_str().unwrap_or("-"),
                f["event_id"].as_str().unwrap_or("-")
            )
        })
        .collect();
    lines.sort();
    lines
}

fn sorted(expected: &[&str]) -> Vec<String> {
    let mut lines: Vec<String> = expected.iter().map(|s| s.to_string()).collect();
    lines.sort();
    lines
}

/// A gzip member holding `data` in stored (uncompressed) deflate blocks, with its CRC: enough
/// for the decoder keywarden uses, and no compression crate needed here.
fn gzip(data: &[u8]) -> Vec<u8> {
    let mut out = vec![0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];
    if data.is_empty() {
        out.extend([1, 0, 0, 0xff, 0xff]);
    }
    let mut blocks = data.chunks(0xffff).peekable();
    while let Some(block) = blocks.next() {
        out.push(u8::from(blocks.peek().is_none()));
        let len = block.len() as u16;
        out.extend(len.to_le_bytes());
        out.extend((!len).to_le_bytes());
        out.extend(block);
    }
    out.extend(crc32(data).to_le_bytes());
    out.extend((data.len() as u32).to_le_bytes());
    out
}

fn crc32(data: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &byte in data {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xedb8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

/// The CloudTrail S3 layout: `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>.json.gz`.
fn log_path(root: &Path, account: &str, region: &str, day: &str, stamp: &str) -> PathBuf {
    root.join("AWSLogs")
        .join(account)
        .join("CloudTrail")
        .join(region)
        .join(day)
        .join(format!(
            "{account}_CloudTrail_{region}_{stamp}_{}.json.gz",
            &stamp[9..13]
        ))
}

/// The incident of the EVT006 fixtures as CloudTrail delivers it: three gzipped Records files in
/// us-east-1 (minting, deletion, the uses after it), plus a digest file and a stray non-log
/// file that must not be read.
fn incident_tree(root: &Path) -> PathBuf {
    let events = incident(leaked_key_deleted("2024-11-30T10:00:00Z"));
    let day = "2024/11/30";
    let account = LEAKED_ACCOUNT;
    for (stamp, slice) in [
        ("20241130T0845Z", &events[..5]),
        ("20241130T1000Z", &events[5..6]),
        ("20241130T1105Z", &events[6..]),
    ] {
        write(
            &log_path(root, account, "us-east-1", day, stamp),
            &gzip(records(slice).as_bytes()),
        );
    }
    // A digest: JSON, gzipped, but not events. Read as a log it would be a bad record.
    let digest = json!({
        "awsAccountId": account,
        "digestStartTime": "2024-11-30T08:00:00Z",
        "digestEndTime": "2024-11-30T09:00:00Z",
        "digestS3Bucket": "trail-bucket",
        "digestS3Object": "AWSLogs/742491224508/CloudTrail-Digest/us-east-1/2024/11/30/x.json.gz",
        "logFiles": [],
        "digestPublicKeyFingerprint": "00",
        "digestSignatureAlgorithm": "SHA256withRSA"
    });
    write(
        &root
            .join("AWSLogs")
            .join(account)
            .join("CloudTrail-Digest/us-east-1/2024/11/30")
            .join(format!(
                "{account}_CloudTrail-Digest_us-east-1_trail_us-east-1_20241130T090000Z.json.gz"
            )),
        &gzip(digest.to_string().as_bytes()),
    );
    write(&root.join("AWSLogs/README.txt"), b"not a log");
    write(&root.join("AWSLogs/.DS_Store"), b"\0\0\0\x01Bud1");
    root.join("AWSLogs")
}

const INCIDENT_FINDINGS: &[&str] = &[
    "EVT005 AKIA6V1GNZTT65XQH36M 6e882b9d-2af8-4c67-b91f-aeac6a0e5e70",
    "EVT005 AKIA6V1GNZTT65XQH36M derived-evt006-gst",
    "EVT006 ASIASTJKC5GCM7ZE6SES derived-evt006-use-after",
    "EVT006 ASIASTJKC5GCM7ZECHAN derived-evt006-chained-use-after",
    "EVT006 ASIASTJKC5GCM7ZE6LUP derived-evt006-federated-use-after",
];

// --- trail: sources -----------------------------------------------------------------------------

#[test]
fn trail_reads_a_cloudtrail_folder_tree_and_skips_digests() {
    let root = scratch("folder-tree");
    let logs = incident_tree(&root);
    let out = keywarden(&["trail", arg(&logs), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = stdout_json(&out);
    assert_eq!(findings(&doc), sorted(INCIDENT_FINDINGS));
    let err = stderr(&out);
    // Three log files read; the digest, README.txt and .DS_Store were not.
    assert!(err.contains("3 source(s), 9 events"), "{err}");
    assert!(err.contains("0 bad records"), "{err}");
    assert!(!err.contains("Digest"), "{err}");
    assert_eq!(doc["data_source"]["kind"], "cloudtrail");
    assert_eq!(doc["data_as_of"], "2024-11-30T11:10:00Z");
}

#[test]
fn trail_gives_the_same_answer_on_one_thread_or_many() {
    let root = scratch("threads");
    let logs = incident_tree(&root);
    let one = keywarden(&["trail", arg(&logs), "--format", "json", "--threads", "1"]);
    let many = keywarden(&["trail", arg(&logs), "--format", "json", "--threads", "8"]);
    assert_eq!(one.status.code(), Some(1), "{}", stderr(&one));
    assert_eq!(many.status.code(), Some(1), "{}", stderr(&many));
    let (mut a, mut b) = (stdout_json(&one), stdout_json(&many));
    // `generated_at` is the clock; everything else must match.
    a["generated_at"] = Value::Null;
    b["generated_at"] = Value::Null;
    a["data_source"]["age_seconds"] = Value::Null;
    b["data_source"]["age_seconds"] = Value::Null;
    assert_eq!(a, b);
}

#[test]
fn trail_matches_a_session_across_files_read_in_any_order() {
    // The uses after the deletion in the first file read, the minting in the last one.
    let root = scratch("any-order");
    let mut events = incident(leaked_key_deleted("2024-11-30T10:00:00Z"));
    events.reverse();
    write(&root.join("a-late.json"), records(&events[..3]).as_bytes());
    write(
        &root.join("b-deletion.jsonl"),
        json_lines(&events[3..4]).as_bytes(),
    );
    write(
        &root.join("c-early.json"),
        serde_json::to_string_pretty(&events[4..])
            .unwrap()
            .as_bytes(),
    );
    let out = keywarden(&["trail", arg(&root), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(findings(&stdout_json(&out)), sorted(INCIDENT_FINDINGS));
}

#[test]
fn trail_reads_standard_input_plain_or_gzipped() {
    // The AWS docs export (wrapped events, one per line) on stdin.
    let out = keywarden_stdin(
        &["trail", "-", "--format", "json"],
        AWSDOCS_EXCERPT.as_bytes(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let expected = sorted(&[
        "EVT007 - 3fcfb182-98f8-4744-bd45-10a395ab61cb",
        "EVT007 - deb1e1f9-c99b-4612-8e9f-21f93b5d79c0",
    ]);
    assert_eq!(findings(&stdout_json(&out)), expected);
    assert!(
        stderr(&out).contains("1 source(s), 7 events"),
        "{}",
        stderr(&out)
    );
    // `zcat`-less: the same bytes gzipped.
    let out = keywarden_stdin(
        &["trail", "-", "--format", "json"],
        gzip(AWSDOCS_EXCERPT.as_bytes()),
    );
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(findings(&stdout_json(&out)), expected);
}

#[test]
fn gzip_is_recognised_by_its_bytes_whatever_the_name() {
    let root = scratch("gzip-names");
    let gz = write(&root.join("named.json.gz"), &gzip(BACKDOOR_USER.as_bytes()));
    // Gzipped but named .json: named on the command line, and found in a walked folder.
    let disguised = write(
        &root.join("walked/disguised.json"),
        &gzip(CREATE_ADMIN_USER.as_bytes()),
    );
    // Several gzip members in one file (as `cat a.gz b.gz` makes): all are read.
    let mut members = gzip(records(&events_of(CLOUDTRAIL_STOP)).as_bytes());
    members.extend(gzip(records(&events_of(CLOUDTRAIL_DELETE)).as_bytes()));
    let multi = write(&root.join("members.bin"), &members);
    let out = keywarden(&[
        "trail",
        arg(&gz),
        arg(disguised.parent().unwrap()),
        arg(&multi),
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        findings(&stdout_json(&out)),
        sorted(&[
            "EVT001 AKIAL80DWDVKKM0UXEER c64c4ded-ef03-4e5c-81eb-153b118d72f2",
            "EVT001 AKIAXAFZN8JEPF6L682H 94faedcc-0fa4-46e6-9322-022e8e934f04",
            "EVT009 - 10163ed2-2253-469d-a5ee-cbc6651f8934",
            "EVT009 - ee73c230-44bc-4492-8542-cfb189eae287",
        ])
    );
    assert!(stderr(&out).contains("3 source(s)"), "{}", stderr(&out));
}

#[test]
fn a_truncated_gzip_member_keeps_the_events_before_the_damage_and_exits_2() {
    let root = scratch("gzip-truncated");
    // One event per line, so that the events before the cut are whole: the backdoor key
    // creation, then the three admin-user events; cut inside the last one.
    let mut events = events_of(BACKDOOR_USER);
    events.extend(events_of(CREATE_ADMIN_USER));
    let text = json_lines(&events);
    let member = gzip(text.as_bytes());
    let cut = member.len() - 8 - 200;
    let path = write(&root.join("cut.jsonl.gz"), &member[..cut]);
    let out = keywarden(&["trail", arg(&path), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // The key creations before the damage are reported.
    assert_eq!(
        findings(&stdout_json(&out)),
        sorted(&[
            "EVT001 AKIAL80DWDVKKM0UXEER c64c4ded-ef03-4e5c-81eb-153b118d72f2",
            "EVT001 AKIAXAFZN8JEPF6L682H 94faedcc-0fa4-46e6-9322-022e8e934f04",
        ])
    );
    let err = stderr(&out);
    assert!(err.contains("skipped bad record"), "{err}");
    assert!(err.contains(arg(&path)), "the damaged file is named: {err}");
    assert!(err.contains("gzip stream damaged after"), "{err}");
    // The offset says where the damage is: the stored blocks decode to every byte before the
    // cut (10 bytes of gzip header and 5 of block header precede the data).
    let decoded: u64 = err
        .split("gzip stream damaged after ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no decompressed byte count: {err}"));
    assert_eq!(
        decoded,
        (cut - 15) as u64,
        "the damage offset counts no byte decoded in the read that failed: {err}"
    );
}

#[test]
fn a_truncated_records_file_exits_2() {
    // A CloudTrail file cut short (a partial download): the events before the cut are read, and
    // the run must say it is incomplete.
    let root = scratch("records-truncated");
    let whole = records(&events_of(CREATE_ADMIN_USER));
    let cut = whole.find("3346344c").unwrap();
    let path = write(&root.join("cut.json"), &whole.as_bytes()[..cut]);
    let out = keywarden(&["trail", arg(&path), "--format", "json"]);
    assert_eq!(
        findings(&stdout_json(&out)),
        ["EVT001 AKIAXAFZN8JEPF6L682H 94faedcc-0fa4-46e6-9322-022e8e934f04"]
    );
    assert_eq!(
        out.status.code(),
        Some(2),
        "a truncated Records file is taken as complete: {}",
        stderr(&out)
    );
}

#[test]
fn the_same_event_in_two_files_is_reported_once() {
    let root = scratch("duplicates");
    let a = write(&root.join("a.json"), BACKDOOR_USER.as_bytes());
    let b = write(
        &root.join("b.json.gz"),
        &gzip(records(&events_of(BACKDOOR_USER)).as_bytes()),
    );
    let out = keywarden(&["trail", arg(&a), arg(&b), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        findings(&stdout_json(&out)),
        ["EVT001 AKIAL80DWDVKKM0UXEER c64c4ded-ef03-4e5c-81eb-153b118d72f2"]
    );
    assert!(
        stderr(&out).contains("2 events (1 duplicates skipped)"),
        "{}",
        stderr(&out)
    );
}

// --- trail: output and exit status -------------------------------------------------------------

#[test]
fn json_findings_carry_the_event_behind_them() {
    let root = scratch("json-fields");
    let logs = incident_tree(&root);
    let real = root.join("real");
    for (name, text) in REAL_FILES {
        write(&real.join(name), text.as_bytes());
    }
    let out = keywarden(&["trail", arg(&logs), arg(&real), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = stdout_json(&out);
    assert_eq!(doc["schema_version"], "1.1");
    let all = doc["findings"].as_array().unwrap();
    // The real GetFederationToken is in both sets: reported once.
    assert_eq!(
        all.len(),
        INCIDENT_FINDINGS.len() + 11 - 1,
        "{:#}",
        doc["findings"]
    );
    for f in all {
        for field in [
            "event_id",
            "event_time",
            "event_name",
            "source_ip",
            "user_agent",
            "actor",
        ] {
            assert!(f[field].is_string(), "{} lacks `{field}`: {f:#}", f["rule"]);
        }
        assert_eq!(f["status"], "fail");
        assert!(f["message"].is_string());
    }
    let session = all
        .iter()
        .find(|f| f["access_key_id"] == SESSION)
        .expect("the EVT006 finding on SESSION");
    assert_eq!(session["rule"], "EVT006");
    assert_eq!(session["name"], "session-used-after-parent-key-revoked");
    assert_eq!(session["severity"], "critical");
    assert_eq!(session["credential"], "session_key");
    assert_eq!(session["user"], LEAKED_KEY_OWNER);
    assert_eq!(session["account"], LEAKED_ACCOUNT);
    assert_eq!(session["event_id"], "derived-evt006-use-after");
    assert_eq!(session["event_time"], "2024-11-30T11:00:00Z");
    assert_eq!(session["event_name"], "GetCallerIdentity");
    assert_eq!(session["source_ip"], "255.090.254.5");
    assert_eq!(session["actor"], SESSION);
    assert_eq!(session["evidence"]["parent_key"], LEAKED_KEY);
    assert_eq!(session["evidence"]["revoked_by"], "DeleteAccessKey");
    assert_eq!(session["evidence"]["revoked_at"], "2024-11-30T10:00:00Z");
    let backdoor = all
        .iter()
        .find(|f| f["event_id"] == BACKDOOR_CREATE_KEY)
        .unwrap();
    assert_eq!(
        backdoor["actor"],
        "arn:aws:iam::946986569305:user/christophe"
    );
    assert_eq!(
        backdoor["user_agent"],
        "stratus-red-team_f3f19dcd-8552-47ca-a01e-0e1f5578d15e"
    );
    assert_eq!(backdoor["event_time"], "2024-07-30T21:53:13Z");
}

#[test]
fn table_output_names_the_detections() {
    let root = scratch("table");
    let logs = incident_tree(&root);
    let out = keywarden(&["trail", arg(&logs), "--format", "table"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(text.contains("EVT006"), "{text}");
    assert!(text.contains(SESSION), "{text}");
    assert!(text.contains("EVT005"), "{text}");
}

#[test]
fn exit_status_is_0_without_findings_1_with_findings_2_with_bad_records() {
    let root = scratch("exit-status");
    // Real events with no detection: AssumeRole and a denied RunInstances.
    let quiet = write(
        &root.join("quiet.json"),
        LAUNCH_UNUSUAL_INSTANCES.as_bytes(),
    );
    let out = keywarden(&["trail", arg(&quiet), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["findings"], json!([]));

    let loud = write(&root.join("loud.json"), BACKDOOR_USER.as_bytes());
    let out = keywarden(&["trail", arg(&quiet), arg(&loud), "--format", "json"]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));

    // One event per line with a damaged line 2 and an event without eventTime on line 4: both
    // named on stderr, the good events still reported, exit 2.
    let mut timeless = real(CREATE_ADMIN_USER, "3346344c-5a3e-429e-8405-420f98f75d6e");
    fixtures::remove(&mut timeless, &["eventTime"]);
    let document = format!(
        "{}{{\"eventVersion\":\"1.09\",\"eventTi\n{}{}",
        json_lines(&events_of(BACKDOOR_USER)),
        json_lines(&events_of(CLOUDTRAIL_STOP)),
        json_lines(&[timeless]),
    );
    let damaged = write(&root.join("damaged.jsonl"), document.as_bytes());
    let out = keywarden(&["trail", arg(&damaged), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        findings(&stdout_json(&out)),
        sorted(&[
            "EVT001 AKIAL80DWDVKKM0UXEER c64c4ded-ef03-4e5c-81eb-153b118d72f2",
            "EVT009 - 10163ed2-2253-469d-a5ee-cbc6651f8934",
        ])
    );
    let err = stderr(&out);
    let origin = arg(&damaged);
    assert!(
        err.contains(&format!("{origin}: line 2: not a JSON event")),
        "{err}"
    );
    assert!(
        err.contains(&format!("{origin}: line 4: event without `eventTime`")),
        "{err}"
    );
    assert!(err.contains("2 bad records"), "{err}");

    // A source that does not exist is an error, exit 2, naming it.
    let missing = root.join("missing.json");
    let out = keywarden(&["trail", arg(&missing)]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("missing.json"), "{}", stderr(&out));
    // And no source at all.
    let out = keywarden(&["trail"]);
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn a_folder_without_log_files_is_an_error_not_a_clean_run() {
    // Missing data is never a pass: a folder holding no log file (here only a digest, a stray
    // file and an empty subfolder) exits 2 and says so, as an S3 prefix without log objects does.
    let root = scratch("empty-folder");
    let empty = root.join("AWSLogs");
    write(
        &empty.join("111122223333/CloudTrail-Digest/us-east-1/2024/11/30/digest.json.gz"),
        &gzip(b"{}"),
    );
    write(&empty.join("README.txt"), b"not a log");
    std::fs::create_dir_all(empty.join("111122223333/CloudTrail/us-east-1")).unwrap();
    for command in ["trail", "key"] {
        let mut args = vec![command];
        if command == "key" {
            args.push("AKIA6V1GNZTT65XQH36M");
        }
        args.extend([arg(&empty), "--format", "json"]);
        let out = keywarden(&args);
        assert_eq!(out.status.code(), Some(2), "{command}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(&format!("no CloudTrail records found in {}", arg(&empty))),
            "{command}: {}",
            stderr(&out)
        );
        assert!(out.stdout.is_empty(), "{command}: {}", stdout(&out));
    }
    // Beside a folder that has logs, it is still an error: a source named is a source expected.
    let logs = incident_tree(&scratch("empty-folder-logs"));
    let out = keywarden(&["trail", arg(&logs), arg(&empty), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // An empty file named on the command line is read, and holds no event: no error reading
    // it, but a run that analysed nothing is not a clean run (exit 2, and it says so).
    let nothing = write(&root.join("nothing.json"), b"");
    let out = keywarden(&["trail", arg(&nothing), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("no event was analysed: nothing was checked"),
        "{}",
        stderr(&out)
    );
    assert!(
        !stderr(&out).contains("no CloudTrail records found"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn since_and_until_keep_only_the_events_inside_the_window() {
    let root = scratch("window");
    for (name, text) in REAL_FILES {
        write(&root.join(name), text.as_bytes());
    }
    // August 2024: the admin user (1 Aug), the login profiles (1 and 28 Aug), the console login
    // (2 Aug). Not July's backdoor key or trail changes, not November's federation token, not
    // the AWS docs' or OTRF's older events.
    let out = keywarden(&[
        "trail",
        arg(&root),
        "--since",
        "2024-08-01T00:00:00Z",
        "--until",
        "2024-08-31T23:59:59Z",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert_eq!(
        findings(&stdout_json(&out)),
        sorted(&[
            "EVT001 AKIAXAFZN8JEPF6L682H 94faedcc-0fa4-46e6-9322-022e8e934f04",
            "EVT004 - d3906a7d-604b-407f-acb6-fc425742821e",
            "EVT004 - a46a1a42-9ef1-48d4-9c61-507eb6d4019f",
            "EVT007 - 865d9377-9c6b-4fd7-8aad-725e95f6a140",
        ])
    );
    assert!(
        stderr(&out).contains("outside --since/--until"),
        "{}",
        stderr(&out)
    );
    // The bounds are inclusive: a window of one second holds the events of that second.
    let out = keywarden(&[
        "trail",
        arg(&root),
        "--since",
        "2024-07-30T21:53:13Z",
        "--until",
        "2024-07-30T21:53:13Z",
        "--format",
        "json",
    ]);
    assert_eq!(
        findings(&stdout_json(&out)),
        ["EVT001 AKIAL80DWDVKKM0UXEER c64c4ded-ef03-4e5c-81eb-153b118d72f2"]
    );
    // A bad bound is an error naming the flag.
    let out = keywarden(&["trail", arg(&root), "--since", "yesterday"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("--since"), "{}", stderr(&out));
}

#[test]
fn select_and_ignore_choose_the_detections() {
    let root = scratch("select");
    for (name, text) in REAL_FILES {
        write(&root.join(name), text.as_bytes());
    }
    let out = keywarden(&[
        "trail",
        arg(&root),
        "--select",
        "EVT007",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let doc = stdout_json(&out);
    assert_eq!(doc["summary"]["rules_run"], json!(["EVT007"]));
    assert_eq!(
        findings(&doc),
        sorted(&[
            "EVT007 - 865d9377-9c6b-4fd7-8aad-725e95f6a140",
            "EVT007 - 3fcfb182-98f8-4744-bd45-10a395ab61cb",
            "EVT007 - deb1e1f9-c99b-4612-8e9f-21f93b5d79c0",
        ])
    );
    // Several codes, any case.
    let out = keywarden(&[
        "trail",
        arg(&root),
        "--select",
        "evt001,EVT005",
        "--format",
        "json",
    ]);
    assert_eq!(
        findings(&stdout_json(&out)),
        sorted(&[
            "EVT001 AKIAL80DWDVKKM0UXEER c64c4ded-ef03-4e5c-81eb-153b118d72f2",
            "EVT001 AKIAXAFZN8JEPF6L682H 94faedcc-0fa4-46e6-9322-022e8e934f04",
            "EVT005 AKIA6V1GNZTT65XQH36M 6e882b9d-2af8-4c67-b91f-aeac6a0e5e70",
        ])
    );
    // Selecting a detection that finds nothing: exit 0.
    let out = keywarden(&[
        "trail",
        arg(&root),
        "--select",
        "EVT006",
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    // --ignore.
    let out = keywarden(&[
        "trail",
        arg(&root),
        "--ignore",
        "EVT007,EVT009,EVT004,EVT001",
        "--format",
        "json",
    ]);
    assert_eq!(
        findings(&stdout_json(&out)),
        ["EVT005 AKIA6V1GNZTT65XQH36M 6e882b9d-2af8-4c67-b91f-aeac6a0e5e70"]
    );
    // An unknown code is an error, not a silent empty run.
    let out = keywarden(&["trail", arg(&root), "--select", "EVT999"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("EVT999"), "{}", stderr(&out));
}

// --- key ----------------------------------------------------------------------------------------

#[test]
fn key_prints_the_timeline_of_a_leaked_key_and_its_sessions_as_json() {
    let root = scratch("key-json");
    let logs = incident_tree(&root);
    let out = keywarden(&["key", LEAKED_KEY, arg(&logs), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = stdout_json(&out);
    assert_eq!(doc["access_key_id"], LEAKED_KEY);
    assert_eq!(doc["seen"], true);
    assert_eq!(doc["owner"], LEAKED_KEY_OWNER);
    assert_eq!(doc["account"], LEAKED_ACCOUNT);
    // Created before the logs begin.
    assert_eq!(doc["created"], Value::Null);
    assert_eq!(doc["status_changes"], json!([]));
    assert_eq!(doc["deleted"]["time"], "2024-11-30T10:00:00Z");
    assert_eq!(doc["deleted"]["event_name"], "DeleteAccessKey");
    assert_eq!(doc["deleted"]["event_id"], "derived-evt006-delete");
    assert_eq!(
        doc["deleted"]["actor"],
        "arn:aws:iam::742491224508:user/christophe"
    );
    assert_eq!(doc["deleted"]["source_ip"], "211.9.016.253");
    // The key itself signed the two minting calls.
    assert_eq!(doc["used"]["first"]["event_name"], "GetFederationToken");
    assert_eq!(doc["used"]["first"]["time"], "2024-11-30T08:43:17Z");
    assert_eq!(doc["used"]["last"]["event_name"], "GetSessionToken");
    assert_eq!(doc["used"]["last"]["time"], "2024-11-30T09:00:00Z");
    // Its sessions, role chaining included, in minting order, with their use.
    let sessions = doc["sessions"].as_array().unwrap();
    let summary: Vec<(String, String, String, String, String)> = sessions
        .iter()
        .map(|s| {
            (
                s["access_key_id"].as_str().unwrap().to_owned(),
                s["minted"]["event_name"].as_str().unwrap().to_owned(),
                s["parent"].as_str().unwrap().to_owned(),
                s["used"]["first"]["time"].as_str().unwrap().to_owned(),
                s["used"]["last"]["time"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let row = |a: &str, b: &str, c: &str, d: &str, e: &str| {
        (
            a.to_owned(),
            b.to_owned(),
            c.to_owned(),
            d.to_owned(),
            e.to_owned(),
        )
    };
    assert_eq!(
        summary,
        [
            row(
                FEDERATION_SESSION,
                "GetFederationToken",
                LEAKED_KEY,
                "2024-11-30T08:43:18Z",
                "2024-11-30T11:10:00Z"
            ),
            row(
                SESSION,
                "GetSessionToken",
                LEAKED_KEY,
                "2024-11-30T09:05:00Z",
                "2024-11-30T11:00:00Z"
            ),
            row(
                CHAINED_SESSION,
                "AssumeRole",
                SESSION,
                "2024-11-30T11:05:00Z",
                "2024-11-30T11:05:00Z"
            ),
        ]
    );
    assert_eq!(sessions[2]["used"]["last"]["event_name"], "RunInstances");
}

#[test]
fn key_prints_the_timeline_as_a_table_in_time_order() {
    let root = scratch("key-table");
    let logs = incident_tree(&root);
    let out = keywarden(&["key", LEAKED_KEY, arg(&logs)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    let lines: Vec<&str> = text.lines().collect();
    assert!(lines[0].starts_with(LEAKED_KEY), "{text}");
    assert!(lines[0].contains(LEAKED_KEY_OWNER), "{text}");
    assert!(lines[0].contains(LEAKED_ACCOUNT), "{text}");
    // Every fact on its own line, in time order.
    let times: Vec<&str> = lines[1..]
        .iter()
        .map(|l| l.split_whitespace().next().unwrap())
        .collect();
    let mut in_order = times.clone();
    in_order.sort();
    assert_eq!(times, in_order, "{text}");
    let position = |needle: &str| {
        lines
            .iter()
            .position(|l| l.contains(needle))
            .unwrap_or_else(|| panic!("no line with `{needle}`:\n{text}"))
    };
    let minted = position(&format!("minted     {SESSION} with GetSessionToken"));
    let deleted = position("deleted");
    let used_after = position(&format!("last use {SESSION}: GetCallerIdentity"));
    assert!(minted < deleted && deleted < used_after, "{text}");
    position(&format!("minted     {CHAINED_SESSION} with AssumeRole"));
    position(&format!(
        "minted     {FEDERATION_SESSION} with GetFederationToken"
    ));
    assert!(
        lines[deleted].contains("arn:aws:iam::742491224508:user/christophe"),
        "{text}"
    );
}

#[test]
fn key_shows_creation_and_status_changes() {
    let root = scratch("key-status");
    let file = write(
        &root.join("backdoor.jsonl"),
        json_lines(&[
            backdoor_key_reactivated(),
            real(BACKDOOR_USER, BACKDOOR_CREATE_KEY),
            backdoor_key_deactivated(),
        ])
        .as_bytes(),
    );
    let out = keywarden(&["key", BACKDOOR_KEY, arg(&file), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = stdout_json(&out);
    assert_eq!(doc["owner"], BACKDOOR_USER_NAME);
    assert_eq!(doc["account"], "946986569305");
    assert_eq!(doc["created"]["time"], "2024-07-30T21:53:13Z");
    assert_eq!(doc["created"]["status"], "Active");
    assert_eq!(
        doc["created"]["actor"],
        "arn:aws:iam::946986569305:user/christophe"
    );
    let changes: Vec<(&str, &str)> = doc["status_changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["time"].as_str().unwrap(), c["status"].as_str().unwrap()))
        .collect();
    assert_eq!(
        changes,
        [
            ("2024-07-30T22:00:00Z", "Inactive"),
            ("2024-07-30T23:00:00Z", "Active")
        ]
    );
    assert_eq!(doc["deleted"], Value::Null);
    assert_eq!(doc["sessions"], json!([]));
    let table = stdout(&keywarden(&["key", BACKDOOR_KEY, arg(&file)]));
    assert!(table.contains("created"), "{table}");
    assert!(table.contains("-> Inactive"), "{table}");
    assert!(table.contains("-> Active"), "{table}");
}

#[test]
fn key_does_not_take_a_console_session_for_a_minted_one() {
    // OTRF: pedro's console session (IAMUser, ASIA key) is not a session of any long-term key.
    let root = scratch("key-console");
    let file = write(&root.join("otrf.json"), OTRF_EXCERPT.as_bytes());
    let out = keywarden(&["trail", arg(&file), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let out = keywarden(&["key", CONSOLE_SESSION_KEY, arg(&file), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["seen"], false);
}

#[test]
fn key_says_when_the_key_is_not_in_the_logs() {
    let root = scratch("key-unknown");
    let file = write(&root.join("stop.json"), CLOUDTRAIL_STOP.as_bytes());
    let out = keywarden(&["key", "AKIANOTINTHELOGS0001", arg(&file)]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(
        stdout(&out).contains("AKIANOTINTHELOGS0001: not found in the logs read"),
        "{}",
        stdout(&out)
    );
    let out = keywarden(&[
        "key",
        "AKIANOTINTHELOGS0001",
        arg(&file),
        "--format",
        "json",
    ]);
    let doc = stdout_json(&out);
    assert_eq!(doc["seen"], false);
    assert_eq!(doc["sessions"], json!([]));
}

#[test]
fn key_exits_2_when_the_logs_have_bad_records() {
    let root = scratch("key-bad");
    let file = write(
        &root.join("bad.jsonl"),
        format!("{}not json\n", json_lines(&events_of(BACKDOOR_USER))).as_bytes(),
    );
    let out = keywarden(&["key", BACKDOOR_KEY, arg(&file), "--format", "json"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert_eq!(
        stdout_json(&out)["created"]["event_id"],
        BACKDOOR_CREATE_KEY
    );
    assert!(stderr(&out).contains("line 2"), "{}", stderr(&out));
}

// --- rules / rule -------------------------------------------------------------------------------

#[test]
fn rules_lists_every_detection() {
    let out = keywarden(&["rules"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    for (code, name) in [
        ("EVT001", "access-key-created-for-another-user"),
        ("EVT002", "access-key-reactivated"),
        ("EVT003", "access-key-status-changed"),
        ("EVT004", "login-profile-changed-for-another-user"),
        ("EVT005", "session-minted-by-long-term-key"),
        ("EVT006", "session-used-after-parent-key-revoked"),
        ("EVT007", "console-login-without-mfa"),
        ("EVT008", "root-access-key-created"),
        ("EVT009", "trail-logging-stopped"),
    ] {
        let line = text
            .lines()
            .find(|l| l.starts_with(code))
            .unwrap_or_else(|| panic!("{code} is not listed:\n{text}"));
        assert!(line.contains(name), "{line}");
    }
    let json = stdout_json(&keywarden(&["rules", "--format", "json"]));
    let evt: Vec<&str> = json
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["code"].as_str().unwrap())
        .filter(|c| c.starts_with("EVT"))
        .collect();
    assert_eq!(
        evt,
        [
            "EVT001", "EVT002", "EVT003", "EVT004", "EVT005", "EVT006", "EVT007", "EVT008",
            "EVT009"
        ]
    );
}

#[test]
fn rule_prints_a_detections_documentation() {
    let out = keywarden(&["rule", "EVT006"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert!(
        text.starts_with("# EVT006 session-used-after-parent-key-revoked (critical)"),
        "{text}"
    );
    for section in [
        "## What it does",
        "## Why it matters",
        "## How it decides",
        "## How to fix",
        "## Standards",
    ] {
        assert!(text.contains(section), "{section} missing:\n{text}");
    }
    assert!(text.contains("role chaining"), "{text}");
    assert!(text.contains("aws:TokenIssueTime"), "{text}");
    // Codes are matched in any case; an unknown one is an error listing the catalogue.
    assert_eq!(stdout(&keywarden(&["rule", "evt006"])), text);
    let out = keywarden(&["rule", "EVT010"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("EVT009"), "{}", stderr(&out));
}

// --- An organization trail ---------------------------------------------------------------------

/// The org-trail fixtures (keywarden-core's `org_trail_events`: a cross-account AssumeRole from
/// the AWS documentation's sample in both accounts' logs, the session's use in the role's
/// account, the real iam-backdoor-user CreateAccessKey in a third account) laid out as an
/// organization trail delivers them: `AWSLogs/o-.../ACCOUNT/CloudTrail/REGION/YYYY/MM/DD/`, one
/// gzipped Records file per account and day. Returns the folder holding `AWSLogs/`.
fn org_tree(root: &Path) -> PathBuf {
    for (account, events) in org_trail_events() {
        let mut by_day: std::collections::BTreeMap<String, Vec<Value>> = Default::default();
        for event in events {
            let time = event["eventTime"].as_str().unwrap();
            by_day
                .entry(format!("{}/{}/{}", &time[..4], &time[5..7], &time[8..10]))
                .or_default()
                .push(event);
        }
        for (day, events) in by_day {
            let stamp = format!("{}T2355Z", day.replace('/', ""));
            // `AWSLogs/ACCOUNT/...` as a single account's trail has it, moved under the org id.
            let path = log_path(Path::new(""), account, "us-east-2", &day, &stamp);
            let inside = path.strip_prefix("AWSLogs").unwrap();
            write(
                &root.join("AWSLogs").join(ORG_ID).join(inside),
                &gzip(records(&events).as_bytes()),
            );
        }
    }
    root.to_path_buf()
}

/// The findings' accounts, sorted and once each.
fn finding_accounts(doc: &Value) -> Vec<String> {
    let mut accounts: Vec<String> = doc["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["account"].as_str().unwrap_or("-").to_owned())
        .collect();
    accounts.sort();
    accounts.dedup();
    accounts
}

#[test]
fn trail_reads_an_organization_trail_and_accounts_narrows_it() {
    let root = org_tree(&scratch("org-trail"));
    let all = keywarden(&["trail", arg(&root), "--format", "json"]);
    let doc = stdout_json(&all);
    assert!(
        findings(&doc).contains(&format!("EVT001 {BACKDOOR_KEY} {BACKDOOR_CREATE_KEY}")),
        "{doc:#}"
    );
    // Only the backdoor account's files: its finding, nothing of the others.
    let other = keywarden(&[
        "trail",
        arg(&root),
        "--accounts",
        ORG_OTHER_ACCOUNT,
        "--format",
        "json",
    ]);
    let other_doc = stdout_json(&other);
    assert_eq!(findings(&other_doc), findings(&doc), "{}", stderr(&other));
    // The two other accounts: no backdoor finding, and the run is clean.
    let pair = format!("{ORG_CALLER_ACCOUNT},{ORG_ROLE_ACCOUNT}");
    let narrowed = keywarden(&["trail", arg(&root), "--accounts", &pair, "--format", "json"]);
    assert_eq!(narrowed.status.code(), Some(0), "{}", stderr(&narrowed));
    assert_eq!(findings(&stdout_json(&narrowed)), Vec::<String>::new());
    // What was read: the key's session is there with the two accounts, gone without the role's.
    let key = |accounts: &str| {
        let out = keywarden(&[
            "key",
            CROSS_ACCOUNT_KEY,
            arg(&root),
            "--accounts",
            accounts,
            "--format",
            "json",
        ]);
        assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
        stdout_json(&out)
    };
    assert_eq!(key(&pair)["sessions"].as_array().unwrap().len(), 1);
    assert_eq!(key(ORG_CALLER_ACCOUNT)["seen"], false);
    // The folder of one account, named directly, is that account's.
    let one = root.join("AWSLogs").join(ORG_ID).join(ORG_OTHER_ACCOUNT);
    let out = keywarden(&[
        "trail",
        arg(&one),
        "--accounts",
        ORG_OTHER_ACCOUNT,
        "--format",
        "json",
    ]);
    assert_eq!(findings(&stdout_json(&out)), findings(&doc));
    assert_eq!(finding_accounts(&stdout_json(&out)), [ORG_OTHER_ACCOUNT]);
}

#[test]
fn accounts_refuses_what_it_cannot_narrow() {
    let root = org_tree(&scratch("org-refused"));
    // An account with no folder: nothing read is an error, never a clean run.
    let out = keywarden(&["trail", arg(&root), "--accounts", "999999999999"]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    assert!(
        stderr(&out).contains("for accounts 999999999999") && stderr(&out).contains("--accounts"),
        "{}",
        stderr(&out)
    );
    // Not an account id.
    for bad in ["12345", "1111222233334", "11112222333x"] {
        let out = keywarden(&["trail", arg(&root), "--accounts", bad]);
        assert_eq!(out.status.code(), Some(2), "{bad}: {}", stderr(&out));
        assert!(
            stderr(&out).contains("is not an AWS account id"),
            "{}",
            stderr(&out)
        );
    }
    // A folder outside CloudTrail's layout holds no account's files.
    let flat = scratch("org-flat");
    write(
        &flat.join("events.json"),
        records(&[org_assume_role_in_role_account()]).as_bytes(),
    );
    let out = keywarden(&["trail", arg(&flat), "--accounts", ORG_ROLE_ACCOUNT]);
    assert_eq!(out.status.code(), Some(2), "{}", stderr(&out));
    // A file named on the command line is read whatever its path.
    let named = flat.join("events.json");
    let out = keywarden(&[
        "key",
        CROSS_ACCOUNT_KEY,
        arg(&named),
        "--accounts",
        ORG_ROLE_ACCOUNT,
        "--format",
        "json",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert_eq!(stdout_json(&out)["seen"], true);
}

#[test]
fn key_shows_a_session_in_another_account_and_its_use_there() {
    let root = org_tree(&scratch("org-key"));
    let out = keywarden(&["key", CROSS_ACCOUNT_KEY, arg(&root), "--format", "json"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let doc = stdout_json(&out);
    assert_eq!(doc["owner"], CROSS_ACCOUNT_OWNER);
    assert_eq!(doc["account"], ORG_CALLER_ACCOUNT);
    let sessions = doc["sessions"].as_array().unwrap();
    assert_eq!(sessions.len(), 1, "{doc:#}");
    let session = &sessions[0];
    assert_eq!(session["access_key_id"], CROSS_ACCOUNT_SESSION);
    assert_eq!(session["account"], ORG_ROLE_ACCOUNT);
    assert_eq!(session["parent"], CROSS_ACCOUNT_KEY);
    assert_eq!(session["minted"]["event_name"], "AssumeRole");
    assert_eq!(
        session["minted"]["event_id"],
        CROSS_ACCOUNT_ASSUME_ROLE_EVENT
    );
    assert_eq!(
        session["used"]["first"]["event_id"],
        "derived-org-session-call-1"
    );
    assert_eq!(session["used"]["last"]["event_name"], "RunInstances");
    assert_eq!(session["used"]["last"]["time"], "2014-07-18T16:00:00Z");
    // The table names the other account on the session's line.
    let table = keywarden(&["key", CROSS_ACCOUNT_KEY, arg(&root)]);
    let text = stdout(&table);
    assert!(
        text.contains(&format!(
            "minted     {CROSS_ACCOUNT_SESSION} in account {ORG_ROLE_ACCOUNT} with AssumeRole"
        )),
        "{text}"
    );
    assert!(
        text.contains(&format!("last use {CROSS_ACCOUNT_SESSION}: RunInstances")),
        "{text}"
    );
}

#[test]
fn a_session_in_the_key_s_own_account_is_not_said_to_be_elsewhere() {
    // The EVT006 incident: every session in the key's account; no line names an account.
    let logs = incident_tree(&scratch("org-same-account"));
    let text = stdout(&keywarden(&["key", LEAKED_KEY, arg(&logs)]));
    assert!(text.contains("minted     "), "{text}");
    assert!(!text.contains(" in account "), "{text}");
    let doc = stdout_json(&keywarden(&[
        "key",
        LEAKED_KEY,
        arg(&logs),
        "--format",
        "json",
    ]));
    for session in doc["sessions"].as_array().unwrap() {
        assert_eq!(session["account"], LEAKED_ACCOUNT, "{session}");
    }
}
