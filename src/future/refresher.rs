//! [`Refresher`]: the settings of automatic mode and its downloads in flight, the state that
//! [`refresh`](super::refresh) works on. No I/O here.

use std::fmt;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use futures::future::{BoxFuture, Shared as SharedFuture};
use tokio::sync::oneshot;

use crate::error::{Error, Result};
use crate::keystore::KeyStore;

/// What keeps a client's platform keys current in automatic mode.
pub(crate) struct Refresher {
    pub(super) interval: Duration,
    pub(super) store: Option<Arc<dyn KeyStore>>,
    /// The first download (or store load) is behind us: requests no longer wait for it.
    pub(super) ready: AtomicBool,
    /// When the set of certificates in the ring was downloaded (by this process, or by the
    /// one that saved it in the store), Unix milliseconds; `0` before the first. A store's set
    /// is used on an unknown serial only when it is newer.
    pub(super) last_download_ms: AtomicU64,
    flights: Mutex<Flights>,
    /// Taken by the background task when it starts.
    pub(super) stop_signal: Mutex<Option<oneshot::Receiver<()>>>,
    /// Dropped with the client: the background task then ends.
    _stop: oneshot::Sender<()>,
}

/// An error shared by everyone who waited for the same download.
#[derive(Clone)]
pub(super) struct SharedError(Arc<Error>);

/// A download in progress (or finished), awaitable by many.
pub(super) type Flight = SharedFuture<BoxFuture<'static, std::result::Result<(), SharedError>>>;

#[derive(Default)]
pub(super) struct Flights {
    pub seed: Option<Flight>,
    pub seed_failed: Option<(Instant, SharedError)>,
    pub refresh: Option<Flight>,
    pub unknown_serial_at: Option<Instant>,
}

/// Why the keys are being refreshed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Reason {
    /// The first request that needs a key.
    Seed,
    /// The background timer.
    Scheduled,
    /// An answer was signed by this serial, which the ring does not know.
    UnknownSerial(String),
}

impl Reason {
    /// For `tracing`: `seed`, `scheduled` or `unknown serial`.
    pub(super) fn as_str(&self) -> &'static str {
        match self {
            Reason::Seed => "first download",
            Reason::Scheduled => "scheduled",
            Reason::UnknownSerial(_) => "unknown serial",
        }
    }
}

impl Refresher {
    /// The settings of automatic mode, checked.
    pub(crate) fn new(
        has_apiv3_key: bool,
        interval: Duration,
        store: Option<Arc<dyn KeyStore>>,
    ) -> Result<Self> {
        if !has_apiv3_key {
            return Err(Error::config(
                "auto_certificates() downloads the platform certificates, which are encrypted \
                 with the APIv3 key: set it with ClientBuilder::apiv3_key (APIv3密钥, 32 bytes)",
            ));
        }
        if interval.is_zero() {
            return Err(Error::config(
                "certificate_refresh_interval must be more than zero (WeChat Pay advises about \
                 a day; the default is 12 hours)",
            ));
        }
        let (stop, stop_signal) = oneshot::channel();
        Ok(Self {
            interval,
            store,
            ready: AtomicBool::new(false),
            last_download_ms: AtomicU64::new(0),
            flights: Mutex::new(Flights::default()),
            stop_signal: Mutex::new(Some(stop_signal)),
            _stop: stop,
        })
    }

    pub(super) fn flights(&self) -> MutexGuard<'_, Flights> {
        self.flights.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl fmt::Debug for Refresher {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Refresher")
            .field("interval", &self.interval)
            .field("ready", &self.ready.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl SharedError {
    pub(super) fn new(error: Error) -> Self {
        Self(Arc::new(error))
    }

    /// An error of the same kind, message and answer, for one of the waiters.
    pub(super) fn to_error(&self) -> Error {
        let mut error = Error::new(self.0.kind(), self.0.to_string()).with_source(self.clone());
        if let Some(response) = self.0.response() {
            error = error.with_response(response.clone());
        }
        error
    }
}

impl fmt::Display for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for SharedError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::error::Error for SharedError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.0.source()
    }
}
