//! The mock's platform keys seen from outside: its own certificate download, and the
//! [`MockServer`] methods that switch the signing key, rotate, and forge downloads.

use bytes::Bytes;
use http::{HeaderMap, HeaderValue, Method};

use super::mock_server::{MockServer, client_builder_without_platform_keys};
use super::platform::{Forgery, Signing};
use super::rules::Reply;
use super::shared::Shared;
use super::signing::insert_signature_headers_by;
use crate::client::ClientBuilder;
use crate::error::Result;
use crate::v3::verify::HEADER_SERIAL;

/// The mock's own certificate download for `GET /v3/certificates` (when no rule answers it).
pub(super) fn builtin(shared: &Shared, method: &Method, path: &str) -> Option<Reply> {
    if method != Method::GET || path != "/v3/certificates" {
        return None;
    }
    Some(match shared.platform().listing() {
        Ok(listing) => Reply::json(200, listing),
        Err(e) => Reply::error(500, "SYSTEM_ERROR", &e.to_string()),
    })
}

/// The `Wechatpay-Serial` of a request, if any.
pub(super) fn request_serial(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(HEADER_SERIAL)
        .and_then(|value| value.to_str().ok())
}

/// Platform keys and certificates (the certificate mode, rotation, migration, forgeries).
impl MockServer {
    /// Which key signs the answers from now on ([`Signing::PublicKey`] unless set).
    ///
    /// ```
    /// use wechatpay::mock::{self, MockServer, Reply, Signing};
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let mock = MockServer::start()?;
    /// mock.sign_answers_with(Signing::Certificate);
    /// mock.on("GET", "/v3/merchant-service/complaints-v2", Reply::json(200, serde_json::json!({"data": []})));
    /// // No platform key configured: the first request downloads the certificates.
    /// let client = mock.certificate_client_builder().build()?;
    /// let res = client["v3/merchant-service/complaints-v2"].get(())?;
    /// assert_eq!(res.verified_by(), mock::PLATFORM_CERTIFICATE_SERIAL);
    /// # Ok(())
    /// # }
    /// ```
    pub fn sign_answers_with(&self, signing: Signing) {
        self.shared.platform().set_signing(signing);
    }

    /// Rotates the platform certificate like WeChat Pay: the second certificate
    /// ([`PLATFORM_ROTATED_CERTIFICATE_SERIAL`](super::PLATFORM_ROTATED_CERTIFICATE_SERIAL),
    /// with a key of its own) is listed beside the first, and the answers signed by a
    /// certificate ([`Signing::Certificate`], [`Signing::Migrating`]) are signed by it from
    /// now on.
    pub fn rotate_platform_certificate(&self) {
        self.shared.platform().rotate();
    }

    /// Ends a rotation: only the second certificate is listed from now on.
    pub fn retire_old_platform_certificate(&self) {
        self.shared.platform().retire_old();
    }

    /// Plays a forger from now on (`None`: WeChat Pay again): every certificate download is
    /// forged as `forgery` says, and every APIv3 answer is signed by the forger's key.
    pub fn forge_certificate_downloads(&self, forgery: Option<Forgery>) {
        self.shared.platform().set_forgery(forgery);
    }

    /// What `GET /v3/certificates` would answer now: the headers (signed now, by the key of
    /// [`MockServer::sign_answers_with`], or the forger's) and the body. Register it with a
    /// delay or a fault as any reply (`Reply::status(200).body(body)`), or hand it to
    /// [`v3::certificates::verify_download`](crate::v3::certificates::verify_download).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) if the system has no randomness.
    pub fn certificate_download(&self) -> Result<(HeaderMap, Bytes)> {
        let (listing, key) = {
            let platform = self.shared.platform();
            (platform.listing()?, platform.answer_key(None))
        };
        let body = Bytes::from(listing.to_string());
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        insert_signature_headers_by(&self.shared, &key, &body, None, &mut headers);
        Ok((headers, body))
    }

    /// A builder for a merchant on platform certificates: like
    /// [`MockServer::client_builder`] but with no platform key and
    /// [`auto_certificates`](crate::ClientBuilder::auto_certificates) on. Pair it with
    /// [`Signing::Certificate`] (or [`Signing::Migrating`]): the mock's default public-key
    /// answers name a key such a client does not know.
    pub fn certificate_client_builder(&self) -> ClientBuilder {
        client_builder_without_platform_keys(&self.uri()).auto_certificates()
    }
}
