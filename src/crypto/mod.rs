//! Keys, certificates, hashes, ciphers and randomness.
//!
//! RSA goes through one seam with two implementations, chosen at compile time by feature:
//! aws-lc-rs (`aws-lc`, the default) and the pure-Rust `rsa` crate (`rustcrypto`). With both
//! features on, both are compiled in and [`Backend::default`] is aws-lc-rs; with neither, the
//! crate still builds but every key fails to parse with an error naming the features.

mod aes;
#[cfg(feature = "aws-lc")]
mod aws_lc;
mod backend;
mod der;
mod expiry;
pub(crate) mod hash;
mod keyring;
mod keys;
mod platform_keys;
pub(crate) mod random;
mod rsa;
#[cfg(feature = "rustcrypto")]
mod rust_crypto;
#[cfg(feature = "aws-lc")]
mod warm_up;

pub use aes::{aes_ecb_decrypt, aes_ecb_encrypt, aes_gcm_decrypt, aes_gcm_encrypt};
pub use backend::Backend;
pub(crate) use der::{PemBlock, check_sole_pem_block, pem_blocks};
pub(crate) use expiry::expiring;
pub use expiry::{CertificateRole, DEFAULT_EXPIRY_WARNING_DAYS, Expiring};
pub use hash::{constant_time_eq, md5_hex, sha1_hex, sha256_hex};
pub use keyring::KeyUsage;
pub(crate) use keyring::{KeyRing, Verified};
pub use keys::{AsyncSigner, Certificate, PrivateKey, PublicKey, Signer};
pub(crate) use platform_keys::Usable;
pub use platform_keys::{PUBLIC_KEY_ID_PREFIX, PlatformKeys, Validity};
