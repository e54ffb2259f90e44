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

#[path = "../../keywarden-core/tests/cloudtrail/fixtures.rs"]
mod fixtures;

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

/// Between two runs against one launcher: each run paces its own LookupEvents calls, but the
/// next process knows nothing of the last one's, and the launcher (like AWS) counts them all.
fn let_the_lookup_rate_settle() {
    std::thread::sleep(Duration::from_millis(1100));
}

// --- Sigma rules over remote sources ----------------------------------------------------------

/// Shared Sigma rules (crates/keywarden-sigma/tests/data/sigma, with their licenses there).
const BACKDOOR_USERS_KEYS: &str = "0a5177f4-6ca9-44c2-aacf-d3f3d8b6e4d2";
const UPDATE_LOGIN_PROFILE: &str = "055fb148-60f8-462d-ad16-26926ce050f1";
const DELETE_SAML_PROVIDER: &str = "ccd6a6c8-bb4e-4a91-9d2a-07e632819374";

/// A folder of shared Sigma rules, by file name.
fn sigma_rules(scratch: &Scratch, files: &[&str]) -> PathBuf {
    let shared = repo_root().join("crates/keywarden-sigma/tests/data/sigma");
    let dir = scratch.path().join("sigma");
    std::fs::create_dir_all(&dir).unwrap();
    for file in files {
        std::fs::copy(shared.join(file), dir.join(file)).unwrap();
    }
    dir
}

/// Sigma findings per rule id, with the rule's title and level as the findings carry them.
fn sigma_hits(run: &Audit) -> BTreeMap<String, (usize, String, String)> {
    let mut hits: BTreeMap<String, (usize, String, String)> = BTreeMap::new();
    for finding in run.findings() {
        let rule = finding["rule"].as_str().unwrap();
        if rule.starts_with("EVT") {
            continue;
        }
        let entry = hits.entry(rule.to_owned()).or_insert_with(|| {
            (
                0,
                finding["name"].as_str().unwrap().to_owned(),
                finding["severity"].as_str().unwrap().to_owned(),
            )
        });
        entry.0 += 1;
    }
    hits
}

fn expected_sigma_hits() -> BTreeMap<String, (usize, String, String)> {
    // The backdoor key (2024-07-30) and the admin user's key (2024-08-01) are created by another
    // user; one UpdateLoginProfile (2024-08-28). No SAML provider is deleted in the data: that
    // rule loads, runs, and finds nothing.
    BTreeMap::from([
        (
            BACKDOOR_USERS_KEYS.to_owned(),
            (
                2,
                "AWS IAM Backdoor Users Keys".to_owned(),
                "medium".to_owned(),
            ),
        ),
        (
            UPDATE_LOGIN_PROFILE.to_owned(),
            (
                1,
                "AWS User Login Profile Was Modified".to_owned(),
                "high".to_owned(),
            ),
        ),
    ])
}

const LOADABLE_RULES: [&str; 3] = [
    "aws_iam_backdoor_users_keys.yml",
    "aws_update_login_profile.yml",
    "aws_delete_saml_provider.yml",
];

#[test]
fn sigma_rules_run_over_s3_objects_as_over_the_same_files_read_locally() {
    let records = records();
    let scratch = Scratch::new("logs");
    let layout = Layout::write(&records, scratch.path());
    let rules = sigma_rules(&scratch, &LOADABLE_RULES);
    let moto = Moto::start(&json!({ "s3_objects": layout.s3_objects() }));
    let sigma = ["--sigma", path_str(&rules)];

    let remote = trail(
        &moto,
        &[&format!("s3://{BUCKET}/AWSLogs/"), sigma[0], sigma[1]],
    );
    let local = trail_local(&[path_str(&layout.root), sigma[0], sigma[1]]);

    assert_same_findings(&remote, &local);
    assert_eq!(remote.code(), Some(1), "{}", remote.context());
    assert_eq!(
        sigma_hits(&remote),
        expected_sigma_hits(),
        "{}",
        remote.context()
    );
    assert!(!sigma_hits(&remote).contains_key(DELETE_SAML_PROVIDER));
    assert!(
        remote.stderr.contains("3 rule(s) loaded") && !remote.stderr.contains("not loaded:"),
        "{}",
        remote.context()
    );
    let rules_run = remote.doc["summary"]["rules_run"].as_array().unwrap();
    assert_eq!(rules_run.len(), 9 + 3, "{}", remote.context());
    let finding = remote
        .findings()
        .iter()
        .find(|f| f["rule"] == UPDATE_LOGIN_PROFILE)
        .unwrap();
    assert_eq!(finding["event_name"], "UpdateLoginProfile");
    assert_eq!(finding["status"], "fail");
    assert_eq!(
        finding["evidence"]["sigma_file"],
        "aws_update_login_profile.yml"
    );

    // The window applies to Sigma matches as to the detections: only 2024-08-01's.
    let window = [
        "--since",
        "2024-08-01T00:00:00Z",
        "--until",
        "2024-08-01T23:59:59Z",
    ];
    let remote = trail(
        &moto,
        &[
            &format!("s3://{BUCKET}/AWSLogs/"),
            sigma[0],
            sigma[1],
            window[0],
            window[1],
            window[2],
            window[3],
        ],
    );
    let counts: BTreeMap<String, usize> = sigma_hits(&remote)
        .into_iter()
        .map(|(rule, (n, _, _))| (rule, n))
        .collect();
    // The admin user's key (2024-08-01); the backdoor key (07-30) and the login profile change
    // (08-28) are outside.
    assert_eq!(
        counts,
        BTreeMap::from([(BACKDOOR_USERS_KEYS.to_owned(), 1)]),
        "{}",
        remote.context()
    );
}

#[test]
fn sigma_rules_run_over_lookup_events_and_a_rule_that_cannot_load_exits_2() {
    let records = records();
    let moto = Moto::start(&lookup_scenario(&records, 60, json!({})));
    let scratch = Scratch::new("rules");
    let mut files = LOADABLE_RULES.to_vec();
    files.push("unsupported_aws_enum_listing.yml");
    let rules = sigma_rules(&scratch, &files);
    let regions = ["--lookup", "--regions", "us-east-1,eu-west-1"];

    let remote = trail(
        &moto,
        &[
            regions[0],
            regions[1],
            regions[2],
            "--sigma",
            path_str(&rules),
        ],
    );

    // The reference: the same history read from a file, with the same rules.
    let history = in_history(&records, &["us-east-1", "eu-west-1"]);
    let reference = scratch.path().join("history.jsonl");
    write_events(&history, &reference);
    let local = trail_local(&[path_str(&reference), "--sigma", path_str(&rules)]);
    assert_same_findings(&remote, &local);
    // A rule the engine cannot load: named, the others still ran and matched, exit 2.
    assert_eq!(remote.code(), Some(2), "{}", remote.context());
    assert!(
        remote
            .stderr
            .contains("sigma rule not loaded: unsupported_aws_enum_listing.yml"),
        "{}",
        remote.context()
    );
    assert_eq!(
        sigma_hits(&remote),
        expected_sigma_hits(),
        "{}",
        remote.context()
    );
    assert!(
        remote.findings().iter().any(|f| f["rule"] == "EVT001"),
        "the detections ran too\n{}",
        remote.context()
    );

    // Without the unloadable rule, the exit status is the findings': 1.
    std::fs::remove_file(rules.join("unsupported_aws_enum_listing.yml")).unwrap();
    let_the_lookup_rate_settle();
    let remote = trail(
        &moto,
        &[
            regions[0],
            regions[1],
            regions[2],
            "--sigma",
            path_str(&rules),
        ],
    );
    assert_eq!(remote.code(), Some(1), "{}", remote.context());
    assert_eq!(
        sigma_hits(&remote),
        expected_sigma_hits(),
        "{}",
        remote.context()
    );

    // Negative: a lookup whose events no Sigma rule matches gives no Sigma finding.
    let_the_lookup_rate_settle();
    let quiet = trail(
        &moto,
        &[
            regions[0],
            "--lookup-attribute",
            "EventName=DescribeInstances",
            "--sigma",
            path_str(&rules),
        ],
    );
    assert!(quiet.code().is_some_and(|c| c < 2), "{}", quiet.context());
    assert!(sigma_hits(&quiet).is_empty(), "{}", quiet.context());
    assert!(
        quiet.stderr.contains("LookupEvents us-east-1: 60 events"),
        "{}",
        quiet.context()
    );
}

// --- key --lookup --------------------------------------------------------------------------------

/// The EVT006 incident of the CloudTrail fixtures (a leaked key mints a federation session and
/// a session, the session assumes a role, the key is deleted, the three sessions are used after
/// it), filed by region as CloudTrail does: STS and IAM in us-east-1, the chained session's
/// RunInstances in eu-west-1.
fn incident_events() -> Vec<Value> {
    let mut events = fixtures::incident(fixtures::leaked_key_deleted("2024-11-30T10:00:00Z"));
    for event in &mut events {
        event["awsRegion"] = json!(layout_region(event));
    }
    events
}

/// LookupEvents history on 2024-12-15: the incident, and another key's calls the same day in
/// both regions, which no query of `key` must bring back.
fn incident_scenario() -> Value {
    let mut history = incident_events();
    let noise = lookup_scenario(&[], 30, json!({}))["lookup_events"].clone();
    for (i, mut event) in noise.as_array().unwrap().iter().cloned().enumerate() {
        event["eventTime"] = json!(format!("2024-11-30T12:{:02}:00Z", i));
        if i % 2 == 1 {
            event["awsRegion"] = json!("eu-west-1");
        }
        history.push(event);
    }
    json!({"now": "2024-12-15T00:00:00Z", "lookup_events": history})
}

/// The key's events in LookupEvents' answers are the same events a trail file holds.
fn key_local(key: &str, events: &[&Value]) -> Value {
    let scratch = Scratch::new("key-reference");
    let file = scratch.path().join("events.jsonl");
    write_events(events, &file);
    let output = Command::new(env!("CARGO_BIN_EXE_keywarden"))
        .env_clear()
        .args(["key", key, path_str(&file), "--format", "json"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn key_remote(moto: &Moto, args: &[&str]) -> (Option<i32>, Value, String) {
    let mut command = moto.keywarden(&moto.admin());
    command.args(["key"]).args(args).args(["--format", "json"]);
    let output = command.output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let doc = serde_json::from_slice(&output.stdout).unwrap_or(Value::Null);
    (output.status.code(), doc, stderr)
}

/// The attribute each LookupEvents call asked for in `region`, first pages only.
fn asked(calls: &[Value], region: &str) -> Vec<String> {
    calls
        .iter()
        .filter(|c| c["region"] == region && c["next_token"].is_null())
        .map(|c| c["attributes"][0].as_str().unwrap_or("-").to_owned())
        .collect()
}

#[test]
fn key_lookup_asks_for_the_key_then_for_every_session_it_minted() {
    use fixtures::{CHAINED_SESSION, FEDERATION_SESSION, LEAKED_KEY, SESSION};
    let events = incident_events();
    let moto = Moto::start(&incident_scenario());

    let (code, doc, stderr) = key_remote(
        &moto,
        &[
            LEAKED_KEY,
            "--lookup",
            "--regions",
            "us-east-1,eu-west-1",
            "--stats",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");

    // The timeline is the one the same events give from a file, the deletion aside: another
    // user's key signed it, so no AccessKeyId query finds it.
    let deletion = "derived-evt006-delete";
    let signed: Vec<&Value> = events.iter().filter(|e| e["eventID"] != deletion).collect();
    assert_eq!(doc, key_local(LEAKED_KEY, &signed), "{stderr}");
    assert_eq!(doc["deleted"], Value::Null);
    let sessions: Vec<(&str, &str, &str)> = doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["access_key_id"].as_str().unwrap(),
                s["used"]["last"]["event_name"].as_str().unwrap(),
                s["used"]["last"]["time"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        sessions,
        [
            (
                FEDERATION_SESSION,
                "GetCallerIdentity",
                "2024-11-30T11:10:00Z"
            ),
            (SESSION, "GetCallerIdentity", "2024-11-30T11:00:00Z"),
            // Used in eu-west-1 only: found because every region is asked for every session.
            (CHAINED_SESSION, "RunInstances", "2024-11-30T11:05:00Z"),
        ],
        "{stderr}"
    );

    // The queries, in each region: the key; then the two sessions it minted, in minting order;
    // then the session chained from one of them.
    let calls = lookup_calls(&moto);
    let expected = [
        format!("AccessKeyId={LEAKED_KEY}"),
        format!("AccessKeyId={FEDERATION_SESSION}"),
        format!("AccessKeyId={SESSION}"),
        format!("AccessKeyId={CHAINED_SESSION}"),
    ];
    for region in ["us-east-1", "eu-west-1"] {
        assert_eq!(asked(&calls, region), expected, "{region}: {calls:?}");
        // Across the rounds too: never 3 calls within a second in one region, none throttled.
        let times: Vec<f64> = calls
            .iter()
            .filter(|c| c["region"] == region)
            .map(|c| c["time"].as_f64().unwrap())
            .collect();
        for pair in times.windows(3) {
            assert!(pair[2] - pair[0] >= 0.9, "{region}: {times:?}");
        }
    }
    assert!(calls.iter().all(|c| c["status"] == "ok"), "{calls:?}");
    assert!(stderr.contains("(sessions, round 2)"), "{stderr}");
    // One page per query: 4 queries in 2 regions.
    assert!(
        stderr
            .lines()
            .any(|l| l.split_whitespace().eq(["8", "cloudtrail:LookupEvents"])),
        "{stderr}"
    );
    // The other key's calls were never fetched.
    assert!(!stderr.contains("AKIANOISE"), "{stderr}");
    let fetched: u64 = calls.iter().map(|c| c["events"].as_u64().unwrap()).sum();
    assert_eq!(fetched as usize, signed.len(), "{calls:?}");

    // An attribute the user adds is one more query after the key's own: here the deletion.
    let_the_lookup_rate_settle();
    let (code, doc, stderr) = key_remote(
        &moto,
        &[
            LEAKED_KEY,
            "--lookup",
            "--lookup-attribute",
            "EventName=DeleteAccessKey",
            "--regions",
            "us-east-1,eu-west-1",
        ],
    );
    assert_eq!(code, Some(0), "{stderr}");
    let all: Vec<&Value> = events.iter().collect();
    assert_eq!(doc, key_local(LEAKED_KEY, &all), "{stderr}");
    assert_eq!(doc["deleted"]["event_id"], deletion);
    let calls = lookup_calls(&moto);
    let last_run: Vec<String> = asked(&calls, "us-east-1").split_off(4);
    assert_eq!(
        last_run[..2],
        [
            format!("AccessKeyId={LEAKED_KEY}"),
            "EventName=DeleteAccessKey".to_owned()
        ],
        "{calls:?}"
    );
}

#[test]
fn key_lookup_sessions_beyond_the_bound_are_not_fetched_and_exit_2() {
    use fixtures::{FEDERATION_SESSION, LEAKED_KEY, SESSION};
    let moto = Moto::start(&incident_scenario());

    let (code, doc, stderr) = key_remote(
        &moto,
        &[LEAKED_KEY, "--lookup", "--max-session-lookups", "1"],
    );

    // The first session minted is looked up; the second is not, and the run says it is short.
    assert_eq!(code, Some(2), "{stderr}");
    assert!(
        stderr
            .contains("1 more session key(s) minted from AKIA6V1GNZTT65XQH36M were not looked up"),
        "{stderr}"
    );
    assert_eq!(
        asked(&lookup_calls(&moto), "us-east-1"),
        [
            format!("AccessKeyId={LEAKED_KEY}"),
            format!("AccessKeyId={FEDERATION_SESSION}")
        ]
    );
    // The unlooked-up session is still known as minted; its uses are not.
    let session = doc["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["access_key_id"] == SESSION)
        .expect("the session minted");
    assert_eq!(session["used"], Value::Null);

    // 0: no session round at all.
    let_the_lookup_rate_settle();
    let (code, _, stderr) = key_remote(
        &moto,
        &[LEAKED_KEY, "--lookup", "--max-session-lookups", "0"],
    );
    assert_eq!(code, Some(2), "{stderr}");
    assert!(stderr.contains("2 more session key(s)"), "{stderr}");
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

// --- An organization trail ---------------------------------------------------------------------

/// The org-trail fixtures (keywarden-core's `org_trail_events`: the AWS documentation's
/// cross-account AssumeRole in both accounts' logs, the session's use in the role's account,
/// the real iam-backdoor-user CreateAccessKey in a third account) as an organization trail
/// delivers them: `AWSLogs/o-.../ACCOUNT/CloudTrail/us-east-2/YYYY/MM/DD/`, one gzipped Records
/// file per account (each account's events are of one day). The launcher's `s3_objects`.
fn org_objects(root: &Path) -> Vec<Value> {
    let mut objects = Vec::new();
    for (account, events) in fixtures::org_trail_events() {
        let time = events[0]["eventTime"].as_str().unwrap();
        let (y, m, d) = (&time[0..4], &time[5..7], &time[8..10]);
        let key = format!(
            "AWSLogs/{}/{account}/CloudTrail/us-east-2/{y}/{m}/{d}/\
             {account}_CloudTrail_us-east-2_{y}{m}{d}T2355Z_org.json.gz",
            fixtures::ORG_ID
        );
        let path = root.join(&key);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        let body = serde_json::to_vec(&json!({ "Records": events })).unwrap();
        std::fs::write(&path, gzip(&body)).unwrap();
        objects.push(json!({"bucket": BUCKET, "key": key, "body_file": path}));
    }
    objects
}

#[test]
fn an_organization_trail_bucket_is_listed_by_account_and_a_session_followed_across_accounts() {
    use fixtures::*;
    let scratch = Scratch::new("org");
    let moto = Moto::start(&json!({ "s3_objects": org_objects(scratch.path()) }));
    let bucket = format!("s3://{BUCKET}/AWSLogs/");

    // The whole trail: every account's object.
    let all = trail(&moto, &[&bucket]);
    assert_eq!(all.requests("s3:GetObject"), 3, "{}", all.context());
    assert!(
        all.stdout.contains(BACKDOOR_CREATE_KEY),
        "{}",
        all.context()
    );

    // One account: only its prefixes are listed and its object fetched. Folder listings:
    // AWSLogs/, the org, the account, CloudTrail/, us-east-2/, 2014/, 2014/07/ (7), then the
    // one day folder's objects (1).
    let narrowed = trail(&moto, &[&bucket, "--accounts", ORG_ROLE_ACCOUNT]);
    assert_eq!(narrowed.code(), Some(0), "{}", narrowed.context());
    assert_eq!(
        narrowed.requests("s3:GetObject"),
        1,
        "{}",
        narrowed.context()
    );
    assert_eq!(
        narrowed.requests("s3:ListObjectsV2"),
        8,
        "{}",
        narrowed.context()
    );
    assert!(!narrowed.stdout.contains(BACKDOOR_CREATE_KEY));
    let other = trail(&moto, &[&bucket, "--accounts", ORG_OTHER_ACCOUNT]);
    assert_eq!(other.requests("s3:GetObject"), 1, "{}", other.context());
    assert_eq!(
        other.doc["findings"],
        all.doc["findings"],
        "{}",
        other.context()
    );

    // `key`: the caller's key, its session minted into the role's account and used there.
    let key = |accounts: &str| {
        let mut command = moto.keywarden(&moto.admin());
        command.args(["key", CROSS_ACCOUNT_KEY, &bucket, "--format", "json"]);
        if !accounts.is_empty() {
            command.args(["--accounts", accounts]);
        }
        Audit::run(command)
    };
    let timeline = key("");
    assert_eq!(timeline.code(), Some(0), "{}", timeline.context());
    assert_eq!(timeline.doc["account"], ORG_CALLER_ACCOUNT);
    let session = &timeline.doc["sessions"][0];
    assert_eq!(session["access_key_id"], CROSS_ACCOUNT_SESSION);
    assert_eq!(session["account"], ORG_ROLE_ACCOUNT);
    assert_eq!(session["used"]["last"]["event_name"], "RunInstances");
    // The role's account alone holds it all (the caller's copy names no key).
    assert_eq!(
        key(ORG_ROLE_ACCOUNT).doc["sessions"],
        timeline.doc["sessions"]
    );
    assert_eq!(key(ORG_CALLER_ACCOUNT).doc["seen"], false);

    // What --accounts cannot narrow is refused: a prefix inside another account's folder, a
    // prefix outside the layout, an account with no folder.
    let inside = format!("s3://{BUCKET}/AWSLogs/{ORG_ID}/{ORG_OTHER_ACCOUNT}/");
    let refused = trail(&moto, &[&inside, "--accounts", ORG_ROLE_ACCOUNT]);
    assert_eq!(refused.code(), Some(2), "{}", refused.context());
    assert!(
        refused.stderr.contains("not one of --accounts"),
        "{}",
        refused.context()
    );
    let outside = trail(
        &moto,
        &[
            &format!("s3://{BUCKET}/elsewhere/"),
            "--accounts",
            ORG_ROLE_ACCOUNT,
        ],
    );
    assert_eq!(outside.code(), Some(2), "{}", outside.context());
    assert!(
        outside.stderr.contains("CloudTrail's layout"),
        "{}",
        outside.context()
    );
    let missing = trail(&moto, &[&bucket, "--accounts", "999999999999"]);
    assert_eq!(missing.code(), Some(2), "{}", missing.context());
    assert!(
        missing.stderr.contains("for accounts 999999999999"),
        "{}",
        missing.context()
    );
    assert_eq!(missing.requests("s3:GetObject"), 0, "{}", missing.context());
}
