//! The live key ring of a client: the platform keys it trusts right now (the configured
//! ones beside the downloaded ones), swapped atomically, and which of them verified what.
//!
//! No I/O and no clock here: the shell downloads, and passes the time in.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use super::platform_keys::PlatformKeys;

/// How often one platform key vouched for what a client received
/// ([`Client::key_usage`](crate::Client::key_usage)).
///
/// Counted since the client was built, across all its clones. During a migration from
/// platform certificates to the WeChat Pay public key, the certificate's `last_used` stops
/// moving while the `PUB_KEY_ID_…`'s climbs: the migration is complete for this client when
/// the certificate is no longer used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyUsage {
    /// The key id: a `PUB_KEY_ID_…` or a platform-certificate serial.
    pub id: String,
    /// How many APIv3 responses it verified.
    pub responses: u64,
    /// How many notifications it verified
    /// ([`Client::verify_notification`](crate::Client::verify_notification)).
    pub notifications: u64,
    /// When it first verified something, in Unix seconds.
    pub first_used: u64,
    /// When it last verified something, in Unix seconds.
    pub last_used: u64,
}

/// What a key verified.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Verified {
    Response,
    Notification,
}

/// The platform keys of a client, shared by its clones.
///
/// Readers take a [`KeyRing::snapshot`] and keep it for what they are doing (one request, one
/// notification), so a swap in between never mixes two rings; writers replace the
/// downloaded part as a whole.
pub(crate) struct KeyRing {
    configured: PlatformKeys,
    current: RwLock<Arc<PlatformKeys>>,
    usage: Mutex<Vec<KeyUsage>>,
}

fn recover<T>(result: Result<T, PoisonError<T>>) -> T {
    // A panic elsewhere cannot leave a half-written ring: every write is one assignment.
    result.unwrap_or_else(PoisonError::into_inner)
}

impl KeyRing {
    /// A ring holding the keys given to the builder.
    pub(crate) fn new(configured: PlatformKeys) -> Self {
        Self {
            current: RwLock::new(Arc::new(configured.clone())),
            configured,
            usage: Mutex::new(Vec::new()),
        }
    }

    /// The keys trusted right now.
    pub(crate) fn snapshot(&self) -> Arc<PlatformKeys> {
        recover(self.current.read()).clone()
    }

    /// Trusts `downloaded` beside the configured keys, replacing what was downloaded before
    /// (a configured key keeps its id). Returns the new ring.
    pub(crate) fn install(&self, downloaded: &PlatformKeys) -> Arc<PlatformKeys> {
        let ring = Arc::new(self.configured.merged_with(downloaded));
        *recover(self.current.write()) = ring.clone();
        ring
    }

    /// Counts that key `id` verified something at `now`.
    pub(crate) fn record(&self, id: &str, what: Verified, now: u64) {
        let mut usage = self.usage();
        let index = match usage.iter().position(|entry| entry.id == id) {
            Some(index) => index,
            None => {
                usage.push(KeyUsage {
                    id: id.to_owned(),
                    responses: 0,
                    notifications: 0,
                    first_used: now,
                    last_used: now,
                });
                usage.len() - 1
            }
        };
        let entry = &mut usage[index];
        match what {
            Verified::Response => entry.responses += 1,
            Verified::Notification => entry.notifications += 1,
        }
        entry.last_used = entry.last_used.max(now);
    }

    /// Every key that verified something, in the order of first use.
    pub(crate) fn usage_report(&self) -> Vec<KeyUsage> {
        self.usage().clone()
    }

    fn usage(&self) -> MutexGuard<'_, Vec<KeyUsage>> {
        recover(self.usage.lock())
    }
}

#[cfg(all(test, any(feature = "aws-lc", feature = "rustcrypto")))]
mod tests {
    use super::*;
    use crate::crypto::{PublicKey, Validity};

    #[test]
    fn installs_replace_the_downloaded_part_and_keep_the_configured_one() {
        let key = PublicKey::from_pem(include_str!("../mock/platform_pub.pem")).expect("parses");
        let mut configured = PlatformKeys::new();
        configured.insert("PUB_KEY_ID_01", key.clone());
        let ring = KeyRing::new(configured);
        let before = ring.snapshot();

        let validity = Validity {
            not_before: 0,
            not_after: 100,
        };
        let mut first = PlatformKeys::new();
        first.insert_with_validity("A", key.clone(), validity);
        ring.install(&first);
        let mut second = PlatformKeys::new();
        second.insert_with_validity("B", key, validity);
        ring.install(&second);

        assert_eq!(
            before.ids().collect::<Vec<_>>(),
            ["PUB_KEY_ID_01"],
            "snapshots stay"
        );
        assert_eq!(
            ring.snapshot().ids().collect::<Vec<_>>(),
            ["PUB_KEY_ID_01", "B"]
        );
    }

    #[test]
    fn usage_is_counted_per_key() {
        let ring = KeyRing::new(PlatformKeys::new());
        ring.record("A", Verified::Response, 10);
        ring.record("B", Verified::Notification, 11);
        ring.record("A", Verified::Response, 12);
        let report = ring.usage_report();
        assert_eq!(report.len(), 2);
        assert_eq!(
            (
                report[0].id.as_str(),
                report[0].responses,
                report[0].first_used,
                report[0].last_used
            ),
            ("A", 2, 10, 12)
        );
        assert_eq!((report[1].responses, report[1].notifications), (0, 1));
    }
}
