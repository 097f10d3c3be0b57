//! [`RedisKeyStore`]: the platform certificates of one merchant, shared by a fleet.

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use ::redis::Script;
use futures::future::BoxFuture;

use super::connection::Connection;
use super::names::{DEFAULT_PREFIX, check_name};
use crate::error::{Error, Result};
use crate::keystore::{KeyStore, Lease, StoredSet};
use crate::toolkit;

/// The default lease of a download ([`RedisKeyStore::with_lease`]): 10 seconds.
const DEFAULT_DOWNLOAD_LEASE: Duration = Duration::from_secs(10);

/// How often a process that waits for another's download looks whether it ended.
const POLL: Duration = Duration::from_millis(20);

/// Saves the set unless the key holds a newer one (downloaded later by another process), and
/// ends this process's lease, in one step. Returns 1 when the set was written, 0 when a newer
/// one was kept.
static SAVE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local written = 1
local current = redis.call('GET', KEYS[1])
if current then
  local ok, kept = pcall(cjson.decode, current)
  if ok and type(kept) == 'table' and tonumber(kept.downloaded_at_ms)
     and tonumber(kept.downloaded_at_ms) > tonumber(ARGV[3]) then
    written = 0
  end
end
if written == 1 then redis.call('SET', KEYS[1], ARGV[1]) end
if redis.call('GET', KEYS[2]) == ARGV[2] then redis.call('DEL', KEYS[2]) end
return written
",
    )
});

/// Ends this process's lease, and only its own.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// A [`KeyStore`] in Redis, shared by every process of a fleet: the platform certificates of
/// one merchant, with a cross-process single flight for their downloads.
///
/// * **One key per merchant**, `{prefix}:{mchid}:certificates` (prefix `wechatpay` unless
///   set with [`RedisKeyStore::with_prefix`]): the complete set of the last download as
///   JSON ([`StoredSet`]), with the listed validity of each certificate (`effective_time`,
///   `expire_time`) and when the set was downloaded (`downloaded_at_ms`). A save replaces the
///   whole set in one step, so a certificate WeChat Pay stopped listing is gone with the next
///   download, and a reader never sees half a set; a save never replaces a set downloaded
///   later than its own (a slow process cannot bring back what a newer download dropped).
/// * **A lease per merchant**, `{prefix}:{mchid}:certificates:lease`: when the store is empty,
///   stale or lacks a serial an answer named, one process takes the lease (`SET … NX PX`,
///   10 seconds unless set) and downloads; the others wait until its save ends the lease
///   (at most the lease's length, then they download themselves) and load its result.
///   Sixteen first requests across a fleet thus send one download.
///
/// `new` parses the URL and connects nothing: the connection is made at the first use (on
/// the client's runtime thread), shared by every store and dedupe of the process opened with
/// the same URL, and reconnects by itself after an outage. While Redis cannot answer, the
/// client downloads on its own (as without a store) and keeps working.
///
/// ```no_run
/// use wechatpay::redis::RedisKeyStore;
/// use wechatpay::{Client, PrivateKey};
///
/// # fn main() -> wechatpay::Result<()> {
/// let client = Client::builder()
///     .mchid("1900000109")
///     .serial("3775B6A45ACD588826D15E583A95F5DD00000000")
///     .private_key(PrivateKey::from_pem_file("apiclient_key.pem")?)
///     .apiv3_key("0123456789abcdef0123456789abcdef")
///     .auto_certificates()
///     .key_store(RedisKeyStore::new("redis://127.0.0.1:6379/0", "1900000109")?)
///     .build()?;
/// # let _ = client;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisKeyStore {
    connection: Arc<Connection>,
    /// `{prefix}:{mchid}:certificates`.
    set: Arc<str>,
    mchid: Arc<str>,
    /// This store's lease value: it only ever ends its own lease.
    token: Arc<str>,
    lease: Duration,
}

impl RedisKeyStore {
    /// The store of merchant `mchid` in the Redis server at `redis_url`
    /// (`redis://[user:password@]host[:port][/db]` or `redis+unix:///path`). No I/O: the
    /// connection is made at the first use.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the URL does not parse, or when
    /// `mchid` is empty or holds characters other than letters, digits, `-`, `_` and `.`.
    pub fn new(redis_url: &str, mchid: &str) -> Result<Self> {
        check_name("mchid", mchid)?;
        let connection = Connection::open(redis_url)?;
        // A lease value no other store has.
        let token = toolkit::nonce(24)?;
        Ok(Self {
            connection,
            set: format!("{DEFAULT_PREFIX}:{mchid}:certificates").into(),
            mchid: mchid.into(),
            token: token.into(),
            lease: DEFAULT_DOWNLOAD_LEASE,
        })
    }

    /// Keys under `prefix` instead of `wechatpay` (e.g. one prefix per environment sharing a
    /// server).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when `prefix` is empty or holds
    /// characters other than letters, digits, `-`, `_` and `.`.
    pub fn with_prefix(mut self, prefix: &str) -> Result<Self> {
        check_name("prefix", prefix)?;
        self.set = format!("{prefix}:{}:certificates", self.mchid).into();
        Ok(self)
    }

    /// How long a download's lease lasts (10 seconds unless set, at least 100 ms): the
    /// longest the other processes wait for one download before they try themselves. Longer
    /// than a download takes, shorter than a request's timeout.
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(100));
        self
    }

    fn lease_key(&self) -> String {
        format!("{}:lease", self.set)
    }

    async fn load_now(&self) -> Result<Option<StoredSet>> {
        let key = self.set.clone();
        let kept: Option<String> = self
            .connection
            .run("loading the platform certificates", move |mut c| async move {
                ::redis::cmd("GET").arg(&*key).query_async(&mut c).await
            })
            .await?;
        let Some(kept) = kept else {
            return Ok(None);
        };
        let set: StoredSet = serde_json::from_str(&kept).map_err(|e| {
            Error::decode(format!(
                "Redis at {}: `{}` does not hold platform certificates as this store writes \
                 them ({e}); delete the key, and the next download writes it again",
                self.connection.shown(),
                self.set
            ))
        })?;
        Ok(Some(set))
    }

    async fn save_now(&self, set: StoredSet) -> Result<()> {
        let downloaded_at_ms = set.downloaded_at_ms;
        let json = serde_json::to_string(&set)
            .map_err(|e| Error::decode(format!("cannot write the certificates as JSON: {e}")))?;
        let (key, lease_key, token) = (self.set.clone(), self.lease_key(), self.token.clone());
        self.connection
            .run(
                "saving the platform certificates",
                move |mut c| async move {
                    SAVE.key(&*key)
                        .key(&lease_key)
                        .arg(json)
                        .arg(&*token)
                        .arg(downloaded_at_ms)
                        .invoke_async::<i64>(&mut c)
                        .await
                },
            )
            .await
            .map(drop)
    }

    async fn lease_now(&self) -> Result<Lease> {
        let (lease_key, token, lease) = (self.lease_key(), self.token.clone(), self.lease);
        let millis = u64::try_from(lease.as_millis()).unwrap_or(u64::MAX);
        self.connection
            .run_for(
                "taking the download lease",
                lease,
                move |mut c| async move {
                    let granted: Option<String> = ::redis::cmd("SET")
                        .arg(&lease_key)
                        .arg(&*token)
                        .arg("NX")
                        .arg("PX")
                        .arg(millis)
                        .query_async(&mut c)
                        .await?;
                    if granted.is_some() {
                        return Ok(Lease::Granted);
                    }
                    // Another process downloads: wait for its save (or failure) to end the lease.
                    let waiting = tokio::time::Instant::now();
                    while waiting.elapsed() < lease {
                        tokio::time::sleep(POLL).await;
                        let held: i64 = ::redis::cmd("EXISTS")
                            .arg(&lease_key)
                            .query_async(&mut c)
                            .await?;
                        if held == 0 {
                            break;
                        }
                    }
                    Ok(Lease::Waited)
                },
            )
            .await
    }

    async fn release_now(&self) -> Result<()> {
        let (lease_key, token) = (self.lease_key(), self.token.clone());
        self.connection
            .run("ending the download lease", move |mut c| async move {
                RELEASE
                    .key(&lease_key)
                    .arg(&*token)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }
}

impl KeyStore for RedisKeyStore {
    fn load(&self) -> BoxFuture<'static, Result<Option<StoredSet>>> {
        let store = self.clone();
        Box::pin(async move { store.load_now().await })
    }

    fn save(&self, set: StoredSet) -> BoxFuture<'static, Result<()>> {
        let store = self.clone();
        Box::pin(async move { store.save_now(set).await })
    }

    fn lease(&self) -> BoxFuture<'static, Result<Lease>> {
        let store = self.clone();
        Box::pin(async move { store.lease_now().await })
    }

    fn release(&self) -> BoxFuture<'static, Result<()>> {
        let store = self.clone();
        Box::pin(async move { store.release_now().await })
    }
}

impl fmt::Debug for RedisKeyStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisKeyStore")
            .field("server", &self.connection)
            .field("key", &self.set)
            .field("lease", &self.lease)
            .finish()
    }
}
