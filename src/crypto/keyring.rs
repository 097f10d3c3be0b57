//! The platform keys a client trusts, by the id WeChat Pay puts in `Wechatpay-Serial`.

use super::keys::PublicKey;

/// The platform keys a client trusts, by the id WeChat Pay puts in `Wechatpay-Serial`.
///
/// An id is a platform-certificate serial (upper-case hex) or a WeChat Pay public-key id
/// (`PUB_KEY_ID_…`); both kinds can be present at once during a migration. Lookups are exact
/// and case-sensitive.
#[derive(Clone, Debug, Default)]
pub struct PlatformKeys {
    keys: Vec<(String, PublicKey)>,
}

impl PlatformKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the key for `id`.
    pub fn insert(&mut self, id: impl Into<String>, key: PublicKey) {
        let id = id.into();
        match self.keys.iter_mut().find(|(known, _)| *known == id) {
            Some(slot) => slot.1 = key,
            None => self.keys.push((id, key)),
        }
    }

    /// The key for `id`, if configured.
    pub fn get(&self, id: &str) -> Option<&PublicKey> {
        self.entry(id).map(|(_, key)| key)
    }

    /// The configured id equal to `id` and its key.
    pub fn entry(&self, id: &str) -> Option<(&str, &PublicKey)> {
        self.keys
            .iter()
            .find(|(known, _)| known == id)
            .map(|(known, key)| (known.as_str(), key))
    }

    /// The configured ids, in the order they were added.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|(id, _)| id.as_str())
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The first configured key whose id starts with `PUB_KEY_ID_`, else the first key: the
    /// one [`Client::encrypt`](crate::Client::encrypt) encrypts sensitive fields with, and
    /// whose id every APIv3 request names in `Wechatpay-Serial`.
    pub fn preferred(&self) -> Option<(&str, &PublicKey)> {
        self.keys
            .iter()
            .find(|(id, _)| id.starts_with("PUB_KEY_ID_"))
            .or_else(|| self.keys.first())
            .map(|(id, key)| (id.as_str(), key))
    }
}
