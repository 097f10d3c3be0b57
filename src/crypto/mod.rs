//! Keys, certificates, hashes and ciphers.
//!
//! RSA goes through one seam with two implementations: aws-lc-rs (feature `aws-lc`, the
//! default) and the pure-Rust `rsa` crate (feature `rustcrypto`).

#[cfg(not(any(feature = "aws-lc", feature = "rustcrypto")))]
compile_error!("wechatpay needs a crypto backend: enable the `aws-lc` or the `rustcrypto` feature");

mod aes;
#[cfg(feature = "aws-lc")]
mod aws_lc;
mod der;
pub(crate) mod hash;
mod keys;
#[cfg(feature = "rustcrypto")]
mod rust_crypto;

pub use aes::{aes_ecb_decrypt, aes_ecb_encrypt, aes_gcm_decrypt, aes_gcm_encrypt};
pub use hash::{constant_time_eq, md5_hex, sha1_hex, sha256_hex};
pub use keys::{Backend, Certificate, PrivateKey, PublicKey, Signer};
