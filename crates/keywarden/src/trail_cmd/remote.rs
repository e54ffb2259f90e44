//! The sources of `keywarden trail` and `keywarden key`, local and remote: files, folders and
//! standard input are parsed first (a missing file fails before any AWS call), then S3 locations
//! and LookupEvents are fetched on a tokio runtime through the live client and parsed as they
//! arrive, into the same analyzer. The runtime and client are kept for `keywarden key`'s later
//! LookupEvents rounds (the sessions a key minted).

use crate::audit_cmd::resolve_now;
use crate::cli::TrailSourceArgs;
use crate::live_cmd::print_stats;
use anyhow::{bail, Context, Result};
use keywarden_app::trail::{
    analyze_units_inspecting, expand, Inspector, Parsing, ReadReport, Unit,
};
use keywarden_app::trail::{
    merge, read_remote, LookupPacer, LookupPlan, RemoteOptions, RemoteSources, S3Location, Window,
};
use keywarden_aws::live::LiveClient;
use keywarden_aws::logs::LookupAttribute;
use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::cloudtrail::reader::Limits;
use keywarden_core::time::format_timestamp;
use keywarden_core::Timestamp;
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
                .connect
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

/// The sources of one run, and the AWS client and runtime once a remote source needs them:
/// kept for a later [`Sources::lookup`] round, whose calls keep the pace of the earlier ones.
pub struct Sources<'a> {
    input: &'a TrailSourceArgs,
    window: Window,
    threads: usize,
    aws: Option<Aws>,
}

struct Aws {
    runtime: tokio::runtime::Runtime,
    client: Arc<LiveClient>,
    /// The regions --lookup queries.
    regions: Vec<String>,
    pacer: LookupPacer,
}

impl<'a> Sources<'a> {
    pub fn new(input: &'a TrailSourceArgs, window: Window, threads: usize) -> Self {
        Sources {
            input,
            window,
            threads,
            aws: None,
        }
    }

    /// Reads every source of the command line into `analyzer`, with `inspector` (Sigma rules)
    /// run on every record, local or remote; its findings are in the report's `findings`.
    pub fn read_all(
        &mut self,
        analyzer: &mut TrailAnalyzer,
        inspector: Option<Inspector<'_>>,
    ) -> Result<ReadReport> {
        let input = self.input;
        let mut local: Vec<PathBuf> = Vec::new();
        let mut s3 = Vec::new();
        for source in &input.sources {
            match source.to_str().and_then(S3Location::parse) {
                Some(Ok(location)) => s3.push(location),
                Some(Err(message)) => bail!("{message}"),
                None => local.push(source.clone()),
            }
        }
        let units = expand_each(&local)?;
        let mut report = analyze_units_inspecting(units, self.parsing(), analyzer, inspector);
        if s3.is_empty() && !input.remote.lookup {
            return Ok(report);
        }
        if input.remote.lookup {
            note_lookup_window(self.window.since);
        }
        let lookup = input
            .remote
            .lookup
            .then(|| input.remote.lookup_attributes.clone());
        let reading = self.read_remote(s3, lookup, analyzer, inspector, "")?;
        merge(&mut report, reading);
        Ok(report)
    }

    /// One more LookupEvents round in the regions of the command line, one query per attribute,
    /// spaced from the calls before it. `label` ends each region's summary line.
    pub fn lookup(
        &mut self,
        attributes: Vec<LookupAttribute>,
        analyzer: &mut TrailAnalyzer,
        inspector: Option<Inspector<'_>>,
        label: &str,
    ) -> Result<ReadReport> {
        self.read_remote(Vec::new(), Some(attributes), analyzer, inspector, label)
    }

    /// How the sources' bytes are parsed: the workers, and the limits of the command line.
    fn parsing(&self) -> Parsing {
        Parsing {
            threads: self.threads,
            limits: Limits {
                max_event_bytes: self.input.max_event_size,
            },
        }
    }

    /// `--stats`: the AWS requests of the whole run, if it made any.
    pub fn print_stats(&self) {
        if let (true, Some(aws)) = (self.input.remote.stats, &self.aws) {
            print_stats(&aws.client);
        }
    }

    fn aws(&mut self) -> Result<&Aws> {
        if self.aws.is_none() {
            let remote = &self.input.remote;
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .context("cannot start the async runtime")?;
            let connect = remote.connect.options();
            let client = Arc::new(runtime.block_on(LiveClient::connect(&connect)));
            let regions = if remote.regions.is_empty() {
                vec![client.region().to_owned()]
            } else {
                remote.regions.clone()
            };
            self.aws = Some(Aws {
                runtime,
                client,
                regions,
                pacer: LookupPacer::default(),
            });
        }
        Ok(self.aws.as_ref().expect("set above"))
    }

    fn read_remote(
        &mut self,
        s3: Vec<S3Location>,
        lookup: Option<Vec<LookupAttribute>>,
        analyzer: &mut TrailAnalyzer,
        inspector: Option<Inspector<'_>>,
        label: &str,
    ) -> Result<ReadReport> {
        let (window, parsing, concurrency) = (
            self.window,
            self.parsing(),
            self.input.remote.concurrency.max(1),
        );
        let aws = self.aws()?;
        let lookup = lookup.map(|attributes| {
            let mut plan = LookupPlan::new(aws.regions.clone(), attributes, window);
            plan.pacer = aws.pacer.clone();
            plan
        });
        let reading = read_remote(
            aws.runtime.handle(),
            Arc::clone(&aws.client),
            RemoteSources { s3, lookup },
            RemoteOptions {
                window,
                concurrency,
            },
            parsing,
            analyzer,
            inspector,
        )?;
        for summary in &reading.summaries {
            let line = if summary.source.starts_with("s3://") {
                format!(
                    "{}: {} objects, {} bytes ({} prefixes listed)",
                    summary.source, summary.units, summary.bytes, summary.prefixes_listed
                )
            } else {
                format!(
                    "{}: {} events in {} pages{}{label}",
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
            diag!("keywarden: {line}");
        }
        for failure in &reading.failures {
            diag!("keywarden: error: {failure}");
        }
        Ok(reading.report)
    }
}

/// The files of each local source, in order. A folder with no log file under it is an error,
/// as an S3 prefix without log objects is: a run that read nothing must not look clean.
fn expand_each(paths: &[PathBuf]) -> Result<Vec<Unit>> {
    let mut units = Vec::new();
    for path in paths {
        let expanded = expand(std::slice::from_ref(path))?;
        for skipped in &expanded.skipped {
            diag!("keywarden: warning: {skipped}");
        }
        let found = expanded.units;
        if found.is_empty() && path.is_dir() {
            bail!(
                "no CloudTrail records found in {}: no .json, .jsonl, .ndjson or .log file (gzipped or not) under it",
                path.display()
            );
        }
        units.extend(found);
    }
    Ok(units)
}

/// LookupEvents cannot reach past 90 days: say so rather than let an old --since look covered.
fn note_lookup_window(since: Option<Timestamp>) {
    let Ok(now) = resolve_now(None) else {
        return;
    };
    let oldest = now - chrono::Duration::days(LOOKUP_RETENTION_DAYS);
    if since.is_some_and(|s| s < oldest) {
        diag!(
            "keywarden: note: LookupEvents keeps {LOOKUP_RETENTION_DAYS} days of events: nothing before {} comes back",
            format_timestamp(oldest)
        );
    }
}
