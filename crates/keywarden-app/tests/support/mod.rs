//! What the application layer's tests share: times, the fake account's users and keys, a
//! journal in a temporary folder, and a look at the journal's bytes.

// Each test binary that declares `mod support;` uses its own subset of these helpers.
#![allow(dead_code)]

pub mod outcome;

use keywarden_app::journal::{Journal, JOURNAL_FILE_NAME};
use keywarden_aws::api::{AccessKeyMeta, IamUser};
use keywarden_core::Timestamp;
use std::path::Path;

/// A timestamp written as RFC 3339.
pub fn t(s: &str) -> Timestamp {
    s.parse().expect("test timestamp")
}

/// An access key created at the start of 2024.
pub fn key(id: &str, active: bool) -> AccessKeyMeta {
    AccessKeyMeta {
        id: id.into(),
        active,
        created: t("2024-01-01T00:00:00Z"),
    }
}

/// An IAM user of account 123456789012, created at the start of 2023.
pub fn iam_user(name: &str) -> IamUser {
    IamUser {
        name: name.into(),
        arn: format!("arn:aws:iam::123456789012:user/{name}"),
        created: t("2023-01-01T00:00:00Z"),
        password_last_used: None,
    }
}

/// A journal in a new temporary folder (kept as long as the folder is).
pub fn fresh_journal() -> (tempfile::TempDir, Journal) {
    let dir = tempfile::tempdir().unwrap();
    let journal = Journal::open(dir.path()).unwrap();
    (dir, journal)
}

/// Every byte of the journal in `dir`: the database, its WAL, its rollback journal and its
/// shared-memory index (other files of the folder, such as a secret file, are not read).
pub fn journal_bytes(dir: &Path) -> Vec<u8> {
    let mut all = Vec::new();
    for suffix in ["", "-wal", "-journal", "-shm"] {
        let path = dir.join(format!("{JOURNAL_FILE_NAME}{suffix}"));
        if let Ok(bytes) = std::fs::read(&path) {
            all.extend(bytes);
        }
    }
    all
}

/// Whether `needle` is among the bytes.
pub fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}
