//! The table output: what a person reads in a terminal.
//!
//! It opens with where the data came from and how old it is, because a credential report can be
//! hours old and a finding describes the data, not the present. Findings follow, grouped by
//! severity with the worst first, so the top of the screen is what to fix first; each rule's fix
//! hint is printed once under its findings instead of repeating on every line. A summary line
//! closes the output, and an empty result says so in words rather than printing nothing, so that
//! "no findings" cannot be mistaken for "nothing ran".
//!
//! The text is deterministic: columns padded from the data itself, instants in one style
//! ([`table_time`]). By default it is plain, unwrapped text, so the same audit always prints the
//! same bytes and the output can be diffed and kept as a golden file; a [`TableStyle`] (what the
//! binary makes of a terminal, `--color` and `NO_COLOR`) adds colour by severity and wraps long
//! lines at the terminal's width, a finding's message under its own column. Every value that
//! came from outside (user names, key ids, log fields, messages quoting them, exemption reasons,
//! the source's path) goes through [`escape::terminal`] before any of that, so the only escape
//! sequences in the output are the table's own colours.

use crate::{escape, table_time, DataSource, FindingsReport, OrgFindings, Printer, Subject};
use keywarden_core::finding::{ExemptionNote, Finding, Severity, Status};
use keywarden_core::rules::RuleMeta;
use keywarden_core::Timestamp;
use std::io::{self, Write};

/// `--format table`.
#[derive(Debug, Clone, Copy, Default)]
pub struct TablePrinter {
    pub style: TableStyle,
}

/// How a table is drawn: plain and unwrapped by default (a file, a pipe, a golden test).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TableStyle {
    /// Colour severities and statuses (ANSI SGR codes).
    pub color: bool,
    /// Wrap lines longer than this many characters.
    pub width: Option<usize>,
}

/// The narrowest width wrapped to: below it, wrapping would only scatter the words.
const MIN_WIDTH: usize = 40;

impl TableStyle {
    /// `line` as printed: cut at spaces into lines of at most the width (a word longer than a
    /// line is cut where it must be), each line after the first indented by `hang`.
    pub fn wrap(&self, line: &str) -> Vec<String> {
        self.wrap_hanging(line, leading_spaces(line) + 4)
    }

    /// [`TableStyle::wrap`] with the continuation lines' indent given.
    pub fn wrap_hanging(&self, line: &str, hang: usize) -> Vec<String> {
        let width = match self.width {
            Some(width) if line.chars().count() > width => width.max(MIN_WIDTH),
            _ => return vec![line.to_owned()],
        };
        let hang = hang.min(width.saturating_sub(20));
        let chars: Vec<char> = line.chars().collect();
        let mut lines = Vec::new();
        let mut start = 0;
        while start < chars.len() {
            let indent = if lines.is_empty() { 0 } else { hang };
            if indent > 0 {
                while start < chars.len() && chars[start] == ' ' {
                    start += 1;
                }
            }
            let room = width - indent;
            let rest = &chars[start..];
            if rest.len() <= room {
                if !rest.is_empty() {
                    lines.push(format!("{:indent$}{}", "", rest.iter().collect::<String>()));
                }
                break;
            }
            // The last space that leaves a line within `room`, else a hard cut.
            let end = (1..=room)
                .rev()
                .find(|&i| rest[i] == ' ' && rest[..i].iter().any(|c| *c != ' '))
                .unwrap_or(room);
            let piece: String = rest[..end].iter().collect();
            lines.push(format!("{:indent$}{}", "", piece.trim_end()));
            start += end;
        }
        lines
    }

    /// `text` in colour `sgr` when colour is on.
    fn paint(&self, text: &str, sgr: &str) -> String {
        if self.color && !sgr.is_empty() {
            format!("\x1b[{sgr}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }

    /// Writes `line` wrapped (continuation lines under `hang`).
    fn put(&self, out: &mut dyn Write, line: &str, hang: usize) -> io::Result<()> {
        for piece in self.wrap_hanging(line, hang) {
            writeln!(out, "{piece}")?;
        }
        Ok(())
    }

    /// Writes `line` wrapped under its own indent plus four.
    fn put_text(&self, out: &mut dyn Write, line: &str) -> io::Result<()> {
        self.put(out, line, leading_spaces(line) + 4)
    }
}

fn leading_spaces(line: &str) -> usize {
    line.chars().take_while(|c| *c == ' ').count()
}

/// The SGR colour of a severity: bold red, red, yellow, cyan.
fn severity_sgr(severity: Severity) -> &'static str {
    match severity {
        Severity::Critical => "1;31",
        Severity::High => "31",
        Severity::Medium => "33",
        Severity::Low => "36",
    }
}

/// The SGR colour of a finding's status word: a failure in its severity's colour, `unknown`
/// magenta (something is missing), `exempted` dim (an accepted risk).
fn status_sgr(finding: &Finding) -> &'static str {
    match finding.status {
        Status::Fail => severity_sgr(finding.severity()),
        Status::Unknown => "35",
        Status::Exempted => "2",
    }
}

/// Wide enough for the longest status word, `EXEMPTED`.
const STATUS_WIDTH: usize = 8;

impl Printer for TablePrinter {
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        let style = &self.style;
        style.put_text(out, &source_line(&report.source, report.now))?;
        let header = match report.subject {
            Subject::Credentials { .. } => format!(
                "audited at {} with keywarden {}, preset {}, {}",
                table_time(report.now),
                report.tool_version,
                report.preset,
                plural(report.rules_run.len() as u64, "rule", "rules"),
            ),
            Subject::Events { .. } => format!(
                "analysed at {} with keywarden {}, {}",
                table_time(report.now),
                report.tool_version,
                plural(report.rules_run.len() as u64, "detection", "detections"),
            ),
        };
        style.put_text(out, &header)?;
        writeln!(out)?;

        if let Some(org) = report.org {
            write_org(out, report, org, style)?;
        } else if report.rules_run.is_empty() {
            writeln!(out, "No rules ran: nothing was checked.")?;
        } else if report.findings.is_empty() {
            style.put_text(out, &no_findings(report))?;
        } else {
            write_groups(out, report.findings, report.now, style)?;
        }

        write_report_file_hint(out, report, style)?;
        let counted = match report.subject {
            Subject::Credentials { .. } => plural(report.users_evaluated(), "user", "users"),
            Subject::Events { analysed, .. } => {
                write_rule_rollup(out, report)?;
                plural(analysed, "event analysed", "events analysed")
            }
        };
        writeln!(
            out,
            "{counted}, {} failing, {} unknown, {} exempted",
            report.count(Status::Fail),
            report.count(Status::Unknown),
            report.count(Status::Exempted),
        )
    }
}

/// A credential report file cannot hold account-wide facts (the password policy, the trails):
/// their rules are `unknown`, and exit status 2, on a file's first audit. Say why, and the ways
/// out, so the status does not read as a failure of the tool.
fn write_report_file_hint(
    out: &mut dyn Write,
    report: &FindingsReport<'_>,
    style: &TableStyle,
) -> io::Result<()> {
    if report.source.kind != "credential-report-file" {
        return Ok(());
    }
    let mut codes: Vec<&str> = report
        .findings
        .iter()
        .filter(|f| f.status == Status::Unknown && f.user.is_none())
        .map(|f| f.rule.code)
        .collect();
    codes.sort_unstable();
    codes.dedup();
    if codes.is_empty() {
        return Ok(());
    }
    let list = codes.join(",");
    style.put_text(out, &format!(
        "{} unknown: a credential report file does not hold what {} decide; audit the live account, or leave them out with --ignore {list}.",
        list.replace(',', ", "),
        if codes.len() == 1 { "this rule needs to" } else { "these rules need to" },
    ))?;
    writeln!(out)
}

/// What an empty result says: a pass only when something was checked and the input was whole.
fn no_findings(report: &FindingsReport<'_>) -> String {
    let rules = plural(report.rules_run.len() as u64, "rule", "rules");
    match report.subject {
        Subject::Credentials { .. } => format!("No findings: every credential passed all {rules} run."),
        Subject::Events { analysed: 0, .. } => {
            "No events were analysed (none read, or none inside --since/--until): nothing was checked."
                .to_owned()
        }
        Subject::Events {
            analysed,
            bad_records,
        } if bad_records > 0 => format!(
            "No findings in the {} read, but {} could not be read: the run is incomplete.",
            plural(analysed, "event", "events"),
            plural(bad_records, "record", "records"),
        ),
        Subject::Events { analysed, .. } => format!(
            "No findings: none of the {} matched the {} analysed.",
            plural(report.rules_run.len() as u64, "detection", "detections"),
            plural(analysed, "event", "events"),
        ),
    }
}

/// A trail run's findings counted per rule, with each rule's title: a Sigma rule's code is its
/// UUID, which says nothing to a reader.
fn write_rule_rollup(out: &mut dyn Write, report: &FindingsReport<'_>) -> io::Result<()> {
    if report.findings.is_empty() {
        return Ok(());
    }
    let mut by_code: std::collections::HashMap<&str, (&RuleMeta, usize)> = Default::default();
    for finding in report.findings {
        by_code
            .entry(finding.rule.code)
            .or_insert((finding.rule, 0))
            .1 += 1;
    }
    let mut counts: Vec<(&RuleMeta, usize)> = by_code.into_values().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.code.cmp(b.0.code)));
    let width = counts.iter().map(|(r, _)| r.code.len()).max().unwrap_or(0);
    let count_width = counts
        .iter()
        .map(|(_, n)| n.to_string().len())
        .max()
        .unwrap_or(0);
    writeln!(out, "By rule")?;
    for (rule, n) in counts {
        writeln!(
            out,
            "  {code:<width$}  {n:>count_width$}  {title}",
            code = clean(rule.code),
            title = clean(rule.name),
        )?;
    }
    writeln!(out)
}

/// Findings grouped by severity, worst first, each rule's fix hint under its findings.
fn write_groups(
    out: &mut dyn Write,
    findings: &[Finding],
    now: Timestamp,
    style: &TableStyle,
) -> io::Result<()> {
    let columns = Columns::measure(findings);
    for severity in Severity::ALL {
        let group: Vec<&Finding> = findings
            .iter()
            .filter(|f| f.severity() == severity)
            .collect();
        if group.is_empty() {
            continue;
        }
        let heading = format!("{} ({})", severity.as_str().to_uppercase(), group.len());
        writeln!(out, "{}", style.paint(&heading, severity_sgr(severity)))?;
        for (rule, findings) in by_rule(&group) {
            for finding in &findings {
                write_finding(out, finding, &columns, now, style)?;
            }
            // A fix hint only helps where something fails: for `unknown` the message
            // already says what would decide it, and `exempted` is an accepted risk.
            if findings.iter().any(|f| f.status == Status::Fail) {
                let hint = clean(&rule.fix_hint());
                let indent = columns.detail_indent();
                style.put(
                    out,
                    &format!("{:indent$}fix {}: {hint}", "", clean(rule.code)),
                    indent + 4,
                )?;
            }
        }
        writeln!(out)?;
    }
    Ok(())
}

/// An organization run: the per-account summary first (status, failing findings by severity,
/// unknown ones, the report's age), then each account's findings under its heading, read back
/// one account at a time.
fn write_org(
    out: &mut dyn Write,
    report: &FindingsReport<'_>,
    org: &dyn OrgFindings,
    style: &TableStyle,
) -> io::Result<()> {
    let accounts = org.accounts();
    let ok = accounts.iter().filter(|a| a.is_ok()).count() as u64;
    writeln!(
        out,
        "{}: {ok} audited, {} not",
        plural(accounts.len() as u64, "account", "accounts"),
        accounts.len() as u64 - ok
    )?;
    let rows: Vec<[String; 10]> = accounts
        .iter()
        .map(|a| {
            let [critical, high, medium, low] = a.fail_by_severity.map(|n| n.to_string());
            let age = a.report_generated_at.map_or_else(
                || "-".to_owned(),
                |t| span(report.now.signed_duration_since(t).num_seconds().max(0)),
            );
            let status = match &a.error_code {
                Some(code) => format!("{} ({})", a.status, code),
                None => a.status.clone(),
            };
            [
                clean(&a.id),
                clean(&a.name),
                clean(&a.ou_path),
                clean(&status),
                critical,
                high,
                medium,
                low,
                a.unknown.to_string(),
                age,
            ]
        })
        .collect();
    let header = [
        "ACCOUNT",
        "NAME",
        "OU",
        "STATUS",
        "CRIT",
        "HIGH",
        "MED",
        "LOW",
        "UNKNOWN",
        "REPORT AGE",
    ]
    .map(str::to_owned);
    let mut widths = header.clone().map(|h| h.chars().count());
    for row in &rows {
        for (width, cell) in widths.iter_mut().zip(row) {
            *width = (*width).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::from(" ");
        for (cell, width) in row.iter().zip(widths) {
            line.push(' ');
            line.push_str(cell);
            line.push_str(&" ".repeat(width - cell.chars().count() + 1));
        }
        writeln!(out, "{}", line.trim_end())?;
    }
    writeln!(out)?;
    org.for_each_account(&mut |account, findings| {
        if findings.is_empty() {
            return Ok(());
        }
        writeln!(
            out,
            "== account {} {} ({}): {}",
            clean(&account.id),
            clean(&account.name),
            clean(&account.ou_path),
            clean(&account.status)
        )?;
        write_groups(out, findings, report.now, style)
    })
}

/// The header line: the source, and when its data was produced or why that is unknown.
pub(crate) fn source_line(source: &DataSource, now: Timestamp) -> String {
    let origin = match source.kind {
        "credential-report-file" => format!("credential report {}", source.location),
        "live" => format!("live account {}", source.location),
        kind => format!("{kind}: {}", source.location),
    };
    match (source.as_of, source.age_seconds(now)) {
        (Some(as_of), Some(age)) => {
            // A file's copy time is not the report's own: say so where it is used.
            let basis = if source.as_of_basis.starts_with("file modification time") {
                "; that is the file's modification time, --report-time gives the report's own"
            } else {
                ""
            };
            format!(
                "{}, data as of {} ({}{basis})",
                clean(&origin),
                table_time(as_of),
                describe_age(age)
            )
        }
        _ => format!(
            "{}, data age unknown: {}",
            clean(&origin),
            clean(&source.as_of_basis)
        ),
    }
}

/// A data age a person can read at a glance; exact to the minute where that matters (a
/// credential report is regenerated after 4 hours) and to the day beyond two days.
fn describe_age(seconds: i64) -> String {
    if seconds < 0 {
        return format!("dated {} after the audit time", span(-seconds));
    }
    format!("{} old", span(seconds))
}

fn span(seconds: i64) -> String {
    const MINUTE: i64 = 60;
    const HOUR: i64 = 60 * MINUTE;
    const DAY: i64 = 24 * HOUR;
    match seconds {
        s if s < MINUTE => format!("{s} s"),
        s if s < HOUR => format!("{} min", s / MINUTE),
        s if s < 2 * DAY => match (s / HOUR, s % HOUR / MINUTE) {
            (h, 0) => format!("{h} h"),
            (h, m) => format!("{h} h {m} min"),
        },
        // "2015 d" read like a year: spelled out, and in years beyond one.
        s if s < 365 * DAY => format!("{} days", s / DAY),
        s => format!(
            "{:.1} years ({} days)",
            s as f64 / (365.25 * DAY as f64),
            s / DAY
        ),
    }
}

/// The findings of one severity, per rule, rules in order of first appearance (the outcome is
/// sorted by rule code, so that is catalogue-code order), findings in their given order.
fn by_rule<'f>(group: &[&'f Finding]) -> Vec<(&'static RuleMeta, Vec<&'f Finding>)> {
    let mut rules: Vec<(&'static RuleMeta, Vec<&'f Finding>)> = Vec::new();
    for &finding in group {
        match rules
            .iter_mut()
            .find(|(rule, _)| rule.code == finding.rule.code)
        {
            Some((_, findings)) => findings.push(finding),
            None => rules.push((finding.rule, vec![finding])),
        }
    }
    rules
}

/// Column widths, measured over every finding so the columns line up across groups.
struct Columns {
    code: usize,
    user: usize,
    credential: usize,
}

impl Columns {
    fn measure(findings: &[Finding]) -> Self {
        let widest = |len: fn(&Finding) -> usize| findings.iter().map(len).max().unwrap_or(0);
        Columns {
            code: widest(|f| clean(f.rule.code).chars().count()),
            user: widest(|f| user_cell(f).chars().count()),
            credential: widest(|f| credential_cell(f).chars().count()),
        }
    }

    /// Detail lines (exemptions, fix hints) start under the rule code.
    fn detail_indent(&self) -> usize {
        2 + STATUS_WIDTH + 2
    }
}

fn write_finding(
    out: &mut dyn Write,
    f: &Finding,
    c: &Columns,
    now: Timestamp,
    style: &TableStyle,
) -> io::Result<()> {
    let status = f.status.as_str().to_uppercase();
    let prefix = format!(
        "  {status:<sw$}  {code:<cw$}  {user:<uw$}  {cred:<kw$}  ",
        code = clean(f.rule.code),
        user = user_cell(f),
        cred = credential_cell(f),
        sw = STATUS_WIDTH,
        cw = c.code,
        uw = c.user,
        kw = c.credential,
    );
    let line = format!("{prefix}{}", clean(&f.message));
    let indent = c.detail_indent();
    // The message wraps under its own column while that leaves room for words; under the rule
    // code otherwise (a narrow terminal, long names).
    let message_column = prefix.chars().count();
    let hang = match style.width {
        Some(width) if width.saturating_sub(message_column) >= 30 => message_column,
        _ => indent + 4,
    };
    for (i, piece) in style.wrap_hanging(line.trim_end(), hang).iter().enumerate() {
        if i == 0 && style.color {
            // The status word, coloured; the padding after it stays outside the colour.
            let rest = &piece[2 + status.len()..];
            writeln!(out, "  {}{rest}", style.paint(&status, status_sgr(f)))?;
        } else {
            writeln!(out, "{piece}")?;
        }
    }
    if let Some(event) = &f.event {
        let from = event
            .source_ip
            .as_deref()
            .map_or_else(String::new, |ip| format!(" from {}", clean(ip)));
        style.put(
            out,
            &format!(
                "{:indent$}event {} {} {}{from}",
                "",
                table_time(event.event_time),
                clean(&event.event_name),
                clean(&event.event_id),
            ),
            indent + 4,
        )?;
    }
    if let Some(note) = &f.exemption {
        let expiry = match note.expires {
            Some(t) => format!("until {}", table_time(t)),
            None => "no expiry".to_owned(),
        };
        style.put(
            out,
            &format!(
                "{:indent$}exempted: {} ({})",
                "",
                clean(&note.reason),
                provenance(note, &expiry)
            ),
            indent + 4,
        )?;
    }
    if let Some(note) = &f.ignored_exemption {
        let expiry = match note.expires {
            Some(t) if t < now => format!("expired {}", table_time(t)),
            Some(t) => format!("expires {}", table_time(t)),
            None => String::new(),
        };
        style.put(
            out,
            &format!(
                "{:indent$}exemption not applied: {} ({})",
                "",
                clean(&note.reason),
                provenance(note, &expiry)
            ),
            indent + 4,
        )?;
    }
    Ok(())
}

fn provenance(note: &ExemptionNote, expiry: &str) -> String {
    let source = clean(&note.source);
    if expiry.is_empty() {
        format!("from {source}")
    } else {
        format!("from {source}, {expiry}")
    }
}

fn user_cell(f: &Finding) -> String {
    f.user
        .as_deref()
        .map_or_else(|| "(account)".to_owned(), clean)
}

fn credential_cell(f: &Finding) -> String {
    match &f.access_key_id {
        Some(id) => format!("{} {}", f.credential.as_str(), clean(id)),
        None => f.credential.as_str().to_owned(),
    }
}

/// Text that came from a report, a log or a config file, made safe for a terminal: control and
/// Bidi characters are shown escaped ([`escape::terminal`]), so a finding stays on one line and
/// cannot send escape sequences or reorder the screen.
fn clean(text: &str) -> String {
    escape::terminal(text).into_owned()
}

fn plural(n: u64, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ages_read_at_a_glance() {
        assert_eq!(describe_age(0), "0 s old");
        assert_eq!(describe_age(59), "59 s old");
        assert_eq!(describe_age(60), "1 min old");
        assert_eq!(describe_age(3 * 3600), "3 h old");
        assert_eq!(describe_age(3 * 3600 + 20 * 60 + 5), "3 h 20 min old");
        assert_eq!(describe_age(47 * 3600), "47 h old");
        assert_eq!(describe_age(2 * 86_400 + 3600), "2 days old");
        assert_eq!(describe_age(364 * 86_400), "364 days old");
        assert_eq!(describe_age(365 * 86_400), "1.0 years (365 days) old");
        assert_eq!(
            describe_age(-2015 * 86_400),
            "dated 5.5 years (2015 days) after the audit time"
        );
        assert_eq!(describe_age(-7200), "dated 2 h after the audit time");
    }

    #[test]
    fn control_characters_cannot_reach_the_terminal() {
        assert_eq!(clean("a\nb\x1b[31mc\t"), "a\\u{a}b\\u{1b}[31mc\\u{9}");
        assert_eq!(clean("ali\u{202e}ec"), "ali\\u{202e}ec");
    }
}
