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

impl Printer for MarkdownPrinter {
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        let total = report.findings.len();
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
        if report.findings.is_empty() {
            return writeln!(
                out,
                "No findings: every credential passed all {} rules run.",
                report.rules_run.len()
            );
        }
        write_counts(report, out)?;

        let (urgent, rest): (Vec<&Finding>, Vec<&Finding>) = report
            .findings
            .iter()
            .partition(|f| matches!(f.severity(), Severity::Critical | Severity::High));
        writeln!(out, "### Critical and high ({})\n", urgent.len())?;
        if urgent.is_empty() {
            writeln!(out, "None.\n")?;
        } else {
            write_table(&urgent, out)?;
        }
        if !rest.is_empty() {
            writeln!(
                out,
                "<details>\n<summary>Medium and low ({})</summary>\n",
                rest.len()
            )?;
            write_table(&rest, out)?;
            writeln!(out, "</details>\n")?;
        }
        let undecided = report.findings.iter().any(|f| f.status == Status::Unknown);
        if undecided {
            writeln!(
                out,
                "Some checks could not be decided (`unknown`): the data they needed was missing, which is not a pass."
            )?;
        }
        Ok(())
    }
}

/// Counts by severity (rows) and status (columns), with totals.
fn write_counts(report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "| Severity | fail | unknown | exempted | total |")?;
    writeln!(out, "| --- | ---: | ---: | ---: | ---: |")?;
    for severity in Severity::ALL {
        let of = |status: Status| {
            report
                .findings
                .iter()
                .filter(|f| f.severity() == severity && f.status == status)
                .count()
        };
        let counts = STATUSES.map(of);
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
    let totals = STATUSES.map(|status| report.count(status));
    writeln!(
        out,
        "| **total** | {} | {} | {} | {} |\n",
        totals[0],
        totals[1],
        totals[2],
        report.findings.len()
    )
}

fn write_table(findings: &[&Finding], out: &mut dyn Write) -> io::Result<()> {
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
    if findings.len() > MAX_TABLE_ROWS {
        writeln!(
            out,
            "{} more not shown: `--format json` or `--format csv` lists every finding.\n",
            findings.len() - MAX_TABLE_ROWS
        )?;
    }
    Ok(())
}
