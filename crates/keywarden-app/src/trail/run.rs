//! One run of `keywarden trail`, `keywarden key` or `contain --trail`, from the sources named
//! to one analysis: the sources sorted into local and remote, files, folders and standard input
//! parsed first (a missing file fails before any AWS call), then S3 locations and LookupEvents
//! fetched on a tokio runtime through the live client and parsed as they arrive, into the same
//! analyzer; [`run_trail`] adds the inspector's (Sigma) findings and names the source,
//! [`run_key_trail`] asks LookupEvents, round after round, for the sessions a key minted,
//! [`run_contain_trail`] counts what those sessions did. What the run has to say on the way
//! goes to a [`TrailNote`] callback, in order; the binary words and prints it.

use super::*;
use keywarden_aws::live::{ConnectOptions, LiveClient, RequestCounter};
use keywarden_aws::logs::{LookupAttribute, LookupKey};
use keywarden_core::cloudtrail::analyzer::TrailOutcome;
use keywarden_core::cloudtrail::reader::{Limits, Record};
use keywarden_core::config::RuleSelection;
use keywarden_core::finding::Finding;
use keywarden_core::rules::RuleMeta;
use keywarden_core::Timestamp;
use keywarden_output::{DataSource, FindingsReport, Subject};
use std::collections::HashSet;
use std::path::PathBuf;

use crate::remediate::{trail_section, SessionUsage, TrailSection};

/// LookupEvents keeps this many days of history.
pub const LOOKUP_RETENTION_DAYS: i64 = 90;

/// What one run reads, and how.
#[derive(Debug, Clone)]
pub struct TrailRequest {
    /// Files, folders, `-` (standard input) and `s3://bucket/prefix` locations, as named.
    pub sources: Vec<PathBuf>,
    /// `--lookup`: CloudTrail's event history, one query per attribute (none: every
    /// management event).
    pub lookup: Option<Vec<LookupAttribute>>,
    /// The regions LookupEvents is asked in; none: the client's.
    pub regions: Vec<String>,
    pub connect: ConnectOptions,
    pub window: Window,
    pub parsing: Parsing,
    /// S3 calls in flight at once (at least one).
    pub concurrency: usize,
    /// `--accounts`: the account folders of CloudTrail's layout read (S3 prefixes listed,
    /// walked folders' files kept).
    pub accounts: AccountFilter,
}

impl TrailRequest {
    /// Whether any source is named at all.
    pub fn has_sources(&self) -> bool {
        !self.sources.is_empty() || self.lookup.is_some()
    }

    /// The sources as the output's data source names them.
    pub fn describe(&self) -> String {
        let mut names: Vec<String> = self
            .sources
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        if let Some(attributes) = &self.lookup {
            let regions = if self.regions.is_empty() {
                self.connect
                    .region
                    .clone()
                    .unwrap_or_else(|| "the configured region".into())
            } else {
                self.regions.join(",")
            };
            let attributes: Vec<String> = attributes.iter().map(|a| a.to_string()).collect();
            names.push(if attributes.is_empty() {
                format!("LookupEvents ({regions})")
            } else {
                format!("LookupEvents ({regions}; {})", attributes.join(", "))
            });
        }
        names.join(", ")
    }
}

/// What a run says on the way, in the order it happens.
#[derive(Debug)]
pub enum TrailNote<'a> {
    /// A FIFO, socket, device or broken link met in a folder, not read.
    Skipped(&'a keywarden_walk::Skipped),
    /// `--since` is older than LookupEvents' history, which starts at `oldest`.
    BeyondLookupRetention { oldest: Timestamp },
    /// One remote source read; `round` is `keywarden key`'s sessions round, if any.
    Source {
        summary: &'a SourceSummary,
        round: Option<usize>,
    },
    /// One object or page that could not be read.
    Failure(&'a RemoteFailure),
    /// `keywarden key`: a LookupEvents round for `keys` session keys minted from `key_id`.
    SessionRound {
        keys: usize,
        key_id: &'a str,
        round: usize,
    },
    /// The run is over and made AWS requests: these.
    Requests(&'a RequestCounter),
}

/// A run that could not read its sources.
#[derive(Debug, thiserror::Error)]
pub enum TrailError {
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error("no CloudTrail records found in {}: no .json, .jsonl, .ndjson or .log file (gzipped or not) under it", .0.display())]
    EmptyFolder(PathBuf),
    #[error("no CloudTrail log file{accounts} under {}: --accounts keeps the files under AWSLogs/[o-ORG/]ACCOUNT/ of CloudTrail's layout", .folder.display())]
    NoAccountFolder { folder: PathBuf, accounts: String },
    #[error("cannot start the async runtime")]
    Runtime(#[source] std::io::Error),
    #[error(transparent)]
    Remote(#[from] RemoteError),
    #[error(transparent)]
    Connect(keywarden_aws::live::ConnectError),
}

/// The reading of one run: the request, and the AWS client and runtime once a remote source
/// needs them, kept for a later [`TrailReader::lookup`] round, whose calls keep the pace of the
/// earlier ones.
struct TrailReader<'r, 'n> {
    request: &'r TrailRequest,
    notes: &'n mut dyn FnMut(TrailNote<'_>),
    aws: Option<Aws>,
}

struct Aws {
    runtime: tokio::runtime::Runtime,
    client: Arc<LiveClient>,
    /// The regions --lookup queries.
    regions: Vec<String>,
    pacer: LookupPacer,
}

impl<'r, 'n> TrailReader<'r, 'n> {
    fn new(request: &'r TrailRequest, notes: &'n mut dyn FnMut(TrailNote<'_>)) -> Self {
        TrailReader {
            request,
            notes,
            aws: None,
        }
    }

    /// Reads every source of the request into `analyzer`, with `inspector` run on every
    /// record, local or remote; its findings are in the report's `findings`.
    fn read_all(
        &mut self,
        analyzer: &mut TrailAnalyzer,
        inspector: Option<Inspector<'_>>,
    ) -> Result<ReadReport, TrailError> {
        let request = self.request;
        let mut local: Vec<PathBuf> = Vec::new();
        let mut s3 = Vec::new();
        for source in &request.sources {
            match source.to_str().and_then(S3Location::parse) {
                Some(Ok(location)) => s3.push(location),
                Some(Err(message)) => return Err(TrailError::Invalid(message)),
                None => local.push(source.clone()),
            }
        }
        let units = self.expand_each(&local)?;
        let mut report = analyze_units_inspecting(units, request.parsing, analyzer, inspector);
        if s3.is_empty() && request.lookup.is_none() {
            return Ok(report);
        }
        if request.lookup.is_some() {
            self.note_lookup_window();
        }
        let reading = self.read_remote(s3, request.lookup.clone(), analyzer, inspector, None)?;
        merge(&mut report, reading);
        Ok(report)
    }

    /// One more LookupEvents round in the regions of the request, one query per attribute,
    /// spaced from the calls before it.
    fn lookup(
        &mut self,
        attributes: Vec<LookupAttribute>,
        analyzer: &mut TrailAnalyzer,
        round: usize,
    ) -> Result<ReadReport, TrailError> {
        self.read_remote(Vec::new(), Some(attributes), analyzer, None, Some(round))
    }

    /// The AWS requests of the whole run, if it made any.
    fn finish(self) {
        if let Some(aws) = &self.aws {
            (self.notes)(TrailNote::Requests(aws.client.requests()));
        }
    }

    /// The files of each local source, in order. A folder with no log file under it is an
    /// error, as an S3 prefix without log objects is: a run that read nothing must not look
    /// clean.
    fn expand_each(&mut self, paths: &[PathBuf]) -> Result<Vec<Unit>, TrailError> {
        let mut units = Vec::new();
        for path in paths {
            let expanded = expand_accounts(std::slice::from_ref(path), &self.request.accounts)?;
            for skipped in &expanded.skipped {
                (self.notes)(TrailNote::Skipped(skipped));
            }
            let found = expanded.units;
            if found.is_empty() && path.is_dir() {
                if !self.request.accounts.is_all() {
                    return Err(TrailError::NoAccountFolder {
                        folder: path.clone(),
                        accounts: self.request.accounts.describe(),
                    });
                }
                return Err(TrailError::EmptyFolder(path.clone()));
            }
            units.extend(found);
        }
        Ok(units)
    }

    /// LookupEvents cannot reach past 90 days: say so rather than let an old --since look
    /// covered.
    fn note_lookup_window(&mut self) {
        let oldest = chrono::Utc::now() - chrono::Duration::days(LOOKUP_RETENTION_DAYS);
        if self.request.window.since.is_some_and(|s| s < oldest) {
            (self.notes)(TrailNote::BeyondLookupRetention { oldest });
        }
    }

    fn aws(&mut self) -> Result<&Aws, TrailError> {
        if self.aws.is_none() {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .map_err(TrailError::Runtime)?;
            let client = Arc::new(
                runtime
                    .block_on(LiveClient::connect(&self.request.connect))
                    .map_err(TrailError::Connect)?,
            );
            let regions = if self.request.regions.is_empty() {
                vec![client.region().to_owned()]
            } else {
                self.request.regions.clone()
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
        round: Option<usize>,
    ) -> Result<ReadReport, TrailError> {
        let request = self.request;
        let options = RemoteOptions {
            window: request.window,
            concurrency: request.concurrency.max(1),
            accounts: request.accounts.clone(),
        };
        let aws = self.aws()?;
        let lookup = lookup.map(|attributes| {
            let mut plan = LookupPlan::new(aws.regions.clone(), attributes, request.window);
            plan.pacer = aws.pacer.clone();
            plan
        });
        let reading = read_remote(
            aws.runtime.handle(),
            Arc::clone(&aws.client),
            RemoteSources { s3, lookup },
            options,
            request.parsing,
            analyzer,
            inspector,
        )?;
        for summary in &reading.summaries {
            (self.notes)(TrailNote::Source { summary, round });
        }
        for failure in &reading.failures {
            (self.notes)(TrailNote::Failure(failure));
        }
        Ok(reading.report)
    }
}

/// An analyzer for the request's window.
fn analyzer(request: &TrailRequest, selection: &RuleSelection) -> TrailAnalyzer {
    TrailAnalyzer::new(selection).with_window(request.window.since, request.window.until)
}

/// Rules run over every record besides the analyzer's detections (`trail --sigma`).
pub struct Inspection<'i> {
    pub inspector: Inspector<'i>,
    /// Listed among the rules that ran.
    pub rules: Vec<&'static RuleMeta>,
}

/// A trail run's findings, ready to print as an audit's.
#[derive(Debug)]
pub struct TrailFindings {
    /// The analysis, the inspection's findings merged into its own.
    pub outcome: TrailOutcome,
    /// The reading's counts and bad records (its findings are in `outcome`'s).
    pub read: ReadReport,
    /// The detections, then the inspection's rules.
    pub rules_run: Vec<&'static RuleMeta>,
    pub source: DataSource,
}

impl TrailFindings {
    /// The findings report, its ages measured from `now`.
    pub fn report(&self, now: Timestamp, preset: &'static str) -> FindingsReport<'_> {
        FindingsReport {
            findings: &self.outcome.findings,
            rules_run: &self.rules_run,
            now,
            subject: Subject::Events {
                analysed: self.outcome.stats.analysed,
                bad_records: self.outcome.stats.bad_records,
            },
            source: self.source.clone(),
            preset,
            tool_version: env!("CARGO_PKG_VERSION"),
            org: None,
        }
    }
}

/// `keywarden trail`: every source of `request` read into one analysis with the `selection`'s
/// detections, and `inspection`'s rules run over every record; their findings in one list.
pub fn run_trail(
    request: &TrailRequest,
    selection: &RuleSelection,
    inspection: Option<Inspection<'_>>,
    notes: &mut dyn FnMut(TrailNote<'_>),
) -> Result<TrailFindings, TrailError> {
    let mut analyzer = analyzer(request, selection);
    let mut reader = TrailReader::new(request, notes);
    let read = reader.read_all(&mut analyzer, inspection.as_ref().map(|i| i.inspector));
    reader.finish();
    let mut read = read?;
    let mut outcome = analyzer.finish();
    let mut rules_run = std::mem::take(&mut outcome.detections_run);
    if let Some(inspection) = inspection {
        outcome.add_inspected(std::mem::take(&mut read.findings));
        rules_run.extend(inspection.rules);
    }
    let source = DataSource {
        kind: "cloudtrail",
        location: request.describe(),
        as_of: outcome.stats.latest_event,
        as_of_basis: "the latest eventTime read".into(),
    };
    Ok(TrailFindings {
        outcome,
        read,
        rules_run,
        source,
    })
}

/// `keywarden key`'s reading.
#[derive(Debug)]
pub struct KeyTrail {
    pub outcome: TrailOutcome,
    pub read: ReadReport,
    /// Session keys minted from the key that were not looked up (`max_sessions`).
    pub left_out: usize,
}

/// `keywarden key`: the request's sources, then, with --lookup, the uses of the sessions the
/// key minted, one LookupEvents round per generation of role chaining, at most `max_sessions`
/// keys in all. With --lookup the key's own events are asked for first, whatever else was:
/// LookupEvents takes one attribute per call, so this is one more query. A session signs with
/// its own key, so no query about the long-term key returns its uses.
pub fn run_key_trail(
    mut request: TrailRequest,
    key_id: &str,
    max_sessions: usize,
    notes: &mut dyn FnMut(TrailNote<'_>),
) -> Result<KeyTrail, TrailError> {
    if let Some(attributes) = &mut request.lookup {
        let own = key_attribute(key_id.to_owned());
        attributes.retain(|a| *a != own);
        attributes.insert(0, own);
    }
    let mut analyzer = analyzer(&request, &RuleSelection::default());
    let mut reader = TrailReader::new(&request, notes);
    let read = read_key_rounds(&mut reader, &mut analyzer, key_id, max_sessions);
    reader.finish();
    let (read, left_out) = read?;
    Ok(KeyTrail {
        outcome: analyzer.finish(),
        read,
        left_out,
    })
}

fn key_attribute(value: String) -> LookupAttribute {
    LookupAttribute {
        key: LookupKey::AccessKeyId,
        value,
    }
}

/// The rounds of [`run_key_trail`]: returns the reading and how many sessions were left out.
fn read_key_rounds(
    reader: &mut TrailReader<'_, '_>,
    analyzer: &mut TrailAnalyzer,
    key_id: &str,
    max_sessions: usize,
) -> Result<(ReadReport, usize), TrailError> {
    let mut report = reader.read_all(analyzer, None)?;
    if reader.request.lookup.is_none() {
        return Ok((report, 0));
    }
    let mut asked: HashSet<String> = HashSet::new();
    for round in 1.. {
        let new: Vec<String> = analyzer
            .lineage()
            .sessions_of(key_id)
            .into_iter()
            .map(|s| s.key_id.clone())
            .filter(|k| !asked.contains(k))
            .collect();
        let room = max_sessions.saturating_sub(asked.len());
        if new.is_empty() || room == 0 {
            return Ok((report, new.len()));
        }
        let batch: Vec<String> = new.into_iter().take(room).collect();
        (reader.notes)(TrailNote::SessionRound {
            keys: batch.len(),
            key_id,
            round,
        });
        asked.extend(batch.iter().cloned());
        let attributes = batch.into_iter().map(key_attribute).collect();
        let more = reader.lookup(attributes, analyzer, round)?;
        merge(&mut report, more);
    }
    unreachable!("the rounds end when no session is left")
}

/// `contain --trail`'s reading: the section of the incident report (what the sessions minted
/// from `key_id` did), and the reading's report or why it failed (the section records it).
pub fn run_contain_trail(
    request: &TrailRequest,
    key_id: &str,
    notes: &mut dyn FnMut(TrailNote<'_>),
) -> (TrailSection, Result<ReadReport, TrailError>) {
    let mut analyzer = analyzer(request, &RuleSelection::default());
    let usage = SessionUsage::default();
    let inspect = |record: &Record<'_>, _: &mut Vec<Finding>| usage.observe(&record.event);
    let inspector: Inspector<'_> = &inspect;
    let mut reader = TrailReader::new(request, notes);
    let read = reader.read_all(&mut analyzer, Some(inspector));
    reader.finish();
    let outcome = analyzer.finish();
    let section = trail_section(
        &outcome.lineage,
        &usage,
        key_id,
        request.describe(),
        outcome.stats.events,
        outcome.stats.bad_records,
    );
    (section, read)
}

/// How the sources' bytes are parsed: `threads` workers (default: the number of cores), and
/// events up to `max_event_bytes`.
pub fn parsing(threads: Option<usize>, max_event_bytes: usize) -> Parsing {
    Parsing {
        threads: threads
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())),
        limits: Limits { max_event_bytes },
    }
}
