//! The mock's test-only keys and certificates, and the values a client of it needs.
//!
//! Everything here is public on purpose: never use these keys outside tests.

use crate::config::ApiV2Key;
use crate::crypto::{PrivateKey, PublicKey};

/// The merchant id the mock expects (the conformance corpus uses it too).
pub const MCHID: &str = "1900000109";
/// The serial of the mock merchant certificate ([`MERCHANT_CERTIFICATE_PEM`]).
pub const MERCHANT_SERIAL: &str = "4A7F3C2D1E0B9A8877665544332211AABBCCDDEE";
/// The id of the mock's WeChat Pay public key, sent in `Wechatpay-Serial`.
pub const PLATFORM_KEY_ID: &str = "PUB_KEY_ID_0119000001092026112700000000000000";
/// The serial of the mock platform certificate ([`PLATFORM_CERTIFICATE_PEM`]), for tests of
/// the certificate mode.
pub const PLATFORM_CERTIFICATE_SERIAL: &str = "5157F09EFDC096DE15EBE81A47057A7232F1B8E1";
/// The serial of the mock's second platform certificate
/// ([`PLATFORM_ROTATED_CERTIFICATE_PEM`]), which
/// [`MockServer::rotate_platform_certificate`](super::MockServer::rotate_platform_certificate)
/// rotates to.
pub const PLATFORM_ROTATED_CERTIFICATE_SERIAL: &str = "6B0C2F5A7E31D4C8A9F0B1E2D3C4B5A697887766";
/// The serial of the certificate a forger serves ([`FORGED_CERTIFICATE_PEM`], see
/// [`Forgery`](super::Forgery)).
pub const FORGED_CERTIFICATE_SERIAL: &str = "7F0E1D2C3B4A59687786A5B4C3D2E1F001122334";
/// The mock APIv3 key.
pub const APIV3_KEY: &str = "mock-apiv3-key-0123456789abcdefg";
/// The mock APIv2 key.
pub const SECRET: &str = "mock-apiv2-secret-0123456789abcd";

/// The mock merchant private key (PKCS#8). Test-only.
pub const MERCHANT_KEY_PEM: &str = include_str!("merchant_key.pem");
/// The mock merchant public key.
pub const MERCHANT_PUBLIC_KEY_PEM: &str = include_str!("merchant_pub.pem");
/// The mock merchant certificate, serial [`MERCHANT_SERIAL`].
pub const MERCHANT_CERTIFICATE_PEM: &str = include_str!("merchant_cert.pem");
/// The mock platform private key: signs the mock's answers. Test-only.
pub const PLATFORM_KEY_PEM: &str = include_str!("platform_key.pem");
/// The mock WeChat Pay public key (`pub_key.pem` of [`PLATFORM_KEY_ID`]).
pub const PLATFORM_PUBLIC_KEY_PEM: &str = include_str!("platform_pub.pem");
/// A mock platform certificate for the platform key, serial
/// [`PLATFORM_CERTIFICATE_SERIAL`].
pub const PLATFORM_CERTIFICATE_PEM: &str = include_str!("platform_cert.pem");
/// The private key of the mock's second platform certificate. Test-only.
pub const PLATFORM_ROTATED_KEY_PEM: &str = include_str!("platform_rotated_key.pem");
/// The mock's second platform certificate, serial [`PLATFORM_ROTATED_CERTIFICATE_SERIAL`],
/// valid a little longer than the first (so it is the newest).
pub const PLATFORM_ROTATED_CERTIFICATE_PEM: &str = include_str!("platform_rotated_cert.pem");
/// The private key of a forger (someone without the merchant's APIv3 key). Test-only.
pub(crate) const FORGER_KEY_PEM: &str = include_str!("forger_key.pem");
/// The forger's own certificate, serial [`FORGED_CERTIFICATE_SERIAL`].
pub const FORGED_CERTIFICATE_PEM: &str = include_str!("forged_cert.pem");
/// The mock merchant's TLS client certificate (its `apiclient_cert.pem` for APIv2 mutual
/// TLS): the key [`MERCHANT_KEY_PEM`], serial [`MERCHANT_SERIAL`], issued by
/// [`TLS_CA_CERTIFICATE_PEM`].
pub const MERCHANT_TLS_CERTIFICATE_PEM: &str = include_str!("merchant_tls_cert.pem");
/// The mock TLS certificate authority: issues the mock's server certificate and the mock
/// merchant's client certificate. Trust it with
/// [`ClientBuilder::tls_root_certificate`](crate::ClientBuilder::tls_root_certificate).
pub const TLS_CA_CERTIFICATE_PEM: &str = include_str!("tls_ca_cert.pem");
/// The certificate of the mock's TLS port, for `127.0.0.1` and `localhost`.
pub const TLS_SERVER_CERTIFICATE_PEM: &str = include_str!("tls_server_cert.pem");
/// The private key of the mock's TLS port. Test-only.
pub(crate) const TLS_SERVER_KEY_PEM: &str = include_str!("tls_server_key.pem");

/// The mock merchant private key, parsed.
///
/// # Panics
///
/// Without an RSA backend (neither the `aws-lc` nor the `rustcrypto` feature), which no key
/// can be parsed with.
pub fn merchant_private_key() -> PrivateKey {
    PrivateKey::from_pem(MERCHANT_KEY_PEM).expect("the bundled mock merchant key parses")
}

/// The mock WeChat Pay public key, parsed.
///
/// # Panics
///
/// Without an RSA backend (neither the `aws-lc` nor the `rustcrypto` feature).
pub fn platform_public_key() -> PublicKey {
    PublicKey::from_pem(PLATFORM_PUBLIC_KEY_PEM).expect("the bundled mock platform key parses")
}

/// The mock APIv2 key ([`SECRET`]), checked, for the pure APIv2 functions
/// ([`v2::sign_request`](crate::v2::sign_request), …).
pub fn apiv2_key() -> ApiV2Key {
    // Never fails: SECRET is 32 visible ASCII characters.
    ApiV2Key::new(SECRET).expect("the mock APIv2 key is valid")
}
