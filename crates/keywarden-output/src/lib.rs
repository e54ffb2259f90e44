//! keywarden's printers. Each output format is a peer behind [`Printer`]; only this crate (and the
//! binary's own messages) writes to the user. The JSON wire types are versioned here.

use keywarden_core::{AuditOutcome, Timestamp};
use std::io::{self, Write};

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

/// Everything a printer needs for an audit.
#[derive(Debug, Clone)]
pub struct AuditReport<'a> {
    pub outcome: &'a AuditOutcome,
    pub source: DataSource,
    /// The threshold preset and values used, for the record.
    pub preset: &'static str,
    pub tool_version: &'static str,
}

/// An output format.
pub trait Printer {
    fn print_audit(&self, report: &AuditReport<'_>, out: &mut dyn Write) -> io::Result<()>;
}
