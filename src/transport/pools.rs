//! Connection pools: one per tokio runtime a transport is used from (connections belong to
//! the runtime that opened them), a cap on connections per host shared by all of them, and a
//! process-wide registry so that clients with equal settings share one set of pools.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use rustls::pki_types::CertificateDer;
use tokio::sync::{Semaphore, oneshot};

use super::connector::Connector;
use super::proxy::{Proxies, ProxySetting};
use super::tls::{TlsIdentity, provider};
use crate::config::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_MAX_CONNECTIONS_PER_HOST, DEFAULT_POOL_IDLE_TIMEOUT,
};
use crate::error::{Error, ErrorKind, Result};

pub(super) type Pool = HyperClient<Connector, Full<Bytes>>;

/// Settings of the default transport.
#[derive(Debug, Clone)]
pub(crate) struct TransportSettings {
    pub connect_timeout: Option<Duration>,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub identity: Option<TlsIdentity>,
    pub proxy: ProxySetting,
    /// Idle connections are closed after this long.
    pub pool_idle_timeout: Duration,
    /// At most this many requests in flight (so connections) per host; others wait.
    pub max_connections_per_host: usize,
}

impl Default for TransportSettings {
    fn default() -> Self {
        Self {
            connect_timeout: Some(DEFAULT_CONNECT_TIMEOUT),
            extra_roots: Vec::new(),
            identity: None,
            proxy: ProxySetting::Environment,
            pool_idle_timeout: DEFAULT_POOL_IDLE_TIMEOUT,
            max_connections_per_host: DEFAULT_MAX_CONNECTIONS_PER_HOST,
        }
    }
}

/// What makes plain connections (no client certificate) interchangeable: equal keys share
/// them, whatever the TLS identity of the transports.
#[derive(Clone, PartialEq, Eq)]
struct PlainKey {
    connect_timeout: Option<Duration>,
    roots: Vec<Vec<u8>>,
    proxy: Vec<Option<String>>,
    pool_idle_timeout: Duration,
    max_connections_per_host: usize,
}

/// What makes two transports interchangeable: equal keys share everything.
#[derive(PartialEq, Eq)]
struct Key {
    plain: PlainKey,
    identity: Option<Vec<Vec<u8>>>,
}

/// The transports alive in the process, by their settings.
static REGISTRY: Mutex<Vec<(Key, Weak<Pools>)>> = Mutex::new(Vec::new());

/// The plain connections alive in the process, by their settings: 1,000 merchants with a TLS
/// identity each (for APIv2 `security: true`) still share one pool of plain connections.
static PLAIN: Mutex<Vec<(PlainKey, Weak<Side>)>> = Mutex::new(Vec::new());

/// The root certificate stores in use, by their extra roots: transports whose settings differ
/// otherwise (a TLS identity per merchant, a timeout) share one store of Mozilla's roots.
static ROOT_STORES: Mutex<Vec<RootStoreEntry>> = Mutex::new(Vec::new());

/// A root store in use, and the extra roots (DER) it holds besides Mozilla's.
type RootStoreEntry = (Vec<Vec<u8>>, Weak<rustls::RootCertStore>);

/// What a transport and its clones share: plain connections (shared with every transport
/// whose settings differ at most in the TLS identity), and mutual-TLS connections with the
/// transport's identity.
pub(super) struct Pools {
    pub plain: Arc<Side>,
    pub mutual: Option<Side>,
    pub proxies: Proxies,
}

/// Connections of one kind (plain, or mutual TLS with one identity): their connector, a pool
/// per runtime, and a cap on connections per host shared by every runtime's pool.
pub(super) struct Side {
    pub connector: Connector,
    idle_timeout: Duration,
    per_host: usize,
    by_runtime: Mutex<Vec<RuntimePool>>,
    hosts: Mutex<HashMap<String, Arc<Host>>>,
}

/// A host the transport sends to: its cap on connections (shared by every runtime's pool),
/// and its name for error messages.
pub(super) struct Host {
    pub limit: Semaphore,
    pub name: String,
}

/// The pool of one runtime.
struct RuntimePool {
    runtime: tokio::runtime::Id,
    pool: Arc<Pool>,
    alive: Arc<AtomicBool>,
    // Dropping this ends the runtime's sentinel task.
    _stop: oneshot::Sender<()>,
}

/// Marks its pool dead when dropped: by the sentinel task, when the runtime shuts down.
struct AliveGuard(Arc<AtomicBool>);

impl Drop for AliveGuard {
    fn drop(&mut self) {
        self.0.store(false, Ordering::Release);
    }
}

impl Pools {
    /// The pools for `settings`: those of a live transport with equal settings, or new ones
    /// (with the plain connections of a live transport whose settings differ at most in the
    /// TLS identity).
    pub(super) fn for_settings(settings: &TransportSettings) -> Result<Arc<Self>> {
        let proxies = Proxies::resolve(&settings.proxy)?;
        let key = Key {
            plain: PlainKey {
                connect_timeout: settings.connect_timeout,
                roots: der_list(&settings.extra_roots),
                proxy: proxies.key().to_vec(),
                pool_idle_timeout: settings.pool_idle_timeout,
                max_connections_per_host: settings.max_connections_per_host,
            },
            identity: settings
                .identity
                .as_ref()
                .map(|identity| der_list(&identity.chain)),
        };
        let mut registry = REGISTRY.lock().unwrap_or_else(PoisonError::into_inner);
        registry.retain(|(_, pools)| pools.strong_count() > 0);
        if let Some(pools) = registry
            .iter()
            .find(|(known, _)| *known == key)
            .and_then(|(_, pools)| pools.upgrade())
        {
            return Ok(pools);
        }
        let plain = Side::plain(&key.plain, settings, &proxies)?;
        let mutual = match &settings.identity {
            Some(identity) => Some(Side::new(
                Connector::new(
                    tls_config(settings, Some(identity))?,
                    proxies.clone(),
                    settings.connect_timeout,
                ),
                settings,
            )),
            None => None,
        };
        let pools = Arc::new(Self {
            plain,
            mutual,
            proxies,
        });
        registry.push((key, Arc::downgrade(&pools)));
        Ok(pools)
    }

    /// The plain or the mutual-TLS side.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] for mutual TLS without a TLS identity; nothing was sent.
    pub(super) fn side(&self, mutual: bool) -> Result<&Side> {
        if !mutual {
            return Ok(&self.plain);
        }
        self.mutual.as_ref().ok_or_else(|| {
            Error::config(
                "this APIv2 request asks for `security: true` (mutual TLS) but the client has \
                 no merchant certificate; set it with ClientBuilder::merchant_identity \
                 (apiclient_cert.pem and apiclient_key.pem)",
            )
            .nothing_sent()
        })
    }
}

impl Side {
    fn new(connector: Connector, settings: &TransportSettings) -> Self {
        Self {
            connector,
            idle_timeout: settings.pool_idle_timeout,
            per_host: settings.max_connections_per_host.max(1),
            by_runtime: Mutex::new(Vec::new()),
            hosts: Mutex::new(HashMap::new()),
        }
    }

    /// The plain side for `key`: that of a live transport, or a new one.
    fn plain(key: &PlainKey, settings: &TransportSettings, proxies: &Proxies) -> Result<Arc<Self>> {
        let mut plain = PLAIN.lock().unwrap_or_else(PoisonError::into_inner);
        plain.retain(|(_, side)| side.strong_count() > 0);
        if let Some(side) = plain
            .iter()
            .find(|(known, _)| known == key)
            .and_then(|(_, side)| side.upgrade())
        {
            return Ok(side);
        }
        let side = Arc::new(Self::new(
            Connector::new(
                tls_config(settings, None)?,
                proxies.clone(),
                settings.connect_timeout,
            ),
            settings,
        ));
        plain.push((key.clone(), Arc::downgrade(&side)));
        Ok(side)
    }

    /// The pool of the current tokio runtime, made at its first use there.
    pub(super) fn pool(&self) -> Result<Arc<Pool>> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::new(
                ErrorKind::Transport,
                "HttpsTransport::send must be polled inside a tokio runtime",
            )
        })?;
        let id = runtime.id();
        let mut pools = self
            .by_runtime
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        pools.retain(|pool| pool.alive.load(Ordering::Acquire));
        if let Some(found) = pools.iter().find(|pool| pool.runtime == id) {
            return Ok(found.pool.clone());
        }
        let pool = Arc::new(
            HyperClient::builder(TokioExecutor::new())
                .pool_idle_timeout(self.idle_timeout)
                .pool_timer(TokioTimer::new())
                .pool_max_idle_per_host(self.per_host)
                .build(self.connector.clone()),
        );
        let alive = Arc::new(AtomicBool::new(true));
        let (stop, stopped) = oneshot::channel::<()>();
        let guard = AliveGuard(alive.clone());
        runtime.spawn(async move {
            let _guard = guard;
            let _ = stopped.await;
        });
        pools.push(RuntimePool {
            runtime: id,
            pool: pool.clone(),
            alive,
            _stop: stop,
        });
        Ok(pool)
    }

    /// The host of `authority` (`host[:port]`, named `name`): its cap of connections, shared
    /// by every runtime's pool.
    pub(super) fn host(&self, authority: &str, name: &str) -> Arc<Host> {
        let mut hosts = self.hosts.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(host) = hosts.get(authority) {
            return host.clone();
        }
        let host = Arc::new(Host {
            limit: Semaphore::new(self.per_host),
            name: name.to_owned(),
        });
        hosts.insert(authority.to_owned(), host.clone());
        host
    }
}

/// Mozilla's roots and `extra` ones: the store of a transport with the same extra roots, or a
/// new one.
fn root_store(
    extra: &[CertificateDer<'static>],
) -> std::result::Result<Arc<rustls::RootCertStore>, rustls::Error> {
    let key = der_list(extra);
    let mut stores = ROOT_STORES.lock().unwrap_or_else(PoisonError::into_inner);
    stores.retain(|(_, store)| store.strong_count() > 0);
    if let Some(store) = stores
        .iter()
        .find(|(known, _)| *known == key)
        .and_then(|(_, store)| store.upgrade())
    {
        return Ok(store);
    }
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for root in extra {
        roots.add(root.clone())?;
    }
    let roots = Arc::new(roots);
    stores.push((key, Arc::downgrade(&roots)));
    Ok(roots)
}

fn der_list(certificates: &[CertificateDer<'static>]) -> Vec<Vec<u8>> {
    certificates
        .iter()
        .map(|certificate| certificate.as_ref().to_vec())
        .collect()
}

/// The rustls configuration: Mozilla's roots and the extra ones, and the client certificate
/// for mutual TLS.
fn tls_config(
    settings: &TransportSettings,
    identity: Option<&TlsIdentity>,
) -> Result<rustls::ClientConfig> {
    let tls_error =
        |e: rustls::Error| Error::config(format!("cannot set up TLS: {e}")).with_source(e);
    let roots = root_store(&settings.extra_roots).map_err(tls_error)?;
    let builder = rustls::ClientConfig::builder_with_provider(provider()?)
        .with_safe_default_protocol_versions()
        .map_err(tls_error)?
        .with_root_certificates(roots);
    Ok(match identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(tls_error)?,
        None => builder.with_no_client_auth(),
    })
}
