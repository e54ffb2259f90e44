//! keywarden's printers. Each output format is a peer behind [`Printer`]; only this crate (and the
//! binary's own messages) writes to the user. The JSON wire types are versioned here.
//!
//! Every format says where the data came from and how old it is ([`DataSource`]), because a
//! credential report can be hours old and an auditor has to know what instant a finding describes.
//! Printers are deterministic: the same [`FindingsReport`] always produces the same bytes, so outputs
//! can be diffed, snapshotted and fingerprinted.

use keywarden_core::finding::{Finding, Status};
use keywarden_core::rules::RuleMeta;
use keywarden_core::{AuditOutcome, Timestamp};
use std::fmt;
use std::io::{self, Write};
use std::str::FromStr;

pub mod asff;
pub mod contain;
pub mod csv;
pub mod escape;
pub mod html;
pub mod json;
pub mod key;
pub mod markdown;
pub mod ocsf;
pub mod remediation;
pub mod rotate;
pub mod rules;
pub mod sarif;
pub mod schema;
pub mod table;

pub use crate::asff::AsffPrinter;
pub use crate::csv::CsvPrinter;
pub use crate::html::HtmlPrinter;
pub use crate::json::JsonPrinter;
pub use crate::markdown::MarkdownPrinter;
pub use crate::ocsf::{OcsfFraming, OcsfPrinter};
pub use crate::sarif::SarifPrinter;
pub use crate::table::{TablePrinter, TableStyle};

/// Where the audited data came from and how old it is: every output says so.
#[derive(Debug, Clone)]
pub struct DataSource {
    /// `credential-report-file`, `demo`, `live`.
    pub kind: &'static str,
    /// The file path, `-` for stdin, the account, or `demo`.
    pub location: String,
    /// When the data was produced (the report's GeneratedTime), if known.
    pub as_of: Option<Timestamp>,
    /// How `as_of` was learned, or why it is unknown (e.g. "file modification time").
    pub as_of_basis: String,
}

impl DataSource {
    /// How old the data was at `now`, in whole seconds; negative when `as_of` lies after `now`
    /// (a `--now` in the past, or a clock skew), which printers report rather than hide.
    pub fn age_seconds(&self, now: Timestamp) -> Option<i64> {
        self.as_of
            .map(|as_of| now.signed_duration_since(as_of).num_seconds())
    }
}

/// What a findings report is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Subject {
    /// IAM credentials: the rows of a credential report, the root row included.
    Credentials {
        users_evaluated: u64,
        root_row_seen: bool,
    },
    /// CloudTrail events (`trail`): no user is evaluated; the documents say 0 users and no root
    /// row, as they always have.
    Events {
        /// Events analysed: read, not duplicates, inside `--since`/`--until`. Zero means nothing
        /// was checked, which no output may present as a pass.
        analysed: u64,
        /// Records that could not be read as events: the run is incomplete when this is not 0.
        bad_records: u64,
    },
}

/// One account of an organization run (`audit --org`): the per-account summary every output
/// starts with or carries. Serializable: an organization run keeps it, with the account's
/// findings, in its state folder (`--resume`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct AccountSummary {
    pub id: String,
    pub name: String,
    /// The organizational units from the root down, by name: `Root/Workloads/Prod`.
    pub ou_path: String,
    /// `ok`, `assume-role-denied`, `throttled`, `access-denied`, `report-failed`, `error`, or
    /// `skipped-suspended` (a suspended or closing account, not audited).
    pub status: String,
    /// AWS's error code when the account could not be audited.
    pub error_code: Option<String>,
    /// Why the account could not be audited, or was skipped.
    pub reason: Option<String>,
    /// The account's credential report's GeneratedTime: how old its data is.
    pub report_generated_at: Option<Timestamp>,
    pub users_evaluated: u64,
    /// Failing findings by severity, in [`keywarden_core::finding::Severity::ALL`] order (critical first).
    pub fail_by_severity: [u64; 4],
    pub fail: u64,
    pub unknown: u64,
    pub exempted: u64,
}

impl AccountSummary {
    /// Whether the account was audited to the end (`ok`); anything else is `unknown` data.
    pub fn is_ok(&self) -> bool {
        self.status == "ok"
    }
}

/// An organization run's accounts and their findings. Only the summaries are held; each
/// account's findings are read back one account at a time (from the state folder), so printing
/// an organization takes the memory of its largest account, not of all of them.
pub trait OrgFindings: Sync + fmt::Debug {
    /// Every account, in output order.
    fn accounts(&self) -> &[AccountSummary];
    /// Calls `each` with every account and its findings (sorted as an audit sorts them), in the
    /// order of [`OrgFindings::accounts`]; the first error stops it.
    fn for_each_account(
        &self,
        each: &mut dyn FnMut(&AccountSummary, &[Finding]) -> io::Result<()>,
    ) -> io::Result<()>;
    /// Rules outside the audit's `rules_run` whose findings the run may hold (an account
    /// that could not be audited is an `unknown` finding of such a rule).
    fn extra_rules(&self) -> Vec<&'static RuleMeta>;
}

/// Everything a printer needs: findings, the rules that ran, and where the data came from.
/// An audit ([`FindingsReport::audit`]), an organization run ([`FindingsReport::org`]) and a
/// trail run give one. Printers read findings through [`FindingsReport::for_each_finding`],
/// which serves both a single account's slice and an organization's accounts.
#[derive(Debug, Clone)]
pub struct FindingsReport<'a> {
    /// Sorted as the engine that made them sorts them. Empty for an organization run: its
    /// findings are in `org`.
    pub findings: &'a [Finding],
    /// The rules (and detections) that ran, in catalogue order.
    pub rules_run: &'a [&'static RuleMeta],
    /// The instant every age was measured from.
    pub now: Timestamp,
    pub subject: Subject,
    pub source: DataSource,
    /// The threshold preset used, for the record.
    pub preset: &'static str,
    pub tool_version: &'static str,
    /// An organization run's accounts and findings; `None` for one account.
    pub org: Option<&'a dyn OrgFindings>,
}

impl<'a> FindingsReport<'a> {
    /// An audit's report.
    pub fn audit(
        outcome: &'a AuditOutcome,
        source: DataSource,
        preset: &'static str,
        tool_version: &'static str,
    ) -> Self {
        FindingsReport {
            findings: &outcome.findings,
            rules_run: &outcome.rules_run,
            now: outcome.now,
            subject: Subject::Credentials {
                users_evaluated: outcome.users_evaluated,
                root_row_seen: outcome.root_row_seen,
            },
            source,
            preset,
            tool_version,
            org: None,
        }
    }

    /// An organization run's report: the accounts' summaries and their findings, read back
    /// one account at a time.
    pub fn org(
        org: &'a dyn OrgFindings,
        rules_run: &'a [&'static RuleMeta],
        now: Timestamp,
        source: DataSource,
        preset: &'static str,
        tool_version: &'static str,
    ) -> Self {
        let accounts = org.accounts();
        FindingsReport {
            findings: &[],
            rules_run,
            now,
            subject: Subject::Credentials {
                users_evaluated: accounts.iter().map(|a| a.users_evaluated).sum(),
                root_row_seen: false,
            },
            source,
            preset,
            tool_version,
            org: Some(org),
        }
    }

    /// How many findings have `status`.
    pub fn count(&self, status: Status) -> usize {
        match self.org {
            Some(org) => org
                .accounts()
                .iter()
                .map(|a| match status {
                    Status::Fail => a.fail,
                    Status::Unknown => a.unknown,
                    Status::Exempted => a.exempted,
                })
                .sum::<u64>() as usize,
            None => self.findings.iter().filter(|f| f.status == status).count(),
        }
    }

    /// Calls `each` with every finding: the slice's, or an organization's account by account.
    pub fn for_each_finding(
        &self,
        each: &mut dyn FnMut(&Finding) -> io::Result<()>,
    ) -> io::Result<()> {
        match self.org {
            Some(org) => {
                org.for_each_account(&mut |_, findings| findings.iter().try_for_each(&mut *each))
            }
            None => self.findings.iter().try_for_each(each),
        }
    }

    /// The accounts of an organization run (empty for one account).
    pub fn accounts(&self) -> &[AccountSummary] {
        self.org.map_or(&[], |org| org.accounts())
    }

    /// Users evaluated: 0 for events.
    pub fn users_evaluated(&self) -> u64 {
        match self.subject {
            Subject::Credentials {
                users_evaluated, ..
            } => users_evaluated,
            Subject::Events { .. } => 0,
        }
    }

    /// Whether the root row was read: never for events.
    pub fn root_row_seen(&self) -> bool {
        match self.subject {
            Subject::Credentials { root_row_seen, .. } => root_row_seen,
            Subject::Events { .. } => false,
        }
    }
}

/// A format for findings.
pub trait Printer {
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()>;
}

/// The output formats `--format` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Format {
    /// Plain text for people: grouped by severity, with fix hints.
    Table,
    /// The versioned wire format (see `docs/json-output.md`).
    Json,
    /// One row per finding, for spreadsheets.
    Csv,
    /// SARIF 2.1.0, for code-scanning dashboards.
    Sarif,
    /// OCSF 1.8.0 findings, one JSON document per line (see `docs/ocsf.md`).
    Ocsf,
    /// OCSF 1.8.0 findings as one JSON array.
    OcsfJson,
    /// A Markdown summary for a pull request, a ticket or a chat.
    Markdown,
    /// One self-contained HTML page for a browser (`html.rs`).
    Html,
    /// AWS Security Finding Format, the array Security Hub's BatchImportFindings takes.
    Asff,
}

impl Format {
    pub const ALL: [Format; 9] = [
        Format::Table,
        Format::Json,
        Format::Csv,
        Format::Sarif,
        Format::Ocsf,
        Format::OcsfJson,
        Format::Markdown,
        Format::Html,
        Format::Asff,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Sarif => "sarif",
            Format::Ocsf => "ocsf",
            Format::OcsfJson => "ocsf-json",
            Format::Markdown => "markdown",
            Format::Html => "html",
            Format::Asff => "asff",
        }
    }

    /// The format with this name (exact, lowercase), if any.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn printer(self) -> Box<dyn Printer> {
        match self {
            Format::Table => Box::new(TablePrinter::default()),
            Format::Json => Box::new(JsonPrinter),
            Format::Csv => Box::new(CsvPrinter),
            Format::Sarif => Box::new(SarifPrinter),
            Format::Ocsf => Box::new(OcsfPrinter(OcsfFraming::Lines)),
            Format::OcsfJson => Box::new(OcsfPrinter(OcsfFraming::Array)),
            Format::Markdown => Box::new(MarkdownPrinter),
            Format::Html => Box::new(HtmlPrinter::default()),
            Format::Asff => Box::new(AsffPrinter::default()),
        }
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A `--format` value that names no format.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownFormat(pub String);

impl fmt::Display for UnknownFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
        write!(
            f,
            "unknown format `{}` (expected one of {})",
            self.0,
            names.join(", ")
        )
    }
}

impl std::error::Error for UnknownFormat {}

impl FromStr for Format {
    type Err = UnknownFormat;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Format::from_name(s).ok_or_else(|| UnknownFormat(s.to_owned()))
    }
}

/// The formats of the documents that are not findings (a key's timeline, remediation's plans,
/// runs and steps): a table for people, or the JSON document `docs/json-output.md` describes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentFormat {
    Table,
    Json,
}

/// A document as pretty JSON and a newline, as every JSON document but the audit's is written.
pub fn write_json<T: serde::Serialize + ?Sized>(
    document: &T,
    out: &mut dyn Write,
) -> io::Result<()> {
    serde_json::to_writer_pretty(&mut *out, document)?;
    writeln!(out)
}

/// [`rfc3339`] for serde's `serialize_with`.
pub(crate) fn serialize_rfc3339<S: serde::Serializer>(
    t: &Timestamp,
    s: S,
) -> Result<S::Ok, S::Error> {
    s.serialize_str(&rfc3339(*t))
}

/// An instant as every table and terminal message writes it: RFC 3339 in UTC, whole seconds,
/// `Z` (`2026-11-20T12:00:00Z`). A clock's nanoseconds say nothing to a reader; the JSON keeps
/// them ([`rfc3339`]).
pub fn table_time(t: Timestamp) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// RFC 3339 in UTC with a `Z`, as every machine-readable output writes instants. Sub-second
/// digits appear only when the source had them, so report dates stay `2024-01-01T00:00:00Z`.
pub fn rfc3339(t: Timestamp) -> String {
    t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for format in Format::ALL {
            assert_eq!(format.name().parse::<Format>(), Ok(format));
            assert_eq!(format.to_string(), format.name());
        }
    }

    #[test]
    fn unknown_names_list_the_choices() {
        let err = "xml".parse::<Format>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "unknown format `xml` (expected one of table, json, csv, sarif, ocsf, ocsf-json, markdown, html, asff)"
        );
        assert!("JSON".parse::<Format>().is_err());
    }

    #[test]
    fn rfc3339_uses_z_and_drops_zero_fractions() {
        let t = keywarden_core::time::parse_timestamp("2024-01-01T00:00:00+00:00").unwrap();
        assert_eq!(rfc3339(t), "2024-01-01T00:00:00Z");
        let t = keywarden_core::time::parse_timestamp("2024-01-01T00:00:00.5Z").unwrap();
        assert_eq!(rfc3339(t), "2024-01-01T00:00:00.500Z");
    }
}
