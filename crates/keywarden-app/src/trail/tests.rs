use super::*;
use keywarden_aws::fake::FakeAccount;
use keywarden_aws::logs::{
    LookupAttribute, LookupKey, CLOUDTRAIL_LOOKUP_EVENTS, S3_GET_OBJECT, S3_LIST_OBJECTS,
};
use keywarden_core::config::RuleSelection;
use keywarden_core::time::parse_timestamp;
use keywarden_core::Timestamp;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

fn t(text: &str) -> Timestamp {
    parse_timestamp(text).unwrap()
}

fn window(since: &str, until: &str) -> Window {
    Window {
        since: Some(t(since)),
        until: Some(t(until)),
    }
}

fn record(id: &str, name: &str, time: &str, key: &str) -> String {
    format!(
        r#"{{"eventVersion":"1.09","eventID":"{id}","eventName":"{name}","eventSource":"iam.amazonaws.com","eventTime":"{time}","awsRegion":"us-east-1","userIdentity":{{"type":"IAMUser","accessKeyId":"{key}","userName":"alice","arn":"arn:aws:iam::111122223333:user/alice","accountId":"111122223333"}},"requestParameters":{{"userName":"bob"}},"responseElements":{{"accessKey":{{"accessKeyId":"AKIANEW{id}","status":"Active","userName":"bob","createDate":"Jul 30, 2024 9:53:13 PM"}}}},"recipientAccountId":"111122223333","sourceIPAddress":"1.2.3.4"}}"#
    )
}

fn day_key(region: &str, day: &str, n: usize) -> String {
    format!(
            "AWSLogs/111122223333/CloudTrail/{region}/{day}/111122223333_CloudTrail_{region}_x_{n}.json"
        )
}

fn bucket_with_days() -> FakeAccount {
    let mut objects = BTreeMap::new();
    for region in ["us-east-1", "eu-west-1"] {
        for (n, day) in [
            "2024/07/29",
            "2024/07/30",
            "2024/07/31",
            "2024/08/01",
            "2024/09/15",
        ]
        .iter()
        .enumerate()
        {
            let body = format!(
                r#"{{"Records":[{}]}}"#,
                record(
                    &format!("{region}-{n}"),
                    "ListUsers",
                    "2024-07-30T10:00:00Z",
                    "AKIA1"
                )
            );
            objects.insert(day_key(region, day, n), body.into_bytes());
        }
    }
    objects.insert(
        "AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2024/07/30/digest.json.gz".into(),
        b"not events".to_vec(),
    );
    objects.insert("other/readme.txt".into(), b"hello".to_vec());
    let mut fake = FakeAccount::default();
    fake.buckets.insert("trail".into(), objects);
    fake
}

fn listed(fake: &FakeAccount) -> Vec<String> {
    fake.calls()
        .into_iter()
        .filter(|c| c.starts_with(S3_LIST_OBJECTS))
        .collect()
}

#[test]
fn s3_urls() {
    assert_eq!(
        S3Location::parse("s3://b/AWSLogs/1/"),
        Some(Ok(S3Location {
            bucket: "b".into(),
            prefix: "AWSLogs/1/".into()
        }))
    );
    assert_eq!(
        S3Location::parse("s3://b"),
        Some(Ok(S3Location {
            bucket: "b".into(),
            prefix: String::new()
        }))
    );
    assert!(matches!(S3Location::parse("s3:///x"), Some(Err(_))));
    assert_eq!(S3Location::parse("logs/s3.json"), None);
    assert_eq!(S3Location::parse("-"), None);
}

#[test]
fn prefixes_are_located_in_the_layout() {
    assert_eq!(locate("logs/2024/"), None);
    assert_eq!(
        locate("AWSLogs/"),
        Some(("AWSLogs/".into(), Level::AwsLogs, String::new()))
    );
    assert_eq!(
        locate("x/AWSLogs/12"),
        Some(("x/AWSLogs/".into(), Level::AwsLogs, "12".into()))
    );
    assert_eq!(
        locate("AWSLogs/o-abc/"),
        Some(("AWSLogs/o-abc/".into(), Level::Org, String::new()))
    );
    assert_eq!(
        locate("AWSLogs/o-abc/123/CloudTrail/").map(|l| l.1),
        Some(Level::Trail)
    );
    assert_eq!(
        locate("AWSLogs/123/CloudTrail/us-east-1/2024/07/").map(|l| l.1),
        Some(Level::Month {
            year: 2024,
            month: 7
        })
    );
    assert_eq!(
        locate("AWSLogs/123/CloudTrail/us-east-1/2024/07/30/").map(|l| l.1),
        Some(Level::Leaf)
    );
    assert_eq!(
        locate("AWSLogs/123/CloudTrail-Digest/").map(|l| l.1),
        Some(Level::Leaf)
    );
}

#[tokio::test]
async fn without_a_window_the_prefix_is_listed_whole_and_digests_skipped() {
    let fake = Arc::new(bucket_with_days());
    let location = S3Location::parse("s3://trail/AWSLogs/").unwrap().unwrap();
    let (objects, _) = list_log_objects(Arc::clone(&fake), &location, &RemoteOptions::default())
        .await
        .unwrap();
    assert_eq!(objects.len(), 10);
    assert_eq!(
        listed(&fake),
        [format!("{S3_LIST_OBJECTS}(trail/AWSLogs/)")]
    );
}

#[tokio::test]
async fn a_window_lists_only_its_day_folders_in_every_region() {
    let fake = Arc::new(bucket_with_days());
    let location = S3Location::parse("s3://trail/").unwrap().unwrap();
    let options = RemoteOptions {
        window: window("2024-07-30T00:00:00Z", "2024-07-30T23:00:00Z"),
        ..RemoteOptions::default()
    };
    let (objects, _) = list_log_objects(Arc::clone(&fake), &location, &options)
        .await
        .unwrap();
    let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    // 07/30 and, for late deliveries, 07/31; never 07/29, 08/01 or September.
    assert_eq!(
        keys,
        [
            day_key("eu-west-1", "2024/07/30", 1),
            day_key("eu-west-1", "2024/07/31", 2),
            day_key("us-east-1", "2024/07/30", 1),
            day_key("us-east-1", "2024/07/31", 2),
        ]
    );
    let calls = listed(&fake);
    assert!(
        !calls
            .iter()
            .any(|c| c.contains("2024/07/29") || c.contains("2024/09")),
        "{calls:?}"
    );
    assert!(
        calls.contains(&format!(
            "{S3_LIST_OBJECTS}(trail/AWSLogs/111122223333/CloudTrail/us-east-1/2024/07/30/)"
        )),
        "{calls:?}"
    );
    // Objects are listed only in the day folders kept: never the whole bucket or a region.
    for call in calls.iter().filter(|c| !c.ends_with(" folders)")) {
        assert!(
            call.contains("/2024/07/30/)") || call.contains("/2024/07/31/)"),
            "{call}"
        );
    }
}

#[tokio::test]
async fn an_open_ended_window_prunes_one_side() {
    let fake = Arc::new(bucket_with_days());
    let location = S3Location::parse("s3://trail/AWSLogs/111122223333/CloudTrail/us-east-1/")
        .unwrap()
        .unwrap();
    let options = RemoteOptions {
        window: Window {
            since: Some(t("2024-08-01T00:00:00Z")),
            until: None,
        },
        ..RemoteOptions::default()
    };
    let (objects, _) = list_log_objects(fake, &location, &options).await.unwrap();
    let keys: Vec<&str> = objects.iter().map(|o| o.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            day_key("us-east-1", "2024/08/01", 3),
            day_key("us-east-1", "2024/09/15", 4)
        ]
    );
}

#[tokio::test]
async fn a_missing_bucket_is_an_error_naming_it() {
    let fake = Arc::new(FakeAccount::default());
    let location = S3Location::parse("s3://nope/AWSLogs/").unwrap().unwrap();
    let (sink, _receiver) = mpsc::channel(4);
    let error = read_s3(fake, location, RemoteOptions::default(), sink)
        .await
        .unwrap_err();
    assert!(error.to_string().contains("s3://nope/AWSLogs/"), "{error}");
    assert!(error.to_string().contains("NoSuchBucket"), "{error}");
}

#[tokio::test]
async fn an_empty_prefix_is_an_error() {
    let fake = Arc::new(bucket_with_days());
    let location = S3Location::parse("s3://trail/AWSLogs/999/")
        .unwrap()
        .unwrap();
    let (sink, _receiver) = mpsc::channel(4);
    let error = read_s3(fake, location, RemoteOptions::default(), sink)
        .await
        .unwrap_err();
    assert!(matches!(error, RemoteError::Empty { .. }), "{error}");
}

#[tokio::test]
async fn fetch_failures_are_reported_not_dropped() {
    let mut fake = bucket_with_days();
    fake.failures.insert(S3_GET_OBJECT, "AccessDenied".into());
    let location = S3Location::parse("s3://trail/AWSLogs/").unwrap().unwrap();
    let (sink, _receiver) = mpsc::channel(64);
    let (summary, failures) = read_s3(Arc::new(fake), location, RemoteOptions::default(), sink)
        .await
        .unwrap();
    assert_eq!(summary.units, 0);
    assert_eq!(failures.len(), 10);
    assert!(failures[0].to_string().contains("AccessDenied"));
}

fn history(count: usize) -> FakeAccount {
    let mut fake = FakeAccount::default();
    for i in 0..count {
        let key = if i % 2 == 0 { "AKIAEVEN" } else { "AKIAODD" };
        let time = format!("2024-07-30T10:{:02}:{:02}Z", i / 60, i % 60);
        fake.event_history.push((
            "us-east-1".into(),
            record(&format!("e{i}"), "CreateAccessKey", &time, key),
        ));
    }
    fake.event_history.push((
        "eu-west-1".into(),
        record("eu", "CreateAccessKey", "2024-07-30T10:00:00Z", "AKIAEVEN"),
    ));
    fake
}

#[tokio::test]
async fn lookup_pages_one_attribute_per_call_in_every_region() {
    let fake = Arc::new(history(120));
    let attributes = vec![
        "AccessKeyId=AKIAEVEN".parse().unwrap(),
        "EventName=CreateAccessKey".parse().unwrap(),
    ];
    let mut plan = LookupPlan::new(
        vec!["us-east-1".into(), "eu-west-1".into()],
        attributes,
        Window::default(),
    );
    plan.interval = Duration::from_millis(1);
    let (sink, mut receiver) = mpsc::channel(64);
    let summaries = read_lookup(Arc::clone(&fake), plan, sink).await.unwrap();
    let mut units = 0;
    while receiver.try_recv().is_ok() {
        units += 1;
    }
    // us-east-1: 60 even events (2 pages) + 120 events (3 pages); eu-west-1: 1 + 1.
    assert_eq!(summaries[0].units, 5);
    assert_eq!(summaries[0].events, 180);
    assert_eq!(summaries[1].units, 2);
    assert_eq!(units, 7);
    assert_eq!(fake.count(CLOUDTRAIL_LOOKUP_EVENTS), 7);
    assert!(fake.calls().contains(&format!(
        "{CLOUDTRAIL_LOOKUP_EVENTS}(us-east-1,AccessKeyId=AKIAEVEN,-)"
    )));
}

#[tokio::test]
async fn lookup_calls_in_a_region_are_spaced() {
    let fake = Arc::new(history(200));
    let mut plan = LookupPlan::new(vec!["us-east-1".into()], Vec::new(), Window::default());
    plan.interval = Duration::from_millis(100);
    let (sink, _receiver) = mpsc::channel(64);
    let started = std::time::Instant::now();
    let summaries = read_lookup(fake, plan, sink).await.unwrap();
    assert_eq!(summaries[0].units, 4);
    // 4 calls: 3 intervals at least.
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_shared_pacer_spaces_the_calls_of_successive_rounds() {
    let fake = Arc::new(history(3));
    let pacer = LookupPacer::default();
    let started = std::time::Instant::now();
    for _ in 0..3 {
        let mut plan = LookupPlan::new(vec!["us-east-1".into()], Vec::new(), Window::default());
        plan.interval = Duration::from_millis(100);
        plan.pacer = pacer.clone();
        let (sink, _receiver) = mpsc::channel(64);
        read_lookup(Arc::clone(&fake), plan, sink).await.unwrap();
    }
    // Three rounds of one call each: the second and third wait for their slot.
    assert_eq!(fake.count(CLOUDTRAIL_LOOKUP_EVENTS), 3);
    assert!(started.elapsed() >= Duration::from_millis(200));
}

#[tokio::test]
async fn a_lookup_failure_stops_the_run_with_the_region_named() {
    let mut fake = history(3);
    fake.failures
        .insert(CLOUDTRAIL_LOOKUP_EVENTS, "AccessDeniedException".into());
    let plan = LookupPlan::new(vec!["eu-west-1".into()], Vec::new(), Window::default());
    let (sink, _receiver) = mpsc::channel(4);
    let error = read_lookup(Arc::new(fake), plan, sink).await.unwrap_err();
    let text = error.to_string();
    assert!(
        text.contains("eu-west-1") && text.contains("AccessDeniedException"),
        "{text}"
    );
    assert!(text.contains("permissions --command trail"), "{text}");
}

#[test]
fn lookup_attributes_parse() {
    let a: LookupAttribute = "accesskeyid=AKIA1".parse().unwrap();
    assert_eq!(a.key, LookupKey::AccessKeyId);
    assert_eq!(a.to_string(), "AccessKeyId=AKIA1");
    assert!("Color=red".parse::<LookupAttribute>().is_err());
    assert!("EventName".parse::<LookupAttribute>().is_err());
    assert!("EventName=".parse::<LookupAttribute>().is_err());
}

#[test]
fn the_pipeline_analyzes_what_is_fetched() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let fake = Arc::new(bucket_with_days());
    let sources = RemoteSources {
        s3: vec![S3Location::parse("s3://trail/AWSLogs/").unwrap().unwrap()],
        lookup: None,
    };
    let mut analyzer = TrailAnalyzer::new(&RuleSelection::default());
    let reading = read_remote(
        runtime.handle(),
        fake,
        sources,
        RemoteOptions::default(),
        Parsing::threads(2),
        &mut analyzer,
        None,
    )
    .unwrap();
    assert_eq!(reading.report.units_read, 10);
    assert!(reading.failures.is_empty());
    let outcome = analyzer.finish();
    assert_eq!(outcome.stats.events, 10);
    assert_eq!(outcome.stats.bad_records, 0);
}

/// A request for local sources only, on two workers.
fn local_request(sources: Vec<std::path::PathBuf>) -> TrailRequest {
    TrailRequest {
        sources,
        lookup: None,
        regions: Vec::new(),
        connect: keywarden_aws::live::ConnectOptions::default(),
        window: Window::default(),
        parsing: Parsing::threads(2),
        concurrency: 8,
        accounts: AccountFilter::default(),
    }
}

/// A folder with one CloudTrail file of `n` events by AKIA1.
fn trail_folder(n: usize) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let records: Vec<String> = (0..n)
        .map(|i| {
            record(
                &format!("e{i}"),
                "ListUsers",
                "2024-07-30T10:00:00Z",
                "AKIA1",
            )
        })
        .collect();
    std::fs::write(
        dir.path().join("events.json"),
        format!(r#"{{"Records":[{}]}}"#, records.join(",")),
    )
    .unwrap();
    dir
}

#[test]
fn a_trail_run_inspects_every_record_and_lists_the_inspections_rules() {
    let dir = trail_folder(3);
    let request = local_request(vec![dir.path().to_owned()]);
    let seen = std::sync::atomic::AtomicUsize::new(0);
    let inspect = |_: &keywarden_core::cloudtrail::reader::Record<'_>,
                   _: &mut Vec<keywarden_core::finding::Finding>| {
        seen.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
    };
    let extra = keywarden_core::rules::catalogue().next().unwrap();
    let inspection = Inspection {
        inspector: &inspect,
        rules: vec![extra],
    };
    let mut notes = Vec::new();
    let found = run_trail(
        &request,
        &RuleSelection::default(),
        Some(inspection),
        &mut |note| notes.push(format!("{note:?}")),
    )
    .unwrap();
    assert_eq!(seen.load(std::sync::atomic::Ordering::SeqCst), 3);
    assert_eq!(found.outcome.stats.events, 3);
    assert_eq!(found.read.units_read, 1);
    assert!(std::ptr::eq(*found.rules_run.last().unwrap(), extra));
    assert!(found.rules_run.len() > 1, "the detections ran too");
    assert_eq!(found.source.location, dir.path().display().to_string());
    assert_eq!(found.source.as_of, Some(t("2024-07-30T10:00:00Z")));
    // Local sources only: no AWS client, so no requests to report.
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn a_trail_run_fails_on_a_bad_location_or_an_empty_folder() {
    let empty = tempfile::tempdir().unwrap();
    let mut notes = |_: TrailNote<'_>| {};
    let error = run_trail(
        &local_request(vec!["s3:///x".into()]),
        &RuleSelection::default(),
        None,
        &mut notes,
    )
    .unwrap_err();
    assert!(matches!(error, TrailError::Invalid(_)), "{error}");
    let error = run_trail(
        &local_request(vec![empty.path().to_owned()]),
        &RuleSelection::default(),
        None,
        &mut notes,
    )
    .unwrap_err();
    assert!(matches!(error, TrailError::EmptyFolder(_)), "{error}");
    assert!(error
        .to_string()
        .starts_with("no CloudTrail records found in "));
}

#[test]
fn a_request_describes_its_sources_and_lookups() {
    let mut request = local_request(vec!["a.json".into(), "s3://b/p".into()]);
    assert!(request.has_sources());
    assert_eq!(request.describe(), "a.json, s3://b/p");
    request.lookup = Some(vec!["AccessKeyId=AKIA1".parse().unwrap()]);
    request.regions = vec!["us-east-1".into(), "eu-west-1".into()];
    assert_eq!(
        request.describe(),
        "a.json, s3://b/p, LookupEvents (us-east-1,eu-west-1; AccessKeyId=AKIA1)"
    );
    let request = TrailRequest {
        lookup: Some(Vec::new()),
        ..local_request(Vec::new())
    };
    assert!(request.has_sources());
    assert_eq!(request.describe(), "LookupEvents (the configured region)");
    assert!(!local_request(Vec::new()).has_sources());
}

#[test]
fn a_key_run_without_lookup_reads_the_sources_once() {
    let dir = trail_folder(2);
    let mut notes = Vec::new();
    let found = run_key_trail(
        local_request(vec![dir.path().to_owned()]),
        "AKIA1",
        5,
        &mut |note| notes.push(format!("{note:?}")),
    )
    .unwrap();
    assert_eq!(found.outcome.stats.events, 2);
    assert_eq!(found.left_out, 0);
    assert!(notes.is_empty(), "{notes:?}");
}

#[test]
fn a_contain_run_names_its_sources_and_keeps_its_error() {
    let dir = trail_folder(4);
    let mut notes = |_: TrailNote<'_>| {};
    let request = local_request(vec![dir.path().to_owned()]);
    let (section, read) = run_contain_trail(&request, "AKIA1", &mut notes);
    assert_eq!(read.unwrap().units_read, 1);
    assert_eq!(section.sources, dir.path().display().to_string());
    assert_eq!(section.events_read, 4);
    assert_eq!(section.bad_records, 0);
    let missing = dir.path().join("missing.json");
    let (_, read) = run_contain_trail(&local_request(vec![missing]), "AKIA1", &mut notes);
    assert!(matches!(read, Err(TrailError::Source(_))));
}
