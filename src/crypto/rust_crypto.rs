//! The pure-Rust backend, on the `rsa` crate.

use std::sync::Arc;

use rsa::pkcs8::{DecodePrivateKey, DecodePublicKey};
use rsa::traits::PublicKeyParts;
use sha1::Sha1;
use sha2::Sha256;

use super::rsa::{Rsa, RsaPrivate, RsaPublic};
use crate::error::{Error, Result};

/// The backend of feature `rustcrypto`.
pub(crate) struct RustCrypto;

impl Rsa for RustCrypto {
    fn private_key(&self, pkcs8: &[u8]) -> Result<Arc<dyn RsaPrivate>> {
        Ok(Arc::new(Private::from_pkcs8(pkcs8)?))
    }

    fn public_key(&self, spki: &[u8]) -> Result<Arc<dyn RsaPublic>> {
        Ok(Arc::new(Public::from_spki(spki)?))
    }
}

struct Private {
    key: rsa::PrivateKey,
}

impl Private {
    fn from_pkcs8(pkcs8: &[u8]) -> Result<Self> {
        let key = rsa::PrivateKey::from_pkcs8_der(pkcs8).map_err(|e| {
            Error::crypto(format!(
                "the private key is not a usable RSA key ({e}); WeChat Pay merchant keys are \
                 RSA-2048 PEM files named apiclient_key.pem"
            ))
        })?;
        check_size(key.size())?;
        Ok(Self { key })
    }
}

impl RsaPrivate for Private {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.key
            .pkcs1v15_sign::<Sha256>(message)
            .map_err(|e| Error::crypto("RSA signing failed in the rsa crate").with_source(e))
    }

    fn decrypt_oaep(&self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        self.key.oaep_decrypt::<Sha1>(ciphertext).map_err(|_| {
            Error::crypto(
                "RSA-OAEP decryption failed: the field was not encrypted for this merchant key, \
                 or it is damaged",
            )
        })
    }
}

/// Refuses keys below 2048 bits, as aws-lc-rs does, so that both backends accept the same
/// keys.
fn check_size(bytes: usize) -> Result<()> {
    if bytes < 256 {
        return Err(Error::crypto(format!(
            "the RSA key has {} bits; WeChat Pay keys have 2048 bits or more",
            bytes * 8
        )));
    }
    Ok(())
}

struct Public {
    key: rsa::PublicKey,
}

impl Public {
    fn from_spki(spki: &[u8]) -> Result<Self> {
        let key = rsa::PublicKey::from_public_key_der(spki).map_err(|e| {
            Error::crypto(format!(
                "the public key is not a usable RSA key ({e}); use WeChat Pay's pub_key.pem or a \
                 platform certificate"
            ))
        })?;
        check_size(key.size())?;
        Ok(Self { key })
    }
}

impl RsaPublic for Public {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key
            .pkcs1v15_verify::<Sha256>(message, signature)
            .is_ok()
    }

    fn max_oaep_plaintext(&self) -> usize {
        // OAEP with SHA-1: k - 2*20 - 2 bytes fit.
        self.key.size().saturating_sub(42)
    }

    fn encrypt_oaep(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        self.key.oaep_encrypt::<Sha1>(plaintext).map_err(|e| {
            Error::crypto("RSA-OAEP encryption failed in the rsa crate").with_source(e)
        })
    }
}
