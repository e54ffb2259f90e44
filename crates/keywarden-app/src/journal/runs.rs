//! Runs: started with their inputs stored verbatim, finished with a status, reopened by a
//! resume, and listed (`keywarden runs`) with their actions' counts.

use super::*;

impl Journal {
    const RUN_COLUMNS: &'static str = "id, kind, started_at, finished_at, status, parent_run,
        claim_pid, claimed_at, resumes";

    pub(super) fn damaged(&self, detail: String) -> JournalError {
        JournalError::DamagedRecord {
            path: self.path.clone(),
            detail,
        }
    }

    pub(super) fn parse_ts(&self, what: &str, s: &str) -> Result<Timestamp> {
        DateTime::parse_from_rfc3339(s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| self.damaged(format!("{what}: bad timestamp {s:?}: {e}")))
    }

    pub(super) fn parse_opt_ts(&self, what: &str, s: Option<String>) -> Result<Option<Timestamp>> {
        s.map(|s| self.parse_ts(what, &s)).transpose()
    }

    pub(super) fn run_exists(&self, run: &RunId) -> Result<bool> {
        self.conn
            .query_row(
                "SELECT EXISTS (SELECT 1 FROM runs WHERE id = ?1)",
                [run.as_str()],
                |r| r.get(0),
            )
            .map_err(ctx(&self.path, "look up a run"))
    }

    pub(super) fn require_run(&self, run: &RunId) -> Result<()> {
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

    pub(super) fn run_from_row(&self, r: &rusqlite::Row<'_>) -> Result<RunInfo> {
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

    pub(super) fn counts(&self, run: &RunId) -> Result<ActionCounts> {
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
}
