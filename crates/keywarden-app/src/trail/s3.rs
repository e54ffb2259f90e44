//! S3 sources (`s3://bucket/prefix`): the AWSLogs day folders of the window listed, objects
//! fetched with bounded concurrency, handed to the pipeline as bytes.

use super::*;
use std::sync::Arc;

use crate::bounded::{for_each_bounded, try_for_each_bounded};
use chrono::{Datelike, NaiveDate};
use keywarden_aws::logs::{LogBucketRead, S3Object};
use keywarden_core::time::format_timestamp;
use std::fmt;

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
pub(super) enum Level {
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
pub(super) fn locate(prefix: &str) -> Option<(String, Level, String)> {
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

/// What a child folder of a `level` folder is, or `None` when the window or `--accounts`
/// excludes it.
fn child_level(
    level: Level,
    name: &str,
    days: &DayRange,
    accounts: &AccountFilter,
) -> Option<Level> {
    match level {
        Level::AwsLogs if name.starts_with("o-") => Some(Level::Org),
        Level::AwsLogs | Level::Org => accounts.keeps(name).then_some(Level::Account),
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
    is_log_name(name)
}

/// The objects to read under `location`: the AWSLogs day folders of the window (and of the
/// `--accounts`' folders) when the prefix reaches the layout and a window or `--accounts` is
/// set, everything under the prefix otherwise. `--accounts` on a prefix outside the layout, or
/// inside another account's folder, is an error. Sorted by key.
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
    let accounts = &options.accounts;
    let start = if options.window.is_open() && accounts.is_all() {
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
    if !accounts.is_all() {
        let invalid = |message: String| RemoteError::Invalid {
            origin: location.to_string(),
            message,
        };
        match &start {
            None => return Err(invalid(
                "--accounts reads CloudTrail's layout (AWSLogs/[o-ORG/]ACCOUNT/CloudTrail/...), \
                     and this prefix neither is in it nor holds AWSLogs/"
                    .to_owned(),
            )),
            // A prefix inside one account's folder: that account, or nothing.
            Some((folder, level, _)) if !matches!(level, Level::AwsLogs | Level::Org) => {
                let segments: Vec<&str> = folder.split('/').filter(|s| !s.is_empty()).collect();
                match layout_account(&segments) {
                    Some(account) if !accounts.keeps(account) => {
                        return Err(invalid(format!(
                            "the prefix is in account {account}'s folder, not one of --accounts"
                        )))
                    }
                    _ => {}
                }
            }
            Some(_) => {}
        }
    }
    match start {
        None => leaves.push(location.prefix.clone()),
        Some((folder, level, partial)) => {
            let days = delivery_days(&options.window);
            let mut frontier = vec![(folder, level, partial)];
            while !frontier.is_empty() {
                let mut to_list = Vec::new();
                for (folder, level, partial) in frontier {
                    if level == Level::Leaf {
                        leaves.push(format!("{folder}{partial}"));
                    } else {
                        to_list.push((format!("{folder}{partial}"), level));
                    }
                }
                listed += to_list.len();
                let mut next = Vec::new();
                try_for_each_bounded(
                    to_list,
                    options.concurrency,
                    |(prefix, level)| {
                        let client = Arc::clone(&client);
                        let bucket = bucket.to_owned();
                        async move { (level, client.list_folders(&bucket, &prefix).await) }
                    },
                    |(level, children)| {
                        for child in children.map_err(failed)? {
                            if let Some(child_level) =
                                child_level(level, folder_name(&child), &days, accounts)
                            {
                                next.push((child, child_level, String::new()));
                            }
                        }
                        Ok(())
                    },
                )
                .await?;
                next.sort_by(|a, b| a.0.cmp(&b.0));
                frontier = next;
            }
        }
    }

    leaves.sort();
    leaves.dedup();
    listed += leaves.len();
    let mut objects = Vec::new();
    try_for_each_bounded(
        leaves,
        options.concurrency,
        |leaf| {
            let client = Arc::clone(&client);
            let bucket = bucket.to_owned();
            async move { client.list_objects(&bucket, &leaf).await }
        },
        |listing| {
            objects.extend(listing.map_err(failed)?);
            Ok(())
        },
    )
    .await?;
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
                options.accounts.describe()
            } else {
                format!(
                    " in the day folders{}{}",
                    describe_window(&options.window),
                    options.accounts.describe()
                )
            },
        });
    }
    let mut summary = SourceSummary {
        source: location.to_string(),
        prefixes_listed: listed,
        ..SourceSummary::default()
    };
    let mut failures = Vec::new();
    for_each_bounded(
        objects,
        options.concurrency,
        |object| {
            let client = Arc::clone(&client);
            let sink = sink.clone();
            let bucket = location.bucket.clone();
            let origin = location.url(&object.key);
            async move {
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
            }
        },
        |fetched| match fetched {
            Ok(bytes) => {
                summary.units += 1;
                summary.bytes += bytes;
            }
            Err(failure) => failures.push(failure),
        },
    )
    .await;
    failures.sort_by(|a, b| a.origin.cmp(&b.origin));
    Ok((summary, failures))
}
