//! RSA keys and certificates, parsed once and held by a crypto backend
//! ([`Backend`]; the operations go through the [`rsa`](super::rsa) seam).

use std::fmt;
use std::path::Path;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use futures::future::BoxFuture;
use zeroize::Zeroizing;

use super::backend::Backend;
use super::der::{self, PemBlock};
use super::rsa::{RsaPrivate, RsaPublic};
use crate::error::{Error, Result, Verification};

/// A key as a backend holds it, and which backend: what [`PrivateKey`] and [`PublicKey`]
/// share (cloning is one reference count; `Debug` names the backend, never key material).
struct Held<K: ?Sized> {
    backend: Backend,
    key: Arc<K>,
}

impl<K: ?Sized> Clone for Held<K> {
    fn clone(&self) -> Self {
        Self {
            backend: self.backend,
            key: self.key.clone(),
        }
    }
}

impl<K: ?Sized> Held<K> {
    fn debug(&self, name: &str, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(name)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

/// Something that signs APIv3 requests: RSASSA-PKCS1-v1_5 with SHA-256.
///
/// [`PrivateKey`] is the usual signer. Implement this trait when the merchant key lives in a
/// KMS or an HSM, and hand it to [`ClientBuilder::signer`](crate::ClientBuilder::signer).
///
/// ```
/// use wechatpay::{Result, Signer};
///
/// struct Hsm;
///
/// impl Signer for Hsm {
///     fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
///         // ask the HSM for an RSASSA-PKCS1-v1_5 SHA-256 signature of `message`
///         # let _ = message;
///         Ok(vec![0; 256])
///     }
/// }
/// ```
pub trait Signer: Send + Sync + 'static {
    /// Returns the raw signature (not base64) of `message`.
    ///
    /// # Errors
    ///
    /// Whatever the key holder reports; it aborts the request before anything is sent.
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>>;
}

/// Something that signs APIv3 requests without blocking its caller: RSASSA-PKCS1-v1_5 with
/// SHA-256, as a future. For a merchant key in a network KMS or an HSM, whose signature takes
/// milliseconds: the request future awaits it, so other requests go on meanwhile (sixteen
/// requests in flight on one thread wait for sixteen signatures at once, not one after the
/// other). Hand it to [`ClientBuilder::async_signer`](crate::ClientBuilder::async_signer).
///
/// The future is polled inside a tokio runtime (the caller's, else the client's runtime
/// thread), so it may use tokio (timers, `spawn_blocking` for a blocking SDK).
///
/// ```
/// use futures::future::BoxFuture;
/// use wechatpay::{AsyncSigner, PrivateKey, Result};
///
/// struct Kms(PrivateKey); // in real life: a client of the KMS
///
/// impl AsyncSigner for Kms {
///     fn sign_async(&self, message: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>>> {
///         let key = self.0.clone();
///         Box::pin(async move {
///             // e.g. `kms.sign(SignRequest { message, algorithm: RSASSA_PKCS1_V1_5_SHA_256 }).await`
///             key.sign(&message)
///         })
///     }
/// }
/// ```
pub trait AsyncSigner: Send + Sync + 'static {
    /// The raw signature (not base64) of `message`, when ready.
    ///
    /// # Errors
    ///
    /// Whatever the key holder reports; it aborts the request before anything is sent.
    fn sign_async(&self, message: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>>>;
}

/// A merchant private key (`apiclient_key.pem`), parsed once.
///
/// Its `Debug` output never shows key material.
#[derive(Clone)]
pub struct PrivateKey(Held<dyn RsaPrivate>);

impl PrivateKey {
    /// Parses a PEM private key: PKCS#8 (`-----BEGIN PRIVATE KEY-----`, what the merchant
    /// platform's certificate tool writes) or PKCS#1 (`-----BEGIN RSA PRIVATE KEY-----`).
    /// The decoded key bytes are overwritten with zeros once the backend holds the key.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) when the text is not such a key.
    pub fn from_pem(pem: &str) -> Result<Self> {
        Self::from_pem_with_backend(pem, Backend::default())
    }

    /// Reads and parses a PEM private key file, e.g. `apiclient_key.pem`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the file cannot be read, else as
    /// [`PrivateKey::from_pem`].
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_pem(&read_pem_file(path.as_ref(), "private key")?)
    }

    /// Parses a PEM private key for a given [`Backend`].
    ///
    /// # Errors
    ///
    /// As [`PrivateKey::from_pem`], and [`ErrorKind::Config`](crate::ErrorKind::Config) when
    /// the backend's feature is off.
    pub fn from_pem_with_backend(pem: &str, backend: Backend) -> Result<Self> {
        let PemBlock { label, der } = der::first_pem_block(pem, "private key")?;
        let pkcs8: Zeroizing<Vec<u8>> = match label.as_str() {
            "PRIVATE KEY" => der,
            "RSA PRIVATE KEY" => der::pkcs1_private_to_pkcs8(&der),
            "ENCRYPTED PRIVATE KEY" => {
                return Err(Error::crypto(
                    "the private key is encrypted; decrypt it first, e.g. \
                     `openssl pkey -in apiclient_key.pem -out plain_key.pem`",
                ));
            }
            "CERTIFICATE" | "PUBLIC KEY" | "RSA PUBLIC KEY" => {
                return Err(Error::crypto(format!(
                    "expected the merchant private key but got a PEM `{label}`; the private \
                     key is `apiclient_key.pem`, not the certificate or a public key"
                )));
            }
            other => {
                return Err(Error::crypto(format!(
                    "expected a PEM `PRIVATE KEY` or `RSA PRIVATE KEY`, got `{other}`"
                )));
            }
        };
        let key = backend.rsa()?.private_key(&pkcs8)?;
        Ok(Self(Held { backend, key }))
    }

    /// The backend holding this key.
    pub fn backend(&self) -> Backend {
        self.0.backend
    }

    /// RSASSA-PKCS1-v1_5 with SHA-256 over `message`: the raw signature.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) if the backend fails.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.0.key.sign(message)
    }

    /// Decrypts an RSA-OAEP (SHA-1, MGF1-SHA-1) ciphertext, given as base64, that WeChat Pay
    /// encrypted with the merchant's public key (a sensitive field of an answer).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Decode`](crate::ErrorKind::Decode) for bad base64,
    /// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) when it does not decrypt with this key.
    pub fn decrypt_oaep(&self, ciphertext_base64: &str) -> Result<Vec<u8>> {
        let ciphertext = STANDARD
            .decode(ciphertext_base64.trim())
            .map_err(|e| Error::decode("the encrypted field is not valid base64").with_source(e))?;
        self.0.key.decrypt_oaep(&ciphertext)
    }
}

impl Signer for PrivateKey {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        PrivateKey::sign(self, message)
    }
}

impl fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("PrivateKey", f)
    }
}

/// A public RSA key: a WeChat Pay platform key (`pub_key.pem`, for a `PUB_KEY_ID_…`) or the
/// key of a platform certificate.
#[derive(Clone)]
pub struct PublicKey(Held<dyn RsaPublic>);

impl PublicKey {
    /// Parses a PEM public key: SPKI (`-----BEGIN PUBLIC KEY-----`, the WeChat Pay public key
    /// file), PKCS#1 (`-----BEGIN RSA PUBLIC KEY-----`, APIv2 `risk/getpublickey`), or the key
    /// inside a certificate (`-----BEGIN CERTIFICATE-----`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) when the text is not such a key.
    pub fn from_pem(pem: &str) -> Result<Self> {
        Self::from_pem_with_backend(pem, Backend::default())
    }

    /// Reads and parses a PEM public key file, e.g. `pub_key.pem`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the file cannot be read, else as
    /// [`PublicKey::from_pem`].
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_pem(&read_pem_file(path.as_ref(), "public key")?)
    }

    /// Parses a PEM public key for a given [`Backend`].
    ///
    /// # Errors
    ///
    /// As [`PublicKey::from_pem`], and [`ErrorKind::Config`](crate::ErrorKind::Config) when
    /// the backend's feature is off.
    pub fn from_pem_with_backend(pem: &str, backend: Backend) -> Result<Self> {
        let PemBlock { label, der } = der::first_pem_block(pem, "public key")?;
        let spki = match label.as_str() {
            "PUBLIC KEY" => der.to_vec(),
            "RSA PUBLIC KEY" => der::pkcs1_public_to_spki(&der),
            "CERTIFICATE" => der::certificate_parts(&der)?.spki,
            "PRIVATE KEY" | "RSA PRIVATE KEY" => {
                return Err(Error::crypto(
                    "expected a public key but got a private key; never hand out the merchant \
                     private key: the platform key is WeChat Pay's `pub_key.pem` or a platform \
                     certificate",
                ));
            }
            other => {
                return Err(Error::crypto(format!(
                    "expected a PEM `PUBLIC KEY`, `RSA PUBLIC KEY` or `CERTIFICATE`, got `{other}`"
                )));
            }
        };
        Self::from_spki_der(&spki, backend)
    }

    fn from_spki_der(spki: &[u8], backend: Backend) -> Result<Self> {
        let key = backend.rsa()?.public_key(spki)?;
        Ok(Self(Held { backend, key }))
    }

    /// The backend holding this key.
    pub fn backend(&self) -> Backend {
        self.0.backend
    }

    /// Checks an RSASSA-PKCS1-v1_5 SHA-256 `signature` (raw bytes) of `message`. WeChat Pay
    /// sends its signatures in base64 (`Wechatpay-Signature`, `paySign`): see
    /// [`PublicKey::verify_base64`].
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Verification`](crate::ErrorKind::Verification) with
    /// [`Verification::Signature`] when it does not match.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> Result<()> {
        if self.0.key.verify(message, signature) {
            Ok(())
        } else {
            Err(Error::verification(
                Verification::Signature,
                "the RSA signature does not match the message",
            ))
        }
    }

    /// Checks a signature in base64, as WeChat Pay writes them (`Wechatpay-Signature`, the
    /// `paySign` of [`v3::paysign`](crate::v3::paysign)), of `message`.
    ///
    /// ```
    /// use wechatpay::{PrivateKey, PublicKey, mock};
    /// use wechatpay::v3::sign::sign_base64;
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let key = PrivateKey::from_pem(mock::MERCHANT_KEY_PEM)?;
    /// let signature = sign_base64(&key, b"wx8888888888888888\n1414561699\n")?;
    /// let public = PublicKey::from_pem(mock::MERCHANT_PUBLIC_KEY_PEM)?;
    /// public.verify_base64(b"wx8888888888888888\n1414561699\n", &signature)?;
    /// assert!(public.verify_base64(b"tampered", &signature).is_err());
    /// # Ok(())
    /// # }
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Verification`](crate::ErrorKind::Verification) with
    /// [`Verification::Signature`] when `signature` is not base64 or does not match.
    pub fn verify_base64(&self, message: &[u8], signature: &str) -> Result<()> {
        let raw = STANDARD.decode(signature.trim()).map_err(|_| {
            Error::verification(
                Verification::Signature,
                "the signature is not base64 (WeChat Pay's signatures are standard base64)",
            )
        })?;
        self.verify(message, &raw)
    }

    /// Encrypts a sensitive field with RSA-OAEP (SHA-1, MGF1-SHA-1), returning base64, as
    /// WeChat Pay expects for names, ID numbers, bank accounts and the like. At most 214 bytes
    /// fit in one RSA-2048 block.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) when the plaintext is
    /// too long, [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) if the backend fails.
    pub fn encrypt_oaep(&self, plaintext: &[u8]) -> Result<String> {
        let max = self.0.key.max_oaep_plaintext();
        if plaintext.len() > max {
            return Err(Error::invalid(format!(
                "a sensitive field of {} bytes is too long for RSA-OAEP with this key (at most \
                 {max} bytes)",
                plaintext.len()
            )));
        }
        Ok(STANDARD.encode(self.0.key.encrypt_oaep(plaintext)?))
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.debug("PublicKey", f)
    }
}

/// An X.509 certificate: a WeChat Pay platform certificate (`wechatpay_{serial}.pem`) or the
/// merchant certificate (`apiclient_cert.pem`).
#[derive(Clone, Debug)]
pub struct Certificate {
    serial: String,
    public_key: PublicKey,
    not_before: u64,
    not_after: u64,
}

impl Certificate {
    /// Parses a PEM certificate (`-----BEGIN CERTIFICATE-----`).
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) when the text is not an RSA
    /// certificate.
    pub fn from_pem(pem: &str) -> Result<Self> {
        Self::from_pem_with_backend(pem, Backend::default())
    }

    /// Reads and parses a PEM certificate file.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) when the file cannot be read, else as
    /// [`Certificate::from_pem`].
    pub fn from_pem_file(path: impl AsRef<Path>) -> Result<Self> {
        Self::from_pem(&read_pem_file(path.as_ref(), "certificate")?)
    }

    /// Parses a PEM certificate whose key is held by a given [`Backend`].
    ///
    /// # Errors
    ///
    /// As [`Certificate::from_pem`].
    pub fn from_pem_with_backend(pem: &str, backend: Backend) -> Result<Self> {
        let PemBlock { label, der } = der::first_pem_block(pem, "certificate")?;
        if label != "CERTIFICATE" {
            return Err(Error::crypto(format!(
                "expected a PEM `CERTIFICATE`, got `{label}`"
            )));
        }
        let parts = der::certificate_parts(&der)?;
        Ok(Self {
            public_key: PublicKey::from_spki_der(&parts.spki, backend)?,
            serial: parts.serial,
            not_before: parts.not_before,
            not_after: parts.not_after,
        })
    }

    /// The serial number as upper-case hex, the way WeChat Pay writes it in
    /// `Wechatpay-Serial` and `serial_no`.
    pub fn serial(&self) -> &str {
        &self.serial
    }

    /// The certificate's public key.
    pub fn public_key(&self) -> &PublicKey {
        &self.public_key
    }

    /// The start of its validity (`notBefore`), in Unix seconds.
    pub fn not_before(&self) -> u64 {
        self.not_before
    }

    /// The end of its validity (`notAfter`), in Unix seconds.
    pub fn not_after(&self) -> u64 {
        self.not_after
    }
}

/// The text of a PEM file, overwritten with zeros when dropped (it may be a private key).
fn read_pem_file(path: &Path, what: &str) -> Result<Zeroizing<String>> {
    std::fs::read_to_string(path)
        .map(Zeroizing::new)
        .map_err(|e| {
            Error::config(format!(
            "cannot read the {what} file `{}`: {e}; check the path (a plain path, no `file://`)",
            path.display()
        ))
        .with_source(e)
        })
}
