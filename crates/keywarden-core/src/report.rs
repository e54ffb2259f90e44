//! The credential-report parser: AWS's CSV in, [`UserCredentials`] out, one row at a time.
//!
//! Columns are found by header name, so a report with extra or reordered columns still reads;
//! a known column that is absent becomes [`Cell::Missing`] and the rules that need it say
//! `unknown`. Everything else that is wrong (not a report, a short row, a bad date or boolean,
//! a user listed twice) is a [`ReportError`] naming the origin, line and column. The reader
//! streams: memory grows with the report only by what finds a user listed twice, 8 bytes a row
//! and the names of the few rows that may repeat one (a report lists each user once, and a
//! second row for one would make the verdicts depend on which row a consumer keeps).

use crate::model::{AccessKey, Cell, KeySlot, Known, UserCredentials, ROOT_USER_NAME};
use crate::time::{parse_timestamp, parse_timestamp_bytes, Timestamp};
use records::Records;
use std::fmt;
use std::hash::BuildHasher;
use std::io::Read;

/// Input is read in blocks of this size (a block grows only for a longer record).
const READ_BUFFER: usize = 64 * 1024;

/// The longest record (one CSV row, its quoted newlines included) the reader buffers. A real
/// credential report row is a few hundred bytes (a user name is at most 64 characters, an ARN at
/// most 2,048); without a bound, input with no line break (`--report /dev/zero`) grew the buffer
/// until the allocation failed.
pub const MAX_RECORD_BYTES: usize = 1 << 20;

pub use crate::model::COLUMNS;
use crate::model::KEY_BASE;

// Indexes into COLUMNS.
const USER: usize = 0;
const ARN: usize = 1;
const USER_CREATION_TIME: usize = 2;
const PASSWORD_ENABLED: usize = 3;
const PASSWORD_LAST_USED: usize = 4;
const PASSWORD_LAST_CHANGED: usize = 5;
const MFA_ACTIVE: usize = 7;

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
    /// A record that does not end within [`MAX_RECORD_BYTES`].
    RecordTooLong {
        max: usize,
    },
    /// A NUL byte in the first line: binary data (a device, an image, UTF-16 text), not a CSV.
    Binary {
        offset: u64,
    },
    /// A second row for a user (user names are unique in an account, whatever their case) or a
    /// second root row; `first_line` is where the first one is.
    DuplicateUser {
        name: String,
        first_line: u64,
    },
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
            ReportErrorKind::RecordTooLong { max } => write!(
                f,
                "record longer than {max} bytes without a line break: not a credential report row"
            ),
            ReportErrorKind::Binary { offset } => write!(
                f,
                "NUL byte at byte {offset}: binary data, not a credential report CSV"
            ),
            ReportErrorKind::DuplicateUser { name, first_line } if name == ROOT_USER_NAME => write!(
                f,
                "a second root row (`{name}`): the first is on {}:{first_line}; a report has one root row",
                self.origin
            ),
            ReportErrorKind::DuplicateUser { name, first_line } => write!(
                f,
                "user `{name}` appears twice: first on {}:{first_line}; a report lists each user of an account once (names are unique whatever their case)",
                self.origin
            ),
        }
    }
}

impl std::error::Error for ReportError {}

/// Streams the rows of a credential report.
pub struct ReportReader<R: Read> {
    /// The CSV records; the current one is the row being decoded.
    record: Records<R>,
    /// Position of each known column in the file's rows, if present.
    positions: [Option<usize>; COLUMNS.len()],
    header: Vec<String>,
    origin: String,
    seen: SeenUsers,
    /// Whether the end of the input was reached and the duplicate check made.
    checked_duplicates: bool,
}

impl<R: Read> ReportReader<R> {
    /// Reads and checks the header. `origin` names the input in errors (a path, or `-`).
    pub fn new(input: R, origin: impl Into<String>) -> Result<Self, ReportError> {
        let origin = origin.into();
        let mut record = Records::new(input, READ_BUFFER);
        record.refuse_binary = true;
        let header_error = |kind| ReportError {
            origin: origin.clone(),
            line: Some(1),
            column: None,
            kind,
        };
        match record.read_record() {
            Ok(true) => {}
            Ok(false) => return Err(header_error(ReportErrorKind::Empty)),
            Err(e) => {
                let kind = match records::Limit::of(&e) {
                    Some(limit) => limit.kind(),
                    None => ReportErrorKind::Csv(csv_message(e)),
                };
                return Err(header_error(kind));
            }
        }
        let mut header = Vec::with_capacity(record.len());
        for (i, field) in record.iter().enumerate() {
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
            record,
            positions,
            header,
            origin,
            seen: SeenUsers::default(),
            checked_duplicates: false,
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
        match self.record.read_record() {
            Ok(false) => self.end_of_input(),
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
        match self.record.read_record() {
            Ok(false) => self.end_of_input(),
            Ok(true) => Some(
                self.parse_row_into(user)
                    .and_then(|()| self.first_sighting(user)),
            ),
            Err(e) => Some(Err(self.csv_error(e))),
        }
    }

    /// Records the row just decoded. A second root row is an error at once; a user listed twice
    /// is found at the end of the input ([`Self::end_of_input`]). Two rows for one user are not
    /// a report AWS writes (a merged or edited file): which one a consumer keeps would decide the
    /// verdict, so neither is trusted.
    fn first_sighting(&mut self, user: &UserCredentials) -> Result<(), ReportError> {
        let line = self.record.start_line();
        if !user.is_root {
            self.seen.record(user, line);
            return Ok(());
        }
        match self.seen.root_row(line) {
            None => Ok(()),
            Some(first_line) => Err(self.duplicate_error(Duplicate {
                name: user.name.clone(),
                first_line,
                line,
            })),
        }
    }

    /// At the end of the input: the error for a user listed twice, once; `None` after it.
    fn end_of_input<T>(&mut self) -> Option<Result<T, ReportError>> {
        if std::mem::replace(&mut self.checked_duplicates, true) {
            return None;
        }
        let duplicate = self.seen.first_duplicate()?;
        Some(Err(self.duplicate_error(duplicate)))
    }

    fn duplicate_error(&self, duplicate: Duplicate) -> ReportError {
        ReportError {
            origin: self.origin.clone(),
            line: Some(duplicate.line),
            column: self.positions[USER].map(|p| (p + 1, COLUMNS[USER].to_owned())),
            kind: ReportErrorKind::DuplicateUser {
                name: duplicate.name,
                first_line: duplicate.first_line,
            },
        }
    }

    /// Reading the input failed (the only error the CSV layer has: any bytes split into
    /// records). Said as the csv crate says it, without a line.
    fn csv_error(&self, e: std::io::Error) -> ReportError {
        let (line, kind) = match records::Limit::of(&e) {
            Some(limit) => (Some(self.record.line()), limit.kind()),
            None => (None, ReportErrorKind::Csv(csv_message(e))),
        };
        ReportError {
            origin: self.origin.clone(),
            line,
            column: None,
            kind,
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
        let start_before_blank_lines = self.record.record_line();
        let end = self.record.line();
        let inner_newlines = self
            .record
            .iter()
            .map(|field| field.iter().filter(|&&b| b == b'\n').count() as u64)
            .sum::<u64>();
        end.saturating_sub(inner_newlines + 1)
            .max(start_before_blank_lines)
    }

    fn parse_row(&mut self) -> Result<UserCredentials, ReportError> {
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
        self.first_sighting(&user)?;
        Ok(user)
    }

    /// Decodes the current record into `user`, every field overwritten. Fields are read in the
    /// order of the report's columns (user, arn, the user's dates and flags, key 1, key 2), so
    /// the first error of a row with several is always the same one.
    fn parse_row_into(&self, user: &mut UserCredentials) -> Result<(), ReportError> {
        let row = Row {
            reader: self,
            record_text: self
                .record
                .unquoted_span()
                .and_then(|bytes| std::str::from_utf8(bytes).ok()),
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

/// The users a report has listed, by account and case-folded name, with the line of each.
///
/// What it costs decides how: a table probed at every row, or any structure larger than the
/// CPU's cache touched at random, cost 20 to 40 % of the report's parse (BENCHMARKS.md, "the
/// cost of issue 9"). So each row appends a 64-bit hash of its user to a list (written in order,
/// 8 bytes a row; a line is kept only where it does not follow the last row's) and sets one bit
/// in a filter of 8 bits a row or more (128 KiB for 100,000 rows, in cache). A row whose bit was
/// already set is a suspect: its name is kept. At the end of the input one pass over the list
/// finds, for each suspect, the first row with its hash. Every later row of a duplicate is a
/// suspect (the earlier row set its bit), so none is missed.
///
/// The hash is keyed with a random seed per reader, so two different users share one only by
/// chance (for a million rows, a chance below one in 10^7); that failure is on the safe side:
/// the report is refused, never a duplicate missed. Who writes the report can always make it
/// refused by writing a real duplicate, so a crafted collision gains nothing.
#[derive(Default)]
struct SeenUsers {
    /// The hash of each user (not root), in the order of the rows.
    hashes: Vec<u64>,
    /// `(row index, line)` of each row whose line is not the previous row's plus one (the
    /// first row, rows after blank lines or after a value spanning lines).
    line_jumps: Vec<(usize, u64)>,
    last_line: u64,
    /// One bit per hash value modulo its length in bits (a power of two); grown with the rows.
    filter: Vec<u64>,
    /// Rows whose filter bit was already set: hash, line, and where the name is in `names`.
    suspects: Vec<Suspect>,
    names: String,
    hasher: hashbrown::DefaultHashBuilder,
    /// The ARN prefix (`arn:partition:iam::account:`) of the last row and the hash of its
    /// account: rows of one report share it, so the ARN is not parsed again for each.
    last_prefix: String,
    last_account: u64,
    /// The root row's line: one per report, whatever its account.
    root: Option<u64>,
}

struct Suspect {
    hash: u64,
    line: u64,
    name: std::ops::Range<usize>,
}

/// Two rows for one user: its name as the later row writes it, and both lines.
struct Duplicate {
    name: String,
    first_line: u64,
    line: u64,
}

/// The filter holds at least this many bits per row: at most one row in 8 is a suspect, and
/// about one in 16 on average as it grows.
const FILTER_BITS_PER_ROW: usize = 8;

impl SeenUsers {
    /// Records the root row read on `line`; the line of the earlier root row, if any.
    fn root_row(&mut self, line: u64) -> Option<u64> {
        match self.root {
            Some(first) => Some(first),
            None => {
                self.root = Some(line);
                None
            }
        }
    }

    /// Records `user` (not root) read on `line`.
    #[inline]
    fn record(&mut self, user: &UserCredentials, line: u64) {
        let cached =
            !self.last_prefix.is_empty() && user.arn.starts_with(self.last_prefix.as_str());
        let account = if cached {
            self.last_account
        } else {
            self.remember_account(&user.arn)
        };
        let hash = self.user_hash(account, user.name.as_bytes());
        if (self.hashes.len() + 1) * FILTER_BITS_PER_ROW > self.filter.len() * 64 {
            self.grow_filter();
        }
        if self.hashes.is_empty() || line != self.last_line + 1 {
            self.line_jumps.push((self.hashes.len(), line));
        }
        self.last_line = line;
        self.hashes.push(hash);
        let (word, bit) = self.filter_slot(hash);
        if self.filter[word] & bit != 0 {
            let start = self.names.len();
            self.names.push_str(&user.name);
            self.suspects.push(Suspect {
                hash,
                line,
                name: start..self.names.len(),
            });
        }
        self.filter[word] |= bit;
    }

    /// The line of the row at `row` (an index into `hashes`).
    fn line_of(&self, row: usize) -> Option<u64> {
        let jump = self.line_jumps.partition_point(|&(at, _)| at <= row);
        let &(at, line) = self.line_jumps.get(jump.checked_sub(1)?)?;
        Some(line + (row - at) as u64)
    }

    fn filter_slot(&self, hash: u64) -> (usize, u64) {
        let slot = hash as usize & (self.filter.len() * 64 - 1);
        (slot / 64, 1 << (slot % 64))
    }

    /// Makes the filter four times larger and sets the bits of every row seen so far again (the
    /// suspects found stay: they are a superset of the duplicates either way).
    fn grow_filter(&mut self) {
        // 2^16 bits (8 KiB) first: 8,192 rows before the first regrowth.
        let words = (self.filter.len() * 4).max(1 << 10);
        self.filter = vec![0; words];
        for i in 0..self.hashes.len() {
            let (word, bit) = self.filter_slot(self.hashes[i]);
            self.filter[word] |= bit;
        }
    }

    /// The duplicate whose later row comes first, as a reader stopping at it would report it,
    /// with the first row of its user.
    fn first_duplicate(&self) -> Option<Duplicate> {
        if self.suspects.is_empty() {
            return None;
        }
        // The first row of each suspect's hash, in one pass over the rows in their order.
        let mut first_rows: hashbrown::HashTable<(u64, usize)> =
            hashbrown::HashTable::with_capacity(self.suspects.len());
        for suspect in &self.suspects {
            if first_rows
                .find(suspect.hash, |&(h, _)| h == suspect.hash)
                .is_none()
            {
                first_rows.insert_unique(suspect.hash, (suspect.hash, usize::MAX), |&(h, _)| h);
            }
        }
        for (row, &hash) in self.hashes.iter().enumerate() {
            if let Some((_, first)) = first_rows.find_mut(hash, |&(h, _)| h == hash) {
                *first = (*first).min(row);
            }
        }
        // Suspects are in line order: the first whose hash has an earlier row is the answer.
        self.suspects.iter().find_map(|suspect| {
            let &(_, first_row) = first_rows.find(suspect.hash, |&(h, _)| h == suspect.hash)?;
            let first_line = self.line_of(first_row)?;
            (first_line < suspect.line).then(|| Duplicate {
                name: self.names[suspect.name.clone()].to_owned(),
                first_line,
                line: suspect.line,
            })
        })
    }

    /// The hash of the ARN's account (of `""` when it has none). Keeps the ARN's prefix up to
    /// and including the colon after the account, with that hash, for the next rows (the colon
    /// makes sure a longer account never matches it), or no prefix when there is no such colon.
    fn remember_account(&mut self, arn: &str) -> u64 {
        self.last_prefix.clear();
        let account = crate::model::account_id_of_arn(arn).unwrap_or_default();
        let hash = self.hasher.hash_one(account);
        if !account.is_empty() {
            let at = account.as_ptr() as usize - arn.as_ptr() as usize;
            let end = at + account.len();
            if arn.as_bytes().get(end) == Some(&b':') {
                self.last_prefix.push_str(&arn[..=end]);
                self.last_account = hash;
            }
        }
        hash
    }

    /// The hash of a user: its account's hash plus its name's length, then its name eight bytes at
    /// a time with the ASCII case folded (the last word padded with zeros; the length keeps
    /// `a` apart from `a\0`).
    fn user_hash(&self, account: u64, name: &[u8]) -> u64 {
        use std::hash::Hasher;
        let mut hasher = self.hasher.build_hasher();
        // One word for both: a different length changes it, and the account's hash is random.
        hasher.write_u64(account.wrapping_add(name.len() as u64));
        let mut words = name.chunks_exact(8);
        for word in &mut words {
            let word = u64::from_le_bytes(word.try_into().unwrap_or_default());
            hasher.write_u64(fold_ascii_case(word));
        }
        // The last bytes shifted into one word: a copy of a length unknown here would be a
        // call to memcpy for every row.
        let rest = words.remainder();
        if !rest.is_empty() {
            let last = rest
                .iter()
                .rev()
                .fold(0u64, |word, &b| (word << 8) | u64::from(b));
            hasher.write_u64(fold_ascii_case(last));
        }
        hasher.finish()
    }
}

/// Eight bytes (little-endian) with their ASCII capitals made small: what
/// `make_ascii_lowercase` does to them, in one word. Hashing a folded copy of each name, byte
/// by byte, was a third of the duplicate check's cost (BENCHMARKS.md); the test
/// `fold_ascii_case_is_make_ascii_lowercase` holds it to the standard library's answer.
fn fold_ascii_case(word: u64) -> u64 {
    const ONES: u64 = 0x0101_0101_0101_0101;
    const HIGH: u64 = 0x8080_8080_8080_8080;
    let low7 = word & !HIGH;
    // Per byte, no carry into the next: the high bit says `>= b'A'`, then `> b'Z'`.
    let at_least_a = low7 + ONES * u64::from(0x80 - b'A');
    let after_z = low7 + ONES * u64::from(0x80 - b'Z' - 1);
    let capital = at_least_a & !after_z & !word & HIGH;
    word | (capital >> 2)
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
///
/// A row's text values are checked as UTF-8 once for the whole record when it has no quoted
/// value (every field is then a slice of one run of the input); six checks of short values
/// cost more than one of the row (BENCHMARKS.md, "the cost of issue 9").
struct Row<'r, R: Read> {
    reader: &'r ReportReader<R>,
    /// The record's bytes from its first value to its last, when none was quoted and they
    /// are UTF-8.
    record_text: Option<&'r str>,
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
        let bytes = self.reader.record.field(self.reader.positions[column]?);
        match (bytes.first(), bytes.last()) {
            (Some(first), Some(last)) if first.is_ascii_graphic() && last.is_ascii_graphic() => {
                Some(bytes)
            }
            _ => None,
        }
    }

    /// `bytes` (a value of this row) as text, `None` when it is not UTF-8: a slice of the
    /// record's text when `bytes` lies in it, else checked on its own.
    #[inline]
    fn utf8(&self, bytes: &'r [u8]) -> Option<&'r str> {
        if let Some(record) = self.record_text {
            let at = (bytes.as_ptr() as usize).wrapping_sub(record.as_ptr() as usize);
            let text = at
                .checked_add(bytes.len())
                .and_then(|end| record.get(at..end));
            if let Some(text) = text.filter(|text| text.as_ptr() == bytes.as_ptr()) {
                return Some(text);
            }
        }
        std::str::from_utf8(bytes).ok()
    }

    /// The raw value of a known column, `None` when the report lacks the column.
    fn raw(&self, column: usize) -> Result<Option<&'r str>, ReportError> {
        let Some(position) = self.reader.positions[column] else {
            return Ok(None);
        };
        let bytes = self.reader.record.field(position);
        let text = std::str::from_utf8(bytes)
            .map_err(|_| self.error(Some(column), ReportErrorKind::NotUtf8))?;
        Ok(Some(text.trim()))
    }

    fn required_text_into(&self, column: usize, out: &mut String) -> Result<(), ReportError> {
        let text = match self.plain(column).map(|bytes| self.utf8(bytes)) {
            Some(Some(text)) => text,
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
            if let Some(text) = self.utf8(bytes) {
                return Ok(Cell::Value(text));
            }
        }
        let Some(value) = self.raw(column)? else {
            return Ok(Cell::Missing);
        };
        Ok(Self::marker(value).unwrap_or(Cell::Value(value)))
    }
}

/// An input error as the csv crate words it.
fn csv_message(e: std::io::Error) -> String {
    csv::Error::from(e).to_string()
}

/// Reads a whole report into memory (for small inputs and tests; large ones should stream).
pub fn read_all(input: impl Read, origin: &str) -> Result<Vec<UserCredentials>, ReportError> {
    ReportReader::new(input, origin)?.collect()
}

/// The CSV record splitter: what `csv::Reader` (csv-core's default dialect: `,`, `"` with doubled
/// quotes, no escape or comment byte, CR, LF and CRLF terminators, blank lines skipped, a UTF-8
/// BOM stripped at the very start) gives, record for record and line for line, but faster on
/// what a credential report is made of: unquoted fields, found eight bytes at a time.
///
/// It follows csv-core's state machine exactly, so the reader's errors keep their lines: a record
/// ends on the first CR or LF outside quotes, that byte included; the LF of a CRLF is consumed
/// by the next read, with any blank lines; `line` counts every LF consumed. The differential
/// tests below hold it to the csv crate.
mod records {
    use super::{ReportErrorKind, MAX_RECORD_BYTES};
    use std::io::{self, Read};

    /// Input the splitter refuses to buffer, carried inside the `io::Error` its reads return (the
    /// only error type the CSV layer has) and turned back into a [`ReportErrorKind`] by the
    /// reader, which knows the line.
    #[derive(Debug, Clone, Copy)]
    pub(super) enum Limit {
        /// A record that does not fit in [`MAX_RECORD_BYTES`].
        TooLong,
        /// A NUL byte in the first line, at this byte offset.
        Nul(u64),
    }

    impl Limit {
        fn error(self) -> io::Error {
            io::Error::new(io::ErrorKind::InvalidData, self)
        }

        /// The limit `e` reports, if it is one.
        pub(super) fn of(e: &io::Error) -> Option<Limit> {
            e.get_ref()?.downcast_ref::<Limit>().copied()
        }

        pub(super) fn kind(self) -> ReportErrorKind {
            match self {
                Limit::TooLong => ReportErrorKind::RecordTooLong {
                    max: MAX_RECORD_BYTES,
                },
                Limit::Nul(offset) => ReportErrorKind::Binary { offset },
            }
        }
    }

    impl std::fmt::Display for Limit {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            match self {
                Limit::TooLong => write!(f, "record longer than {MAX_RECORD_BYTES} bytes"),
                Limit::Nul(offset) => write!(f, "NUL byte at byte {offset}"),
            }
        }
    }

    impl std::error::Error for Limit {}

    /// One field: a range of the input buffer, or, for a field that had quotes, of `unquoted`.
    #[derive(Debug, Clone, Copy)]
    struct Field {
        start: usize,
        end: usize,
        quoted: bool,
    }

    pub(super) struct Records<R> {
        input: R,
        /// Input bytes; `buf[pos..filled]` are not consumed yet. The current record's unquoted
        /// fields point into it, so it only moves at the next read.
        buf: Vec<u8>,
        pos: usize,
        filled: usize,
        eof: bool,
        /// The end was reached, or reading failed: no more records (as csv does).
        done: bool,
        first_fill: bool,
        /// 1 + the LFs consumed so far (csv-core's `line`).
        line: u64,
        /// `line` before the current record was read (csv's record position).
        record_line: u64,
        /// The line the current record's first byte is on (blank lines before it skipped).
        start_line: u64,
        fields: Vec<Field>,
        unquoted: Vec<u8>,
        /// Refuse a NUL byte in the first line (the report reader sets it; the bare splitter
        /// splits any bytes, as csv does).
        pub(super) refuse_binary: bool,
    }

    /// The bytes csv-core's default dialect gives a meaning inside an unquoted field.
    #[inline]
    fn find_delimiter(hay: &[u8]) -> Option<usize> {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const LOW7: u64 = 0x7f7f_7f7f_7f7f_7f7f;
        /// The high bit of every byte of `v` that is zero, nothing else (no carries between bytes).
        #[inline(always)]
        fn zero_bytes(v: u64) -> u64 {
            !(((v & LOW7).wrapping_add(LOW7)) | v | LOW7)
        }
        let mut i = 0;
        while i + 8 <= hay.len() {
            let mut word = [0u8; 8];
            word.copy_from_slice(&hay[i..i + 8]);
            let v = u64::from_le_bytes(word);
            let hits = zero_bytes(v ^ (ONES * u64::from(b',')))
                | zero_bytes(v ^ (ONES * u64::from(b'\n')))
                | zero_bytes(v ^ (ONES * u64::from(b'\r')));
            if hits != 0 {
                return Some(i + (hits.trailing_zeros() / 8) as usize);
            }
            i += 8;
        }
        hay[i..]
            .iter()
            .position(|&b| matches!(b, b',' | b'\n' | b'\r'))
            .map(|k| i + k)
    }

    /// The high bit of each byte of `v` that may be `,`, LF or CR: every such byte, and at
    /// times the byte just above one (the subtraction's borrow), which the caller checks. The
    /// lowest bit set is always a real one.
    #[inline(always)]
    fn candidates(v: u64) -> u64 {
        const ONES: u64 = 0x0101_0101_0101_0101;
        const HIGH: u64 = 0x8080_8080_8080_8080;
        #[inline(always)]
        fn zero(x: u64) -> u64 {
            x.wrapping_sub(ONES) & !x & HIGH
        }
        zero(v ^ (ONES * u64::from(b',')))
            | zero(v ^ (ONES * u64::from(b'\n')))
            | zero(v ^ (ONES * u64::from(b'\r')))
    }

    /// What the one-sweep split found.
    enum Plain {
        /// The record's end (after its terminator) and its LFs.
        Record(usize, u64),
        /// A field starts with a quote: decode field by field.
        Quoted,
        NeedInput,
    }

    fn count_lf(bytes: &[u8]) -> u64 {
        bytes.iter().filter(|&&b| b == b'\n').count() as u64
    }

    /// How a field ended.
    enum End {
        /// `,`: another field follows.
        Delimiter,
        /// CR or LF, consumed, or the end of the input: the record is complete.
        Record,
        /// The buffered input ran out first: read more and decode the record again.
        NeedInput,
    }

    impl<R: Read> Records<R> {
        pub(super) fn new(input: R, capacity: usize) -> Self {
            Records {
                input,
                buf: vec![0; capacity.max(1)],
                pos: 0,
                filled: 0,
                eof: false,
                done: false,
                first_fill: true,
                line: 1,
                record_line: 1,
                start_line: 1,
                fields: Vec::new(),
                unquoted: Vec::new(),
                refuse_binary: false,
            }
        }

        /// The number of fields of the current record.
        pub(super) fn len(&self) -> usize {
            self.fields.len()
        }

        pub(super) fn field(&self, i: usize) -> &[u8] {
            let f = self.fields[i];
            let base = if f.quoted { &self.unquoted } else { &self.buf };
            &base[f.start..f.end]
        }

        /// The current record's bytes from its first field's start to its last field's end,
        /// when no field was quoted: every field is then a slice of them.
        pub(super) fn unquoted_span(&self) -> Option<&[u8]> {
            let (first, last) = (self.fields.first()?, self.fields.last()?);
            if self.fields.iter().any(|f| f.quoted) {
                return None;
            }
            self.buf.get(first.start..last.end)
        }

        pub(super) fn iter(&self) -> impl Iterator<Item = &[u8]> {
            (0..self.len()).map(|i| self.field(i))
        }

        /// The line count before the current record was read: csv's `ByteRecord::position`.
        pub(super) fn record_line(&self) -> u64 {
            self.record_line
        }

        /// The line the current record starts on: `line` once the terminators and blank lines
        /// before it are consumed. Kept for every record (one copy), unlike the error path's
        /// `ReportReader::record_line`, which rereads the record.
        pub(super) fn start_line(&self) -> u64 {
            self.start_line
        }

        /// The line count after it: csv's `Reader::position`.
        pub(super) fn line(&self) -> u64 {
            self.line
        }

        /// Reads more input after the unconsumed bytes, which move to the front; grows the
        /// buffer when they fill it. Sets `eof` when the input has no more.
        fn fill(&mut self) -> io::Result<()> {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.filled, 0);
                self.filled -= self.pos;
                self.pos = 0;
            }
            if self.filled == self.buf.len() {
                // The unconsumed bytes are one record that fills the buffer: grow it, up to the
                // bound, so that input without line breaks cannot take all the memory.
                if self.filled >= MAX_RECORD_BYTES {
                    self.done = true;
                    return Err(Limit::TooLong.error());
                }
                let grown = (self.buf.len() * 2).min(MAX_RECORD_BYTES);
                self.buf.resize(grown, 0);
            }
            let n = match self.input.read(&mut self.buf[self.filled..]) {
                Ok(n) => n,
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            };
            self.filled += n;
            self.eof = n == 0;
            if self.first_fill && self.refuse_binary {
                // A credential report's header is text; a NUL in the first line is binary input
                // (`/dev/zero`, an image, UTF-16), refused at once rather than split into rows.
                let block = &self.buf[..self.filled];
                let first_line = memchr::memchr(b'\n', block).unwrap_or(block.len());
                if let Some(at) = memchr::memchr(0, &block[..first_line]) {
                    self.done = true;
                    return Err(Limit::Nul(at as u64).error());
                }
            }
            if std::mem::take(&mut self.first_fill)
                && self.filled >= 3
                && self.buf[..3] == *b"\xEF\xBB\xBF"
            {
                self.pos = 3;
                // csv-core takes an empty block for the end of the input, and a first block
                // that held only the BOM is empty once the BOM is stripped: csv then reads no
                // record at all. Kept, so that both read the same input the same way.
                if self.filled == 3 && !self.eof {
                    self.done = true;
                }
            }
            Ok(())
        }

        /// Reads the next record: `Ok(false)` at the end of the input.
        pub(super) fn read_record(&mut self) -> io::Result<bool> {
            self.record_line = self.line;
            if self.done {
                return Ok(false);
            }
            // Between records: skip terminators (blank lines, the LF of a CRLF).
            loop {
                while self.pos < self.filled {
                    match self.buf[self.pos] {
                        b'\n' => self.line += 1,
                        b'\r' => {}
                        _ => break,
                    }
                    self.pos += 1;
                }
                if self.pos < self.filled {
                    break;
                }
                if self.eof {
                    self.done = true;
                    return Ok(false);
                }
                self.fill()?;
                if self.done {
                    return Ok(false);
                }
            }
            self.start_line = self.line;
            loop {
                if let Some((end, lines)) = self.decode_record() {
                    self.pos = end;
                    self.line += lines;
                    return Ok(true);
                }
                // The record goes on past the buffered bytes. Decode it again only once they
                // have doubled (or the input ended): a long record read in small pieces is
                // then decoded a logarithmic number of times, not once per piece.
                let tried = self.filled - self.pos;
                loop {
                    self.fill()?;
                    if self.eof || self.filled - self.pos >= 2 * tried {
                        break;
                    }
                }
            }
        }

        /// Decodes the record at `pos`: its end and the LFs in it, or `None` when the buffered
        /// input ends before the record does (and is not the end of the input).
        fn decode_record(&mut self) -> Option<(usize, u64)> {
            match self.split_plain() {
                Plain::Record(end, lines) => return Some((end, lines)),
                Plain::NeedInput => return None,
                Plain::Quoted => {}
            }
            self.fields.clear();
            self.unquoted.clear();
            let mut i = self.pos;
            let mut lines = 0;
            loop {
                let end = if i < self.filled && self.buf[i] == b'"' {
                    self.quoted_field(&mut i, &mut lines)
                } else {
                    self.unquoted_field(&mut i, &mut lines)
                };
                match end {
                    End::Delimiter => {}
                    End::Record => return Some((i, lines)),
                    End::NeedInput => return None,
                }
            }
        }

        /// The common case in one sweep: a record none of whose fields starts with a quote is
        /// split at every `,` up to the first CR or LF (consumed), or up to the end of the
        /// input. The bytes are tested eight at a time; a record with a quoted field is left
        /// to the field-by-field decoder.
        fn split_plain(&mut self) -> Plain {
            self.fields.clear();
            let buf = &self.buf[..self.filled];
            let mut start = self.pos;
            let mut i = self.pos;
            // Every delimiter found ends a field; returns at the terminator.
            macro_rules! delimiter_at {
                ($p:expr) => {{
                    let p = $p;
                    match buf[p] {
                        b',' => {
                            self.fields.push(Field {
                                start,
                                end: p,
                                quoted: false,
                            });
                            start = p + 1;
                        }
                        b'\n' | b'\r' => {
                            self.fields.push(Field {
                                start,
                                end: p,
                                quoted: false,
                            });
                            if self.fields.iter().any(|f| buf.get(f.start) == Some(&b'"')) {
                                return Plain::Quoted;
                            }
                            return Plain::Record(p + 1, u64::from(buf[p] == b'\n'));
                        }
                        // A false candidate (see `candidates`).
                        _ => {}
                    }
                }};
            }
            while i + 8 <= buf.len() {
                let mut word = [0u8; 8];
                word.copy_from_slice(&buf[i..i + 8]);
                let mut hits = candidates(u64::from_le_bytes(word));
                while hits != 0 {
                    delimiter_at!(i + (hits.trailing_zeros() / 8) as usize);
                    hits &= hits - 1;
                }
                i += 8;
            }
            while i < buf.len() {
                delimiter_at!(i);
                i += 1;
            }
            if !self.eof {
                return Plain::NeedInput;
            }
            // The last record, without a terminator.
            self.fields.push(Field {
                start,
                end: buf.len(),
                quoted: false,
            });
            if self.fields.iter().any(|f| buf.get(f.start) == Some(&b'"')) {
                return Plain::Quoted;
            }
            Plain::Record(buf.len(), 0)
        }

        /// The bytes from `*i` to the next delimiter or terminator, which is consumed.
        fn unquoted_field(&mut self, i: &mut usize, lines: &mut u64) -> End {
            let start = *i;
            match find_delimiter(&self.buf[start..self.filled]) {
                Some(k) => {
                    let end = start + k;
                    self.fields.push(Field {
                        start,
                        end,
                        quoted: false,
                    });
                    *i = end + 1;
                    match self.buf[end] {
                        b',' => End::Delimiter,
                        b'\n' => {
                            *lines += 1;
                            End::Record
                        }
                        _ => End::Record,
                    }
                }
                None if self.eof => {
                    self.fields.push(Field {
                        start,
                        end: self.filled,
                        quoted: false,
                    });
                    *i = self.filled;
                    End::Record
                }
                None => End::NeedInput,
            }
        }

        /// A field that starts with a quote: up to the closing quote (a doubled quote is one
        /// quote), then, as csv-core does, any bytes after it up to the delimiter or terminator.
        fn quoted_field(&mut self, i: &mut usize, lines: &mut u64) -> End {
            let start = self.unquoted.len();
            let mut at = *i + 1;
            let end = loop {
                // Inside the quotes.
                let rest = &self.buf[at..self.filled];
                let Some(k) = rest.iter().position(|&b| b == b'"') else {
                    if !self.eof {
                        return End::NeedInput;
                    }
                    *lines += count_lf(rest);
                    self.unquoted.extend_from_slice(rest);
                    at = self.filled;
                    break End::Record;
                };
                *lines += count_lf(&rest[..k]);
                self.unquoted.extend_from_slice(&rest[..k]);
                at += k + 1;
                // After a quote: a second quote, the end of the field, or more bytes.
                if at == self.filled {
                    if !self.eof {
                        return End::NeedInput;
                    }
                    break End::Record;
                }
                match self.buf[at] {
                    b'"' => {
                        self.unquoted.push(b'"');
                        at += 1;
                    }
                    b',' => {
                        at += 1;
                        break End::Delimiter;
                    }
                    b'\n' => {
                        *lines += 1;
                        at += 1;
                        break End::Record;
                    }
                    b'\r' => {
                        at += 1;
                        break End::Record;
                    }
                    _ => {
                        // Unquoted again until the delimiter or terminator; quotes are bytes.
                        let rest = &self.buf[at..self.filled];
                        match find_delimiter(rest) {
                            Some(k) => {
                                self.unquoted.extend_from_slice(&rest[..k]);
                                let byte = rest[k];
                                at += k + 1;
                                break match byte {
                                    b',' => End::Delimiter,
                                    b'\n' => {
                                        *lines += 1;
                                        End::Record
                                    }
                                    _ => End::Record,
                                };
                            }
                            None if self.eof => {
                                self.unquoted.extend_from_slice(rest);
                                at = self.filled;
                                break End::Record;
                            }
                            None => return End::NeedInput,
                        }
                    }
                }
            };
            self.fields.push(Field {
                start,
                end: self.unquoted.len(),
                quoted: true,
            });
            *i = at;
            end
        }
    }

    #[cfg(test)]
    mod tests {
        use super::Records;
        use proptest::prelude::*;
        use std::io::{self, Read};

        /// Gives at most `chunk` bytes per read, as a pipe may.
        struct Chunked<'a> {
            data: &'a [u8],
            chunk: usize,
        }

        impl Read for Chunked<'_> {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                let n = self.data.len().min(self.chunk).min(out.len());
                out[..n].copy_from_slice(&self.data[..n]);
                self.data = &self.data[n..];
                Ok(n)
            }
        }

        /// Every record with the line before and after it, then the line at the end.
        type Trace = (Vec<(Vec<Vec<u8>>, u64, u64)>, u64);

        fn with_csv(data: &[u8], chunk: usize) -> Trace {
            let mut reader = csv::ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(Chunked { data, chunk });
            let mut record = csv::ByteRecord::new();
            let mut records = Vec::new();
            while reader.read_byte_record(&mut record).unwrap() {
                let fields = record.iter().map(<[u8]>::to_vec).collect();
                let before = record.position().unwrap().line();
                records.push((fields, before, reader.position().line()));
            }
            assert!(!reader.read_byte_record(&mut record).unwrap());
            (records, reader.position().line())
        }

        fn with_records(data: &[u8], chunk: usize, capacity: usize) -> Trace {
            let mut reader = Records::new(Chunked { data, chunk }, capacity);
            let mut records = Vec::new();
            while reader.read_record().unwrap() {
                let fields = reader.iter().map(<[u8]>::to_vec).collect();
                records.push((fields, reader.record_line(), reader.line()));
            }
            assert!(!reader.read_record().unwrap());
            (records, reader.line())
        }

        /// Bytes that mean something to CSV, and a few that do not.
        fn csvish() -> impl Strategy<Value = Vec<u8>> {
            let byte = prop_oneof![
                4 => Just(b'a'),
                3 => Just(b','),
                3 => Just(b'"'),
                2 => Just(b'\n'),
                2 => Just(b'\r'),
                1 => Just(b' '),
                1 => Just(0xEF),
                1 => Just(0xBB),
                1 => Just(0xBF),
                1 => any::<u8>(),
            ];
            let bom = prop_oneof![3 => Just(Vec::new()), 1 => Just(b"\xEF\xBB\xBF".to_vec())];
            (bom, proptest::collection::vec(byte, 0..200)).prop_map(|(mut bom, body)| {
                bom.extend(body);
                bom
            })
        }

        #[test]
        fn examples_split_like_the_csv_crate() {
            let long = format!(
                "{},b\n\"{}\"\r\nc",
                "x".repeat(70_000),
                "y\n".repeat(40_000)
            );
            for input in [
                &b""[..],
                b"\n\r\n\r",
                b"\xEF\xBB\xBFa,b",
                b"\xEF\xBB",
                b"a,b,\r\n\r\nc,\"d\"\"e\",\"f\ng\"h,i\rj",
                b"\"unterminated\nquote",
                b"\"a\"",
                b",,\n,",
                b"a\"b,\"c\"\"\"\n",
                long.as_bytes(),
            ] {
                for (chunk, capacity) in [(1 << 20, 64 * 1024), (1, 1), (3, 4), (7, 8)] {
                    assert_eq!(
                        with_records(input, chunk, capacity),
                        with_csv(input, chunk),
                        "{:?} chunk {chunk} capacity {capacity}",
                        String::from_utf8_lossy(&input[..input.len().min(80)])
                    );
                }
            }
        }

        proptest! {
            #![proptest_config(ProptestConfig::with_cases(4096))]

            #[test]
            fn splits_like_the_csv_crate(
                input in csvish(),
                capacity in prop_oneof![Just(1usize), 2usize..16, Just(64 * 1024)],
                chunk in 1usize..300,
            ) {
                // The first read decides the BOM, for both: it must see as many bytes.
                let chunk = chunk.min(capacity);
                prop_assert_eq!(with_records(&input, chunk, capacity), with_csv(&input, chunk));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fold_ascii_case;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn fold_ascii_case_is_make_ascii_lowercase(bytes in any::<[u8; 8]>()) {
            let mut expected = bytes;
            expected.make_ascii_lowercase();
            let folded = fold_ascii_case(u64::from_le_bytes(bytes)).to_le_bytes();
            prop_assert_eq!(folded, expected);
        }
    }

    #[test]
    fn fold_ascii_case_at_the_edges_of_the_capitals() {
        for b in 0..=255u8 {
            let word = u64::from_le_bytes([b; 8]);
            assert_eq!(
                fold_ascii_case(word).to_le_bytes(),
                [b.to_ascii_lowercase(); 8],
                "byte {b:#04x}"
            );
        }
    }
}
