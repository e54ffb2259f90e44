//! `keywarden plan`, `apply`, `runs` and `undo`: reading the inputs, handing them to the
//! application layer's remediation engine, and printing what it did through keywarden-output.
//! The state folder, the journal, the clock and the crash hook are `state.rs`'s.

use crate::audit_cmd::{build_config, resolve_now};
use crate::cli::{ApplyArgs, PlanArgs, PlanFormatArg, RunsArgs, UndoArgs};
use crate::live_cmd::{live_audit, runtime};
use crate::state::{clock, crash_point, open_journal, state_dir, write_atomically, Existing};
use crate::Exit;
use anyhow::{anyhow, bail, Context, Result};
use keywarden_app::journal::{Journal, Outcome, RunId, RunInfo, StepEntry, StepRecord as Step};
use keywarden_app::key_ids::Resolution;
use keywarden_app::remediate::{apply_plan, resume_run, undo_run, ApplyOptions, RunReport};
use keywarden_app::LiveAuditOptions;
use keywarden_aws::api::WhoAmI;
use keywarden_aws::live::LiveClient;
use keywarden_core::config::AuditConfig;
use keywarden_core::remediation::{
    build_plan, Plan, PlanFinding, PlanSettings, PlanSource, NO_KEY_ID,
};
use keywarden_core::{Status, Timestamp};
use keywarden_output::json::{EvidenceValue, SavedAudit};
use keywarden_output::remediation::{
    print_plan, print_run_list, RunActionRecord, RunCounts, RunRecord, RunReportDocument,
    RunStepsDocument, StepRecord,
};
use keywarden_output::DocumentFormat;
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

/// `--format`, else a table on a terminal and JSON otherwise.
pub(crate) fn document_format(format: Option<PlanFormatArg>) -> DocumentFormat {
    match format {
        Some(PlanFormatArg::Table) => DocumentFormat::Table,
        Some(PlanFormatArg::Json) => DocumentFormat::Json,
        None if std::io::stdout().is_terminal() => DocumentFormat::Table,
        None => DocumentFormat::Json,
    }
}

// ----- plan -----

pub fn plan(args: PlanArgs) -> Result<Exit> {
    let now = resolve_now(args.state.now.as_deref())?;
    let config = build_config(&args.thresholds)?;
    let (mut findings, source, account) = match &args.from {
        Some(path) => findings_from_file(path)?,
        None => findings_from_live(&args, &config, now)?,
    };
    let resolution = if args.resolve_key_ids {
        Some(resolve_key_ids(&args, &mut findings, account.as_deref())?)
    } else {
        None
    };
    let mut settings = PlanSettings::new(now);
    settings.delete_after_days = args.delete_after_days;
    // What the journal knows about keys keywarden deactivated (or saw inactive) dates the
    // two-phase deletes. A missing journal is no error for a plan: it then knows nothing.
    let journal_exists = state_dir(&args.state)
        .map(|dir| dir.join(keywarden_app::journal::JOURNAL_FILE_NAME).exists())
        .unwrap_or(false);
    if let Some(journal) = journal_exists
        .then(|| open_journal(&args.state))
        .transpose()?
    {
        for key in findings.iter().filter_map(|f| f.access_key_id.as_deref()) {
            if let Some(t) = journal.inactive_since(key)? {
                settings.inactive_since.insert(key.to_owned(), t);
            }
        }
    }
    let mut plan = build_plan(&findings, &settings, source, account)?;
    if let Some(resolution) = &resolution {
        explain_unresolved(&mut plan, resolution);
    }
    if let Some(out) = &args.out {
        let existing = if args.force {
            Existing::Replace
        } else {
            Existing::Refuse
        };
        write_atomically(out, &plan.to_json(), existing)?;
        diag!("keywarden: plan written to {}", out.display());
    }
    let mut stdout = std::io::stdout().lock();
    print_plan(
        &plan,
        args.out.as_deref(),
        document_format(args.format),
        &mut stdout,
    )?;
    stdout.flush()?;
    let incomplete = plan
        .not_planned
        .iter()
        .any(|n| n.why.starts_with("unknown"))
        || resolution.is_some_and(|r| !r.failed.is_empty());
    Ok(if incomplete {
        Exit::ErrorOrIncomplete
    } else {
        Exit::Clean
    })
}

type Findings = (Vec<PlanFinding>, PlanSource, Option<String>);

/// `--resolve-key-ids`: the ids of the keys the findings name by slot, from ListAccessKeys of
/// those users, in the account the audit is about (the credentials' account must be it).
fn resolve_key_ids(
    args: &PlanArgs,
    findings: &mut [PlanFinding],
    account: Option<&str>,
) -> Result<Resolution> {
    let runtime = runtime()?;
    runtime.block_on(async {
        let client = Arc::new(LiveClient::connect(&args.aws.options()).await?);
        let identity = client
            .caller_identity()
            .await
            .context("--resolve-key-ids: cannot tell which account the credentials belong to")?;
        if let Some(account) = account.filter(|a| *a != identity.account) {
            bail!(
                "--resolve-key-ids: the audit is of account {account}, the credentials are of \
                 account {} ({}): use credentials of {account}",
                identity.account,
                identity.arn
            );
        }
        let resolution =
            keywarden_app::key_ids::resolve_key_ids(client, &identity.account, findings).await;
        diag!(
            "keywarden: --resolve-key-ids: the access keys of {} read (ListAccessKeys); {} of {} \
             key findings without an id got one",
            match resolution.users.len() {
                1 => "1 user".to_owned(),
                n => format!("{n} users"),
            },
            resolution.resolved,
            resolution.wanted,
        );
        for (user, error) in &resolution.failed {
            diag!("keywarden: --resolve-key-ids: {user}: {error}");
        }
        Ok(resolution)
    })
}

/// A finding `--resolve-key-ids` could not give an id says why, instead of suggesting the flag.
fn explain_unresolved(plan: &mut Plan, resolution: &Resolution) {
    for entry in &mut plan.not_planned {
        if entry.why != NO_KEY_ID {
            continue;
        }
        let user = entry.user.as_deref().unwrap_or_default();
        let why = resolution
            .failed
            .iter()
            .find(|(u, _)| u == user)
            .map(|(_, e)| e.reason())
            .or_else(|| {
                resolution
                    .unresolved
                    .iter()
                    .find(|u| u.user == user && u.rule == entry.rule)
                    .map(|u| u.reason.clone())
            });
        if let Some(why) = why {
            entry.why = format!("no access key id: {why}");
        }
    }
}

fn findings_from_file(path: &Path) -> Result<Findings> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read audit document `{origin}`"))?;
    let document = SavedAudit::from_json(&text)
        .with_context(|| format!("`{origin}` is not a `keywarden audit --format json` document"))?;
    let findings: Vec<PlanFinding> = document
        .findings
        .iter()
        .map(|f| PlanFinding {
            rule: f.rule.clone(),
            status: match f.status {
                keywarden_output::json::Status::Fail => Status::Fail,
                keywarden_output::json::Status::Exempted => Status::Exempted,
                // Unknown, and any status a later version adds: never acted on.
                _ => Status::Unknown,
            },
            account: f.account.clone(),
            user: f.user.clone(),
            access_key_id: f.access_key_id.clone(),
            message: f.message.clone(),
            evidence: f
                .evidence
                .0
                .iter()
                .map(|(k, v)| {
                    let text = match v {
                        EvidenceValue::Null => None,
                        EvidenceValue::Bool(b) => Some(b.to_string()),
                        EvidenceValue::Integer(i) => Some(i.to_string()),
                        EvidenceValue::Text(t) => Some(t.clone()),
                        EvidenceValue::Other(v) => Some(v.to_string()),
                    };
                    (k.clone(), text)
                })
                .collect(),
        })
        .collect();
    let account = findings.iter().find_map(|f| f.account.clone());
    Ok((
        findings,
        PlanSource {
            kind: "audit-file".into(),
            location: origin,
            data_as_of: document.data_as_of,
        },
        account,
    ))
}

fn findings_from_live(args: &PlanArgs, config: &AuditConfig, now: Timestamp) -> Result<Findings> {
    let (audit, _client, identity) = live_audit(
        &args.aws.options(),
        &LiveAuditOptions::default(),
        config,
        now,
    )?;
    let audit = audit?;
    for note in &audit.notes {
        diag!("keywarden: note: {note}");
    }
    let (location, account) = match &identity {
        Ok(id) => (
            format!("{} as {}", id.account, id.arn),
            Some(id.account.clone()),
        ),
        Err(e) => (format!("the configured account ({})", e.reason()), None),
    };
    Ok((
        audit
            .outcome
            .findings
            .iter()
            .map(PlanFinding::from_finding)
            .collect(),
        PlanSource {
            kind: "live".into(),
            location,
            data_as_of: Some(audit.report_generated_at),
        },
        account,
    ))
}

// ----- apply, undo -----

pub fn apply(args: ApplyArgs) -> Result<Exit> {
    let clock = clock("apply", &args.state)?;
    let config = match &args.config {
        Some(path) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read config file `{origin}`"))?;
            let file = keywarden_core::config::ConfigFile::parse(&text, &origin)?;
            keywarden_core::config::layer(
                None,
                Some((&file, origin.as_str())),
                &Default::default(),
                &Default::default(),
            )?
        }
        None => AuditConfig::from_preset(keywarden_core::config::Preset::Default),
    };
    let crash = crash_point()?;
    let mut journal = open_journal(&args.state)?;
    let runtime = runtime()?;
    let connect = args.aws.options();
    let report = match (&args.plan, &args.resume) {
        (_, Some(run)) => {
            let run = RunId::parse(run)?;
            let client = runtime.block_on(LiveClient::connect(&connect))?;
            runtime.block_on(async {
                resume_run(&client, &mut journal, &clock, &run, &config, crash).await
            })?
        }
        (Some(path), None) => {
            let origin = path.display().to_string();
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read plan `{origin}`"))?;
            let plan = Plan::from_json(&text, &origin)?;
            let options = ApplyOptions {
                allow_unsafe: args.allow_unsafe,
                allow_two_phase: args.two_phase,
                max_actions: args.max_actions,
            };
            let client = runtime.block_on(LiveClient::connect(&connect))?;
            runtime.block_on(async {
                apply_plan(
                    &client,
                    &mut journal,
                    &clock,
                    &plan,
                    keywarden_app::journal::RunKind::Apply,
                    &options,
                    &config,
                    crash,
                )
                .await
            })?
        }
        (None, None) => bail!("give a plan file, or --resume RUN_ID"),
    };
    print_run_report(&report, args.format)?;
    Ok(run_exit(&report))
}

pub fn undo(args: UndoArgs) -> Result<Exit> {
    let clock = clock("undo", &args.state)?;
    let crash = crash_point()?;
    let mut journal = open_journal(&args.state)?;
    let run = RunId::parse(&args.run)?;
    let connect = args.aws.options();
    let runtime = runtime()?;
    let client = runtime.block_on(LiveClient::connect(&connect))?;
    let report =
        runtime.block_on(async { undo_run(&client, &mut journal, &clock, &run, crash).await })?;
    print_run_report(&report, args.format)?;
    Ok(run_exit(&report))
}

pub(crate) fn run_exit(report: &RunReport) -> Exit {
    if report.has_errors() {
        Exit::ErrorOrIncomplete
    } else {
        Exit::Clean
    }
}

/// A run's report as a table or JSON on stdout.
pub(crate) fn print_run_report(report: &RunReport, format: Option<PlanFormatArg>) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    run_report_document(report).print(document_format(format), &mut stdout)?;
    stdout.flush()?;
    Ok(())
}

/// The engine's report in wire form.
pub(crate) fn run_report_document(report: &RunReport) -> RunReportDocument<'_> {
    RunReportDocument {
        actions: report
            .actions
            .iter()
            .map(|a| RunActionRecord {
                action_id: &a.action_id,
                detail: a.result.detail(),
                kind: &a.kind,
                result: a.result.label(),
                target: &a.target,
            })
            .collect(),
        irreversible: &report.irreversible,
        kind: report.kind.as_str(),
        run_id: report.run.as_str(),
        settled_in_doubt: &report.settled_in_doubt,
    }
}

// ----- runs -----

/// `runs` only reads: it opens the journal read-only, and creates neither the state folder nor
/// the journal. No journal means no runs.
pub fn runs(args: RunsArgs) -> Result<Exit> {
    let dir = state_dir(&args.state)?;
    let journal = Journal::open_read_only(&dir)
        .with_context(|| format!("cannot read keywarden's journal in `{}`", dir.display()))?;
    let mut stdout = std::io::stdout().lock();
    let format = document_format(args.format);
    let Some(journal) = journal else {
        if let Some(run) = &args.run {
            bail!("no run {run}: there is no journal in `{}`", dir.display());
        }
        print_run_list(&[], Err(&dir), format, &mut stdout)?;
        return Ok(Exit::Clean);
    };
    if let Some(run) = &args.run {
        let run = RunId::parse(run)?;
        let info = journal
            .run(&run)?
            .ok_or_else(|| anyhow!("no run {} in {}", run.as_str(), journal.path().display()))?;
        let steps = journal.steps(&run)?;
        let document = RunStepsDocument {
            run: run_record(&info),
            steps: steps.iter().map(step_record).collect(),
        };
        document.print(format, &mut stdout)?;
        return Ok(Exit::Clean);
    }
    let runs = journal.runs()?;
    let records: Vec<_> = runs.iter().map(run_record).collect();
    print_run_list(&records, Ok(journal.path()), format, &mut stdout)?;
    Ok(Exit::Clean)
}

/// A journal's run in wire form.
fn run_record(info: &RunInfo) -> RunRecord<'_> {
    let c = info.counts;
    RunRecord {
        counts: RunCounts {
            abandoned: c.abandoned,
            done: c.done,
            failed: c.failed,
            in_doubt: c.in_doubt,
            skipped: c.skipped,
            unverified: c.unverified,
        },
        finished_at: info.finished_at,
        kind: info.kind.as_str(),
        parent: info.parent.as_ref().map(|p| p.as_str()),
        resumes: info.resumes,
        run_id: info.id.as_str(),
        started_at: info.started_at,
        status: info.status_label(),
    }
}

/// A journal's step in wire form.
fn step_record(step: &Step) -> StepRecord<'_> {
    match &step.entry {
        StepEntry::Skipped { reason } => StepRecord::Skipped {
            action_id: &step.action_id,
            at: step.at,
            skipped: reason.as_str(),
        },
        StepEntry::Call(call) => {
            let outcome = call.outcome.as_ref().map(|o| &o.outcome);
            let (code, detail) = match outcome {
                Some(Outcome::Failed { code, message }) => (Some(code.as_str()), Some(message)),
                Some(Outcome::AlreadyDone { detail }) => (None, Some(detail)),
                Some(Outcome::Abandoned { reason }) => (None, Some(reason)),
                Some(Outcome::Succeeded) | None => (None, None),
            };
            StepRecord::Call {
                action_id: &step.action_id,
                at: step.at,
                call: &call.call,
                code,
                detail: detail.map(String::as_str),
                outcome: outcome.map(|o| o.name()),
                target: &call.target,
                verified: call.verification.as_ref().map(|v| v.verified),
                verification_detail: call.verification.as_ref().map(|v| v.detail.as_str()),
            }
        }
    }
}
