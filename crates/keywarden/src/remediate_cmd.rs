//! `keywarden plan`, `apply`, `runs` and `undo`: reading the inputs, the clock and the state
//! folder, and printing what the application layer's remediation engine did. Also the helpers
//! `rotate` and `contain` share: the write client, the journal, the clock, the crash hook.

use crate::audit_cmd::{build_config, resolve_now};
use crate::cli::{ApplyArgs, PlanArgs, PlanFormatArg, RunsArgs, StateArgs, UndoArgs, WriteAwsArgs};
use crate::live_cmd::{live_audit, runtime};
use crate::Exit;
use anyhow::{anyhow, bail, Context, Result};
use keywarden_app::files::default_state_dir;
use keywarden_app::journal::{Journal, RunId, RunInfo, StepEntry};
use keywarden_app::remediate::{
    apply_plan, resume_run, undo_run, ApplyOptions, CrashPoint, RunReport,
};
use keywarden_app::LiveAuditOptions;
use keywarden_aws::live::{ConnectOptions, LiveClient};
use keywarden_core::config::AuditConfig;
use keywarden_core::remediation::{
    build_plan, Plan, PlanFinding, PlanSettings, PlanSource, Safety,
};
use keywarden_core::time::format_timestamp;
use keywarden_core::{Status, Timestamp};
use keywarden_output::escape::terminal;
use keywarden_output::json::{AuditDocument, EvidenceValue};
use serde_json::json;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

/// The test suite's crash hook (see `test_hooks`); a build without the `test-hooks` feature has
/// none.
pub(crate) fn crash_point() -> Result<Option<CrashPoint>> {
    #[cfg(feature = "test-hooks")]
    let point = crate::test_hooks::crash_point()?;
    #[cfg(not(feature = "test-hooks"))]
    let point = None;
    Ok(point)
}

pub(crate) fn connect_options(aws: &WriteAwsArgs) -> ConnectOptions {
    ConnectOptions {
        profile: aws.profile.clone(),
        region: aws.region.clone(),
        endpoint_url: aws.endpoint_url.clone(),
        max_attempts: aws.max_attempts,
    }
}

/// The state folder: --state-dir, else the default.
pub(crate) fn state_dir(state: &StateArgs) -> Result<PathBuf> {
    match &state.state_dir {
        Some(dir) => Ok(dir.clone()),
        None => Ok(default_state_dir()?),
    }
}

pub(crate) fn open_journal(state: &StateArgs) -> Result<Journal> {
    let dir = state_dir(state)?;
    Journal::open(&dir)
        .with_context(|| format!("cannot open keywarden's journal in `{}`", dir.display()))
}

/// The clock of a command that writes to AWS (`apply`, `undo`, `rotate`, `contain`): the real
/// one. `--now` is refused here: it would stamp real writes with a shifted time and make grace
/// periods (`not_before`, `delete_after_days`) pass early. Only a build with the `test-hooks`
/// feature can fix the clock (`KEYWARDEN_TEST_NOW`, see `test_hooks`).
pub(crate) fn clock(command: &str, state: &StateArgs) -> Result<impl Fn() -> Timestamp + Sync> {
    if let Some(now) = &state.now {
        bail!(
            "`keywarden {command} --now {now}`: --now is refused on commands that write to AWS \
             (apply, undo, rotate, contain): they act at the real time, so no grace period is \
             skipped; --now is for read-only commands (audit, plan, trail, key, runs)"
        );
    }
    let fixed = test_clock()?;
    Ok(move || fixed.unwrap_or_else(|| resolve_now(None).unwrap_or_default()))
}

/// The test suite's fixed clock (see `test_hooks`); a build without the `test-hooks` feature has
/// none.
fn test_clock() -> Result<Option<Timestamp>> {
    #[cfg(feature = "test-hooks")]
    let fixed = crate::test_hooks::fixed_now()?;
    #[cfg(not(feature = "test-hooks"))]
    let fixed = None;
    Ok(fixed)
}

fn table_wanted(format: Option<PlanFormatArg>) -> bool {
    match format {
        Some(PlanFormatArg::Table) => true,
        Some(PlanFormatArg::Json) => false,
        None => std::io::stdout().is_terminal(),
    }
}

/// Writes `text` to `path` atomically and 0600, creating its missing folders 0700 (see
/// [`keywarden_app::files`]): plans and rotation plans.
pub(crate) fn write_atomically(path: &Path, text: &str) -> Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        keywarden_app::files::create_private_dir_all(dir)
            .with_context(|| format!("cannot create `{}`", dir.display()))?;
    }
    keywarden_app::files::write_atomically(path, text.as_bytes())
        .with_context(|| format!("cannot write `{}`", path.display()))
}

// ----- plan -----

pub fn plan(args: PlanArgs) -> Result<Exit> {
    let now = resolve_now(args.state.now.as_deref())?;
    let config = build_config(&args.thresholds)?;
    let (findings, source, account) = match &args.from {
        Some(path) => findings_from_file(path)?,
        None => findings_from_live(&args, &config, now)?,
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
    let plan = build_plan(&findings, &settings, source, account)?;
    if let Some(out) = &args.out {
        write_atomically(out, &plan.to_json())?;
        diag!("keywarden: plan written to {}", out.display());
    }
    let mut stdout = std::io::stdout().lock();
    if table_wanted(args.format) {
        write!(stdout, "{}", plan_table(&plan, args.out.as_deref()))?;
    } else {
        write!(stdout, "{}", plan.to_json())?;
    }
    stdout.flush()?;
    let incomplete = plan
        .not_planned
        .iter()
        .any(|n| n.why.starts_with("unknown"));
    Ok(if incomplete {
        Exit::ErrorOrIncomplete
    } else {
        Exit::Clean
    })
}

type Findings = (Vec<PlanFinding>, PlanSource, Option<String>);

fn findings_from_file(path: &Path) -> Result<Findings> {
    let origin = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read audit document `{origin}`"))?;
    let document = AuditDocument::from_json(&text)
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
        &connect_options(&args.aws),
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

fn plan_table(plan: &Plan, out: Option<&Path>) -> String {
    let mut text = String::new();
    let count = |s: Safety| plan.actions.iter().filter(|a| a.safety == s).count();
    text.push_str(&format!(
        "Remediation plan: {} actions ({} safe, {} two-phase, {} unsafe, {} manual)\n",
        plan.actions.len(),
        count(Safety::Safe),
        count(Safety::TwoPhase),
        count(Safety::Unsafe),
        count(Safety::Manual)
    ));
    text.push_str(&format!(
        "from {} {}, data as of {}, planned {}\n\n",
        terminal(&plan.source.kind),
        terminal(&plan.source.location),
        plan.source
            .data_as_of
            .map_or("unknown".to_owned(), format_timestamp),
        format_timestamp(plan.created_at)
    ));
    for action in &plan.actions {
        let when = action.not_before.map_or("now".to_owned(), |t| {
            format!("after {}", format_timestamp(t))
        });
        text.push_str(&format!(
            "{}  {:<9}  {:<20}  {}  ({when})\n",
            terminal(&action.id),
            action.safety.as_str(),
            action.kind.as_str(),
            terminal(&action.target())
        ));
        for reason in &action.reasons {
            text.push_str(&format!(
                "      why:   {} {}\n",
                terminal(&reason.rule),
                terminal(&reason.message)
            ));
        }
        if action.kind != keywarden_core::remediation::ActionKind::Manual {
            text.push_str(&format!(
                "      only if: {}\n",
                terminal(&action.precondition.describe())
            ));
        }
        for step in &action.steps {
            text.push_str(&format!("      - {}\n", terminal(step)));
        }
    }
    if !plan.not_planned.is_empty() {
        text.push_str("\nNot planned:\n");
        for n in &plan.not_planned {
            text.push_str(&format!(
                "  {} {} {}: {}\n",
                terminal(&n.rule),
                terminal(n.user.as_deref().unwrap_or("-")),
                terminal(n.access_key_id.as_deref().unwrap_or("")),
                terminal(&n.why)
            ));
        }
    }
    let file = out.map_or("PLAN.json".to_owned(), |p| {
        terminal(&p.display().to_string()).into_owned()
    });
    text.push_str(&format!(
        "\nApply: keywarden apply {file}   (safe actions only; add --two-phase for deletions, \
         --unsafe for actions that may break a workload)\n"
    ));
    text
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
    let connect = connect_options(&args.aws);
    let report = match (&args.plan, &args.resume) {
        (_, Some(run)) => {
            let run = RunId::parse(run)?;
            runtime.block_on(async {
                let client = LiveClient::connect(&connect).await;
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
            runtime.block_on(async {
                let client = LiveClient::connect(&connect).await;
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
    let connect = connect_options(&args.aws);
    let report = runtime()?.block_on(async {
        let client = LiveClient::connect(&connect).await;
        undo_run(&client, &mut journal, &clock, &run, crash).await
    })?;
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
    if table_wanted(format) {
        writeln!(stdout, "Run {} ({})", report.run.as_str(), report.kind)?;
        for line in &report.settled_in_doubt {
            writeln!(
                stdout,
                "  settled from the interrupted attempt: {}",
                terminal(line)
            )?;
        }
        for a in &report.actions {
            writeln!(
                stdout,
                "  {:<12} {:<15} {:<20} {}  {}",
                terminal(&a.action_id),
                a.result.label(),
                terminal(&a.kind),
                terminal(&a.target),
                terminal(&a.result.detail())
            )?;
        }
        for line in &report.irreversible {
            writeln!(stdout, "  cannot be undone: {}", terminal(line))?;
        }
    } else {
        let doc = run_report_json(report);
        writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
    }
    stdout.flush()?;
    Ok(())
}

pub(crate) fn run_report_json(report: &RunReport) -> serde_json::Value {
    json!({
        "run_id": report.run.as_str(),
        "kind": report.kind.as_str(),
        "settled_in_doubt": report.settled_in_doubt,
        "actions": report.actions.iter().map(|a| json!({
            "action_id": a.action_id,
            "kind": a.kind,
            "target": a.target,
            "result": a.result.label(),
            "detail": a.result.detail(),
        })).collect::<Vec<_>>(),
        "irreversible": report.irreversible,
    })
}

// ----- runs -----

/// `runs` only reads: it opens the journal read-only, and creates neither the state folder nor
/// the journal. No journal means no runs.
pub fn runs(args: RunsArgs) -> Result<Exit> {
    let dir = state_dir(&args.state)?;
    let journal = Journal::open_read_only(&dir)
        .with_context(|| format!("cannot read keywarden's journal in `{}`", dir.display()))?;
    let mut stdout = std::io::stdout().lock();
    let table = table_wanted(args.format);
    let Some(journal) = journal else {
        if let Some(run) = &args.run {
            bail!("no run {run}: there is no journal in `{}`", dir.display());
        }
        if table {
            writeln!(stdout, "no runs (no journal in {})", dir.display())?;
        } else {
            writeln!(stdout, "[]")?;
        }
        return Ok(Exit::Clean);
    };
    if let Some(run) = &args.run {
        let run = RunId::parse(run)?;
        let info = journal
            .run(&run)?
            .ok_or_else(|| anyhow!("no run {} in {}", run.as_str(), journal.path().display()))?;
        let steps = journal.steps(&run)?;
        if table {
            writeln!(stdout, "{}", run_line(&info))?;
            for step in &steps {
                match &step.entry {
                    StepEntry::Skipped { reason } => writeln!(
                        stdout,
                        "  {} {} skip: {}",
                        format_timestamp(step.at),
                        terminal(&step.action_id),
                        terminal(reason)
                    )?,
                    StepEntry::Call(call) => {
                        let outcome =
                            call.outcome
                                .as_ref()
                                .map_or("IN DOUBT (no outcome)".to_owned(), |o| {
                                    let detail = match &o.outcome {
                                        keywarden_app::journal::Outcome::Failed {
                                            code,
                                            message,
                                        } => {
                                            format!(" {code}: {message}")
                                        }
                                        keywarden_app::journal::Outcome::AlreadyDone { detail } => {
                                            format!(" {detail}")
                                        }
                                        keywarden_app::journal::Outcome::Abandoned { reason } => {
                                            format!(" {reason}")
                                        }
                                        keywarden_app::journal::Outcome::Succeeded => String::new(),
                                    };
                                    format!("{}{detail}", o.outcome.name())
                                });
                        let verified = call.verification.as_ref().map_or(String::new(), |v| {
                            format!("; verified={} ({})", v.verified, v.detail)
                        });
                        writeln!(
                            stdout,
                            "  {} {} {} {}: {}{}",
                            format_timestamp(step.at),
                            terminal(&step.action_id),
                            terminal(&call.call),
                            terminal(&call.target),
                            terminal(&outcome),
                            terminal(&verified)
                        )?;
                    }
                }
            }
        } else {
            let doc = json!({
                "run": run_json(&info),
                "steps": steps.iter().map(|s| match &s.entry {
                    StepEntry::Skipped { reason } => json!({
                        "action_id": s.action_id, "at": s.at, "skipped": reason,
                    }),
                    StepEntry::Call(call) => json!({
                        "action_id": s.action_id,
                        "at": s.at,
                        "call": call.call,
                        "target": call.target,
                        "outcome": call.outcome.as_ref().map(|o| o.outcome.name()),
                        "code": call.outcome.as_ref().and_then(|o| match &o.outcome {
                            keywarden_app::journal::Outcome::Failed { code, .. } => Some(code),
                            _ => None,
                        }),
                        "detail": call.outcome.as_ref().and_then(|o| match &o.outcome {
                            keywarden_app::journal::Outcome::Failed { message, .. } => Some(message),
                            keywarden_app::journal::Outcome::AlreadyDone { detail } => Some(detail),
                            keywarden_app::journal::Outcome::Abandoned { reason } => Some(reason),
                            keywarden_app::journal::Outcome::Succeeded => None,
                        }),
                        "verified": call.verification.as_ref().map(|v| v.verified),
                    }),
                }).collect::<Vec<_>>(),
            });
            writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
        }
        return Ok(Exit::Clean);
    }
    let runs = journal.runs()?;
    if table {
        if runs.is_empty() {
            writeln!(stdout, "no runs in {}", journal.path().display())?;
        }
        for info in &runs {
            writeln!(stdout, "{}", run_line(info))?;
        }
    } else {
        let doc: Vec<_> = runs.iter().map(run_json).collect();
        writeln!(stdout, "{}", serde_json::to_string_pretty(&doc)?)?;
    }
    Ok(Exit::Clean)
}

fn run_line(info: &RunInfo) -> String {
    let c = info.counts;
    format!(
        "{}  {:<8} {:<22} started {}  done {} skipped {} failed {} in-doubt {}{}",
        info.id.as_str(),
        info.kind.as_str(),
        info.status_label(),
        format_timestamp(info.started_at),
        c.done,
        c.skipped,
        c.failed,
        c.in_doubt,
        info.parent
            .as_ref()
            .map_or(String::new(), |p| format!("  (undoes {})", p.as_str()))
    )
}

fn run_json(info: &RunInfo) -> serde_json::Value {
    let c = info.counts;
    json!({
        "run_id": info.id.as_str(),
        "kind": info.kind.as_str(),
        "status": info.status_label(),
        "started_at": info.started_at,
        "finished_at": info.finished_at,
        "parent": info.parent.as_ref().map(|p| p.as_str().to_owned()),
        "resumes": info.resumes,
        "counts": {"done": c.done, "skipped": c.skipped, "failed": c.failed, "in_doubt": c.in_doubt,
                   "abandoned": c.abandoned, "unverified": c.unverified},
    })
}
