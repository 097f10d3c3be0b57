//! Sharing downloaded platform certificates between processes and across restarts: the
//! [`KeyStore`] trait and [`FileKeyStore`], a directory of `wechatpay_{serial}.pem` files.
//!
//! In automatic mode ([`ClientBuilder::auto_certificates`](crate::ClientBuilder::auto_certificates))
//! with a store ([`ClientBuilder::key_store`](crate::ClientBuilder::key_store)), a client
//! reads the store before it downloads, and writes every download to it:
//!
//! * at the first request, certificates saved less than one refresh interval ago are used
//!   as they are, so a restart (or the tenth process of a fleet) sends no download;
//! * at each scheduled refresh, the same: the first process whose timer fires downloads and
//!   saves, the others find a fresh store;
//! * when an answer names an unknown serial, a store that already holds that serial (another
//!   process saw the rotation first) spares the download;
//! * before a download, a store shared by a fleet lets one process download while the others
//!   wait for its result ([`KeyStore::lease`]).
//!
//! What a store holds is trusted as it is: keep it writable by your services only. The
//! certificates themselves are public; no secret is ever written.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::UNIX_EPOCH;

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::error::{Error, ErrorKind, Result};
use crate::toolkit;

/// A downloaded platform certificate as a [`KeyStore`] keeps it.
///
/// Serialisable with serde, so a store over Redis or a database can keep it as JSON.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCertificate {
    /// The certificate serial (upper-case hex).
    pub serial: String,
    /// The certificate, PEM text.
    pub pem: String,
    /// The start of its validity as downloaded (the listed `effective_time`), Unix seconds;
    /// `0` when the store does not keep it (the certificate's own `notBefore` applies).
    pub not_before: u64,
    /// The end of its validity as downloaded (the listed `expire_time`), Unix seconds;
    /// `u64::MAX` when the store does not keep it (the certificate's own `notAfter` applies).
    pub not_after: u64,
    /// When it was saved, Unix seconds: how fresh the store is.
    pub saved_at: u64,
}

/// Where downloaded platform certificates are kept, so that many processes (or a restart)
/// reuse one download instead of each calling WeChat Pay.
///
/// Both methods return a `Send + 'static` future that runs inside a tokio runtime (the
/// client's runtime thread), so an implementation may use an async client. An error from
/// `load` makes the client download; an error from `save` leaves the downloaded keys in use
/// and is retried at the next refresh.
///
/// [`FileKeyStore`] keeps one file per certificate in a directory. Other stores follow the
/// same shape:
///
/// * **Redis**: feature `redis` has one, `wechatpay::redis::RedisKeyStore`: the whole set
///   in one key per merchant (replaced at each save), and the lease below.
/// * **A database**: a table `(mchid, serial, pem, not_before, not_after, saved_at)` with
///   primary key `(mchid, serial)`; `save` upserts every row in one transaction, `load`
///   selects the merchant's rows.
///
/// A store shared by many processes may also keep them from downloading all at once (a
/// cross-process single flight): before a download the client asks [`KeyStore::lease`]; one
/// process gets [`Lease::Granted`] and downloads, the others wait for its result and load it.
/// Stores that do not implement it grant every lease at once.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use futures::future::BoxFuture;
/// use wechatpay::keystore::{KeyStore, StoredCertificate};
///
/// /// A store in memory, shared by the clients of one process.
/// #[derive(Clone, Default)]
/// struct Memory(Arc<Mutex<Vec<StoredCertificate>>>);
///
/// impl KeyStore for Memory {
///     fn load(&self) -> BoxFuture<'static, wechatpay::Result<Vec<StoredCertificate>>> {
///         let kept = self.0.lock().unwrap().clone();
///         Box::pin(async move { Ok(kept) })
///     }
///
///     fn save(&self, certificates: Vec<StoredCertificate>) -> BoxFuture<'static, wechatpay::Result<()>> {
///         *self.0.lock().unwrap() = certificates;
///         Box::pin(async { Ok(()) })
///     }
/// }
/// ```
pub trait KeyStore: Send + Sync + 'static {
    /// The certificates kept, in any order (expired ones may be included: they are skipped).
    fn load(&self) -> BoxFuture<'static, Result<Vec<StoredCertificate>>>;

    /// Keeps `certificates`, the complete result of a download (each with the same
    /// `saved_at`). Ends this process's lease ([`KeyStore::lease`]), if it holds one.
    fn save(&self, certificates: Vec<StoredCertificate>) -> BoxFuture<'static, Result<()>>;

    /// Asked before a download, when what [`KeyStore::load`] gave was not enough (empty,
    /// stale, or without the serial an answer named): [`Lease::Granted`] lets this process
    /// download (its [`KeyStore::save`], or [`KeyStore::release`] after a failed download,
    /// ends the lease); [`Lease::Waited`] means another process held the lease and let it go
    /// (or the wait ran out), so the client loads the store again before it downloads.
    ///
    /// A store shared by a fleet takes a short lease (e.g. Redis `SET … NX PX`) and, when
    /// another process holds it, waits a bounded time for it to end. The default grants at
    /// once: every process downloads on its own.
    ///
    /// # Errors
    ///
    /// When the store cannot be asked; the client then downloads without a lease.
    fn lease(&self) -> BoxFuture<'static, Result<Lease>> {
        Box::pin(async { Ok(Lease::Granted) })
    }

    /// Ends this process's lease after a download that failed, or that turned out not to be
    /// needed, so that another process may try at once. The default does nothing.
    ///
    /// # Errors
    ///
    /// When the store cannot be asked; the lease then ends when it expires.
    fn release(&self) -> BoxFuture<'static, Result<()>> {
        Box::pin(async { Ok(()) })
    }
}

/// The answer of [`KeyStore::lease`]: download now, or load again.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lease {
    /// This process downloads; its [`KeyStore::save`] (or [`KeyStore::release`]) ends the
    /// lease.
    Granted,
    /// Another process held the lease and let it go (its download saved, or failed), or the
    /// wait ran out: load the store again.
    Waited,
}

/// A [`KeyStore`] in a directory: one `wechatpay_{serial}.pem` per certificate, the file
/// names and contents the PHP SDK's `CertificateDownloader` writes, so either can fill it.
///
/// Each file is written to a temporary name and renamed, so a process reading the directory
/// never sees half a certificate. The file's modification time is its `saved_at`; the
/// listed `effective_time` / `expire_time` are not kept (the certificate's own validity
/// applies until the next download). Files are never deleted: expired ones are skipped.
/// The files are small and read and written synchronously by the store's futures.
///
/// ```no_run
/// use wechatpay::{Client, FileKeyStore, PrivateKey};
///
/// # fn main() -> wechatpay::Result<()> {
/// let client = Client::builder()
///     .mchid("1900000109")
///     .serial("3775B6A45ACD588826D15E583A95F5DD00000000")
///     .private_key(PrivateKey::from_pem_file("apiclient_key.pem")?)
///     .apiv3_key("0123456789abcdef0123456789abcdef")
///     .auto_certificates()
///     .key_store(FileKeyStore::new("/var/lib/myshop/wechatpay"))
///     .build()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct FileKeyStore {
    directory: Arc<PathBuf>,
}

/// The file name prefix and suffix of a stored certificate.
const PREFIX: &str = "wechatpay_";
const SUFFIX: &str = ".pem";

impl FileKeyStore {
    /// A store in `directory`, created (with its parents) at the first save.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: Arc::new(directory.into()),
        }
    }

    /// The directory.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The path of the certificate `serial`: `{directory}/wechatpay_{serial}.pem`.
    pub fn path_of(&self, serial: &str) -> PathBuf {
        self.directory.join(format!("{PREFIX}{serial}{SUFFIX}"))
    }

    fn load_now(&self) -> Result<Vec<StoredCertificate>> {
        let entries = match std::fs::read_dir(&*self.directory) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(self.io_error("cannot list", &self.directory, e)),
        };
        let mut kept = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|e| self.io_error("cannot list", &self.directory, e))?;
            let name = entry.file_name();
            let Some(serial) = name
                .to_str()
                .and_then(|name| name.strip_prefix(PREFIX)?.strip_suffix(SUFFIX))
                .filter(|serial| is_serial(serial))
            else {
                continue;
            };
            let path = entry.path();
            let pem = std::fs::read_to_string(&path)
                .map_err(|e| self.io_error("cannot read", &path, e))?;
            let saved_at = entry
                .metadata()
                .and_then(|metadata| metadata.modified())
                .ok()
                .and_then(|modified| modified.duration_since(UNIX_EPOCH).ok())
                .map_or(0, |age| age.as_secs());
            kept.push(StoredCertificate {
                serial: serial.to_owned(),
                pem,
                not_before: 0,
                not_after: u64::MAX,
                saved_at,
            });
        }
        Ok(kept)
    }

    fn save_now(&self, certificates: &[StoredCertificate]) -> Result<()> {
        std::fs::create_dir_all(&*self.directory)
            .map_err(|e| self.io_error("cannot create", &self.directory, e))?;
        for certificate in certificates {
            if !is_serial(&certificate.serial) {
                return Err(Error::invalid(format!(
                    "FileKeyStore: `{}` is not a certificate serial (hex digits), so it cannot \
                     name a file",
                    certificate.serial.escape_debug()
                )));
            }
            let path = self.path_of(&certificate.serial);
            let temporary = self.directory.join(format!(
                ".{PREFIX}{}{SUFFIX}.{}.tmp",
                certificate.serial,
                toolkit::nonce(12)?
            ));
            std::fs::write(&temporary, &certificate.pem)
                .map_err(|e| self.io_error("cannot write", &temporary, e))?;
            if let Err(e) = std::fs::rename(&temporary, &path) {
                let _ = std::fs::remove_file(&temporary);
                return Err(self.io_error("cannot rename into", &path, e));
            }
        }
        Ok(())
    }

    fn io_error(&self, what: &str, path: &Path, error: std::io::Error) -> Error {
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
}

fn is_serial(serial: &str) -> bool {
    !serial.is_empty() && serial.bytes().all(|b| b.is_ascii_hexdigit())
}

impl KeyStore for FileKeyStore {
    fn load(&self) -> BoxFuture<'static, Result<Vec<StoredCertificate>>> {
        let store = self.clone();
        Box::pin(async move { store.load_now() })
    }

    fn save(&self, certificates: Vec<StoredCertificate>) -> BoxFuture<'static, Result<()>> {
        let store = self.clone();
        Box::pin(async move { store.save_now(&certificates) })
    }
}

impl fmt::Debug for FileKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileKeyStore")
            .field("directory", &self.directory)
            .finish()
    }
}
