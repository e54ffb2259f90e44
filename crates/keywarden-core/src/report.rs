//! The credential-report parser: AWS's CSV in, [`UserCredentials`] out, one row at a time.
//!
//! Columns are found by header name, so a report with extra or reordered columns still reads;
//! a known column that is absent becomes [`Cell::Missing`] and the rules that need it say
//! `unknown`. Everything else that is wrong (not a report, a short row, a bad date or boolean)
//! is a [`ReportError`] naming the origin, line and column. The reader streams: memory does not
//! grow with the report.

use crate::model::{AccessKey, Cell, KeySlot, Known, UserCredentials, ROOT_USER_NAME};
use crate::time::{parse_timestamp, parse_timestamp_bytes, Timestamp};
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
            Err(e) => Some(Err(self.csv_error(e))),
        }
    }

    /// Like [`next_user`](Self::next_user), but decodes the row into `user`, reusing the
    /// buffers of its strings: once they have grown, a row costs no allocation. The result is
    /// the same row, and the same error, as `next_user` gives. After an error `user` holds a
    /// partly decoded row and must not be used.
    pub fn next_user_into(
        &mut self,
        user: &mut UserCredentials,
    ) -> Option<Result<(), ReportError>> {
        match self.csv.read_byte_record(&mut self.record) {
            Ok(false) => None,
            Ok(true) => Some(self.parse_row_into(user)),
            Err(e) => Some(Err(self.csv_error(e))),
        }
    }

    fn csv_error(&self, e: csv::Error) -> ReportError {
        ReportError {
            origin: self.origin.clone(),
            line: e.position().map(|p| p.line()),
            column: None,
            kind: ReportErrorKind::Csv(e.to_string()),
        }
    }

    /// The line the current record starts on. The record's own position is where the reader
    /// stood before it skipped blank lines, so count back from where the record ended: the
    /// record's terminator, then any newlines inside its quoted fields. A final row without a
    /// terminator would count back one line too far, but never before its own start position.
    ///
    /// Only error messages need it, and it reads every byte of the row: it is computed when an
    /// error is built ([`Row::error`]), never for a good row.
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
        let mut user = UserCredentials {
            name: String::new(),
            arn: String::new(),
            is_root: false,
            created: Cell::Missing,
            password_enabled: Cell::Missing,
            password_last_used: Cell::Missing,
            password_last_changed: Cell::Missing,
            mfa_active: Cell::Missing,
            access_keys: [
                AccessKey::absent(KeySlot::One),
                AccessKey::absent(KeySlot::Two),
            ],
            tags: Known::Unknown(String::new()),
        };
        self.parse_row_into(&mut user)?;
        Ok(user)
    }

    /// Decodes the current record into `user`, every field overwritten. Fields are read in the
    /// order of the report's columns (user, arn, the user's dates and flags, key 1, key 2), so
    /// the first error of a row with several is always the same one.
    fn parse_row_into(&self, user: &mut UserCredentials) -> Result<(), ReportError> {
        let row = Row { reader: self };
        if self.record.len() != self.header.len() {
            return Err(row.error(
                None,
                ReportErrorKind::FieldCount {
                    expected: self.header.len(),
                    found: self.record.len(),
                },
            ));
        }
        row.required_text_into(USER, &mut user.name)?;
        row.required_text_into(ARN, &mut user.arn)?;
        user.is_root = user.name == ROOT_USER_NAME || user.arn.ends_with(":root");
        user.created = row.timestamp(USER_CREATION_TIME)?;
        user.password_enabled = row.boolean(PASSWORD_ENABLED)?;
        user.password_last_used = row.timestamp(PASSWORD_LAST_USED)?;
        user.password_last_changed = row.timestamp(PASSWORD_LAST_CHANGED)?;
        user.mfa_active = row.boolean(MFA_ACTIVE)?;
        for (slot, key) in KeySlot::BOTH.into_iter().zip(&mut user.access_keys) {
            let base = KEY_BASE[slot as usize];
            key.slot = slot;
            key.active = row.boolean(base)?;
            key.last_rotated = row.timestamp(base + 1)?;
            key.last_used = row.timestamp(base + 2)?;
            set_text(&mut key.last_used_region, row.text(base + 3)?);
            set_text(&mut key.last_used_service, row.text(base + 4)?);
            key.id = None;
        }
        const NO_TAGS: &str = "a credential report does not include IAM tags";
        if !matches!(&user.tags, Known::Unknown(reason) if reason == NO_TAGS) {
            user.tags = Known::Unknown(NO_TAGS.into());
        }
        Ok(())
    }
}

/// Stores a decoded text cell, reusing the string already in `cell` when both are values.
fn set_text(cell: &mut Cell<String>, value: Cell<&str>) {
    match (cell, value) {
        (Cell::Value(old), Cell::Value(new)) => {
            old.clear();
            old.push_str(new);
        }
        (cell, value) => {
            *cell = match value {
                Cell::Value(v) => Cell::Value(v.to_owned()),
                Cell::NotApplicable => Cell::NotApplicable,
                Cell::NoInformation => Cell::NoInformation,
                Cell::NotSupported => Cell::NotSupported,
                Cell::Missing => Cell::Missing,
            }
        }
    }
}

impl<R: Read> Iterator for ReportReader<R> {
    type Item = Result<UserCredentials, ReportError>;

    fn next(&mut self) -> Option<Self::Item> {
        self.next_user()
    }
}

/// One row being decoded; knows where it is for error messages.
///
/// Every value goes through a byte fast path first: when a value starts and ends with a
/// printable ASCII byte (every value AWS writes), neither UTF-8 validation nor trimming can
/// change it, so `true`/`false`, the markers and the report's own date shape are matched on the
/// bytes. Anything else, and anything the fast path does not recognise, takes the general path
/// (UTF-8 check, Unicode trim, then the same decisions), which alone builds errors: the fast path
/// only ever returns what the general path would have returned.
struct Row<'r, R: Read> {
    reader: &'r ReportReader<R>,
}

impl<'r, R: Read> Row<'r, R> {
    fn error(&self, column: Option<usize>, kind: ReportErrorKind) -> ReportError {
        ReportError {
            origin: self.reader.origin.clone(),
            line: Some(self.reader.record_line()),
            column: column.map(|c| {
                let position = self.reader.positions[c].unwrap_or(0);
                (position + 1, COLUMNS[c].to_owned())
            }),
            kind,
        }
    }

    /// The column's bytes when the report has the column and the value starts and ends with a
    /// printable ASCII byte; `None` sends the caller down the general path.
    #[inline]
    fn plain(&self, column: usize) -> Option<&'r [u8]> {
        let bytes = &self.reader.record[self.reader.positions[column]?];
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => {
                Some(bytes)
            }
            _ => None,
        }
    }

    /// The raw value of a known column, `None` when the report lacks the column.
    fn raw(&self, column: usize) -> Result<Option<&'r str>, ReportError> {
        let Some(position) = self.reader.positions[column] else {
            return Ok(None);
        };
        let bytes = &self.reader.record[position];
        let text = std::str::from_utf8(bytes)
            .map_err(|_| self.error(Some(column), ReportErrorKind::NotUtf8))?;
        Ok(Some(text.trim()))
    }

    fn required_text_into(&self, column: usize, out: &mut String) -> Result<(), ReportError> {
        let text = match self.plain(column).map(std::str::from_utf8) {
            Some(Ok(text)) => text,
            _ => match self.raw(column)? {
                Some("") | None => {
                    return Err(self.error(Some(column), ReportErrorKind::EmptyValue))
                }
                Some(v) => v,
            },
        };
        out.clear();
        out.push_str(text);
        Ok(())
    }

    fn marker<T>(value: &str) -> Option<Cell<T>> {
        Self::marker_bytes(value.as_bytes())
    }

    #[inline]
    fn marker_bytes<T>(value: &[u8]) -> Option<Cell<T>> {
        match value {
            b"N/A" => Some(Cell::NotApplicable),
            b"no_information" => Some(Cell::NoInformation),
            b"not_supported" => Some(Cell::NotSupported),
            _ => None,
        }
    }

    fn timestamp(&self, column: usize) -> Result<Cell<Timestamp>, ReportError> {
        if let Some(bytes) = self.plain(column) {
            if let Some(t) = parse_timestamp_bytes(bytes) {
                return Ok(Cell::Value(t));
            }
            if let Some(marker) = Self::marker_bytes(bytes) {
                return Ok(marker);
            }
        }
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
        if let Some(bytes) = self.plain(column) {
            if bytes.eq_ignore_ascii_case(b"true") {
                return Ok(Cell::Value(true));
            }
            if bytes.eq_ignore_ascii_case(b"false") {
                return Ok(Cell::Value(false));
            }
        }
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

    /// A text column, borrowed from the record.
    fn text(&self, column: usize) -> Result<Cell<&'r str>, ReportError> {
        if let Some(bytes) = self.plain(column) {
            if let Some(marker) = Self::marker_bytes(bytes) {
                return Ok(marker);
            }
            if let Ok(text) = std::str::from_utf8(bytes) {
                return Ok(Cell::Value(text));
            }
        }
        let Some(value) = self.raw(column)? else {
            return Ok(Cell::Missing);
        };
        Ok(Self::marker(value).unwrap_or(Cell::Value(value)))
    }
}

/// Reads a whole report into memory (for small inputs and tests; large ones should stream).
pub fn read_all(input: impl Read, origin: &str) -> Result<Vec<UserCredentials>, ReportError> {
    ReportReader::new(input, origin)?.collect()
}
