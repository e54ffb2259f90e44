//! Input built to exhaust memory or time (issue 9, points 9 to 12), on the real binary.
//!
//! The big inputs are a few hundred KB of gzip that expand to hundreds of MB (`{"Records":[`
//! and spaces, one line of `x`), generated here. Memory is checked without timing anything:
//! each run has its heap capped with `ulimit -d` well below the expanded size, so a reader that
//! buffers the input aborts on a failed allocation instead of finishing, and the limits
//! (`--max-event-size`) are checked by the bad records they produce.
//!
//! - 9: a `Records` file that is a gzip bomb of whitespace is read event by event, locally and
//!   from S3 (moto); an element longer than the limit is a bad record, skipped unbuffered;
//! - 10: one huge line in a line-per-event file is a bad record with its line number;
//! - 11: `audit --report /dev/zero` and `trail /dev/zero` are refused at once;
//! - 12: a FIFO or socket in a walked folder is skipped with a warning, a symbolic link to a
//!   folder is followed and a link loop reported, for log folders and Sigma rule folders alike.

mod support;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::json;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;
use support::cli::arg as path;
use support::{repo_root, Audit, Moto};

/// The heap a run may use, in MiB: far below the expanded inputs below, far above what reading
/// them chunk by chunk needs (one 16 MiB chunk per worker).
const HEAP_MIB: u64 = 128;

/// Spaces in the whitespace bombs: twice the heap cap.
const BOMB_SPACES: usize = 256 << 20;

/// A fresh scratch folder for one test.
fn scratch(test: &str) -> PathBuf {
    support::fresh_dir("hostile-input", test)
}

/// `command` with its data segment capped at [`HEAP_MIB`] (`ulimit -d`: heap and private
/// mappings). Its environment is carried over explicitly, without the test's own.
fn heap_capped(command: &Command) -> Command {
    let mut capped = Command::new("/bin/sh");
    capped.env_clear();
    for (key, value) in command.get_envs() {
        if let Some(value) = value {
            capped.env(key, value);
        }
    }
    capped
        .arg("-c")
        .arg(format!(
            "ulimit -d {} && exec \"$0\" \"$@\"",
            HEAP_MIB * 1024
        ))
        .arg(command.get_program())
        .args(command.get_args());
    capped
}

/// How long a run on the big inputs may take (a debug build reads them in a few seconds).
const RUN_BOUND: Duration = Duration::from_secs(60);

/// How long a run on a small folder may take: the bug there is a hang (opening a FIFO blocks
/// until a writer comes), which must fail the test in seconds.
const HANG_BOUND: Duration = Duration::from_secs(10);

/// `keywarden ARGS` on local input, heap capped, no AWS anywhere, within [`RUN_BOUND`].
fn keywarden(args: &[&str]) -> Audit {
    keywarden_within(args, RUN_BOUND)
}

/// `keywarden ARGS` as [`keywarden`], killed and failed after `bound`.
fn keywarden_within(args: &[&str], bound: Duration) -> Audit {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keywarden"));
    command
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent")
        .env("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent")
        .args(args);
    Audit::run_within(heap_capped(&command), bound)
}

/// A small CloudTrail event that makes no finding.
fn event(id: &str) -> String {
    json!({
        "eventVersion": "1.08",
        "eventID": id,
        "eventTime": "2024-08-01T10:00:00Z",
        "eventSource": "s3.amazonaws.com",
        "eventName": "ListBuckets",
        "awsRegion": "us-east-1",
        "sourceIPAddress": "203.0.113.7",
        "userIdentity": {"type": "IAMUser", "userName": "alice", "accessKeyId": "AKIAEXAMPLE000000001"}
    })
    .to_string()
}

/// A gzip member of `parts` in order, where a `Fill(byte, n)` stands for `n` copies of `byte`
/// (generated in pieces, never held whole).
enum Part<'a> {
    Text(&'a str),
    Fill(u8, usize),
}

fn gzip(parts: &[Part<'_>]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::fast());
    let block = [0u8; 1 << 16];
    for part in parts {
        match part {
            Part::Text(text) => encoder.write_all(text.as_bytes()).unwrap(),
            Part::Fill(byte, mut n) => {
                let block = block.map(|_| *byte);
                while n > 0 {
                    let k = n.min(block.len());
                    encoder.write_all(&block[..k]).unwrap();
                    n -= k;
                }
            }
        }
    }
    encoder.finish().unwrap()
}

/// The run's summary line says `events` events and `bad` bad records.
fn assert_counts(run: &Audit, events: usize, bad: usize) {
    assert!(
        run.stderr.contains(&format!(
            "{events} events (0 duplicates skipped), {bad} bad records"
        )),
        "expected {events} events and {bad} bad records\n{}",
        run.context()
    );
}

/// `{"Records":[A,` + spaces + `B]}`, gzipped: 256 MiB of text in a few hundred KB, the shape of
/// the 4 GiB bomb of the issue.
fn whitespace_bomb() -> Vec<u8> {
    let head = format!("{{\"Records\":[{},", event("before-the-spaces"));
    let tail = format!("{}]}}", event("after-the-spaces"));
    gzip(&[
        Part::Text(&head),
        Part::Fill(b' ', BOMB_SPACES),
        Part::Text(&tail),
    ])
}

// --- 9: a Records document is streamed ---------------------------------------------------------

#[test]
fn a_whitespace_gzip_bomb_in_a_records_file_is_read_event_by_event_in_capped_memory() {
    let dir = scratch("bomb");
    let file = dir.join("bomb.json.gz");
    std::fs::write(&file, whitespace_bomb()).unwrap();

    let run = keywarden(&["trail", path(&file), "--format", "json"]);

    // Today: the whole document is buffered before parsing, the allocation fails, abort.
    assert_eq!(run.code(), Some(0), "{}", run.context());
    assert_counts(&run, 2, 0);
}

#[test]
fn a_pretty_printed_records_file_larger_than_the_heap_is_read_event_by_event() {
    // What `jq .` makes of a CloudTrail file: newlines and indentation everywhere; 1,000 events
    // each indented by 200 KiB, 200 MiB in all, more than the heap cap: read whole, it aborts.
    let pretty: Vec<String> = (0..1000)
        .map(|i| {
            let value: serde_json::Value = serde_json::from_str(&event(&format!("e{i}"))).unwrap();
            serde_json::to_string_pretty(&value).unwrap()
        })
        .collect();
    let mut parts = vec![Part::Text("{\n  \"Records\": [\n")];
    for (i, event) in pretty.iter().enumerate() {
        if i > 0 {
            parts.push(Part::Text(",\n"));
        }
        parts.push(Part::Fill(b' ', INDENT));
        parts.push(Part::Text(event));
    }
    parts.push(Part::Text("\n  ]\n}\n"));
    const INDENT: usize = 200 << 10;
    assert!(1000 * INDENT > (HEAP_MIB as usize) << 20);
    let dir = scratch("pretty");
    let file = dir.join("pretty.json.gz");
    std::fs::write(&file, gzip(&parts)).unwrap();

    let run = keywarden(&["trail", path(&file), "--format", "json"]);

    // Today: the document is buffered whole, the allocation fails at 64 MiB, the events before
    // it are read and the rest is lost as 2 bad records.
    assert_eq!(run.code(), Some(0), "{}", run.context());
    assert_counts(&run, 1000, 0);
}

#[test]
fn a_records_element_longer_than_the_maximum_is_a_bad_record_skipped_unbuffered() {
    // One "event" whose string field runs for 200 MiB, between two real events.
    let head = format!(
        "{{\"Records\":[{},{{\"eventID\":\"huge\",\"padding\":\"",
        event("first")
    );
    let tail = format!("\"}},{}]}}", event("last"));
    let dir = scratch("long-element");
    let file = dir.join("long.json.gz");
    std::fs::write(
        &file,
        gzip(&[
            Part::Text(&head),
            Part::Fill(b'x', 200 << 20),
            Part::Text(&tail),
        ]),
    )
    .unwrap();

    let run = keywarden(&[
        "trail",
        path(&file),
        "--format",
        "json",
        "--max-event-size",
        "64K",
    ]);

    assert_eq!(run.code(), Some(2), "bad records exit 2\n{}", run.context());
    assert_counts(&run, 2, 1);
    assert!(
        run.stderr.contains("long.json.gz: record 2: event of")
            && run
                .stderr
                .contains("longer than the maximum of 65536 (--max-event-size)"),
        "{}",
        run.context()
    );
}

#[test]
fn a_whitespace_gzip_bomb_from_s3_is_read_in_capped_memory() {
    let dir = scratch("bomb-s3");
    let key = "AWSLogs/111122223333/CloudTrail/us-east-1/2024/08/01/111122223333_CloudTrail_us-east-1_20240801T1000Z_bomb.json.gz";
    let file = dir.join("bomb.json.gz");
    std::fs::write(&file, whitespace_bomb()).unwrap();
    let moto = Moto::start(&json!({
        "s3_objects": [{"bucket": "hostile-logs", "key": key, "body_file": file}]
    }));
    let mut command = moto.keywarden(&moto.admin());
    command.args(["trail", "s3://hostile-logs/AWSLogs/", "--format", "json"]);

    let run = Audit::run_within(heap_capped(&command), RUN_BOUND);

    assert_eq!(run.code(), Some(0), "{}", run.context());
    assert_counts(&run, 2, 0);
}

// --- 10: one huge line ------------------------------------------------------------------------

#[test]
fn a_line_longer_than_the_maximum_is_a_bad_record_with_its_line_and_the_rest_is_read() {
    // Line 2 is 300 MiB without a newline until its end: more than the heap cap.
    let first = format!("{}\n", event("line-1"));
    let last = format!("\n{}\n{}\n", event("line-3"), event("line-4"));
    let dir = scratch("long-line");
    let file = dir.join("events.jsonl.gz");
    std::fs::write(
        &file,
        gzip(&[
            Part::Text(&first),
            Part::Text("{\"eventID\":\""),
            Part::Fill(b'x', 300 << 20),
            Part::Text(&last),
        ]),
    )
    .unwrap();

    let run = keywarden(&["trail", path(&file), "--format", "json"]);

    assert_eq!(run.code(), Some(2), "{}", run.context());
    assert_counts(&run, 3, 1);
    assert!(
        run.stderr.contains(&format!(
            "events.jsonl.gz: line 2: event of {} bytes, longer than the maximum of 1048576 (--max-event-size): skipped",
            (300 << 20) + "{\"eventID\":\"".len()
        )),
        "{}",
        run.context()
    );
}

// --- 11: /dev/zero ------------------------------------------------------------------------------

#[test]
fn audit_of_dev_zero_is_refused_at_once_not_an_allocation_failure() {
    let run = keywarden(&["audit", "--report", "/dev/zero", "--format", "json"]);

    assert_eq!(run.code(), Some(2), "{}", run.context());
    assert!(
        run.stderr
            .contains("/dev/zero:1: NUL byte at byte 0: binary data, not a credential report CSV"),
        "{}",
        run.context()
    );
}

#[test]
fn a_credential_report_row_longer_than_the_maximum_is_an_error_with_its_line() {
    let dir = scratch("long-row");
    let header = "user,arn,user_creation_time,password_enabled,password_last_used,password_last_changed,password_next_rotation,mfa_active,access_key_1_active,access_key_1_last_rotated,access_key_1_last_used_date,access_key_1_last_used_region,access_key_1_last_used_service,access_key_2_active,access_key_2_last_rotated,access_key_2_last_used_date,access_key_2_last_used_region,access_key_2_last_used_service,cert_1_active,cert_1_last_rotated,cert_2_active,cert_2_last_rotated";
    let mut report = format!("{header}\n");
    // Line 2 never ends: 200 MiB of one field.
    report.push_str(&"a".repeat(200 << 20));
    let file = dir.join("report.csv");
    std::fs::write(&file, report).unwrap();

    let run = keywarden(&["audit", "--report", path(&file), "--format", "json"]);
    // 200 MiB is not left behind on a shared disk.
    std::fs::remove_file(&file).unwrap();

    assert_eq!(run.code(), Some(2), "{}", run.context());
    assert!(
        run.stderr.contains(
            "report.csv:2: record longer than 1048576 bytes without a line break: not a credential report row"
        ),
        "{}",
        run.context()
    );
}

#[test]
fn trail_of_dev_zero_is_refused_at_once() {
    let run = keywarden(&["trail", "/dev/zero", "--format", "json"]);

    assert_eq!(run.code(), Some(2), "{}", run.context());
    assert!(
        run.stderr
            .contains("/dev/zero: line 1, column 1: NUL bytes: binary data"),
        "{}",
        run.context()
    );
    assert_counts(&run, 0, 1);
}

// --- 12: walking folders --------------------------------------------------------------------------

fn mkfifo(path: &Path) {
    let status = Command::new("mkfifo").arg(path).status().expect("mkfifo");
    assert!(status.success());
}

#[test]
fn a_fifo_or_socket_in_a_walked_folder_is_skipped_with_a_warning() {
    let dir = scratch("fifo");
    std::fs::write(dir.join("events.json"), format!("[{}]", event("real"))).unwrap();
    // Opening a FIFO blocks until a writer comes: today `trail` hangs here.
    mkfifo(&dir.join("pipe.json"));
    let _socket = std::os::unix::net::UnixListener::bind(dir.join("socket.json")).unwrap();

    let run = keywarden_within(&["trail", path(&dir), "--format", "json"], HANG_BOUND);

    assert_eq!(run.code(), Some(0), "{}", run.context());
    assert_counts(&run, 1, 0);
    for (name, kind) in [("pipe.json", "a FIFO"), ("socket.json", "a socket")] {
        let warning = format!(
            "keywarden: warning: {}: {kind}, not a regular file: not read",
            path(&dir.join(name))
        );
        assert!(
            run.stderr.contains(&warning),
            "{warning}\n{}",
            run.context()
        );
    }
}

#[test]
fn a_symlinked_folder_is_followed_and_a_link_loop_is_reported() {
    let dir = scratch("symlinks");
    let logs = dir.join("logs");
    let elsewhere = dir.join("elsewhere");
    std::fs::create_dir_all(&logs).unwrap();
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::fs::write(logs.join("a.json"), format!("[{}]", event("in-logs"))).unwrap();
    std::fs::write(elsewhere.join("b.json"), format!("[{}]", event("linked"))).unwrap();
    // Today the linked folder is skipped without a word.
    std::os::unix::fs::symlink(&elsewhere, logs.join("linked")).unwrap();
    std::os::unix::fs::symlink(&logs, logs.join("loop")).unwrap();

    let run = keywarden_within(&["trail", path(&logs), "--format", "json"], HANG_BOUND);

    assert_eq!(run.code(), Some(0), "{}", run.context());
    assert_counts(&run, 2, 0);
    assert!(
        run.stderr.contains(&format!(
            "keywarden: warning: {}: symbolic link loop (back to {}): not followed",
            path(&logs.join("loop")),
            path(&logs)
        )),
        "{}",
        run.context()
    );
}

#[test]
fn sigma_rule_folders_are_walked_by_the_same_policy() {
    let dir = scratch("sigma");
    let rules = dir.join("rules");
    let shared = dir.join("shared");
    std::fs::create_dir_all(&rules).unwrap();
    std::fs::create_dir_all(&shared).unwrap();
    let rule = repo_root().join(
        "crates/keywarden-sigma/tests/data/sigma/aws_cloudtrail_console_login_failed_authentication.yml",
    );
    std::fs::copy(&rule, shared.join("login.yml")).unwrap();
    std::os::unix::fs::symlink(&shared, rules.join("shared")).unwrap();
    std::os::unix::fs::symlink(&rules, rules.join("loop")).unwrap();
    // Today loading the rules hangs on this FIFO.
    mkfifo(&rules.join("pipe.yml"));
    let events = dir.join("events.json");
    std::fs::write(&events, format!("[{}]", event("one"))).unwrap();

    let run = keywarden_within(
        &[
            "trail",
            path(&events),
            "--sigma",
            path(&rules),
            "--format",
            "json",
        ],
        HANG_BOUND,
    );

    assert_eq!(run.code(), Some(0), "{}", run.context());
    for expected in [
        format!(
            "keywarden: warning: --sigma: {}: a FIFO, not a regular file: not read",
            path(&rules.join("pipe.yml"))
        ),
        format!(
            "keywarden: warning: --sigma: {}: symbolic link loop (back to {}): not followed",
            path(&rules.join("loop")),
            path(&rules)
        ),
        "keywarden: sigma: 1 rule(s) loaded".to_owned(),
    ] {
        assert!(
            run.stderr.contains(&expected),
            "{expected}\n{}",
            run.context()
        );
    }
}
