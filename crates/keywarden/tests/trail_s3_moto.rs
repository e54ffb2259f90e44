//! `keywarden trail` over remote sources, the real binary and AWS SDK against moto on 127.0.0.1
//! (seeded by `tests/moto/launcher.py`; moto is required: `scripts/ensure-moto.sh` failing fails
//! these tests, they never skip).
//!
//! The events are real ones (`tests/data/stratus-red-team/`, from Stratus Red Team detonations):
//! - **S3**: laid out as gzipped CloudTrail log files under
//!   `AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/` in two regions (global-service events in
//!   us-east-1, as CloudTrail logs them, the rest in eu-west-1) over several days. Reading the
//!   bucket gives exactly the findings of the same files read locally; `--since`/`--until` list
//!   and fetch only the day folders of the window (request counts, and a damaged object outside
//!   the window that is reported when the whole bucket is read but never fetched otherwise);
//!   a missing bucket or a denied listing fails the run with exit 2 and says why.
//! - **LookupEvents**: the launcher serves the same events (plus volume) as CloudTrail's event
//!   history. keywarden pages through every page of every region, sends one lookup attribute
//!   per call, gives the findings of the same events read locally, and spaces its calls in one
//!   region by at least 500 ms (AWS allows 2 a second): the run takes at least that long, no
//!   call is throttled, and the launcher's log shows no 3 calls within a second.

mod support;

use flate2::write::GzEncoder;
use flate2::Compression;
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};
use support::{repo_root, scratch_dir, Audit, Moto};

const ACCOUNT: &str = "111122223333";
const BUCKET: &str = "keywarden-trail-logs";

// --- the events --------------------------------------------------------------------------------

fn data_dir() -> PathBuf {
    repo_root().join("crates/keywarden/tests/data/stratus-red-team")
}

/// The region a trail files an event under: global services in us-east-1, the rest in eu-west-1
/// (the data's own regions are anonymised names).
fn layout_region(record: &Value) -> &'static str {
    let source = record["eventSource"].as_str().unwrap_or_default();
    let service = source.split('.').next().unwrap_or_default();
    if ["iam", "sts", "signin", "cloudtrail"].contains(&service) {
        "us-east-1"
    } else {
        "eu-west-1"
    }
}

/// Every event of the data folder, with `awsRegion` set to its layout region.
fn records() -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(data_dir())
        .expect("tests/data/stratus-red-team")
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut records = Vec::new();
    for file in files {
        let events: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        for mut event in events {
            event["awsRegion"] = json!(layout_region(&event));
            records.push(event);
        }
    }
    assert!(records.len() > 80, "the data folder lost its events");
    records
}

fn event_time(record: &Value) -> &str {
    record["eventTime"].as_str().expect("eventTime")
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
    encoder.write_all(bytes).unwrap();
    encoder.finish().unwrap()
}

/// A scratch folder for this test, removed when dropped unless the test failed (its files then
/// help explain why). Named after the test and the process, so that two test processes running
/// the same test at once (two `cargo test` in one checkout) never share one.
struct Scratch(PathBuf);

impl Scratch {
    fn new(name: &str) -> Scratch {
        let test = std::thread::current()
            .name()
            .unwrap_or("test")
            .replace("::", "-");
        let dir = scratch_dir().join(format!("{test}-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}

/// The events as CloudTrail log files: one gzipped `{"Records":[...]}` per region and hour, under
/// the day folder of the event's date. Written under `root` with their S3 keys as paths.
struct Layout {
    root: PathBuf,
    /// S3 key -> local file.
    files: BTreeMap<String, PathBuf>,
}

impl Layout {
    fn write(records: &[Value], root: &Path) -> Layout {
        let mut groups: BTreeMap<(String, String), Vec<&Value>> = BTreeMap::new();
        for record in records {
            let time = event_time(record);
            groups
                .entry((layout_region(record).to_owned(), time[..13].to_owned()))
                .or_default()
                .push(record);
        }
        let mut files = BTreeMap::new();
        for ((region, hour), events) in groups {
            let (y, m, d, h) = (&hour[0..4], &hour[5..7], &hour[8..10], &hour[11..13]);
            let key = format!(
                "AWSLogs/{ACCOUNT}/CloudTrail/{region}/{y}/{m}/{d}/\
                 {ACCOUNT}_CloudTrail_{region}_{y}{m}{d}T{h}05Z_k{}.json.gz",
                files.len()
            );
            let path = root.join(&key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            let body = serde_json::to_vec(&json!({ "Records": events })).unwrap();
            std::fs::write(&path, gzip(&body)).unwrap();
            files.insert(key, path);
        }
        Layout {
            root: root.to_owned(),
            files,
        }
    }

    /// The launcher's `s3_objects` for these files.
    fn s3_objects(&self) -> Vec<Value> {
        self.files
            .iter()
            .map(|(key, path)| json!({"bucket": BUCKET, "key": key, "body_file": path}))
            .collect()
    }

    /// Files whose day folder is one of `days` (`2024/08/01`).
    fn in_days(&self, days: &[&str]) -> usize {
        self.files
            .keys()
            .filter(|k| days.iter().any(|d| k.contains(&format!("/{d}/"))))
            .count()
    }
}

// --- running keywarden -------------------------------------------------------------------------

/// `keywarden trail --format json --stats ARGS` against the launcher, with its admin credentials.
fn trail(moto: &Moto, args: &[&str]) -> Audit {
    trail_as(moto, &moto.admin(), args)
}

fn trail_as(moto: &Moto, credentials: &support::Credentials, args: &[&str]) -> Audit {
    let mut command = moto.keywarden(credentials);
    command
        .args(["trail", "--format", "json", "--stats"])
        .args(args);
    Audit::run(command)
}

/// The same command on local files, with no AWS anywhere.
fn trail_local(args: &[&str]) -> Audit {
    let mut command = Command::new(env!("CARGO_BIN_EXE_keywarden"));
    command
        .env_clear()
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .args(["trail", "--format", "json"])
        .args(args);
    Audit::run(command)
}

fn assert_same_findings(remote: &Audit, local: &Audit) {
    assert!(
        !local.findings().is_empty(),
        "the reference run found nothing\n{}",
        local.context()
    );
    assert_eq!(
        remote.doc["findings"],
        local.doc["findings"],
        "remote vs local findings\n---- remote ----\n{}\n---- local ----\n{}",
        remote.context(),
        local.context()
    );
    assert_eq!(
        remote.code(),
        local.code(),
        "exit status\n{}",
        remote.context()
    );
}

fn path_str(path: &Path) -> &str {
    path.to_str().unwrap()
}

// --- S3 ----------------------------------------------------------------------------------------

#[test]
fn an_s3_bucket_gives_the_findings_of_the_same_files_read_locally() {
    let records = records();
    let scratch = Scratch::new("logs");
    let layout = Layout::write(&records, scratch.path());
    let regions: BTreeSet<&str> = layout
        .files
        .keys()
        .map(|k| k.split('/').nth(3).unwrap())
        .collect();
    let days: BTreeSet<&str> = layout
        .files
        .keys()
        .map(|k| &k[..k.rfind('/').unwrap()])
        .collect();
    assert_eq!(regions.len(), 2, "two regions");
    assert!(days.len() >= 6, "several days: {days:?}");
    let moto = Moto::start(&json!({ "s3_objects": layout.s3_objects() }));

    let remote = trail(&moto, &[&format!("s3://{BUCKET}/AWSLogs/")]);
    let local = trail_local(&[path_str(&layout.root)]);

    assert_same_findings(&remote, &local);
    assert_eq!(remote.code(), Some(1), "{}", remote.context());
    // Every object fetched once, listed in one paginated listing (no window: no layout walk).
    assert_eq!(
        remote.requests("s3:GetObject"),
        layout.files.len() as u64,
        "{}",
        remote.context()
    );
    assert_eq!(remote.requests("s3:ListObjectsV2"), 1);
    assert!(
        remote.stderr.contains(&format!(
            "{} source(s), {} events (0 duplicates skipped), 0 bad records",
            layout.files.len(),
            records.len()
        )),
        "{}",
        remote.context()
    );
    assert_eq!(
        remote.doc["data_source"]["location"],
        format!("s3://{BUCKET}/AWSLogs/"),
        "{}",
        remote.context()
    );

    // The bucket root and an account prefix read the same objects.
    for prefix in [
        format!("s3://{BUCKET}"),
        format!("s3://{BUCKET}/AWSLogs/{ACCOUNT}/CloudTrail/"),
    ] {
        let again = trail(&moto, &[&prefix]);
        assert_same_findings(&again, &local);
    }
}

#[test]
fn since_and_until_list_and_fetch_only_the_day_folders_of_the_window() {
    let records = records();
    let scratch = Scratch::new("logs");
    let layout = Layout::write(&records, scratch.path());
    // A damaged object in a day folder before the window: read, it is a bad record (exit 2).
    let damaged = format!(
        "AWSLogs/{ACCOUNT}/CloudTrail/us-east-1/2024/07/29/{ACCOUNT}_CloudTrail_damaged.json.gz"
    );
    let mut objects = layout.s3_objects();
    objects.push(
        json!({"bucket": BUCKET, "key": damaged, "body": "{\"Records\": [ not json", "gzip": true}),
    );
    let moto = Moto::start(&json!({ "s3_objects": objects }));
    let window = [
        "--since",
        "2024-08-01T00:00:00Z",
        "--until",
        "2024-08-01T23:59:59Z",
    ];

    // The whole bucket: the damaged object is read and reported.
    let whole = trail(&moto, &[&format!("s3://{BUCKET}/AWSLogs/")]);
    assert_eq!(whole.code(), Some(2), "{}", whole.context());
    assert!(whole.stderr.contains(&damaged), "{}", whole.context());

    // The window: only 2024/08/01 and, for late deliveries, 2024/08/02 are listed and fetched.
    let remote = trail(
        &moto,
        &[
            &format!("s3://{BUCKET}/AWSLogs/"),
            window[0],
            window[1],
            window[2],
            window[3],
        ],
    );
    let local = trail_local(&[
        path_str(&layout.root),
        window[0],
        window[1],
        window[2],
        window[3],
    ]);
    assert_same_findings(&remote, &local);
    assert!(!remote.stderr.contains("damaged"), "{}", remote.context());
    let in_window = layout.in_days(&["2024/08/01", "2024/08/02"]);
    assert!(in_window >= 4 && in_window < layout.files.len());
    assert_eq!(
        remote.requests("s3:GetObject"),
        in_window as u64,
        "{}",
        remote.context()
    );
    // Folder listings: AWSLogs/, the account, CloudTrail/, then per region (2) its years, 2024's
    // months and 2024/08's days: 3 + 2 * 3 = 9. Object listings: the 4 day folders kept.
    assert_eq!(
        remote.requests("s3:ListObjectsV2"),
        13,
        "{}",
        remote.context()
    );
    assert!(
        remote.stderr.contains(&format!("{in_window} objects")),
        "{}",
        remote.context()
    );
}

#[test]
fn a_missing_bucket_fails_the_run_and_says_so() {
    let moto = Moto::start(&json!({}));

    let run = trail(&moto, &["s3://no-such-keywarden-bucket/AWSLogs/"]);

    assert_eq!(run.code(), Some(2), "{}", run.context());
    assert!(
        run.stderr
            .contains("s3://no-such-keywarden-bucket/AWSLogs/"),
        "{}",
        run.context()
    );
    assert!(run.stderr.contains("NoSuchBucket"), "{}", run.context());
    assert!(
        run.stdout.is_empty(),
        "no findings printed\n{}",
        run.context()
    );
}

#[test]
fn a_prefix_without_log_files_fails_the_run() {
    let moto = Moto::start(&json!({
        "s3_objects": [{"bucket": BUCKET, "key": "AWSLogs/1/CloudTrail/us-east-1/2024/08/01/x.json", "body": "{\"Records\":[]}"}]
    }));

    let run = trail(&moto, &[&format!("s3://{BUCKET}/AWSLogs/2/")]);

    assert_eq!(run.code(), Some(2), "{}", run.context());
    assert!(
        run.stderr.contains("no CloudTrail log object"),
        "{}",
        run.context()
    );
}

#[test]
fn denied_s3_and_lookup_calls_fail_the_run_with_awss_code() {
    let records = records();
    let scratch = Scratch::new("logs");
    let layout = Layout::write(&records[..5], scratch.path());
    let moto = Moto::start(&json!({
        "now": "2024-10-15T00:00:00Z",
        "s3_objects": layout.s3_objects(),
        "lookup_events": records,
        "auth": {"principal": {"name": "trail-reader", "policy": {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": ["cloudtrail:LookupEvents"], "Resource": "*"}]
        }}}
    }));
    let reader = moto.principal();

    let s3 = trail_as(&moto, &reader, &[&format!("s3://{BUCKET}/AWSLogs/")]);
    assert_eq!(s3.code(), Some(2), "{}", s3.context());
    assert!(
        s3.stderr.contains("s3:ListBucket failed: AccessDenied"),
        "{}",
        s3.context()
    );
    assert!(
        s3.stderr.contains("permissions --command trail"),
        "{}",
        s3.context()
    );
    assert!(s3.stdout.is_empty(), "{}", s3.context());

    // The same principal may call LookupEvents: the check goes through moto's IAM evaluation.
    let lookup = trail_as(
        &moto,
        &reader,
        &[
            "--lookup",
            "--lookup-attribute",
            "EventName=CreateLoginProfile",
        ],
    );
    assert_eq!(lookup.code(), Some(1), "{}", lookup.context());
}

// --- LookupEvents ------------------------------------------------------------------------------

/// LookupEvents history: the events, plus `noise` harmless us-east-1 events for volume. The
/// scenario's now is 2024-10-15: event history reaches back to 2024-07-17, so the two events of
/// 2024-11-30 are beyond it.
fn lookup_scenario(records: &[Value], noise: usize, extra: Value) -> Value {
    let mut events = records.to_vec();
    for i in 0..noise {
        events.push(json!({
            "eventVersion": "1.09",
            "eventID": format!("00000000-0000-4000-8000-{i:012}"),
            "eventTime": format!("2024-08-05T{:02}:{:02}:{:02}Z", i / 3600, (i / 60) % 60, i % 60),
            "eventName": "DescribeInstances",
            "eventSource": "ec2.amazonaws.com",
            "awsRegion": "us-east-1",
            "readOnly": true,
            "sourceIPAddress": "198.51.100.7",
            "userAgent": "keywarden-test",
            "recipientAccountId": ACCOUNT,
            "userIdentity": {"type": "IAMUser", "accessKeyId": "AKIANOISE00000000000", "userName": "noise",
                             "arn": format!("arn:aws:iam::{ACCOUNT}:user/noise"), "accountId": ACCOUNT}
        }));
    }
    let mut scenario = json!({"now": "2024-10-15T00:00:00Z", "lookup_events": events});
    if let (Some(target), Some(more)) = (scenario.as_object_mut(), extra.as_object()) {
        target.extend(more.clone());
    }
    scenario
}

/// Events the history holds for these regions (within its 90 days before the scenario's now).
fn in_history<'r>(records: &'r [Value], regions: &[&str]) -> Vec<&'r Value> {
    records
        .iter()
        .filter(|r| regions.contains(&r["awsRegion"].as_str().unwrap()))
        .filter(|r| ("2024-07-17".."2024-10-15").contains(&&event_time(r)[..10]))
        .collect()
}

fn write_events(events: &[&Value], path: &Path) {
    let lines: Vec<String> = events.iter().map(|e| e.to_string()).collect();
    std::fs::write(path, lines.join("\n")).unwrap();
}

/// GET on the launcher's LookupEvents call log.
fn lookup_calls(moto: &Moto) -> Vec<Value> {
    let url = moto.info["lookup_calls_url"]
        .as_str()
        .expect("lookup_calls_url");
    let rest = url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap());
    let mut stream = TcpStream::connect(host).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    write!(
        stream,
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let body = &response[response.find("\r\n\r\n").expect("an HTTP response") + 4..];
    let log: Value = serde_json::from_str(body).expect("the call log is JSON");
    log["calls"].as_array().unwrap().clone()
}

#[test]
fn lookup_pages_through_every_region_at_most_two_calls_a_second() {
    let records = records();
    let noise = 260;
    let moto = Moto::start(&lookup_scenario(&records, noise, json!({})));
    let history = in_history(&records, &["us-east-1", "eu-west-1"]);
    let us_east = in_history(&records, &["us-east-1"]).len() + noise;
    let eu_west = in_history(&records, &["eu-west-1"]).len();
    let pages = |events: usize| events.div_ceil(50);
    assert!(pages(us_east) >= 5, "at least 5 pages in one region");

    let started = Instant::now();
    let remote = trail(&moto, &["--lookup", "--regions", "us-east-1,eu-west-1"]);
    let elapsed = started.elapsed();

    let scratch = Scratch::new("reference");
    let reference = scratch.path().join("history.jsonl");
    write_events(&history, &reference);
    let local = trail_local(&[path_str(&reference)]);
    assert_same_findings(&remote, &local);
    assert!(
        remote.stderr.contains(&format!(
            "LookupEvents us-east-1: {us_east} events in {} pages",
            pages(us_east)
        )),
        "{}",
        remote.context()
    );
    assert!(
        remote.stderr.contains(&format!(
            "LookupEvents eu-west-1: {eu_west} events in {} pages",
            pages(eu_west)
        )),
        "{}",
        remote.context()
    );
    // One request per page: nothing was throttled and retried.
    assert_eq!(
        remote.requests("cloudtrail:LookupEvents"),
        (pages(us_east) + pages(eu_west)) as u64,
        "{}",
        remote.context()
    );
    // N calls in one region take at least (N - 1) * 500 ms: a lower bound, the rate limit.
    let floor = Duration::from_millis(500 * (pages(us_east) as u64 - 1));
    assert!(
        elapsed >= floor,
        "{} pages in {elapsed:?}, expected at least {floor:?}",
        pages(us_east)
    );

    let calls = lookup_calls(&moto);
    for region in ["us-east-1", "eu-west-1"] {
        let calls: Vec<&Value> = calls.iter().filter(|c| c["region"] == region).collect();
        assert!(calls.iter().all(|c| c["status"] == "ok"), "{calls:?}");
        assert!(calls.iter().all(|c| c["max_results"] == 50), "{calls:?}");
        // Pages chain: the first call has no token, every later one has the previous page's.
        assert!(calls[0]["next_token"].is_null(), "{calls:?}");
        assert!(
            calls[1..].iter().all(|c| c["next_token"].is_string()),
            "{calls:?}"
        );
        // No 3 calls within a second in one region.
        let times: Vec<f64> = calls.iter().map(|c| c["time"].as_f64().unwrap()).collect();
        for pair in times.windows(3) {
            assert!(
                pair[2] - pair[0] >= 0.9,
                "3 calls within {}s: {times:?}",
                pair[2] - pair[0]
            );
        }
    }
}

#[test]
fn lookup_attributes_are_one_query_each_and_events_found_twice_count_once() {
    let records = records();
    let key = "AKIAE18PGYHCY2CYMTFK"; // made CreateLoginProfile, DeleteLoginProfile, GetCallerIdentity
    let moto = Moto::start(&lookup_scenario(&records, 0, json!({})));
    let attributes = [
        format!("AccessKeyId={key}"),
        "EventName=CreateLoginProfile".to_owned(),
        "EventName=CreateAccessKey".to_owned(),
    ];

    let remote = trail(
        &moto,
        &[
            "--lookup",
            "--lookup-attribute",
            &attributes[0],
            "--lookup-attribute",
            &attributes[1],
            "--lookup-attribute",
            &attributes[2],
        ],
    );

    let matching: Vec<&Value> = in_history(&records, &["us-east-1"])
        .into_iter()
        .filter(|r| {
            r["userIdentity"]["accessKeyId"] == key
                || r["eventName"] == "CreateLoginProfile"
                || r["eventName"] == "CreateAccessKey"
        })
        .collect();
    let scratch = Scratch::new("reference");
    let reference = scratch.path().join("matching.jsonl");
    write_events(&matching, &reference);
    let local = trail_local(&[path_str(&reference)]);
    assert_same_findings(&remote, &local);
    // The CreateLoginProfile event answers two queries and is analysed once.
    assert!(
        remote.stderr.contains("(1 duplicates skipped)"),
        "{}",
        remote.context()
    );

    let calls = lookup_calls(&moto);
    let asked: Vec<Vec<String>> = calls
        .iter()
        .map(|c| {
            c["attributes"]
                .as_array()
                .unwrap()
                .iter()
                .map(|a| a.as_str().unwrap().to_owned())
                .collect()
        })
        .collect();
    assert_eq!(
        asked,
        attributes
            .iter()
            .map(|a| vec![a.clone()])
            .collect::<Vec<_>>(),
        "{calls:?}"
    );
    assert!(calls.iter().all(|c| c["region"] == "us-east-1"));
}

#[test]
fn since_and_until_become_the_lookup_time_range() {
    let records = records();
    let moto = Moto::start(&lookup_scenario(&records, 0, json!({})));

    let remote = trail(
        &moto,
        &[
            "--lookup",
            "--since",
            "2024-08-01T00:00:00Z",
            "--until",
            "2024-08-01T23:59:59Z",
            "--lookup-attribute",
            "EventName=CreateAccessKey",
        ],
    );

    // Of the two CreateAccessKey events (2024-07-30, 2024-08-01), only the second is in range.
    assert_eq!(remote.code(), Some(1), "{}", remote.context());
    let findings = remote.findings();
    assert_eq!(findings.len(), 1, "{}", remote.context());
    assert_eq!(findings[0]["rule"], "EVT001");
    assert!(findings[0]["event_time"]
        .as_str()
        .unwrap()
        .starts_with("2024-08-01"));
    let calls = lookup_calls(&moto);
    assert_eq!(calls.len(), 1, "{calls:?}");
    let start = chrono::DateTime::parse_from_rfc3339("2024-08-01T00:00:00Z").unwrap();
    assert_eq!(
        calls[0]["start_time"].as_f64(),
        Some(start.timestamp() as f64)
    );
}

#[test]
fn a_failed_lookup_fails_the_run_and_names_the_region() {
    let records = records();
    let moto = Moto::start(&lookup_scenario(
        &records,
        0,
        json!({"faults": [{"action": "LookupEvents", "status": 400, "code": "AccessDeniedException",
                           "message": "not authorized to perform cloudtrail:LookupEvents", "times": 1}]}),
    ));

    let run = trail(&moto, &["--lookup", "--regions", "eu-west-1"]);

    assert_eq!(run.code(), Some(2), "{}", run.context());
    assert!(
        run.stderr.contains("LookupEvents eu-west-1"),
        "{}",
        run.context()
    );
    assert!(
        run.stderr.contains("AccessDeniedException"),
        "{}",
        run.context()
    );
    assert!(run.stdout.is_empty(), "{}", run.context());
}

#[test]
fn permissions_for_trail_lists_the_remote_reads() {
    let output = Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .args(["permissions", "--command", "trail"])
        .output()
        .unwrap();
    assert!(output.status.success());
    let policy: Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(
        policy["Statement"][0]["Action"],
        json!(["s3:ListBucket", "s3:GetObject", "cloudtrail:LookupEvents"])
    );
}
