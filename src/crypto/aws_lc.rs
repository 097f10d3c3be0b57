//! The aws-lc-rs backend.

use std::sync::{Arc, OnceLock};

use aws_lc_rs::rsa::{
    KeyPair, OAEP_SHA1_MGF1SHA1, OaepPrivateDecryptingKey, OaepPublicEncryptingKey,
    PrivateDecryptingKey, PublicEncryptingKey,
};
use aws_lc_rs::signature::{ParsedPublicKey, RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256};
use zeroize::Zeroizing;

use super::rsa::{Rsa, RsaPrivate, RsaPublic};
use super::warm_up;
use crate::error::{Error, Result};

/// The backend of feature `aws-lc`.
pub(crate) struct AwsLc;

impl Rsa for AwsLc {
    fn private_key(&self, pkcs8: &[u8]) -> Result<Arc<dyn RsaPrivate>> {
        Ok(Arc::new(Private::from_pkcs8(pkcs8)?))
    }

    fn public_key(&self, spki: &[u8]) -> Result<Arc<dyn RsaPublic>> {
        Ok(Arc::new(Public::from_spki(spki)?))
    }
}

/// A private key held by aws-lc (`pub(super)` for the warm-up's tests).
pub(super) struct Private {
    signing: KeyPair,
    /// The PKCS#8 bytes, kept (zeroized on drop) to make the decrypting key when first needed:
    /// making it parses and checks the RSA key again (about 0.15 ms), which most clients,
    /// never decrypting a sensitive field, would pay at every start for nothing; and for
    /// ring's signatures while aws-lc's generator is being seeded (`warm_up`).
    pkcs8: Zeroizing<Vec<u8>>,
    decrypting: OnceLock<Option<OaepPrivateDecryptingKey>>,
}

impl Private {
    pub(super) fn from_pkcs8(pkcs8: &[u8]) -> Result<Self> {
        let rejected = |e: aws_lc_rs::error::KeyRejected| {
            Error::crypto(format!(
                "the private key is not a usable RSA key ({e}); WeChat Pay merchant keys are \
                 RSA-2048 PEM files named apiclient_key.pem"
            ))
        };
        let signing = KeyPair::from_pkcs8(pkcs8).map_err(rejected)?;
        Ok(Self {
            signing,
            pkcs8: Zeroizing::new(pkcs8.to_vec()),
            decrypting: OnceLock::new(),
        })
    }

    /// aws-lc's signature, whatever the seeding state.
    pub(super) fn sign_with_aws_lc(&self, message: &[u8]) -> Result<Vec<u8>> {
        let mut signature = vec![0; self.signing.public_modulus_len()];
        let rng = aws_lc_rs::rand::SystemRandom::new();
        self.signing
            .sign(&RSA_PKCS1_SHA256, &rng, message, &mut signature)
            .map_err(|_| Error::crypto("RSA signing failed in aws-lc-rs"))?;
        Ok(signature)
    }

    fn decrypting(&self) -> Result<&OaepPrivateDecryptingKey> {
        self.decrypting
            .get_or_init(|| {
                PrivateDecryptingKey::from_pkcs8(&self.pkcs8)
                    .ok()
                    .and_then(|key| OaepPrivateDecryptingKey::new(key).ok())
            })
            .as_ref()
            .ok_or_else(|| Error::crypto("the private key cannot be used for RSA-OAEP"))
    }
}

impl RsaPrivate for Private {
    /// ring's signature while aws-lc's generator is being seeded (the first signature of a
    /// process starts that; see `warm_up`), aws-lc's after: the same bytes.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match warm_up::sign_while_seeding(&self.pkcs8, message) {
            Some(signature) => Ok(signature),
            None => self.sign_with_aws_lc(message),
        }
    }

    fn decrypt_oaep(&self, ciphertext: &[u8]) -> Result<Vec<u8>> {
        let decrypting = self.decrypting()?;
        let mut plaintext = vec![0; decrypting.min_output_size()];
        let len = decrypting
            .decrypt(&OAEP_SHA1_MGF1SHA1, ciphertext, &mut plaintext, None)
            .map_err(|_| {
                Error::crypto(
                    "RSA-OAEP decryption failed: the field was not encrypted for this merchant \
                     key, or it is damaged",
                )
            })?
            .len();
        plaintext.truncate(len);
        Ok(plaintext)
    }
}

struct Public {
    verifying: ParsedPublicKey,
    encrypting: OaepPublicEncryptingKey,
}

impl Public {
    fn from_spki(spki: &[u8]) -> Result<Self> {
        let rejected = || {
            Error::crypto(
                "the public key is not a usable RSA key (2048 bits or more); use WeChat Pay's \
                 pub_key.pem or a platform certificate",
            )
        };
        let verifying =
            ParsedPublicKey::new(&RSA_PKCS1_2048_8192_SHA256, spki).map_err(|_| rejected())?;
        let encrypting = PublicEncryptingKey::from_der(spki)
            .ok()
            .and_then(|key| OaepPublicEncryptingKey::new(key).ok())
            .ok_or_else(rejected)?;
        Ok(Self {
            verifying,
            encrypting,
        })
    }
}

impl RsaPublic for Public {
    fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.verifying.verify_sig(message, signature).is_ok()
    }

    fn max_oaep_plaintext(&self) -> usize {
        self.encrypting.max_plaintext_size(&OAEP_SHA1_MGF1SHA1)
    }

    fn encrypt_oaep(&self, plaintext: &[u8]) -> Result<Vec<u8>> {
        let mut ciphertext = vec![0; self.encrypting.ciphertext_size()];
        let len = self
            .encrypting
            .encrypt(&OAEP_SHA1_MGF1SHA1, plaintext, &mut ciphertext, None)
            .map_err(|_| Error::crypto("RSA-OAEP encryption failed in aws-lc-rs"))?
            .len();
        ciphertext.truncate(len);
        Ok(ciphertext)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::der;

    #[test]
    fn ring_and_aws_lc_sign_the_same_bytes() {
        let pem = include_str!("../mock/merchant_key.pem");
        let pkcs8 = der::first_pem_block(pem, "private key").expect("PEM").der;
        let aws_lc = Private::from_pkcs8(&pkcs8).expect("aws-lc");
        for message in [
            &b""[..],
            b"GET\n/v3/certificates\n1554208460\n593BEC0C930BF1AFEB40B4A08C8FB242\n\n",
            "POST\n/v3/pay/transactions/jsapi\n1700000000\nnonce\n{\"description\":\"商品\"}\n"
                .as_bytes(),
            &[0xA5; 4096],
        ] {
            let expected = aws_lc.sign_with_aws_lc(message).expect("aws-lc signs");
            assert_eq!(warm_up::sign_with_ring(&pkcs8, message), Some(expected));
        }
    }
}
