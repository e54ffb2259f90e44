//! The test suite's hooks into commands that write to AWS, compiled only with the `test-hooks`
//! cargo feature (`scripts/test.sh` enables it; `cargo build --release -p keywarden` never
//! does, so a release binary neither reads these variables nor contains their names).
//!
//! - `KEYWARDEN_TEST_CRASH=after-intent:A002` (or `after-call:`) makes the process abort at that
//!   point of that action, to prove that a resume does every write exactly once.
//! - `KEYWARDEN_TEST_NOW=RFC3339` fixes the clock of `apply`, `undo`, `rotate` and `contain`, so
//!   a test can act on moto's fixed scenario time and step past a grace period. Those commands
//!   refuse `--now` (a shifted clock on real writes skips grace periods); read-only commands keep
//!   `--now`.
//!
//! Both are read once, at the start of a command, by `remediate_cmd`'s `crash_point` and
//! `clock`: the engine only obeys what it is handed.

use crate::audit_cmd::resolve_now;
use anyhow::{anyhow, Context, Result};
use keywarden_app::remediate::CrashPoint;
use keywarden_core::Timestamp;

/// The crash hook's variable.
const CRASH_VAR: &str = "KEYWARDEN_TEST_CRASH";
/// The fixed clock's variable.
const NOW_VAR: &str = "KEYWARDEN_TEST_NOW";

/// Where `KEYWARDEN_TEST_CRASH` says to die, if it is set.
pub(crate) fn crash_point() -> Result<Option<CrashPoint>> {
    match std::env::var(CRASH_VAR) {
        Ok(text) if !text.is_empty() => text
            .parse()
            .map(Some)
            .map_err(|e| anyhow!("{CRASH_VAR}: {e}")),
        _ => Ok(None),
    }
}

/// The time `KEYWARDEN_TEST_NOW` fixes, if it is set.
pub(crate) fn fixed_now() -> Result<Option<Timestamp>> {
    match std::env::var(NOW_VAR) {
        Ok(text) if !text.is_empty() => resolve_now(Some(&text)).map(Some).context(NOW_VAR),
        _ => Ok(None),
    }
}
