//! Remediation's documents: the plan as a table (the plan's JSON is the plan file itself,
//! `keywarden_core::remediation::plan`), a run's report (`apply`, `undo`), the list of runs and
//! one run's steps (`runs`), each as JSON (`docs/json-output.md`, kinds `run-report`, `run-list`,
//! `run-steps`) or as a table.
//!
//! The wire types are plain borrowed data: the binary fills them from the journal and the
//! engine's report, so this crate needs neither.

use crate::escape::terminal;
use crate::table_time;
use crate::{write_json, DocumentFormat};
use keywarden_core::remediation::{ActionKind, Plan, Safety};
use keywarden_core::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use std::io::{self, Write};
use std::path::Path;

/// What one `apply` or `undo` run did.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunReportDocument<'a> {
    /// One entry per plan action, in plan order.
    pub actions: Vec<RunActionRecord<'a>>,
    /// What undo could not reverse, said plainly.
    pub irreversible: &'a [String],
    /// `apply`, `undo`, `rotate`, `contain`.
    pub kind: &'a str,
    pub run_id: &'a str,
    /// Intents an interrupted attempt left without an outcome, and how they were settled.
    pub settled_in_doubt: &'a [String],
}

/// One action of a run.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunActionRecord<'a> {
    pub action_id: &'a str,
    pub detail: String,
    pub kind: &'a str,
    /// `done`, `already-done`, `skipped`, `failed`, ...: the engine's label.
    pub result: &'static str,
    pub target: &'a str,
}

impl RunReportDocument<'_> {
    pub fn print(&self, format: DocumentFormat, out: &mut dyn Write) -> io::Result<()> {
        if format == DocumentFormat::Json {
            return write_json(self, out);
        }
        writeln!(out, "Run {} ({})", self.run_id, self.kind)?;
        for line in self.settled_in_doubt {
            writeln!(
                out,
                "  settled from the interrupted attempt: {}",
                terminal(line)
            )?;
        }
        for a in &self.actions {
            writeln!(
                out,
                "  {:<12} {:<15} {:<20} {}  {}",
                terminal(a.action_id),
                a.result,
                terminal(a.kind),
                terminal(a.target),
                terminal(&a.detail)
            )?;
        }
        for line in self.irreversible {
            writeln!(out, "  cannot be undone: {}", terminal(line))?;
        }
        Ok(())
    }
}

/// One run in the journal.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunRecord<'a> {
    pub counts: RunCounts,
    /// When it finished; `null` when unfinished.
    pub finished_at: Option<Timestamp>,
    pub kind: &'a str,
    /// For an undo, the run it undoes.
    pub parent: Option<&'a str>,
    /// How many times the run was reopened by a resume.
    pub resumes: u32,
    pub run_id: &'a str,
    pub started_at: Timestamp,
    /// How it finished, or `unfinished`.
    pub status: &'a str,
}

/// A run's actions by their latest step.
#[derive(Debug, Clone, Copy, Serialize, JsonSchema)]
pub struct RunCounts {
    pub abandoned: u32,
    pub done: u32,
    pub failed: u32,
    pub in_doubt: u32,
    pub skipped: u32,
    pub unverified: u32,
}

impl RunRecord<'_> {
    /// The run on one line of `runs`' table.
    fn line(&self) -> String {
        let c = self.counts;
        format!(
            "{}  {:<8} {:<22} started {}  done {} skipped {} failed {} in-doubt {}{}",
            self.run_id,
            self.kind,
            self.status,
            table_time(self.started_at),
            c.done,
            c.skipped,
            c.failed,
            c.in_doubt,
            self.parent
                .map_or(String::new(), |p| format!("  (undoes {p})"))
        )
    }
}

/// `keywarden runs`: every run in the journal (`journal` names it in the table; `None` when
/// there is no journal, then `folder` is the state folder looked in).
pub fn print_run_list(
    runs: &[RunRecord<'_>],
    journal: Result<&Path, &Path>,
    format: DocumentFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        DocumentFormat::Json => write_json(&runs, out),
        DocumentFormat::Table => match journal {
            Err(folder) => writeln!(out, "no runs (no journal in {})", folder.display()),
            Ok(path) => {
                if runs.is_empty() {
                    writeln!(out, "no runs in {}", path.display())?;
                }
                for run in runs {
                    writeln!(out, "{}", run.line())?;
                }
                Ok(())
            }
        },
    }
}

/// `keywarden runs RUN_ID`: one run and its steps.
#[derive(Debug, Serialize, JsonSchema)]
pub struct RunStepsDocument<'a> {
    pub run: RunRecord<'a>,
    /// In the order they were journaled.
    pub steps: Vec<StepRecord<'a>>,
}

/// One journaled step: a skip, or an AWS call (intent, outcome, verification).
#[derive(Debug, Serialize, JsonSchema)]
#[serde(untagged)]
pub enum StepRecord<'a> {
    Skipped {
        action_id: &'a str,
        at: Timestamp,
        /// Why the action was skipped.
        skipped: &'a str,
    },
    Call {
        action_id: &'a str,
        at: Timestamp,
        /// The API action, e.g. `iam:UpdateAccessKey`.
        call: &'a str,
        /// The AWS error code of a failed call.
        code: Option<&'a str>,
        /// The failure's message, or what was found already done, or why it was abandoned.
        detail: Option<&'a str>,
        /// `succeeded`, `failed`, `already_done`, `abandoned`; `null`: in doubt (no outcome).
        outcome: Option<&'a str>,
        target: &'a str,
        /// Whether the read-back confirmed the change; `null`: not verified.
        verified: Option<bool>,
        /// The read-back's description (table only).
        #[serde(skip)]
        #[schemars(skip)]
        verification_detail: Option<&'a str>,
    },
}

impl RunStepsDocument<'_> {
    pub fn print(&self, format: DocumentFormat, out: &mut dyn Write) -> io::Result<()> {
        if format == DocumentFormat::Json {
            return write_json(self, out);
        }
        writeln!(out, "{}", self.run.line())?;
        for step in &self.steps {
            match step {
                StepRecord::Skipped {
                    action_id,
                    at,
                    skipped,
                } => writeln!(
                    out,
                    "  {} {} skip: {}",
                    table_time(*at),
                    terminal(action_id),
                    terminal(skipped)
                )?,
                StepRecord::Call {
                    action_id,
                    at,
                    call,
                    code,
                    detail,
                    outcome,
                    target,
                    verified,
                    verification_detail,
                } => {
                    let outcome = match (outcome, code, detail) {
                        (None, _, _) => "IN DOUBT (no outcome)".to_owned(),
                        (Some(name), Some(code), detail) => {
                            format!("{name} {code}: {}", detail.unwrap_or_default())
                        }
                        (Some(name), None, Some(detail)) => format!("{name} {detail}"),
                        (Some(name), None, None) => (*name).to_owned(),
                    };
                    let verified = verified.map_or(String::new(), |v| {
                        format!(
                            "; verified={v} ({})",
                            verification_detail.unwrap_or_default()
                        )
                    });
                    writeln!(
                        out,
                        "  {} {} {} {}: {}{}",
                        table_time(*at),
                        terminal(action_id),
                        terminal(call),
                        terminal(target),
                        terminal(&outcome),
                        terminal(&verified)
                    )?;
                }
            }
        }
        Ok(())
    }
}

/// A plan as a reviewer reads it; `out` is where the plan file was written, if it was.
pub fn print_plan_table(plan: &Plan, file: Option<&Path>, out: &mut dyn Write) -> io::Result<()> {
    let count = |s: Safety| plan.actions.iter().filter(|a| a.safety == s).count();
    writeln!(
        out,
        "Remediation plan: {} actions ({} safe, {} two-phase, {} unsafe, {} manual)",
        plan.actions.len(),
        count(Safety::Safe),
        count(Safety::TwoPhase),
        count(Safety::Unsafe),
        count(Safety::Manual)
    )?;
    writeln!(
        out,
        "from {} {}, data as of {}, planned {}\n",
        terminal(&plan.source.kind),
        terminal(&plan.source.location),
        plan.source
            .data_as_of
            .map_or("unknown".to_owned(), table_time),
        table_time(plan.created_at)
    )?;
    for action in &plan.actions {
        let when = action
            .not_before
            .map_or("now".to_owned(), |t| format!("after {}", table_time(t)));
        writeln!(
            out,
            "{}  {:<9}  {:<20}  {}  ({when})",
            terminal(&action.id),
            action.safety.as_str(),
            action.kind.as_str(),
            terminal(&action.target())
        )?;
        for reason in &action.reasons {
            writeln!(
                out,
                "      why:   {} {}",
                terminal(&reason.rule),
                terminal(&reason.message)
            )?;
        }
        if action.kind != ActionKind::Manual {
            writeln!(
                out,
                "      only if: {}",
                terminal(&action.precondition.describe())
            )?;
        }
        for step in &action.steps {
            writeln!(out, "      - {}", terminal(step))?;
        }
    }
    if !plan.not_planned.is_empty() {
        writeln!(out, "\nNot planned:")?;
        for n in &plan.not_planned {
            writeln!(
                out,
                "  {} {} {}: {}",
                terminal(&n.rule),
                terminal(n.user.as_deref().unwrap_or("-")),
                terminal(n.access_key_id.as_deref().unwrap_or("")),
                terminal(&n.why)
            )?;
        }
    }
    write_no_key_id_hint(plan, out)?;
    let file = file.map_or("PLAN.json".to_owned(), |p| {
        terminal(&p.display().to_string()).into_owned()
    });
    writeln!(
        out,
        "\nApply: keywarden apply {file}   (safe actions only; add --two-phase for deletions, \
         --unsafe for actions that may break a workload)"
    )
}

/// Key findings of a credential report file's audit name no key id, so none was planned: say
/// why, and the way out.
fn write_no_key_id_hint(plan: &Plan, out: &mut dyn Write) -> io::Result<()> {
    let count = plan
        .not_planned
        .iter()
        .filter(|n| n.why == keywarden_core::remediation::NO_KEY_ID)
        .count();
    if count == 0 {
        return Ok(());
    }
    let from = if plan.source.kind == "audit-file" {
        terminal(&plan.source.location).into_owned()
    } else {
        "audit.json".to_owned()
    };
    writeln!(
        out,
        "\n{count} key {} not planned: a credential report names a user's keys by slot \
         (access_key_1, access_key_2), never by id, and every key action needs the id. \
         `keywarden plan --from {from} --resolve-key-ids` reads the ids (ListAccessKeys of those \
         users only, read-only: `keywarden permissions --command plan`) and plans them; a live \
         `keywarden plan` does too.",
        if count == 1 { "finding" } else { "findings" }
    )
}

/// A plan in `format`: the table, or the plan file's own JSON.
pub fn print_plan(
    plan: &Plan,
    file: Option<&Path>,
    format: DocumentFormat,
    out: &mut dyn Write,
) -> io::Result<()> {
    match format {
        DocumentFormat::Table => print_plan_table(plan, file, out),
        DocumentFormat::Json => out.write_all(plan.to_json().as_bytes()),
    }
}
