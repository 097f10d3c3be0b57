//! The RSA seam: what a backend does with a parsed key. [`aws_lc`](super::aws_lc) and
//! [`rust_crypto`](super::rust_crypto) implement it; [`Backend`](super::Backend) picks one
//! (`backend.rs`, the one place that names the features); the key types hold what it made.

use std::sync::Arc;

use crate::error::Result;

/// A backend: parses keys into the objects it signs, verifies and encrypts with.
pub(crate) trait Rsa: Sync {
    /// A private key from its PKCS#8 DER.
    fn private_key(&self, pkcs8: &[u8]) -> Result<Arc<dyn RsaPrivate>>;

    /// A public key from its SPKI DER.
    fn public_key(&self, spki: &[u8]) -> Result<Arc<dyn RsaPublic>>;
}

/// A private key, as a backend holds it.
pub(crate) trait RsaPrivate: Send + Sync {
    /// RSASSA-PKCS1-v1_5 with SHA-256: the raw signature.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;

    /// RSA-OAEP (SHA-1, MGF1-SHA-1) decryption of raw ciphertext bytes.
    fn decrypt_oaep(&self, ciphertext: &[u8]) -> Result<Vec<u8>>;
}

/// A public key, as a backend holds it.
pub(crate) trait RsaPublic: Send + Sync {
    /// Whether `signature` is an RSASSA-PKCS1-v1_5 SHA-256 signature of `message`.
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool;

    /// The most bytes RSA-OAEP (SHA-1, MGF1-SHA-1) encrypts in one block with this key.
    fn max_oaep_plaintext(&self) -> usize;

    /// RSA-OAEP (SHA-1, MGF1-SHA-1) encryption of at most
    /// [`max_oaep_plaintext`](Self::max_oaep_plaintext) bytes: the raw ciphertext.
    fn encrypt_oaep(&self, plaintext: &[u8]) -> Result<Vec<u8>>;
}
