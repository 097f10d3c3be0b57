//! One Redis connection per server URL for the whole process, driven on the runtime thread.
//!
//! The `redis` crate's connection manager multiplexes every command over one connection and
//! reconnects when it breaks. Its tasks live on the tokio runtime that creates it, so every
//! command runs as a task on the process's runtime thread ([`RuntimeThread`]): the stores
//! then work from any executor, and a connection outlives the runtimes of its callers.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, Mutex, OnceLock, PoisonError, Weak};
use std::time::Duration;

use ::redis::aio::{ConnectionManager, ConnectionManagerConfig};
use ::redis::{ConnectionAddr, RedisError};

use crate::error::{Error, ErrorKind, Result};
use crate::runtime::RuntimeThread;

/// The time one operation (a few commands) gets before it is given up.
const OPERATION_TIMEOUT: Duration = Duration::from_secs(5);

/// The time one connection attempt gets.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);

/// The time one command gets for its answer.
const RESPONSE_TIMEOUT: Duration = Duration::from_secs(2);

/// The open connections, by URL: every store opened with the same URL shares one.
static OPEN: Mutex<Vec<(String, Weak<Connection>)>> = Mutex::new(Vec::new());

/// A Redis server, connected at the first command and reconnected whenever needed.
pub(crate) struct Connection {
    client: ::redis::Client,
    /// `redis://host:port/db`, without user or password: for messages and `Debug`.
    shown: String,
    runtime: OnceLock<std::result::Result<Arc<RuntimeThread>, String>>,
    manager: OnceLock<ConnectionManager>,
}

impl Connection {
    /// The connection to the server at `url` (`redis://[user:password@]host[:port][/db]`,
    /// `redis+unix:///path`), shared with every store of the process opened with the same
    /// URL. Parses the URL only: nothing is connected yet.
    pub(crate) fn open(url: &str) -> Result<Arc<Self>> {
        let mut open = OPEN.lock().unwrap_or_else(PoisonError::into_inner);
        open.retain(|(_, connection)| connection.strong_count() > 0);
        if let Some(connection) = open
            .iter()
            .find(|(opened, _)| opened == url)
            .and_then(|(_, connection)| connection.upgrade())
        {
            return Ok(connection);
        }
        // The parser's messages never quote the URL, which may hold a password.
        let client = ::redis::Client::open(url).map_err(|e| {
            Error::config(format!(
                "the Redis URL is not usable ({e}): write it as \
                 redis://[user:password@]host[:port][/db] or redis+unix:///path (TLS, \
                 rediss://, is not built in: reach a TLS server through a local tunnel)"
            ))
        })?;
        let info = client.get_connection_info();
        let shown = match info.addr() {
            ConnectionAddr::Unix(path) => format!("redis+unix://{}", path.display()),
            addr => format!("redis://{addr}/{}", info.redis_settings().db()),
        };
        let connection = Arc::new(Self {
            client,
            shown,
            runtime: OnceLock::new(),
            manager: OnceLock::new(),
        });
        open.push((url.to_owned(), Arc::downgrade(&connection)));
        Ok(connection)
    }

    /// The server, as `redis://host:port/db` (no user, no password).
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// Runs `work` with the connection on the runtime thread, within [`OPERATION_TIMEOUT`];
    /// `what` names it in errors.
    pub(crate) async fn run<T, F, Fut>(self: &Arc<Self>, what: &'static str, work: F) -> Result<T>
    where
        F: FnOnce(ConnectionManager) -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<T, RedisError>> + Send + 'static,
        T: Send + 'static,
    {
        self.run_for(what, Duration::ZERO, work).await
    }

    /// [`Connection::run`] for work that may wait `longer` besides its commands.
    pub(crate) async fn run_for<T, F, Fut>(
        self: &Arc<Self>,
        what: &'static str,
        longer: Duration,
        work: F,
    ) -> Result<T>
    where
        F: FnOnce(ConnectionManager) -> Fut + Send + 'static,
        Fut: Future<Output = std::result::Result<T, RedisError>> + Send + 'static,
        T: Send + 'static,
    {
        let limit = OPERATION_TIMEOUT.saturating_add(longer);
        let runtime = self
            .runtime
            .get_or_init(|| RuntimeThread::shared().map_err(|e| e.to_string()))
            .clone()
            .map_err(|message| Error::new(ErrorKind::Transport, message))?;
        let connection = self.clone();
        let task = runtime.spawn(async move {
            let manager = connection.manager()?;
            match tokio::time::timeout(limit, work(manager)).await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(error)) => Err(connection.error(what, error)),
                Err(_) => Err(Error::new(
                    ErrorKind::Timeout,
                    format!(
                        "Redis at {}: {what} got no answer within {limit:?}; check that the \
                         server is up and reachable",
                        connection.shown
                    ),
                )),
            }
        });
        task.await.unwrap_or_else(|join_error| {
            Err(Error::new(
                ErrorKind::Transport,
                format!(
                    "Redis at {}: {what} stopped before it finished (the runtime ended)",
                    self.shown
                ),
            )
            .with_source(join_error))
        })
    }

    /// The connection manager, made at the first use (inside the runtime thread, whose
    /// runtime its tasks need); it connects at its first command.
    fn manager(&self) -> Result<ConnectionManager> {
        if let Some(manager) = self.manager.get() {
            return Ok(manager.clone());
        }
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(CONNECT_TIMEOUT))
            .set_response_timeout(Some(RESPONSE_TIMEOUT))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let manager = ConnectionManager::new_lazy_with_config(self.client.clone(), config)
            .map_err(|e| self.error("connecting", e))?;
        Ok(self.manager.get_or_init(|| manager).clone())
    }

    fn error(&self, what: &str, error: RedisError) -> Error {
        let kind = if error.is_timeout() {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        Error::new(
            kind,
            format!(
                "Redis at {}: {what} failed: {error}; check that the server is up and \
                 reachable, and that this client may use it",
                self.shown
            ),
        )
        .with_source(error)
    }
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)
    }
}
