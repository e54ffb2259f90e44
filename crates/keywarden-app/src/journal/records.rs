//! What the journal stores, as Rust types: runs (their ids, kinds, statuses, inputs and counts)
//! and steps (an intent, its outcome and verification, or a skip).

use super::*;

/// A run's id: `YYYYMMDDTHHMMSSZ-xxxx`, the run's start in UTC and four hex digits that make it
/// unique. Sorts by start time as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RunId(pub(super) String);

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
pub struct StepId(pub(super) i64);

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

            pub(super) fn from_text(s: &str) -> Option<Self> {
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

    pub(super) fn columns(&self) -> (Option<&str>, Option<&str>) {
        match self {
            Outcome::Succeeded => (None, None),
            Outcome::Failed { code, message } => (Some(code), Some(message)),
            Outcome::AlreadyDone { detail } => (None, Some(detail)),
            Outcome::Abandoned { reason } => (None, Some(reason)),
        }
    }

    pub(super) fn from_columns(
        name: &str,
        code: Option<String>,
        detail: Option<String>,
    ) -> Option<Outcome> {
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

#[cfg(test)]
mod tests {
    use super::*;

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
}
