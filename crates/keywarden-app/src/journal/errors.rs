//! What can go wrong with the journal: every error names the journal file (or the folder) and,
//! for a database error, the operation that failed.

use super::*;

/// Everything that can go wrong with the journal. Each error names the journal file (or the
/// folder) and, for database errors, the operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// The state folder or the journal file could not be created.
    #[error("cannot create {path}")]
    Create {
        /// The folder or file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// The journal file exists but cannot be looked at (a read-only open).
    #[error("cannot read {path}")]
    Read {
        /// The journal file.
        path: PathBuf,
        /// The IO error.
        source: std::io::Error,
    },
    /// A read-only open of a journal whose recent changes are in its `-wal` file, in a folder
    /// where SQLite cannot create the index it needs to read them.
    #[error("{path}: its latest changes are in {path}-wal and cannot be read without write access to the folder (SQLite needs to create {path}-shm): run as the journal's owner")]
    WalUnreadable {
        /// The journal file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A read-only open of a journal written by an older keywarden, which only a writing open
    /// migrates.
    #[error("{path} has journal schema version {found}, older than this keywarden's {supported}, and reading does not upgrade it: run a command that writes the journal (`keywarden apply`, `undo`) once")]
    OlderSchema {
        /// The journal file.
        path: PathBuf,
        /// The file's `PRAGMA user_version`.
        found: i64,
        /// [`SCHEMA_VERSION`].
        supported: i64,
    },
    /// The file is not an SQLite database, or it is damaged.
    #[error("{path} is not a keywarden journal (not an SQLite database, or damaged): move it aside to start a new journal")]
    NotADatabase {
        /// The journal file.
        path: PathBuf,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// The file is an SQLite database of another application.
    #[error("{path} is not a keywarden journal: it is an SQLite database of another application (application_id {application_id:#x}, {tables} tables)")]
    ForeignDatabase {
        /// The journal file.
        path: PathBuf,
        /// The database's `PRAGMA application_id`.
        application_id: i64,
        /// How many tables it holds.
        tables: i64,
    },
    /// The journal was written by a newer keywarden.
    #[error("{path} was written by a newer keywarden (journal schema version {found}; this keywarden reads up to {supported}): upgrade keywarden")]
    NewerSchema {
        /// The journal file.
        path: PathBuf,
        /// The file's `PRAGMA user_version`.
        found: i64,
        /// [`SCHEMA_VERSION`].
        supported: i64,
    },
    /// An SQLite operation failed.
    #[error("journal {path}: cannot {operation}")]
    Sqlite {
        /// The journal file.
        path: PathBuf,
        /// What the journal was doing.
        operation: &'static str,
        /// SQLite's error.
        source: rusqlite::Error,
    },
    /// A record in the journal cannot be read back (an unknown enum value, a bad timestamp).
    #[error("journal {path}: damaged record: {detail}")]
    DamagedRecord {
        /// The journal file.
        path: PathBuf,
        /// What is wrong, and where.
        detail: String,
    },
    /// No run with this id.
    #[error("journal {path}: no run {run}")]
    UnknownRun {
        /// The journal file.
        path: PathBuf,
        /// The run asked for.
        run: RunId,
    },
    /// No call step with this id (or the id is a skip record).
    #[error("journal {path}: no call step {step}")]
    UnknownStep {
        /// The journal file.
        path: PathBuf,
        /// The step asked for.
        step: StepId,
    },
    /// The step already has an outcome; outcomes are written once.
    #[error("journal {path}: step {step} already has an outcome ({existing})")]
    OutcomeAlreadyRecorded {
        /// The journal file.
        path: PathBuf,
        /// The step.
        step: StepId,
        /// The outcome already recorded.
        existing: String,
    },
    /// A new intent for an action whose earlier intent has no outcome: the engine must first
    /// decide (by re-reading AWS) whether that call happened.
    #[error("run {run}: action {action_id} is in doubt (step {step} has no outcome): re-read AWS and record the step's outcome before trying again")]
    ActionInDoubt {
        /// The run.
        run: RunId,
        /// The action.
        action_id: String,
        /// The step without an outcome.
        step: StepId,
    },
    /// A new intent for an action that already succeeded in this run.
    #[error(
        "run {run}: action {action_id} is already done (step {step}); refusing to do it twice"
    )]
    ActionAlreadyDone {
        /// The run.
        run: RunId,
        /// The action.
        action_id: String,
        /// The step that did it.
        step: StepId,
    },
    /// Another live process holds the run.
    #[error("run {run} is being run by process {pid} (since {since}); wait for it to end, or stop that process")]
    RunClaimed {
        /// The run.
        run: RunId,
        /// The process holding it.
        pid: u32,
        /// When it claimed the run.
        since: Timestamp,
    },
    /// A run id that is not of the form `YYYYMMDDTHHMMSSZ-xxxx`.
    #[error(
        "{0:?} is not a run id (expected YYYYMMDDTHHMMSSZ-xxxx, as `keywarden runs` lists them)"
    )]
    InvalidRunId(String),
    /// A text handed to the journal holds a JSON field named like a secret.
    #[error("refusing to write a secret to the journal: the {what} has a field named {field:?} (the value is not shown)")]
    SecretField {
        /// Which argument ("params_json of action a3", ...).
        what: String,
        /// The field name found.
        field: String,
    },
    /// No unique run id could be found for this second (65 536 runs started in one second).
    #[error("journal {path}: no free run id for {started_at}")]
    RunIdsExhausted {
        /// The journal file.
        path: PathBuf,
        /// The run's start.
        started_at: Timestamp,
    },
}

pub(super) type Result<T, E = JournalError> = std::result::Result<T, E>;

/// Maps an SQLite error to a [`JournalError`] naming the file and the operation.
pub(super) fn ctx<'a>(
    path: &'a Path,
    operation: &'static str,
) -> impl Fn(rusqlite::Error) -> JournalError + 'a {
    move |source| {
        if matches!(
            source.sqlite_error_code(),
            Some(ErrorCode::NotADatabase | ErrorCode::DatabaseCorrupt)
        ) {
            JournalError::NotADatabase {
                path: path.to_path_buf(),
                source,
            }
        } else {
            JournalError::Sqlite {
                path: path.to_path_buf(),
                operation,
                source,
            }
        }
    }
}
