//! The one folder walker: the files `keywarden trail` reads under a folder and the Sigma rule
//! files `--sigma` loads are found by [`walk`], with one policy:
//!
//! - hidden entries (a name starting with `.`) are not walked;
//! - symbolic links are followed, to files and to folders (a rules checkout or a log archive
//!   may link folders in); a link that leads back to a folder above it is a loop, reported in
//!   [`Walked::skipped`] and not followed again, so a walk always ends;
//! - only regular files are kept: a FIFO, socket or device whose name would be kept is reported
//!   in [`Walked::skipped`], never opened (opening a FIFO blocks until someone writes to it);
//! - a broken link is reported in [`Walked::skipped`];
//! - a folder that cannot be read is an error: a run that silently missed part of its input
//!   would look clean.
//!
//! Nothing is skipped silently except hidden entries and names the caller does not want.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// What the caller keeps: `file` for a file's name, `folder` for a folder's (whether to walk
/// into it).
pub struct Filter<'f> {
    pub file: &'f dyn Fn(&str) -> bool,
    pub folder: &'f dyn Fn(&str) -> bool,
}

/// The files found under a folder, sorted by path, and what was not read and why.
#[derive(Debug, Default)]
pub struct Walked {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<Skipped>,
}

/// An entry the walk did not read, and why: to be shown as a warning.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub path: PathBuf,
    pub reason: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.path.display(), self.reason)
    }
}

/// A folder that cannot be walked.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {source}")]
pub struct WalkError {
    pub path: String,
    #[source]
    pub source: io::Error,
}

/// The files under `root` that `filter` keeps, by the policy in the module documentation.
pub fn walk(root: &Path, filter: &Filter<'_>) -> Result<Walked, WalkError> {
    let mut walked = Walked::default();
    let entries = WalkDir::new(root)
        .follow_links(true)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            // The root is walked whatever its name; below it, hidden entries are not.
            if entry.depth() == 0 {
                return true;
            }
            let name = entry.file_name().to_string_lossy();
            if name.starts_with('.') {
                return false;
            }
            !entry.file_type().is_dir() || (filter.folder)(&name)
        });
    for entry in entries {
        let entry = match entry {
            Ok(entry) => entry,
            Err(error) => {
                let path = error.path().unwrap_or(root).to_path_buf();
                if let Some(ancestor) = error.loop_ancestor() {
                    walked.skipped.push(Skipped {
                        reason: format!(
                            "symbolic link loop (back to {}): not followed",
                            ancestor.display()
                        ),
                        path,
                    });
                    continue;
                }
                let broken_link = std::fs::symlink_metadata(&path)
                    .is_ok_and(|m| m.file_type().is_symlink())
                    && std::fs::metadata(&path).is_err();
                let wanted = path
                    .file_name()
                    .is_some_and(|name| (filter.file)(&name.to_string_lossy()));
                if broken_link {
                    if !wanted {
                        continue;
                    }
                    walked.skipped.push(Skipped {
                        path,
                        reason: "broken symbolic link: not read".into(),
                    });
                    continue;
                }
                let source = error
                    .into_io_error()
                    .unwrap_or_else(|| io::Error::other("cannot walk"));
                return Err(WalkError {
                    path: path.display().to_string(),
                    source,
                });
            }
        };
        let kind = entry.file_type();
        if kind.is_dir() {
            continue;
        }
        let name = entry.file_name().to_string_lossy();
        if !(filter.file)(&name) {
            continue;
        }
        if kind.is_file() {
            walked.files.push(entry.into_path());
        } else {
            walked.skipped.push(Skipped {
                reason: format!("{}, not a regular file: not read", special_kind(&kind)),
                path: entry.into_path(),
            });
        }
    }
    walked.files.sort();
    Ok(walked)
}

/// What a file that is neither a regular file nor a folder is.
#[cfg(unix)]
fn special_kind(kind: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_socket() {
        "a socket"
    } else if kind.is_block_device() {
        "a block device"
    } else if kind.is_char_device() {
        "a character device"
    } else {
        "a special file"
    }
}

#[cfg(not(unix))]
fn special_kind(_: &std::fs::FileType) -> &'static str {
    "a special file"
}
