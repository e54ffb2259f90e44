//! `keywarden contain AKIA... [--trail SOURCE...]`: the playbook for a leaked key. The
//! application layer finds the owner and runs the journaled contain plan
//! ([`keywarden_app::remediate::contain_key`]); this reads the CloudTrail sources through
//! `trail`/`key`'s own reading ([`keywarden_app::trail::run_contain_trail`]), writes the incident
//! report (Markdown and JSON, docs/incident-report.md) and prints a summary, or with
//! `--format html` the report as one self-contained page.
//!
//! The containment runs first: in an incident, the key stops working before the logs are read.
//! Exit status: 0 when every step is done or already done, 2 otherwise (a failed or refused
//! step, the owner not found, a root key, sources that could not all be read).

use crate::cli::{ContainArgs, ContainFormat};
use crate::live_cmd::runtime;
use crate::state::{clock, crash_point, open_journal, state_dir};
use crate::trail_cmd::{print_note, BAD_RECORDS_SHOWN};
use crate::Exit;
use anyhow::{Context, Result};
use keywarden_app::remediate::{
    check_key_id, contain_key, write_incident_report, ContainError, Containment, IncidentReport,
    TrailSection,
};
use keywarden_app::trail::{parsing, run_contain_trail, AccountFilter, TrailRequest, Window};
use keywarden_aws::live::LiveClient;
use keywarden_core::cloudtrail::reader::DEFAULT_MAX_EVENT_BYTES;
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
    let client = rt.block_on(LiveClient::connect(&args.aws.options()))?;
    let containment = rt.block_on(async {
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
    if args.format == ContainFormat::Html {
        let mut out = std::io::stdout().lock();
        keywarden_output::html::print_incident_page(&report, &mut out)?;
        out.flush()?;
    } else {
        print_summary(&containment, &report)?;
    }
    Ok(if containment.complete() && !trail_incomplete {
        Exit::Clean
    } else {
        Exit::ErrorOrIncomplete
    })
}

/// Reads `--trail`'s sources as `keywarden key` does (files, folders, s3://), counting what the
/// temporary keys did on the way. A source that cannot be read is reported in the section.
fn read_trail(args: &ContainArgs, key_id: &str) -> TrailSection {
    let request = TrailRequest {
        sources: args.trail.iter().map(Into::into).collect(),
        lookup: None,
        regions: Vec::new(),
        connect: args.aws.options(),
        window: Window::default(),
        parsing: parsing(None, DEFAULT_MAX_EVENT_BYTES),
        concurrency: 8,
        accounts: AccountFilter::default(),
    };
    let (mut section, read) =
        run_contain_trail(&request, key_id, &mut |note| print_note(note, false));
    match read {
        Ok(report) => {
            for bad in report.bad_records.iter().take(BAD_RECORDS_SHOWN) {
                diag!("keywarden: skipped bad record: {bad}");
            }
            diag!(
                "keywarden: {} source(s), {} events, {} bad records; {} session(s) minted by {key_id}",
                report.units_read,
                section.events_read,
                section.bad_records,
                section.sessions.len()
            );
        }
        Err(error) => {
            let error = anyhow::Error::from(error);
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
