//! The sources of `keywarden trail` and `keywarden key`, local and remote: files, folders and
//! standard input are parsed first (a missing file fails before any AWS call), then S3 locations
//! and LookupEvents are fetched on a tokio runtime through the live client and parsed as they
//! arrive, into the same analyzer.

use crate::audit_cmd::resolve_now;
use crate::cli::TrailSourceArgs;
use crate::live_cmd::print_stats;
use anyhow::{bail, Context, Result};
use keywarden_app::trail::{analyze_units_inspecting, expand, Inspector, ReadReport};
use keywarden_app::trail_remote::{
    merge, read_remote, LookupPlan, RemoteOptions, RemoteSources, S3Location, Window,
};
use keywarden_aws::live::{ConnectOptions, LiveClient};
use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::time::format_timestamp;
use keywarden_core::Timestamp;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;

/// LookupEvents keeps this many days of history.
const LOOKUP_RETENTION_DAYS: i64 = 90;

/// Whether the command line names any source at all.
pub fn has_sources(input: &TrailSourceArgs) -> bool {
    !input.sources.is_empty() || input.remote.lookup
}

/// The sources as the output's data source names them.
pub fn describe_sources(input: &TrailSourceArgs) -> String {
    let mut names: Vec<String> = input
        .sources
        .iter()
        .map(|p| p.display().to_string())
        .collect();
    if input.remote.lookup {
        let regions = if input.remote.regions.is_empty() {
            input
                .remote
                .region
                .clone()
                .unwrap_or_else(|| "the configured region".into())
        } else {
            input.remote.regions.join(",")
        };
        let attributes: Vec<String> = input
            .remote
            .lookup_attributes
            .iter()
            .map(|a| a.to_string())
            .collect();
        names.push(if attributes.is_empty() {
            format!("LookupEvents ({regions})")
        } else {
            format!("LookupEvents ({regions}; {})", attributes.join(", "))
        });
    }
    names.join(", ")
}

/// Reads every source into `analyzer`.
pub fn read_all(
    input: &TrailSourceArgs,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    threads: usize,
    analyzer: &mut TrailAnalyzer,
) -> Result<ReadReport> {
    read_all_inspecting(input, since, until, threads, analyzer, None)
}

/// [`read_all`] with `inspector` (Sigma rules) run on every record, local or remote; its
/// findings are in the report's `findings`.
pub fn read_all_inspecting(
    input: &TrailSourceArgs,
    since: Option<Timestamp>,
    until: Option<Timestamp>,
    threads: usize,
    analyzer: &mut TrailAnalyzer,
    inspector: Option<Inspector<'_>>,
) -> Result<ReadReport> {
    let mut local: Vec<PathBuf> = Vec::new();
    let mut s3 = Vec::new();
    for source in &input.sources {
        match source.to_str().and_then(S3Location::parse) {
            Some(Ok(location)) => s3.push(location),
            Some(Err(message)) => bail!("{message}"),
            None => local.push(source.clone()),
        }
    }
    let units = expand(&local)?;
    let mut report = analyze_units_inspecting(units, threads, analyzer, inspector);
    if s3.is_empty() && !input.remote.lookup {
        return Ok(report);
    }

    let remote = &input.remote;
    let window = Window { since, until };
    if remote.lookup {
        note_lookup_window(since);
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let connect = ConnectOptions {
        profile: remote.profile.clone(),
        region: remote.region.clone(),
        endpoint_url: remote.endpoint_url.clone(),
        max_attempts: remote.max_attempts,
    };
    let client = Arc::new(runtime.block_on(LiveClient::connect(&connect)));
    let lookup = remote.lookup.then(|| {
        let regions = if remote.regions.is_empty() {
            vec![client.region().to_owned()]
        } else {
            remote.regions.clone()
        };
        LookupPlan::new(regions, remote.lookup_attributes.clone(), window)
    });
    let options = RemoteOptions {
        window,
        concurrency: remote.concurrency.max(1),
    };
    let reading = read_remote(
        runtime.handle(),
        Arc::clone(&client),
        RemoteSources { s3, lookup },
        options,
        threads,
        analyzer,
        inspector,
    );
    if remote.stats {
        print_stats(&client);
    }
    let reading = reading?;
    let mut err = std::io::stderr().lock();
    for summary in &reading.summaries {
        let line = if summary.source.starts_with("s3://") {
            format!(
                "{}: {} objects, {} bytes ({} prefixes listed)",
                summary.source, summary.units, summary.bytes, summary.prefixes_listed
            )
        } else {
            format!(
                "{}: {} events in {} pages{}",
                summary.source,
                summary.events,
                summary.units,
                if summary.without_record > 0 {
                    format!(
                        ", {} without their CloudTrail record (not analysed)",
                        summary.without_record
                    )
                } else {
                    String::new()
                }
            )
        };
        let _ = writeln!(err, "keywarden: {line}");
    }
    for failure in &reading.failures {
        let _ = writeln!(err, "keywarden: error: {failure}");
    }
    merge(&mut report, reading.report);
    Ok(report)
}

/// LookupEvents cannot reach past 90 days: say so rather than let an old --since look covered.
fn note_lookup_window(since: Option<Timestamp>) {
    let Ok(now) = resolve_now(None) else {
        return;
    };
    let oldest = now - chrono::Duration::days(LOOKUP_RETENTION_DAYS);
    if since.is_some_and(|s| s < oldest) {
        eprintln!(
            "keywarden: note: LookupEvents keeps {LOOKUP_RETENTION_DAYS} days of events: nothing before {} comes back",
            format_timestamp(oldest)
        );
    }
}
