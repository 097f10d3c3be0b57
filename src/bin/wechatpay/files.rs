//! The files the command writes: each created new beside its destination under a random
//! name (never through a file or link planted there), readable by its owner only (`0600`),
//! renamed into place when complete and removed on any failure; directories created fresh
//! (`0700`).

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use crate::Failure;

/// A file being written beside its destination: `.{name}.{random}.part`, removed unless
/// renamed into place.
pub struct Partial {
    path: PathBuf,
    file: Option<File>,
    kept: bool,
}

impl Partial {
    /// Creates the partial file of `out`.
    pub fn create(out: &Path) -> Result<Self, Failure> {
        let name = out
            .file_name()
            .ok_or_else(|| Failure(format!("{} names no file", out.display())))?;
        let mut partial = std::ffi::OsString::from(".");
        partial.push(name);
        partial.push(format!(".{}.part", wechatpay::toolkit::nonce(12)?));
        let path = out.with_file_name(partial);
        let mut options = OpenOptions::new();
        options.write(true).create_new(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let file = options
            .open(&path)
            .map_err(|e| Failure(format!("cannot create {}: {e}", path.display())))?;
        Ok(Self {
            path,
            file: Some(file),
            kept: false,
        })
    }

    /// A handle to write the file with.
    pub fn file(&self) -> Result<File, Failure> {
        let file = self
            .file
            .as_ref()
            .ok_or_else(|| Failure(format!("{} is closed", self.path.display())))?;
        file.try_clone()
            .map_err(|e| Failure(format!("cannot write {}: {e}", self.path.display())))
    }

    /// Renames the complete file to `out` (replacing what is there).
    pub fn rename_to(mut self, out: &Path) -> Result<(), Failure> {
        if let Some(file) = self.file.take() {
            file.sync_all()
                .map_err(|e| Failure(format!("cannot write {}: {e}", self.path.display())))?;
        }
        std::fs::rename(&self.path, out)
            .map_err(|e| Failure(format!("cannot write {}: {e}", out.display())))?;
        self.kept = true;
        Ok(())
    }
}

impl Drop for Partial {
    fn drop(&mut self) {
        if !self.kept {
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

/// Writes `bytes` to `path`: a new `0600` file beside it, renamed over it.
pub fn write_private(path: &Path, bytes: &[u8]) -> Result<(), Failure> {
    let partial = Partial::create(path)?;
    partial
        .file()?
        .write_all(bytes)
        .map_err(|e| Failure(format!("cannot write {}: {e}", path.display())))?;
    partial.rename_to(path)
}

/// Creates a new directory `{parent}/{prefix}{random}`, readable by its owner only (`0700`);
/// fails rather than use one that already exists.
pub fn fresh_directory(parent: &Path, prefix: &str) -> Result<PathBuf, Failure> {
    let path = parent.join(format!("{prefix}{}", wechatpay::toolkit::nonce(16)?));
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder
        .create(&path)
        .map_err(|e| Failure(format!("cannot create {}: {e}", path.display())))?;
    Ok(path)
}
