//! [`RedisDedupe`]: which notifications were processed, shared by a fleet.

use std::fmt;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use ::redis::Script;
use futures::future::BoxFuture;

use super::connection::Connection;
use super::names::{DEFAULT_PREFIX, check_name};
use crate::error::Result;
use crate::events::{Claim, DEFAULT_LEASE, DEFAULT_WINDOW, Deduplicate};
use crate::toolkit;

/// The value of a completed notification's key.
const DONE: &str = "done";

/// Claims a notification: `0` new (now claimed by this instance), `1` in progress, `2` done.
static CLAIM: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
local seen = redis.call('GET', KEYS[1])
if seen == 'done' then return 2 end
if seen then return 1 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 0
",
    )
});

/// Gives up this instance's claim, never a completion nor another instance's claim.
static RELEASE: LazyLock<Script> = LazyLock::new(|| {
    Script::new(
        r"
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
",
    )
});

/// A [`Deduplicate`] in Redis, shared by every instance of a fleet: a notification that
/// WeChat Pay delivers to two instances at once (or retries on another one) is processed
/// once.
///
/// One key per notification, `{prefix}:notification:{id}` (prefix `wechatpay` unless set
/// with [`RedisDedupe::with_prefix`]):
///
/// * [`claim`](Deduplicate::claim) checks and claims in one Lua script (atomic however many
///   instances ask): a claim is a value of this instance's with a lease
///   (60 s unless set with [`RedisDedupe::with_lease`]) after which a handler that died
///   is taken for gone and the next delivery is processed;
/// * [`complete`](Deduplicate::complete) sets the key to `done` for the window
///   (25 hours unless set with [`RedisDedupe::with_window`]), longer than WeChat Pay's
///   retries;
/// * [`release`](Deduplicate::release) deletes this instance's claim only.
///
/// **When Redis cannot answer** (down, unreachable, too slow: each call gives up after a
/// few seconds), `claim` answers [`Claim::InProgress`], never [`Claim::New`]: the handler
/// answers a failure and WeChat Pay delivers the notification again later. Redis's own clock
/// expires the keys; the `now` arguments are not used.
///
/// `new` parses the URL and connects nothing; the connection is made at the first use (on
/// the process's runtime thread, so the futures run under any executor), shared with every
/// store of the process opened with the same URL, and reconnects by itself.
///
/// ```no_run
/// use std::sync::Arc;
/// use wechatpay::events::Deduplicate;
/// use wechatpay::redis::RedisDedupe;
///
/// # fn main() -> wechatpay::Result<()> {
/// let seen: Arc<dyn Deduplicate> = Arc::new(RedisDedupe::new("redis://127.0.0.1:6379/0")?);
/// // … in the state of the notify_url handler, next to the client (see `Deduplicate`) …
/// # let _ = seen;
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct RedisDedupe {
    connection: Arc<Connection>,
    prefix: Arc<str>,
    /// This instance's claim value: it releases only its own claims.
    token: Arc<str>,
    lease: Duration,
    window: Duration,
}

impl RedisDedupe {
    /// A dedupe in the Redis server at `redis_url` (`redis://[user:password@]host[:port][/db]`
    /// or `redis+unix:///path`). No I/O: the connection is made at the first use.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the URL does not parse.
    pub fn new(redis_url: &str) -> Result<Self> {
        let connection = Connection::open(redis_url)?;
        Ok(Self {
            connection,
            prefix: DEFAULT_PREFIX.into(),
            token: format!("claimed:{}", toolkit::nonce(24)?).into(),
            lease: DEFAULT_LEASE,
            window: DEFAULT_WINDOW,
        })
    }

    /// Keys under `prefix` instead of `wechatpay`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when `prefix` is empty or holds
    /// characters other than letters, digits, `-`, `_` and `.`.
    pub fn with_prefix(mut self, prefix: &str) -> Result<Self> {
        check_name("prefix", prefix)?;
        self.prefix = prefix.into();
        Ok(self)
    }

    /// Lets a claim lapse after `lease` (at least one millisecond).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.max(Duration::from_millis(1));
        self
    }

    /// Forgets a completed notification after `window` (at least one millisecond).
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window.max(Duration::from_millis(1));
        self
    }

    fn key(&self, id: &str) -> String {
        format!("{}:notification:{id}", self.prefix)
    }

    async fn claim_now(&self, id: &str) -> Result<Claim> {
        let (key, token, lease) = (self.key(id), self.token.clone(), millis(self.lease));
        let found: i64 = self
            .connection
            .run("claiming a notification", move |mut c| async move {
                CLAIM
                    .key(key)
                    .arg(&*token)
                    .arg(lease)
                    .invoke_async(&mut c)
                    .await
            })
            .await?;
        Ok(match found {
            0 => Claim::New,
            2 => Claim::Done,
            _ => Claim::InProgress,
        })
    }

    async fn complete_now(&self, id: &str) -> Result<()> {
        let (key, window) = (self.key(id), millis(self.window));
        self.connection
            .run("completing a notification", move |mut c| async move {
                ::redis::cmd("SET")
                    .arg(key)
                    .arg(DONE)
                    .arg("PX")
                    .arg(window)
                    .query_async::<()>(&mut c)
                    .await
            })
            .await
    }

    async fn release_now(&self, id: &str) -> Result<()> {
        let (key, token) = (self.key(id), self.token.clone());
        self.connection
            .run("releasing a notification", move |mut c| async move {
                RELEASE
                    .key(key)
                    .arg(&*token)
                    .invoke_async::<i64>(&mut c)
                    .await
            })
            .await
            .map(drop)
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

impl Deduplicate for RedisDedupe {
    fn claim<'a>(&'a self, id: &'a str, _now: u64) -> BoxFuture<'a, Claim> {
        // Not knowing is never `New`: WeChat Pay delivers the notification again.
        Box::pin(async move { self.claim_now(id).await.unwrap_or(Claim::InProgress) })
    }

    fn complete<'a>(&'a self, id: &'a str, _now: u64) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.complete_now(id))
    }

    fn release<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        Box::pin(self.release_now(id))
    }
}

impl fmt::Debug for RedisDedupe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisDedupe")
            .field("server", &self.connection)
            .field("prefix", &self.prefix)
            .field("lease", &self.lease)
            .field("window", &self.window)
            .finish()
    }
}
