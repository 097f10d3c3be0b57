//! Sensitive fields (敏感信息加解密): names, ID numbers, bank accounts, phone numbers.
//!
//! Up: each field is encrypted with RSA-OAEP (SHA-1, MGF1-SHA-1) under a WeChat Pay platform
//! key, and the request names that key in `Wechatpay-Serial`. The client sends
//! `Wechatpay-Serial: <id of PlatformKeys::preferred()>` with every APIv3 request that does not
//! set the header itself, and [`Client::encrypt`] uses that same key, so the two always match.
//!
//! Down: fields in answers are encrypted with the merchant's public key;
//! [`Client::decrypt`] opens them with the merchant private key.

use crate::client::Client;
use crate::error::{Error, Result};

impl Client {
    /// Encrypts a sensitive field for a request: base64 of RSA-OAEP (SHA-1, MGF1-SHA-1) under
    /// the preferred platform key ([`PlatformKeys::preferred`](crate::verify::PlatformKeys::preferred):
    /// a `PUB_KEY_ID_…` if one is configured, else the first platform certificate).
    ///
    /// The request then needs `Wechatpay-Serial` set to that key's id, which the client adds
    /// by itself (see [`Client::wechatpay_serial`]); do not set another one.
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
    /// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) if the backend fails.
    pub fn encrypt(&self, plaintext: &str) -> Result<String> {
        let (_, key) = self.config().platform_keys.preferred().ok_or_else(|| {
            Error::config(
                "encrypting a sensitive field needs a platform key: add one with \
                 ClientBuilder::platform_key or ClientBuilder::platform_certificate",
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
    /// certificates.
    pub fn wechatpay_serial(&self) -> &str {
        self.config()
            .platform_keys
            .preferred()
            .map(|(id, _)| id)
            .unwrap_or_default()
    }
}
