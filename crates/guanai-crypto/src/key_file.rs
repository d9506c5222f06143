//! The key file: reading it with a permission check, creating it without a
//! moment in which another user could read it, and replacing it crash-safely.
//!
//! Every write goes to a temporary file in the same directory, created with
//! mode 0600 (on Unix) and `create_new`, then fsynced, then moved into place,
//! then the directory is fsynced. A crash leaves either the old file or the
//! new one, never a half-written one.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read as _, Write as _};
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::algorithm::Algorithm;
use crate::error::CryptoError;
use crate::keyring::Keyring;

impl Keyring {
    /// Read the key file at `path`, or create it (parent directories too)
    /// with a fresh keyring for `algorithm` when absent.
    ///
    /// `algorithm` is used only when creating; an existing file's keys are
    /// used as they are (switch algorithms with [`Keyring::rotate`]).
    ///
    /// On Unix the file is created with mode 0600 atomically — never
    /// world-readable, not even briefly — and new parent directories with mode
    /// 0700. If the file exists with group or other permission bits set, it is
    /// refused. Two processes starting at once both end up with the keys of
    /// whichever created the file first: the new file is published with a
    /// hard link, which never replaces an existing file.
    ///
    /// # Errors
    /// [`CryptoError::PermissionsTooOpen`], [`CryptoError::Io`], the errors of
    /// [`Keyring::from_text`] for a malformed file, and
    /// [`CryptoError::Random`] if no key can be generated.
    pub fn load_or_create(path: &Path, algorithm: Algorithm) -> Result<Keyring, CryptoError> {
        // A second round only re-reads a file that another process created
        // first; a name that exists yet cannot be opened (a dangling symbolic
        // link) ends the loop with an error.
        for _ in 0..2 {
            match File::open(path) {
                Ok(file) => return read_key_file(path, file),
                Err(err) if err.kind() == io::ErrorKind::NotFound => {}
                Err(err) => return Err(io_error("open key file", path, err)),
            }
            let keyring = Keyring::try_generate(algorithm)?;
            let text = Zeroizing::new(keyring.to_text());
            match write_atomically(path, text.as_bytes(), Publish::IfAbsent)? {
                Published::Written => return Ok(keyring),
                Published::AlreadyExists => {}
            }
        }
        Err(io_error(
            "open key file",
            path,
            io::Error::new(
                io::ErrorKind::NotFound,
                "the name exists but leads to no file (a dangling symbolic link?)",
            ),
        ))
    }

    /// Write the keyring to `path` crash-safely (temporary file with mode
    /// 0600 + fsync + rename + fsync of the directory), replacing any file
    /// there. Missing parent directories are created with mode 0700.
    ///
    /// # Errors
    /// [`CryptoError::Io`] if the file cannot be written, and
    /// [`CryptoError::Random`] if no temporary file name can be drawn.
    pub fn save(&self, path: &Path) -> Result<(), CryptoError> {
        let text = Zeroizing::new(self.to_text());
        write_atomically(path, text.as_bytes(), Publish::Replace).map(|_| ())
    }
}

fn io_error(action: &'static str, path: &Path, source: io::Error) -> CryptoError {
    CryptoError::Io {
        action,
        path: path.to_path_buf(),
        source,
    }
}

fn read_key_file(path: &Path, mut file: File) -> Result<Keyring, CryptoError> {
    let metadata = file
        .metadata()
        .map_err(|err| io_error("read key file", path, err))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = metadata.permissions().mode() & 0o7777;
        if mode & 0o077 != 0 {
            return Err(CryptoError::PermissionsTooOpen {
                path: path.to_path_buf(),
                mode,
            });
        }
    }
    // Sized up front so that reading does not reallocate and leave copies of
    // the keys in freed memory.
    let expected_len = usize::try_from(metadata.len()).unwrap_or(0);
    let mut text = Zeroizing::new(String::with_capacity(expected_len.saturating_add(1)));
    file.read_to_string(&mut text)
        .map_err(|err| io_error("read key file", path, err))?;
    Keyring::from_text(&text)
}

/// How the finished temporary file takes the key file's name.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Publish {
    /// Only if no file has that name (hard link, falling back to rename on
    /// file systems without hard links).
    IfAbsent,
    /// Replacing whatever has that name (rename).
    Replace,
}

enum Published {
    Written,
    AlreadyExists,
}

/// Removes the temporary file when dropped, unless it was published by rename.
struct TempFile {
    path: PathBuf,
    remove: bool,
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if self.remove {
            // Nothing useful can be done if removal fails; the file is 0600.
            let _ = fs::remove_file(&self.path);
        }
    }
}

fn write_atomically(
    path: &Path,
    contents: &[u8],
    publish: Publish,
) -> Result<Published, CryptoError> {
    let file_name = path.file_name().ok_or_else(|| {
        io_error(
            "write key file",
            path,
            io::Error::new(io::ErrorKind::InvalidInput, "the path names no file"),
        )
    })?;
    let dir = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    create_private_dirs(dir)?;

    let suffix = getrandom::u64().map_err(CryptoError::Random)?;
    let mut temp_name = std::ffi::OsString::from(".");
    temp_name.push(file_name);
    temp_name.push(format!(".{suffix:016x}.tmp"));
    let mut temp = TempFile {
        path: dir.join(temp_name),
        remove: true,
    };

    let mut file = create_private_file(&temp.path)
        .map_err(|err| io_error("create temporary key file", &temp.path, err))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|err| io_error("write temporary key file", &temp.path, err))?;
    drop(file);

    let published = match publish {
        Publish::Replace => {
            rename(&temp.path, path)?;
            temp.remove = false;
            Published::Written
        }
        Publish::IfAbsent => match fs::hard_link(&temp.path, path) {
            Ok(()) => Published::Written,
            Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Published::AlreadyExists,
            // No hard links on this file system (e.g. FAT, some network
            // mounts): rename, which is atomic but would replace a file that
            // another process created in the same instant.
            Err(_) => {
                rename(&temp.path, path)?;
                temp.remove = false;
                Published::Written
            }
        },
    };
    // Remove the temporary name before syncing the directory, so that both
    // changes reach the disk together.
    drop(temp);
    sync_dir(dir)?;
    Ok(published)
}

fn rename(from: &Path, to: &Path) -> Result<(), CryptoError> {
    fs::rename(from, to).map_err(|err| io_error("move new key file into place at", to, err))
}

#[cfg(unix)]
fn create_private_file(path: &Path) -> io::Result<File> {
    use std::os::unix::fs::OpenOptionsExt as _;
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

#[cfg(not(unix))]
fn create_private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new().write(true).create_new(true).open(path)
}

#[cfg(unix)]
fn create_private_dirs(dir: &Path) -> Result<(), CryptoError> {
    use std::os::unix::fs::DirBuilderExt as _;
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|err| io_error("create key directory", dir, err))
}

#[cfg(not(unix))]
fn create_private_dirs(dir: &Path) -> Result<(), CryptoError> {
    fs::create_dir_all(dir).map_err(|err| io_error("create key directory", dir, err))
}

/// Make a rename or link in `dir` durable.
#[cfg(unix)]
fn sync_dir(dir: &Path) -> Result<(), CryptoError> {
    File::open(dir)
        .and_then(|dir_file| dir_file.sync_all())
        .map_err(|err| io_error("sync key directory", dir, err))
}

/// Directories cannot be opened as files here; the rename is durable enough.
#[cfg(not(unix))]
fn sync_dir(_dir: &Path) -> Result<(), CryptoError> {
    Ok(())
}
