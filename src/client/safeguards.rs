//! The settings of a client in production: the guard against plain-text sensitive fields,
//! the asynchronous signer, the rollout of the WeChat Pay public key, and the expiry
//! warnings.

use std::sync::Arc;

use super::builder::ClientBuilder;
use super::handle::Client;
#[cfg(doc)]
use crate::crypto::DEFAULT_EXPIRY_WARNING_DAYS;
use crate::crypto::{AsyncSigner, Certificate, Expiring};
use crate::future::expiry;
use crate::toolkit::timestamp;

impl ClientBuilder {
    /// Lets the fields WeChat Pay's docs mark encrypted hold plain text in every call of
    /// this client (per call: [`Options::allow_plaintext`](crate::Options::allow_plaintext)).
    ///
    /// Without it, a request to a documented operation whose encrypted field (`user_name`
    /// of a transfer, `id_card_number`, `contact_*`, …) holds plain text is refused before
    /// anything is sent, naming the field: encrypt it with
    /// [`Client::encrypt`](crate::Client::encrypt). A value counts as encrypted when it is
    /// base64 of at least one RSA-2048 block (256 bytes, 344 characters); an empty string or
    /// `null` passes. For a test server that takes test values as they are.
    pub fn allow_plaintext(mut self) -> Self {
        self.safeguards.allow_plaintext = true;
        self
    }

    /// Signs requests with `signer`, awaited (a KMS, an HSM:
    /// [`Pkcs11Signer`](crate::pkcs11::Pkcs11Signer) with feature `pkcs11`): a request's
    /// future waits for its signature without holding its thread, so requests in flight
    /// wait for their signatures together. Every try of a request is signed by it.
    ///
    /// What must be signed at once (the pay-sign parameters of
    /// [`Client::jsapi_params`](crate::Client::jsapi_params), [`Chain::build_request`](crate::Chain::build_request))
    /// is signed by the [`signer`](Self::signer) or [`private_key`](Self::private_key) when
    /// one is given too, else by this signer with the calling thread waiting (feature
    /// `blocking`).
    pub fn async_signer(mut self, signer: impl AsyncSigner) -> Self {
        self.safeguards.async_signer = Some(Arc::new(signer));
        self
    }

    /// Migrates to the WeChat Pay public key (微信支付公钥) on `percent` % of requests (0 to
    /// 100; more counts as 100), the merchant side of WeChat Pay's gradual switch (灰度) from
    /// platform certificates: with both a `PUB_KEY_ID_…` and a platform certificate
    /// configured, that share of APIv3 requests names the public key in `Wechatpay-Serial`
    /// (WeChat Pay then signs their answers with it), spread evenly, and the others the
    /// certificate. Without a rollout every request names the public key as soon as one is
    /// configured.
    ///
    /// * [`Client::key_usage`](crate::Client::key_usage) shows it: the public key verifies
    ///   that share of the answers.
    /// * While the share is below 100 %, sensitive fields are encrypted with the certificate
    ///   ([`Client::encrypt`](crate::Client::encrypt)) and a request carrying such a field
    ///   (one the docs mark encrypted) names the certificate. A call the endpoint catalog
    ///   does not know that carries one should set `Wechatpay-Serial` itself, to
    ///   [`Client::wechatpay_serial`](crate::Client::wechatpay_serial).
    /// * **Rolled back by itself**: when an answer to a request that named the public key is
    ///   verified by the certificate instead (WeChat Pay does not sign with the public key
    ///   for this merchant yet, or no longer), or fails verification under the public key,
    ///   the share goes to 0 % (a `tracing` warning says so); the answer itself is accepted
    ///   when the certificate verified it, so no request fails for it.
    ///   [`Client::set_public_key_rollout`] starts again.
    pub fn public_key_rollout(mut self, percent: u8) -> Self {
        self.safeguards.public_key_rollout = Some(percent.min(100));
        self
    }

    /// The merchant API certificate (`apiclient_cert.pem`), so that the client warns before
    /// it expires (it lasts five years). The certificate of
    /// [`merchant_identity`](Self::merchant_identity) is watched without this.
    pub fn merchant_certificate(mut self, certificate: &Certificate) -> Self {
        self.safeguards.merchant_certificate =
            Some((certificate.serial().to_owned(), certificate.not_after()));
        self
    }

    /// How many days before the merchant certificate or the newest platform certificate
    /// expires the client warns ([`DEFAULT_EXPIRY_WARNING_DAYS`], 30, unless set): a
    /// `tracing` warning when the client is built and then once a day, and
    /// [`Client::expiring`] (which `wechatpay doctor` shows).
    pub fn expiry_warning_days(mut self, days: u32) -> Self {
        self.safeguards.expiry_warning_days = days;
        self
    }
}

/// Expiry warnings.
impl Client {
    /// The certificates that expire within the warning window
    /// ([`ClientBuilder::expiry_warning_days`], 30 days unless set): the merchant API
    /// certificate when the client was given it
    /// ([`ClientBuilder::merchant_certificate`], [`ClientBuilder::merchant_identity`]), and
    /// the newest platform certificate (WeChat Pay public keys never expire). Each one's
    /// `Display` says what to do.
    pub fn expiring(&self) -> Vec<Expiring> {
        expiry::soon(self.config(), timestamp())
    }

    /// Warns (`tracing`) of each certificate that expires soon.
    pub(super) fn warn_of_expiry(&self) {
        self.shared.expiry.watch(self.config(), timestamp());
    }
}

/// The rollout of the WeChat Pay public key.
impl Client {
    /// The share of APIv3 requests that name the WeChat Pay public key, in percent, when a
    /// rollout is set ([`ClientBuilder::public_key_rollout`]); `Some(0)` after an automatic
    /// rollback.
    pub fn public_key_rollout(&self) -> Option<u8> {
        self.config().platform_keys.rollout()
    }

    /// Sets the share of APIv3 requests that name the WeChat Pay public key (0 to 100 %; see
    /// [`ClientBuilder::public_key_rollout`]), for every clone of this client: raise it step
    /// by step, or try again after a rollback.
    pub fn set_public_key_rollout(&self, percent: u8) {
        self.config().platform_keys.set_rollout(Some(percent));
    }
}
