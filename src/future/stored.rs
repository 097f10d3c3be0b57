//! What a key store's set is worth to a refresh of automatic mode: whether it spares the
//! download the refresh was started for, and the certificates of it that may be used. Pure:
//! the clock and the ring's state are inputs.
//!
//! The rule that keeps a withdrawn certificate from coming back: a set is used only when it
//! is at least as new as the set the ring already holds, and when an answer names a serial
//! the ring does not know, only when it is strictly newer (another process downloaded after
//! this one did). A set older than the ring's is never installed over it.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::refresher::Reason;
use crate::crypto::Validity;
use crate::keystore::{StoredCertificate, StoredSet};
use crate::v3::certificates::PlatformCertificate;

/// A set stamped further in the future than this (a clock that is off) is not used: it would
/// look newer than every download for as long as it stays.
const FUTURE_SLACK_MS: u64 = 300_000;

/// What a loaded set is worth.
pub(super) struct Judged {
    /// Whether it spares the download.
    pub enough: bool,
    /// Its certificates that parse, match their serial and have not expired.
    pub usable: Vec<PlatformCertificate>,
    /// When it was downloaded, Unix milliseconds.
    pub downloaded_at_ms: u64,
}

/// The clock, for the rules below.
#[derive(Clone, Copy, Debug)]
pub(super) struct Moment {
    /// Now, Unix milliseconds.
    pub now_ms: u64,
    /// When the refresh started, Unix milliseconds.
    pub started_ms: u64,
    /// When the set the ring holds was downloaded (`0`: none was).
    pub ring_ms: u64,
}

/// Judges `set` for a refresh started for `reason`, with refreshes every `interval`.
///
/// * first download (`Seed`): a set downloaded within the interval, not older than the ring's;
/// * scheduled: a set downloaded within half the interval (so that each interval sees a
///   download by some process of the fleet), not older than the ring's;
/// * unknown serial: a set downloaded within the interval and **after** the ring's, that
///   lists the serial, or was downloaded after this refresh started (as new as a download
///   now would be, so a serial it lacks is not listed by WeChat Pay).
pub(super) fn judge(
    reason: &Reason,
    set: Option<&StoredSet>,
    interval: Duration,
    moment: Moment,
) -> Judged {
    let Some(set) = set else {
        return Judged {
            enough: false,
            usable: Vec::new(),
            downloaded_at_ms: 0,
        };
    };
    let at = set.downloaded_at_ms;
    let usable = if at > moment.now_ms.saturating_add(FUTURE_SLACK_MS) {
        Vec::new()
    } else {
        usable(&set.certificates, moment.now_ms / 1000)
    };
    let age = moment.now_ms.saturating_sub(at);
    let within = |limit: Duration| u128::from(age) < limit.as_millis();
    let enough = !usable.is_empty()
        && match reason {
            Reason::Seed => within(interval) && at >= moment.ring_ms,
            Reason::Scheduled => within(interval / 2) && at >= moment.ring_ms,
            Reason::UnknownSerial(serial) => {
                within(interval)
                    && at > moment.ring_ms
                    && (at >= moment.started_ms || usable.iter().any(|c| c.serial() == serial))
            }
        };
    Judged {
        enough,
        usable,
        downloaded_at_ms: at,
    }
}

/// The certificates of a set that parse, match their serial and have not expired at `now`
/// (Unix seconds).
fn usable(stored: &[StoredCertificate], now: u64) -> Vec<PlatformCertificate> {
    stored
        .iter()
        .filter_map(|kept| {
            let listed = Validity {
                not_before: kept.not_before,
                not_after: kept.not_after,
            };
            PlatformCertificate::from_pem(&kept.pem, Some(&kept.serial), listed).ok()
        })
        .filter(|certificate| now <= certificate.validity().not_after)
        .collect()
}

/// The complete set of a download, as a store keeps it.
pub(super) fn to_set(certificates: &[PlatformCertificate], downloaded_at_ms: u64) -> StoredSet {
    StoredSet {
        downloaded_at_ms,
        certificates: certificates
            .iter()
            .map(|certificate| StoredCertificate {
                serial: certificate.serial().to_owned(),
                pem: certificate.pem().to_owned(),
                not_before: certificate.validity().not_before,
                not_after: certificate.validity().not_after,
            })
            .collect(),
    }
}

/// Now, in Unix milliseconds.
pub(super) fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |since| {
            u64::try_from(since.as_millis()).unwrap_or(u64::MAX)
        })
}

#[cfg(all(test, any(feature = "aws-lc", feature = "rustcrypto")))]
mod tests {
    use super::*;

    const PEM: &str = include_str!("../mock/platform_cert.pem");
    const HOUR: u64 = 3_600_000;
    const INTERVAL: Duration = Duration::from_secs(12 * 3600);

    fn serial() -> String {
        crate::crypto::Certificate::from_pem(PEM)
            .expect("the mock certificate")
            .serial()
            .to_owned()
    }

    fn set(downloaded_at_ms: u64) -> StoredSet {
        StoredSet {
            downloaded_at_ms,
            certificates: vec![StoredCertificate {
                serial: serial(),
                pem: PEM.to_owned(),
                not_before: 0,
                not_after: u64::MAX,
            }],
        }
    }

    fn enough(reason: &Reason, at: u64, ring_ms: u64, started_ms: u64, now_ms: u64) -> bool {
        let moment = Moment {
            now_ms,
            started_ms,
            ring_ms,
        };
        judge(reason, Some(&set(at)), INTERVAL, moment).enough
    }

    #[test]
    fn an_older_set_never_replaces_the_rings() {
        let now = 100 * HOUR;
        let known = Reason::UnknownSerial(serial());
        let unknown = Reason::UnknownSerial("0123".to_owned());
        // The store holds the very set the ring downloaded, or an older one: download.
        assert!(!enough(&known, now - HOUR, now - HOUR, now, now));
        assert!(!enough(&known, now - 2 * HOUR, now - HOUR, now, now));
        // Newer, with the serial: used.
        assert!(enough(&known, now - HOUR, now - 2 * HOUR, now, now));
        // Newer, without the serial, but downloaded before this refresh: download.
        assert!(!enough(&unknown, now - HOUR, now - 2 * HOUR, now, now));
        // Downloaded after this refresh started: as good as a download.
        assert!(enough(&unknown, now, now - 2 * HOUR, now - 1, now));
        // Too old, or stamped in the future: never.
        assert!(!enough(&known, now - 13 * HOUR, 0, now, now));
        assert!(!enough(&known, now + 10 * 60_000, 0, now, now));
        // At start-up and on schedule, fresh enough and not older than the ring.
        assert!(enough(&Reason::Seed, now - 11 * HOUR, 0, now, now));
        assert!(!enough(&Reason::Seed, now - 13 * HOUR, 0, now, now));
        assert!(enough(
            &Reason::Scheduled,
            now - 5 * HOUR,
            now - 5 * HOUR,
            now,
            now
        ));
        assert!(!enough(
            &Reason::Scheduled,
            now - 5 * HOUR,
            now - 4 * HOUR,
            now,
            now
        ));
        assert!(!enough(&Reason::Scheduled, now - 7 * HOUR, 0, now, now));
    }

    #[test]
    fn nothing_saved_is_never_enough() {
        let moment = Moment {
            now_ms: HOUR,
            started_ms: HOUR,
            ring_ms: 0,
        };
        let judged = judge(&Reason::Seed, None, INTERVAL, moment);
        assert!(!judged.enough && judged.usable.is_empty());
        let empty = StoredSet {
            downloaded_at_ms: HOUR,
            certificates: Vec::new(),
        };
        assert!(!judge(&Reason::Seed, Some(&empty), INTERVAL, moment).enough);
    }
}
