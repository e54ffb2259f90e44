//! Claims: one process per run. A claim stores the process id; a claim whose process is gone
//! is taken over.

use super::*;

/// A process's hold on a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Claim {
    /// The process id.
    pub pid: u32,
    /// When it claimed the run.
    pub at: Timestamp,
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

impl Journal {
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
}
