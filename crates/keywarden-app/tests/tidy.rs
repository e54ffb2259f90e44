//! Invariants of the AWS boundary and the engine, checked on the source text (rust-analyzer's
//! tidy tests): what review alone would let slip.
//!
//! - **No AWS write without a journal record first**: a write trait's method (`IamWrite`,
//!   `SecretWrite`) is called only in `keywarden-app/src/remediate/effect.rs`, whose
//!   `Effect::perform` only the engine (`Engine::execute_with`: intent, call, outcome,
//!   read-back) calls.
//! - **The boundary names each action once**: an API action's text (`"iam:ListUsers"`) is written
//!   only where `declare_calls!` declares it; the live client, the fake and the engine use the
//!   constant it emits.
//!
//! Test code (a file's `#[cfg(test)]` module and the `tests/` folders) is not checked: tests
//! spell out what they expect.

use keywarden_aws::api::{IAM_WRITE_ACTIONS, SECRET_WRITE_ACTIONS};
use std::path::{Path, PathBuf};

/// The write traits' methods, as called: `.create_access_key(`.
const WRITE_METHODS: &[&str] = &[
    "set_access_key_status",
    "delete_access_key",
    "delete_login_profile",
    "put_user_policy",
    "delete_user_policy",
    "create_access_key",
    "create_secret",
];

/// The workspace's `crates/` folder.
fn crates_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("the crate is in crates/")
        .to_path_buf()
}

/// Every `.rs` file under `dir`, sorted.
fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut files = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(dir) = pending.pop() {
        for entry in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                pending.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    files.sort();
    files
}

/// The non-test source of every workspace crate: `(path relative to crates/, line number, line)`
/// for each line before the file's `#[cfg(test)]` module, comments left out.
fn source_lines() -> Vec<(String, usize, String)> {
    let crates = crates_dir();
    let mut lines = Vec::new();
    for krate in std::fs::read_dir(&crates).unwrap() {
        let src = krate.unwrap().path().join("src");
        if !src.is_dir() {
            continue;
        }
        for file in rust_files(&src) {
            // A `tests.rs` is a `#[cfg(test)] mod tests;` moved out of its parent file: test
            // code, like what follows `#[cfg(test)]` below.
            if file.file_name().is_some_and(|name| name == "tests.rs") {
                continue;
            }
            let text = std::fs::read_to_string(&file).unwrap();
            let name = file
                .strip_prefix(&crates)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            for (n, line) in text.lines().enumerate() {
                if line.trim_start().starts_with("#[cfg(test)]") {
                    break;
                }
                if line.trim_start().starts_with("//") {
                    continue;
                }
                lines.push((name.clone(), n + 1, line.to_owned()));
            }
        }
    }
    assert!(lines.len() > 1000, "the workspace's sources were not found");
    lines
}

#[test]
fn every_write_method_is_listed_here() {
    // A write method added to a trait without being listed here would escape the next test.
    assert_eq!(
        WRITE_METHODS.len(),
        IAM_WRITE_ACTIONS.len() + SECRET_WRITE_ACTIONS.len()
    );
}

#[test]
fn aws_writes_are_called_only_by_the_engine_s_effects() {
    let mut found = Vec::new();
    for (file, n, line) in source_lines() {
        // The boundary implements the traits (and calls the SDK's builders of the same names).
        if file.starts_with("keywarden-aws/") || file == "keywarden-app/src/remediate/effect.rs" {
            continue;
        }
        for method in WRITE_METHODS {
            if line.contains(&format!(".{method}(")) {
                found.push(format!("{file}:{n}: {}", line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "AWS writes outside remediate/effect.rs (make them an Effect and call \
         Engine::execute):\n{}",
        found.join("\n")
    );
}

/// The IAM condition keys the policies use: written out, they are not API actions.
const CONDITION_KEYS: &[&str] = &["sts:ExternalId"];

#[test]
fn api_actions_are_written_once_where_declare_calls_declares_them() {
    let services = [
        "iam",
        "sts",
        "s3",
        "cloudtrail",
        "secretsmanager",
        "organizations",
        "securityhub",
    ];
    let mut found = Vec::new();
    for (file, n, line) in source_lines() {
        // A declaration: `[IAM_LIST_USERS = "iam:ListUsers"] fn list_users...`.
        if line.trim_start().starts_with('[') && line.contains("\"] fn ") {
            continue;
        }
        for service in services {
            let quoted = format!("\"{service}:");
            if let Some(at) = line.find(&quoted) {
                let rest = &line[at + quoted.len()..];
                // IAM condition keys look like actions (`"sts:ExternalId"`) and are not ones.
                let name = rest.split('"').next().unwrap_or_default();
                if CONDITION_KEYS.contains(&format!("{service}:{name}").as_str()) {
                    continue;
                }
                if rest.starts_with(|c: char| c.is_ascii_uppercase()) {
                    found.push(format!("{file}:{n}: {}", line.trim()));
                }
            }
        }
    }
    assert!(
        found.is_empty(),
        "API actions written out instead of naming declare_calls!'s constant:\n{}",
        found.join("\n")
    );
}
