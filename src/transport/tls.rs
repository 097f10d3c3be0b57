//! TLS material: the merchant's client identity, extra roots, and the crypto provider.

use std::sync::Arc;

use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs1KeyDer, PrivatePkcs8KeyDer};

use crate::crypto::{PemBlock, pem_blocks};
use crate::error::{Error, Result};

/// The rustls crypto provider of the compiled-in backend: aws-lc-rs (`aws-lc`), else ring
/// (`rustcrypto`).
///
/// # Errors
///
/// [`ErrorKind::Config`](crate::ErrorKind::Config) when neither feature is on.
#[cfg(feature = "aws-lc")]
pub(crate) fn provider() -> Result<Arc<CryptoProvider>> {
    Ok(Arc::new(rustls::crypto::aws_lc_rs::default_provider()))
}

/// See the `aws-lc` variant.
#[cfg(all(not(feature = "aws-lc"), feature = "rustcrypto"))]
pub(crate) fn provider() -> Result<Arc<CryptoProvider>> {
    Ok(Arc::new(rustls::crypto::ring::default_provider()))
}

/// See the `aws-lc` variant.
#[cfg(not(any(feature = "aws-lc", feature = "rustcrypto")))]
pub(crate) fn provider() -> Result<Arc<CryptoProvider>> {
    Err(Error::config(
        "no TLS crypto provider is compiled in: enable the `aws-lc` (default) or the \
         `rustcrypto` feature of wechatpay",
    ))
}

/// A client certificate chain and its key, for mutual TLS.
#[derive(Clone)]
pub(crate) struct TlsIdentity {
    pub(crate) chain: Vec<CertificateDer<'static>>,
    pub(crate) key: Arc<SecretKeyDer>,
}

/// A private key for rustls, overwritten with zeros when dropped.
pub(crate) struct SecretKeyDer(PrivateKeyDer<'static>);

impl std::ops::Deref for SecretKeyDer {
    type Target = PrivateKeyDer<'static>;

    fn deref(&self) -> &Self::Target {
        &self.0
    }
}

impl Drop for SecretKeyDer {
    fn drop(&mut self) {
        zeroize::Zeroize::zeroize(&mut self.0);
    }
}

impl TlsIdentity {
    /// Reads a client certificate chain (`apiclient_cert.pem`, the merchant certificate
    /// first) and its private key (`apiclient_key.pem`), and checks that they belong
    /// together.
    pub(crate) fn from_pem(cert_pem: &str, key_pem: &str) -> Result<Self> {
        let chain: Vec<CertificateDer<'static>> = pem_blocks(cert_pem, "certificate")
            .map_err(|e| {
                Error::config(format!(
                    "merchant_identity: the certificate PEM (apiclient_cert.pem) does not parse: {e}"
                ))
            })?
            .into_iter()
            .filter(|block| block.label == "CERTIFICATE")
            .map(|block| CertificateDer::from(block.into_public_der()))
            .collect();
        if chain.is_empty() {
            return Err(Error::config(
                "merchant_identity: the certificate PEM (apiclient_cert.pem) holds no \
                 `-----BEGIN CERTIFICATE-----` block; is it the key file?",
            ));
        }
        let key = private_key_der(key_pem)?;
        let provider = provider()?;
        rustls::sign::CertifiedKey::from_der(chain.clone(), key.clone_key(), &provider).map_err(
            |e| {
                let what = match e {
                    rustls::Error::InconsistentKeys(_) => {
                        "the certificate (apiclient_cert.pem) is not the one of the private key \
                         (apiclient_key.pem); give the pair downloaded together"
                            .to_owned()
                    }
                    other => format!("the pair cannot be used for TLS: {other}"),
                };
                Error::config(format!("merchant_identity: {what}"))
            },
        )?;
        Ok(Self {
            chain,
            key: Arc::new(SecretKeyDer(key)),
        })
    }
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("certificates", &self.chain.len())
            .finish_non_exhaustive()
    }
}

/// The first private key of a PEM text (PKCS#8 or PKCS#1), for rustls.
fn private_key_der(key_pem: &str) -> Result<PrivateKeyDer<'static>> {
    let blocks = pem_blocks(key_pem, "private key").map_err(|e| {
        Error::config(format!(
            "merchant_identity: the private key PEM (apiclient_key.pem) does not parse: {e}"
        ))
    })?;
    let key = blocks.into_iter().find_map(|PemBlock { label, mut der }| {
        let der = std::mem::take(&mut *der);
        match label.as_str() {
            "PRIVATE KEY" => Some(PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(der))),
            "RSA PRIVATE KEY" => Some(PrivateKeyDer::Pkcs1(PrivatePkcs1KeyDer::from(der))),
            _ => None,
        }
    });
    key.ok_or_else(|| {
        Error::config(
            "merchant_identity: the private key PEM (apiclient_key.pem) holds no \
             `-----BEGIN PRIVATE KEY-----` (or RSA PRIVATE KEY) block; is it the certificate \
             file?",
        )
    })
}

/// Reads every certificate of a PEM text, as DER for rustls.
pub(crate) fn certificates_from_pem(pem: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certificates: Vec<CertificateDer<'static>> = pem_blocks(pem, "TLS certificate")
        .map_err(|e| Error::config(format!("a TLS certificate PEM does not parse: {e}")))?
        .into_iter()
        .filter(|block| block.label == "CERTIFICATE")
        .map(|block| CertificateDer::from(block.into_public_der()))
        .collect();
    if certificates.is_empty() {
        return Err(Error::config(
            "a TLS certificate PEM holds no `-----BEGIN CERTIFICATE-----` block",
        ));
    }
    Ok(certificates)
}
