//! `keywarden trail` and `keywarden key`: read CloudTrail sources through the application
//! layer, print detections with the audit's printers, or one key's timeline.
//!
//! `trail --sigma DIR` loads the Sigma rules once (keywarden-sigma), runs them in the parsing
//! workers over each event's JSON (from files, standard input, S3 objects or LookupEvents pages
//! alike), and adds their matches to the detections' findings. A rule that cannot be loaded is
//! named on standard error and makes the exit status 2 once the others have run and printed:
//! like a bad record, it means the run did not do all it was asked.
//!
//! `key --lookup` always asks for the key's own events (AccessKeyId=<key>), then, round after
//! round, for those of the temporary keys it minted (directly, then by role chaining): a
//! session signs with its own key, so no query about the long-term key returns its uses.

use crate::audit_cmd::{print_findings, resolve_now};
use crate::cli::{KeyArgs, RulesFormat, TrailArgs, TrailSourceArgs};
use crate::Exit;
use anyhow::{anyhow, bail, Result};
use keywarden_app::trail::merge;
use keywarden_app::trail::{Inspector, ReadReport};
use keywarden_aws::logs::{LookupAttribute, LookupKey};
use keywarden_core::cloudtrail::analyzer::{TrailAnalyzer, TrailOutcome, Window};
use keywarden_core::cloudtrail::reader::Record;
use keywarden_core::config::{AuditConfig, RuleSelection};
use keywarden_core::finding::Finding;
use keywarden_core::time::parse_timestamp;
use keywarden_output::key::KeyTimeline;
use keywarden_output::{DataSource, DocumentFormat, FindingsReport, Subject};
use keywarden_sigma::SigmaRules;
use std::collections::HashSet;
use std::io::Write;

pub(crate) mod remote;

/// How many bad records are echoed to standard error; all are counted.
const BAD_RECORDS_SHOWN: usize = 20;

/// The window and parallelism of a run, from the command line.
fn reading_options(input: &TrailSourceArgs) -> Result<(Window, usize)> {
    if !remote::has_sources(input) {
        bail!("no CloudTrail source: name files, folders, `-` for standard input, s3://bucket/prefix, or --lookup");
    }
    let time = |flag: &str, value: &Option<String>| -> Result<_> {
        value
            .as_deref()
            .map(|t| {
                parse_timestamp(t).ok_or_else(|| anyhow!("{flag}: `{t}` is not an RFC 3339 time"))
            })
            .transpose()
    };
    let window = Window {
        since: time("--since", &input.since)?,
        until: time("--until", &input.until)?,
    };
    let threads = input
        .threads
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    Ok((window, threads))
}

/// Reads every source of `input` into a new analyzer, with the Sigma rules, if any, run over
/// every record (local or remote).
fn read_sources(
    input: &TrailSourceArgs,
    selection: &RuleSelection,
    sigma: Option<&SigmaRules>,
) -> Result<(TrailOutcome, ReadReport)> {
    let (window, threads) = reading_options(input)?;
    let mut analyzer = TrailAnalyzer::new(selection).with_window(window.since, window.until);
    let inspect = |record: &Record<'_>, out: &mut Vec<Finding>| {
        if let Some(rules) = sigma {
            rules.check(record, out);
        }
    };
    let inspector: Option<Inspector<'_>> = sigma.is_some().then_some(&inspect);
    let mut sources = remote::Sources::new(input, window, threads);
    let report = sources.read_all(&mut analyzer, inspector);
    sources.print_stats();
    let report = report?;
    let outcome = analyzer.finish();
    print_summary(&outcome, &report);
    Ok((outcome, report))
}

/// The bad records (the first ones) and the counts, on standard error.
fn print_summary(outcome: &TrailOutcome, report: &ReadReport) {
    for record in report.bad_records.iter().take(BAD_RECORDS_SHOWN) {
        diag!("keywarden: skipped bad record: {record}");
    }
    let stats = outcome.stats;
    diag!(
        "keywarden: {} source(s), {} events ({} duplicates skipped{}), {} bad records",
        report.units_read,
        stats.events,
        stats.duplicates,
        if stats.outside_window > 0 {
            format!(", {} outside --since/--until", stats.outside_window)
        } else {
            String::new()
        },
        stats.bad_records
    );
}

pub fn run_trail(args: TrailArgs) -> Result<Exit> {
    let now = resolve_now(args.output.now.as_deref())?;
    let selection = RuleSelection {
        select: args.select.clone(),
        ignore: args.ignore.clone(),
    };
    let config = keywarden_core::config::layer(None, None, &Default::default(), &selection)?;
    let sigma = match &args.sigma {
        Some(dir) => Some(load_sigma(dir)?),
        None => None,
    };
    let (mut outcome, report) =
        read_sources(&args.input, &selection, sigma.as_ref().map(|s| &s.0))?;
    let mut rules_run = std::mem::take(&mut outcome.detections_run);
    let mut sigma_incomplete = false;
    if let Some((rules, not_loaded)) = &sigma {
        outcome.add_inspected(report.findings);
        rules_run.extend(rules.metas());
        sigma_incomplete = *not_loaded > 0;
    }
    let bad = outcome.stats.bad_records;
    let source = DataSource {
        kind: "cloudtrail",
        location: remote::describe_sources(&args.input),
        as_of: outcome.stats.latest_event,
        as_of_basis: "the latest eventTime read".into(),
    };
    let report = FindingsReport {
        findings: &outcome.findings,
        rules_run: &rules_run,
        now,
        subject: Subject::Events,
        source,
        preset: config.preset.name(),
        tool_version: env!("CARGO_PKG_VERSION"),
    };
    let exit = print_findings(&report, args.output.format)?;
    // Bad records mean some of the logs were not read, and Sigma rules that could not be loaded
    // did not run: either way the run is incomplete.
    Ok(if bad > 0 || sigma_incomplete {
        Exit::ErrorOrIncomplete
    } else {
        exit
    })
}

/// Loads the Sigma rules of `--sigma DIR` and reports on standard error the rules that cannot be
/// loaded, by file and reason. Returns the rules and how many were not loaded.
fn load_sigma(dir: &std::path::Path) -> Result<(SigmaRules, usize)> {
    let loaded = keywarden_sigma::load_dir(dir).map_err(|e| anyhow!("--sigma: {e}"))?;
    if loaded.files == 0 {
        bail!(
            "--sigma: no Sigma rule files (*.yml, *.yaml) under {}",
            dir.display()
        );
    }
    for skipped in &loaded.skipped {
        diag!("keywarden: warning: --sigma: {skipped}");
    }
    for rule in &loaded.not_loaded {
        diag!("keywarden: sigma rule not loaded: {rule}");
    }
    diag!(
        "keywarden: sigma: {} rule(s) loaded from {}, {} not loaded{} ({})",
        loaded.rules.len(),
        dir.display(),
        loaded.not_loaded.len(),
        if loaded.other_log_source.is_empty() {
            String::new()
        } else {
            format!(
                ", {} for other log sources skipped",
                loaded.other_log_source.len()
            )
        },
        keywarden_sigma::ENGINE,
    );
    Ok((loaded.rules, loaded.not_loaded.len()))
}

/// `key`'s sources: the command line's, then, with --lookup, the uses of the sessions the key
/// minted, one LookupEvents round per generation of role chaining, at most `max_sessions` keys
/// in all. Returns the outcome and how many sessions were left out by that bound.
fn read_key_sources(
    input: &TrailSourceArgs,
    key_id: &str,
    max_sessions: usize,
) -> Result<(TrailOutcome, usize)> {
    let (window, threads) = reading_options(input)?;
    let selection = AuditConfig::default().selection;
    let mut analyzer = TrailAnalyzer::new(&selection).with_window(window.since, window.until);
    let lookup = input.remote.lookup;
    let mut sources = remote::Sources::new(input, window, threads);
    let mut read = || -> Result<(ReadReport, usize)> {
        let mut report = sources.read_all(&mut analyzer, None)?;
        if !lookup {
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
            diag!(
                "keywarden: LookupEvents for the {} session key(s) minted from {key_id}{} (round {round})",
                batch.len(),
                if round > 1 { " by role chaining" } else { "" }
            );
            asked.extend(batch.iter().cloned());
            let attributes = batch
                .into_iter()
                .map(|value| LookupAttribute {
                    key: LookupKey::AccessKeyId,
                    value,
                })
                .collect();
            let label = format!(" (sessions, round {round})");
            let more = sources.lookup(attributes, &mut analyzer, None, &label)?;
            merge(&mut report, more);
        }
        unreachable!("the rounds end when no session is left")
    };
    let result = read();
    sources.print_stats();
    let (report, left_out) = result?;
    let outcome = analyzer.finish();
    print_summary(&outcome, &report);
    if left_out > 0 {
        diag!(
            "keywarden: error: {left_out} more session key(s) minted from {key_id} were not looked up (--max-session-lookups {max_sessions}): their uses are missing"
        );
    }
    Ok((outcome, left_out))
}

pub fn run_key(mut args: KeyArgs) -> Result<Exit> {
    let key_id = args.key_id.trim().to_owned();
    let remote = &mut args.input.remote;
    if remote.lookup {
        // The key's own events, whatever else was asked: LookupEvents takes one attribute per
        // call, so this is one more query, first.
        let own = LookupAttribute {
            key: LookupKey::AccessKeyId,
            value: key_id.clone(),
        };
        remote.lookup_attributes.retain(|a| *a != own);
        remote.lookup_attributes.insert(0, own);
    }
    let (outcome, left_out) = read_key_sources(&args.input, &key_id, args.max_session_lookups)?;
    let format = match args.format {
        RulesFormat::Json => DocumentFormat::Json,
        RulesFormat::Table => DocumentFormat::Table,
    };
    let mut out = std::io::stdout().lock();
    KeyTimeline::of(&key_id, &outcome.lineage).print(format, &mut out)?;
    out.flush()?;
    Ok(if outcome.stats.bad_records > 0 || left_out > 0 {
        Exit::ErrorOrIncomplete
    } else {
        Exit::Clean
    })
}
