//! The journal file and its schema: opening (created 0600 in a 0700 folder, WAL,
//! `synchronous=FULL`, a busy timeout), a read-only open that changes nothing on disk, and the
//! migrations that bring an older file to [`SCHEMA_VERSION`]; a file that is not a keywarden
//! journal, or one from a newer keywarden, is refused.

use super::*;

/// The schema version this build writes (`PRAGMA user_version`). A journal with a higher version
/// was written by a newer keywarden and is refused ([`JournalError::NewerSchema`]).
pub const SCHEMA_VERSION: i64 = 2;

/// `PRAGMA application_id` of a keywarden journal: the bytes `KWJL`.
pub const APPLICATION_ID: i64 = 0x4B57_4A4C;

/// How long a write waits for another process's write to finish before failing.
pub(super) const BUSY_TIMEOUT: Duration = Duration::from_secs(10);

/// Migrations: entry `i` brings the schema from version `i` to `i + 1`.
pub(super) const MIGRATIONS: &[&str] = &[
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

    pub(super) fn prepare(&mut self) -> Result<()> {
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
}

pub(super) fn create_dir(dir: &Path) -> Result<()> {
    crate::files::create_private_dir_all(dir).map_err(|source| JournalError::Create {
        path: dir.to_path_buf(),
        source,
    })
}

/// Sets the busy timeout and checks the file is a keywarden journal this build can read:
/// returns its schema version and how many tables it holds. The first read of the header
/// happens here, so a file that is not SQLite fails here.
pub(super) fn identify(conn: &Connection, path: &Path) -> Result<(i64, i64)> {
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
pub(super) fn cannot_index(error: &rusqlite::Error) -> bool {
    matches!(
        error.sqlite_error_code(),
        Some(ErrorCode::CannotOpen | ErrorCode::ReadOnly)
    )
}

/// True when the journal's `-wal` file is absent or empty: the main file then holds every
/// committed change.
pub(super) fn wal_is_empty(path: &Path) -> Result<bool> {
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
pub(super) fn immutable_uri(path: &Path) -> String {
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
pub(super) fn create_file(path: &Path) -> Result<()> {
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
