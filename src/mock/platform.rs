//! The mock's platform side: its keys, which one signs its answers, the certificates it lists
//! at `GET /v3/certificates`, a rotation, a migration to the public key, and forgeries.

use serde_json::{Value, json};

use super::keys::{
    APIV3_KEY, FORGED_CERTIFICATE_PEM, FORGER_KEY_PEM, PLATFORM_CERTIFICATE_PEM, PLATFORM_KEY_ID,
    PLATFORM_KEY_PEM, PLATFORM_ROTATED_CERTIFICATE_PEM, PLATFORM_ROTATED_KEY_PEM,
};
use crate::crypto::{Certificate, PrivateKey, aes_gcm_encrypt};
use crate::error::Result;
use crate::time::format_rfc3339;
use crate::toolkit;
use crate::v3::notify::AEAD_AES_256_GCM;

/// Which platform key signs the mock's APIv3 answers (and notifications).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Signing {
    /// The WeChat Pay public key, [`PLATFORM_KEY_ID`](super::PLATFORM_KEY_ID) (the default): a merchant onboarded
    /// with the public key.
    PublicKey,
    /// The platform certificate in use: [`PLATFORM_CERTIFICATE_SERIAL`](super::PLATFORM_CERTIFICATE_SERIAL),
    /// or [`PLATFORM_ROTATED_CERTIFICATE_SERIAL`](super::PLATFORM_ROTATED_CERTIFICATE_SERIAL)
    /// after [`MockServer::rotate_platform_certificate`](super::MockServer::rotate_platform_certificate): a merchant on certificates.
    Certificate,
    /// A migration to the public key in progress: an answer is signed by the public key when
    /// the request's `Wechatpay-Serial` names [`PLATFORM_KEY_ID`](super::PLATFORM_KEY_ID) (the merchant decides, as
    /// with WeChat Pay), else by the certificate in use; notifications by the public key.
    Migrating,
}

/// A forged certificate download, as someone between the client and WeChat Pay who lacks the
/// merchant's APIv3 key could serve it ([`MockServer::forge_certificate_downloads`](super::MockServer::forge_certificate_downloads)).
///
/// While a forgery is on, the mock plays that forger for every APIv3 answer, not just the
/// download: each is signed by the forger's key under
/// [`FORGED_CERTIFICATE_SERIAL`](super::FORGED_CERTIFICATE_SERIAL).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Forgery {
    /// The forger's own certificate, encrypted under a key that is not the merchant's APIv3
    /// key (the forger does not have it).
    WrongApiV3Key,
    /// The genuine listing with one byte of a ciphertext changed.
    TamperedCiphertext,
    /// The genuine listing, signed by a key it does not list (the forger's).
    UnlistedSigner,
}

/// A platform certificate the mock can list, and its private key.
struct MockCertificate {
    certificate: Certificate,
    pem: &'static str,
    key: PrivateKey,
}

impl MockCertificate {
    fn new(pem: &'static str, key_pem: &str) -> Result<Self> {
        Ok(Self {
            certificate: Certificate::from_pem(pem)?,
            pem,
            key: PrivateKey::from_pem(key_pem)?,
        })
    }

    fn answer_key(&self) -> AnswerKey {
        AnswerKey {
            id: self.certificate.serial().to_owned(),
            key: self.key.clone(),
        }
    }
}

/// The mock's platform side: its keys and what it lists.
pub(super) struct Platform {
    public_key: PrivateKey,
    /// The original certificate, then the rotated one.
    certificates: [MockCertificate; 2],
    listed: Vec<usize>,
    in_use: usize,
    signing: Signing,
    forgery: Option<Forgery>,
    forger: MockCertificate,
}

impl Platform {
    pub(super) fn new() -> Result<Self> {
        Ok(Self {
            public_key: PrivateKey::from_pem(PLATFORM_KEY_PEM)?,
            certificates: [
                MockCertificate::new(PLATFORM_CERTIFICATE_PEM, PLATFORM_KEY_PEM)?,
                MockCertificate::new(PLATFORM_ROTATED_CERTIFICATE_PEM, PLATFORM_ROTATED_KEY_PEM)?,
            ],
            listed: vec![0],
            in_use: 0,
            signing: Signing::PublicKey,
            forgery: None,
            forger: MockCertificate::new(FORGED_CERTIFICATE_PEM, FORGER_KEY_PEM)?,
        })
    }

    /// The key that signs an answer to a request whose `Wechatpay-Serial` is `request_serial`:
    /// while migrating, the public key only when the request names it.
    pub(super) fn request_answer_key(&self, request_serial: Option<&str>) -> AnswerKey {
        match (self.signing, request_serial, self.forgery) {
            (Signing::Migrating, None, None) => self.certificates[self.in_use].answer_key(),
            _ => self.answer_key(request_serial),
        }
    }

    /// The key that signs an answer to a request naming `request_serial` (`None` for a
    /// notification).
    pub(super) fn answer_key(&self, request_serial: Option<&str>) -> AnswerKey {
        let public_key = || AnswerKey {
            id: PLATFORM_KEY_ID.to_owned(),
            key: self.public_key.clone(),
        };
        if self.forgery.is_some() {
            return self.forger.answer_key();
        }
        let certificate = || self.certificates[self.in_use].answer_key();
        match (self.signing, request_serial) {
            (Signing::PublicKey, _) => public_key(),
            (Signing::Certificate, _) => certificate(),
            (Signing::Migrating, Some(PLATFORM_KEY_ID) | None) => public_key(),
            (Signing::Migrating, Some(_)) => certificate(),
        }
    }

    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub(super) fn signing(&self) -> Signing {
        self.signing
    }

    pub(super) fn set_signing(&mut self, signing: Signing) {
        self.signing = signing;
    }

    /// Lists the second certificate beside the first and signs with it from now on.
    pub(super) fn rotate(&mut self) {
        self.listed = vec![0, 1];
        self.in_use = 1;
    }

    /// Ends a rotation: only the second certificate is listed from now on.
    pub(super) fn retire_old(&mut self) {
        self.listed = vec![1];
        self.in_use = 1;
    }

    /// Plays a forger from now on (`None`: WeChat Pay again).
    pub(super) fn set_forgery(&mut self, forgery: Option<Forgery>) {
        self.forgery = forgery;
    }

    /// The serial of the certificate in use, and the serials listed.
    #[cfg_attr(not(feature = "sandbox"), allow(dead_code))]
    pub(super) fn serials(&self) -> (String, Vec<String>) {
        let serial = |index: usize| self.certificates[index].certificate.serial().to_owned();
        (
            serial(self.in_use),
            self.listed.iter().map(|index| serial(*index)).collect(),
        )
    }

    /// The body of `GET /v3/certificates`: the listed certificates, encrypted under the APIv3
    /// key, forged as set.
    pub(super) fn listing(&self) -> Result<Value> {
        let data = match self.forgery {
            Some(Forgery::WrongApiV3Key) => {
                vec![entry(&self.forger, b"not-the-merchant-apiv3-key-00000")?]
            }
            Some(Forgery::TamperedCiphertext) => {
                let mut data = self.genuine()?;
                if let Some(ciphertext) = data[0]["encrypt_certificate"]["ciphertext"].as_str() {
                    let tampered = tamper(ciphertext);
                    data[0]["encrypt_certificate"]["ciphertext"] = Value::String(tampered);
                }
                data
            }
            Some(Forgery::UnlistedSigner) | None => self.genuine()?,
        };
        Ok(json!({ "data": data }))
    }

    fn genuine(&self) -> Result<Vec<Value>> {
        self.listed
            .iter()
            .map(|index| entry(&self.certificates[*index], APIV3_KEY.as_bytes()))
            .collect()
    }
}

/// One listed certificate, encrypted under `key`.
fn entry(certificate: &MockCertificate, key: &[u8]) -> Result<Value> {
    let nonce = toolkit::nonce(12)?;
    let ciphertext = aes_gcm_encrypt(
        key,
        nonce.as_bytes(),
        b"certificate",
        certificate.pem.as_bytes(),
    )?;
    Ok(json!({
        "serial_no": certificate.certificate.serial(),
        "effective_time": format_rfc3339(certificate.certificate.not_before(), 8),
        "expire_time": format_rfc3339(certificate.certificate.not_after(), 8),
        "encrypt_certificate": {
            "algorithm": AEAD_AES_256_GCM,
            "nonce": nonce,
            "associated_data": "certificate",
            "ciphertext": ciphertext,
        },
    }))
}

/// `base64` with one byte of what it encodes changed.
fn tamper(base64: &str) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::STANDARD;
    let mut raw = STANDARD.decode(base64).unwrap_or_default();
    if let Some(byte) = raw.get_mut(10) {
        *byte ^= 0x01;
    }
    STANDARD.encode(raw)
}

/// The key an answer is signed with, and the id sent in `Wechatpay-Serial`.
#[derive(Clone)]
pub(super) struct AnswerKey {
    pub id: String,
    pub key: PrivateKey,
}
