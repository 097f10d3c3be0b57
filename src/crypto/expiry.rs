//! Which certificates expire soon: the merchant API certificate (when the client was given
//! it) and the newest platform certificate, within a warning window. Pure: the time is an
//! input.

use std::fmt;

use super::platform_keys::{PUBLIC_KEY_ID_PREFIX, PlatformKeys};
use crate::time::format_rfc3339;

/// The default warning window: 30 days before a certificate expires.
pub const DEFAULT_EXPIRY_WARNING_DAYS: u32 = 30;

const DAY: u64 = 24 * 3600;

/// Whose certificate expires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum CertificateRole {
    /// The merchant API certificate (`apiclient_cert.pem`, five years), whose serial signs
    /// every request.
    Merchant,
    /// The newest WeChat Pay platform certificate, which verifies the answers.
    Platform,
}

/// A certificate that expires within the warning window
/// ([`Client::expiring`](crate::Client::expiring)); its `Display` says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Expiring {
    /// Whose certificate it is.
    pub role: CertificateRole,
    /// Its serial.
    pub serial: String,
    /// The end of its validity, in Unix seconds.
    pub not_after: u64,
    /// Whole days left (0 on its last day; negative once expired).
    pub days_left: i64,
}

impl fmt::Display for Expiring {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (what, fix) = match self.role {
            CertificateRole::Merchant => (
                "the merchant API certificate",
                "apply for a new one (商户平台 → 账户中心 → API安全 → 申请API证书), then configure its \
                 serial and key",
            ),
            CertificateRole::Platform => (
                "the newest WeChat Pay platform certificate",
                "download the new one (auto_certificates does it by itself), or migrate to the \
                 WeChat Pay public key (微信支付公钥)",
            ),
        };
        let until = format_rfc3339(self.not_after, 8);
        if self.days_left < 0 {
            write!(f, "{what} {} expired on {until}: {fix}", self.serial)
        } else {
            let days = self.days_left;
            write!(
                f,
                "{what} {} expires in {days} day(s), on {until}: {fix}",
                self.serial
            )
        }
    }
}

/// The certificates that expire within `window_days` of `now`: the merchant certificate
/// (`serial`, `not_after`) when given, and the platform certificate of `keys` that expires
/// last (none when `keys` holds only public keys, which do not expire).
pub(crate) fn expiring(
    merchant: Option<(&str, u64)>,
    keys: &PlatformKeys,
    now: u64,
    window_days: u32,
) -> Vec<Expiring> {
    let window = u64::from(window_days) * DAY;
    let newest_platform = keys
        .ids()
        .filter(|id| !id.starts_with(PUBLIC_KEY_ID_PREFIX))
        .filter_map(|id| Some((id, keys.validity(id)?.not_after)))
        .max_by_key(|(_, not_after)| *not_after);
    let soon = |role, (serial, not_after): (&str, u64)| {
        (not_after <= now.saturating_add(window)).then(|| Expiring {
            role,
            serial: serial.to_owned(),
            not_after,
            days_left: if not_after >= now {
                i64::try_from((not_after - now) / DAY).unwrap_or(i64::MAX)
            } else {
                -i64::try_from((now - not_after).div_ceil(DAY)).unwrap_or(i64::MAX)
            },
        })
    };
    let merchant = merchant.and_then(|merchant| soon(CertificateRole::Merchant, merchant));
    let platform = newest_platform.and_then(|platform| soon(CertificateRole::Platform, platform));
    merchant.into_iter().chain(platform).collect()
}

#[cfg(all(test, any(feature = "aws-lc", feature = "rustcrypto")))]
mod tests {
    use super::*;
    use crate::crypto::{PublicKey, Validity};

    #[test]
    fn the_merchant_and_the_newest_platform_certificate_are_watched() {
        let key = PublicKey::from_pem(include_str!("../mock/platform_pub.pem")).expect("parses");
        let mut keys = PlatformKeys::new();
        keys.insert("PUB_KEY_ID_01", key.clone());
        assert!(
            expiring(None, &keys, 0, 30).is_empty(),
            "public keys never expire"
        );
        let dated = |not_after| Validity {
            not_before: 0,
            not_after,
        };
        keys.insert_with_validity("OLD", key.clone(), dated(10 * DAY));
        keys.insert_with_validity("NEW", key, dated(100 * DAY));
        let now = 75 * DAY;
        let soon = expiring(Some(("MINE", now + 20 * DAY + 5)), &keys, now, 30);
        assert_eq!(soon.len(), 2);
        assert_eq!(
            (soon[0].role, soon[0].serial.as_str(), soon[0].days_left),
            (CertificateRole::Merchant, "MINE", 20)
        );
        assert_eq!((soon[1].serial.as_str(), soon[1].days_left), ("NEW", 25));
        assert!(soon[0].to_string().contains("expires in 20 day(s)"));
        assert!(expiring(Some(("MINE", now + 31 * DAY)), &keys, now, 20).is_empty());
        let gone = expiring(Some(("MINE", now - 1)), &keys, now, 30);
        assert_eq!(gone[0].days_left, -1);
        assert!(gone[0].to_string().contains("expired on"));
    }
}
