//! Steps: the intent committed before every AWS write, its outcome and verification after, the
//! skips, and the queries a resume and an undo ask (the steps in doubt, the settled actions).

use super::*;

impl Journal {
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

    pub(super) fn step_from_row(&self, r: &rusqlite::Row<'_>) -> Result<StepRecord> {
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

    pub(super) fn query_steps(&self, filter: &str, run: &RunId) -> Result<Vec<StepRecord>> {
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
    /// call on the same target with the same parameters and saw it take effect: a later change keywarden made to what
    /// step `after` changed (undoing `run` would then reverse that run's change, not its own).
    pub fn later_same_change(
        &self,
        run: &RunId,
        besides: &RunId,
        after: StepId,
        call: &CallStep,
    ) -> Result<Option<RunId>> {
        // The same change is the same call with the same parameters, made by a run that is not
        // an undo: a later run that put another document is not the same change, and an undo
        // that put this run's document back restored this run's change rather than making one.
        self.conn
            .query_row(
                "SELECT run_id FROM steps
                 WHERE kind = 'call' AND call = ?1 AND target = ?2 AND params_json = ?6
                   AND id > ?3 AND run_id NOT IN (?4, ?5)
                   AND run_id NOT IN (SELECT id FROM runs WHERE kind = 'undo')
                   AND outcome IN ('succeeded', 'already_done')
                 ORDER BY id DESC LIMIT 1",
                params![
                    call.call,
                    call.target,
                    after.0,
                    run.as_str(),
                    besides.as_str(),
                    call.params_json
                ],
                |r| r.get::<_, String>(0),
            )
            .optional()
            .map(|found| found.map(RunId))
            .map_err(ctx(&self.path, "look for a later change"))
    }

    // ----- keys -----
}
