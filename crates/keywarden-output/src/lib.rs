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
pub mod json;
pub mod key;
pub mod remediation;
pub mod rotate;
pub mod rules;
pub mod sarif;
pub mod schema;
pub mod table;

pub use crate::asff::AsffPrinter;
pub use crate::csv::CsvPrinter;
pub use crate::json::JsonPrinter;
pub use crate::sarif::SarifPrinter;
pub use crate::table::TablePrinter;

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
    Events,
}

/// Everything a printer needs: findings, the rules that ran, and where the data came from.
/// An audit ([`FindingsReport::audit`]) and a trail run both give one.
#[derive(Debug, Clone)]
pub struct FindingsReport<'a> {
    /// Sorted as the engine that made them sorts them.
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
        }
    }

    /// How many findings have `status`.
    pub fn count(&self, status: Status) -> usize {
        self.findings.iter().filter(|f| f.status == status).count()
    }

    /// Users evaluated: 0 for events.
    pub fn users_evaluated(&self) -> u64 {
        match self.subject {
            Subject::Credentials {
                users_evaluated, ..
            } => users_evaluated,
            Subject::Events => 0,
        }
    }

    /// Whether the root row was read: never for events.
    pub fn root_row_seen(&self) -> bool {
        match self.subject {
            Subject::Credentials { root_row_seen, .. } => root_row_seen,
            Subject::Events => false,
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
    /// AWS Security Finding Format, the array Security Hub's BatchImportFindings takes.
    Asff,
}

impl Format {
    pub const ALL: [Format; 5] = [
        Format::Table,
        Format::Json,
        Format::Csv,
        Format::Sarif,
        Format::Asff,
    ];

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Table => "table",
            Format::Json => "json",
            Format::Csv => "csv",
            Format::Sarif => "sarif",
            Format::Asff => "asff",
        }
    }

    /// The format with this name (exact, lowercase), if any.
    pub fn from_name(name: &str) -> Option<Format> {
        Format::ALL.into_iter().find(|f| f.name() == name)
    }

    pub fn printer(self) -> Box<dyn Printer> {
        match self {
            Format::Table => Box::new(TablePrinter),
            Format::Json => Box::new(JsonPrinter),
            Format::Csv => Box::new(CsvPrinter),
            Format::Sarif => Box::new(SarifPrinter),
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
            "unknown format `xml` (expected one of table, json, csv, sarif, asff)"
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
