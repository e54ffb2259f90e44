//! `keywarden contain AKIA... [--trail SOURCE...]`: the playbook for a leaked key. The
//! application layer finds the owner and runs the journaled contain plan
//! ([`keywarden_app::remediate::contain_key`]); this reads the CloudTrail sources through
//! `trail`/`key`'s own reading ([`crate::trail_cmd::remote::Sources`]), writes the incident
//! report (Markdown and JSON, docs/incident-report.md) and prints a summary.
//!
//! The containment runs first: in an incident, the key stops working before the logs are read.
//! Exit status: 0 when every step is done or already done, 2 otherwise (a failed or refused
//! step, the owner not found, a root key, sources that could not all be read).

use crate::cli::{ContainArgs, NoArgs, TrailRemoteArgs, TrailSourceArgs};
use crate::live_cmd::runtime;
use crate::state::{clock, crash_point, open_journal, state_dir};
use crate::trail_cmd::remote::Sources;
use crate::Exit;
use anyhow::{Context, Result};
use keywarden_app::remediate::{
    check_key_id, contain_key, trail_section, write_incident_report, ContainError, Containment,
    IncidentReport, SessionUsage, TrailSection,
};
use keywarden_app::trail::Inspector;
use keywarden_app::trail::Window;
use keywarden_aws::live::LiveClient;
use keywarden_core::cloudtrail::analyzer::TrailAnalyzer;
use keywarden_core::cloudtrail::reader::Record;
use keywarden_core::config::AuditConfig;
use keywarden_core::finding::Finding;
use keywarden_output::contain::{ContainSessionLine, ContainStepLine, ContainSummary};
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
        let client = LiveClient::connect(&args.aws.options()).await;
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
            connect: args.aws.clone(),
            concurrency: 8,
            stats: false,
        },
        end_of_remote: NoArgs {},
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
    let summary = ContainSummary {
        key_id: &c.key_id,
        owner: &c.owner,
        run_id: &report.run_id,
        status: &report.status,
        steps: c
            .steps
            .iter()
            .map(|s| ContainStepLine {
                action_id: &s.action_id,
                kind: &s.kind,
                outcome: &s.outcome,
                started_at: s.started_at,
                detail: &s.detail,
            })
            .collect(),
        sessions_revoked_before: &report.sessions_revoked_before,
        quarantine_until: &report.quarantine_until,
        sessions: report.trail.as_ref().map(|trail| {
            trail
                .sessions
                .iter()
                .map(|s| ContainSessionLine {
                    access_key_id: &s.access_key_id,
                    minted_with: &s.minted_with,
                    minted_at: s.minted_at,
                    source_ip: s.source_ip.as_deref(),
                    calls: s.calls,
                    uses_after_key_revoked: s.uses_after_key_revoked,
                })
                .collect()
        }),
        undo: &report.undo,
    };
    let mut out = std::io::stdout().lock();
    summary.print(&mut out)?;
    out.flush()?;
    Ok(())
}
