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

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;
    use std::os::unix::net::UnixListener;

    fn json_files(root: &Path) -> Walked {
        let file = |name: &str| name.ends_with(".json");
        let folder = |name: &str| name != "skip";
        walk(
            root,
            &Filter {
                file: &file,
                folder: &folder,
            },
        )
        .unwrap()
    }

    fn relative(root: &Path, walked: &Walked) -> (Vec<String>, Vec<String>) {
        let strip = |p: &Path| p.strip_prefix(root).unwrap().display().to_string();
        (
            walked.files.iter().map(|p| strip(p)).collect(),
            walked
                .skipped
                .iter()
                .map(|s| format!("{}: {}", strip(&s.path), s.reason))
                .collect(),
        )
    }

    #[test]
    fn regular_files_the_filter_keeps_are_found_sorted_hidden_and_unwanted_ones_are_not() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::create_dir_all(root.join("b/c")).unwrap();
        std::fs::create_dir_all(root.join(".git")).unwrap();
        std::fs::create_dir_all(root.join("skip")).unwrap();
        for file in [
            "z.json",
            "a.json",
            "b/c/d.json",
            "notes.txt",
            ".hidden.json",
            ".git/x.json",
            "skip/y.json",
        ] {
            std::fs::write(root.join(file), "[]").unwrap();
        }

        let walked = json_files(root);

        assert_eq!(
            relative(root, &walked),
            (
                vec!["a.json".into(), "b/c/d.json".into(), "z.json".into()],
                vec![]
            )
        );
    }

    #[test]
    fn a_fifo_or_socket_is_reported_not_opened() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        std::fs::write(root.join("real.json"), "[]").unwrap();
        let status = std::process::Command::new("mkfifo")
            .arg(root.join("pipe.json"))
            .status()
            .unwrap();
        assert!(status.success());
        let _socket = UnixListener::bind(root.join("socket.json")).unwrap();
        // A FIFO whose name the filter does not keep is not worth a warning.
        let status = std::process::Command::new("mkfifo")
            .arg(root.join("pipe.txt"))
            .status()
            .unwrap();
        assert!(status.success());

        let walked = json_files(root);

        assert_eq!(
            relative(root, &walked),
            (
                vec!["real.json".into()],
                vec![
                    "pipe.json: a FIFO, not a regular file: not read".into(),
                    "socket.json: a socket, not a regular file: not read".into(),
                ]
            )
        );
    }

    #[test]
    fn a_linked_folder_is_followed_a_loop_and_a_broken_link_are_reported() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("logs");
        let elsewhere = dir.path().join("elsewhere");
        std::fs::create_dir_all(&root).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(elsewhere.join("b.json"), "[]").unwrap();
        symlink(&elsewhere, root.join("linked")).unwrap();
        symlink(&root, root.join("loop")).unwrap();
        symlink(root.join("missing.json"), root.join("broken.json")).unwrap();
        symlink(root.join("missing.txt"), root.join("broken.txt")).unwrap();

        let walked = json_files(&root);

        assert_eq!(
            relative(&root, &walked),
            (
                vec!["linked/b.json".into()],
                vec![
                    "broken.json: broken symbolic link: not read".into(),
                    format!(
                        "loop: symbolic link loop (back to {}): not followed",
                        root.display()
                    ),
                ]
            )
        );
    }

    #[test]
    fn a_missing_root_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let file = |_: &str| true;
        let error = walk(
            &dir.path().join("absent"),
            &Filter {
                file: &file,
                folder: &file,
            },
        )
        .unwrap_err();
        assert_eq!(error.source.kind(), io::ErrorKind::NotFound);
    }
}
