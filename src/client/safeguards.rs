//! The builder settings of a client in production: the guard against plain-text sensitive
//! fields, and the asynchronous signer.

use std::sync::Arc;

use super::builder::ClientBuilder;
use crate::crypto::AsyncSigner;

/// What [`ClientBuilder`] records for the settings of this file.
#[derive(Default)]
pub(super) struct Safeguards {
    pub allow_plaintext: bool,
    pub async_signer: Option<Arc<dyn AsyncSigner>>,
}

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
}
