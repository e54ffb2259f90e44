//! The Markdown output (`--format markdown`): a summary to paste into a pull request, a ticket
//! or a chat, rendered by GitHub-flavoured Markdown.
//!
//! It says where the data came from and how old it is, counts findings by severity and status,
//! lists the critical and high findings in a table, and puts the medium and low ones in a
//! collapsed `<details>` section, so the message stays short where it is pasted. Each table shows
//! at most [`MAX_TABLE_ROWS`] findings and says how many more there are (a GitHub comment holds
//! 65,536 characters; the JSON output has them all). An empty result says so in words.
//!
//! Every value that came from outside (user names, account ids, key ids, messages quoting log
//! fields, the source's path, exemption reasons) goes through [`escape::markdown`]: markup
//! characters are backslash-escaped (no link, image, tag, emphasis or code span can open), line
//! breaks and Bidi or invisible characters are shown as `\u{..}`, and `|` cannot end a table
//! cell. keywarden's own words and numbers need no escaping; rule codes and names are escaped
//! all the same, since Sigma rules bring their own.

use crate::table::source_line;
use crate::{escape, rfc3339, FindingsReport, Printer};
use keywarden_core::finding::{Finding, Severity, Status};
use std::io::{self, Write};

/// `--format markdown`.
#[derive(Debug, Clone, Copy, Default)]
pub struct MarkdownPrinter;

const STATUSES: [Status; 3] = [Status::Fail, Status::Unknown, Status::Exempted];

/// The most findings one table lists.
pub const MAX_TABLE_ROWS: usize = 100;

/// What one pass over the findings keeps: the counts, and the first rows of each table (an
/// organization run's findings are read back account by account, never all held).
#[derive(Default)]
struct Tally {
    /// `[severity][status]`, in [`Severity::ALL`] and [`STATUSES`] order.
    counts: [[usize; 3]; 4],
    urgent: Vec<Finding>,
    urgent_total: usize,
    rest: Vec<Finding>,
    rest_total: usize,
}

impl Tally {
    fn of(report: &FindingsReport<'_>) -> io::Result<Tally> {
        let mut tally = Tally::default();
        report.for_each_finding(&mut |f| {
            let row = Severity::ALL.iter().position(|s| *s == f.severity());
            let column = STATUSES.iter().position(|s| *s == f.status);
            if let (Some(row), Some(column)) = (row, column) {
                tally.counts[row][column] += 1;
            }
            let (rows, total) = if matches!(f.severity(), Severity::Critical | Severity::High) {
                (&mut tally.urgent, &mut tally.urgent_total)
            } else {
                (&mut tally.rest, &mut tally.rest_total)
            };
            *total += 1;
            if rows.len() < MAX_TABLE_ROWS {
                rows.push(f.clone());
            }
            Ok(())
        })?;
        Ok(tally)
    }

    fn total(&self) -> usize {
        self.urgent_total + self.rest_total
    }

    fn with_status(&self, status: Status) -> usize {
        let column = STATUSES.iter().position(|s| *s == status).unwrap_or(0);
        self.counts.iter().map(|row| row[column]).sum()
    }
}

impl Printer for MarkdownPrinter {
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        let tally = Tally::of(report)?;
        let total = tally.total();
        writeln!(
            out,
            "## keywarden: {total} finding{}\n",
            if total == 1 { "" } else { "s" }
        )?;
        writeln!(
            out,
            "{}  ",
            escape::markdown(&source_line(&report.source, report.now))
        )?;
        writeln!(
            out,
            "audited at {} with keywarden {}, preset {}, {} rule{} run\n",
            rfc3339(report.now),
            escape::markdown(report.tool_version),
            escape::markdown(report.preset),
            report.rules_run.len(),
            if report.rules_run.len() == 1 { "" } else { "s" },
        )?;
        if report.rules_run.is_empty() {
            return writeln!(out, "No rules ran: nothing was checked.");
        }
        if total == 0 {
            return writeln!(
                out,
                "No findings: every credential passed all {} rules run.",
                report.rules_run.len()
            );
        }
        write_counts(&tally, out)?;

        writeln!(out, "### Critical and high ({})\n", tally.urgent_total)?;
        if tally.urgent_total == 0 {
            writeln!(out, "None.\n")?;
        } else {
            write_table(&tally.urgent, tally.urgent_total, out)?;
        }
        if tally.rest_total > 0 {
            writeln!(
                out,
                "<details>\n<summary>Medium and low ({})</summary>\n",
                tally.rest_total
            )?;
            write_table(&tally.rest, tally.rest_total, out)?;
            writeln!(out, "</details>\n")?;
        }
        if tally.with_status(Status::Unknown) > 0 {
            writeln!(
                out,
                "Some checks could not be decided (`unknown`): the data they needed was missing, which is not a pass."
            )?;
        }
        Ok(())
    }
}

/// Counts by severity (rows) and status (columns), with totals.
fn write_counts(tally: &Tally, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "| Severity | fail | unknown | exempted | total |")?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: |")?;
    for (severity, counts) in Severity::ALL.iter().zip(&tally.counts) {
        writeln!(
            out,
            "| {} | {} | {} | {} | {} |",
            severity.as_str(),
            counts[0],
            counts[1],
            counts[2],
            counts.iter().sum::<usize>()
        )?;
    }
    let totals = STATUSES.map(|status| tally.with_status(status));
    writeln!(
        out,
        "| **total** | {} | {} | {} | {} |\n",
        totals[0],
        totals[1],
        totals[2],
        tally.total()
    )
}

/// At most [`MAX_TABLE_ROWS`] of a table's `total` findings (`findings` holds the first ones).
fn write_table(findings: &[Finding], total: usize, out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "| Severity | Status | Rule | Account | User | Credential | Finding |"
    )?;
    writeln!(out, "| --- | --- | --- | --- | --- | --- | --- |")?;
    for f in findings.iter().take(MAX_TABLE_ROWS) {
        let credential = match &f.access_key_id {
            Some(key) => format!("{} {key}", f.credential.as_str()),
            None => f.credential.as_str().to_owned(),
        };
        let mut message = f.message.clone();
        if let Some(note) = &f.exemption {
            message.push_str(&format!(" (exempted: {}, {})", note.reason, note.source));
        }
        writeln!(
            out,
            "| {} | {} | {} {} | {} | {} | {} | {} |",
            f.severity().as_str(),
            f.status.as_str(),
            escape::markdown(f.rule.code),
            escape::markdown(f.rule.name),
            escape::markdown(f.account.as_deref().unwrap_or("-")),
            escape::markdown(f.user.as_deref().unwrap_or("-")),
            escape::markdown(&credential),
            escape::markdown(&message),
        )?;
    }
    writeln!(out)?;
    if total > MAX_TABLE_ROWS {
        writeln!(
            out,
            "{} more not shown: `--format json` or `--format csv` lists every finding.\n",
            total - MAX_TABLE_ROWS
        )?;
    }
    Ok(())
}
