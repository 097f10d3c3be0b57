//! The client, its builder, and `client["…"]`.

use std::fmt;
use std::ops::Index;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use elsa::sync::FrozenMap;
use http::HeaderValue;

use crate::blocking::RuntimeThread;
use crate::chain::Chain;
use crate::crypto::{Certificate, PrivateKey, PublicKey, Signer};
use crate::error::{Error, ErrorKind, Result};
use crate::transport::{HttpsTransport, TlsIdentity, Transport, TransportSettings};
use crate::uri::BaseUri;
use crate::verify::PlatformKeys;

/// The default base URI.
pub const DEFAULT_BASE_URI: &str = "https://api.mch.weixin.qq.com/";

/// The default time allowed for a whole request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time allowed to connect.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// A WeChat Pay client: every endpoint through [`Client::chain`], `client["…"]` or
/// [`chain!`](crate::chain!).
///
/// Cheap to clone (clones share keys, connections and the chain cache); `Send + Sync`.
///
/// Every APIv3 request carries `Wechatpay-Serial: <id>` naming the preferred platform key
/// ([`Client::wechatpay_serial`]: a `PUB_KEY_ID_…` when one is configured) unless the
/// `headers` option sets that header, as the official Go SDK does: fields encrypted with
/// [`Client::encrypt`] then always match the header, and during a migration to the WeChat Pay
/// public key WeChat Pay signs its answers with that key.
///
/// ```no_run
/// use serde_json::json;
/// use wechatpay::{Client, PrivateKey, PublicKey};
///
/// # fn main() -> wechatpay::Result<()> {
/// let client = Client::builder()
///     .mchid("1900000109")
///     .serial("3775B6A45ACD588826D15E583A95F5DD00000000")
///     .private_key(PrivateKey::from_pem_file("apiclient_key.pem")?)
///     .platform_key("PUB_KEY_ID_0114232134912410000000000000", PublicKey::from_pem_file("pub_key.pem")?)
///     .build()?;
///
/// let res = client["v3/pay/transactions/id/{transaction_id}"].get(json!({
///     "transaction_id": "1217752501201407033233368018",
///     "query": {"mchid": "1900000109"},
/// }))?;
/// println!("{}", res.text()?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
    // Kept outside `Inner`: the cached chains hold `Arc<Inner>`, and a cache inside `Inner`
    // would make a cycle that is never freed.
    cache: Arc<FrozenMap<String, Box<Chain>>>,
}

/// What every chain of a client shares.
pub(crate) struct Inner {
    pub config: Config,
    pub transport: Arc<dyn Transport>,
    runtime: OnceLock<std::result::Result<RuntimeThread, String>>,
}

/// The checked configuration.
pub(crate) struct Config {
    pub mchid: String,
    pub serial: String,
    pub signer: Arc<dyn Signer>,
    pub private_key: Option<PrivateKey>,
    pub platform_keys: PlatformKeys,
    pub base_uri: BaseUri,
    pub timeout: Option<Duration>,
    pub user_agent: HeaderValue,
    pub apiv3_key: Option<Secret>,
    pub secret: Option<Secret>,
    /// The default transport is in use and has no merchant certificate: an APIv2
    /// `security: true` request cannot be sent.
    pub mutual_tls_unavailable: bool,
}

/// A secret that never prints.
#[derive(Clone)]
pub(crate) struct Secret(pub String);

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

impl Inner {
    /// The runtime thread, started at the first request.
    pub(crate) fn runtime(&self) -> Result<&RuntimeThread> {
        self.runtime
            .get_or_init(|| RuntimeThread::start().map_err(|e| e.to_string()))
            .as_ref()
            .map_err(|message| Error::new(ErrorKind::Transport, message.clone()))
    }
}

impl Client {
    /// Starts a [`ClientBuilder`].
    pub fn builder() -> ClientBuilder {
        ClientBuilder::default()
    }

    /// A chain for `path`, normalised like PHP: `camelCase` → `kebab-case`, a leading capital
    /// lowered, `_name_` → `{name}`; the argument may hold several segments
    /// (`"v3/pay/transactions/native"`) and template variables (`{out_trade_no}`), whose
    /// values come from the options and are never case-changed.
    ///
    /// Rule 3 (`_name_` → `{name}`) applies to the whole argument, as in PHP: in
    /// `"v3/pay/_out_trade_no_"` the `_out_trade_no_` stays literal; write `{out_trade_no}`
    /// in multi-segment strings.
    ///
    /// Allocates the path once; use `client["…"]` to reuse a cached chain instead.
    pub fn chain(&self, path: &str) -> Chain {
        Chain::root(self.inner.clone(), path, true)
    }

    /// A chain for `path` exactly as written, without normalisation (what
    /// [`chain!`](crate::chain!) expands to).
    pub fn chain_raw(&self, path: &str) -> Chain {
        Chain::root(self.inner.clone(), path, false)
    }

    /// The merchant id (`mchid`) this client signs for.
    pub fn mchid(&self) -> &str {
        &self.inner.config.mchid
    }

    /// The configured platform keys.
    pub fn platform_keys(&self) -> &PlatformKeys {
        &self.inner.config.platform_keys
    }

    /// The checked configuration, for the helpers implemented in other modules.
    pub(crate) fn config(&self) -> &Config {
        &self.inner.config
    }
}

impl Index<&str> for Client {
    type Output = Chain;

    /// `client["v3/pay/transactions/{out_trade_no}"]`: the chain for that template, built
    /// once and cached by the client (keyed by the exact string given, so
    /// `client["merchantService"]` and `client["merchant-service"]` are two entries for the
    /// same path). The cache only grows: index with templates, never with values such as
    /// order numbers (pass those as options).
    fn index(&self, path: &str) -> &Chain {
        if let Some(chain) = self.cache.get(path) {
            return chain;
        }
        self.cache
            .insert_with(path.to_owned(), || Box::new(self.chain(path)))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.inner.config;
        f.debug_struct("Client")
            .field("mchid", &config.mchid)
            .field("serial", &config.serial)
            .field(
                "platform_keys",
                &config.platform_keys.ids().collect::<Vec<_>>(),
            )
            .field("base_uri", &config.base_uri)
            .field("timeout", &config.timeout)
            .finish_non_exhaustive()
    }
}

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
    apiv3_key: Option<String>,
    secret: Option<String>,
    tls_roots: Vec<String>,
    merchant_identity: Option<Result<(String, String)>>,
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

    /// A platform certificate (`wechatpay_{serial}.pem`); its serial is read from it.
    pub fn platform_certificate(mut self, certificate: Certificate) -> Self {
        self.platform_keys
            .insert(certificate.serial(), certificate.public_key().clone());
        self
    }

    /// The base URI, [`DEFAULT_BASE_URI`] unless set (e.g. `https://api2.mch.weixin.qq.com/`,
    /// `https://apihk.mch.weixin.qq.com/`).
    pub fn base_uri(mut self, base_uri: &str) -> Self {
        self.base_uri = Some(base_uri.to_owned());
        self
    }

    /// The time allowed for a whole request ([`DEFAULT_TIMEOUT`] unless set); the `timeout`
    /// option overrides it per request.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = Some(Some(timeout));
        self
    }

    /// Lets requests take as long as they take.
    pub fn no_timeout(mut self) -> Self {
        self.timeout = Some(None);
        self
    }

    /// The time allowed to connect ([`DEFAULT_CONNECT_TIMEOUT`] unless set).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = Some(timeout);
        self
    }

    /// Sends requests with `transport` instead of the default HTTPS client.
    ///
    /// [`connect_timeout`](Self::connect_timeout),
    /// [`tls_root_certificate`](Self::tls_root_certificate) and the certificate of
    /// [`merchant_identity`](Self::merchant_identity) configure the default client only; a
    /// transport of your own applies its own (requests that need mutual TLS carry
    /// [`MutualTls`](crate::MutualTls)).
    pub fn transport(mut self, transport: impl Transport) -> Self {
        self.transport = Some(Arc::new(transport));
        self
    }

    /// The APIv3 key (APIv3密钥, 32 bytes): decrypts notifications and the platform
    /// certificate download.
    pub fn apiv3_key(mut self, key: &str) -> Self {
        self.apiv3_key = Some(key.to_owned());
        self
    }

    /// The APIv2 key (API密钥, 32 bytes): signs APIv2 requests (`v2/…`), checks their
    /// answers and APIv2 notifications, and decrypts refund notifications. Only needed for
    /// APIv2; [`ClientBuilder::build`] refuses an empty one.
    pub fn secret(mut self, secret: &str) -> Self {
        self.secret = Some(secret.to_owned());
        self
    }

    /// The merchant API certificate and its private key, for the APIv2 calls that need
    /// mutual TLS (option `security: true`: refunds `v2/secapi/pay/refund`, red packets,
    /// transfers to change, …): the texts of `apiclient_cert.pem` and `apiclient_key.pem`.
    ///
    /// [`ClientBuilder::build`] parses both and checks that they belong together. The
    /// default transport keeps a second connection pool with this client certificate for
    /// those requests; a transport given with [`ClientBuilder::transport`] receives them
    /// marked with [`MutualTls`](crate::MutualTls) and must present the certificate itself.
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
        self.merchant_identity = Some(Ok((cert_pem.to_owned(), key_pem.to_owned())));
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
                read(key_path.as_ref(), "private key (apiclient_key.pem)")?,
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
    /// [`ErrorKind::Config`] naming the missing or wrong setting.
    pub fn build(self) -> Result<Client> {
        let mchid = required(
            self.mchid,
            "mchid",
            "the merchant id (商户号), e.g. `1900000109`",
        )?;
        let serial = required(
            self.serial,
            "serial",
            "the merchant API certificate serial (商户API证书序列号), e.g. `3775B6A45ACD588826D15E583A95F5DD00000000`",
        )?;
        let signer: Arc<dyn Signer> = match (self.signer, &self.private_key) {
            (Some(signer), _) => signer,
            (None, Some(key)) => Arc::new(key.clone()),
            (None, None) => {
                return Err(Error::config(
                    "the merchant private key is required: set it with \
                     .private_key(PrivateKey::from_pem_file(\"apiclient_key.pem\")?) (or \
                     .signer(…) for a KMS/HSM)",
                ));
            }
        };
        if self.platform_keys.is_empty() {
            return Err(Error::config(
                "at least one platform key is required to verify WeChat Pay's answers: \
                 .platform_key(\"PUB_KEY_ID_…\", PublicKey::from_pem_file(\"pub_key.pem\")?) \
                 for the WeChat Pay public key, or .platform_certificate(…) for a platform \
                 certificate",
            ));
        }
        if self.platform_keys.get(&serial).is_some() {
            return Err(Error::config(format!(
                "the platform keys include the merchant's own certificate serial `{serial}`; \
                 platform keys are WeChat Pay's (a `PUB_KEY_ID_…` or a platform certificate \
                 serial), never the merchant's"
            )));
        }
        let base_uri = BaseUri::parse(self.base_uri.as_deref().unwrap_or(DEFAULT_BASE_URI))
            .map_err(|e| Error::config(format!("base_uri: {e}")))?;
        let apiv3_key = self.apiv3_key.map(check_apiv3_key).transpose()?;
        let secret = self.secret.map(check_secret).transpose()?;
        let identity = match self.merchant_identity {
            Some(pair) => {
                let (cert, key) = pair?;
                Some(TlsIdentity::from_pem(&cert, &key)?)
            }
            None => None,
        };
        let mutual_tls_unavailable = self.transport.is_none() && identity.is_none();
        let transport: Arc<dyn Transport> = match self.transport {
            Some(transport) => transport,
            None => {
                let settings = TransportSettings {
                    connect_timeout: Some(self.connect_timeout.unwrap_or(DEFAULT_CONNECT_TIMEOUT)),
                    extra_roots: self
                        .tls_roots
                        .iter()
                        .map(|pem| crate::transport::certificates_from_pem(pem))
                        .collect::<Result<Vec<_>>>()?
                        .concat(),
                    identity,
                };
                Arc::new(HttpsTransport::with_settings(&settings)?)
            }
        };
        let config = Config {
            mchid,
            serial,
            signer,
            private_key: self.private_key,
            platform_keys: self.platform_keys,
            base_uri,
            timeout: self.timeout.unwrap_or(Some(DEFAULT_TIMEOUT)),
            user_agent: HeaderValue::from_static(USER_AGENT),
            apiv3_key,
            secret,
            mutual_tls_unavailable,
        };
        Ok(Client {
            inner: Arc::new(Inner {
                config,
                transport,
                runtime: OnceLock::new(),
            }),
            cache: Arc::new(FrozenMap::new()),
        })
    }
}

/// `wechatpay-rust/{version}`.
const USER_AGENT: &str = concat!("wechatpay-rust/", env!("CARGO_PKG_VERSION"));

fn required(value: Option<String>, field: &str, what: &str) -> Result<String> {
    let value = value.unwrap_or_default();
    if value.trim().is_empty() {
        return Err(Error::config(format!(
            "`{field}` is required: {what}; set it with ClientBuilder::{field}"
        )));
    }
    if !value.bytes().all(|b| b.is_ascii_graphic() && b != b'"') {
        return Err(Error::config(format!(
            "`{field}` may only hold printable ASCII without quotes or spaces; got `{}`",
            value.escape_debug()
        )));
    }
    Ok(value)
}

fn check_apiv3_key(key: String) -> Result<Secret> {
    if key.len() != 32 {
        return Err(Error::config(format!(
            "the APIv3 key must be exactly 32 bytes, got {}; copy it again from the merchant \
             platform (账户中心 → API安全 → APIv3密钥)",
            key.len()
        )));
    }
    Ok(Secret(key))
}

fn check_secret(secret: String) -> Result<Secret> {
    if secret.is_empty() {
        return Err(Error::config(
            "the APIv2 key (ClientBuilder::secret) is empty; copy it from the merchant platform \
             (账户中心 → API安全 → API密钥), or leave it unset if you only call APIv3",
        ));
    }
    if secret.trim() != secret {
        return Err(Error::config(
            "the APIv2 key (ClientBuilder::secret) starts or ends with whitespace (a line break \
             from a file or an environment variable?); every sign would be wrong: trim it",
        ));
    }
    Ok(Secret(secret))
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
            .finish_non_exhaustive()
    }
}
