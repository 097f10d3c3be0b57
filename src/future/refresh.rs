//! Platform keys that look after themselves (automatic mode,
//! [`ClientBuilder::auto_certificates`](crate::ClientBuilder::auto_certificates)): the
//! download, the first one shared by every request that waits for it, a refresh when an
//! answer names an unknown serial, a refresh in the background, and the key store.
//!
//! The shell side of [`v3::certificates`](crate::v3::certificates), a child of the request
//! future: it sends the download through the normal signed pipeline, reads the clock, and
//! swaps the client's key ring; the checks themselves stay pure.
//!
//! Every download of automatic mode runs as a task on the client's runtime thread, never on a
//! caller's runtime: callers on different runtimes (or none) share it, and it finishes even
//! if the request that started it is dropped. The background task holds only a `Weak`
//! reference to the client and a stop signal that the client drops with its last clone.

use std::sync::atomic::Ordering;
use std::sync::{Arc, PoisonError, Weak};
use std::time::{Duration, Instant};

use futures::FutureExt;
use futures::future::BoxFuture;
use http::Method;
use serde_json::json;
use tokio::sync::oneshot;

use super::exchange;
use super::refresher::{Flight, Reason, Refresher, SharedError};
use super::shared::Shared;
use super::trace::{self, Trace};
use crate::crypto::Validity;
use crate::error::{Error, ErrorKind, Result};
use crate::keystore::{KeyStore, StoredCertificate};
use crate::options::Options;
use crate::plan::Plan;
use crate::runtime::Placement;
use crate::toolkit;
use crate::v3::certificates::{self, PlatformCertificate};

/// At most one download per this long for answers signed by an unknown serial: a stream of
/// forged serials must not become a stream of downloads.
const UNKNOWN_SERIAL_GAP: Duration = Duration::from_secs(60);

/// After a failed first download with no key to fall back on, requests fail with that error
/// for this long before one tries again.
const SEED_RETRY_GAP: Duration = Duration::from_secs(5);

/// A failed background refresh is tried again after this long (or the interval, if shorter).
const RETRY_AFTER_FAILURE: Duration = Duration::from_secs(300);

/// The time a key store gets to load or save before the client goes on without it.
const STORE_TIMEOUT: Duration = Duration::from_secs(10);

/// For a request that needs a platform key: the first download to wait for, in automatic
/// mode, until one succeeded. `None` when there is nothing to wait for.
pub(crate) fn seed(shared: &Arc<Shared>) -> Option<BoxFuture<'static, Result<()>>> {
    let refresher = shared.refresher.as_ref()?;
    if refresher.ready.load(Ordering::Acquire) {
        return None;
    }
    let mut flights = refresher.flights();
    if refresher.ready.load(Ordering::Acquire) {
        return None;
    }
    if let Some((at, error)) = &flights.seed_failed
        && at.elapsed() < SEED_RETRY_GAP
    {
        let error = error.to_error();
        return Some(Box::pin(async move { Err(error) }));
    }
    let flight = match &flights.seed {
        Some(flight) if in_progress(flight) => flight.clone(),
        _ => {
            let flight = start(shared, Reason::Seed);
            flights.seed = Some(flight.clone());
            flight
        }
    };
    Some(Box::pin(async move {
        flight.await.map_err(|error| {
            error.to_error().with_note(
                "; this was the first download of the platform certificates \
                 (ClientBuilder::auto_certificates), which every request waits for",
            )
        })
    }))
}

/// After an answer signed by `serial`, which the ring does not know: a refresh to wait for
/// before verifying it again (joining one in progress, or starting one at most once per
/// [`UNKNOWN_SERIAL_GAP`]; within the gap, an immediate `Ok`, so the answer is verified again
/// with whatever the last refresh brought). `None` outside automatic mode.
pub(crate) fn after_unknown_serial(
    shared: &Arc<Shared>,
    serial: &str,
) -> Option<BoxFuture<'static, Result<()>>> {
    let refresher = shared.refresher.as_ref()?;
    let mut flights = refresher.flights();
    let flight = match &flights.refresh {
        Some(flight) if in_progress(flight) => flight.clone(),
        _ if flights
            .unknown_serial_at
            .is_some_and(|at| at.elapsed() < UNKNOWN_SERIAL_GAP) =>
        {
            return Some(Box::pin(async { Ok(()) }));
        }
        _ => {
            flights.unknown_serial_at = Some(Instant::now());
            let flight = start(shared, Reason::UnknownSerial(serial.to_owned()));
            flights.refresh = Some(flight.clone());
            flight
        }
    };
    Some(Box::pin(async move {
        flight.await.map_err(|error| error.to_error())
    }))
}

/// The scheduled refresh: joins one in progress, else starts one.
fn scheduled(shared: &Arc<Shared>, refresher: &Refresher) -> Flight {
    let mut flights = refresher.flights();
    match &flights.refresh {
        Some(flight) if in_progress(flight) => flight.clone(),
        _ => {
            let flight = start(shared, Reason::Scheduled);
            flights.refresh = Some(flight.clone());
            flight
        }
    }
}

/// Whether `flight` has not finished yet. Its task runs whether or not anyone waits for it
/// (a notification's refresh has no waiter), so finishing is found out by polling it once;
/// `Shared::peek` would only know if some waiter had polled it to the end.
fn in_progress(flight: &Flight) -> bool {
    flight.clone().now_or_never().is_none()
}

/// Starts a refresh as a task on the client's runtime thread.
fn start(shared: &Arc<Shared>, reason: Reason) -> Flight {
    let task_shared = shared.clone();
    let future: BoxFuture<'static, std::result::Result<(), SharedError>> =
        match shared.runtime.thread() {
            Ok(runtime) => {
                let task = runtime.spawn(async move { run(&task_shared, reason).await });
                Box::pin(async move {
                    task.await.unwrap_or_else(|join_error| {
                        Err(SharedError::new(
                            Error::new(
                                ErrorKind::Transport,
                                "the platform certificate download stopped before it finished \
                             (the client's runtime ended)",
                            )
                            .with_source(join_error),
                        ))
                    })
                })
            }
            Err(error) => {
                let error = SharedError::new(error);
                Box::pin(async move { Err(error) })
            }
        };
    future.shared()
}

/// One refresh, and what it means for the client: after the first install (of any kind: a
/// notification's refresh counts), or a failed first download with configured keys to fall
/// back on, requests stop waiting and the background refresh starts.
async fn run(shared: &Arc<Shared>, reason: Reason) -> std::result::Result<(), SharedError> {
    let refreshed = refresh(shared, &reason).await;
    trace::refreshed(reason.as_str(), refreshed.as_ref().err().map(Error::kind));
    let result = refreshed.map_err(SharedError::new);
    let Some(refresher) = shared.refresher.as_ref() else {
        return result;
    };
    let fallback = reason == Reason::Seed && !shared.config.platform_keys.snapshot().is_empty();
    match &result {
        Ok(()) => {}
        Err(_) if fallback => ready(shared, refresher),
        Err(error) if reason == Reason::Seed => {
            refresher.flights().seed_failed = Some((Instant::now(), error.clone()));
        }
        Err(_) => {}
    }
    result
}

/// Requests stop waiting for a first download; the background refresh starts (once).
fn ready(shared: &Arc<Shared>, refresher: &Refresher) {
    if !refresher.ready.swap(true, Ordering::AcqRel) {
        start_background(shared, refresher);
    }
}

/// Loads the store or downloads, installs the result, and saves a download to the store.
async fn refresh(shared: &Arc<Shared>, reason: &Reason) -> Result<()> {
    let refresher = shared.refresher.as_ref();
    let store = refresher.and_then(|refresher| refresher.store.clone());
    let mut stale = Vec::new();
    if let (Some(store), Some(refresher)) = (&store, refresher)
        && let Ok(Ok(stored)) = tokio::time::timeout(STORE_TIMEOUT, store.load()).await
    {
        let now = toolkit::timestamp();
        let usable = from_store(&stored, now);
        // At start-up, anything saved within the interval will do; a scheduled refresh
        // wants a store saved since the middle of its interval, so that each interval
        // sees a download by some process of the fleet.
        let fresh_for = match reason {
            Reason::Seed => refresher.interval,
            _ => refresher.interval / 2,
        };
        let fresh = stored
            .iter()
            .map(|certificate| certificate.saved_at)
            .max()
            .is_some_and(|saved| now.saturating_sub(saved) < fresh_for.as_secs());
        let enough = match reason {
            Reason::Seed | Reason::Scheduled => fresh && !usable.is_empty(),
            Reason::UnknownSerial(serial) => usable.iter().any(|c| c.serial() == serial),
        };
        if enough {
            install(shared, &usable);
            return Ok(());
        }
        stale = usable;
    }
    let downloaded = match download(shared).await {
        Ok(downloaded) => downloaded,
        Err(error) => {
            // Starting up while WeChat Pay cannot be reached: certificates from the store
            // that are older than the interval but still valid beat none at all.
            if *reason == Reason::Seed && !stale.is_empty() {
                install(shared, &stale);
            }
            return Err(error);
        }
    };
    install(shared, &downloaded);
    save(store.as_deref(), &downloaded).await
}

/// Trusts `certificates` beside the configured keys, replacing earlier downloads; in
/// automatic mode, requests stop waiting for a first download from then on.
fn install(shared: &Arc<Shared>, certificates: &[PlatformCertificate]) {
    shared
        .config
        .platform_keys
        .install(&certificates::platform_keys(certificates));
    if let Some(refresher) = shared.refresher.as_ref() {
        ready(shared, refresher);
    }
}

async fn save(store: Option<&dyn KeyStore>, certificates: &[PlatformCertificate]) -> Result<()> {
    let Some(store) = store else {
        return Ok(());
    };
    let saved_at = toolkit::timestamp();
    let stored = certificates
        .iter()
        .map(|certificate| StoredCertificate {
            serial: certificate.serial().to_owned(),
            pem: certificate.pem().to_owned(),
            not_before: certificate.validity().not_before,
            not_after: certificate.validity().not_after,
            saved_at,
        })
        .collect();
    let saved = tokio::time::timeout(STORE_TIMEOUT, store.save(stored))
        .await
        .unwrap_or_else(|_| {
            Err(Error::new(
                ErrorKind::Timeout,
                format!("the key store did not save within {STORE_TIMEOUT:?}"),
            ))
        });
    saved.map_err(|error| {
        error.with_note(
            "; the downloaded platform certificates are in use, but the key store could not \
             keep them (tried again at the next refresh)",
        )
    })
}

/// The stored certificates that parse, match their serial and have not expired at `now`.
fn from_store(stored: &[StoredCertificate], now: u64) -> Vec<PlatformCertificate> {
    stored
        .iter()
        .filter_map(|kept| {
            let listed = Validity {
                not_before: kept.not_before,
                not_after: kept.not_after,
            };
            PlatformCertificate::from_pem(&kept.pem, Some(&kept.serial), listed).ok()
        })
        .filter(|certificate| now <= certificate.validity().not_after)
        .collect()
}

/// Downloads and verifies the platform certificates (`GET v3/certificates`), trusting the
/// keys of the ring as it is now besides the listed ones. Runs inside a tokio runtime.
pub(crate) async fn download(shared: &Arc<Shared>) -> Result<Vec<PlatformCertificate>> {
    let config = &shared.config;
    let apiv3_key = config.apiv3_key.as_ref().ok_or_else(|| {
        Error::config(
            "downloading the platform certificates needs the APIv3 key, which decrypts them: \
             set it with ClientBuilder::apiv3_key (APIv3密钥, 32 bytes)",
        )
    })?;
    let options = Options::new().query(json!({"algorithm_type": "RSA"}));
    let plan = Plan::decode(certificates::PATH, &options)?;
    let trace = Trace::request(&Method::GET, certificates::PATH);
    let first = exchange::first(shared, &Method::GET, &plan)?;
    let exchanging = exchange::exchange(shared.clone(), Method::GET, plan, first, trace.clone());
    let response = trace.instrument(exchanging).await?.response;
    let trusted = config.platform_keys.snapshot();
    certificates::check_response(response, apiv3_key, &trusted, toolkit::timestamp())
}

/// Downloads, and (with `install`) puts the result in the ring and the store: the work of
/// [`Client::download_certificates`](crate::Client::download_certificates) and
/// [`Client::refresh_certificates`](crate::Client::refresh_certificates), run where
/// `placement` says.
pub(crate) async fn fetch(
    shared: Arc<Shared>,
    placement: Placement,
    install_it: bool,
) -> Result<Vec<PlatformCertificate>> {
    let work = {
        let shared = shared.clone();
        async move {
            let downloaded = download(&shared).await;
            if !install_it {
                return downloaded;
            }
            let refreshed = match downloaded {
                Ok(downloaded) => {
                    install(&shared, &downloaded);
                    let store = shared.refresher.as_ref().and_then(|r| r.store.clone());
                    save(store.as_deref(), &downloaded)
                        .await
                        .map(|()| downloaded)
                }
                Err(error) => Err(error),
            };
            trace::refreshed("requested", refreshed.as_ref().err().map(Error::kind));
            refreshed
        }
    };
    shared.runtime.placed(placement, work).await
}

/// Starts the background refresh, once per client.
fn start_background(shared: &Arc<Shared>, refresher: &Refresher) {
    let stop_signal = refresher
        .stop_signal
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    let (Some(stop_signal), Ok(runtime)) = (stop_signal, shared.runtime.thread()) else {
        return;
    };
    runtime.spawn(background(
        Arc::downgrade(shared),
        stop_signal,
        refresher.interval,
    ));
}

/// Refreshes every `interval` (±10 %) until the client is gone.
async fn background(client: Weak<Shared>, mut stop: oneshot::Receiver<()>, interval: Duration) {
    let mut wait = jittered(interval);
    loop {
        // The stop signal fires (its sender is dropped) with the client's last clone.
        if tokio::time::timeout(wait, &mut stop).await.is_ok() {
            return;
        }
        let Some(shared) = client.upgrade() else {
            return;
        };
        let Some(refresher) = shared.refresher.as_ref() else {
            return;
        };
        let flight = scheduled(&shared, refresher);
        // The flight's own task holds the client while it runs; waiting for it must not.
        drop(shared);
        wait = match flight.await {
            Ok(()) => jittered(interval),
            Err(_) => jittered(interval.min(RETRY_AFTER_FAILURE)),
        };
    }
}

/// `interval`, give or take 10 %, so that many processes do not refresh in step.
fn jittered(interval: Duration) -> Duration {
    let mut random = [0u8; 8];
    let fraction = match crate::crypto::random::fill(&mut random) {
        Ok(()) => (u64::from_le_bytes(random) >> 11) as f64 / (1u64 << 53) as f64,
        Err(_) => 0.5,
    };
    interval.mul_f64(0.9 + 0.2 * fraction)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn jitter_stays_within_ten_percent() {
        let interval = Duration::from_secs(1000);
        for _ in 0..100 {
            let wait = jittered(interval);
            assert!(wait >= Duration::from_secs(900) && wait <= Duration::from_secs(1100));
        }
    }
}
