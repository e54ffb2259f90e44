//! No core dumps while a secret is in memory. `rotate` holds a new key's secret, and `contain`
//! the state of a leaked key's containment, in this process's memory: a crash (or a signal such
//! as SIGQUIT, which anyone who can signal the process can send) would write that memory to a
//! core file that the secret's owner does not control (systemd-coredump, apport, a `core` file
//! in the working folder). The commands that hold secrets call [`forbid`] first, before any
//! secret exists.
//!
//! - `setrlimit(RLIMIT_CORE, 0)`, soft and hard: the kernel writes no core file, and the process
//!   cannot raise the limit again.
//! - On Linux, `prctl(PR_SET_DUMPABLE, 0)`: the limit does not stop a core pattern that pipes
//!   to a program (`|/usr/lib/systemd/systemd-coredump`); a non-dumpable process is not dumped
//!   at all, and other processes of the same user cannot ptrace it nor read its memory through
//!   `/proc/PID/mem`.
//!
//! Both are process-wide and last until the process exits; a failure is an error (the command
//! does not run), never a warning.

use anyhow::{Context, Result};

/// Turns core dumps off for the rest of this process's life (see the module documentation).
pub fn forbid() -> Result<()> {
    #[cfg(unix)]
    {
        use rustix::process::{setrlimit, Resource, Rlimit};
        let none = Rlimit {
            current: Some(0),
            maximum: Some(0),
        };
        setrlimit(Resource::Core, none).context("cannot turn core dumps off (RLIMIT_CORE)")?;
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    rustix::process::set_dumpable_behavior(rustix::process::DumpableBehavior::NotDumpable)
        .context("cannot make this process non-dumpable (PR_SET_DUMPABLE)")?;
    Ok(())
}
