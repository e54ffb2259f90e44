//! `keywarden rotate USER`: a new access key for the user, its secret handed only where asked
//! (`--secret-file`, `--secrets-manager`, `--show-secret`), and a plan for the old key written to
//! the state folder (or `--plan-out`) for `keywarden apply` once the grace period is over.
//!
//! Standard output carries only the secret (with `--show-secret`, in the AWS CLI credentials-file
//! format, the summary then as `#` comments) and a short summary;
//! everything else goes to standard error. The secret never reaches standard error, the journal
//! or the plan.

use crate::cli::RotateArgs;
use crate::live_cmd::runtime;
use crate::state::{clock, crash_point, open_journal, state_dir, write_atomically, Existing};
use crate::Exit;
use anyhow::{bail, Context, Result};
use keywarden_app::remediate::{rotate_key, RotateOptions, RotateReport, SecretDestination};
use keywarden_aws::live::LiveClient;
use keywarden_core::remediation::Plan;
use keywarden_output::rotate::{OldKeyPlan, RotateSummary};
use std::io::Write;
use std::path::{Path, PathBuf};

pub fn rotate(args: RotateArgs) -> Result<Exit> {
    let clock = clock("rotate", &args.state)?;
    let crash = crash_point()?;
    // A key whose secret nobody receives is useless: refuse before any AWS call.
    let given = usize::from(args.secret_file.is_some())
        + usize::from(args.secrets_manager.is_some())
        + usize::from(args.show_secret);
    if given != 1 {
        bail!(
            "say where the new key's secret goes: --secret-file FILE (created with mode 0600), \
             --secrets-manager NAME, or --show-secret (standard output); AWS shows a secret \
             only once"
        );
    }
    if let Some(path) = &args.plan_out {
        if path.exists() {
            bail!(
                "--plan-out `{}`: the file exists; give a new path",
                path.display()
            );
        }
    }
    let dir = state_dir(&args.state)?;
    let mut journal = open_journal(&args.state)?;
    let options = RotateOptions {
        user: args.user.clone(),
        deactivate_after_days: args.deactivate_after_days,
        delete_after_days: args.delete_after_days,
    };
    let connect = args.aws.options();
    let mut stdout = std::io::stdout();
    let mut destination = match (&args.secret_file, &args.secrets_manager) {
        (Some(path), _) => SecretDestination::File(path.clone()),
        (None, Some(name)) => SecretDestination::SecretsManager(name.clone()),
        (None, None) => SecretDestination::Writer(&mut stdout),
    };
    let runtime = runtime()?;
    let client = runtime.block_on(LiveClient::connect(&connect))?;
    let report = runtime.block_on(async {
        rotate_key(
            &client,
            &mut journal,
            &clock,
            &options,
            &mut destination,
            crash,
        )
        .await
    })?;
    drop(destination);
    finish(&args, &dir, &report)
}

/// Reports the rotation, writes the plan, and picks the exit status.
fn finish(args: &RotateArgs, state_dir: &Path, report: &RotateReport) -> Result<Exit> {
    for note in &report.settled {
        diag!("keywarden: earlier rotation: {note}");
    }
    for action in &report.cleanup {
        diag!(
            "keywarden: {} {} ({}): {}",
            action.kind,
            action.target,
            action.action_id,
            action.result
        );
    }
    for left in &report.left_over {
        diag!("keywarden: left in place: {left}");
    }
    if let Some(failure) = &report.failure {
        diag!(
            "keywarden: rotation of {} failed (run {}): {failure}",
            report.user,
            report.run
        );
        return Ok(Exit::ErrorOrIncomplete);
    }
    let cleanup_failed = !report.succeeded();
    if cleanup_failed {
        diag!(
            "keywarden: a key whose secret nobody has could not be removed; see above and \
             `keywarden runs {}`",
            report.run
        );
    }
    let mut plan_failed = false;
    let path;
    let plan = match &report.plan {
        None => OldKeyPlan::Nothing,
        Some(plan) => {
            path = args
                .plan_out
                .clone()
                .unwrap_or_else(|| default_plan_path(state_dir, &report.user, report.run.as_str()));
            match write_plan(&path, plan) {
                Ok(()) => OldKeyPlan::Written(&path, plan),
                Err(error) => {
                    // The rotation itself happened: say so, and give the plan another way.
                    plan_failed = true;
                    diag!(
                        "keywarden: the new key is in place, but the old key's plan could not \
                         be written: {error:#}\nkeywarden: the plan follows; save it and run \
                         `keywarden apply` on it later:\n{}",
                        plan.to_json()
                    );
                    OldKeyPlan::NotWritten
                }
            }
        }
    };
    let summary = RotateSummary {
        user: &report.user,
        new_key_id: report.new_key_id.as_deref(),
        handed_to: report.handed_to.as_deref(),
        run_id: report.run.as_str(),
        plan,
        // After `--show-secret`'s credentials, the summary is made of comments, so standard
        // output stays a valid credentials file.
        as_comments: args.show_secret,
    };
    let mut out = std::io::stdout().lock();
    summary.print(&mut out)?;
    out.flush()?;
    Ok(if cleanup_failed || plan_failed {
        Exit::ErrorOrIncomplete
    } else {
        Exit::Clean
    })
}

/// `<state>/plans/rotate-<user>-<run>.json`; IAM user names are `[\w+=,.@-]`, anything else is
/// replaced so the name stays one path component.
fn default_plan_path(state_dir: &Path, user: &str, run: &str) -> PathBuf {
    let safe: String = user
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "+=,.@_-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    state_dir
        .join("plans")
        .join(format!("rotate-{safe}-{run}.json"))
}

fn write_plan(path: &Path, plan: &Plan) -> Result<()> {
    let text = plan.to_json();
    // What apply will read must read back.
    Plan::from_json(&text, &path.display().to_string()).context("the rotation plan is invalid")?;
    write_atomically(path, &text, Existing::Replace)
}
