//! The PHP SDK's helpers, as plain functions, in one place.
//!
//! | PHP | Rust |
//! |---|---|
//! | `Formatter::nonce`, `timestamp`, `joinedByLineFeed` | [`nonce`], [`timestamp`], [`joined_by_line_feed`] |
//! | `Formatter::ksort`, `queryStringLike` | [`ksort`], [`query_string_like`] (together: [`string_to_sign`]) |
//! | `Formatter::request`, `response`, `authorization` | [`v3::sign::request_message`], [`v3::sign::response_message`], [`v3::sign::authorization`] |
//! | `Hash::md5($s, $key)`, `Hash::md5($s, $key, true)` | [`md5_with_key`], [`md5_with_secret`] |
//! | `Hash::hmac($s, $key)`, `Hash::hmac($s, $key, 'md5')` | [`hmac_sha256_with_key`], [`hmac_md5_with_key`] |
//! | `Hash::sign`, `Hash::equals` | [`sign`], [`sign_matches`], [`constant_time_eq`] |
//! | `Rsa::sign`, `verify`, `encrypt`, `decrypt` | [`PrivateKey::sign`], [`PublicKey::verify`], [`PublicKey::encrypt_oaep`], [`PrivateKey::decrypt_oaep`] |
//! | `AesGcm`, `AesEcb` | [`aes_gcm_encrypt`] / [`aes_gcm_decrypt`], [`aes_ecb_encrypt`] / [`aes_ecb_decrypt`] |
//! | `PemUtil::parseCertificateSerialNo` | [`Certificate::serial`] |
//! | `rawurlencode`, `http_build_query(…, PHP_QUERY_RFC3986)` | [`rawurlencode`], [`build_query`] |
//! | `UriTemplate::expand`, `Builder::normalize` | [`expand_template`], [`normalize_segment`] |
//!
//! [`v3::sign::request_message`]: crate::v3::sign::request_message
//! [`v3::sign::response_message`]: crate::v3::sign::response_message
//! [`v3::sign::authorization`]: crate::v3::sign::authorization
//! [`PrivateKey::sign`]: crate::PrivateKey::sign
//! [`PublicKey::verify`]: crate::PublicKey::verify
//! [`PublicKey::encrypt_oaep`]: crate::PublicKey::encrypt_oaep
//! [`PrivateKey::decrypt_oaep`]: crate::PrivateKey::decrypt_oaep
//! [`Certificate::serial`]: crate::Certificate::serial

mod formatter;
mod hash;

pub use formatter::{
    joined_by_line_feed, ksort, nonce, query_string_like, string_to_sign, timestamp,
};
pub use hash::{
    SignType, hmac_md5_with_key, hmac_sha256_with_key, md5_with_key, md5_with_secret, sign,
    sign_matches,
};

pub use crate::crypto::{
    aes_ecb_decrypt, aes_ecb_encrypt, aes_gcm_decrypt, aes_gcm_encrypt, constant_time_eq, md5_hex,
    sha1_hex, sha256_hex,
};
pub use crate::normalize::normalize_segment;
pub use crate::template::expand as expand_template;
pub use crate::time::{format_rfc3339, parse_rfc3339};
pub use crate::uri::{build_query, rawurlencode};
