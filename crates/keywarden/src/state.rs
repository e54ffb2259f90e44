//! What the commands that remediate share (`plan`, `apply`, `undo`, `runs`, `rotate`,
//! `contain`): the state folder and its journal, the clock of a command that writes, the test
//! suite's crash hook, and atomic private writes.

use crate::audit_cmd::resolve_now;
use crate::cli::StateArgs;
use anyhow::{bail, Context, Result};
use keywarden_app::files::default_state_dir;
use keywarden_app::journal::Journal;
use keywarden_app::remediate::CrashPoint;
use keywarden_core::Timestamp;
use std::path::{Path, PathBuf};

/// The test suite's crash hook (see `test_hooks`); a build without the `test-hooks` feature has
/// none.
pub(crate) fn crash_point() -> Result<Option<CrashPoint>> {
    #[cfg(feature = "test-hooks")]
    let point = crate::test_hooks::crash_point()?;
    #[cfg(not(feature = "test-hooks"))]
    let point = None;
    Ok(point)
}

/// The state folder: --state-dir, else the default.
pub(crate) fn state_dir(state: &StateArgs) -> Result<PathBuf> {
    match &state.state_dir {
        Some(dir) => Ok(dir.clone()),
        None => Ok(default_state_dir()?),
    }
}

pub(crate) fn open_journal(state: &StateArgs) -> Result<Journal> {
    let dir = state_dir(state)?;
    Journal::open(&dir)
        .with_context(|| format!("cannot open keywarden's journal in `{}`", dir.display()))
}

/// The clock of a command that writes to AWS (`apply`, `undo`, `rotate`, `contain`): the real
/// one. `--now` is refused here: it would stamp real writes with a shifted time and make grace
/// periods (`not_before`, `delete_after_days`) pass early. Only a build with the `test-hooks`
/// feature can fix the clock (`KEYWARDEN_TEST_NOW`, see `test_hooks`).
pub(crate) fn clock(command: &str, state: &StateArgs) -> Result<impl Fn() -> Timestamp + Sync> {
    if let Some(now) = &state.now {
        bail!(
            "`keywarden {command} --now {now}`: --now is refused on commands that write to AWS \
             (apply, undo, rotate, contain): they act at the real time, so no grace period is \
             skipped; --now is for read-only commands (audit, plan, trail, key, runs)"
        );
    }
    let fixed = test_clock()?;
    Ok(move || fixed.unwrap_or_else(|| resolve_now(None).unwrap_or_default()))
}

/// The test suite's fixed clock (see `test_hooks`); a build without the `test-hooks` feature has
/// none.
fn test_clock() -> Result<Option<Timestamp>> {
    #[cfg(feature = "test-hooks")]
    let fixed = crate::test_hooks::fixed_now()?;
    #[cfg(not(feature = "test-hooks"))]
    let fixed = None;
    Ok(fixed)
}

/// Whether a file the user named may replace one already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Existing {
    Replace,
    /// A plan someone may have reviewed is not silently replaced: `--force` says so.
    Refuse,
}

/// Writes `text` to `path` atomically and 0600, creating its missing folders 0700 (see
/// [`keywarden_app::files`]) and saying so: plans and rotation plans.
pub(crate) fn write_atomically(path: &Path, text: &str, existing: Existing) -> Result<()> {
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        if !dir.exists() {
            keywarden_app::files::create_private_dir_all(dir)
                .with_context(|| format!("cannot create `{}`", dir.display()))?;
            diag!("keywarden: created folder {}", dir.display());
        }
    }
    let written = match existing {
        Existing::Replace => keywarden_app::files::write_atomically(path, text.as_bytes()),
        Existing::Refuse => keywarden_app::files::write_atomically_new(path, text.as_bytes()),
    };
    match written {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => bail!(
            "`{}` already exists: it may be a plan someone reviewed; choose another path, or pass --force to replace it",
            path.display()
        ),
        other => other.with_context(|| format!("cannot write `{}`", path.display())),
    }
}
