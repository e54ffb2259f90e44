//! `keywarden contain AKIA... [--trail SOURCE...]`: the playbook for a leaked key. The
//! application layer finds the owner and runs the journaled contain plan
//! ([`keywarden_app::remediate::contain_key`]); this reads the CloudTrail sources through
//! `trail`/`key`'s own reading ([`crate::trail_cmd::remote::Sources`]), writes the incident
//! report (Markdown and JSON, docs/incident-report.md) and prints a summary.
//!
//! The containment runs first: in an incident, the key stops working before the logs are read.
//! Exit status: 0 when every step is done or already done, 2 otherwise (a failed or refused
//! step, the owner not found, a root key, sources that could not all be read).

use crate::cli::{ContainArgs, TrailRemoteArgs, TrailSourceArgs};
use crate::live_cmd::runtime;
use crate::remediate_cmd::{clock, connect_options, crash_point, open_journal, state_dir};
use crate::trail_cmd::remote::Sources;
use crate::Exit;
use anyhow::{Context, Result};
use keywarden_app::remediate::{
    check_key_id, contain_key, trail_section, write_incident_report, ContainError, Containment,
    IncidentReport, SessionUsage, TrailSection,
};
use keywarden_app::trail::Inspector;
use keywarden_app::trail_remote::Window;
use keywarden_aws::live::LiveClient;
use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::cloudtrail::reader::Record;
use keywarden_core::config::AuditConfig;
use keywarden_core::finding::Finding;
use keywarden_core::remediation::aws_policy_time;
use keywarden_output::escape::terminal;
use std::io::Write;

pub fn contain(args: ContainArgs) -> Result<Exit> {
    let clock = clock("contain", &args.state)?;
    let key_id = args.key_id.trim().to_owned();
    if let Err(error) = check_key_id(&key_id) {
        diag!("keywarden: error: {error}");
        return Ok(Exit::ErrorOrIncomplete);
    }
    let crash = crash_point()?;
    let mut journal = open_journal(&args.state)?;
    let report_dir = match &args.report_dir {
        Some(dir) => dir.clone(),
        None => state_dir(&args.state)?.join("incidents"),
    };
    let rt = runtime()?;
    let containment = rt.block_on(async {
        let client = LiveClient::connect(&connect_options(&args.aws)).await;
        contain_key(
            &client,
            &mut journal,
            &clock,
            &key_id,
            args.quarantine_hours,
            crash,
        )
        .await
    });
    // The trail reading below builds its own runtime when it reads S3.
    drop(rt);
    let containment = match containment {
        Ok(c) => c,
        Err(error @ (ContainError::Remediation(_) | ContainError::Identity(_))) => {
            return Err(error.into())
        }
        Err(error) => {
            diag!("keywarden: error: {error}");
            return Ok(Exit::ErrorOrIncomplete);
        }
    };
    let trail = (!args.trail.is_empty()).then(|| read_trail(&args, &key_id));
    let trail_incomplete = trail
        .as_ref()
        .is_some_and(|t| t.error.is_some() || t.bad_records > 0);
    let report = IncidentReport::new(&containment, trail);
    let (md, json) = write_incident_report(&report_dir, &report).with_context(|| {
        format!(
            "the containment is done (run {}), but its incident report could not be written in `{}`",
            containment.report.run,
            report_dir.display()
        )
    })?;
    diag!("keywarden: incident report: {}", md.display());
    diag!("keywarden: incident report (JSON): {}", json.display());
    print_summary(&containment, &report)?;
    Ok(if containment.complete() && !trail_incomplete {
        Exit::Clean
    } else {
        Exit::ErrorOrIncomplete
    })
}

/// Reads `--trail`'s sources as `keywarden key` does (files, folders, s3://), counting what the
/// temporary keys did on the way. A source that cannot be read is reported in the section.
fn read_trail(args: &ContainArgs, key_id: &str) -> TrailSection {
    let input = TrailSourceArgs {
        sources: args.trail.iter().map(Into::into).collect(),
        remote: TrailRemoteArgs {
            lookup: false,
            lookup_attributes: Vec::new(),
            regions: Vec::new(),
            profile: args.aws.profile.clone(),
            region: args.aws.region.clone(),
            endpoint_url: args.aws.endpoint_url.clone(),
            concurrency: 8,
            max_attempts: args.aws.max_attempts,
            stats: false,
        },
        since: None,
        until: None,
        threads: None,
        max_event_size: keywarden_core::cloudtrail::reader::DEFAULT_MAX_EVENT_BYTES,
    };
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let selection = AuditConfig::default().selection;
    let mut analyzer = TrailAnalyzer::new(&selection);
    let usage = SessionUsage::default();
    let inspect = |record: &Record<'_>, _: &mut Vec<Finding>| usage.observe(&record.event);
    let inspector: Inspector<'_> = &inspect;
    let mut sources = Sources::new(&input, Window::default(), threads);
    let read = sources.read_all(&mut analyzer, Some(inspector));
    let outcome = analyzer.finish();
    let described = args.trail.join(", ");
    let mut section = trail_section(
        &outcome.lineage,
        &usage,
        key_id,
        described,
        outcome.stats.events,
        outcome.stats.bad_records,
    );
    match read {
        Ok(report) => {
            for bad in report.bad_records.iter().take(20) {
                diag!("keywarden: skipped bad record: {bad}");
            }
            diag!(
                "keywarden: {} source(s), {} events, {} bad records; {} session(s) minted by {key_id}",
                report.units_read,
                outcome.stats.events,
                outcome.stats.bad_records,
                section.sessions.len()
            );
        }
        Err(error) => {
            diag!("keywarden: error: --trail: {error:#}");
            section.error = Some(format!("{error:#}"));
        }
    }
    section
}

/// The summary on stdout: the key, the steps, the deadlines, the sessions.
fn print_summary(c: &Containment, report: &IncidentReport) -> Result<()> {
    let mut out = std::io::stdout().lock();
    writeln!(
        out,
        "Contained {} (owner {}), run {}: {}",
        terminal(&c.key_id),
        terminal(&c.owner),
        report.run_id,
        report.status
    )?;
    writeln!(
        out,
        "  {:<5} {:<16} {:<13} {:<20} DETAIL",
        "STEP", "ACTION", "OUTCOME", "AT"
    )?;
    for s in &c.steps {
        writeln!(
            out,
            "  {:<5} {:<16} {:<13} {:<20} {}",
            s.action_id,
            s.kind,
            s.outcome,
            s.started_at
                .map(aws_policy_time)
                .unwrap_or_else(|| "-".into()),
            terminal(&s.detail)
        )?;
    }
    writeln!(
        out,
        "  sessions issued before {} are denied; the quarantine lifts at {}",
        report.sessions_revoked_before, report.quarantine_until
    )?;
    if let Some(trail) = &report.trail {
        writeln!(
            out,
            "  sessions minted by the key in the logs read: {}",
            trail.sessions.len()
        )?;
        for s in &trail.sessions {
            writeln!(
                out,
                "    {}  {} at {} from {}: {} call(s){}",
                terminal(&s.access_key_id),
                terminal(&s.minted_with),
                aws_policy_time(s.minted_at),
                terminal(s.source_ip.as_deref().unwrap_or("-")),
                s.calls,
                s.uses_after_key_revoked
                    .filter(|n| *n > 0)
                    .map(|n| format!(", {n} after the key was deactivated or deleted"))
                    .unwrap_or_default()
            )?;
        }
    }
    writeln!(out, "  undo: {}", report.undo)?;
    out.flush()?;
    Ok(())
}
