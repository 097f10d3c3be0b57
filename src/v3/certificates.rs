//! The platform-certificate download (下载平台证书, `GET /v3/certificates`): checking the
//! answer and opening the certificates it carries. Pure: the clock is an input.
//!
//! **Why a download can be trusted.** Each certificate arrives encrypted with
//! AEAD_AES_256_GCM under the merchant's APIv3 key, a secret that only the merchant and
//! WeChat Pay hold. When its GCM tag checks under that key, the certificate was put there by
//! WeChat Pay and not altered since: whoever sits between the merchant and WeChat Pay (a proxy,
//! a forged DNS answer, a hostile network) has no APIv3 key, so can neither make up a
//! certificate nor change one. That tag is the proof of origin; the HTTPS connection and the
//! answer's own signature come on top. A certificate whose tag does not check is never
//! trusted, and neither is anything else in that answer.
//!
//! The answer's `Wechatpay-Signature` must then verify with one of the certificates it
//! carries (the bootstrap the official SDKs use) or with a key already trusted; each
//! certificate's serial must equal the `serial_no` it is listed under; and its validity (its
//! own `notBefore` / `notAfter`, narrowed by the listed `effective_time` / `expire_time`) must
//! not have ended: expired certificates are dropped, not trusted.
//!
//! [`Client::download_certificates`](crate::Client::download_certificates) sends the request
//! and calls [`verify_download`]; automatic mode
//! ([`ClientBuilder::auto_certificates`](crate::ClientBuilder::auto_certificates)) keeps the
//! result in the client's key ring.

use std::fmt;

use bytes::Bytes;
use http::HeaderMap;
use serde::Deserialize;

use super::notify::AEAD_AES_256_GCM;
use super::verify::verify_signed;
use crate::config::ApiV3Key;
use crate::crypto::{
    Certificate, PlatformKeys, PublicKey, Validity, aes_gcm_decrypt, check_sole_pem_block,
};
use crate::error::{Error, ErrorResponse, Result, status_error};
use crate::time::{format_rfc3339, parse_rfc3339};

/// The path of the download, relative to the base URI.
pub const PATH: &str = "v3/certificates";

/// A platform certificate from a verified download (or a [`KeyStore`](crate::KeyStore)):
/// the certificate, its PEM text, and when it may be used.
#[derive(Clone)]
pub struct PlatformCertificate {
    certificate: Certificate,
    pem: String,
    validity: Validity,
}

impl PlatformCertificate {
    /// A certificate from its PEM text, valid where its own `notBefore` / `notAfter` and
    /// `listed` (what WeChat Pay listed, or what a store kept) overlap. For certificates
    /// read back from your own storage: nothing here checks where the PEM came from.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Crypto`](crate::ErrorKind::Crypto) when the text is not exactly one PEM
    /// RSA certificate (nothing else around it but whitespace), or when `serial` is given and
    /// is not the certificate's.
    pub fn from_pem(pem: &str, serial: Option<&str>, listed: Validity) -> Result<Self> {
        check_sole_pem_block(pem, "CERTIFICATE", "platform certificate")?;
        let certificate = Certificate::from_pem(pem)?;
        if let Some(serial) = serial
            && !certificate.serial().eq_ignore_ascii_case(serial)
        {
            return Err(Error::crypto(format!(
                "the platform certificate listed as `{serial}` has the serial `{}`: the \
                     download is inconsistent, so none of it is trusted",
                certificate.serial()
            )));
        }
        let validity = Validity {
            not_before: certificate.not_before().max(listed.not_before),
            not_after: certificate.not_after().min(listed.not_after),
        };
        Ok(Self {
            certificate,
            pem: pem.to_owned(),
            validity,
        })
    }

    /// The serial number (upper-case hex), the id WeChat Pay names in `Wechatpay-Serial`.
    pub fn serial(&self) -> &str {
        self.certificate.serial()
    }

    /// The certificate as PEM text (`-----BEGIN CERTIFICATE-----`), e.g. to save as
    /// `wechatpay_{serial}.pem`.
    pub fn pem(&self) -> &str {
        &self.pem
    }

    /// The parsed certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Its public key.
    pub fn public_key(&self) -> &PublicKey {
        self.certificate.public_key()
    }

    /// When it may be used: its own validity, narrowed by the listed `effective_time` and
    /// `expire_time`.
    pub fn validity(&self) -> Validity {
        self.validity
    }
}

impl fmt::Debug for PlatformCertificate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PlatformCertificate")
            .field("serial", &self.serial())
            .field("not_before", &format_rfc3339(self.validity.not_before, 0))
            .field("not_after", &format_rfc3339(self.validity.not_after, 0))
            .finish_non_exhaustive()
    }
}

/// The platform keys of `certificates`, each with its validity.
pub fn platform_keys(certificates: &[PlatformCertificate]) -> PlatformKeys {
    let mut keys = PlatformKeys::new();
    for certificate in certificates {
        keys.insert_with_validity(
            certificate.serial(),
            certificate.public_key().clone(),
            certificate.validity(),
        );
    }
    keys
}

#[derive(Deserialize)]
struct Listing {
    data: Vec<Listed>,
}

#[derive(Deserialize)]
struct Listed {
    serial_no: String,
    effective_time: String,
    expire_time: String,
    encrypt_certificate: Encrypted,
}

#[derive(Deserialize)]
struct Encrypted {
    algorithm: String,
    nonce: String,
    /// Missing counts as empty, which is refused.
    #[serde(default)]
    associated_data: String,
    ciphertext: String,
}

/// Checks the successful answer of a download (its headers and raw body) and returns the
/// certificates that are still valid at `now` (Unix seconds), in the order listed.
///
/// Every listed certificate must be sealed as WeChat Pay seals them (`associated_data`
/// `certificate`, a 12-byte nonce), decrypt under `apiv3_key` (the GCM tag is what proves it
/// comes from WeChat Pay) to exactly one PEM certificate, and carry the serial it is listed
/// under; the answer must be signed by one of them or by a key of `trusted`, within the
/// usual ±300 s. Certificates whose validity has ended are left out; one whose validity has
/// not begun yet is kept (WeChat Pay lists a new certificate before it starts using it), and
/// verifies nothing before it begins.
///
/// # Errors
///
/// Nothing of a failed download may be trusted, so any failure fails it all:
/// * [`ErrorKind::Decode`](crate::ErrorKind::Decode): the body is not a certificate listing,
///   or a time is not RFC 3339, or the algorithm is not `AEAD_AES_256_GCM`;
/// * [`ErrorKind::Crypto`](crate::ErrorKind::Crypto): a certificate does not decrypt under
///   the APIv3 key (a wrong key, or a download that did not come from WeChat Pay), does not
///   parse, or has another serial; or no listed certificate is valid at `now`;
/// * [`ErrorKind::Verification`](crate::ErrorKind::Verification): the answer's signature,
///   as for any answer (e.g. `UnknownSerial` when it is signed by a key that is neither
///   listed nor trusted).
pub fn verify_download(
    headers: &HeaderMap,
    body: &[u8],
    apiv3_key: &ApiV3Key,
    trusted: &PlatformKeys,
    now: u64,
) -> Result<Vec<PlatformCertificate>> {
    let listing: Listing = serde_json::from_slice(body).map_err(|e| {
        Error::decode(format!(
            "the platform certificate download is not a certificate listing \
             (`{{\"data\": [{{\"serial_no\", \"encrypt_certificate\", …}}]}}`): {e}"
        ))
        .with_source(e)
    })?;
    let mut listed = Vec::with_capacity(listing.data.len());
    for entry in &listing.data {
        listed.push(open(entry, apiv3_key)?);
    }
    listed.retain(|certificate| now <= certificate.validity.not_after);

    let candidates = trusted.merged_with(&platform_keys(&listed));
    verify_signed(headers, body, now, &candidates)?;

    if listed.is_empty() {
        let serials: Vec<&str> = listing
            .data
            .iter()
            .map(|entry| entry.serial_no.as_str())
            .collect();
        return Err(Error::crypto(format!(
            "WeChat Pay listed no platform certificate that is still valid (listed: [{}]); \
             check the local clock, or move to the WeChat Pay public key \
             (ClientBuilder::platform_key with its PUB_KEY_ID_…)",
            serials.join(", ")
        )));
    }
    Ok(listed)
}

/// What WeChat Pay seals a listed certificate with: its `associated_data`, and the length of
/// its `nonce`.
const CERTIFICATE_AAD: &str = "certificate";
const CERTIFICATE_NONCE_LEN: usize = 12;

/// Decrypts, parses and checks one listed certificate: sealed as WeChat Pay seals them
/// (`associated_data` `certificate`, a 12-byte nonce), and exactly one PEM certificate inside.
fn open(entry: &Listed, apiv3_key: &ApiV3Key) -> Result<PlatformCertificate> {
    let serial = &entry.serial_no;
    let encrypted = &entry.encrypt_certificate;
    if encrypted.algorithm != AEAD_AES_256_GCM {
        return Err(Error::decode(format!(
            "the platform certificate `{serial}` is encrypted with `{}`; only \
             {AEAD_AES_256_GCM} is supported (download with algorithm_type=RSA)",
            encrypted.algorithm
        )));
    }
    if encrypted.associated_data != CERTIFICATE_AAD {
        return Err(Error::crypto(format!(
            "the platform certificate `{serial}` is sealed with associated_data `{}`, not \
             `{CERTIFICATE_AAD}` as WeChat Pay seals certificates: the download did not come \
             from WeChat Pay; nothing from it was trusted",
            encrypted.associated_data.escape_debug()
        )));
    }
    if encrypted.nonce.len() != CERTIFICATE_NONCE_LEN {
        return Err(Error::crypto(format!(
            "the platform certificate `{serial}` is sealed with a nonce of {} bytes, not the \
             {CERTIFICATE_NONCE_LEN} WeChat Pay uses: the download did not come from WeChat \
             Pay; nothing from it was trusted",
            encrypted.nonce.len()
        )));
    }
    let plaintext = aes_gcm_decrypt(
        apiv3_key.as_bytes(),
        encrypted.nonce.as_bytes(),
        encrypted.associated_data.as_bytes(),
        &encrypted.ciphertext,
    )
    .map_err(|e| {
        Error::crypto(format!(
            "the platform certificate `{serial}` does not decrypt with the APIv3 key: the \
             APIv3 key is wrong (ClientBuilder::apiv3_key; 账户中心 → API安全 → APIv3密钥) or \
             the download did not come from WeChat Pay; nothing from it was trusted"
        ))
        .with_source(e)
    })?;
    let pem = String::from_utf8(plaintext).map_err(|e| {
        Error::crypto(format!(
            "the platform certificate `{serial}` decrypts to something that is not PEM text"
        ))
        .with_source(e)
    })?;
    let time = |name: &str, value: &str| {
        parse_rfc3339(value).ok_or_else(|| {
            Error::decode(format!(
                "the `{name}` of platform certificate `{serial}` is `{value}`, not an RFC 3339 \
                 time"
            ))
        })
    };
    let listed = Validity {
        not_before: time("effective_time", &entry.effective_time)?,
        not_after: time("expire_time", &entry.expire_time)?,
    };
    PlatformCertificate::from_pem(&pem, Some(serial), listed)
}

/// Checks the answer to a download request: a success status, then [`verify_download`]. A
/// failure keeps the answer ([`Error::response`](crate::Error::response)).
pub(crate) fn check_response(
    response: http::Response<Bytes>,
    apiv3_key: &ApiV3Key,
    trusted: &PlatformKeys,
    now: u64,
) -> Result<Vec<PlatformCertificate>> {
    let (parts, body) = response.into_parts();
    if !parts.status.is_success() {
        let error = status_error(parts.status, parts.headers, body);
        return Err(if error.code() == Some("RESOURCE_NOT_EXISTS") {
            error.with_note(
                "; this merchant has no platform certificate: it verifies with the WeChat Pay \
                 public key instead (ClientBuilder::platform_key with its PUB_KEY_ID_… and \
                 pub_key.pem, from 账户中心 → API安全), and needs no auto_certificates()",
            )
        } else {
            error
        });
    }
    verify_download(&parts.headers, &body, apiv3_key, trusted, now)
        .map_err(|error| error.with_response(ErrorResponse::new(parts.status, parts.headers, body)))
}
