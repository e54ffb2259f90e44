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
//!
//! # Rooms
//!
//! `errors` ([`JournalError`]), `schema` (the file: opening, migrations), `records` (the types
//! stored), `runs`, `steps` (intents, outcomes, verifications, skips), `claims` (one process per
//! run), `sightings` (the inactive clock) and `secret_guard` (the backstop above). The state
//! folder the journal lives in is [`crate::files`]'s.

mod claims;
mod errors;
mod records;
mod runs;
mod schema;
mod secret_guard;
mod sightings;
mod steps;

pub use claims::{process_alive, Claim};
pub use errors::JournalError;
pub use records::*;
pub use schema::{APPLICATION_ID, SCHEMA_VERSION};

use errors::*;
use secret_guard::*;

use std::collections::{HashMap, HashSet};
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

/// An open journal. Writes take `&mut self`; each write is committed before it returns.
#[derive(Debug)]
pub struct Journal {
    conn: Connection,
    path: PathBuf,
}

fn ts(t: Timestamp) -> String {
    t.to_rfc3339_opts(SecondsFormat::Nanos, true)
}
