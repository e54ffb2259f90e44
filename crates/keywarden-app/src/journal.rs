//! The remediation journal: a SQLite file in keywarden's state folder that records every write
//! keywarden makes to AWS, so that a run killed part way can be resumed without losing an action
//! or doing one twice, listed afterwards (`keywarden runs`), and undone (`keywarden undo RUN_ID`).
//!
//! # The protocol an engine follows
//!
//! 1. [`Journal::start_run`] stores the plan (or the command's inputs) verbatim and returns a
//!    readable [`RunId`]; [`Journal::claim_run`] marks the run as being run by this process.
//! 2. Before **every** AWS write call, [`Journal::record_intent`] writes an intent record and
//!    commits it durably (WAL, `synchronous=FULL`) before it returns. Only then is the call made.
//! 3. After the call, [`Journal::record_outcome`] records what happened ([`Outcome`]), and
//!    [`Journal::record_verification`] what reading the state back showed.
//! 4. An action not attempted (precondition changed, refused, not due, above the allowed safety
//!    level) gets a [`Journal::record_skip`] instead of an intent.
//! 5. [`Journal::finish_run`] closes the run with a [`RunStatus`] and releases the claim.
//!
//! # Resuming (`keywarden apply --resume RUN_ID`)
//!
//! A process killed between steps 2 and 3 leaves an intent without an outcome: the journal cannot
//! know whether AWS received the call. [`Journal::in_doubt`] lists those steps. For each one the
//! engine re-reads AWS and closes the step: with [`Outcome::AlreadyDone`] when the effect is
//! present (the call is not repeated), or with [`Outcome::Abandoned`] when it is not (the action
//! may then be attempted again, under a new intent). The actions in
//! [`Journal::completed_action_ids`] are settled and are not attempted again. The journal itself
//! refuses a new intent for an action that is in doubt or already succeeded in the run
//! ([`JournalError::ActionInDoubt`], [`JournalError::ActionAlreadyDone`]), so a forgotten check
//! cannot make a call twice.
//!
//! **One action id stands for one AWS write call.** An action that needs several calls (contain:
//! deactivate, revoke, quarantine) uses one action id per call, e.g. `a3/deactivate`,
//! `a3/revoke`; otherwise a run killed between two of its calls would count the action as done.
//!
//! # Undo
//!
//! Each intent carries `undo_json`: what undo needs to reverse the call if it succeeds (the key's
//! previous status, the name of the policy attached), or `None` when the call cannot be reversed
//! (a deleted key or password). An undo is a run of kind [`RunKind::Undo`] whose `parent_run` is
//! the run undone. [`KeyEffect`] marks the steps that change a key's status
//! ([`Journal::last_deactivation`]).
//!
//! # Key sightings: the inactive clock
//!
//! A two-phase delete waits until a key has been inactive for `delete_after_days` by keywarden's
//! own record. Every read of a key's status (apply's re-reads and read-backs, undo's, a resume's
//! settling) and every status change keywarden makes is a sighting:
//! [`Journal::observe_active`] stops the clock, [`Journal::observe_inactive`] starts it unless it
//! runs already, and [`Journal::inactive_since`] reads it. A key keywarden never saw inactive has
//! no clock: its first inactive sighting starts it.
//!
//! # Secrets never enter the journal
//!
//! The API takes no secret type: every field is a plain string the engine composes (the call, the
//! target, parameters as JSON, undo data as JSON, error codes and messages), and everything is
//! stored verbatim. Keeping secret access keys, session tokens and passwords out of those strings
//! is the engine's responsibility: a `CreateAccessKey` intent records the user, never the
//! response; the outcome of a rotation records the new key's **id** only. As a backstop, the
//! journal refuses any text that holds a JSON field named like a secret (`"SecretAccessKey":`,
//! `"secret_access_key":`, `"SessionToken":`, `"Password":`, ... see [`JournalError::SecretField`]),
//! and that error names the field, never its value.
//!
//! # Concurrency
//!
//! Several processes may open the journal at once (WAL, a busy timeout). Two processes must not
//! run the same run: [`Journal::claim_run`] stores the claiming process id and refuses while
//! another process holding a claim is alive. Liveness is `kill(pid, 0)` on Unix; a claim whose
//! process is gone is taken over. A recycled process id can make a dead claim look alive; the
//! error then names the pid so the user can check it. The state folder is assumed to be local
//! (process ids from another machine mean nothing here).
//!
//! # Time
//!
//! The journal never reads the clock: every record takes its time as an argument.

use std::collections::{HashMap, HashSet};
use std::ffi::OsString;
use std::fmt;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use keywarden_core::Timestamp;
use rusqlite::{params, Connection, ErrorCode, OpenFlags, OptionalExtension, TransactionBehavior};

/// The journal's file name inside the state folder.
pub const JOURNAL_FILE_NAME: &str = "journal.sqlite3";

/// The schema version this build writes (`PRAGMA user_version`). A journal with a higher version
/// was written by a newer keywarden and is refused ([`JournalError::NewerSchema`]).
pub const SCHEMA_VERSION: i64 = 2;

/// `PRAGMA application_id` of a keywarden journal: the bytes `KWJL`.
pub const APPLICATION_ID: i64 = 0x4B57_4A4C;

/// How long a write waits for another process's write to finish before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Migrations: entry `i` brings the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    // 0 -> 1
    "
    CREATE TABLE runs (
        seq             INTEGER PRIMARY KEY AUTOINCREMENT,
        id              TEXT NOT NULL UNIQUE,
        kind            TEXT NOT NULL,
        started_at      TEXT NOT NULL,
        finished_at     TEXT,
        status          TEXT,
        plan_json       TEXT NOT NULL,
        options_json    TEXT NOT NULL,
        parent_run      TEXT REFERENCES runs(id),
        claim_pid       INTEGER,
        claimed_at      TEXT,
        resumes         INTEGER NOT NULL DEFAULT 0,
        last_resumed_at TEXT
    ) STRICT;
    CREATE TABLE steps (
        id                  INTEGER PRIMARY KEY AUTOINCREMENT,
        run_id              TEXT NOT NULL REFERENCES runs(id),
        action_id           TEXT NOT NULL,
        kind                TEXT NOT NULL CHECK (kind IN ('call', 'skip')),
        at                  TEXT NOT NULL,
        call                TEXT,
        target              TEXT,
        params_json         TEXT,
        undo_json           TEXT,
        key_id              TEXT,
        key_change          TEXT,
        skip_reason         TEXT,
        outcome             TEXT,
        outcome_code        TEXT,
        outcome_detail      TEXT,
        outcome_at          TEXT,
        verified            INTEGER,
        verification_detail TEXT,
        verified_at         TEXT
    ) STRICT;
    CREATE INDEX steps_by_run_action ON steps (run_id, action_id, id);
    CREATE INDEX steps_by_key ON steps (key_id, id) WHERE key_id IS NOT NULL;
    CREATE TABLE key_observations (
        key_id              TEXT PRIMARY KEY,
        first_seen_inactive TEXT NOT NULL
    ) STRICT;
    ",
    // 1 -> 2: key sightings keep when a key was last seen active, and keywarden's own status
    // changes count as sightings. Version 1 kept the first inactive sighting past a
    // reactivation (an undo), so a key deactivated again by hand later looked inactive since
    // the first time and was deleted at once. The migration carries the sightings over, then
    // replays each key's latest status change by keywarden: a reactivation after the sighting
    // clears it; a deactivation starts the clock at the later of the two (never earlier than
    // the record supports).
    "
    CREATE TABLE key_sightings (
        key_id           TEXT PRIMARY KEY,
        inactive_since   TEXT,
        last_seen_active TEXT
    ) STRICT;
    INSERT INTO key_sightings (key_id, inactive_since)
        SELECT key_id, first_seen_inactive FROM key_observations;
    DROP TABLE key_observations;
    INSERT INTO key_sightings (key_id, inactive_since, last_seen_active)
        SELECT s.key_id,
               CASE WHEN s.key_change = 'deactivated' THEN s.outcome_at END,
               CASE WHEN s.key_change = 'reactivated' THEN s.outcome_at END
        FROM steps s
        WHERE s.key_change IN ('deactivated', 'reactivated')
          AND s.outcome IN ('succeeded', 'already_done')
          AND s.id = (SELECT max(t.id) FROM steps t
                      WHERE t.key_id = s.key_id
                        AND t.key_change IN ('deactivated', 'reactivated')
                        AND t.outcome IN ('succeeded', 'already_done'))
    ON CONFLICT (key_id) DO UPDATE SET
        inactive_since = CASE
            WHEN excluded.last_seen_active IS NOT NULL
                THEN CASE WHEN key_sightings.inactive_since > excluded.last_seen_active
                          THEN key_sightings.inactive_since END
            ELSE max(key_sightings.inactive_since, excluded.inactive_since)
        END,
        last_seen_active = excluded.last_seen_active;
    ",
];

/// Everything that can go wrong with the journal. Each error names the journal file (or the
/// folder) and, for database errors, the operation that failed.
#[derive(Debug, thiserror::Error)]
pub enum JournalError {
    /// None of `KEYWARDEN_STATE_DIR`, `XDG_STATE_HOME` or `HOME` is set.
    #[error("cannot find keywarden's state folder: set KEYWARDEN_STATE_DIR (or XDG_STATE_HOME, or HOME)")]
    NoStateDir,
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

type Result<T, E = JournalError> = std::result::Result<T, E>;

/// keywarden's state folder: `$KEYWARDEN_STATE_DIR` if set, else `$XDG_STATE_HOME/keywarden`
/// (when absolute, as the XDG specification asks), else `$HOME/.local/state/keywarden`.
/// Empty variables count as unset. The folder is not created here ([`Journal::open`] does).
pub fn default_state_dir() -> Result<PathBuf> {
    state_dir_from(|name| std::env::var_os(name))
}

fn state_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("KEYWARDEN_STATE_DIR") {
        return Ok(dir);
    }
    if let Some(xdg) = var("XDG_STATE_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join("keywarden"));
    }
    if let Some(home) = var("HOME") {
        return Ok(home.join(".local").join("state").join("keywarden"));
    }
    Err(JournalError::NoStateDir)
}

/// A run's id: `YYYYMMDDTHHMMSSZ-xxxx`, the run's start in UTC and four hex digits that make it
/// unique. Sorts by start time as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(String);

impl RunId {
    /// Reads a run id typed by a user (`--resume RUN_ID`), checking its form.
    pub fn parse(s: &str) -> Result<RunId> {
        let b = s.as_bytes();
        let ok = b.len() == 21
            && b[..8].iter().all(u8::is_ascii_digit)
            && b[8] == b'T'
            && b[9..15].iter().all(u8::is_ascii_digit)
            && b[15] == b'Z'
            && b[16] == b'-'
            && b[17..]
                .iter()
                .all(|c| c.is_ascii_digit() || (b'a'..=b'f').contains(c));
        if ok {
            Ok(RunId(s.to_string()))
        } else {
            Err(JournalError::InvalidRunId(s.to_string()))
        }
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for RunId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for RunId {
    type Err = JournalError;
    fn from_str(s: &str) -> Result<RunId> {
        RunId::parse(s)
    }
}

/// A step's id: unique in the journal, increasing in the order steps were written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct StepId(i64);

impl StepId {
    /// The step's row id.
    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for StepId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{}", self.0)
    }
}

/// Defines a fieldless enum stored as text, with `as_str`, `Display` and a parser.
macro_rules! text_enum {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident => $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum $name {
            $($(#[$vmeta])* $variant,)*
        }

        impl $name {
            /// The name stored in the journal and shown to users.
            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text,)*
                }
            }

            fn from_text(s: &str) -> Option<Self> {
                match s {
                    $($text => Some($name::$variant),)*
                    _ => None,
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum! {
    /// What started a run.
    RunKind {
        /// `keywarden apply`.
        Apply => "apply",
        /// `keywarden undo`: its `parent_run` is the run undone.
        Undo => "undo",
        /// `keywarden rotate`.
        Rotate => "rotate",
        /// `keywarden contain`.
        Contain => "contain",
    }
}

text_enum! {
    /// How a run ended, as [`Journal::finish_run`] records it. A run that never finished (killed,
    /// or still running) has no status: [`RunInfo::status`] is `None`.
    RunStatus {
        /// Every action done, skipped, or found already done; none failed.
        Completed => "completed",
        /// The run went through its actions, and at least one failed.
        CompletedWithErrors => "completed_with_errors",
        /// The run stopped before the end (a signal, a fatal error mid-way); it can be resumed.
        Interrupted => "interrupted",
        /// The run could not start its work (no credentials, the plan refused).
        Failed => "failed",
    }
}

text_enum! {
    /// How a call changes an access key's status, for [`Journal::last_deactivation`].
    KeyChange {
        /// `UpdateAccessKey` to `Inactive`.
        Deactivated => "deactivated",
        /// `UpdateAccessKey` to `Active` (an undo).
        Reactivated => "reactivated",
        /// `DeleteAccessKey`.
        Deleted => "deleted",
    }
}

/// The access key a call changes, and how. Key ids (`AKIA...`) are not secrets.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyEffect {
    /// The access key id.
    pub key_id: String,
    /// The change.
    pub change: KeyChange,
}

/// The start of a run, for [`Journal::start_run`].
#[derive(Debug, Clone)]
pub struct NewRun {
    /// What started it.
    pub kind: RunKind,
    /// When it started (the run id is made from it).
    pub started_at: Timestamp,
    /// The plan, or the command's inputs, as JSON; stored verbatim and returned by
    /// [`Journal::run_inputs`] for a resume.
    pub plan_json: String,
    /// The command's options (`--unsafe`, `--max-actions`...) as JSON; stored verbatim.
    pub options_json: String,
    /// For an undo, the run it undoes.
    pub parent_run: Option<RunId>,
}

/// An intent record, written by [`Journal::record_intent`] before an AWS write call.
#[derive(Debug, Clone)]
pub struct Intent {
    /// The run.
    pub run: RunId,
    /// The plan's action id. One action id stands for one AWS write call.
    pub action_id: String,
    /// The AWS call, e.g. `iam:UpdateAccessKey`.
    pub call: String,
    /// What the call acts on, readable or as JSON: `user alice, key AKIA...`.
    pub target: String,
    /// The call's parameters as JSON, stored verbatim. Never a secret.
    pub params_json: String,
    /// What undo needs to reverse the call once it succeeded (as JSON), or `None` when it cannot
    /// be reversed (a deleted key or password).
    pub undo_json: Option<String>,
    /// The access key whose status the call changes, if any.
    pub key: Option<KeyEffect>,
    /// When the intent was written (just before the call).
    pub at: Timestamp,
}

/// What happened to a call, recorded by [`Journal::record_outcome`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// AWS accepted the call.
    Succeeded,
    /// AWS refused the call, or it could not be made (throttling, AccessDenied, NoSuchEntity...).
    Failed {
        /// The AWS error code, or a short keyword for a transport error.
        code: String,
        /// The error message (without a secret).
        message: String,
    },
    /// On resume, the effect was found already present, so the call was not repeated.
    AlreadyDone {
        /// What was read that shows it.
        detail: String,
    },
    /// The call was not made, or its effect is not present: the step is closed without effect,
    /// and the action may be attempted again under a new intent.
    Abandoned {
        /// Why.
        reason: String,
    },
}

impl Outcome {
    /// The outcome's name as stored: `succeeded`, `failed`, `already_done`, `abandoned`.
    pub fn name(&self) -> &'static str {
        match self {
            Outcome::Succeeded => "succeeded",
            Outcome::Failed { .. } => "failed",
            Outcome::AlreadyDone { .. } => "already_done",
            Outcome::Abandoned { .. } => "abandoned",
        }
    }

    /// True when the action's effect is in place (`Succeeded` or `AlreadyDone`): what undo may
    /// reverse.
    pub fn is_effective(&self) -> bool {
        matches!(self, Outcome::Succeeded | Outcome::AlreadyDone { .. })
    }

    /// True when the action is settled for its run and must not be attempted again
    /// (everything but `Abandoned`).
    pub fn is_terminal(&self) -> bool {
        !matches!(self, Outcome::Abandoned { .. })
    }

    fn columns(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Outcome::Succeeded => (None, None),
            Outcome::Failed { code, message } => (Some(code), Some(message)),
            Outcome::AlreadyDone { detail } => (None, Some(detail)),
            Outcome::Abandoned { reason } => (None, Some(reason)),
        }
    }

    fn from_columns(name: &str, code: Option<String>, detail: Option<String>) -> Option<Outcome> {
        let detail = detail.unwrap_or_default();
        Some(match name {
            "succeeded" => Outcome::Succeeded,
            "failed" => Outcome::Failed {
                code: code.unwrap_or_default(),
                message: detail,
            },
            "already_done" => Outcome::AlreadyDone { detail },
            "abandoned" => Outcome::Abandoned { reason: detail },
            _ => return None,
        })
    }
}

/// An outcome with its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordedOutcome {
    /// What happened.
    pub outcome: Outcome,
    /// When it was recorded.
    pub at: Timestamp,
}

/// What reading the state back after a call showed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verification {
    /// True when the state read back is the one the call should have made.
    pub verified: bool,
    /// What was read.
    pub detail: String,
    /// When.
    pub at: Timestamp,
}

/// A call step: an intent and what followed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallStep {
    /// The AWS call.
    pub call: String,
    /// What it acts on.
    pub target: String,
    /// Its parameters, as written.
    pub params_json: String,
    /// What undo needs, as written.
    pub undo_json: Option<String>,
    /// The access key whose status it changes.
    pub key: Option<KeyEffect>,
    /// The outcome; `None` while the step is in doubt.
    pub outcome: Option<RecordedOutcome>,
    /// The verification, if one was recorded.
    pub verification: Option<Verification>,
}

/// What a step record is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StepEntry {
    /// An intent (and its outcome and verification, when recorded); boxed, being the larger.
    Call(Box<CallStep>),
    /// An action not attempted.
    Skipped {
        /// Why.
        reason: String,
    },
}

/// One step of a run, as [`Journal::steps`] returns it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StepRecord {
    /// The step's id.
    pub id: StepId,
    /// Its run.
    pub run: RunId,
    /// The plan's action id.
    pub action_id: String,
    /// When the intent (or the skip) was written.
    pub at: Timestamp,
    /// The call, or the skip.
    pub entry: StepEntry,
}

impl StepRecord {
    /// The call, for a call step.
    pub fn call(&self) -> Option<&CallStep> {
        match &self.entry {
            StepEntry::Call(call) => Some(call),
            StepEntry::Skipped { .. } => None,
        }
    }

    /// The outcome, for a call step that has one.
    pub fn outcome(&self) -> Option<&Outcome> {
        self.call()?.outcome.as_ref().map(|o| &o.outcome)
    }

    /// True for an intent without an outcome: the call may or may not have happened.
    pub fn is_in_doubt(&self) -> bool {
        self.call().is_some_and(|c| c.outcome.is_none())
    }
}

/// The state of a run's actions, each counted once by its latest step.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ActionCounts {
    /// Actions whose latest step succeeded or was found already done.
    pub done: u32,
    /// Actions whose latest step is a skip.
    pub skipped: u32,
    /// Actions whose latest step failed.
    pub failed: u32,
    /// Actions whose latest step is an intent without an outcome.
    pub in_doubt: u32,
    /// Actions whose latest step was abandoned (not done; may be attempted on resume).
    pub abandoned: u32,
    /// Actions whose latest step's verification did not confirm the change.
    pub unverified: u32,
}

/// A process's hold on a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The process id.
    pub pid: u32,
    /// When it claimed the run.
    pub at: Timestamp,
}

/// A run, as `keywarden runs` lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// Its id.
    pub id: RunId,
    /// What started it.
    pub kind: RunKind,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished; `None` when unfinished.
    pub finished_at: Option<Timestamp>,
    /// How it finished; `None` when unfinished (killed, or still running: see `claim`).
    pub status: Option<RunStatus>,
    /// For an undo, the run it undoes.
    pub parent: Option<RunId>,
    /// The process holding the run, if any (see [`process_alive`]).
    pub claim: Option<Claim>,
    /// How many times the run was reopened by a resume.
    pub resumes: u32,
    /// Its actions' state.
    pub counts: ActionCounts,
}

impl RunInfo {
    /// The status as shown to users: the [`RunStatus`] name, or `unfinished`.
    pub fn status_label(&self) -> &'static str {
        self.status.map_or("unfinished", RunStatus::as_str)
    }
}

/// A run's stored inputs, for a resume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInputs {
    /// The plan or inputs, verbatim.
    pub plan_json: String,
    /// The options, verbatim.
    pub options_json: String,
}

/// True when a process with this id exists. On Unix this is `kill(pid, 0)` (a process owned by
/// another user counts as alive); elsewhere every process is assumed alive, so a claim is never
/// taken over there.
pub fn process_alive(pid: u32) -> bool {
    #[cfg(unix)]
    {
        let Ok(pid) = libc::pid_t::try_from(pid) else {
            return false;
        };
        if pid <= 0 {
            return false;
        }
        // SAFETY: signal 0 only checks that the process exists; nothing is sent.
        if unsafe { libc::kill(pid, 0) } == 0 {
            return true;
        }
        std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
    }
    #[cfg(not(unix))]
    {
        let _ = pid;
        true
    }
}

/// An open journal. Writes take `&mut self`; each write is committed before it returns.
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

/// Maps an SQLite error to a [`JournalError`] naming the file and the operation.
fn ctx<'a>(
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

fn ts(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}

/// JSON field names a journal text must never hold (compared lowercased, without `_` and `-`).
const SECRET_FIELDS: &[&str] = &[
    "secretaccesskey",
    "awssecretaccesskey",
    "secretkey",
    "sessiontoken",
    "awssessiontoken",
    "password",
    "newpassword",
    "oldpassword",
    "secretstring",
    "secretbinary",
];

/// Refuses a text holding a JSON field (`"name":`) whose name is a secret's.
fn guard(what: impl FnOnce() -> String, text: &str) -> Result<()> {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] != b'"' {
            i += 1;
            continue;
        }
        // A JSON string: find its closing quote, stepping over escapes.
        let start = i + 1;
        let mut end = start;
        while end < bytes.len() && bytes[end] != b'"' {
            end += if bytes[end] == b'\\' { 2 } else { 1 };
        }
        if end >= bytes.len() {
            break;
        }
        if text[end + 1..].trim_start().starts_with(':') {
            let name = &text[start..end];
            let normal: String = name
                .chars()
                .filter(|c| *c != '_' && *c != '-')
                .flat_map(char::to_lowercase)
                .collect();
            if SECRET_FIELDS.contains(&normal.as_str()) {
                return Err(JournalError::SecretField {
                    what: what(),
                    field: name.to_string(),
                });
            }
        }
        i = end + 1;
    }
    Ok(())
}

impl Journal {
    /// Opens (creating if needed) `journal.sqlite3` in `state_dir`. The folder is created with
    /// mode 0700 and the file with mode 0600 on Unix (existing ones are left as they are). Sets
    /// WAL, `synchronous=FULL`, a busy timeout and foreign keys, and creates or migrates the
    /// schema. Refuses a file that is not SQLite, another application's database, or a schema
    /// newer than [`SCHEMA_VERSION`].
    pub fn open(state_dir: &Path) -> Result<Journal> {
        create_dir(state_dir)?;
        let path = state_dir.join(JOURNAL_FILE_NAME);
        create_file(&path)?;
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(ctx(&path, "open"))?;
        let mut journal = Journal { conn, path };
        journal.prepare()?;
        Ok(journal)
    }

    /// Opens the journal in `state_dir` for reading only, as `keywarden runs` does. It creates
    /// nothing (neither the folder nor the file), never migrates nor writes, and works when the
    /// folder and the file are read-only to this process (modes 0500/0400, another user's files,
    /// a read-only mount). `Ok(None)` when there is no journal, or when the file holds no schema
    /// yet (a process stopped between creating the file and its first transaction): no runs.
    ///
    /// SQLite reads a WAL-mode database through a `-shm` index it creates beside the file. When
    /// it cannot (a folder this process cannot write) and the `-wal` file is absent or empty,
    /// every change is in the main file (as after the last writer closed): the file is then
    /// opened `immutable` (no locks, no index). A non-empty `-wal` that cannot be indexed is an
    /// error ([`JournalError::WalUnreadable`]), not a read that silently misses its changes.
    pub fn open_read_only(state_dir: &Path) -> Result<Option<Journal>> {
        let path = state_dir.join(JOURNAL_FILE_NAME);
        match std::fs::metadata(&path) {
            Ok(_) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => return Err(JournalError::Read { path, source }),
        }
        let flags = OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let conn = Connection::open_with_flags(&path, flags).map_err(ctx(&path, "open"))?;
        let (conn, version, tables) = match identify(&conn, &path) {
            Ok((version, tables)) => (conn, version, tables),
            Err(JournalError::Sqlite { source, .. }) if cannot_index(&source) => {
                if !wal_is_empty(&path)? {
                    return Err(JournalError::WalUnreadable { path, source });
                }
                drop(conn);
                let conn = Connection::open_with_flags(
                    immutable_uri(&path),
                    flags | OpenFlags::SQLITE_OPEN_URI,
                )
                .map_err(ctx(&path, "open"))?;
                let (version, tables) = identify(&conn, &path)?;
                (conn, version, tables)
            }
            Err(e) => return Err(e),
        };
        if version == 0 && tables == 0 {
            return Ok(None);
        }
        if version < SCHEMA_VERSION {
            return Err(JournalError::OlderSchema {
                path,
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        Ok(Some(Journal { conn, path }))
    }

    /// The journal file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    fn prepare(&mut self) -> Result<()> {
        let path = self.path.as_path();
        let conn = &mut self.conn;
        identify(conn, path)?;
        // WAL may be refused by the file system (the answer is then another mode); the
        // rollback journal with synchronous=FULL is just as durable, only slower.
        let _mode: String = conn
            .query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
            .map_err(ctx(path, "set WAL mode"))?;
        conn.pragma_update(None, "synchronous", "FULL")
            .map_err(ctx(path, "set synchronous=FULL"))?;
        conn.pragma_update(None, "foreign_keys", "ON")
            .map_err(ctx(path, "enable foreign keys"))?;

        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(ctx(path, "begin the migration"))?;
        // Read again under the write lock: another process may have migrated meanwhile.
        let version: i64 = tx
            .query_row("PRAGMA user_version", [], |r| r.get(0))
            .map_err(ctx(path, "read the schema version"))?;
        if version > SCHEMA_VERSION {
            return Err(JournalError::NewerSchema {
                path: path.to_path_buf(),
                found: version,
                supported: SCHEMA_VERSION,
            });
        }
        if version < SCHEMA_VERSION {
            for migration in &MIGRATIONS[usize::try_from(version).unwrap_or(0)..] {
                tx.execute_batch(migration)
                    .map_err(ctx(path, "migrate the schema"))?;
            }
            tx.execute_batch(&format!(
                "PRAGMA application_id = {APPLICATION_ID}; PRAGMA user_version = {SCHEMA_VERSION};"
            ))
            .map_err(ctx(path, "set the schema version"))?;
        }
        tx.commit().map_err(ctx(path, "commit the migration"))?;
        Ok(())
    }

    fn damaged(&self, detail: String) -> JournalError {
        JournalError::DamagedRecord {
            path: self.path.clone(),
            detail,
        }
    }

    fn parse_ts(&self, what: &str, s: &str) -> Result<Timestamp> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| self.damaged(format!("{what}: bad timestamp {s:?}: {e}")))
    }

    fn parse_opt_ts(&self, what: &str, s: Option<String>) -> Result<Option<Timestamp>> {
        s.map(|s| self.parse_ts(what, &s)).transpose()
    }

    fn run_exists(&self, run: &RunId) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)",
                [run.as_str()],
                |r| r.get(0),
            )
            .map_err(ctx(&self.path, "look up a run"))
    }

    fn require_run(&self, run: &RunId) -> Result<()> {
        if self.run_exists(run)? {
            Ok(())
        } else {
            Err(JournalError::UnknownRun {
                path: self.path.clone(),
                run: run.clone(),
            })
        }
    }

    // ----- runs -----

    /// Starts a run and returns its id, `YYYYMMDDTHHMMSSZ-xxxx` from `started_at` (the hex is a
    /// hash of the start, this process's id and the journal's next row id; a collision is
    /// retried). The plan and options are stored verbatim.
    pub fn start_run(&mut self, new: NewRun) -> Result<RunId> {
        guard(|| "plan_json of the run".into(), &new.plan_json)?;
        guard(|| "options_json of the run".into(), &new.options_json)?;
        if let Some(parent) = &new.parent_run {
            self.require_run(parent)?;
        }
        let path = self.path.as_path();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(ctx(path, "begin a run"))?;
        let next: i64 = tx
            .query_row("SELECT coalesce(max(seq), 0) + 1 FROM runs", [], |r| {
                r.get(0)
            })
            .map_err(ctx(path, "begin a run"))?;
        let prefix = new.started_at.format("%Y%m%dT%H%M%SZ").to_string();
        let mut id = None;
        for attempt in 0u32..=0xffff {
            let mut h = DefaultHasher::new();
            new.started_at.timestamp().hash(&mut h);
            new.started_at.timestamp_subsec_nanos().hash(&mut h);
            std::process::id().hash(&mut h);
            next.hash(&mut h);
            attempt.hash(&mut h);
            let candidate = format!("{prefix}-{:04x}", h.finish() & 0xffff);
            let taken: bool = tx
                .query_row(
                    "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)",
                    [&candidate],
                    |r| r.get(0),
                )
                .map_err(ctx(path, "begin a run"))?;
            if !taken {
                id = Some(candidate);
                break;
            }
        }
        let Some(id) = id else {
            return Err(JournalError::RunIdsExhausted {
                path: path.to_path_buf(),
                started_at: new.started_at,
            });
        };
        tx.execute(
            "INSERT INTO runs (id, kind, started_at, plan_json, options_json, parent_run)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
            params![
                id,
                new.kind.as_str(),
                ts(new.started_at),
                new.plan_json,
                new.options_json,
                new.parent_run.as_ref().map(RunId::as_str),
            ],
        )
        .map_err(ctx(path, "begin a run"))?;
        tx.commit().map_err(ctx(path, "begin a run"))?;
        Ok(RunId(id))
    }

    /// Records how a run ended and releases its claim. Finishing again (after a resume)
    /// replaces the earlier finish.
    pub fn finish_run(&mut self, run: &RunId, status: RunStatus, at: Timestamp) -> Result<()> {
        let n = self
            .conn
            .execute(
                "UPDATE runs SET finished_at = ?2, status = ?3, claim_pid = NULL, claimed_at = NULL
                 WHERE id = ?1",
                params![run.as_str(), ts(at), status.as_str()],
            )
            .map_err(ctx(&self.path, "finish a run"))?;
        if n == 0 {
            return Err(JournalError::UnknownRun {
                path: self.path.clone(),
                run: run.clone(),
            });
        }
        Ok(())
    }

    /// Reopens a run for a resume: clears its finish (it reads as unfinished until
    /// [`Journal::finish_run`] again) and counts the resume. Claim the run first.
    pub fn reopen_run(&mut self, run: &RunId, at: Timestamp) -> Result<()> {
        let n = self
            .conn
            .execute(
                "UPDATE runs SET finished_at = NULL, status = NULL, resumes = resumes + 1,
                     last_resumed_at = ?2
                 WHERE id = ?1",
                params![run.as_str(), ts(at)],
            )
            .map_err(ctx(&self.path, "reopen a run"))?;
        if n == 0 {
            return Err(JournalError::UnknownRun {
                path: self.path.clone(),
                run: run.clone(),
            });
        }
        Ok(())
    }

    /// Claims a run for process `pid`. Succeeds when the run is unclaimed, already claimed by
    /// `pid`, or claimed by a process that no longer exists ([`process_alive`]); fails with
    /// [`JournalError::RunClaimed`] while another live process holds it.
    pub fn claim_run(&mut self, run: &RunId, pid: u32, at: Timestamp) -> Result<()> {
        let path = self.path.as_path();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(ctx(path, "claim a run"))?;
        let row: Option<(Option<u32>, Option<String>)> = tx
            .query_row(
                "SELECT claim_pid, claimed_at FROM runs WHERE id = ?1",
                [run.as_str()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(ctx(path, "claim a run"))?;
        let Some((holder, since)) = row else {
            return Err(JournalError::UnknownRun {
                path: path.to_path_buf(),
                run: run.clone(),
            });
        };
        if let Some(holder) = holder {
            if holder != pid && process_alive(holder) {
                let since = since.unwrap_or_default();
                let since = DateTime::parse_from_rfc3339(&since)
                    .map(|t| t.with_timezone(&Utc))
                    .map_err(|e| JournalError::DamagedRecord {
                        path: path.to_path_buf(),
                        detail: format!("run {run}: bad claim time {since:?}: {e}"),
                    })?;
                return Err(JournalError::RunClaimed {
                    run: run.clone(),
                    pid: holder,
                    since,
                });
            }
        }
        tx.execute(
            "UPDATE runs SET claim_pid = ?2, claimed_at = ?3 WHERE id = ?1",
            params![run.as_str(), pid, ts(at)],
        )
        .map_err(ctx(path, "claim a run"))?;
        tx.commit().map_err(ctx(path, "claim a run"))?;
        Ok(())
    }

    /// Releases `pid`'s claim on a run (a claim held by another process is left alone).
    pub fn release_run(&mut self, run: &RunId, pid: u32) -> Result<()> {
        self.require_run(run)?;
        self.conn
            .execute(
                "UPDATE runs SET claim_pid = NULL, claimed_at = NULL
                 WHERE id = ?1 AND claim_pid = ?2",
                params![run.as_str(), pid],
            )
            .map_err(ctx(&self.path, "release a run"))?;
        Ok(())
    }

    const RUN_COLUMNS: &'static str = "id, kind, started_at, finished_at, status, parent_run,
        claim_pid, claimed_at, resumes";

    fn run_from_row(&self, r: &rusqlite::Row<'_>) -> Result<RunInfo> {
        let get = |i: usize| -> rusqlite::Result<Option<String>> { r.get(i) };
        let sql = ctx(&self.path, "read a run");
        let id: String = r.get(0).map_err(&sql)?;
        let kind: String = r.get(1).map_err(&sql)?;
        let kind = RunKind::from_text(&kind)
            .ok_or_else(|| self.damaged(format!("run {id}: unknown kind {kind:?}")))?;
        let started_at: String = r.get(2).map_err(&sql)?;
        let started_at = self.parse_ts(&format!("run {id}"), &started_at)?;
        let finished_at = self.parse_opt_ts(&format!("run {id}"), get(3).map_err(&sql)?)?;
        let status = match get(4).map_err(&sql)? {
            None => None,
            Some(s) => Some(
                RunStatus::from_text(&s)
                    .ok_or_else(|| self.damaged(format!("run {id}: unknown status {s:?}")))?,
            ),
        };
        let parent = get(5).map_err(&sql)?.map(RunId);
        let claim_pid: Option<u32> = r.get(6).map_err(&sql)?;
        let claimed_at = self.parse_opt_ts(&format!("run {id}"), get(7).map_err(&sql)?)?;
        let claim = match (claim_pid, claimed_at) {
            (Some(pid), Some(at)) => Some(Claim { pid, at }),
            _ => None,
        };
        let resumes: u32 = r.get(8).map_err(&sql)?;
        let id = RunId(id);
        let counts = self.counts(&id)?;
        Ok(RunInfo {
            id,
            kind,
            started_at,
            finished_at,
            status,
            parent,
            claim,
            resumes,
            counts,
        })
    }

    fn counts(&self, run: &RunId) -> Result<ActionCounts> {
        let sql = ctx(&self.path, "count a run's actions");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT s.kind, s.outcome, s.verified FROM steps s
                 WHERE s.run_id = ?1 AND s.id = (
                     SELECT max(t.id) FROM steps t
                     WHERE t.run_id = s.run_id AND t.action_id = s.action_id)",
            )
            .map_err(&sql)?;
        let rows = stmt
            .query_map([run.as_str()], |r| {
                Ok((
                    r.get::<_, String>(0)?,
                    r.get::<_, Option<String>>(1)?,
                    r.get::<_, Option<bool>>(2)?,
                ))
            })
            .map_err(&sql)?;
        let mut counts = ActionCounts::default();
        for row in rows {
            let (kind, outcome, verified) = row.map_err(&sql)?;
            match (kind.as_str(), outcome.as_deref()) {
                ("skip", _) => counts.skipped += 1,
                (_, None) => counts.in_doubt += 1,
                (_, Some("succeeded" | "already_done")) => counts.done += 1,
                (_, Some("failed")) => counts.failed += 1,
                (_, Some(_)) => counts.abandoned += 1,
            }
            if verified == Some(false) {
                counts.unverified += 1;
            }
        }
        Ok(counts)
    }

    /// A run, or `None` when the journal has no such run.
    pub fn run(&self, run: &RunId) -> Result<Option<RunInfo>> {
        let sql = ctx(&self.path, "read a run");
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM runs WHERE id = ?1",
                Self::RUN_COLUMNS
            ))
            .map_err(&sql)?;
        let mut rows = stmt.query([run.as_str()]).map_err(&sql)?;
        match rows.next().map_err(&sql)? {
            Some(r) => Ok(Some(self.run_from_row(r)?)),
            None => Ok(None),
        }
    }

    /// Every run, newest first (in the order they were started in this journal).
    pub fn runs(&self) -> Result<Vec<RunInfo>> {
        let sql = ctx(&self.path, "list runs");
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM runs ORDER BY seq DESC",
                Self::RUN_COLUMNS
            ))
            .map_err(&sql)?;
        let mut rows = stmt.query([]).map_err(&sql)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(&sql)? {
            out.push(self.run_from_row(r)?);
        }
        Ok(out)
    }

    /// The plan and options a run was started with, or `None` when there is no such run.
    pub fn run_inputs(&self, run: &RunId) -> Result<Option<RunInputs>> {
        self.conn
            .query_row(
                "SELECT plan_json, options_json FROM runs WHERE id = ?1",
                [run.as_str()],
                |r| {
                    Ok(RunInputs {
                        plan_json: r.get(0)?,
                        options_json: r.get(1)?,
                    })
                },
            )
            .optional()
            .map_err(ctx(&self.path, "read a run's inputs"))
    }

    // ----- steps -----

    /// Writes an intent record, before the AWS call it describes, and commits it durably before
    /// returning. Refuses an action that has an intent without an outcome in this run
    /// ([`JournalError::ActionInDoubt`]) or that already succeeded in it
    /// ([`JournalError::ActionAlreadyDone`]).
    pub fn record_intent(&mut self, intent: Intent) -> Result<StepId> {
        let what = |field: &'static str| {
            let action = intent.action_id.clone();
            move || format!("{field} of action {action}")
        };
        guard(what("target"), &intent.target)?;
        guard(what("params_json"), &intent.params_json)?;
        if let Some(undo) = &intent.undo_json {
            guard(what("undo_json"), undo)?;
        }
        self.require_run(&intent.run)?;
        let path = self.path.as_path();
        let tx = self
            .conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(ctx(path, "record an intent"))?;
        let open: Option<(i64, Option<String>)> = tx
            .query_row(
                "SELECT id, outcome FROM steps
                 WHERE run_id = ?1 AND action_id = ?2 AND kind = 'call'
                   AND (outcome IS NULL OR outcome IN ('succeeded', 'already_done'))
                 ORDER BY id DESC LIMIT 1",
                params![intent.run.as_str(), intent.action_id],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()
            .map_err(ctx(path, "record an intent"))?;
        match open {
            Some((step, None)) => {
                return Err(JournalError::ActionInDoubt {
                    run: intent.run,
                    action_id: intent.action_id,
                    step: StepId(step),
                })
            }
            Some((step, Some(_))) => {
                return Err(JournalError::ActionAlreadyDone {
                    run: intent.run,
                    action_id: intent.action_id,
                    step: StepId(step),
                })
            }
            None => {}
        }
        tx.execute(
            "INSERT INTO steps (run_id, action_id, kind, at, call, target, params_json, undo_json,
                                key_id, key_change)
             VALUES (?1, ?2, 'call', ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![
                intent.run.as_str(),
                intent.action_id,
                ts(intent.at),
                intent.call,
                intent.target,
                intent.params_json,
                intent.undo_json,
                intent.key.as_ref().map(|k| k.key_id.as_str()),
                intent.key.as_ref().map(|k| k.change.as_str()),
            ],
        )
        .map_err(ctx(path, "record an intent"))?;
        let step = tx.last_insert_rowid();
        tx.commit().map_err(ctx(path, "record an intent"))?;
        Ok(StepId(step))
    }

    /// Records a call's outcome, once ([`JournalError::OutcomeAlreadyRecorded`] otherwise).
    pub fn record_outcome(&mut self, step: StepId, outcome: Outcome, at: Timestamp) -> Result<()> {
        let (code, detail) = outcome.columns();
        if let Some(code) = code {
            guard(|| format!("error code of step {step}"), code)?;
        }
        if let Some(detail) = detail {
            guard(|| format!("outcome detail of step {step}"), detail)?;
        }
        let n = self
            .conn
            .execute(
                "UPDATE steps SET outcome = ?2, outcome_code = ?3, outcome_detail = ?4,
                     outcome_at = ?5
                 WHERE id = ?1 AND kind = 'call' AND outcome IS NULL",
                params![step.0, outcome.name(), code, detail, ts(at)],
            )
            .map_err(ctx(&self.path, "record an outcome"))?;
        if n == 1 {
            return Ok(());
        }
        let existing: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT outcome FROM steps WHERE id = ?1 AND kind = 'call'",
                [step.0],
                |r| r.get(0),
            )
            .optional()
            .map_err(ctx(&self.path, "record an outcome"))?;
        Err(match existing {
            Some(Some(existing)) => JournalError::OutcomeAlreadyRecorded {
                path: self.path.clone(),
                step,
                existing,
            },
            _ => JournalError::UnknownStep {
                path: self.path.clone(),
                step,
            },
        })
    }

    /// Records what reading the state back after a call showed (a later verification replaces
    /// an earlier one).
    pub fn record_verification(
        &mut self,
        step: StepId,
        verified: bool,
        detail: &str,
        at: Timestamp,
    ) -> Result<()> {
        guard(|| format!("verification detail of step {step}"), detail)?;
        let n = self
            .conn
            .execute(
                "UPDATE steps SET verified = ?2, verification_detail = ?3, verified_at = ?4
                 WHERE id = ?1 AND kind = 'call'",
                params![step.0, verified, detail, ts(at)],
            )
            .map_err(ctx(&self.path, "record a verification"))?;
        if n == 0 {
            return Err(JournalError::UnknownStep {
                path: self.path.clone(),
                step,
            });
        }
        Ok(())
    }

    /// Records an action not attempted, and why (precondition changed, refused, not due yet,
    /// above the allowed safety level). A skipped action counts as settled for its run.
    pub fn record_skip(
        &mut self,
        run: &RunId,
        action_id: &str,
        reason: &str,
        at: Timestamp,
    ) -> Result<StepId> {
        guard(|| format!("skip reason of action {action_id}"), reason)?;
        self.require_run(run)?;
        self.conn
            .execute(
                "INSERT INTO steps (run_id, action_id, kind, at, skip_reason)
                 VALUES (?1, ?2, 'skip', ?3, ?4)",
                params![run.as_str(), action_id, ts(at), reason],
            )
            .map_err(ctx(&self.path, "record a skip"))?;
        Ok(StepId(self.conn.last_insert_rowid()))
    }

    const STEP_COLUMNS: &'static str = "id, run_id, action_id, kind, at, call, target, params_json,
        undo_json, key_id, key_change, skip_reason, outcome, outcome_code, outcome_detail,
        outcome_at, verified, verification_detail, verified_at";

    fn step_from_row(&self, r: &rusqlite::Row<'_>) -> Result<StepRecord> {
        let sql = ctx(&self.path, "read a step");
        let s = |i: usize| -> Result<Option<String>> { r.get(i).map_err(&sql) };
        let id: i64 = r.get(0).map_err(&sql)?;
        let here = format!("step #{id}");
        let run = RunId(s(1)?.unwrap_or_default());
        let action_id = s(2)?.unwrap_or_default();
        let kind = s(3)?.unwrap_or_default();
        let at = self.parse_ts(&here, &s(4)?.unwrap_or_default())?;
        let entry = if kind == "skip" {
            StepEntry::Skipped {
                reason: s(11)?.unwrap_or_default(),
            }
        } else {
            let key = match (s(9)?, s(10)?) {
                (Some(key_id), Some(change)) => Some(KeyEffect {
                    key_id,
                    change: KeyChange::from_text(&change).ok_or_else(|| {
                        self.damaged(format!("{here}: unknown key change {change:?}"))
                    })?,
                }),
                _ => None,
            };
            let outcome = match s(12)? {
                None => None,
                Some(name) => {
                    let outcome = Outcome::from_columns(&name, s(13)?, s(14)?)
                        .ok_or_else(|| self.damaged(format!("{here}: unknown outcome {name:?}")))?;
                    let at = self.parse_ts(&here, &s(15)?.unwrap_or_default())?;
                    Some(RecordedOutcome { outcome, at })
                }
            };
            let verified: Option<bool> = r.get(16).map_err(&sql)?;
            let verification = match verified {
                None => None,
                Some(verified) => Some(Verification {
                    verified,
                    detail: s(17)?.unwrap_or_default(),
                    at: self.parse_ts(&here, &s(18)?.unwrap_or_default())?,
                }),
            };
            StepEntry::Call(Box::new(CallStep {
                call: s(5)?.unwrap_or_default(),
                target: s(6)?.unwrap_or_default(),
                params_json: s(7)?.unwrap_or_default(),
                undo_json: s(8)?,
                key,
                outcome,
                verification,
            }))
        };
        Ok(StepRecord {
            id: StepId(id),
            run,
            action_id,
            at,
            entry,
        })
    }

    fn query_steps(&self, filter: &str, run: &RunId) -> Result<Vec<StepRecord>> {
        let sql = ctx(&self.path, "read a run's steps");
        let mut stmt = self
            .conn
            .prepare_cached(&format!(
                "SELECT {} FROM steps WHERE run_id = ?1 {filter} ORDER BY id",
                Self::STEP_COLUMNS
            ))
            .map_err(&sql)?;
        let mut rows = stmt.query([run.as_str()]).map_err(&sql)?;
        let mut out = Vec::new();
        while let Some(r) = rows.next().map_err(&sql)? {
            out.push(self.step_from_row(r)?);
        }
        Ok(out)
    }

    /// A run's steps in the order they were written: intents (with their outcome and
    /// verification) and skips. Empty for an unknown run.
    pub fn steps(&self, run: &RunId) -> Result<Vec<StepRecord>> {
        self.query_steps("", run)
    }

    /// A run's intents without an outcome, in order: calls that may or may not have reached
    /// AWS. A resume re-reads AWS for each and records [`Outcome::AlreadyDone`] or
    /// [`Outcome::Abandoned`].
    pub fn in_doubt(&self, run: &RunId) -> Result<Vec<StepRecord>> {
        self.query_steps("AND kind = 'call' AND outcome IS NULL", run)
    }

    /// The actions settled in a run, which a resume must not attempt again: those with a step
    /// that succeeded, was already done or failed, and those skipped. An action whose only
    /// steps were abandoned, or that is in doubt, is not in the set.
    pub fn completed_action_ids(&self, run: &RunId) -> Result<HashSet<String>> {
        let sql = ctx(&self.path, "read a run's completed actions");
        let mut stmt = self
            .conn
            .prepare_cached(
                "SELECT DISTINCT action_id FROM steps
                 WHERE run_id = ?1
                   AND (kind = 'skip' OR outcome IN ('succeeded', 'already_done', 'failed'))",
            )
            .map_err(&sql)?;
        let rows = stmt
            .query_map([run.as_str()], |r| r.get::<_, String>(0))
            .map_err(&sql)?;
        rows.collect::<rusqlite::Result<HashSet<_>>>().map_err(&sql)
    }

    /// The latest run, other than `run` and `besides`, whose step after `after` made the same
    /// call on the same target and saw it take effect: a later change keywarden made to what
    /// step `after` changed (undoing `run` would then reverse that run's change, not its own).
    pub fn later_same_change(
        &self,
        run: &RunId,
        besides: &RunId,
        after: StepId,
        call: &str,
        target: &str,
    ) -> Result<Option<RunId>> {
        self.conn
            .query_row(
                "SELECT run_id FROM steps
                 WHERE kind = 'call' AND call = ?1 AND target = ?2 AND id > ?3
                   AND run_id NOT IN (?4, ?5) AND outcome IN ('succeeded', 'already_done')
                 ORDER BY id DESC LIMIT 1",
                params![call, target, after.0, run.as_str(), besides.as_str()],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|found| found.map(RunId))
            .map_err(ctx(&self.path, "look for a later change"))
    }

    // ----- keys -----

    /// When keywarden last deactivated this key (the outcome time of the latest deactivation
    /// that succeeded or was found already done, across all runs), unless a later reactivation
    /// (an undo) succeeded. `None` when keywarden never deactivated it, or reactivated it since.
    pub fn last_deactivation(&self, key_id: &str) -> Result<Option<Timestamp>> {
        let sql = ctx(&self.path, "read a key's deactivation");
        let effective: HashMap<&str, Option<(i64, String)>> = [
            KeyChange::Deactivated.as_str(),
            KeyChange::Reactivated.as_str(),
        ]
        .into_iter()
        .map(|change| {
            self.conn
                .query_row(
                    "SELECT id, outcome_at FROM steps
                     WHERE key_id = ?1 AND key_change = ?2
                       AND outcome IN ('succeeded', 'already_done')
                     ORDER BY id DESC LIMIT 1",
                    params![key_id, change],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map(|row| (change, row))
        })
        .collect::<rusqlite::Result<_>>()
        .map_err(&sql)?;
        let deactivated = effective[KeyChange::Deactivated.as_str()].as_ref();
        let reactivated = effective[KeyChange::Reactivated.as_str()].as_ref();
        match (deactivated, reactivated) {
            (Some((d, _)), Some((r, _))) if r > d => Ok(None),
            (Some((d, at)), _) => Ok(Some(self.parse_ts(&format!("step #{d}"), at)?)),
            (None, _) => Ok(None),
        }
    }

    /// Records that keywarden saw (or made) this key inactive at `at`: the key's inactive
    /// clock starts at the first such sighting since it was last seen active, and later
    /// sightings leave it alone.
    pub fn observe_inactive(&mut self, key_id: &str, at: Timestamp) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO key_sightings (key_id, inactive_since) VALUES (?1, ?2)
                 ON CONFLICT (key_id) DO UPDATE
                 SET inactive_since = coalesce(inactive_since, excluded.inactive_since)",
                params![key_id, ts(at)],
            )
            .map_err(ctx(&self.path, "record a key sighting"))?;
        Ok(())
    }

    /// Records that keywarden saw (or made) this key active at `at`: its inactive clock stops,
    /// and the next inactive sighting starts it again from zero.
    pub fn observe_active(&mut self, key_id: &str, at: Timestamp) -> Result<()> {
        self.conn
            .execute(
                "INSERT INTO key_sightings (key_id, inactive_since, last_seen_active)
                 VALUES (?1, NULL, ?2)
                 ON CONFLICT (key_id) DO UPDATE
                 SET inactive_since = NULL, last_seen_active = excluded.last_seen_active",
                params![key_id, ts(at)],
            )
            .map_err(ctx(&self.path, "record a key sighting"))?;
        Ok(())
    }

    /// Since when the key has been inactive by keywarden's own record: the first time keywarden
    /// saw (or made) it inactive since it last saw it active. `None` when keywarden never saw it
    /// inactive, or saw it active last. This is the clock a two-phase delete waits on.
    pub fn inactive_since(&self, key_id: &str) -> Result<Option<Timestamp>> {
        let at: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT inactive_since FROM key_sightings WHERE key_id = ?1",
                [key_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(ctx(&self.path, "read a key sighting"))?;
        self.parse_opt_ts(&format!("key sighting {key_id}"), at.flatten())
    }

    /// When keywarden last saw (or made) this key active, if it recorded it.
    pub fn last_seen_active(&self, key_id: &str) -> Result<Option<Timestamp>> {
        let at: Option<Option<String>> = self
            .conn
            .query_row(
                "SELECT last_seen_active FROM key_sightings WHERE key_id = ?1",
                [key_id],
                |r| r.get(0),
            )
            .optional()
            .map_err(ctx(&self.path, "read a key sighting"))?;
        self.parse_opt_ts(&format!("key sighting {key_id}"), at.flatten())
    }
}

fn create_dir(dir: &Path) -> Result<()> {
    crate::files::create_private_dir_all(dir).map_err(|source| JournalError::Create {
        path: dir.to_path_buf(),
        source,
    })
}

/// Sets the busy timeout and checks the file is a keywarden journal this build can read:
/// returns its schema version and how many tables it holds. The first read of the header
/// happens here, so a file that is not SQLite fails here.
fn identify(conn: &Connection, path: &Path) -> Result<(i64, i64)> {
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(ctx(path, "set the busy timeout"))?;
    let application_id: i64 = conn
        .query_row("PRAGMA application_id", [], |r| r.get(0))
        .map_err(ctx(path, "read the application id"))?;
    let tables: i64 = conn
        .query_row(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table'",
            [],
            |r| r.get(0),
        )
        .map_err(ctx(path, "read the schema"))?;
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(ctx(path, "read the schema version"))?;
    let foreign = if application_id == 0 {
        version == 0 && tables > 0
    } else {
        application_id != APPLICATION_ID
    };
    if foreign {
        return Err(JournalError::ForeignDatabase {
            path: path.to_path_buf(),
            application_id,
            tables,
        });
    }
    if version > SCHEMA_VERSION {
        return Err(JournalError::NewerSchema {
            path: path.to_path_buf(),
            found: version,
            supported: SCHEMA_VERSION,
        });
    }
    Ok((version, tables))
}

/// SQLite's answer when a read-only connection cannot create the `-shm` index (or `-wal`) of a
/// WAL-mode database beside it.
fn cannot_index(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
    )
}

/// True when the journal's `-wal` file is absent or empty: the main file then holds every
/// committed change.
fn wal_is_empty(path: &Path) -> Result<bool> {
    let mut wal = path.as_os_str().to_owned();
    wal.push("-wal");
    let wal = PathBuf::from(wal);
    match std::fs::metadata(&wal) {
        Ok(m) => Ok(m.len() == 0),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(true),
        Err(source) => Err(JournalError::Read { path: wal, source }),
    }
}

/// `file:PATH?immutable=1`, the path percent-encoded as SQLite's URI syntax asks (`?`, `#`,
/// `%` and anything outside ASCII letters, digits and `/._-~`).
fn immutable_uri(path: &Path) -> String {
    #[cfg(unix)]
    let bytes = std::os::unix::ffi::OsStrExt::as_bytes(path.as_os_str()).to_vec();
    #[cfg(not(unix))]
    let bytes = path.to_string_lossy().into_owned().into_bytes();
    let mut uri = String::from("file:");
    for b in bytes {
        if b.is_ascii_alphanumeric() || b"/._-~".contains(&b) {
            uri.push(char::from(b));
        } else {
            uri.push_str(&format!("%{b:02X}"));
        }
    }
    uri.push_str("?immutable=1");
    uri
}

/// Creates the journal file with mode 0600 (SQLite gives its WAL and shared-memory files the
/// same mode); an existing file is left alone.
fn create_file(path: &Path) -> Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(source) => Err(JournalError::Create {
            path: path.to_path_buf(),
            source,
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dir_from(vars: &[(&str, &str)]) -> Result<PathBuf> {
        state_dir_from(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn state_dir_precedence() {
        let all = [
            ("KEYWARDEN_STATE_DIR", "/k"),
            ("XDG_STATE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(dir_from(&all).unwrap(), PathBuf::from("/k"));
        assert_eq!(dir_from(&all[1..]).unwrap(), PathBuf::from("/x/keywarden"));
        assert_eq!(
            dir_from(&all[2..]).unwrap(),
            PathBuf::from("/h/.local/state/keywarden")
        );
        // Empty and relative values are ignored.
        assert_eq!(
            dir_from(&[
                ("KEYWARDEN_STATE_DIR", ""),
                ("XDG_STATE_HOME", "rel"),
                ("HOME", "/h")
            ])
            .unwrap(),
            PathBuf::from("/h/.local/state/keywarden")
        );
        assert!(matches!(dir_from(&[]), Err(JournalError::NoStateDir)));
    }

    #[test]
    fn run_id_parse() {
        assert!(RunId::parse("20240102T030405Z-0a1f").is_ok());
        for bad in [
            "",
            "20240102T030405Z-0A1F",
            "20240102T030405Z0a1f",
            "2024-01-02T03:04:05Z-0a1f",
        ] {
            assert!(RunId::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn guard_finds_secret_fields_only_as_field_names() {
        assert!(guard(|| "x".into(), r#"{"SecretAccessKey": "abc"}"#).is_err());
        assert!(guard(|| "x".into(), r#"{"a":{"secret_access_key" :1}}"#).is_err());
        assert!(guard(|| "x".into(), r#"{"SessionToken":"t"}"#).is_err());
        // A value that mentions a secret's name is not a secret.
        assert!(guard(|| "x".into(), r#"{"name": "prod/SecretAccessKey"}"#).is_ok());
        assert!(guard(
            || "x".into(),
            r#"{"UserName":"alice","AccessKeyId":"AKIA1"}"#
        )
        .is_ok());
        assert!(guard(|| "x".into(), "user alice, key AKIA1").is_ok());
        // Escaped quotes inside a string do not hide a later field.
        assert!(guard(|| "x".into(), r#"{"m":"a \"b\": c", "SecretKey": 1}"#).is_err());
        assert!(guard(|| "x".into(), r#"{"m":"a \"Password\" b"}"#).is_ok());
        let err = guard(
            || "params_json of action a1".into(),
            r#"{"Password":"hunter2"}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            err.contains("Password") && !err.contains("hunter2"),
            "{err}"
        );
    }
}
