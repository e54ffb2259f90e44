//! `keywarden contain`'s summary on standard output: the key, each step's outcome, the
//! deadlines, the sessions the logs show it minted. The incident report itself (Markdown and
//! JSON files, docs/incident-report.md) is written by the application layer; this is the
//! reviewer's short version, a table only.

use crate::escape::terminal;
use keywarden_core::remediation::aws_policy_time;
use keywarden_core::Timestamp;
use std::io::{self, Write};

/// What the summary shows, borrowed from the containment and its incident report.
#[derive(Debug)]
pub struct ContainSummary<'a> {
    pub key_id: &'a str,
    pub owner: &'a str,
    pub run_id: &'a str,
    /// `contained` or `incomplete`.
    pub status: &'a str,
    pub steps: Vec<ContainStepLine<'a>>,
    /// Sessions issued before this instant are denied.
    pub sessions_revoked_before: &'a str,
    pub quarantine_until: &'a str,
    /// The sessions the key minted, when `--trail` was read.
    pub sessions: Option<Vec<ContainSessionLine<'a>>>,
    /// How to reverse the containment.
    pub undo: &'a str,
}

/// One step of the containment.
#[derive(Debug)]
pub struct ContainStepLine<'a> {
    pub action_id: &'a str,
    pub kind: &'a str,
    pub outcome: &'a str,
    pub started_at: Option<Timestamp>,
    pub detail: &'a str,
}

/// One session the key minted.
#[derive(Debug)]
pub struct ContainSessionLine<'a> {
    pub access_key_id: &'a str,
    pub minted_with: &'a str,
    pub minted_at: Timestamp,
    pub source_ip: Option<&'a str>,
    pub calls: u64,
    pub uses_after_key_revoked: Option<u64>,
}

impl ContainSummary<'_> {
    pub fn print(&self, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "Contained {} (owner {}), run {}: {}",
            terminal(self.key_id),
            terminal(self.owner),
            self.run_id,
            self.status
        )?;
        writeln!(
            out,
            "  {:<5} {:<16} {:<13} {:<20} DETAIL",
            "STEP", "ACTION", "OUTCOME", "AT"
        )?;
        for s in &self.steps {
            writeln!(
                out,
                "  {:<5} {:<16} {:<13} {:<20} {}",
                s.action_id,
                s.kind,
                s.outcome,
                s.started_at
                    .map(aws_policy_time)
                    .unwrap_or_else(|| "-".into()),
                terminal(s.detail)
            )?;
        }
        writeln!(
            out,
            "  sessions issued before {} are denied; the quarantine lifts at {}",
            self.sessions_revoked_before, self.quarantine_until
        )?;
        if let Some(sessions) = &self.sessions {
            writeln!(
                out,
                "  sessions minted by the key in the logs read: {}",
                sessions.len()
            )?;
            for s in sessions {
                writeln!(
                    out,
                    "    {}  {} at {} from {}: {} call(s){}",
                    terminal(s.access_key_id),
                    terminal(s.minted_with),
                    aws_policy_time(s.minted_at),
                    terminal(s.source_ip.unwrap_or("-")),
                    s.calls,
                    s.uses_after_key_revoked
                        .filter(|n| *n > 0)
                        .map(|n| format!(", {n} after the key was deactivated or deleted"))
                        .unwrap_or_default()
                )?;
            }
        }
        writeln!(out, "  undo: {}", self.undo)
    }
}
