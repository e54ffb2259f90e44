//! Key sightings: keywarden's own record of when a key was seen inactive or active, the clock a
//! two-phase delete waits on.

use super::*;

impl Journal {
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
