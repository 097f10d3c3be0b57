//! [`ClientBuilder`]: records the settings, and checks them all in `build()`.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use zeroize::Zeroizing;

use super::handle::Client;
use crate::config::{
    ApiV2Key, ApiV3Key, Config, DEFAULT_BACKUP_BASE_URI, DEFAULT_BASE_URI,
    DEFAULT_CERTIFICATE_REFRESH_INTERVAL, DEFAULT_CONNECT_TIMEOUT,
    DEFAULT_MAX_CONNECTIONS_PER_HOST, DEFAULT_POOL_IDLE_TIMEOUT, DEFAULT_TIMEOUT, ResponseLimits,
    USER_AGENT, header_safe_field,
};
#[cfg(doc)]
use crate::config::{DEFAULT_MAX_RESPONSE_SIZE, DEFAULT_READ_TIMEOUT};
use crate::crypto::{Certificate, KeyRing, PlatformKeys, PrivateKey, PublicKey, Signer};
use crate::error::{Error, Result};
use crate::future::refresher::Refresher;
use crate::future::shared::Shared;
use crate::future::signing::Bridged;
use crate::keystore::KeyStore;
use crate::resilience::{FailoverPolicy, RetryPolicy};
use crate::transport::{
    HttpsTransport, ProxySetting, TlsIdentity, Transport, TransportSettings, certificates_from_pem,
};
use crate::uri::BaseUri;

/// Configures a [`Client`]. Every method only records; [`ClientBuilder::build`] checks
/// everything at once and does no I/O.
#[derive(Default)]
pub struct ClientBuilder {
    mchid: Option<String>,
    serial: Option<String>,
    signer: Option<Arc<dyn Signer>>,
    private_key: Option<PrivateKey>,
    platform_keys: PlatformKeys,
    base_uri: Option<String>,
    timeout: Option<Option<Duration>>,
    connect_timeout: Option<Duration>,
    transport: Option<Arc<dyn Transport>>,
    apiv3_key: Option<Zeroizing<String>>,
    apiv2_key: Option<Zeroizing<String>>,
    tls_roots: Vec<String>,
    merchant_identity: Option<Result<(String, Zeroizing<String>)>>,
    limits: ResponseLimits,
    allow_http: bool,
    auto_certificates: bool,
    certificate_refresh_interval: Option<Duration>,
    key_store: Option<Arc<dyn KeyStore>>,
    /// `Some(None)`: `no_backup()`.
    backup_base_uri: Option<Option<String>>,
    retry: Option<RetryPolicy>,
    failover: Option<FailoverPolicy>,
    proxy: ProxySetting,
    pool_idle_timeout: Option<Duration>,
    max_connections_per_host: Option<usize>,
    /// The settings of [`safeguards`](super::safeguards), in
    /// [`safeguard_settings`](super::safeguard_settings).
    pub(super) safeguards: super::safeguard_settings::Safeguards,
}

impl Client {
    /// Starts a [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }
}

impl ClientBuilder {
    /// The merchant id (商户号), e.g. `1900000109`.
    pub fn mchid(mut self, mchid: &str) -> Self {
        self.mchid = Some(mchid.to_owned());
        self
    }

    /// The serial number of the merchant API certificate (商户API证书序列号), 40 hex digits.
    pub fn serial(mut self, serial: &str) -> Self {
        self.serial = Some(serial.to_owned());
        self
    }

    /// The merchant private key (`apiclient_key.pem`): signs requests and decrypts sensitive
    /// fields.
    pub fn private_key(mut self, key: PrivateKey) -> Self {
        self.private_key = Some(key);
        self
    }

    /// Signs requests with `signer` instead of a [`PrivateKey`] (a KMS or an HSM holds the
    /// key). A private key given as well is then only used for decryption.
    pub fn signer(mut self, signer: impl Signer) -> Self {
        self.signer = Some(Arc::new(signer));
        self
    }

    /// A platform key that answers are verified with, by the id WeChat Pay sends in
    /// `Wechatpay-Serial`: a WeChat Pay public-key id (`PUB_KEY_ID_…`, with `pub_key.pem`) or
    /// a platform-certificate serial. Repeatable; both kinds may be configured during a
    /// migration.
    pub fn platform_key(mut self, id: &str, key: PublicKey) -> Self {
        self.platform_keys.insert(id, key);
        self
    }

    /// A platform certificate (`wechatpay_{serial}.pem`); its serial and validity are read
    /// from it.
    pub fn platform_certificate(mut self, certificate: Certificate) -> Self {
        self.platform_keys.insert_certificate(&certificate);
        self
    }

    /// Automatic mode, for a merchant on platform certificates (平台证书): the client
    /// downloads them itself (`GET v3/certificates`, checked as
    /// [`v3::certificates`](crate::v3::certificates) describes) and keeps them current, so
    /// [`build`](Self::build) needs no platform key. Requires [`apiv3_key`](Self::apiv3_key),
    /// which decrypts them.
    ///
    /// * The first APIv3 request downloads them (requests made meanwhile wait for that same
    ///   download); `build()` itself still does no I/O.
    /// * A background task refreshes them every
    ///   [`certificate_refresh_interval`](Self::certificate_refresh_interval) (12 hours,
    ///   give or take 10 %), and ends with the client's last clone.
    /// * An answer signed by a serial the client does not know (WeChat Pay rotated its
    ///   certificate) triggers one refresh (at most one a minute) and one more verification
    ///   before it is an error.
    /// * Keys given with [`platform_key`](Self::platform_key) or
    ///   [`platform_certificate`](Self::platform_certificate) stay trusted beside the
    ///   downloaded ones (e.g. the `PUB_KEY_ID_…` during a migration to the public key).
    /// * With [`key_store`](Self::key_store), downloads are shared with other processes and
    ///   kept across restarts.
    ///
    /// A merchant on the WeChat Pay public key (微信支付公钥) has no platform certificate
    /// (the download answers `404 RESOURCE_NOT_EXISTS`): configure its `PUB_KEY_ID_…` with
    /// [`platform_key`](Self::platform_key) instead.
    pub fn auto_certificates(mut self) -> Self {
        self.auto_certificates = true;
        self
    }

    /// How often automatic mode refreshes the platform certificates
    /// (12 hours unless set), give or take 10 %
    /// so that many processes do not refresh in step. Only with
    /// [`auto_certificates`](Self::auto_certificates).
    pub fn certificate_refresh_interval(mut self, interval: Duration) -> Self {
        self.certificate_refresh_interval = Some(interval);
        self
    }

    /// Where automatic mode keeps the certificates it downloads, and looks first: a
    /// [`FileKeyStore`](crate::FileKeyStore) directory or a [`KeyStore`] of yours (Redis, a
    /// database), so that many processes, and restarts, share one download. Only with
    /// [`auto_certificates`](Self::auto_certificates).
    pub fn key_store(mut self, store: impl KeyStore) -> Self {
        self.key_store = Some(Arc::new(store));
        self
    }

    /// The base URI, [`DEFAULT_BASE_URI`] unless set (e.g. `https://api2.mch.weixin.qq.com/`,
    /// `https://apihk.mch.weixin.qq.com/`).
    pub fn base_uri(mut self, base_uri: &str) -> Self {
        self.base_uri = Some(base_uri.to_owned());
        self
    }

    /// Where requests of the base URI go when it cannot be reached: WeChat Pay's backup
    /// domain. With the default base URI the backup is
    /// `https://api2.mch.weixin.qq.com/`; with another base URI there is none unless set
    /// here.
    ///
    /// A request whose connection to the base URI fails (DNS, refused, TLS handshake, connect
    /// timeout: nothing was sent) goes to the backup at once, signed afresh. After
    /// [`FailoverPolicy::after`] such failures in a row every request goes to the backup, and
    /// the base URI is probed in the background (a TCP and TLS handshake, no request) every
    /// [`FailoverPolicy::probe_interval`] until it answers; requests then go back to it. A
    /// request with a `base_uri` option of its own (Hong Kong, global) keeps its host.
    pub fn backup_base_uri(mut self, uri: &str) -> Self {
        self.backup_base_uri = Some(Some(uri.to_owned()));
        self
    }

    /// No backup domain, even with the default base URI.
    pub fn no_backup(mut self) -> Self {
        self.backup_base_uri = Some(None);
        self
    }

    /// When to move every request to the backup domain and how often to probe the base URI
    /// meanwhile ([`FailoverPolicy::default`]: after 3 connection failures in a row, a probe
    /// every 30 s).
    pub fn failover_policy(mut self, policy: FailoverPolicy) -> Self {
        self.failover = Some(policy);
        self
    }

    /// How often requests are sent again and how long the client waits in between
    /// ([`RetryPolicy::default`]: 3 tries, waits from 200 ms doubling up to 2 s, with jitter).
    /// Which requests qualify never changes: one that provably was not sent, any `GET`, and
    /// calls marked safe with [`Options::retry`](crate::Options::retry); see
    /// [`resilience`](crate::resilience). [`RetryPolicy::none`] sends each request once.
    pub fn retry_policy(mut self, policy: RetryPolicy) -> Self {
        self.retry = Some(policy);
        self
    }

    /// Sends every request through the proxy at `uri`, `http://[user:password@]host:port`,
    /// whatever the environment says: a CONNECT tunnel for `https` (TLS, mutual TLS
    /// included, runs end to end through it), plain forwarding for `http`. User and password
    /// (percent-encoded) are sent as basic authentication (`Proxy-Authorization`) and never
    /// shown: `Debug` output, errors and `tracing` name the proxy as `http://host:port`.
    ///
    /// Without this, the default transport honours `HTTPS_PROXY`, `HTTP_PROXY`, `ALL_PROXY`
    /// and `NO_PROXY` (and their lower-case forms), read by `build()`, as curl and reqwest
    /// do; they are ignored when `REQUEST_METHOD` is set (a CGI script: httpoxy).
    pub fn proxy(mut self, uri: &str) -> Self {
        self.proxy = ProxySetting::Uri(uri.to_owned());
        self
    }

    /// Connects directly, whatever `HTTPS_PROXY`, `HTTP_PROXY` or `ALL_PROXY` say.
    pub fn no_proxy(mut self) -> Self {
        self.proxy = ProxySetting::None;
        self
    }

    /// How long an idle connection is kept for the next request
    /// (7 s unless set). Keep it below the server's own idle
    /// limit (WeChat Pay closes idle connections after about 8 s): a request sent on a
    /// connection the server is closing fails, and a `POST` is then not sent again.
    pub fn pool_idle_timeout(mut self, timeout: Duration) -> Self {
        self.pool_idle_timeout = Some(timeout);
        self
    }

    /// The most requests in flight, so connections, per host
    /// (32 unless set; at least 1); more requests wait
    /// their turn, within their `timeout`.
    pub fn max_connections_per_host(mut self, connections: usize) -> Self {
        self.max_connections_per_host = Some(connections);
        self
    }

    /// The time allowed for a whole request (30 s unless set), every try of it
    /// and the waits between included; the `timeout` option overrides it per request. The
    /// [`read_timeout`](Self::read_timeout) applies too.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(Some(timeout));
        self
    }

    /// Lets requests take as long as they take, as long as the server keeps sending: the
    /// [`read_timeout`](Self::read_timeout) still ends a request whose server falls silent.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = Some(None);
        self
    }

    /// The time allowed to connect (10 s unless set).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// The longest wait for the next bytes of an answer, its head and then each piece of its
    /// body (60 s unless set). Unlike [`timeout`](Self::timeout) it
    /// cannot be turned off: a request without a total limit (`timeout: 0`) still ends when
    /// the server falls silent this long. Sent to the transport in its
    /// [`SendOptions`](crate::transport::SendOptions); a zero duration counts as 1 ms.
    pub fn read_timeout(mut self, timeout: Duration) -> Self {
        self.limits.read_timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// The most bytes of an answer's body the client reads (16 MiB unless
    /// set). A larger success answer is an
    /// [`ErrorKind::Transport`](crate::ErrorKind::Transport) error as soon as its
    /// `Content-Length` or its bytes pass the limit, so a hostile or broken server cannot
    /// make the client buffer more; an error answer is read only as far as its error needs
    /// (64 KiB). Raise it for large bill downloads. A transport learns it through
    /// [`SendOptions::reading`](crate::transport::SendOptions::reading).
    pub fn max_response_size(mut self, bytes: usize) -> Self {
        self.limits.max_response_size = bytes;
        self
    }

    /// Allows plain `http://` base URIs to hosts other than this machine. Without it,
    /// `http://` is refused except for `127.0.0.1` (and the rest of `127.0.0.0/8`), `[::1]`
    /// and `localhost`, where tests run the mock server: requests would cross the network
    /// unencrypted. Only for a trusted proxy or test network.
    pub fn danger_allow_http(mut self) -> Self {
        self.allow_http = true;
        self
    }

    /// Sends requests with `transport` instead of the default HTTPS client.
    ///
    /// [`connect_timeout`](Self::connect_timeout),
    /// [`tls_root_certificate`](Self::tls_root_certificate), the certificate of
    /// [`merchant_identity`](Self::merchant_identity),
    /// [`pool_idle_timeout`](Self::pool_idle_timeout) and
    /// [`max_connections_per_host`](Self::max_connections_per_host) configure the default
    /// client only; a transport of your own applies its own (requests that need mutual TLS
    /// say so in their [`SendOptions`](crate::transport::SendOptions)). [`proxy`](Self::proxy)
    /// is refused with one (it would be ignored), [`no_proxy`](Self::no_proxy) is ignored.
    /// Retries and the backup domain work with any transport.
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The APIv3 key (APIv3密钥, 32 bytes): decrypts notifications, and the platform
    /// certificates of [`auto_certificates`](Self::auto_certificates) and
    /// [`Client::download_certificates_async`].
    pub fn apiv3_key(mut self, key: &str) -> Self {
        self.apiv3_key = Some(Zeroizing::new(key.to_owned()));
        self
    }

    /// The APIv2 key (API密钥, 32 bytes): signs APIv2 requests (`v2/…`), checks their
    /// answers and APIv2 notifications, and decrypts refund notifications. Only needed for
    /// APIv2; [`ClientBuilder::build`] refuses an empty one. (Called `secret` before 0.2, as
    /// the PHP SDK's option is.)
    #[doc(alias = "secret")]
    pub fn apiv2_key(mut self, key: &str) -> Self {
        self.apiv2_key = Some(Zeroizing::new(key.to_owned()));
        self
    }

    /// The merchant API certificate and its private key, for the APIv2 calls that need
    /// mutual TLS (option `security: true`: refunds `v2/secapi/pay/refund`, red packets,
    /// transfers to change, …): the texts of `apiclient_cert.pem` and `apiclient_key.pem`.
    ///
    /// [`ClientBuilder::build`] parses both and checks that they belong together. The
    /// default transport keeps a second connection pool with this client certificate for
    /// those requests; a transport given with [`ClientBuilder::transport`] receives them with
    /// [`SendOptions::mutual_tls`](crate::transport::SendOptions::mutual_tls) set and must
    /// present the certificate itself.
    ///
    /// Only PEM is read. The merchant certificate download also holds `apiclient_cert.p12`
    /// (password: the merchant id); to turn a `.p12` into the two PEM files:
    ///
    /// ```text
    /// openssl pkcs12 -in apiclient_cert.p12 -passin pass:1900000109 -clcerts -nokeys -out apiclient_cert.pem
    /// openssl pkcs12 -in apiclient_cert.p12 -passin pass:1900000109 -nocerts -nodes -out apiclient_key.pem
    /// ```
    ///
    /// (OpenSSL 3 needs `-legacy` as well when it reports an unsupported RC2 algorithm.)
    pub fn merchant_identity(mut self, cert_pem: &str, key_pem: &str) -> Self {
        self.merchant_identity = Some(Ok((
            cert_pem.to_owned(),
            Zeroizing::new(key_pem.to_owned()),
        )));
        self
    }

    /// [`ClientBuilder::merchant_identity`] read from files, e.g. `apiclient_cert.pem` and
    /// `apiclient_key.pem`. The files are read now; a file that cannot be read is reported by
    /// [`ClientBuilder::build`].
    pub fn merchant_identity_files(
        mut self,
        cert_path: impl AsRef<std::path::Path>,
        key_path: impl AsRef<std::path::Path>,
    ) -> Self {
        let read = |path: &std::path::Path, what: &str| {
            std::fs::read_to_string(path).map_err(|e| {
                Error::config(format!(
                    "merchant_identity_files: cannot read the {what} `{}`: {e}",
                    path.display()
                ))
                .with_source(e)
            })
        };
        let pair = read(cert_path.as_ref(), "certificate (apiclient_cert.pem)").and_then(|cert| {
            Ok((
                cert,
                Zeroizing::new(read(key_path.as_ref(), "private key (apiclient_key.pem)")?),
            ))
        });
        self.merchant_identity = Some(pair);
        self
    }

    /// Trusts the certificate(s) of `pem` as extra TLS roots, e.g. a test server's or a
    /// corporate proxy's CA. [`ClientBuilder::build`] reports a PEM without certificates.
    pub fn tls_root_certificate(mut self, pem: &str) -> Self {
        self.tls_roots.push(pem.to_owned());
        self
    }

    /// Checks the configuration and builds the client. Nothing is sent; the runtime thread
    /// starts with the first request.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) naming the missing or wrong setting.
    pub fn build(self) -> Result<Client> {
        let mchid = header_safe_field(
            self.mchid,
            "mchid",
            "the merchant id (商户号), e.g. `1900000109`",
        )?;
        let serial = header_safe_field(
            self.serial,
            "serial",
            "the merchant API certificate serial (商户API证书序列号), e.g. `3775B6A45ACD588826D15E583A95F5DD00000000`",
        )?;
        let async_signer = self.safeguards.async_signer.clone();
        let signer: Arc<dyn Signer> = match (self.signer, &self.private_key, &async_signer) {
            (Some(signer), _, _) => signer,
            (None, Some(key), _) => Arc::new(key.clone()),
            (None, None, Some(signer)) => Arc::new(Bridged::new(signer.clone())),
            (None, None, None) => {
                return Err(Error::config(
                    "the merchant private key is required: set it with \
                     .private_key(PrivateKey::from_pem_file(\"apiclient_key.pem\")?) (or \
                     .signer(…) / .async_signer(…) for a KMS/HSM)",
                ));
            }
        };
        if self.platform_keys.is_empty() && !self.auto_certificates {
            return Err(Error::config(
                "at least one platform key is required to verify WeChat Pay's answers: \
                 .platform_key(\"PUB_KEY_ID_…\", PublicKey::from_pem_file(\"pub_key.pem\")?) \
                 for the WeChat Pay public key, or .platform_certificate(…) for a platform \
                 certificate, or .auto_certificates() to download the platform certificates",
            ));
        }
        if self.platform_keys.get(&serial).is_some() {
            return Err(Error::config(format!(
                "the platform keys include the merchant's own certificate serial `{serial}`; \
                 platform keys are WeChat Pay's (a `PUB_KEY_ID_…` or a platform certificate \
                 serial), never the merchant's"
            )));
        }
        let checked = |uri: &str, what: &str| {
            BaseUri::parse(uri)
                .and_then(|base| {
                    if !self.allow_http {
                        base.check_secure()?;
                    }
                    Ok(base)
                })
                .map_err(|e| Error::config(format!("{what}: {e}")))
        };
        let base_uri = checked(
            self.base_uri.as_deref().unwrap_or(DEFAULT_BASE_URI),
            "base_uri",
        )?;
        let backup_base_uri = match &self.backup_base_uri {
            Some(Some(uri)) => Some(checked(uri, "backup_base_uri")?),
            Some(None) => None,
            None if base_uri == BaseUri::parse(DEFAULT_BASE_URI)? => {
                Some(BaseUri::parse(DEFAULT_BACKUP_BASE_URI)?)
            }
            None => None,
        }
        .filter(|backup| *backup != base_uri);
        let apiv3_key = self
            .apiv3_key
            .as_deref()
            .map(|key| ApiV3Key::new(key))
            .transpose()?;
        let apiv2_key = self
            .apiv2_key
            .as_deref()
            .map(|key| ApiV2Key::new(key))
            .transpose()?;
        let refresher = if self.auto_certificates {
            let interval = self
                .certificate_refresh_interval
                .unwrap_or(DEFAULT_CERTIFICATE_REFRESH_INTERVAL);
            Some(Refresher::new(
                apiv3_key.is_some(),
                interval,
                self.key_store,
            )?)
        } else if self.certificate_refresh_interval.is_some() || self.key_store.is_some() {
            return Err(Error::config(
                "certificate_refresh_interval and key_store apply to downloaded platform \
                 certificates: add .auto_certificates()",
            ));
        } else {
            None
        };
        let mut merchant_certificate = self.safeguards.merchant_certificate.clone();
        let identity = match self.merchant_identity {
            Some(pair) => {
                let (cert, key) = pair?;
                // Its first certificate is the merchant's: its expiry is watched too.
                merchant_certificate = merchant_certificate.or_else(|| {
                    let certificate = Certificate::from_pem(&cert).ok()?;
                    Some((certificate.serial().to_owned(), certificate.not_after()))
                });
                Some(TlsIdentity::from_pem(&cert, &key)?)
            }
            None => None,
        };
        let (transport, https): (Arc<dyn Transport>, _) = match self.transport {
            Some(_) if matches!(self.proxy, ProxySetting::Uri(_)) => {
                return Err(Error::config(
                    "proxy() configures the default transport, and this client has a transport \
                     of its own (ClientBuilder::transport): set the proxy on that transport \
                     instead",
                ));
            }
            Some(transport) => (transport, None),
            None => {
                let settings = TransportSettings {
                    connect_timeout: Some(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)),
                    extra_roots: self
                        .tls_roots
                        .iter()
                        .map(|pem| certificates_from_pem(pem))
                        .collect::<Result<Vec<_>>>()?
                        .concat(),
                    identity,
                    proxy: self.proxy.clone(),
                    pool_idle_timeout: self.pool_idle_timeout.unwrap_or(DEFAULT_POOL_IDLE_TIMEOUT),
                    max_connections_per_host: self
                        .max_connections_per_host
                        .unwrap_or(DEFAULT_MAX_CONNECTIONS_PER_HOST),
                };
                let https = HttpsTransport::with_settings(&settings)?;
                (Arc::new(https.clone()), Some(https))
            }
        };
        let config = Config {
            mchid,
            serial,
            signer,
            async_signer,
            private_key: self.private_key,
            platform_keys: KeyRing::new(self.platform_keys),
            base_uri,
            backup_base_uri,
            retry: self.retry.unwrap_or_default(),
            failover: self.failover.unwrap_or_default(),
            timeout: self.timeout.unwrap_or(Some(DEFAULT_TIMEOUT)),
            user_agent: HeaderValue::from_static(USER_AGENT),
            apiv3_key,
            apiv2_key,
            limits: self.limits,
            allow_http: self.allow_http,
            allow_plaintext: self.safeguards.allow_plaintext,
            merchant_certificate,
            expiry_warning_days: self.safeguards.expiry_warning_days,
        };
        config
            .platform_keys
            .set_rollout(self.safeguards.public_key_rollout);
        let client = Client::from_shared(Shared::new(config, transport, https, refresher));
        client.warn_of_expiry();
        Ok(client)
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("mchid", &self.mchid)
            .field("serial", &self.serial)
            .field("private_key", &self.private_key)
            .field(
                "platform_keys",
                &self.platform_keys.ids().collect::<Vec<_>>(),
            )
            .field("base_uri", &self.base_uri)
            .field("backup_base_uri", &self.backup_base_uri)
            .field("proxy", &self.proxy)
            .field("auto_certificates", &self.auto_certificates)
            .finish_non_exhaustive()
    }
}
