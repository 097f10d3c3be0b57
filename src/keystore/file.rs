//! [`FileKeyStore`]: the platform certificates in one file of a directory.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use futures::future::BoxFuture;

use super::strict::Directory;
use super::{KeyStore, StoredSet};
use crate::error::{Error, Result};

/// The file the set is kept in, inside the store's directory.
const FILE_NAME: &str = "wechatpay_certificates.json";

/// The largest file the store reads: a set of a few certificates takes a few KiB.
const MAX_FILE_SIZE: u64 = 1 << 20;

/// At most this many reads and writes of one store at once, each on a thread of its own: a
/// stalled disk or mount holds these threads, never more.
const MAX_IN_FLIGHT: usize = 2;

/// A [`KeyStore`] in a directory: the complete set of the last download in one file,
/// `wechatpay_certificates.json` (JSON, [`StoredSet`]: each certificate's PEM with its
/// listed validity, and when it was downloaded).
///
/// * **Atomic, complete.** Each save writes a new file (mode `0600`), syncs it and renames it
///   over the last one: a reader sees the old set or the new one, and a certificate WeChat
///   Pay stopped listing is gone with the next download. A set downloaded later than the
///   one being saved (by another process) is kept.
/// * **Strict about the directory.** Like ssh's `StrictModes`, the directory and the file
///   must belong to this process's user (or root) and be writable by neither group nor
///   others, or nothing in them is trusted (a certificate planted there would make forged
///   answers verify). The directory is created `0700` when missing. The file is opened
///   without following symbolic links, must be a regular file (a FIFO is refused, never
///   waited on), and is read up to 1 MiB.
/// * **Off the executor.** Each read and write runs on a thread of its own, so that a
///   stalled disk or mount never blocks a runtime (the client gives up on the store after
///   10 s and downloads); while two are still stuck, the next fails at once.
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
    in_flight: Arc<AtomicUsize>,
}

impl FileKeyStore {
    /// A store in `directory`, created (mode `0700`, with its parents) at the first save.
    pub fn new(directory: impl Into<PathBuf>) -> Self {
        Self {
            directory: Arc::new(directory.into()),
            in_flight: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// The directory.
    pub fn directory(&self) -> &Path {
        &self.directory
    }

    /// The file the set is kept in: `{directory}/wechatpay_certificates.json`.
    pub fn file(&self) -> PathBuf {
        self.directory.join(FILE_NAME)
    }

    fn load_now(&self) -> Result<Option<StoredSet>> {
        let Some(directory) = Directory::open(&self.directory, false)? else {
            return Ok(None);
        };
        let Some(bytes) = directory.read(FILE_NAME, MAX_FILE_SIZE)? else {
            return Ok(None);
        };
        serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            Error::decode(format!(
                "FileKeyStore: `{}` does not hold platform certificates as this store writes \
                 them ({e}); delete it, and the next download writes it again",
                self.file().display()
            ))
            .with_source(e)
        })
    }

    fn save_now(&self, set: &StoredSet) -> Result<()> {
        let bytes = serde_json::to_vec_pretty(set).map_err(|e| {
            Error::decode(format!("cannot write the certificates as JSON: {e}")).with_source(e)
        })?;
        let Some(directory) = Directory::open(&self.directory, true)? else {
            return Err(Error::config(format!(
                "FileKeyStore: `{}` vanished right after it was created",
                self.directory.display()
            )));
        };
        // A set downloaded later (by another process) stays: an older one never replaces it.
        let kept = directory
            .read(FILE_NAME, MAX_FILE_SIZE)
            .ok()
            .flatten()
            .and_then(|bytes| serde_json::from_slice::<StoredSet>(&bytes).ok());
        if kept.is_some_and(|kept| kept.downloaded_at_ms > set.downloaded_at_ms) {
            return Ok(());
        }
        directory.replace(FILE_NAME, &bytes)
    }

    /// Runs `work` on a thread of its own, at most [`MAX_IN_FLIGHT`] at once for this store.
    fn off_the_executor<T: Send + 'static>(
        &self,
        what: &'static str,
        work: impl FnOnce(&FileKeyStore) -> Result<T> + Send + 'static,
    ) -> BoxFuture<'static, Result<T>> {
        let busy = |why: String| -> BoxFuture<'static, Result<T>> {
            let error = Error::config(why);
            Box::pin(async move { Err(error) })
        };
        if self.in_flight.fetch_add(1, Ordering::AcqRel) >= MAX_IN_FLIGHT {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return busy(format!(
                "FileKeyStore: earlier reads and writes of `{}` have not finished (a stalled \
                 disk or mount?); the store is skipped until they do",
                self.directory.display()
            ));
        }
        let (answer, answered) = futures::channel::oneshot::channel();
        let store = self.clone();
        let spawned = std::thread::Builder::new()
            .name("wechatpay-keystore".to_owned())
            .spawn(move || {
                let result = work(&store);
                store.in_flight.fetch_sub(1, Ordering::AcqRel);
                let _ = answer.send(result);
            });
        if let Err(error) = spawned {
            self.in_flight.fetch_sub(1, Ordering::AcqRel);
            return busy(format!(
                "FileKeyStore: cannot start a thread to {what} `{}`: {error}",
                self.directory.display()
            ));
        }
        Box::pin(async move {
            answered.await.unwrap_or_else(|_| {
                Err(Error::config(format!(
                    "FileKeyStore: the thread that was to {what} the store stopped"
                )))
            })
        })
    }
}

impl KeyStore for FileKeyStore {
    fn load(&self) -> BoxFuture<'static, Result<Option<StoredSet>>> {
        self.off_the_executor("read", FileKeyStore::load_now)
    }

    fn save(&self, set: StoredSet) -> BoxFuture<'static, Result<()>> {
        self.off_the_executor("write", move |store| store.save_now(&set))
    }
}

impl fmt::Debug for FileKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("FileKeyStore")
            .field("directory", &self.directory)
            .finish()
    }
}
