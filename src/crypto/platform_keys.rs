//! The platform keys a client trusts, by the id WeChat Pay puts in `Wechatpay-Serial`.

use super::keys::{Certificate, PublicKey};

/// The id prefix of a WeChat Pay public key (微信支付公钥).
pub const PUBLIC_KEY_ID_PREFIX: &str = "PUB_KEY_ID_";

/// When a platform certificate may be used, in Unix seconds (both ends included): its own
/// `notBefore` / `notAfter`, narrowed by the `effective_time` / `expire_time` WeChat Pay lists
/// it with when it was downloaded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Validity {
    /// The first second it is valid.
    pub not_before: u64,
    /// The last second it is valid.
    pub not_after: u64,
}

impl Validity {
    /// Whether `now` (Unix seconds) is within it.
    pub fn contains(&self, now: u64) -> bool {
        self.not_before <= now && now <= self.not_after
    }

    /// Whether `now` is within it, give or take `slack` seconds (a clock that is off).
    pub(crate) fn contains_within(&self, now: u64, slack: u64) -> bool {
        self.not_before.saturating_sub(slack) <= now && now <= self.not_after.saturating_add(slack)
    }
}

/// What [`PlatformKeys::usable`] found for an id.
#[derive(Debug)]
pub(crate) enum Usable<'k> {
    /// The key, under its configured id: valid now (or without a known validity).
    Key(&'k str, &'k PublicKey),
    /// No key has that id.
    Unknown,
    /// The key's validity does not include now: it verifies nothing.
    OutsideValidity(Validity),
}

/// The platform keys a client trusts, by the id WeChat Pay puts in `Wechatpay-Serial`.
///
/// An id is a platform-certificate serial (upper-case hex) or a WeChat Pay public-key id
/// (`PUB_KEY_ID_…`); both kinds can be present at once during a migration. Lookups are exact
/// and case-sensitive. A platform certificate may carry its [`Validity`]; a public key never
/// expires.
#[derive(Clone, Debug, Default)]
pub struct PlatformKeys {
    keys: Vec<Entry>,
}

#[derive(Clone, Debug)]
struct Entry {
    id: String,
    key: PublicKey,
    validity: Option<Validity>,
}

impl PlatformKeys {
    /// No keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds (or replaces) the key for `id`, with no known validity.
    pub fn insert(&mut self, id: impl Into<String>, key: PublicKey) {
        self.put(id.into(), key, None);
    }

    /// Adds (or replaces) the key of a platform certificate, `id` being its serial, valid
    /// during `validity`.
    pub fn insert_with_validity(
        &mut self,
        id: impl Into<String>,
        key: PublicKey,
        validity: Validity,
    ) {
        self.put(id.into(), key, Some(validity));
    }

    /// Adds (or replaces) a platform certificate: its serial, its key and its own validity.
    pub fn insert_certificate(&mut self, certificate: &Certificate) {
        let validity = Validity {
            not_before: certificate.not_before(),
            not_after: certificate.not_after(),
        };
        self.put(
            certificate.serial().to_owned(),
            certificate.public_key().clone(),
            Some(validity),
        );
    }

    fn put(&mut self, id: String, key: PublicKey, validity: Option<Validity>) {
        match self.keys.iter_mut().find(|entry| entry.id == id) {
            Some(entry) => {
                entry.key = key;
                entry.validity = validity;
            }
            None => self.keys.push(Entry { id, key, validity }),
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
            .find(|entry| entry.id == id)
            .map(|entry| (entry.id.as_str(), &entry.key))
    }

    /// The key for `id` if it may verify at `now` (Unix seconds), give or take `slack`
    /// seconds: a platform certificate only within its validity; a key without one (a
    /// `PUB_KEY_ID_…`, a key given with [`PlatformKeys::insert`]) always.
    pub(crate) fn usable(&self, id: &str, now: u64, slack: u64) -> Usable<'_> {
        let Some(entry) = self.keys.iter().find(|entry| entry.id == id) else {
            return Usable::Unknown;
        };
        match entry.validity {
            Some(validity) if !validity.contains_within(now, slack) => {
                Usable::OutsideValidity(validity)
            }
            _ => Usable::Key(entry.id.as_str(), &entry.key),
        }
    }

    /// The validity of the certificate `id`, when known (`None` for public keys and for keys
    /// given without one).
    pub fn validity(&self, id: &str) -> Option<Validity> {
        self.keys
            .iter()
            .find(|entry| entry.id == id)
            .and_then(|entry| entry.validity)
    }

    /// The configured ids, in the order they were added.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.keys.iter().map(|entry| entry.id.as_str())
    }

    /// How many keys there are.
    pub fn len(&self) -> usize {
        self.keys.len()
    }

    /// Whether no key is configured.
    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }

    /// The key to encrypt sensitive fields with at `now` (Unix seconds), whose id every APIv3
    /// request names in `Wechatpay-Serial` ([`Client::encrypt`](crate::Client::encrypt),
    /// [`Client::wechatpay_serial`](crate::Client::wechatpay_serial)):
    ///
    /// 1. the first WeChat Pay public key (`PUB_KEY_ID_…`): once configured, a migration
    ///    from certificates moves to it;
    /// 2. else the newest platform certificate valid at `now` (the latest `notAfter`, then
    ///    the latest `notBefore`): during a rotation, the new one as soon as it is listed;
    /// 3. else the first key whose validity is unknown (given with
    ///    [`PlatformKeys::insert`]);
    /// 4. else the first key.
    pub fn preferred(&self, now: u64) -> Option<(&str, &PublicKey)> {
        let public_key = || {
            self.keys
                .iter()
                .find(|entry| entry.id.starts_with(PUBLIC_KEY_ID_PREFIX))
        };
        public_key()
            .map(|entry| (entry.id.as_str(), &entry.key))
            .or_else(|| self.preferred_certificate(now))
    }

    /// [`PlatformKeys::preferred`] among the keys that are not a WeChat Pay public key (steps
    /// 2 to 4): the certificate a request names while a migration to the public key is only
    /// partly rolled out.
    pub(crate) fn preferred_certificate(&self, now: u64) -> Option<(&str, &PublicKey)> {
        let certificates = || {
            self.keys
                .iter()
                .filter(|entry| !entry.id.starts_with(PUBLIC_KEY_ID_PREFIX))
        };
        let newest_valid = || {
            certificates()
                .filter_map(|entry| Some((entry, entry.validity?)))
                .filter(|(_, validity)| validity.contains(now))
                .max_by_key(|(_, validity)| (validity.not_after, validity.not_before))
                .map(|(entry, _)| entry)
        };
        let undated = || certificates().find(|entry| entry.validity.is_none());
        newest_valid()
            .or_else(undated)
            .or_else(|| certificates().next())
            .map(|entry| (entry.id.as_str(), &entry.key))
    }

    /// These keys, then those of `other` whose ids are not here yet.
    pub(crate) fn merged_with(&self, other: &PlatformKeys) -> PlatformKeys {
        let mut merged = self.clone();
        for entry in &other.keys {
            if merged.get(&entry.id).is_none() {
                merged.keys.push(entry.clone());
            }
        }
        merged
    }
}

#[cfg(all(test, any(feature = "aws-lc", feature = "rustcrypto")))]
mod tests {
    use super::*;

    const PUB: &str = include_str!("../mock/platform_pub.pem");

    fn key() -> PublicKey {
        PublicKey::from_pem(PUB).expect("the mock key parses")
    }

    fn dated(keys: &mut PlatformKeys, id: &str, not_before: u64, not_after: u64) {
        let validity = Validity {
            not_before,
            not_after,
        };
        keys.insert_with_validity(id, key(), validity);
    }

    #[test]
    fn the_newest_valid_certificate_is_preferred_until_a_public_key_appears() {
        let mut keys = PlatformKeys::new();
        assert!(keys.preferred(100).is_none());
        dated(&mut keys, "OLD", 0, 1000);
        dated(&mut keys, "NEW", 500, 2000);
        dated(&mut keys, "FUTURE", 3000, 9000);
        let preferred = |keys: &PlatformKeys, now| keys.preferred(now).map(|(id, _)| id.to_owned());
        assert_eq!(preferred(&keys, 100).as_deref(), Some("OLD"));
        assert_eq!(preferred(&keys, 600).as_deref(), Some("NEW"));
        assert_eq!(
            preferred(&keys, 2500).as_deref(),
            Some("OLD"),
            "none valid: the first"
        );
        keys.insert("UNDATED", key());
        assert_eq!(preferred(&keys, 2500).as_deref(), Some("UNDATED"));
        assert_eq!(preferred(&keys, 600).as_deref(), Some("NEW"));
        keys.insert("PUB_KEY_ID_0001", key());
        assert_eq!(preferred(&keys, 600).as_deref(), Some("PUB_KEY_ID_0001"));
        assert_eq!(keys.validity("NEW").map(|v| v.not_after), Some(2000));
        assert_eq!(keys.validity("PUB_KEY_ID_0001"), None);
    }

    #[test]
    fn a_key_is_usable_only_within_its_validity() {
        let mut keys = PlatformKeys::new();
        dated(&mut keys, "CERT", 1000, 2000);
        keys.insert("PUB_KEY_ID_0001", key());
        let usable = |id, now| matches!(keys.usable(id, now, 300), Usable::Key(..));
        assert!(usable("CERT", 1500) && usable("CERT", 700) && usable("CERT", 2300));
        assert!(!usable("CERT", 699) && !usable("CERT", 2301));
        assert!(matches!(
            keys.usable("CERT", 5000, 300),
            Usable::OutsideValidity(Validity {
                not_before: 1000,
                not_after: 2000
            })
        ));
        assert!(usable("PUB_KEY_ID_0001", u64::MAX));
        assert!(matches!(keys.usable("NONE", 1500, 300), Usable::Unknown));
    }

    #[test]
    fn merging_keeps_the_first_sets_keys() {
        let mut configured = PlatformKeys::new();
        configured.insert("A", key());
        let mut downloaded = PlatformKeys::new();
        dated(&mut downloaded, "A", 0, 10);
        dated(&mut downloaded, "B", 0, 10);
        let merged = configured.merged_with(&downloaded);
        assert_eq!(merged.ids().collect::<Vec<_>>(), ["A", "B"]);
        assert_eq!(
            merged.validity("A"),
            None,
            "the configured entry stays as given"
        );
        assert_eq!(merged.len(), 2);
    }
}
