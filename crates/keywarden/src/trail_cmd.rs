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

use crate::audit_cmd::{parse_time_flag, print_findings_with, resolve_now};
use crate::cli::{Destination, KeyArgs, RulesFormat, TrailArgs, TrailSourceArgs};
use crate::live_cmd::print_requests;
use crate::Exit;
use anyhow::{anyhow, bail, Result};
use keywarden_app::trail::{
    parsing, run_key_trail, run_trail as read_trail, AccountFilter, Inspection, ReadReport,
    TrailNote, TrailRequest, Window,
};
use keywarden_core::cloudtrail::analyzer::TrailOutcome;
use keywarden_core::cloudtrail::reader::Record;
use keywarden_core::config::RuleSelection;
use keywarden_core::finding::Finding;
use keywarden_output::asff::AsffTarget;
use keywarden_output::key::KeyTimeline;
use keywarden_output::table_time;
use keywarden_output::DocumentFormat;
use keywarden_sigma::SigmaRules;
use std::io::Write;

/// How many bad records are echoed to standard error; all are counted.
pub(crate) const BAD_RECORDS_SHOWN: usize = 20;

/// The request the command line makes: its sources, window and parallelism.
fn request(input: &TrailSourceArgs) -> Result<TrailRequest> {
    let remote = &input.remote;
    let request = TrailRequest {
        sources: input.sources.clone(),
        lookup: remote.lookup.then(|| remote.lookup_attributes.clone()),
        regions: remote.regions.clone(),
        connect: remote.connect.options(),
        window: Window::default(),
        parsing: parsing(input.threads, input.max_event_size),
        concurrency: remote.concurrency,
        accounts: AccountFilter::new(&input.accounts).map_err(|e| anyhow!(e))?,
    };
    if !request.has_sources() {
        bail!("no CloudTrail source: name files, folders, `-` for standard input, s3://bucket/prefix, or --lookup");
    }
    let time = |flag: &str, value: &Option<String>| -> Result<_> {
        value
            .as_deref()
            .map(|t| parse_time_flag(flag, t))
            .transpose()
    };
    let window = Window {
        since: time("--since", &input.since)?,
        until: time("--until", &input.until)?,
    };
    if let (Some(since), Some(until)) = (window.since, window.until) {
        if since > until {
            bail!(
                "--since {} is after --until {}: the window holds no event",
                table_time(since),
                table_time(until)
            );
        }
    }
    Ok(TrailRequest { window, ..request })
}

/// Prints what a run says on the way, on standard error; the AWS requests only with `--stats`.
pub(crate) fn print_note(note: TrailNote<'_>, stats: bool) {
    match note {
        TrailNote::Skipped(skipped) => diag!("keywarden: warning: {skipped}"),
        TrailNote::BeyondLookupRetention { oldest } => diag!(
            "keywarden: note: LookupEvents keeps {} days of events: nothing before {} comes back",
            keywarden_app::trail::LOOKUP_RETENTION_DAYS,
            table_time(oldest)
        ),
        TrailNote::Source { summary, round } => {
            let line = if summary.source.starts_with("s3://") {
                format!(
                    "{}: {} objects, {} bytes ({} prefixes listed)",
                    summary.source, summary.units, summary.bytes, summary.prefixes_listed
                )
            } else {
                format!(
                    "{}: {} events in {} pages{}{}",
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
                    },
                    round.map_or(String::new(), |round| format!(
                        " (sessions, round {round})"
                    ))
                )
            };
            diag!("keywarden: {line}");
        }
        TrailNote::Failure(failure) => diag!("keywarden: error: {failure}"),
        TrailNote::SessionRound {
            keys,
            key_id,
            round,
        } => diag!(
            "keywarden: LookupEvents for the {keys} session key(s) minted from {key_id}{} (round {round})",
            if round > 1 { " by role chaining" } else { "" }
        ),
        TrailNote::Requests(requests) => {
            if stats {
                print_requests(requests);
            }
        }
    }
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
    let request = request(&args.input)?;
    let check = |record: &Record<'_>, out: &mut Vec<Finding>| {
        if let Some((rules, _)) = &sigma {
            rules.check(record, out);
        }
    };
    let inspection = sigma.as_ref().map(|(rules, _)| Inspection {
        inspector: &check,
        rules: rules.metas().collect(),
    });
    let stats = args.input.remote.stats;
    let found = read_trail(&request, &selection, inspection, &mut |note| {
        print_note(note, stats)
    })?;
    print_summary(&found.outcome, &found.read);
    let report = found.report(now, config.preset.name());
    let asff = AsffTarget {
        region: args
            .input
            .remote
            .connect
            .region
            .clone()
            .unwrap_or_else(|| keywarden_output::asff::DEFAULT_REGION.to_owned()),
        account: None,
        administrator: false,
    };
    let exit = print_findings_with(
        &report,
        args.output.format,
        Some(&found.outcome.lineage),
        &asff,
    )?;
    // A detection is an event: a trail run imports, it never resolves.
    let pushed = args.output.to != Some(Destination::Securityhub)
        || crate::securityhub_cmd::to_securityhub(
            &report,
            &args.input.remote.connect.options(),
            false,
            stats,
        )?;
    // Bad records mean some of the logs were not read, and Sigma rules that could not be loaded
    // did not run: either way the run is incomplete.
    let sigma_incomplete = sigma
        .as_ref()
        .is_some_and(|(_, not_loaded)| *not_loaded > 0);
    let nothing_analysed = found.outcome.stats.analysed == 0;
    if nothing_analysed {
        diag!(
            "keywarden: error: no event was analysed{}: nothing was checked",
            if found.outcome.stats.outside_window > 0 {
                " (every event read is outside --since/--until)"
            } else {
                ""
            }
        );
    }
    Ok(
        if found.outcome.stats.bad_records > 0 || sigma_incomplete || nothing_analysed || !pushed {
            Exit::ErrorOrIncomplete
        } else {
            exit
        },
    )
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

pub fn run_key(args: KeyArgs) -> Result<Exit> {
    let key_id = args.key_id.trim().to_owned();
    let request = request(&args.input)?;
    let stats = args.input.remote.stats;
    let max_sessions = args.max_session_lookups;
    let found = run_key_trail(request, &key_id, max_sessions, &mut |note| {
        print_note(note, stats)
    })?;
    print_summary(&found.outcome, &found.read);
    let left_out = found.left_out;
    if left_out > 0 {
        diag!(
            "keywarden: error: {left_out} more session key(s) minted from {key_id} were not looked up (--max-session-lookups {max_sessions}): their uses are missing"
        );
    }
    let format = match args.format {
        RulesFormat::Json => DocumentFormat::Json,
        RulesFormat::Table => DocumentFormat::Table,
    };
    let mut out = std::io::stdout().lock();
    KeyTimeline::of(&key_id, &found.outcome.lineage).print(format, &mut out)?;
    out.flush()?;
    Ok(if found.outcome.stats.bad_records > 0 || left_out > 0 {
        Exit::ErrorOrIncomplete
    } else {
        Exit::Clean
    })
}
