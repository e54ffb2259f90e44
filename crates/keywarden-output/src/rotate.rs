//! `keywarden rotate`'s summary on standard output: the new key, where its secret went, and the
//! old key's plan. After `--show-secret`'s credentials it is written as `#` comments, so standard
//! output stays a valid AWS credentials file.

use crate::escape::terminal;
use crate::table_time;
use keywarden_core::remediation::{ActionKind, Plan};
use std::io::{self, Write};
use std::path::Path;

/// What became of the old key's plan.
#[derive(Debug)]
pub enum OldKeyPlan<'a> {
    /// The user had no other key.
    Nothing,
    /// Written to this file.
    Written(&'a Path, &'a Plan),
    /// Could not be written (said on standard error, with the plan).
    NotWritten,
}

/// The rotation, as the summary tells it.
#[derive(Debug)]
pub struct RotateSummary<'a> {
    pub user: &'a str,
    pub new_key_id: Option<&'a str>,
    /// Where the secret went: a file, a secret's name, standard output.
    pub handed_to: Option<&'a str>,
    pub run_id: &'a str,
    pub plan: OldKeyPlan<'a>,
    /// Lines written as `# ` comments (after credentials on standard output).
    pub as_comments: bool,
}

impl RotateSummary<'_> {
    pub fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        let mut lines = vec![format!(
            "rotated {}: new key {}, secret in {} (run {})",
            self.user,
            self.new_key_id.unwrap_or("?"),
            self.handed_to.unwrap_or("?"),
            self.run_id
        )];
        match self.plan {
            OldKeyPlan::Nothing => {
                lines.push(format!("{} had no other key: nothing to plan", self.user))
            }
            OldKeyPlan::Written(path, plan) => lines.extend(plan_lines(path, plan)),
            OldKeyPlan::NotWritten => {}
        }
        let prefix = if self.as_comments { "# " } else { "" };
        for line in lines {
            // The user name and the paths are the caller's and AWS's text: escaped like any table.
            writeln!(out, "{prefix}{}", terminal(&line))?;
        }
        Ok(())
    }
}

/// The old key's plan: its actions, and when to apply them.
fn plan_lines(path: &Path, plan: &Plan) -> Vec<String> {
    let mut lines = vec![format!("plan for the old key: {}", path.display())];
    for action in &plan.actions {
        let when = action
            .not_before
            .map(table_time)
            .unwrap_or_else(|| "now".to_owned());
        lines.push(format!(
            "  {} {} {} ({}), not before {when}",
            action.id,
            action.kind,
            action.access_key_id.as_deref().unwrap_or("-"),
            action.safety
        ));
    }
    let first = |kind: ActionKind| {
        plan.actions
            .iter()
            .filter(|a| a.kind == kind)
            .filter_map(|a| a.not_before)
            .min()
    };
    if let Some(at) = first(ActionKind::DeactivateKey) {
        lines.push(format!(
            "after {}: keywarden apply {}   (deactivates the old key unless it was used since the \
             rotation)",
            table_time(at),
            path.display()
        ));
    }
    if let Some(at) = first(ActionKind::DeleteKey) {
        lines.push(format!(
            "after {}: keywarden apply --two-phase {}   (deletes it once inactive and unused)",
            table_time(at),
            path.display()
        ));
    }
    lines
}
