//! `keywarden trail` over remote sources: CloudTrail log files in S3 (`s3://bucket/prefix`) and
//! CloudTrail's event history (LookupEvents). Both are fetched on the async runtime and handed,
//! as [`Unit::Bytes`], to the same parallel parser and analyzer as local files.
//!
//! **S3.** Objects under the prefix are listed (every page) and fetched concurrently (bounded).
//! With `--since`/`--until`, a prefix that reaches CloudTrail's layout
//! (`[custom-prefix/]AWSLogs/[o-org/]<account>/CloudTrail/<region>/YYYY/MM/DD/`) is walked one
//! level at a time, and only the days that can hold events of the window are listed: folder
//! dates are delivery dates, so the walk keeps the days from `since` to one day after `until`
//! (CloudTrail delivers within minutes, not guaranteed). Other prefixes are listed whole; the
//! analyzer's window drops events outside it either way. Digest files are skipped.
//!
//! **LookupEvents.** One query per lookup attribute (AWS takes one per call) and per region,
//! every page (50 events), `--since`/`--until` as StartTime/EndTime (AWS's default: the last 90
//! days). Calls in one region are spaced by a [`LookupPacer`] so that at most 2 go out a second,
//! AWS's limit, across every query and every round of a run (`keywarden key --lookup` asks
//! again for the sessions a key minted); regions run concurrently. Each page's
//! `CloudTrailEvent` records become one JSON-lines unit. An event matching several attributes
//! comes back several times; the analyzer deduplicates by `eventID`.
//!
//! **Failures are loud.** A listing or LookupEvents call that fails (AccessDenied,
//! NoSuchBucket, throttled out after the SDK's retries) stops the run with an error naming the
//! source; an S3 prefix with no log object is an error too. An object that cannot be fetched
//! is reported and counted as a bad record, so the run's exit status says it is incomplete.
//!
//! Memory stays bounded: fetched units wait in a bounded channel, and the parser takes them in
//! batches while the next ones download.

use crate::trail::{analyze_units_inspecting, Inspector, Parsing, ReadReport, Unit};
use chrono::{Datelike, NaiveDate};
use keywarden_aws::api::AwsError;
use keywarden_aws::logs::{
    EventHistoryRead, LogBucketRead, LookupAttribute, LookupQuery, S3Object, LOOKUP_MAX_RESULTS,
};
use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::time::format_timestamp;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{mpsc, Semaphore};
use tokio::task::JoinSet;

/// Where fetched units go: the parser's side of the pipeline.
pub type UnitSink = mpsc::Sender<Unit>;

/// `s3://bucket/prefix`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    /// Without a leading `/`; empty for the whole bucket.
    pub prefix: String,
}

impl S3Location {
    /// `None` when `text` is not an `s3://` URL; an error when it is one without a bucket.
    pub fn parse(text: &str) -> Option<Result<S3Location, String>> {
        let scheme = text.get(..5)?;
        if !scheme.eq_ignore_ascii_case("s3://") {
            return None;
        }
        let rest = &text[5..];
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Some(Err(format!("{text}: no bucket name (s3://bucket/prefix)")));
        }
        Some(Ok(S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_start_matches('/').to_owned(),
        }))
    }

    fn url(&self, key: &str) -> String {
        format!("s3://{}/{key}", self.bucket)
    }
}

impl fmt::Display for S3Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.prefix)
    }
}

pub use keywarden_core::cloudtrail::analyzer::Window;

/// The delivery days (folder dates) that can hold events of the window.
fn delivery_days(window: &Window) -> DayRange {
    DayRange {
        first: window.since.map(|t| t.date_naive()),
        last: window
            .until
            .map(|t| (t + chrono::Duration::days(DELIVERY_MARGIN_DAYS)).date_naive()),
    }
}

/// ` between A and B`, or nothing for an open window, for messages.
fn describe_window(window: &Window) -> String {
    match (window.since, window.until) {
        (None, None) => String::new(),
        (since, until) => format!(
            " between {} and {}",
            since.map_or("the beginning".to_owned(), format_timestamp),
            until.map_or("now".to_owned(), format_timestamp)
        ),
    }
}

/// Days after `until` whose folders are still listed: CloudTrail files an event under the day
/// it delivers the file, usually within 5 minutes, without a guarantee.
pub const DELIVERY_MARGIN_DAYS: i64 = 1;

#[derive(Debug, Clone, Copy)]
struct DayRange {
    first: Option<NaiveDate>,
    last: Option<NaiveDate>,
}

impl DayRange {
    fn keeps_year(&self, year: i32) -> bool {
        self.first.is_none_or(|d| year >= d.year()) && self.last.is_none_or(|d| year <= d.year())
    }

    fn keeps_month(&self, year: i32, month: u32) -> bool {
        let ym = (year, month);
        self.first.is_none_or(|d| ym >= (d.year(), d.month()))
            && self.last.is_none_or(|d| ym <= (d.year(), d.month()))
    }

    fn keeps_day(&self, day: NaiveDate) -> bool {
        self.first.is_none_or(|d| day >= d) && self.last.is_none_or(|d| day <= d)
    }
}

/// What the folders directly under a folder of CloudTrail's layout are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Level {
    /// `AWSLogs/`: organization ids (`o-...`) or account ids.
    AwsLogs,
    /// `AWSLogs/o-.../`: account ids.
    Org,
    /// `AWSLogs/<account>/`: one folder per service; only `CloudTrail/` holds events.
    Account,
    /// `.../CloudTrail/`: regions.
    Trail,
    /// `.../<region>/`: years.
    Region,
    /// `.../YYYY/`: months.
    Year { year: i32 },
    /// `.../YYYY/MM/`: days.
    Month { year: i32, month: u32 },
    /// A day, or anything below or outside the layout: listed whole.
    Leaf,
}

/// Where a prefix stands in CloudTrail's layout: the folder it names, that folder's level, and
/// the partial name after the folder's last `/`. `None` when the prefix does not reach
/// `AWSLogs/`.
fn locate(prefix: &str) -> Option<(String, Level, String)> {
    let (folder, partial) = match prefix.rfind('/') {
        Some(end) => (&prefix[..=end], &prefix[end + 1..]),
        None => ("", prefix),
    };
    let segments: Vec<&str> = folder.split('/').filter(|s| !s.is_empty()).collect();
    let at = segments.iter().position(|s| *s == "AWSLogs")?;
    let mut rest = &segments[at + 1..];
    let mut level = Level::AwsLogs;
    if let Some(first) = rest.first() {
        if first.starts_with("o-") {
            level = Level::Org;
            rest = &rest[1..];
        }
    }
    let level = match rest {
        [] => level,
        [_account] => Level::Account,
        [_, "CloudTrail"] => Level::Trail,
        [_, "CloudTrail", _region] => Level::Region,
        [_, "CloudTrail", _, year] => match year.parse() {
            Ok(year) => Level::Year { year },
            Err(_) => Level::Leaf,
        },
        [_, "CloudTrail", _, year, month] => match (year.parse(), month.parse()) {
            (Ok(year), Ok(month)) => Level::Month { year, month },
            _ => Level::Leaf,
        },
        _ => Level::Leaf,
    };
    Some((folder.to_owned(), level, partial.to_owned()))
}

/// The last name of a folder prefix (`a/b/c/` -> `c`).
fn folder_name(prefix: &str) -> &str {
    prefix
        .trim_end_matches('/')
        .rsplit('/')
        .next()
        .unwrap_or_default()
}

/// What a child folder of a `level` folder is, or `None` when the window excludes it.
fn child_level(level: Level, name: &str, days: &DayRange) -> Option<Level> {
    match level {
        Level::AwsLogs if name.starts_with("o-") => Some(Level::Org),
        Level::AwsLogs | Level::Org => Some(Level::Account),
        Level::Account => (name == "CloudTrail").then_some(Level::Trail),
        Level::Trail => Some(Level::Region),
        // A name that is not a date is not CloudTrail's: listed whole rather than guessed away.
        Level::Region => match name.parse::<i32>() {
            Ok(year) => days.keeps_year(year).then_some(Level::Year { year }),
            Err(_) => Some(Level::Leaf),
        },
        Level::Year { year } => match name.parse::<u32>() {
            Ok(month) => days
                .keeps_month(year, month)
                .then_some(Level::Month { year, month }),
            Err(_) => Some(Level::Leaf),
        },
        Level::Month { year, month } => match name.parse::<u32>() {
            Ok(day) => match NaiveDate::from_ymd_opt(year, month, day) {
                Some(date) => days.keeps_day(date).then_some(Level::Leaf),
                None => Some(Level::Leaf),
            },
            Err(_) => Some(Level::Leaf),
        },
        Level::Leaf => Some(Level::Leaf),
    }
}

/// Files that hold events, as a walked local folder decides it (`.json`, `.jsonl`, `.ndjson`,
/// `.log`, gzipped or not), outside `CloudTrail-Digest/`. The key the user named exactly is
/// read whatever its name.
fn is_log_key(key: &str, named: &str) -> bool {
    if key == named {
        return true;
    }
    if key.ends_with('/') || key.contains("/CloudTrail-Digest/") {
        return false;
    }
    let name = key.rsplit('/').next().unwrap_or(key);
    if name.starts_with('.') {
        return false;
    }
    let name = name.strip_suffix(".gz").unwrap_or(name);
    [".json", ".jsonl", ".ndjson", ".log"]
        .iter()
        .any(|ext| name.ends_with(ext))
}

/// A source that cannot be read at all: the run stops.
#[derive(Debug, thiserror::Error)]
pub enum RemoteError {
    #[error("{origin}: {error}{hint}", hint = hint(error))]
    Aws { origin: String, error: AwsError },
    #[error("{origin}: no CloudTrail log object under this prefix{window}")]
    Empty { origin: String, window: String },
    #[error("{origin}: {message}")]
    Invalid { origin: String, message: String },
}

fn hint(error: &AwsError) -> &'static str {
    if error.code.starts_with("AccessDenied") || error.code == "UnauthorizedOperation" {
        " (`keywarden permissions --command trail` prints the policy trail needs)"
    } else if error.code == "PermanentRedirect" || error.code == "AuthorizationHeaderMalformed" {
        " (pass the bucket's region with --region)"
    } else {
        ""
    }
}

/// One object or page that could not be read; the run goes on, incomplete.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RemoteFailure {
    pub origin: String,
    pub error: AwsError,
}

impl fmt::Display for RemoteFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: not read: {}", self.origin, self.error)
    }
}

/// What one remote source gave.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SourceSummary {
    /// `s3://bucket/prefix` or `LookupEvents <region>`.
    pub source: String,
    /// Listing calls' prefixes (S3): how much of the bucket was looked at.
    pub prefixes_listed: usize,
    /// Objects fetched (S3) or pages read (LookupEvents).
    pub units: usize,
    pub bytes: u64,
    /// LookupEvents events (records), all queries of the region.
    pub events: usize,
    /// LookupEvents events that came without their CloudTrail record.
    pub without_record: usize,
}

/// How the remote sources are read.
#[derive(Debug, Clone)]
pub struct RemoteOptions {
    pub window: Window,
    /// S3 calls in flight at once.
    pub concurrency: usize,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            window: Window::default(),
            concurrency: 8,
        }
    }
}

// --- S3 ----------------------------------------------------------------------------------------

/// The objects to read under `location`: the AWSLogs day folders of the window when the prefix
/// reaches the layout and a window is set, everything under the prefix otherwise. Sorted by key.
/// Also returns how many listing prefixes were looked at.
pub async fn list_log_objects<C>(
    client: Arc<C>,
    location: &S3Location,
    options: &RemoteOptions,
) -> Result<(Vec<S3Object>, usize), RemoteError>
where
    C: LogBucketRead + 'static,
{
    let bucket = location.bucket.as_str();
    let failed = |error| RemoteError::Aws {
        origin: location.to_string(),
        error,
    };
    let mut leaves: Vec<String> = Vec::new();
    let mut listed = 0;
    let start = if options.window.is_open() {
        None
    } else {
        match locate(&location.prefix) {
            Some(start) => Some(start),
            // `bucket/` or `bucket/custom-prefix/` whose folder holds `AWSLogs/`.
            None if location.prefix.is_empty() || location.prefix.ends_with('/') => {
                listed += 1;
                let folders = client
                    .list_folders(bucket, &location.prefix)
                    .await
                    .map_err(failed)?;
                let aws_logs = format!("{}AWSLogs/", location.prefix);
                folders
                    .contains(&aws_logs)
                    .then(|| (aws_logs, Level::AwsLogs, String::new()))
            }
            None => None,
        }
    };
    match start {
        None => leaves.push(location.prefix.clone()),
        Some((folder, level, partial)) => {
            let days = delivery_days(&options.window);
            let mut frontier = vec![(folder, level, partial)];
            while !frontier.is_empty() {
                let mut next = Vec::new();
                let mut tasks = JoinSet::new();
                let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
                for (folder, level, partial) in frontier {
                    if level == Level::Leaf {
                        leaves.push(format!("{folder}{partial}"));
                        continue;
                    }
                    listed += 1;
                    let client = Arc::clone(&client);
                    let bucket = bucket.to_owned();
                    let permit = Arc::clone(&permits)
                        .acquire_owned()
                        .await
                        .expect("the semaphore is never closed");
                    tasks.spawn(async move {
                        let _permit = permit;
                        let children = client
                            .list_folders(&bucket, &format!("{folder}{partial}"))
                            .await;
                        (level, children)
                    });
                }
                while let Some(joined) = tasks.join_next().await {
                    let (level, children) = joined.expect("a listing task panicked");
                    for child in children.map_err(failed)? {
                        if let Some(child_level) = child_level(level, folder_name(&child), &days) {
                            next.push((child, child_level, String::new()));
                        }
                    }
                }
                next.sort_by(|a, b| a.0.cmp(&b.0));
                frontier = next;
            }
        }
    }

    leaves.sort();
    leaves.dedup();
    listed += leaves.len();
    let mut objects = Vec::new();
    let mut tasks = JoinSet::new();
    let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
    for leaf in leaves {
        let client = Arc::clone(&client);
        let bucket = bucket.to_owned();
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        tasks.spawn(async move {
            let _permit = permit;
            client.list_objects(&bucket, &leaf).await
        });
    }
    while let Some(joined) = tasks.join_next().await {
        objects.extend(joined.expect("a listing task panicked").map_err(failed)?);
    }
    objects.retain(|o| is_log_key(&o.key, &location.prefix));
    objects.sort_by(|a, b| a.key.cmp(&b.key));
    objects.dedup_by(|a, b| a.key == b.key);
    Ok((objects, listed))
}

/// Lists and fetches one S3 location, sending each object to `sink` as it arrives.
pub async fn read_s3<C>(
    client: Arc<C>,
    location: S3Location,
    options: RemoteOptions,
    sink: UnitSink,
) -> Result<(SourceSummary, Vec<RemoteFailure>), RemoteError>
where
    C: LogBucketRead + 'static,
{
    let (objects, listed) = list_log_objects(Arc::clone(&client), &location, &options).await?;
    if objects.is_empty() {
        return Err(RemoteError::Empty {
            origin: location.to_string(),
            window: if options.window.is_open() {
                String::new()
            } else {
                format!(" in the day folders{}", describe_window(&options.window))
            },
        });
    }
    let mut summary = SourceSummary {
        source: location.to_string(),
        prefixes_listed: listed,
        ..SourceSummary::default()
    };
    let mut failures = Vec::new();
    let mut tasks = JoinSet::new();
    let permits = Arc::new(Semaphore::new(options.concurrency.max(1)));
    let mut finished = |joined: Result<Result<u64, RemoteFailure>, tokio::task::JoinError>,
                        summary: &mut SourceSummary| {
        match joined.expect("a fetch task panicked") {
            Ok(bytes) => {
                summary.units += 1;
                summary.bytes += bytes;
            }
            Err(failure) => failures.push(failure),
        }
    };
    for object in objects {
        // Wait for a free slot before spawning, so at most `concurrency` fetches exist.
        let permit = Arc::clone(&permits)
            .acquire_owned()
            .await
            .expect("the semaphore is never closed");
        while let Some(joined) = tasks.try_join_next() {
            finished(joined, &mut summary);
        }
        let client = Arc::clone(&client);
        let sink = sink.clone();
        let bucket = location.bucket.clone();
        let origin = location.url(&object.key);
        tasks.spawn(async move {
            let _permit = permit;
            match client.get_object(&bucket, &object.key).await {
                Ok(data) => {
                    let bytes = data.len() as u64;
                    let unit = Unit::Bytes {
                        origin,
                        data: Arc::new(data),
                    };
                    // The parser is gone only when the run is over: nothing left to do.
                    let _ = sink.send(unit).await;
                    Ok(bytes)
                }
                Err(error) => Err(RemoteFailure { origin, error }),
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        finished(joined, &mut summary);
    }
    failures.sort_by(|a, b| a.origin.cmp(&b.origin));
    Ok((summary, failures))
}

// --- LookupEvents ------------------------------------------------------------------------------

/// The least time between two LookupEvents calls in one region. AWS allows 2 a second; the
/// 20 ms over 500 leave room for the jitter between when a call is scheduled and when it
/// reaches AWS, so that two calls never arrive closer than AWS's limit allows.
pub const LOOKUP_INTERVAL: Duration = Duration::from_millis(520);

/// The pace of LookupEvents calls, per region, for a whole run: a call in a region goes out no
/// sooner than `interval` after the one before it in that region, whichever query or round
/// made that one. Clones share the pace.
#[derive(Debug, Clone, Default)]
pub struct LookupPacer(Arc<std::sync::Mutex<HashMap<String, tokio::time::Instant>>>);

impl LookupPacer {
    /// Waits for the next slot in `region`, and takes it.
    pub async fn wait(&self, region: &str, interval: Duration) {
        let slot = {
            let mut last = self.0.lock().unwrap_or_else(|e| e.into_inner());
            let now = tokio::time::Instant::now();
            let slot = last
                .get(region)
                .map_or(now, |&previous| (previous + interval).max(now));
            last.insert(region.to_owned(), slot);
            slot
        };
        tokio::time::sleep_until(slot).await;
    }
}

/// Two plans are the same plan whatever their pace.
impl PartialEq for LookupPacer {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for LookupPacer {}

/// What `--lookup` asks CloudTrail's event history for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LookupPlan {
    pub regions: Vec<String>,
    /// One query per attribute; none: one query for every management event.
    pub attributes: Vec<LookupAttribute>,
    pub window: Window,
    /// Events per page (at most 50).
    pub page_size: u32,
    /// The least time between two calls in one region.
    pub interval: Duration,
    /// Keeps `interval` across plans: share one between the rounds of a run.
    pub pacer: LookupPacer,
}

impl LookupPlan {
    pub fn new(regions: Vec<String>, attributes: Vec<LookupAttribute>, window: Window) -> Self {
        LookupPlan {
            regions,
            attributes,
            window,
            page_size: LOOKUP_MAX_RESULTS,
            interval: LOOKUP_INTERVAL,
            pacer: LookupPacer::default(),
        }
    }

    /// The queries each region runs, in order.
    pub fn queries(&self) -> Vec<LookupQuery> {
        let query = |attribute| LookupQuery {
            attribute,
            start: self.window.since,
            end: self.window.until,
            max_results: self.page_size,
        };
        if self.attributes.is_empty() {
            vec![query(None)]
        } else {
            let mut attributes = self.attributes.clone();
            let mut seen = std::collections::HashSet::new();
            attributes.retain(|a| seen.insert(a.clone()));
            attributes.into_iter().map(|a| query(Some(a))).collect()
        }
    }
}

/// Reads every page of every query in one region, at most one call per `interval` (kept by
/// `pacer`, which may have calls of an earlier round to space from).
pub async fn lookup_region<C>(
    client: Arc<C>,
    region: String,
    queries: Vec<LookupQuery>,
    interval: Duration,
    pacer: LookupPacer,
    sink: UnitSink,
) -> Result<SourceSummary, RemoteError>
where
    C: EventHistoryRead + 'static,
{
    let mut summary = SourceSummary {
        source: format!("LookupEvents {region}"),
        ..SourceSummary::default()
    };
    for query in queries {
        let name = query
            .attribute
            .as_ref()
            .map_or("all events".to_owned(), |a| a.to_string());
        let origin = |page: usize| format!("LookupEvents {region} {name} page {page}");
        let mut token: Option<String> = None;
        let mut page_number = 0;
        loop {
            // Slots are taken when a call starts: a slow call never lets two go out back to back.
            pacer.wait(&region, interval).await;
            page_number += 1;
            let page = client
                .lookup_events(&region, &query, token.as_deref())
                .await
                .map_err(|error| RemoteError::Aws {
                    origin: origin(page_number),
                    error,
                })?;
            summary.units += 1;
            summary.events += page.events.len();
            summary.without_record += page.without_record;
            if !page.events.is_empty() {
                let data = page.events.join("\n").into_bytes();
                summary.bytes += data.len() as u64;
                let unit = Unit::Bytes {
                    origin: origin(page_number),
                    data: Arc::new(data),
                };
                if sink.send(unit).await.is_err() {
                    return Ok(summary);
                }
            }
            match page.next_token {
                Some(next) if token.as_deref() == Some(next.as_str()) => {
                    return Err(RemoteError::Invalid {
                        origin: origin(page_number),
                        message: "LookupEvents repeated its NextToken".into(),
                    });
                }
                Some(next) => token = Some(next),
                None => break,
            }
        }
    }
    Ok(summary)
}

/// Every region of the plan, concurrently; each region keeps its own pace.
pub async fn read_lookup<C>(
    client: Arc<C>,
    plan: LookupPlan,
    sink: UnitSink,
) -> Result<Vec<SourceSummary>, RemoteError>
where
    C: EventHistoryRead + 'static,
{
    let queries = plan.queries();
    let mut tasks = JoinSet::new();
    let mut regions = plan.regions.clone();
    let mut seen = std::collections::HashSet::new();
    regions.retain(|r| seen.insert(r.clone()));
    for (index, region) in regions.into_iter().enumerate() {
        let read = lookup_region(
            Arc::clone(&client),
            region,
            queries.clone(),
            plan.interval,
            plan.pacer.clone(),
            sink.clone(),
        );
        tasks.spawn(async move { (index, read.await) });
    }
    let mut summaries = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        let (index, result) = joined.expect("a LookupEvents task panicked");
        summaries.push((index, result?));
    }
    summaries.sort_by_key(|(index, _)| *index);
    Ok(summaries.into_iter().map(|(_, s)| s).collect())
}

// --- the pipeline ------------------------------------------------------------------------------

/// Units waiting for the parser. With S3 objects of a few hundred kB to a few MB, this bounds
/// the memory the downloads can run ahead with.
const CHANNEL_UNITS: usize = 64;
/// A parser batch: this many bytes or units, or whatever has arrived when the parser is free.
const BATCH_BYTES: usize = 64 << 20;
const BATCH_UNITS: usize = 256;
/// As in `trail`: the first 1,000 bad records are kept, the rest counted.
const KEEP_BAD_RECORDS: usize = 1000;

/// Runs `produce` on `runtime` while the calling thread parses what it sends into `analyzer`, in
/// batches (`analyze_units_inspecting` with `parsing` per batch, with `inspector` if any).
/// Returns the reading report and `produce`'s result. Call it from outside the runtime (it
/// blocks).
pub fn analyze_fetched<T, F, Fut>(
    runtime: &tokio::runtime::Handle,
    parsing: Parsing,
    analyzer: &mut TrailAnalyzer,
    inspector: Option<Inspector<'_>>,
    produce: F,
) -> (ReadReport, T)
where
    F: FnOnce(UnitSink) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    let (sink, mut receiver) = mpsc::channel::<Unit>(CHANNEL_UNITS);
    let task = runtime.spawn(produce(sink));
    let mut report = ReadReport::default();
    while let Some(first) = receiver.blocking_recv() {
        let mut size = unit_size(&first);
        let mut batch = vec![first];
        while size < BATCH_BYTES && batch.len() < BATCH_UNITS {
            match receiver.try_recv() {
                Ok(unit) => {
                    size += unit_size(&unit);
                    batch.push(unit);
                }
                Err(_) => break,
            }
        }
        merge(
            &mut report,
            analyze_units_inspecting(batch, parsing, analyzer, inspector),
        );
    }
    let output = match runtime.block_on(task) {
        Ok(output) => output,
        Err(error) => std::panic::resume_unwind(error.into_panic()),
    };
    (report, output)
}

fn unit_size(unit: &Unit) -> usize {
    match unit {
        Unit::Bytes { data, .. } => data.len(),
        _ => 0,
    }
}

/// Adds one batch's reading report to the run's.
pub fn merge(into: &mut ReadReport, from: ReadReport) {
    into.units_read += from.units_read;
    into.findings.extend(from.findings);
    into.bad_records_not_kept += from.bad_records_not_kept;
    for record in from.bad_records {
        if into.bad_records.len() < KEEP_BAD_RECORDS {
            into.bad_records.push(record);
        } else {
            into.bad_records_not_kept += 1;
        }
    }
}

/// The remote sources of one run.
#[derive(Debug, Clone, Default)]
pub struct RemoteSources {
    pub s3: Vec<S3Location>,
    pub lookup: Option<LookupPlan>,
}

impl RemoteSources {
    pub fn is_empty(&self) -> bool {
        self.s3.is_empty() && self.lookup.is_none()
    }
}

/// What reading the remote sources gave besides the analysis.
#[derive(Debug, Default)]
pub struct RemoteReading {
    pub report: ReadReport,
    /// One per S3 location, then one per LookupEvents region.
    pub summaries: Vec<SourceSummary>,
    /// Objects that could not be fetched; each is also counted as a bad record in the analyzer,
    /// so the run reports itself incomplete.
    pub failures: Vec<RemoteFailure>,
}

/// Reads every remote source into `analyzer`: the S3 locations one after the other (each with
/// `options.concurrency` fetches in flight) while the LookupEvents regions run alongside. An
/// `inspector` (Sigma rules) sees every record, as for local files.
pub fn read_remote<C>(
    runtime: &tokio::runtime::Handle,
    client: Arc<C>,
    sources: RemoteSources,
    options: RemoteOptions,
    parsing: Parsing,
    analyzer: &mut TrailAnalyzer,
    inspector: Option<Inspector<'_>>,
) -> Result<RemoteReading, RemoteError>
where
    C: LogBucketRead + EventHistoryRead + 'static,
{
    let (report, fetched) = analyze_fetched(
        runtime,
        parsing,
        analyzer,
        inspector,
        move |sink| async move {
            let s3 = {
                let client = Arc::clone(&client);
                let sink = sink.clone();
                async move {
                    let mut summaries = Vec::new();
                    let mut failures = Vec::new();
                    for location in sources.s3 {
                        let (summary, failed) =
                            read_s3(Arc::clone(&client), location, options.clone(), sink.clone())
                                .await?;
                        summaries.push(summary);
                        failures.extend(failed);
                    }
                    Ok::<_, RemoteError>((summaries, failures))
                }
            };
            let lookup = async move {
                match sources.lookup {
                    Some(plan) => read_lookup(client, plan, sink).await,
                    None => Ok(Vec::new()),
                }
            };
            let ((mut summaries, failures), lookups) = tokio::try_join!(s3, lookup)?;
            summaries.extend(lookups);
            Ok::<_, RemoteError>((summaries, failures))
        },
    );
    let (summaries, failures) = fetched?;
    for _ in &failures {
        analyzer.record_bad();
    }
    Ok(RemoteReading {
        report,
        summaries,
        failures,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use keywarden_aws::fake::FakeAccount;
    use keywarden_aws::logs::LookupKey;
    use keywarden_core::config::RuleSelection;
    use keywarden_core::time::parse_timestamp;
    use keywarden_core::Timestamp;
    use std::collections::BTreeMap;

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
            .filter(|c| c.starts_with("s3:ListBucket"))
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
        let (objects, _) =
            list_log_objects(Arc::clone(&fake), &location, &RemoteOptions::default())
                .await
                .unwrap();
        assert_eq!(objects.len(), 10);
        assert_eq!(listed(&fake), ["s3:ListBucket(trail/AWSLogs/)"]);
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
            calls.contains(
                &"s3:ListBucket(trail/AWSLogs/111122223333/CloudTrail/us-east-1/2024/07/30/)"
                    .to_owned()
            ),
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
        fake.failures.insert("s3:GetObject", "AccessDenied".into());
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
        assert_eq!(fake.count("cloudtrail:LookupEvents"), 7);
        assert!(fake
            .calls()
            .contains(&"cloudtrail:LookupEvents(us-east-1,AccessKeyId=AKIAEVEN,-)".to_owned()));
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
        assert_eq!(fake.count("cloudtrail:LookupEvents"), 3);
        assert!(started.elapsed() >= Duration::from_millis(200));
    }

    #[tokio::test]
    async fn a_lookup_failure_stops_the_run_with_the_region_named() {
        let mut fake = history(3);
        fake.failures
            .insert("cloudtrail:LookupEvents", "AccessDeniedException".into());
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
}
