//! The expiry warnings of a client: a `tracing` warning for each certificate that expires
//! within the window ([`crypto::expiring`](crate::crypto::expiring)), when the client is
//! built and then at most once a day, on a verified answer.

use std::sync::atomic::{AtomicU64, Ordering};

use super::trace;
use crate::config::Config;
use crate::crypto::{Expiring, expiring};

const DAY: u64 = 24 * 3600;

/// When the next look at the certificates is due.
#[derive(Default)]
pub(crate) struct ExpiryWatch {
    /// Unix seconds; 0: at the first chance.
    next: AtomicU64,
}

/// The certificates of the client of `config` that expire within its window, at `now`.
pub(crate) fn soon(config: &Config, now: u64) -> Vec<Expiring> {
    let merchant = config
        .merchant_certificate
        .as_ref()
        .map(|(serial, not_after)| (serial.as_str(), *not_after));
    let keys = config.platform_keys.snapshot();
    expiring(merchant, &keys, now, config.expiry_warning_days)
}

impl ExpiryWatch {
    /// Warns about what expires soon for the client of `config` when a look is due at `now`
    /// (one atomic load otherwise).
    pub(crate) fn watch(&self, config: &Config, now: u64) {
        let next = self.next.load(Ordering::Relaxed);
        if now < next {
            return;
        }
        let claimed =
            self.next
                .compare_exchange(next, now + DAY, Ordering::Relaxed, Ordering::Relaxed);
        if claimed.is_ok() {
            for expiring in soon(config, now) {
                trace::expiring(&expiring);
            }
        }
    }
}
