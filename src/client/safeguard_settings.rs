//! What [`ClientBuilder`](super::ClientBuilder) records for the settings of
//! [`safeguards`](super::safeguards) (apart from it, so that the builder does not import the
//! file that extends it).

use std::sync::Arc;

use crate::crypto::{AsyncSigner, DEFAULT_EXPIRY_WARNING_DAYS};

/// What [`ClientBuilder`](super::ClientBuilder) records for the settings of
/// [`safeguards`](super::safeguards).
pub(super) struct Safeguards {
    pub allow_plaintext: bool,
    pub async_signer: Option<Arc<dyn AsyncSigner>>,
    pub public_key_rollout: Option<u8>,
    /// The merchant certificate's serial and `notAfter`.
    pub merchant_certificate: Option<(String, u64)>,
    pub expiry_warning_days: u32,
}

impl Default for Safeguards {
    fn default() -> Self {
        Self {
            allow_plaintext: false,
            async_signer: None,
            public_key_rollout: None,
            merchant_certificate: None,
            expiry_warning_days: DEFAULT_EXPIRY_WARNING_DAYS,
        }
    }
}
