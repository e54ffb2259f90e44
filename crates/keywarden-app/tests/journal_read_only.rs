//! `Journal::open_read_only`, what `keywarden runs` reads with, against real SQLite files: it
//! creates nothing, sees what a writer still holding the journal open has committed (the
//! changes are then in the `-wal` file, not yet in the main file), and refuses what it cannot
//! read rather than showing a partial history. The read-only folder case runs through the real
//! binary (crates/keywarden/tests/files_cli.rs).

use keywarden_app::journal::{Journal, NewRun, RunKind, RunStatus, JOURNAL_FILE_NAME};
use keywarden_core::Timestamp;
use std::path::Path;

fn at(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

fn start(journal: &mut Journal, when: &str) -> String {
    let run = journal
        .start_run(NewRun {
            kind: RunKind::Apply,
            started_at: at(when),
            plan_json: r#"{"actions":[]}"#.into(),
            options_json: "{}".into(),
            parent_run: None,
        })
        .unwrap();
    run.as_str().to_owned()
}

fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn no_journal_is_no_runs_and_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let state = dir.path().join("state");
    assert!(Journal::open_read_only(&state).unwrap().is_none());
    assert!(!state.exists(), "the state folder was created");

    std::fs::create_dir(&state).unwrap();
    assert!(Journal::open_read_only(&state).unwrap().is_none());
    assert!(names(&state).is_empty(), "{:?}", names(&state));
}

/// A process killed between creating the journal file and its first transaction leaves an
/// empty file: no runs, not an error.
#[test]
fn an_empty_journal_file_has_no_runs() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join(JOURNAL_FILE_NAME), "").unwrap();
    assert!(Journal::open_read_only(dir.path()).unwrap().is_none());
}

/// `keywarden runs` while `apply` is running: the run the writer committed is listed, though
/// it is still only in the `-wal` file.
#[test]
fn a_reader_sees_what_a_writer_still_open_committed() {
    let dir = tempfile::tempdir().unwrap();
    let mut writer = Journal::open(dir.path()).unwrap();
    let first = start(&mut writer, "2025-06-01T12:00:00Z");
    let mut wal = dir.path().join(JOURNAL_FILE_NAME).into_os_string();
    wal.push("-wal");
    assert!(
        std::fs::metadata(&wal)
            .map(|m| m.len() > 0)
            .unwrap_or(false),
        "the commit is in the WAL"
    );

    let reader = Journal::open_read_only(dir.path()).unwrap().unwrap();
    let runs = reader.runs().unwrap();
    assert_eq!(runs.len(), 1);
    assert_eq!(runs[0].id.as_str(), first);
    assert_eq!(runs[0].status_label(), "unfinished");

    writer
        .finish_run(
            &runs[0].id,
            RunStatus::Completed,
            at("2025-06-01T12:01:00Z"),
        )
        .unwrap();
    let second = start(&mut writer, "2025-06-01T12:02:00Z");
    let runs = reader.runs().unwrap();
    assert_eq!(runs.len(), 2, "a later commit is seen by the open reader");
    assert_eq!(runs[0].id.as_str(), second);
    assert_eq!(runs[1].status_label(), "completed");
}

/// A file that is not a journal is refused as `Journal::open` refuses it.
#[test]
fn a_file_that_is_not_sqlite_is_refused() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join(JOURNAL_FILE_NAME),
        "not a database, but long enough to have a header of some sort .............",
    )
    .unwrap();
    let error = Journal::open_read_only(dir.path()).err().unwrap();
    assert!(
        error.to_string().contains("is not a keywarden journal"),
        "{error}"
    );
}
