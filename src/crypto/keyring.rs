//! The live key ring of a client: the platform keys it trusts right now (the configured
//! ones beside the downloaded ones), swapped atomically, and which of them verified what.
//!
//! No I/O and no clock here: the shell downloads, and passes the time in.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, RwLock};

use super::keys::PublicKey;
use super::platform_keys::{PUBLIC_KEY_ID_PREFIX, PlatformKeys};

/// [`KeyRing::rollout`] when none is set.
const NO_ROLLOUT: u8 = u8::MAX;

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
    /// The share of requests (in percent) that name the WeChat Pay public key while a
    /// migration is rolled out; [`NO_ROLLOUT`]: every request names it.
    rollout: AtomicU8,
    /// Requests drawn for the rollout so far (the draw is a stride, not a coin).
    drawn: AtomicU64,
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
            rollout: AtomicU8::new(NO_ROLLOUT),
            drawn: AtomicU64::new(0),
        }
    }

    /// Names the public key on `percent` % of requests from now on (at most 100); `None`:
    /// on every request, as without a rollout.
    pub(crate) fn set_rollout(&self, percent: Option<u8>) {
        let share = percent.map_or(NO_ROLLOUT, |percent| percent.min(100));
        self.rollout.store(share, Ordering::Relaxed);
    }

    /// The share of requests that name the public key, in percent, while a rollout is set.
    pub(crate) fn rollout(&self) -> Option<u8> {
        match self.rollout.load(Ordering::Relaxed) {
            NO_ROLLOUT => None,
            share => Some(share),
        }
    }

    /// The platform key a request at `now` names in `Wechatpay-Serial` (so the key WeChat
    /// Pay signs its answer with): [`PlatformKeys::preferred`], except while a migration to
    /// the public key is rolled out (a share below 100 %, a certificate beside the public
    /// key): then the public key on that share of requests, spread evenly (request `n` names
    /// it when `⌊(n + 1)·share/100⌋ > ⌊n·share/100⌋`), and the certificate on the others and
    /// on every request that carries `encrypted` fields (encrypted with
    /// [`KeyRing::encryption_key`], which WeChat Pay decrypts with the key named).
    pub(crate) fn request_key<'k>(
        &self,
        keys: &'k PlatformKeys,
        now: u64,
        encrypted: bool,
    ) -> Option<&'k str> {
        let (preferred, _) = keys.preferred(now)?;
        let Some(share) = self.rollout() else {
            return Some(preferred);
        };
        let certificate = match keys.preferred_certificate(now) {
            Some((id, _)) if share < 100 && preferred.starts_with(PUBLIC_KEY_ID_PREFIX) => id,
            _ => return Some(preferred),
        };
        if encrypted {
            return Some(certificate);
        }
        let n = self.drawn.fetch_add(1, Ordering::Relaxed);
        let share = u64::from(share);
        let public = (n % 100 + 1) * share / 100 > (n % 100) * share / 100;
        Some(if public { preferred } else { certificate })
    }

    /// The key sensitive fields are encrypted with at `now`: [`PlatformKeys::preferred`],
    /// or the certificate while a rollout names the public key on less than every request.
    pub(crate) fn encryption_key<'k>(
        &self,
        keys: &'k PlatformKeys,
        now: u64,
    ) -> Option<(&'k str, &'k PublicKey)> {
        let preferred = keys.preferred(now)?;
        match self.rollout() {
            Some(share) if share < 100 && preferred.0.starts_with(PUBLIC_KEY_ID_PREFIX) => {
                keys.preferred_certificate(now).or(Some(preferred))
            }
            _ => Some(preferred),
        }
    }

    /// An answer to a request that named the public key was verified by `verified_by`, or,
    /// when `None`, failed verification under the public key. When that is not the public
    /// key during a rollout (WeChat Pay did not sign with it, or its signature stopped
    /// verifying), the rollout goes back to 0 % and `true` is returned: requests name the
    /// certificate again, and their answers keep verifying.
    pub(crate) fn public_key_answer(&self, verified_by: Option<&str>) -> bool {
        let kept = verified_by.is_some_and(|id| id.starts_with(PUBLIC_KEY_ID_PREFIX));
        if kept || self.rollout().is_none_or(|share| share == 0) {
            return false;
        }
        self.rollout.swap(0, Ordering::Relaxed) != 0
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

    #[test]
    fn a_rollout_names_the_public_key_on_its_share_and_rolls_back() {
        let key = PublicKey::from_pem(include_str!("../mock/platform_pub.pem")).expect("parses");
        let mut configured = PlatformKeys::new();
        configured.insert("PUB_KEY_ID_01", key.clone());
        let validity = crate::crypto::Validity {
            not_before: 0,
            not_after: 100,
        };
        configured.insert_with_validity("CERT", key, validity);
        let ring = KeyRing::new(configured);
        let keys = ring.snapshot();
        assert_eq!(ring.request_key(&keys, 10, false), Some("PUB_KEY_ID_01"));
        ring.set_rollout(Some(30));
        let named: Vec<&str> = (0..200)
            .filter_map(|_| ring.request_key(&keys, 10, false))
            .collect();
        let public = named
            .iter()
            .filter(|id| id.starts_with("PUB_KEY_ID_"))
            .count();
        assert_eq!(public, 60, "exactly the share, every 100 requests");
        assert_eq!(
            ring.request_key(&keys, 10, true),
            Some("CERT"),
            "encrypted fields"
        );
        assert_eq!(
            ring.encryption_key(&keys, 10).map(|(id, _)| id),
            Some("CERT")
        );

        assert!(!ring.public_key_answer(Some("PUB_KEY_ID_01")), "kept");
        assert!(ring.public_key_answer(Some("CERT")), "rolled back");
        assert_eq!(ring.rollout(), Some(0));
        assert!(!ring.public_key_answer(None), "once");
        ring.set_rollout(Some(250));
        assert_eq!(ring.rollout(), Some(100));
        assert_eq!(ring.request_key(&keys, 10, true), Some("PUB_KEY_ID_01"));
    }
}
