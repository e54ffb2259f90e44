//! `keywarden key`'s document: one access key's timeline as the logs tell it (creation, status
//! changes, deletion, first and last use, the sessions it minted and their use), as JSON
//! (`docs/json-output.md`, kind `key-timeline`) or as a reviewer's table.
//!
//! The wire types borrow from the core's [`Lineage`]; every field is text the logs' writers
//! chose, so the table escapes each one for the terminal.

use crate::escape::terminal;
use crate::{table_time, write_json, DocumentFormat};
use keywarden_core::cloudtrail::lineage::{Change, Lineage, Use, UseSpan};
use keywarden_core::Timestamp;
use schemars::JsonSchema;
use serde::Serialize;
use std::io::{self, Write};

/// One key's timeline. Fields are in alphabetical order, as the document has always been
/// written.
#[derive(Debug, Serialize, JsonSchema)]
pub struct KeyTimeline<'a> {
    /// The long-term access key id asked about.
    pub access_key_id: &'a str,
    /// The account of the key's owner, when an event said it.
    pub account: Option<&'a str>,
    /// The CreateAccessKey call, if read.
    pub created: Option<ChangeRecord<'a>>,
    /// The DeleteAccessKey call, if read.
    pub deleted: Option<ChangeRecord<'a>>,
    /// The IAM user the key belongs to, when an event said it.
    pub owner: Option<&'a str>,
    /// Whether any event read names the key; `false` leaves every other field empty.
    pub seen: bool,
    /// The temporary keys the key minted, directly or by role chaining, by minting time.
    pub sessions: Vec<SessionRecord<'a>>,
    /// UpdateAccessKey calls, in time order.
    pub status_changes: Vec<ChangeRecord<'a>>,
    /// The first and last call signed with the key.
    pub used: Option<UseSpanRecord<'a>>,
}

/// A call that changed the key (or minted a session).
#[derive(Debug, Serialize, JsonSchema)]
pub struct ChangeRecord<'a> {
    /// Who made the call: the caller's ARN, else user name or access key.
    pub actor: Option<&'a str>,
    pub event_id: &'a str,
    pub event_name: &'a str,
    pub source_ip: Option<&'a str>,
    /// The new status for UpdateAccessKey (`Active`, `Inactive`).
    pub status: Option<&'a str>,
    /// RFC 3339, UTC.
    #[serde(serialize_with = "crate::serialize_rfc3339")]
    #[schemars(with = "String")]
    pub time: Timestamp,
}

/// A temporary key minted from the key.
#[derive(Debug, Serialize, JsonSchema)]
pub struct SessionRecord<'a> {
    pub access_key_id: &'a str,
    /// The account the minting call was recorded in: for AssumeRole, the role's account, which
    /// differs from the key's for a session in another account of an organization.
    pub account: Option<&'a str>,
    pub minted: ChangeRecord<'a>,
    /// The key that signed the minting call: the long-term key, or a session (role chaining).
    pub parent: &'a str,
    pub used: Option<UseSpanRecord<'a>>,
}

/// The first and last call signed with a key.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UseSpanRecord<'a> {
    pub first: UseRecord<'a>,
    pub last: UseRecord<'a>,
    /// The calls read (the table's count; not in the JSON document, whose shape is kept).
    #[serde(skip)]
    #[schemars(skip)]
    pub calls: u64,
}

/// One call signed with a key.
#[derive(Debug, Serialize, JsonSchema)]
pub struct UseRecord<'a> {
    pub event_id: &'a str,
    pub event_name: &'a str,
    pub source_ip: Option<&'a str>,
    #[serde(serialize_with = "crate::serialize_rfc3339")]
    #[schemars(with = "String")]
    pub time: Timestamp,
}

impl<'a> ChangeRecord<'a> {
    fn of(c: &'a Change) -> Self {
        ChangeRecord {
            actor: c.actor.as_deref(),
            event_id: &c.event_id,
            event_name: &c.event_name,
            source_ip: c.source_ip.as_deref(),
            status: c.status.as_deref(),
            time: c.time,
        }
    }
}

impl<'a> UseRecord<'a> {
    fn of(u: &'a Use) -> Self {
        UseRecord {
            event_id: &u.event_id,
            event_name: &u.event_name,
            source_ip: u.source_ip.as_deref(),
            time: u.time,
        }
    }
}

impl<'a> UseSpanRecord<'a> {
    fn of(span: &'a UseSpan) -> Self {
        UseSpanRecord {
            first: UseRecord::of(&span.first),
            last: UseRecord::of(&span.last),
            calls: span.calls,
        }
    }
}

/// A span's two uses with their labels and times, first then last.
fn uses<'s>(
    span: Option<&'s UseSpanRecord<'_>>,
) -> impl Iterator<Item = (&'static str, &'s UseRecord<'s>, String)> {
    span.into_iter()
        .flat_map(|s| [("first use", &s.first), ("last use", &s.last)])
        .map(|(label, u)| (label, u, table_time(u.time)))
}

/// How many calls the logs read hold for a key or a session.
fn calls(span: Option<&UseSpanRecord<'_>>) -> String {
    match span.map_or(0, |s| s.calls) {
        1 => "1 call read".to_owned(),
        n => format!("{n} calls read"),
    }
}

impl<'a> KeyTimeline<'a> {
    /// `key_id`'s timeline in `lineage`; its sessions are those the lineage traces back to it.
    pub fn of(key_id: &'a str, lineage: &'a Lineage) -> Self {
        let history = lineage.keys.get(key_id);
        KeyTimeline {
            access_key_id: key_id,
            account: history.and_then(|h| h.account.as_deref()),
            created: history
                .and_then(|h| h.created.as_ref())
                .map(ChangeRecord::of),
            deleted: history
                .and_then(|h| h.deleted.as_ref())
                .map(ChangeRecord::of),
            owner: history.and_then(|h| h.owner.as_deref()),
            seen: history.is_some(),
            sessions: lineage
                .sessions_of(key_id)
                .into_iter()
                .map(|s| SessionRecord {
                    access_key_id: &s.key_id,
                    account: s.minted.account.as_deref(),
                    minted: ChangeRecord::of(&s.minted),
                    parent: &s.parent,
                    used: lineage.session_uses.get(&s.key_id).map(UseSpanRecord::of),
                })
                .collect(),
            status_changes: history
                .map(|h| h.status_changes.iter().map(ChangeRecord::of).collect())
                .unwrap_or_default(),
            used: history.and_then(|h| h.used.as_ref()).map(UseSpanRecord::of),
        }
    }

    /// The timeline in `format`.
    pub fn print(&self, format: DocumentFormat, out: &mut dyn Write) -> io::Result<()> {
        match format {
            DocumentFormat::Json => write_json(self, out),
            DocumentFormat::Table => self.print_table(out),
        }
    }

    /// The timeline as a reviewer reads it: one line per fact, in time order.
    fn print_table(&self, out: &mut dyn Write) -> io::Result<()> {
        let key_id = terminal(self.access_key_id);
        if !self.seen {
            return writeln!(out, "{key_id}: not found in the logs read");
        }
        // Every field below was read from the logs, which whoever made the calls wrote into.
        let text = |v: Option<&str>| terminal(v.unwrap_or("-")).into_owned();
        writeln!(
            out,
            "{key_id}  owner {}  account {}  {}",
            text(self.owner),
            text(self.account),
            calls(self.used.as_ref())
        )?;
        let mut lines: Vec<(String, String)> = Vec::new();
        let change_line = |label: &str, c: &ChangeRecord<'_>| {
            (
                table_time(c.time),
                format!(
                    "{label:<10} {} by {} from {}",
                    c.status
                        .map(|s| format!("-> {}", terminal(s)))
                        .unwrap_or_default(),
                    text(c.actor),
                    text(c.source_ip)
                ),
            )
        };
        lines.extend(self.created.iter().map(|c| change_line("created", c)));
        lines.extend(self.status_changes.iter().map(|c| change_line("status", c)));
        lines.extend(self.deleted.iter().map(|c| change_line("deleted", c)));
        for (label, u, time) in uses(self.used.as_ref()) {
            let line = format!(
                "{label:<10} {} from {}",
                terminal(u.event_name),
                text(u.source_ip)
            );
            lines.push((time, line));
        }
        for s in &self.sessions {
            let id = terminal(s.access_key_id);
            // Named only when it is not the key's: a session in another account.
            let elsewhere = match s.account {
                Some(account) if Some(account) != self.account => {
                    format!(" in account {}", terminal(account))
                }
                _ => String::new(),
            };
            lines.push((
                table_time(s.minted.time),
                format!(
                    "minted     {id}{elsewhere} with {} from {}, {}",
                    terminal(s.minted.event_name),
                    text(s.minted.source_ip),
                    calls(s.used.as_ref())
                ),
            ));
            for (label, u, time) in uses(s.used.as_ref()) {
                let line = format!(
                    "  {label:<8} {id}: {} from {}",
                    terminal(u.event_name),
                    text(u.source_ip)
                );
                lines.push((time, line));
            }
        }
        lines.sort();
        for (time, line) in lines {
            writeln!(out, "  {time}  {line}")?;
        }
        Ok(())
    }
}
