//! The CSV output: one row per finding, for spreadsheets and quick joins.
//!
//! The `csv` crate does the quoting, so commas, quotes and line breaks in messages or exemption
//! reasons cannot shift a row. Evidence, whose keys vary by rule, goes in one column as the same
//! compact JSON object the JSON output writes, so the column set stays fixed for every rule.
//! Absent values (no account, an account-wide finding, no key id, no exemption) are empty cells:
//! CSV has no null. The audit time and the data's age (`generated_at`, `data_as_of`) repeat on
//! every row, so a row copied elsewhere still says how old it is.
//!
//! A CSV file is opened in spreadsheets, and a credential report or a log can put
//! `=HYPERLINK(...)` or `@SUM(...)` in a user name or a message. Every cell goes through
//! [`escape::csv_cell`] (OWASP's rule): a cell starting with `=`, `+`, `-`, `@`, tab or carriage
//! return gets a leading `'`. Plain numbers stay as they are, and a cell already starting with
//! `'` gets one more, so a script recovers the exact value by dropping one leading `'`; the JSON
//! output has every value unchanged.

use crate::json::Evidence;
use crate::{escape, rfc3339, FindingsReport, Printer, Subject};
use std::io::{self, Write};

/// `--format csv`.
#[derive(Debug, Clone, Copy, Default)]
pub struct CsvPrinter;

/// The header row; the column order is part of the output's contract.
pub const HEADER: [&str; 14] = [
    "rule",
    "name",
    "severity",
    "status",
    "account",
    "user",
    "credential",
    "access_key_id",
    "message",
    "evidence",
    "exemption_reason",
    "exemption_expires",
    "generated_at",
    "data_as_of",
];

/// The columns an organization run (`audit --org`) adds after [`HEADER`]: the account's name
/// and OU path (a single account's CSV has [`HEADER`] alone, unchanged).
pub const ORG_COLUMNS: [&str; 2] = ["account_name", "ou_path"];

/// A trail run's rows add the event behind each detection: what a person joins on.
pub const EVENT_COLUMNS: [&str; 4] = ["event_time", "event_name", "event_id", "source_ip"];

impl Printer for CsvPrinter {
    fn print_findings(&self, report: &FindingsReport<'_>, out: &mut dyn Write) -> io::Result<()> {
        let mut writer = ::csv::Writer::from_writer(out);
        let org = report.org.is_some();
        let events = matches!(report.subject, Subject::Events { .. });
        let org_header: &[&str] = if org { &ORG_COLUMNS } else { &[] };
        let event_header: &[&str] = if events { &EVENT_COLUMNS } else { &[] };
        writer.write_record(HEADER.iter().chain(org_header).chain(event_header))?;
        // Every output says how old its data is; CSV has no header block, so each row carries it.
        let generated_at = rfc3339(report.now);
        let data_as_of = report.source.as_of.map(rfc3339).unwrap_or_default();
        report.for_each_finding(&mut |f| {
            let evidence = serde_json::to_string(&Evidence::of(f))?;
            let exemption_reason = f
                .exemption
                .as_ref()
                .map(|e| e.reason.as_str())
                .unwrap_or_default();
            let exemption_expires = f
                .exemption
                .as_ref()
                .and_then(|e| e.expires)
                .map(rfc3339)
                .unwrap_or_default();
            let record = [
                f.rule.code,
                f.rule.name,
                f.severity().as_str(),
                f.status.as_str(),
                f.account.as_deref().unwrap_or_default(),
                f.user.as_deref().unwrap_or_default(),
                f.credential.as_str(),
                f.access_key_id.as_deref().unwrap_or_default(),
                &f.message,
                &evidence,
                exemption_reason,
                &exemption_expires,
                &generated_at,
                &data_as_of,
            ];
            let cells = record.map(escape::csv_cell);
            let label = f.org_account.as_deref();
            let org_cells = [
                label.map(|a| a.name.as_str()).unwrap_or_default(),
                label.map(|a| a.ou_path.as_str()).unwrap_or_default(),
            ]
            .map(escape::csv_cell);
            let extra = if org { &org_cells[..] } else { &[] };
            let event = f.event.as_deref();
            let event_cells = [
                event.map(|e| rfc3339(e.event_time)).unwrap_or_default(),
                event.map(|e| e.event_name.clone()).unwrap_or_default(),
                event.map(|e| e.event_id.clone()).unwrap_or_default(),
                event.and_then(|e| e.source_ip.clone()).unwrap_or_default(),
            ]
            .map(|cell| escape::csv_cell(&cell).into_owned());
            let event_extra = if events { &event_cells[..] } else { &[] };
            writer.write_record(
                cells
                    .iter()
                    .chain(extra)
                    .map(|cell| cell.as_bytes())
                    .chain(event_extra.iter().map(|cell| cell.as_bytes())),
            )?;
            Ok(())
        })?;
        writer.flush()
    }
}
