//! The data dir is private to the account that runs HowNow Admin: it holds tax numbers, dates of
//! birth and addresses. The folder is 0700 and every file in it 0600, whatever the umask; a data
//! dir made by an older version is tightened when it is opened. Files are replaced through a
//! temporary file with a random name, created exclusively (never following a planted link), so
//! another account cannot prepare the name in advance.
//!
//! SQLite creates a database's `-wal` and `-shm` files with the database file's own mode, so a
//! database created 0600 here keeps its companions private too.

use std::io::Write;
use std::path::Path;

/// Creates `dir` (and its parents) if needed and makes it 0700.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    set_mode(dir, 0o700)
}

/// Makes an existing file 0600 (nothing when it does not exist).
pub fn private_file(path: &Path) -> std::io::Result<()> {
    match set_mode(path, 0o600) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// Creates `path` empty and 0600 unless it exists; an existing one is made 0600. For files
/// another library then opens (SQLite's database, a lock file).
pub fn ensure_private_file(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
    match options.open(path) {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => private_file(path),
        Err(e) => Err(e),
    }
}

/// Replaces `path` with `bytes` atomically (a reader sees the old file or the new one): written
/// to a 0600 temporary file with a random name in the same folder, synced, then renamed.
pub fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_private_with(path, |file| file.write_all(bytes))?
}

/// [`write_private`] for content written as it is produced: `write` fills the temporary file,
/// which replaces `path` only when `write` succeeds (a failed export leaves no partial file).
/// The outer error is the file's own (create, sync, rename); the inner is `write`'s.
pub fn write_private_with<T, E>(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<T, E>,
) -> std::io::Result<Result<T, E>> {
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    // tempfile opens with O_EXCL (and 0600 on Unix) under a random name.
    let mut tmp = tempfile::Builder::new()
        .prefix(".hownow-")
        .suffix(".tmp")
        .tempfile_in(dir)?;
    let written = match write(tmp.as_file_mut()) {
        Ok(written) => written,
        // Dropping the temporary file deletes it.
        Err(e) => return Ok(Err(e)),
    };
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)?;
    private_file(path)?;
    Ok(Ok(written))
}

#[cfg(unix)]
fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    // symlink_metadata: a link planted in the data dir is not followed to change its target.
    let meta = std::fs::symlink_metadata(path)?;
    if meta.file_type().is_symlink() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            format!(
                "{} is a symbolic link; HowNow Admin keeps only its own files there",
                path.display()
            ),
        ));
    }
    if meta.permissions().mode() & 0o777 != mode {
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))?;
    }
    Ok(())
}

#[cfg(not(unix))]
fn set_mode(path: &Path, _mode: u32) -> std::io::Result<()> {
    // Windows: the per-user profile folder the data dir lives in is private by its ACL.
    std::fs::metadata(path).map(|_| ())
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    fn mode(path: &Path) -> u32 {
        std::fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn a_failed_streamed_write_leaves_the_old_file_and_no_partial_one() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("export.csv");
        std::fs::write(&file, "old").unwrap();
        let failed = write_private_with(&file, |f| {
            f.write_all(b"half of the rows")?;
            Err::<(), _>(std::io::Error::other("the directory could not be read"))
        })
        .unwrap();
        assert!(failed.is_err());
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "old");
        assert_eq!(
            std::fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left"
        );
        let rows = write_private_with(&file, |f| f.write_all(b"new").map(|()| 3))
            .unwrap()
            .unwrap();
        assert_eq!(rows, 3);
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert_eq!(mode(&file), 0o600);
    }

    #[test]
    fn files_are_private_and_replaced_atomically() {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
        private_dir(&data).unwrap();
        assert_eq!(mode(&data), 0o700, "an existing folder is tightened");

        let file = data.join("settings.json");
        std::fs::write(&file, "old").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&file, b"new").unwrap();
        assert_eq!(std::fs::read_to_string(&file).unwrap(), "new");
        assert_eq!(mode(&file), 0o600);
        let leftovers: Vec<_> = std::fs::read_dir(&data)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .filter(|n| n.to_string_lossy().ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");

        let db = data.join("x.sqlite3");
        ensure_private_file(&db).unwrap();
        assert_eq!(mode(&db), 0o600);
        // A link planted where a file is expected is refused, not followed.
        let target = dir.path().join("elsewhere");
        std::fs::write(&target, "x").unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o644)).unwrap();
        let planted = data.join("planted.lock");
        std::os::unix::fs::symlink(&target, &planted).unwrap();
        assert!(ensure_private_file(&planted).is_err());
        assert_eq!(mode(&target), 0o644, "the link's target is untouched");
    }
}
