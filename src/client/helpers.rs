//! Every convenience method of [`Client`], in one place: each is a thin layer over a pure
//! function of [`v3`](crate::v3), [`v2`](crate::v2) or [`crypto`](crate::crypto), adding the
//! client's keys, the clock and a fresh nonce.

use std::future::Future;

use http::HeaderMap;

use super::handle::Client;
use super::network::NetworkStatus;
use crate::crypto::{KeyUsage, Verified};
use crate::error::{Error, ErrorKind, Result, Verification};
use crate::future::refresh;
use crate::runtime::Placement;
use crate::toolkit::{nonce, timestamp};
use crate::uri::BaseUri;
use crate::v2;
use crate::v3::certificates::PlatformCertificate;
use crate::v3::notify::{self, Notification};
use crate::v3::paysign::{self, AppParams, JsapiParams};
use crate::v3::verify::HEADER_SERIAL;
use crate::xml::XmlMap;

/// Callbacks (回调通知).
impl Client {
    /// Verifies an APIv3 notification (回调通知) with the configured platform keys and the
    /// local clock; [`Notification::decrypt`] then opens its resource with the configured
    /// APIv3 key. The client's glue over the pure [`notify::verify_notification`]; for a
    /// whole `notify_url` handler see [`callback`](crate::callback).
    ///
    /// Pass the request headers and the raw body exactly as received. See
    /// [`notify::verify_notification`] for the checks. The key that verified it is counted
    /// in [`Client::key_usage`].
    ///
    /// # Errors
    ///
    /// As [`notify::verify_notification`]. Answer a failed notification with
    /// [`Reply::for_error`](crate::callback::Reply::for_error) so that WeChat Pay retries it. In automatic mode
    /// ([`ClientBuilder::auto_certificates`](crate::ClientBuilder::auto_certificates)), a
    /// notification signed by an unknown serial also starts a refresh of the platform
    /// certificates in the background, so that WeChat Pay's next attempt verifies.
    pub fn verify_notification(&self, headers: &HeaderMap, body: &[u8]) -> Result<Notification> {
        let config = self.config();
        let now = timestamp();
        let keys = config.platform_keys.snapshot();
        let verified =
            notify::verify_notification(headers, body, now, &keys, config.apiv3_key.as_ref());
        match &verified {
            Ok(notification) => {
                config.platform_keys.record(
                    notification.verified_by(),
                    Verified::Notification,
                    now,
                );
            }
            Err(error) if error.kind() == ErrorKind::Verification(Verification::UnknownSerial) => {
                // The refresh runs as a task of its own: nobody waits for it here.
                if let Some(serial) = headers.get(HEADER_SERIAL).and_then(|v| v.to_str().ok()) {
                    let _started = refresh::after_unknown_serial(&self.shared, serial);
                }
            }
            Err(_) => {}
        }
        verified
    }

    /// Checks the `sign` of an APIv2 notification with the client's APIv2 key and returns
    /// its fields; see [`verify_notification`](crate::v2::verify_notification).
    ///
    /// ```
    /// use wechatpay::v2;
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// # use wechatpay::xml::{XmlMap, to_xml_from};
    /// # let client = wechatpay::mock::MockServer::start()?.client_builder().build()?;
    /// # let mut fields: XmlMap = [("return_code", "SUCCESS"), ("out_trade_no", "1217752501201407033233368018")]
    /// #     .into_iter()
    /// #     .collect();
    /// # v2::sign_request(&mut fields, &wechatpay::mock::apiv2_key(), Some("5d2b6c2a8db53831f7eda20af46e531c"))?;
    /// # let body = to_xml_from(&fields)?;
    /// // `body`: the raw XML WeChat Pay POSTed to the notify_url.
    /// let notification = client.verify_v2_notification(body.as_bytes())?;
    /// assert_eq!(notification.get_str("out_trade_no"), Some("1217752501201407033233368018"));
    /// let answer = v2::reply(true, "OK");
    /// # let _ = answer;
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the client has no APIv2 key
    /// ([`ClientBuilder::apiv2_key`](crate::ClientBuilder::apiv2_key)); otherwise as
    /// [`verify_notification`](crate::v2::verify_notification).
    pub fn verify_v2_notification(&self, body: &[u8]) -> Result<XmlMap> {
        v2::verify_notification(body, self.config().apiv2_key()?)
    }

    /// Decrypts the `req_info` of an APIv2 refund notification with the client's APIv2 key;
    /// see [`decrypt_refund`](crate::v2::decrypt_refund).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the client has no APIv2 key
    /// ([`ClientBuilder::apiv2_key`](crate::ClientBuilder::apiv2_key)); otherwise as
    /// [`decrypt_refund`](crate::v2::decrypt_refund).
    pub fn decrypt_v2_refund(&self, req_info: &str) -> Result<XmlMap> {
        v2::decrypt_refund(req_info, self.config().apiv2_key()?)
    }
}

/// Sensitive fields (敏感信息加解密).
impl Client {
    /// Encrypts a sensitive field for a request: base64 of RSA-OAEP (SHA-1, MGF1-SHA-1) under
    /// the preferred platform key ([`PlatformKeys::preferred`](crate::crypto::PlatformKeys::preferred):
    /// a `PUB_KEY_ID_…` if one is configured, else the newest valid platform certificate;
    /// the certificate while a public-key rollout is below 100 %).
    ///
    /// The request then needs `Wechatpay-Serial` set to that key's id, which the client adds
    /// by itself (see [`Client::wechatpay_serial`]); do not set another one.
    ///
    /// In automatic mode ([`ClientBuilder::auto_certificates`](crate::ClientBuilder::auto_certificates)),
    /// a call before the first download waits for it (with the `blocking` feature; without
    /// it, send a request or await [`Client::refresh_certificates_async`] first).
    ///
    /// ```
    /// # fn main() -> wechatpay::Result<()> {
    /// # let mock = wechatpay::mock::MockServer::start()?;
    /// # let client = mock.client_builder().build()?;
    /// let name = client.encrypt("张三")?;
    /// assert_ne!(name, "张三");
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when the plaintext is
    /// longer than one OAEP block (214 bytes for RSA-2048),
    /// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) if the backend fails,
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) without any platform key, and in
    /// automatic mode the error of a first download that failed.
    pub fn encrypt(&self, plaintext: &str) -> Result<String> {
        // Automatic mode before its first download: wait for it, as a blocking request would.
        #[cfg(feature = "blocking")]
        if let Some(seed) = refresh::seed(&self.shared) {
            let seeded = self.shared.runtime.block_on(|_| seed);
            if self.config().platform_keys.snapshot().is_empty() {
                seeded?;
            }
        }
        let ring = &self.config().platform_keys;
        let keys = ring.snapshot();
        let (_, key) = ring.encryption_key(&keys, timestamp()).ok_or_else(|| {
            Error::config(
                "encrypting a sensitive field needs a platform key: add one with \
                 ClientBuilder::platform_key or ClientBuilder::platform_certificate (in \
                 automatic mode, the first request downloads them: send one first, or call \
                 Client::refresh_certificates_async)",
            )
        })?;
        key.encrypt_oaep(plaintext.as_bytes())
    }

    /// Decrypts a sensitive field of an answer (base64 RSA-OAEP, SHA-1, MGF1-SHA-1) with the
    /// merchant private key.
    ///
    /// # Errors
    ///
    /// * [`ErrorKind::Config`](crate::ErrorKind::Config) when the client has no merchant
    ///   private key (only a custom [`Signer`](crate::Signer)).
    /// * [`ErrorKind::Decode`](crate::ErrorKind::Decode) for bad base64, or a plaintext that
    ///   is not UTF-8.
    /// * [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) when it does not decrypt with the
    ///   merchant key (it was encrypted for another key).
    pub fn decrypt(&self, ciphertext_base64: &str) -> Result<String> {
        let key = self.config().private_key.as_ref().ok_or_else(|| {
            Error::config(
                "decrypting a sensitive field needs the merchant private key: set it with \
                 ClientBuilder::private_key (a custom signer cannot decrypt)",
            )
        })?;
        let plaintext = key.decrypt_oaep(ciphertext_base64)?;
        String::from_utf8(plaintext).map_err(|e| {
            Error::decode("the decrypted sensitive field is not UTF-8 text").with_source(e)
        })
    }

    /// The `Wechatpay-Serial` this client sends with every APIv3 request that does not set
    /// one itself: the id of the preferred platform key, the one [`Client::encrypt`] uses.
    ///
    /// With a WeChat Pay public key configured it is its `PUB_KEY_ID_…`, which also asks
    /// WeChat Pay to sign its answers with that key during a migration from platform
    /// certificates; else the newest valid platform certificate's serial. While a rollout
    /// names the public key on less than every request
    /// ([`ClientBuilder::public_key_rollout`](crate::ClientBuilder::public_key_rollout)) it
    /// is the certificate's, which requests carrying encrypted fields name. Empty while there
    /// is no platform key yet (automatic mode before its first download).
    pub fn wechatpay_serial(&self) -> String {
        let ring = &self.config().platform_keys;
        ring.encryption_key(&ring.snapshot(), timestamp())
            .map(|(id, _)| id.to_owned())
            .unwrap_or_default()
    }
}

/// Platform keys (平台证书, 微信支付公钥).
impl Client {
    /// Which platform key verified how many answers and notifications, since the client was
    /// built, in the order of first use: during a migration from platform certificates to
    /// the WeChat Pay public key, the certificate's `last_used` stops moving while the
    /// `PUB_KEY_ID_…`'s climbs.
    pub fn key_usage(&self) -> Vec<KeyUsage> {
        self.config().platform_keys.usage_report()
    }

    /// Downloads the platform certificates (`GET v3/certificates`) and returns those still
    /// valid, verified as [`v3::certificates::verify_download`](crate::v3::certificates::verify_download)
    /// describes (the certificates are only trusted because they decrypt under the APIv3
    /// key). The client's keys are left as they are; [`Client::refresh_certificates`]
    /// installs them.
    ///
    /// ```
    /// use wechatpay::mock::{self, MockServer, Signing};
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let mock = MockServer::start()?;
    /// mock.sign_answers_with(Signing::Certificate);
    /// let client = mock.certificate_client_builder().build()?;
    /// let certificates = client.download_certificates()?;
    /// assert_eq!(certificates[0].serial(), mock::PLATFORM_CERTIFICATE_SERIAL);
    /// assert!(certificates[0].pem().starts_with("-----BEGIN CERTIFICATE-----"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] without an APIv3 key; transport errors and timeouts; an
    /// [`ErrorKind::Api`] error for an error status (`404 RESOURCE_NOT_EXISTS`: this
    /// merchant uses the WeChat Pay public key and has no certificate); otherwise as
    /// [`verify_download`](crate::v3::certificates::verify_download). Nothing of a failed
    /// download is trusted.
    #[cfg(feature = "blocking")]
    pub fn download_certificates(&self) -> Result<Vec<PlatformCertificate>> {
        self.shared
            .runtime
            .block_on(|placement| refresh::fetch(self.shared.clone(), placement, false))
    }

    /// [`Client::download_certificates`] as a `Send + 'static` future (its I/O runs on the
    /// tokio runtime that polls it, else on the client's runtime thread).
    ///
    /// # Errors
    ///
    /// As [`Client::download_certificates`].
    pub fn download_certificates_async(
        &self,
    ) -> impl Future<Output = Result<Vec<PlatformCertificate>>> + Send + 'static {
        refresh::fetch(self.shared.clone(), Placement::Caller, false)
    }

    /// Downloads the platform certificates as [`Client::download_certificates`] does, then
    /// trusts them beside the configured keys (replacing earlier downloads) and, in
    /// automatic mode with a [`KeyStore`](crate::KeyStore), saves them. Works on any client
    /// with an APIv3 key; automatic mode does it by itself.
    ///
    /// # Errors
    ///
    /// As [`Client::download_certificates`]; the keys are left as they were. A store that
    /// cannot save is an error too, after the keys were installed.
    #[cfg(feature = "blocking")]
    pub fn refresh_certificates(&self) -> Result<Vec<PlatformCertificate>> {
        self.shared
            .runtime
            .block_on(|placement| refresh::fetch(self.shared.clone(), placement, true))
    }

    /// [`Client::refresh_certificates`] as a `Send + 'static` future.
    ///
    /// # Errors
    ///
    /// As [`Client::refresh_certificates`].
    pub fn refresh_certificates_async(
        &self,
    ) -> impl Future<Output = Result<Vec<PlatformCertificate>>> + Send + 'static {
        refresh::fetch(self.shared.clone(), Placement::Caller, true)
    }
}

/// The network: where requests go, and whether a domain can be reached.
impl Client {
    /// Where the client's requests go now: the base URI, the backup domain and whether
    /// requests use it, and the proxy.
    ///
    /// ```
    /// use wechatpay::Client;
    /// # use wechatpay::mock::MockServer;
    /// # fn main() -> wechatpay::Result<()> {
    /// # let mock = MockServer::start()?;
    /// let client = mock.client_builder().base_uri("https://api.mch.weixin.qq.com/").no_proxy().build()?;
    /// let network = client.network();
    /// assert_eq!(network.backup_base_uri.as_deref(), Some("https://api2.mch.weixin.qq.com/"));
    /// assert_eq!(network.active_base_uri(), "https://api.mch.weixin.qq.com/");
    /// assert_eq!(network.proxy, None);
    /// # Ok(())
    /// # }
    /// ```
    pub fn network(&self) -> NetworkStatus {
        let config = self.config();
        let base_uri = config.base_uri.to_uri_string();
        let proxy = self.shared.https.as_ref().and_then(|https| {
            let uri = http::Uri::try_from(base_uri.as_str()).ok()?;
            https.proxy_for(&uri)
        });
        NetworkStatus {
            base_uri,
            backup_base_uri: config.backup_base_uri.as_ref().map(BaseUri::to_uri_string),
            on_backup: self
                .shared
                .failover
                .as_ref()
                .is_some_and(|failover| failover.on_backup()),
            proxy,
        }
    }

    /// Checks that the origin of `base_uri` can be reached, as the client probes its primary
    /// domain while on the backup: a TCP connection and the TLS handshake (through the proxy,
    /// when there is one), then closed; no request is sent.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`] for a URI that is not absolute `http(s)`; else the
    /// connection's error ([`Error::is_connect`] is true: nothing was sent).
    #[cfg(feature = "blocking")]
    pub fn probe(&self, base_uri: &str) -> Result<()> {
        self.shared
            .runtime
            .block_on(|placement| self.probe_placed(base_uri, placement))
    }

    /// [`Client::probe`] as a `Send + 'static` future.
    ///
    /// # Errors
    ///
    /// As [`Client::probe`].
    pub fn probe_async(&self, base_uri: &str) -> impl Future<Output = Result<()>> + Send + 'static {
        self.probe_placed(base_uri, Placement::Caller)
    }

    fn probe_placed(
        &self,
        base_uri: &str,
        placement: Placement,
    ) -> impl Future<Output = Result<()>> + Send + 'static {
        let shared = self.shared.clone();
        let origin = BaseUri::parse(base_uri).and_then(|base| {
            http::Uri::try_from(base.origin()).map_err(|e| {
                Error::invalid(format!("`{base_uri}` has no usable origin")).with_source(e)
            })
        });
        async move {
            let origin = origin?;
            let transport = shared.transport.clone();
            shared
                .runtime
                .placed(placement, async move { transport.probe(&origin).await })
                .await
        }
    }
}

/// Invoking payment on the client (调起支付).
impl Client {
    /// The signed parameters of a JSAPI or mini-program payment for `prepay_id`, with the
    /// current time and a fresh 32-character nonce; see [`paysign::jsapi`].
    ///
    /// ```
    /// # fn main() -> wechatpay::Result<()> {
    /// # let mock = wechatpay::mock::MockServer::start()?;
    /// # let client = mock.client_builder().build()?;
    /// let params = client.jsapi_params("wxd678efh567hg6787", "wx201410272009395522657a690389285100")?;
    /// let for_the_page = serde_json::to_string(&params).expect("serialisable");
    /// assert!(for_the_page.contains("\"paySign\":"));
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// As [`paysign::jsapi`].
    pub fn jsapi_params(&self, appid: &str, prepay_id: &str) -> Result<JsapiParams> {
        let nonce = nonce(32)?;
        paysign::jsapi(
            self.config().signer.as_ref(),
            appid,
            prepay_id,
            &timestamp().to_string(),
            &nonce,
        )
    }

    /// The signed parameters of an APP payment for `prepay_id`, with this client's merchant
    /// id as `partnerid`, the current time and a fresh 32-character nonce; see [`paysign::app`] (which
    /// a service provider calls with the `sub_mchid`).
    ///
    /// # Errors
    ///
    /// As [`paysign::app`].
    pub fn app_params(&self, appid: &str, prepay_id: &str) -> Result<AppParams> {
        let nonce = nonce(32)?;
        let config = self.config();
        paysign::app(
            config.signer.as_ref(),
            appid,
            &config.mchid,
            prepay_id,
            &timestamp().to_string(),
            &nonce,
        )
    }
}
