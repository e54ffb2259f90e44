//! The credential-report parser: AWS's CSV in, [`UserCredentials`] out, one row at a time.
//!
//! Columns are found by header name, so a report with extra or reordered columns still reads;
//! a known column that is absent becomes [`Cell::Missing`] and the rules that need it say
//! `unknown`. Everything else that is wrong (not a report, a short row, a bad date or boolean)
//! is a [`ReportError`] naming the origin, line and column. The reader streams: memory does not
//! grow with the report.

use crate::model::{AccessKey, Cell, KeySlot, Known, UserCredentials, ROOT_USER_NAME};
use crate::time::{parse_timestamp, Timestamp};
use std::fmt;
use std::io::Read;

/// The 22 columns of a credential report, in AWS's order.
pub const COLUMNS: [&str; 22] = [
    "user",
    "arn",
    "user_creation_time",
    "password_enabled",
    "password_last_used",
    "password_last_changed",
    "password_next_rotation",
    "mfa_active",
    "access_key_1_active",
    "access_key_1_last_rotated",
    "access_key_1_last_used_date",
    "access_key_1_last_used_region",
    "access_key_1_last_used_service",
    "access_key_2_active",
    "access_key_2_last_rotated",
    "access_key_2_last_used_date",
    "access_key_2_last_used_region",
    "access_key_2_last_used_service",
    "cert_1_active",
    "cert_1_last_rotated",
    "cert_2_active",
    "cert_2_last_rotated",
];

// Indexes into COLUMNS.
const USER: usize = 0;
const ARN: usize = 1;
const USER_CREATION_TIME: usize = 2;
const PASSWORD_ENABLED: usize = 3;
const PASSWORD_LAST_USED: usize = 4;
const PASSWORD_LAST_CHANGED: usize = 5;
const MFA_ACTIVE: usize = 7;
/// First column of each key slot; the five key columns follow in [`crate::model::KeyField`] order.
const KEY_BASE: [usize; 2] = [8, 13];

/// What went wrong, without the where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportErrorKind {
    Empty,
    NotAReport {
        missing: Vec<&'static str>,
        found: String,
    },
    DuplicateColumn(String),
    Csv(String),
    FieldCount {
        expected: usize,
        found: usize,
    },
    NotUtf8,
    EmptyValue,
    BadDate(String),
    BadBoolean(String),
}

/// A credential report that cannot be read, with where: origin (file name or `-`), line, column.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReportError {
    pub origin: String,
    pub line: Option<u64>,
    /// 1-based column number and the column's header name.
    pub column: Option<(usize, String)>,
    pub kind: ReportErrorKind,
}

impl fmt::Display for ReportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.origin)?;
        if let Some(line) = self.line {
            write!(f, ":{line}")?;
        }
        if let Some((number, name)) = &self.column {
            write!(f, ": column {number} (`{name}`)")?;
        }
        f.write_str(": ")?;
        match &self.kind {
            ReportErrorKind::Empty => f.write_str("empty input: expected a credential report CSV"),
            ReportErrorKind::NotAReport { missing, found } => write!(
                f,
                "not a credential report: the header lacks {} (header starts: `{found}`)",
                missing.iter().map(|c| format!("`{c}`")).collect::<Vec<_>>().join(", ")
            ),
            ReportErrorKind::DuplicateColumn(c) => write!(f, "column `{c}` appears twice in the header"),
            ReportErrorKind::Csv(e) => write!(f, "malformed CSV: {e}"),
            ReportErrorKind::FieldCount { expected, found } => write!(
                f,
                "row has {found} fields but the header has {expected} (truncated or shifted row)"
            ),
            ReportErrorKind::NotUtf8 => f.write_str("value is not valid UTF-8"),
            ReportErrorKind::EmptyValue => f.write_str("value is empty"),
            ReportErrorKind::BadDate(v) => write!(
                f,
                "invalid date `{v}`: expected ISO 8601 like 2022-08-01T13:51:50+00:00, or N/A, no_information, not_supported"
            ),
            ReportErrorKind::BadBoolean(v) => {
                write!(f, "invalid boolean `{v}`: expected true, false (any case) or not_supported")
            }
        }
    }
}

impl std::error::Error for ReportError {}

/// Streams the rows of a credential report.
pub struct ReportReader<R: Read> {
    csv: csv::Reader<R>,
    /// Position of each known column in the file's rows, if present.
    positions: [Option<usize>; COLUMNS.len()],
    header: Vec<String>,
    record: csv::ByteRecord,
    origin: String,
}

impl<R: Read> ReportReader<R> {
    /// Reads and checks the header. `origin` names the input in errors (a path, or `-`).
    pub fn new(input: R, origin: impl Into<String>) -> Result<Self, ReportError> {
        let origin = origin.into();
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(input);
        let mut raw = csv::ByteRecord::new();
        let header_error = |kind| ReportError {
            origin: origin.clone(),
            line: Some(1),
            column: None,
            kind,
        };
        match csv.read_byte_record(&mut raw) {
            Ok(true) => {}
            Ok(false) => return Err(header_error(ReportErrorKind::Empty)),
            Err(e) => return Err(header_error(ReportErrorKind::Csv(e.to_string()))),
        }
        let mut header = Vec::with_capacity(raw.len());
        for (i, field) in raw.iter().enumerate() {
            let field = if i == 0 {
                field.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(field)
            } else {
                field
            };
            let name = std::str::from_utf8(field)
                .map_err(|_| header_error(ReportErrorKind::NotUtf8))?
                .trim()
                .to_owned();
            header.push(name);
        }
        let mut positions = [None; COLUMNS.len()];
        for (position, name) in header.iter().enumerate() {
            if let Some(known) = COLUMNS.iter().position(|c| c == name) {
                if positions[known].replace(position).is_some() {
                    return Err(header_error(ReportErrorKind::DuplicateColumn(name.clone())));
                }
            }
        }
        let missing: Vec<&'static str> = [USER, ARN]
            .into_iter()
            .filter(|&c| positions[c].is_none())
            .map(|c| COLUMNS[c])
            .collect();
        if !missing.is_empty() {
            let mut found: String = header.join(",").chars().take(60).collect();
            if found.len() < header.join(",").len() {
                found.push('…');
            }
            return Err(header_error(ReportErrorKind::NotAReport { missing, found }));
        }
        Ok(ReportReader {
            csv,
            positions,
            header,
            record: csv::ByteRecord::new(),
            origin,
        })
    }

    /// The known columns the input lacks.
    pub fn missing_columns(&self) -> Vec<&'static str> {
        COLUMNS
            .iter()
            .zip(self.positions)
            .filter(|(_, p)| p.is_none())
            .map(|(c, _)| *c)
            .collect()
    }

    /// The next user row, `None` at the end of the input.
    pub fn next_user(&mut self) -> Option<Result<UserCredentials, ReportError>> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => Some(self.parse_row()),
            Err(e) => {
                let line = e.position().map(|p| p.line());
                Some(Err(ReportError {
                    origin: self.origin.clone(),
                    line,
                    column: None,
                    kind: ReportErrorKind::Csv(e.to_string()),
                }))
            }
        }
    }

    /// The line the current record starts on. The record's own position is where the reader
    /// stood before it skipped blank lines, so count back from where the record ended: the
    /// record's terminator, then any newlines inside its quoted fields. A final row without a
    /// terminator would count back one line too far, but never before its own start position.
    fn record_line(&self) -> u64 {
        let start_before_blank_lines = self.record.position().map_or(1, |p| p.line());
        let end = self.csv.position().line();
        let inner_newlines = self
            .record
            .iter()
            .map(|field| field.iter().filter(|&&b| b == b'\n').count() as u64)
            .sum::<u64>();
        end.saturating_sub(inner_newlines + 1)
            .max(start_before_blank_lines)
    }

    fn parse_row(&self) -> Result<UserCredentials, ReportError> {
        let row = Row {
            reader: self,
            line: self.record_line(),
        };
        if self.record.len() != self.header.len() {
            return Err(row.error(
                None,
                ReportErrorKind::FieldCount {
                    expected: self.header.len(),
                    found: self.record.len(),
                },
            ));
        }
        let name = row.required_text(USER)?;
        let arn = row.required_text(ARN)?;
        let is_root = name == ROOT_USER_NAME || arn.ends_with(":root");
        let key = |slot: KeySlot| -> Result<AccessKey, ReportError> {
            let base = KEY_BASE[slot as usize];
            Ok(AccessKey {
                slot,
                active: row.boolean(base)?,
                last_rotated: row.timestamp(base + 1)?,
                last_used: row.timestamp(base + 2)?,
                last_used_region: row.text(base + 3)?,
                last_used_service: row.text(base + 4)?,
                id: None,
            })
        };
        Ok(UserCredentials {
            created: row.timestamp(USER_CREATION_TIME)?,
            password_enabled: row.boolean(PASSWORD_ENABLED)?,
            password_last_used: row.timestamp(PASSWORD_LAST_USED)?,
            password_last_changed: row.timestamp(PASSWORD_LAST_CHANGED)?,
            mfa_active: row.boolean(MFA_ACTIVE)?,
            access_keys: [key(KeySlot::One)?, key(KeySlot::Two)?],
            tags: Known::Unknown("a credential report does not include IAM tags".into()),
            name,
            arn,
            is_root,
        })
    }
}

impl<R: Read> Iterator for ReportReader<R> {
    type Item = Result<UserCredentials, ReportError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_user()
    }
}

/// One row being decoded; knows where it is for error messages.
struct Row<'r, R: Read> {
    reader: &'r ReportReader<R>,
    line: u64,
}

impl<R: Read> Row<'_, R> {
    fn error(&self, column: Option<usize>, kind: ReportErrorKind) -> ReportError {
        ReportError {
            origin: self.reader.origin.clone(),
            line: Some(self.line),
            column: column.map(|c| {
                let position = self.reader.positions[c].unwrap_or(0);
                (position + 1, COLUMNS[c].to_owned())
            }),
            kind,
        }
    }

    /// The raw value of a known column, `None` when the report lacks the column.
    fn raw(&self, column: usize) -> Result<Option<&str>, ReportError> {
        let Some(position) = self.reader.positions[column] else {
            return Ok(None);
        };
        let bytes = &self.reader.record[position];
        let text = std::str::from_utf8(bytes)
            .map_err(|_| self.error(Some(column), ReportErrorKind::NotUtf8))?;
        Ok(Some(text.trim()))
    }

    fn required_text(&self, column: usize) -> Result<String, ReportError> {
        match self.raw(column)? {
            Some("") | None => Err(self.error(Some(column), ReportErrorKind::EmptyValue)),
            Some(v) => Ok(v.to_owned()),
        }
    }

    fn marker<T>(value: &str) -> Option<Cell<T>> {
        match value {
            "N/A" => Some(Cell::NotApplicable),
            "no_information" => Some(Cell::NoInformation),
            "not_supported" => Some(Cell::NotSupported),
            _ => None,
        }
    }

    fn timestamp(&self, column: usize) -> Result<Cell<Timestamp>, ReportError> {
        let Some(value) = self.raw(column)? else {
            return Ok(Cell::Missing);
        };
        if let Some(marker) = Self::marker(value) {
            return Ok(marker);
        }
        parse_timestamp(value)
            .map(Cell::Value)
            .ok_or_else(|| self.error(Some(column), ReportErrorKind::BadDate(value.to_owned())))
    }

    fn boolean(&self, column: usize) -> Result<Cell<bool>, ReportError> {
        let Some(value) = self.raw(column)? else {
            return Ok(Cell::Missing);
        };
        if value.eq_ignore_ascii_case("true") {
            Ok(Cell::Value(true))
        } else if value.eq_ignore_ascii_case("false") {
            Ok(Cell::Value(false))
        } else if value == "not_supported" {
            Ok(Cell::NotSupported)
        } else {
            Err(self.error(Some(column), ReportErrorKind::BadBoolean(value.to_owned())))
        }
    }

    fn text(&self, column: usize) -> Result<Cell<String>, ReportError> {
        let Some(value) = self.raw(column)? else {
            return Ok(Cell::Missing);
        };
        Ok(Self::marker(value).unwrap_or_else(|| Cell::Value(value.to_owned())))
    }
}

/// Reads a whole report into memory (for small inputs and tests; large ones should stream).
pub fn read_all(input: impl Read, origin: &str) -> Result<Vec<UserCredentials>, ReportError> {
    ReportReader::new(input, origin)?.collect()
}
