//! The builder settings of a client in production: the guard against plain-text sensitive
//! fields.

use super::builder::ClientBuilder;

/// What [`ClientBuilder`] records for the settings of this file.
#[derive(Default)]
pub(super) struct Safeguards {
    pub allow_plaintext: bool,
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
}
