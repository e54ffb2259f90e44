//! `keywarden trail`'s sources, read into one analyzer. This file: the remote sources of one run
//! and what failures they report; [`local`] (files, folders, standard input), [`s3`] (log files
//! in a bucket), [`lookup`] (CloudTrail's event history), [`pipeline`] (the parallel parser
//! every source feeds) and [`run`] (one run of `trail`, `key` or `contain --trail`, from the
//! request to the analysis) hold the rest.
//!
//! Local sources: files, folders (walked), standard input; plain or gzipped, in any of the formats the core's reader detects. Files are parsed on every core;
//! one analyzer folds the events in, so lineage sees all files as one log.
//!
//! Memory stays flat as the input grows: each worker holds one chunk at a time (a CloudTrail
//! file, or 16 MiB of a larger input of any shape: the core's `stream` reader), events and bad
//! records go to the analyzer in batches of 1,024 through a bounded channel, and the analyzer
//! keeps lineage and findings, not events.
//!
//! An [`Inspector`] (`keywarden trail --sigma`: Sigma rules over each event's JSON) runs in the
//! workers too, on every record as it is read, so its cost is spread over the cores like the
//! parsing; its findings travel with their events to the analyzer's thread, which keeps those of
//! events inside `--since`/`--until` that are not repeats of an event already analyzed.
//!
//! Remote sources: CloudTrail log files in S3 (`s3://bucket/prefix`) and
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

pub mod local;
pub mod lookup;
pub mod pipeline;
pub mod run;
pub mod s3;

pub use local::*;
pub use lookup::*;
pub use pipeline::*;
pub use run::*;
pub use s3::*;

use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use std::sync::Arc;

use keywarden_aws::api::AwsError;
use keywarden_aws::logs::{EventHistoryRead, LogBucketRead};
use std::fmt;

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
    /// `--accounts`: the account folders of CloudTrail's layout to list.
    pub accounts: AccountFilter,
}

impl Default for RemoteOptions {
    fn default() -> Self {
        RemoteOptions {
            window: Window::default(),
            concurrency: 8,
            accounts: AccountFilter::default(),
        }
    }
}

/// `--accounts`: which account folders of CloudTrail's layout (`AWSLogs/ACCOUNT/...`, or an
/// organization trail's `AWSLogs/o-ORG/ACCOUNT/...`) a run reads. Empty: every account, and
/// sources outside the layout too; otherwise only files under those accounts' folders (a file
/// named on the command line is read whatever its path).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AccountFilter {
    /// Sorted, once each.
    accounts: Vec<String>,
}

impl AccountFilter {
    /// The filter keeping `accounts`, each 12 digits (an AWS account id).
    pub fn new(accounts: &[String]) -> Result<AccountFilter, String> {
        let mut kept = Vec::with_capacity(accounts.len());
        for account in accounts {
            let account = account.trim();
            if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
                return Err(format!(
                    "--accounts: `{account}` is not an AWS account id (12 digits)"
                ));
            }
            kept.push(account.to_owned());
        }
        kept.sort();
        kept.dedup();
        Ok(AccountFilter { accounts: kept })
    }

    /// No `--accounts`: everything is read.
    pub fn is_all(&self) -> bool {
        self.accounts.is_empty()
    }

    pub fn keeps(&self, account: &str) -> bool {
        self.is_all() || self.accounts.iter().any(|a| a == account)
    }

    /// `for accounts A, B` for messages; nothing when every account is read.
    pub fn describe(&self) -> String {
        if self.is_all() {
            String::new()
        } else {
            format!(" for accounts {}", self.accounts.join(", "))
        }
    }
}

/// The account folder of a path in CloudTrail's layout, from its segments: the one after the
/// last `AWSLogs`, or after `AWSLogs/o-ORG` for an organization trail. `None` outside the
/// layout, or when the path stops before the account's folder. (A file lying directly in
/// `AWSLogs/` names no account; its name, returned here, is not an account id a filter keeps.)
pub fn layout_account<'a>(segments: &[&'a str]) -> Option<&'a str> {
    let at = segments.iter().rposition(|s| *s == "AWSLogs")?;
    let mut rest = &segments[at + 1..];
    if rest.first().is_some_and(|s| s.starts_with("o-")) {
        rest = &rest[1..];
    }
    rest.first().copied()
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
mod tests;
