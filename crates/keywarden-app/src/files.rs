//! The files keywarden writes for the user: plans, rotation plans, incident reports, and the
//! folders that hold them and the journal, whose place ([`default_state_dir`]) is found here. They name the account's users and keys and say which
//! keys are weak, so only their owner may read them, and a writer on the same machine must not
//! be able to redirect or replace them.
//!
//! - [`create_private_dir_all`]: the folders keywarden creates are 0700 whatever the umask;
//!   folders that already exist are the user's and left as they are.
//! - [`write_atomically`]: the file is written under an unpredictable name created exclusively
//!   (`O_EXCL`, so a symlink or file planted at that name makes the creation fail and another
//!   name is drawn, it is never followed) in the destination's folder, with mode 0600, synced,
//!   then renamed over the destination. `rename(2)` replaces the destination's directory entry:
//!   a symlink planted there is replaced, its target is not written. The folder is synced after
//!   the rename, so the new name survives a crash.
//!
//! The `tempfile` crate does the exclusive creation, the random name and the rename
//! (`NamedTempFile::persist`); it does not sync, and it leaves the mode to the umask.

use std::ffi::OsString;
use std::fs::{File, Permissions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};

/// The mode of every file keywarden writes for the user (plans, reports, the journal).
#[cfg(unix)]
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// The mode of every folder keywarden creates.
#[cfg(unix)]
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// Creates `dir` and its missing parents with mode 0700 (exactly: the umask cannot add to
/// nor remove from it). Existing folders are left alone; a symlink to a folder counts as one.
pub fn create_private_dir_all(dir: &Path) -> io::Result<()> {
    if dir.as_os_str().is_empty() || dir.is_dir() {
        return Ok(());
    }
    if let Some(parent) = dir.parent() {
        create_private_dir_all(parent)?;
    }
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    match builder.create(dir) {
        Ok(()) => set_dir_mode(dir),
        // Another process created it meanwhile: it is then theirs to have set up.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists && dir.is_dir() => Ok(()),
        Err(e) => Err(e),
    }
}

/// Sets the mode of a folder keywarden just created, through a handle opened without following
/// a symlink, so a folder swapped for a link meanwhile cannot make keywarden chmod its target.
#[cfg(unix)]
fn set_dir_mode(dir: &Path) -> io::Result<()> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let folder = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_DIRECTORY | libc::O_NOFOLLOW)
        .open(dir)?;
    folder.set_permissions(Permissions::from_mode(PRIVATE_DIR_MODE))
}

#[cfg(not(unix))]
fn set_dir_mode(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// Writes `bytes` to `path` atomically: a reader sees the old file or the new one, never half
/// of one, and after a crash the file is one or the other. The folder must exist (see
/// [`create_private_dir_all`]); the file is 0600 whatever the umask, even when it replaces a
/// file with another mode. See the module documentation for what is never followed.
pub fn write_atomically(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (temporary, dir) = private_temporary(path, bytes)?;
    // On error the temporary file is removed when the returned handle drops.
    temporary.persist(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// [`write_atomically`], but an existing file at `path` is never replaced: the error is
/// [`io::ErrorKind::AlreadyExists`]. The check and the write are one step (a hard link that
/// fails on an existing name), so no file that appears in between is overwritten either.
pub fn write_atomically_new(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (temporary, dir) = private_temporary(path, bytes)?;
    temporary.persist_noclobber(path).map_err(|e| e.error)?;
    sync_dir(dir)
}

/// `bytes` in a new 0600 file of `path`'s folder under a random name, synced to disk.
fn private_temporary<'p>(
    path: &'p Path,
    bytes: &[u8],
) -> io::Result<(tempfile::NamedTempFile, &'p Path)> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` does not name a file", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let mut builder = tempfile::Builder::new();
    // 16 random characters: a name nobody can plant in advance. O_EXCL is what makes a
    // planted name harmless; the randomness makes it unlikely to even collide.
    builder.prefix(&prefix).suffix(".tmp").rand_bytes(16);
    #[cfg(unix)]
    builder.permissions(std::os::unix::fs::PermissionsExt::from_mode(
        PRIVATE_FILE_MODE,
    ));
    let mut temporary = builder.tempfile_in(dir)?;
    // Created with 0600 minus the umask; make it exactly 0600 (through the handle, not the name).
    #[cfg(unix)]
    temporary
        .as_file()
        .set_permissions(std::os::unix::fs::PermissionsExt::from_mode(
            PRIVATE_FILE_MODE,
        ))?;
    temporary.write_all(bytes)?;
    temporary.as_file().sync_all()?;
    Ok((temporary, dir))
}

/// Makes a rename in `dir` durable: the new directory entry is on disk once this returns.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> io::Result<()> {
    Ok(())
}

/// No state folder can be found: none of `KEYWARDEN_STATE_DIR`, `XDG_STATE_HOME` or `HOME` is
/// set.
#[derive(Debug, thiserror::Error)]
#[error(
    "cannot find keywarden's state folder: set KEYWARDEN_STATE_DIR (or XDG_STATE_HOME, or HOME)"
)]
pub struct NoStateDir;

/// keywarden's state folder (the journal's home): `$KEYWARDEN_STATE_DIR` if set, else
/// `$XDG_STATE_HOME/keywarden` (when absolute, as the XDG specification asks), else
/// `$HOME/.local/state/keywarden`. Empty variables count as unset. The folder is not created
/// here ([`crate::journal::Journal::open`] does, with [`create_private_dir_all`]).
pub fn default_state_dir() -> Result<PathBuf, NoStateDir> {
    state_dir_from(|name| std::env::var_os(name))
}

fn state_dir_from(var: impl Fn(&str) -> Option<OsString>) -> Result<PathBuf, NoStateDir> {
    let var = |name: &str| var(name).filter(|v| !v.is_empty()).map(PathBuf::from);
    if let Some(dir) = var("KEYWARDEN_STATE_DIR") {
        return Ok(dir);
    }
    if let Some(xdg) = var("XDG_STATE_HOME").filter(|p| p.is_absolute()) {
        return Ok(xdg.join("keywarden"));
    }
    if let Some(home) = var("HOME") {
        return Ok(home.join(".local").join("state").join("keywarden"));
    }
    Err(NoStateDir)
}

#[cfg(test)]
mod state_dir_tests {
    use super::*;

    fn dir_from(vars: &[(&str, &str)]) -> Result<PathBuf, NoStateDir> {
        state_dir_from(|name| {
            vars.iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| OsString::from(v))
        })
    }

    #[test]
    fn state_dir_precedence() {
        let all = [
            ("KEYWARDEN_STATE_DIR", "/k"),
            ("XDG_STATE_HOME", "/x"),
            ("HOME", "/h"),
        ];
        assert_eq!(dir_from(&all).unwrap(), PathBuf::from("/k"));
        assert_eq!(dir_from(&all[1..]).unwrap(), PathBuf::from("/x/keywarden"));
        assert_eq!(
            dir_from(&all[2..]).unwrap(),
            PathBuf::from("/h/.local/state/keywarden")
        );
        // Empty and relative values are ignored.
        assert_eq!(
            dir_from(&[
                ("KEYWARDEN_STATE_DIR", ""),
                ("XDG_STATE_HOME", "rel"),
                ("HOME", "/h")
            ])
            .unwrap(),
            PathBuf::from("/h/.local/state/keywarden")
        );
        assert!(dir_from(&[]).is_err());
    }
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o7777
    }

    #[test]
    fn a_replaced_file_gets_the_private_mode_and_no_temporary_file_is_left() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plan.json");
        std::fs::write(&path, "old").unwrap();
        std::fs::set_permissions(&path, Permissions::from_mode(0o644)).unwrap();
        write_atomically(&path, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(mode(&path), 0o600);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["plan.json"]);
    }

    #[test]
    fn only_the_folders_keywarden_creates_are_made_private() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), Permissions::from_mode(0o755)).unwrap();
        let nested = dir.path().join("a/b");
        create_private_dir_all(&nested).unwrap();
        assert_eq!(mode(&dir.path().join("a")), 0o700);
        assert_eq!(mode(&nested), 0o700);
        assert_eq!(mode(dir.path()), 0o755, "an existing folder is left alone");
    }

    #[test]
    fn a_path_without_a_file_name_is_an_error_not_a_panic() {
        let error = write_atomically(Path::new("/"), b"x").unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::InvalidInput);
    }
}
