//! The checked configuration of a client: ids, keys as validated newtypes, and the defaults.
//!
//! Every rule about a configured value lives here, once: [`ClientBuilder::build`] runs them,
//! and the rest of the crate receives values that already passed.
//!
//! [`ClientBuilder::build`]: crate::ClientBuilder::build

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use http::HeaderValue;
use zeroize::Zeroizing;

use crate::crypto::{AsyncSigner, KeyRing, PrivateKey, Signer};
use crate::error::{Error, Result};
use crate::resilience::{FailoverPolicy, RetryPolicy};
use crate::uri::BaseUri;

/// The default base URI.
pub const DEFAULT_BASE_URI: &str = "https://api.mch.weixin.qq.com/";

/// The backup base URI of [`DEFAULT_BASE_URI`]: WeChat Pay's backup domain (备用域名), the same
/// API for when the primary cannot be reached. Used only with the default base URI (see
/// [`ClientBuilder::backup_base_uri`](crate::ClientBuilder::backup_base_uri)).
pub(crate) const DEFAULT_BACKUP_BASE_URI: &str = "https://api2.mch.weixin.qq.com/";

/// The default time an idle connection is kept for the next request: 7 s, below the about
/// 8 s after which WeChat Pay closes idle connections itself (the official Java SDK keeps 7 s
/// for this reason), so that no request goes out on a connection the server is closing.
pub(crate) const DEFAULT_POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(7);

/// The default most requests in flight (so connections) per host; more wait their turn.
pub(crate) const DEFAULT_MAX_CONNECTIONS_PER_HOST: usize = 32;

/// The default time allowed for a whole request (every try of it, and the waits between).
pub(crate) const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);

/// The default time allowed to connect.
pub(crate) const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The default longest wait for the next bytes of an answer (its head, then each piece of its
/// body). It applies even to requests without a total limit (`timeout: 0`,
/// [`ClientBuilder::no_timeout`](crate::ClientBuilder::no_timeout)), so that no request waits
/// forever on a silent server.
pub(crate) const DEFAULT_READ_TIMEOUT: Duration = Duration::from_secs(60);

/// The default most bytes of an answer's body a client reads: 16 MiB. WeChat Pay's answers
/// are a few KiB; bills and other downloads can be larger (raise it with
/// [`ClientBuilder::max_response_size`](crate::ClientBuilder::max_response_size)).
pub(crate) const DEFAULT_MAX_RESPONSE_SIZE: usize = 16 * 1024 * 1024;

/// The default time between two refreshes of the platform certificates in automatic mode
/// ([`ClientBuilder::auto_certificates`](crate::ClientBuilder::auto_certificates)), give or
/// take 10 %.
pub(crate) const DEFAULT_CERTIFICATE_REFRESH_INTERVAL: Duration = Duration::from_secs(12 * 3600);

/// `wechatpay-rust/{version}`, the `User-Agent` of every request.
pub(crate) const USER_AGENT: &str = concat!("wechatpay-rust/", env!("CARGO_PKG_VERSION"));

/// The APIv3 key (APIv3密钥): 32 bytes that decrypt notifications and the platform
/// certificate download. Checked once when made; its `Debug` output never shows it; clones
/// share one copy, which is overwritten with zeros when the last clone is dropped.
#[derive(Clone)]
pub struct ApiV3Key(Arc<Zeroizing<[u8; 32]>>);

impl ApiV3Key {
    /// Checks and keeps an APIv3 key.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when it is not exactly 32 bytes.
    pub fn new(key: &str) -> Result<Self> {
        let bytes: [u8; 32] = key.as_bytes().try_into().map_err(|_| {
            Error::config(format!(
                "the APIv3 key must be exactly 32 bytes, got {}; copy it again from the \
                 merchant platform (账户中心 → API安全 → APIv3密钥; it is not the APIv2 key)",
                key.len()
            ))
        })?;
        Ok(Self(Arc::new(Zeroizing::new(bytes))))
    }

    /// The key bytes, for AES-256-GCM.
    pub(crate) fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for ApiV3Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV3Key(<redacted>)")
    }
}

/// The APIv2 key (API密钥): signs APIv2 requests, checks their answers and APIv2
/// notifications, and decrypts refund notifications. Checked once when made; its `Debug`
/// output never shows it; clones share one copy, which is overwritten with zeros when the last
/// clone is dropped.
#[derive(Clone)]
pub struct ApiV2Key(Arc<Zeroizing<String>>);

impl ApiV2Key {
    /// Checks and keeps an APIv2 key.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when it is empty or starts or ends
    /// with whitespace (every sign would be wrong).
    pub fn new(key: &str) -> Result<Self> {
        if key.is_empty() {
            return Err(Error::config(
                "the APIv2 key (ClientBuilder::apiv2_key) is empty; copy it from the merchant \
                 platform (账户中心 → API安全 → API密钥), or leave it unset if you only call APIv3",
            ));
        }
        if key.trim() != key {
            return Err(Error::config(
                "the APIv2 key (ClientBuilder::apiv2_key) starts or ends with whitespace (a line \
                 break from a file or an environment variable?); every sign would be wrong: \
                 trim it",
            ));
        }
        Ok(Self(Arc::new(Zeroizing::new(key.to_owned()))))
    }

    /// The key text, for the sign and the refund key.
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for ApiV2Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiV2Key(<redacted>)")
    }
}

/// The checked configuration every request of a client reads.
pub(crate) struct Config {
    pub mchid: String,
    pub serial: String,
    pub signer: Arc<dyn Signer>,
    /// `ClientBuilder::async_signer`: signs the requests instead of `signer`, awaited.
    pub async_signer: Option<Arc<dyn AsyncSigner>>,
    pub private_key: Option<PrivateKey>,
    /// The platform keys: configured, and downloaded in automatic mode.
    pub platform_keys: KeyRing,
    pub base_uri: BaseUri,
    /// Where requests of `base_uri` go when it cannot be reached.
    pub backup_base_uri: Option<BaseUri>,
    pub retry: RetryPolicy,
    pub failover: FailoverPolicy,
    pub timeout: Option<Duration>,
    pub user_agent: HeaderValue,
    pub apiv3_key: Option<ApiV3Key>,
    pub apiv2_key: Option<ApiV2Key>,
    /// The limits on reading an answer.
    pub limits: ResponseLimits,
    /// `ClientBuilder::danger_allow_http`: plain `http://` to hosts other than this machine.
    pub allow_http: bool,
    /// `ClientBuilder::allow_plaintext`: documented-encrypted fields may hold plain text.
    pub allow_plaintext: bool,
    /// The merchant API certificate's serial and `notAfter`, when the client was given it.
    pub merchant_certificate: Option<(String, u64)>,
    /// How many days before a certificate expires the client warns.
    pub expiry_warning_days: u32,
}

/// How much of an answer a client reads, and how long it waits for the next bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct ResponseLimits {
    pub max_response_size: usize,
    pub read_timeout: Duration,
}

impl Default for ResponseLimits {
    fn default() -> Self {
        Self {
            max_response_size: DEFAULT_MAX_RESPONSE_SIZE,
            read_timeout: DEFAULT_READ_TIMEOUT,
        }
    }
}

impl Config {
    /// The APIv2 key, or the error that says how to set it.
    pub(crate) fn apiv2_key(&self) -> Result<&ApiV2Key> {
        self.apiv2_key.as_ref().ok_or_else(|| {
            Error::config(
                "APIv2 calls and callbacks are signed with the APIv2 key, which this client \
                 lacks: set ClientBuilder::apiv2_key (the APIv2 key, API密钥)",
            )
        })
    }
}

/// A merchant id or serial as given to the builder: required, printable ASCII, no quotes
/// (it is written into the `Authorization` header).
pub(crate) fn header_safe_field(value: Option<String>, field: &str, what: &str) -> Result<String> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apiv3_keys_are_32_bytes() {
        assert!(ApiV3Key::new("0123456789abcdef0123456789abcdef").is_ok());
        for bad in ["", "short", "0123456789abcdef0123456789abcdef0"] {
            let error = ApiV3Key::new(bad).unwrap_err();
            assert!(error.to_string().contains("32 bytes"), "{error}");
        }
        let key = ApiV3Key::new("0123456789abcdef0123456789abcdef").unwrap();
        assert_eq!(format!("{key:?}"), "ApiV3Key(<redacted>)");
    }

    #[test]
    fn apiv2_keys_are_trimmed_and_present() {
        assert!(ApiV2Key::new("k").is_ok());
        assert!(ApiV2Key::new("").is_err());
        assert!(ApiV2Key::new("key\n").is_err());
        assert_eq!(
            format!("{:?}", ApiV2Key::new("k").unwrap()),
            "ApiV2Key(<redacted>)"
        );
    }
}
