//! Sending requests: the [`Transport`] seam and its default, a pooled hyper-util client over
//! rustls (HTTP/1.1 and HTTP/2, Mozilla's root certificates).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use bytes::Bytes;
use futures::future::BoxFuture;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::Client as HyperClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::sync::oneshot;

use crate::error::{Error, ErrorKind, Result};

/// Sends a signed request and returns the whole answer.
///
/// The default is a pooled HTTPS client; replace it with
/// [`ClientBuilder::transport`](crate::ClientBuilder::transport) to add a proxy, tracing or a
/// test double. The future always runs inside a tokio runtime (the caller's for the async
/// verbs, else the client's own runtime thread), so it may use tokio.
///
/// An APIv2 request marked `security: true` carries the [`MutualTls`] extension: send it with
/// the merchant's client certificate.
pub trait Transport: Send + Sync + 'static {
    /// Sends `request`; the body of the answer is read completely.
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>>>;
}

/// Request extension: this request must be sent over mutual TLS with the merchant
/// certificate (APIv2 `security: true`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct MutualTls;

type Connector = HttpsConnector<HttpConnector>;
type Pool = HyperClient<Connector, Full<Bytes>>;

/// The default [`Transport`]: hyper-util's pooled client with rustls.
///
/// Connections belong to the tokio runtime that opened them, so the transport keeps one
/// connection pool per runtime it is used from (callers' runtimes, the client's runtime
/// thread) and forgets a pool when its runtime shuts down. The TLS configuration is built once
/// and shared by all pools.
#[derive(Clone)]
pub struct HttpsTransport {
    shared: Arc<Pools>,
}

struct Pools {
    plain: Connector,
    mutual: Option<Connector>,
    by_runtime: Mutex<Vec<RuntimePool>>,
}

/// The pool of one runtime.
struct RuntimePool {
    runtime: tokio::runtime::Id,
    mutual: bool,
    pool: Pool,
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

/// A client certificate chain and its key, for mutual TLS.
#[derive(Clone)]
pub struct TlsIdentity {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: Arc<PrivateKeyDer<'static>>,
}

impl TlsIdentity {
    /// Reads a client certificate chain (`apiclient_cert.pem`, the merchant certificate
    /// first) and its private key (`apiclient_key.pem`), and checks that they belong
    /// together.
    pub(crate) fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self> {
        let chain = CertificateDer::pem_slice_iter(cert_pem.as_bytes())
            .collect::<std::result::Result<Vec<_>, _>>()
            .map_err(|e| {
                Error::config(format!(
                    "merchant_identity: the certificate PEM (apiclient_cert.pem) does not parse: {e}"
                ))
            })?;
        if chain.is_empty() {
            return Err(Error::config(
                "merchant_identity: the certificate PEM (apiclient_cert.pem) holds no \
                 `-----BEGIN CERTIFICATE-----` block; is it the key file?",
            ));
        }
        let key = PrivateKeyDer::from_pem_slice(key_pem.as_bytes()).map_err(|e| {
            let what = match e {
                rustls::pki_types::pem::Error::NoItemsFound => {
                    "holds no `-----BEGIN PRIVATE KEY-----` (or RSA/EC PRIVATE KEY) block; is it \
                     the certificate file?"
                        .to_owned()
                }
                other => format!("does not parse: {other}"),
            };
            Error::config(format!(
                "merchant_identity: the private key PEM (apiclient_key.pem) {what}"
            ))
        })?;
        let provider = rustls::crypto::aws_lc_rs::default_provider();
        rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider).map_err(
            |e| {
                let what = match e {
                    rustls::Error::InconsistentKeys(_) => {
                        "the certificate (apiclient_cert.pem) is not the one of the private key \
                         (apiclient_key.pem); give the pair downloaded together"
                            .to_owned()
                    }
                    other => format!("the pair cannot be used for TLS: {other}"),
                };
                Error::config(format!("merchant_identity: {what}"))
            },
        )?;
        Ok(Self {
            chain,
            key: Arc::new(key),
        })
    }
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// Reads every certificate of a PEM text, as DER for rustls.
pub(crate) fn certificates_from_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certificates = CertificateDer::pem_slice_iter(pem.as_bytes())
        .collect::<std::result::Result<Vec<_>, _>>()
        .map_err(|e| Error::config(format!("a TLS certificate PEM does not parse: {e}")))?;
    if certificates.is_empty() {
        return Err(Error::config(
            "a TLS certificate PEM holds no `-----BEGIN CERTIFICATE-----` block",
        ));
    }
    Ok(certificates)
}

/// Settings of the default transport.
#[derive(Debug, Clone, Default)]
pub(crate) struct TransportSettings {
    pub connect_timeout: Option<Duration>,
    pub extra_roots: Vec<CertificateDer<'static>>,
    pub identity: Option<TlsIdentity>,
}

impl HttpsTransport {
    /// The default transport with default settings (Mozilla roots, a 10 s connect timeout,
    /// no client certificate), e.g. to wrap in a [`Transport`] of your own that adds tracing.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) if TLS cannot be set up.
    pub fn new() -> Result<Self> {
        Self::with_settings(&TransportSettings {
            connect_timeout: Some(crate::client::DEFAULT_CONNECT_TIMEOUT),
            ..TransportSettings::default()
        })
    }

    /// Builds the TLS configuration(s). No connection is made until the first request.
    pub(crate) fn with_settings(settings: &TransportSettings) -> Result<Self> {
        let plain = build_connector(settings, None)?;
        let mutual = match &settings.identity {
            Some(identity) => Some(build_connector(settings, Some(identity))?),
            None => None,
        };
        Ok(Self {
            shared: Arc::new(Pools {
                plain,
                mutual,
                by_runtime: Mutex::new(Vec::new()),
            }),
        })
    }

    /// The pool of the current tokio runtime, made at its first use there.
    fn pool(&self, mutual: bool) -> Result<Pool> {
        let runtime = tokio::runtime::Handle::try_current().map_err(|_| {
            Error::new(
                ErrorKind::Transport,
                "HttpsTransport::send must be polled inside a tokio runtime",
            )
        })?;
        let id = runtime.id();
        let mut pools = self
            .shared
            .by_runtime
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        pools.retain(|pool| pool.alive.load(Ordering::Acquire));
        if let Some(found) = pools
            .iter()
            .find(|pool| pool.runtime == id && pool.mutual == mutual)
        {
            return Ok(found.pool.clone());
        }
        let connector = if mutual {
            self.shared.mutual.clone().ok_or_else(|| {
                Error::config(
                    "this APIv2 request asks for `security: true` (mutual TLS) but the client has \
                     no merchant certificate; set it with ClientBuilder::merchant_identity",
                )
            })?
        } else {
            self.shared.plain.clone()
        };
        let pool = HyperClient::builder(TokioExecutor::new())
            .pool_idle_timeout(Duration::from_secs(90))
            .build(connector);
        let alive = Arc::new(AtomicBool::new(true));
        let (stop, stopped) = oneshot::channel::<()>();
        let guard = AliveGuard(alive.clone());
        runtime.spawn(async move {
            let _guard = guard;
            let _ = stopped.await;
        });
        pools.push(RuntimePool {
            runtime: id,
            mutual,
            pool: pool.clone(),
            alive,
            _stop: stop,
        });
        Ok(pool)
    }
}

fn build_connector(
    settings: &TransportSettings,
    identity: Option<&TlsIdentity>,
) -> Result<Connector> {
    let tls_error =
        |e: rustls::Error| Error::config(format!("cannot set up TLS: {e}")).with_source(e);
    let mut roots = rustls::RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    for root in &settings.extra_roots {
        roots.add(root.clone()).map_err(tls_error)?;
    }
    let builder = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(tls_error)?
    .with_root_certificates(roots);
    let config = match identity {
        Some(identity) => builder
            .with_client_auth_cert(identity.chain.clone(), identity.key.clone_key())
            .map_err(tls_error)?,
        None => builder.with_no_client_auth(),
    };
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    http.set_connect_timeout(settings.connect_timeout);
    Ok(hyper_rustls::HttpsConnectorBuilder::new()
        .with_tls_config(config)
        .https_or_http()
        .enable_all_versions()
        .wrap_connector(http))
}

/// The error for a request that could not be completed, naming the root cause (DNS, TLS,
/// refused, reset, …); a connect timeout is [`ErrorKind::Timeout`].
fn sending_failed(
    host: &str,
    connecting: bool,
    error: impl std::error::Error + Send + Sync + 'static,
) -> Error {
    let mut root: &(dyn std::error::Error + 'static) = &error;
    while let Some(source) = root.source() {
        root = source;
    }
    let timed_out = root
        .downcast_ref::<std::io::Error>()
        .is_some_and(|io| io.kind() == std::io::ErrorKind::TimedOut);
    let (kind, what) = if connecting {
        let kind = if timed_out {
            ErrorKind::Timeout
        } else {
            ErrorKind::Transport
        };
        (
            kind,
            format!("cannot connect to {host}: {root}; nothing was sent"),
        )
    } else {
        (
            ErrorKind::Transport,
            format!(
                "the exchange with {host} broke off ({root}); WeChat Pay may still have \
                 processed the request, so query it (or retry with the same merchant order \
                 number) before sending it again"
            ),
        )
    };
    Error::new(kind, what).with_source(error)
}

impl Transport for HttpsTransport {
    fn send(
        &self,
        request: http::Request<Bytes>,
    ) -> BoxFuture<'static, Result<http::Response<Bytes>>> {
        let mutual = request.extensions().get::<MutualTls>().is_some();
        let transport = self.clone();
        let request = request.map(Full::new);
        Box::pin(async move {
            let pool = transport.pool(mutual)?;
            let host = request.uri().host().unwrap_or_default().to_string();
            let response = pool
                .request(request)
                .await
                .map_err(|e| sending_failed(&host, e.is_connect(), e))?;
            let (parts, body) = response.into_parts();
            let body = body
                .collect()
                .await
                .map_err(|e| sending_failed(&host, false, e))?;
            Ok(http::Response::from_parts(parts, body.to_bytes()))
        })
    }
}
