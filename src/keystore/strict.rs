//! The file operations of [`FileKeyStore`](super::FileKeyStore), strict about what they
//! touch: a directory checked like ssh's `StrictModes` (owned by this process's user or by
//! root, writable by neither group nor others), the files in it opened relative to that
//! checked directory without following symbolic links (`O_NOFOLLOW`) or blocking on a FIFO
//! (`O_NONBLOCK`), regular files only, read up to a size cap, and replaced atomically (a new
//! file created `0600`, synced, renamed over the old one).
//!
//! Blocking calls: run them off any executor.

use std::io::{self, Read};
use std::path::{Path, PathBuf};

use crate::error::{Error, ErrorKind, Result};

/// A directory of the store, opened and checked.
pub(super) struct Directory {
    path: PathBuf,
    #[cfg(unix)]
    fd: std::os::fd::OwnedFd,
}

impl Directory {
    /// Opens the directory `path` and checks who may write to it; `create` makes it first
    /// (mode `0700`, with its parents) when it is missing. `None` when it is missing and not
    /// to be created.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when it cannot be opened, is not a directory, or may be written
    /// by another user.
    pub(super) fn open(path: &Path, create: bool) -> Result<Option<Self>> {
        if create {
            make_directory(path)?;
        }
        imp::open(path)
    }

    /// The bytes of the regular file `name` in this directory, at most `max` of them; `None`
    /// when there is no such file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when it is a symbolic link, a FIFO or anything but a regular
    /// file, may be written by another user, is larger than `max`, or cannot be read.
    pub(super) fn read(&self, name: &str, max: u64) -> Result<Option<Vec<u8>>> {
        imp::read(self, name, max)
    }

    /// Replaces the file `name` with `bytes` in one step: written to a new file (`0600`,
    /// never an existing one or a link), synced, then renamed over `name`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the file cannot be written or renamed.
    pub(super) fn replace(&self, name: &str, bytes: &[u8]) -> Result<()> {
        let mut random = [0u8; 8];
        crate::crypto::random::fill(&mut random)?;
        let temporary = format!(".{name}.{}.tmp", crate::crypto::hash::hex_lower(&random));
        imp::replace(self, name, &temporary, bytes)
    }

    fn refused(&self, name: Option<&str>, why: &str) -> Error {
        let path = self.path_of(name);
        Error::config(format!(
            "FileKeyStore: `{}` {why}; nothing in it is trusted",
            path.display()
        ))
    }

    fn io_error(&self, what: &str, name: Option<&str>, error: io::Error) -> Error {
        io_error(what, &self.path_of(name), error)
    }

    fn path_of(&self, name: Option<&str>) -> PathBuf {
        match name {
            Some(name) => self.path.join(name),
            None => self.path.clone(),
        }
    }
}

fn io_error(what: &str, path: &Path, error: io::Error) -> Error {
    Error::new(
        ErrorKind::Config,
        format!(
            "FileKeyStore: {what} `{}`: {error}; check that the directory exists or can be \
             created, and that this process may read and write it",
            path.display()
        ),
    )
    .with_source(error)
}

/// Reads `reader` up to `max` bytes; more is an error.
fn read_capped(reader: impl Read, expected: u64, max: u64) -> io::Result<Option<Vec<u8>>> {
    let mut bytes = Vec::with_capacity(usize::try_from(expected.min(max)).unwrap_or(0));
    reader.take(max.saturating_add(1)).read_to_end(&mut bytes)?;
    Ok((bytes.len() as u64 <= max).then_some(bytes))
}

fn too_large(max: u64) -> String {
    format!(
        "is larger than {max} bytes, more than a set of platform certificates takes: it was \
         not written by this store; delete it, and the next download writes it again"
    )
}

#[cfg(unix)]
fn make_directory(path: &Path) -> Result<()> {
    use std::os::unix::fs::DirBuilderExt;
    match std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(path)
    {
        Ok(()) => Ok(()),
        Err(error) => Err(io_error("cannot create", path, error)),
    }
}

#[cfg(not(unix))]
fn make_directory(path: &Path) -> Result<()> {
    std::fs::create_dir_all(path).map_err(|error| io_error("cannot create", path, error))
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::io::Write as _;
    use std::path::Path;

    use rustix::fs::{self as fs, AtFlags, FileType, Mode, OFlags, Stat};
    use rustix::io::Errno;

    use super::{Directory, read_capped, too_large};
    use crate::error::Result;

    pub(super) fn open(path: &Path) -> Result<Option<Directory>> {
        let flags = OFlags::RDONLY | OFlags::DIRECTORY | OFlags::CLOEXEC | OFlags::NONBLOCK;
        let fd = match fs::open(path, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(errno) => return Err(super::io_error("cannot open", path, errno.into())),
        };
        let directory = Directory {
            path: path.to_owned(),
            fd,
        };
        let stat = fs::fstat(&directory.fd)
            .map_err(|errno| directory.io_error("cannot look at", None, errno.into()))?;
        check_owner_and_mode(&directory, None, &stat)?;
        Ok(Some(directory))
    }

    pub(super) fn read(directory: &Directory, name: &str, max: u64) -> Result<Option<Vec<u8>>> {
        let flags =
            OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::NONBLOCK | OFlags::NOCTTY | OFlags::CLOEXEC;
        let fd = match fs::openat(&directory.fd, name, flags, Mode::empty()) {
            Ok(fd) => fd,
            Err(Errno::NOENT) => return Ok(None),
            Err(Errno::LOOP | Errno::MLINK) => {
                return Err(directory.refused(
                    Some(name),
                    "is a symbolic link, which the store never follows: remove it, and the \
                     next download writes the file again",
                ));
            }
            Err(errno) => {
                return Err(directory.io_error("cannot open", Some(name), errno.into()));
            }
        };
        let stat = fs::fstat(&fd)
            .map_err(|errno| directory.io_error("cannot look at", Some(name), errno.into()))?;
        let kind = FileType::from_raw_mode(stat.st_mode);
        if kind != FileType::RegularFile {
            return Err(directory.refused(
                Some(name),
                &format!(
                    "is not a regular file (a {kind:?}): the store reads regular files only; \
                     remove it, and the next download writes the file again"
                ),
            ));
        }
        check_owner_and_mode(directory, Some(name), &stat)?;
        let size = u64::try_from(stat.st_size).unwrap_or(u64::MAX);
        if size > max {
            return Err(directory.refused(Some(name), &too_large(max)));
        }
        match read_capped(File::from(fd), size, max) {
            Ok(Some(bytes)) => Ok(Some(bytes)),
            Ok(None) => Err(directory.refused(Some(name), &too_large(max))),
            Err(error) => Err(directory.io_error("cannot read", Some(name), error)),
        }
    }

    pub(super) fn replace(
        directory: &Directory,
        name: &str,
        temporary: &str,
        bytes: &[u8],
    ) -> Result<()> {
        let flags = OFlags::WRONLY
            | OFlags::CREATE
            | OFlags::EXCL
            | OFlags::NOFOLLOW
            | OFlags::NOCTTY
            | OFlags::CLOEXEC;
        let fd = fs::openat(&directory.fd, temporary, flags, Mode::RUSR | Mode::WUSR)
            .map_err(|errno| directory.io_error("cannot create", Some(temporary), errno.into()))?;
        let mut file = File::from(fd);
        let written = file
            .write_all(bytes)
            .and_then(|()| file.sync_all())
            .map_err(|error| directory.io_error("cannot write", Some(temporary), error))
            .and_then(|()| {
                fs::renameat(&directory.fd, temporary, &directory.fd, name).map_err(|errno| {
                    directory.io_error("cannot rename into", Some(name), errno.into())
                })
            });
        if written.is_err() {
            let _ = fs::unlinkat(&directory.fd, temporary, AtFlags::empty());
        }
        written?;
        // The rename itself, made durable.
        let _ = fs::fsync(&directory.fd);
        Ok(())
    }

    /// As ssh's `StrictModes`: owned by this process's user or by root, and writable by
    /// neither group nor others, so that no other user can plant a certificate.
    fn check_owner_and_mode(directory: &Directory, name: Option<&str>, stat: &Stat) -> Result<()> {
        let user = rustix::process::geteuid().as_raw();
        let owner = stat.st_uid;
        if owner != user && owner != 0 {
            return Err(directory.refused(
                name,
                &format!(
                    "belongs to uid {owner}, neither this process's user (uid {user}) nor \
                     root: another user could plant a certificate there; give it to this \
                     user (chown)"
                ),
            ));
        }
        let mode = Mode::from_raw_mode(stat.st_mode);
        if mode.intersects(Mode::WGRP | Mode::WOTH) {
            let who = match (mode.contains(Mode::WGRP), mode.contains(Mode::WOTH)) {
                (true, true) => "its group and by others",
                (true, false) => "its group",
                _ => "others",
            };
            return Err(directory.refused(
                name,
                &format!(
                    "may be written by {who} (mode {:o}): anyone who may write there could \
                     plant a certificate; `chmod go-w` it",
                    mode.bits()
                ),
            ));
        }
        Ok(())
    }
}

#[cfg(not(unix))]
mod imp {
    use std::fs::File;
    use std::io::Write as _;
    use std::path::Path;

    use super::{Directory, read_capped, too_large};
    use crate::error::Result;

    pub(super) fn open(path: &Path) -> Result<Option<Directory>> {
        match std::fs::metadata(path) {
            Ok(metadata) if metadata.is_dir() => Ok(Some(Directory {
                path: path.to_owned(),
            })),
            Ok(_) => Err(super::io_error(
                "cannot open",
                path,
                std::io::Error::other("not a directory"),
            )),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(super::io_error("cannot open", path, error)),
        }
    }

    pub(super) fn read(directory: &Directory, name: &str, max: u64) -> Result<Option<Vec<u8>>> {
        let path = directory.path.join(name);
        let metadata = match std::fs::symlink_metadata(&path) {
            Ok(metadata) => metadata,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(directory.io_error("cannot look at", Some(name), error)),
        };
        if !metadata.is_file() {
            return Err(directory.refused(
                Some(name),
                "is not a regular file: the store reads regular files only; remove it",
            ));
        }
        if metadata.len() > max {
            return Err(directory.refused(Some(name), &too_large(max)));
        }
        let file = File::open(&path)
            .map_err(|error| directory.io_error("cannot open", Some(name), error))?;
        match read_capped(file, metadata.len(), max) {
            Ok(Some(bytes)) => Ok(Some(bytes)),
            Ok(None) => Err(directory.refused(Some(name), &too_large(max))),
            Err(error) => Err(directory.io_error("cannot read", Some(name), error)),
        }
    }

    pub(super) fn replace(
        directory: &Directory,
        name: &str,
        temporary: &str,
        bytes: &[u8],
    ) -> Result<()> {
        let partial = directory.path.join(temporary);
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&partial)
            .and_then(|mut file| file.write_all(bytes).and_then(|()| file.sync_all()))
            .and_then(|()| std::fs::rename(&partial, directory.path.join(name)));
        if let Err(error) = written {
            let _ = std::fs::remove_file(&partial);
            return Err(directory.io_error("cannot write", Some(name), error));
        }
        Ok(())
    }
}
