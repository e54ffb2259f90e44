//! Local sources: paths named on the command line, folders walked (keywarden-walk), standard
//! input.

use super::*;
use std::io;
use std::path::{Path, PathBuf};

/// A source the user named that cannot be read at all (missing path, unreadable folder).
/// The IO error is part of the message and not a `source()`: a chain printed in full would say
/// it twice.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {error}")]
pub struct SourceError {
    pub path: String,
    pub error: io::Error,
}

/// The units of the sources named, and the entries of walked folders that were not read.
#[derive(Debug, Default)]
pub struct Expanded {
    pub units: Vec<Unit>,
    /// FIFOs, sockets, devices, broken links and link loops met in folders: to be shown as
    /// warnings (a file named on the command line is read whatever it is).
    pub skipped: Vec<keywarden_walk::Skipped>,
}

/// Expands folders into the log files under them, sorted for a stable order, by the one walker
/// (`keywarden-walk`: symbolic links followed with loop detection, only regular files read).
/// Digest files (`CloudTrail-Digest/`) are not events and are skipped; so are hidden files.
pub fn expand(paths: &[PathBuf]) -> Result<Expanded, SourceError> {
    expand_accounts(paths, &AccountFilter::default())
}

/// [`expand`], keeping of a walked folder only the files under the account folders `accounts`
/// keeps (CloudTrail's layout, an organization trail's included: see [`layout_account`]); a
/// file outside the layout is then left out too. Files named on the command line are read
/// whatever their path.
pub fn expand_accounts(
    paths: &[PathBuf],
    accounts: &AccountFilter,
) -> Result<Expanded, SourceError> {
    let mut expanded = Expanded::default();
    for path in paths {
        if path == Path::new("-") {
            expanded.units.push(Unit::Stdin);
            continue;
        }
        let meta = std::fs::metadata(path).map_err(|error| SourceError {
            path: path.display().to_string(),
            error,
        })?;
        if meta.is_dir() {
            let filter = keywarden_walk::Filter {
                file: &is_log_name,
                folder: &|name| name != "CloudTrail-Digest",
            };
            let walked = keywarden_walk::walk(path, &filter).map_err(|e| SourceError {
                path: e.path,
                error: e.source,
            })?;
            let mut files = walked.files;
            if !accounts.is_all() {
                // The folder's own path counts: `trail AWSLogs/o-x/111111111111/` is that
                // account's folder. Made absolute so a relative name still shows `AWSLogs`.
                let root = std::fs::canonicalize(path).map_err(|error| SourceError {
                    path: path.display().to_string(),
                    error,
                })?;
                files.retain(|file| {
                    let inside = file.strip_prefix(path).unwrap_or(file);
                    let full = root.join(inside);
                    let segments: Vec<&str> = full
                        .iter()
                        .map(|s| s.to_str().unwrap_or_default())
                        .collect();
                    layout_account(&segments).is_some_and(|a| accounts.keeps(a))
                });
            }
            expanded.units.extend(files.into_iter().map(Unit::File));
            expanded.skipped.extend(walked.skipped);
        } else {
            expanded.units.push(Unit::File(path.clone()));
        }
    }
    Ok(expanded)
}

/// Files a walked folder contributes; a file named on the command line is read whatever its name.
pub(super) fn is_log_name(name: &str) -> bool {
    let name = name.strip_suffix(".gz").unwrap_or(name);
    [".json", ".jsonl", ".ndjson", ".log"]
        .iter()
        .any(|ext| name.ends_with(ext))
}
