//! The [`KeyStore`] contract and what a store keeps ([`StoredSet`]).

use futures::future::BoxFuture;
use serde::{Deserialize, Serialize};

use crate::error::Result;

/// The complete set of platform certificates of one download, as a [`KeyStore`] keeps it.
///
/// Serialisable with serde, so a store over Redis or a database can keep it as one JSON
/// value (which is also the simplest way to replace it atomically).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredSet {
    /// When the download that listed this set was received, in Unix milliseconds: how fresh
    /// the set is, and whether it is newer than what a client already has.
    pub downloaded_at_ms: u64,
    /// Every certificate WeChat Pay listed in that download (expired ones are skipped when
    /// the set is loaded).
    pub certificates: Vec<StoredCertificate>,
}

/// A downloaded platform certificate, as a [`StoredSet`] holds it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredCertificate {
    /// The certificate serial (upper-case hex).
    pub serial: String,
    /// The certificate, PEM text.
    pub pem: String,
    /// The start of its validity as listed (`effective_time`), Unix seconds; narrowed further
    /// by the certificate's own `notBefore`.
    pub not_before: u64,
    /// The end of its validity as listed (`expire_time`), Unix seconds; narrowed further by
    /// the certificate's own `notAfter`.
    pub not_after: u64,
}

/// Where downloaded platform certificates are kept, so that many processes (or a restart)
/// reuse one download instead of each calling WeChat Pay.
///
/// Every method returns a `Send + 'static` future that runs inside a tokio runtime (the
/// client's runtime thread), so an implementation may use an async client; one that does
/// blocking I/O must move it off that thread (as [`FileKeyStore`](crate::FileKeyStore)
/// does), or it stalls every request of the process. The client bounds each call in time
/// (10 s). An error from `load` makes the client download; an error from `save` leaves the
/// downloaded keys in use and is retried at the next refresh.
///
/// **The contract.** [`KeyStore::save`] replaces the whole set, atomically: after it, `load`
/// returns exactly the set saved (its `downloaded_at_ms` and each certificate's
/// `not_before` / `not_after` unchanged), and nothing of the set before it. Never merge two
/// sets, never keep a certificate the new set lacks: WeChat Pay stops listing a certificate
/// to withdraw it. A store shared by several processes should keep a set whose
/// `downloaded_at_ms` is later than the one being saved (a slow process's older download
/// must not replace a newer one); both stores of this crate do.
///
/// [`FileKeyStore`](crate::FileKeyStore) keeps the set in one file in a directory. Other
/// stores follow the same shape:
///
/// * **Redis**: feature `redis` has one, `wechatpay::redis::RedisKeyStore`: the whole set
///   as JSON in one key per merchant (replaced with one `SET`), and the lease below.
/// * **A database**: a table `wechatpay_certificates (mchid PRIMARY KEY, downloaded_at_ms
///   BIGINT, set_json TEXT)`, one row per merchant holding `serde_json::to_string(&set)`;
///   `save` upserts the row unless the one there is newer (`INSERT … ON CONFLICT (mchid) DO
///   UPDATE SET set_json = excluded.set_json, downloaded_at_ms = excluded.downloaded_at_ms
///   WHERE wechatpay_certificates.downloaded_at_ms <= excluded.downloaded_at_ms`), `load`
///   selects `set_json` and parses it back. (With a row per certificate instead, `save` must
///   delete the merchant's rows and insert the new ones in one transaction, and keep
///   `downloaded_at_ms` in a row of its own, so that an empty set keeps its time.)
///
/// A store shared by many processes may also keep them from downloading all at once (a
/// cross-process single flight): before a download the client asks [`KeyStore::lease`]; one
/// process gets [`Lease::Granted`] and downloads, the others wait for its result and load it.
/// Stores that do not implement it grant every lease at once.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use futures::future::BoxFuture;
/// use wechatpay::keystore::{KeyStore, StoredSet};
///
/// /// A store in memory, shared by the clients of one process.
/// #[derive(Clone, Default)]
/// struct Memory(Arc<Mutex<Option<StoredSet>>>);
///
/// impl KeyStore for Memory {
///     fn load(&self) -> BoxFuture<'static, wechatpay::Result<Option<StoredSet>>> {
///         let kept = self.0.lock().unwrap().clone();
///         Box::pin(async move { Ok(kept) })
///     }
///
///     fn save(&self, set: StoredSet) -> BoxFuture<'static, wechatpay::Result<()>> {
///         // The whole set, replacing the last one.
///         *self.0.lock().unwrap() = Some(set);
///         Box::pin(async { Ok(()) })
///     }
/// }
/// ```
pub trait KeyStore: Send + Sync + 'static {
    /// The set saved last, unchanged; `None` when nothing was saved yet.
    ///
    /// # Errors
    ///
    /// When the store cannot be read; the client then downloads.
    fn load(&self) -> BoxFuture<'static, Result<Option<StoredSet>>>;

    /// Replaces the set kept with `set`, the complete result of a download, atomically. Ends
    /// this process's lease ([`KeyStore::lease`]), if it holds one.
    ///
    /// # Errors
    ///
    /// When the store cannot be written; the client keeps the downloaded keys and saves
    /// again at its next refresh.
    fn save(&self, set: StoredSet) -> BoxFuture<'static, Result<()>>;

    /// Asked before a download, when what [`KeyStore::load`] gave was not enough (empty,
    /// stale, or older than the client's keys): [`Lease::Granted`] lets this process download
    /// (its [`KeyStore::save`], or [`KeyStore::release`] after a failed download, ends the
    /// lease); [`Lease::Waited`] means another process held the lease and let it go (or the
    /// wait ran out), so the client loads the store again before it downloads.
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
