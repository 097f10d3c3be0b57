//! The merchant key in an HSM (feature `pkcs11`): [`Pkcs11Signer`] signs requests through a
//! PKCS #11 module (the standard interface of HSMs and smart cards: SoftHSM2, a network HSM's
//! client library, a cloud HSM's PKCS #11 library), so the private key never leaves it.
//!
//! ```no_run
//! use wechatpay::Client;
//! use wechatpay::pkcs11::Pkcs11Signer;
//!
//! # fn main() -> wechatpay::Result<()> {
//! let hsm = Pkcs11Signer::open("/usr/lib/softhsm/libsofthsm2.so", "wechatpay", "1234", "apiclient_key")?;
//! let client = Client::builder()
//!     .mchid("1900000109")
//!     .serial("3775B6A45ACD588826D15E583A95F5DD00000000")
//!     .async_signer(hsm) // signed on tokio's blocking pool: no executor thread waits
//!     # .platform_key("PUB_KEY_ID_0114232134912410000000000000", wechatpay::mock::platform_public_key())
//!     .build()?;
//! # let _ = client;
//! # Ok(())
//! # }
//! ```

use std::fmt;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use cryptoki::context::{CInitializeArgs, CInitializeFlags, Pkcs11};
use cryptoki::error::RvError;
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, ObjectClass, ObjectHandle};
use cryptoki::session::{Session, UserType};
use cryptoki::types::AuthPin;
use futures::future::BoxFuture;

use crate::crypto::{AsyncSigner, Signer};
use crate::error::{Error, ErrorKind, Result};

/// A [`Signer`] and [`AsyncSigner`] whose RSA key is a private-key object of a PKCS #11
/// token: `CKM_SHA256_RSA_PKCS` (RSASSA-PKCS1-v1_5 with SHA-256, what WeChat Pay checks).
///
/// One logged-in session, used by one signature at a time. As an [`AsyncSigner`]
/// ([`ClientBuilder::async_signer`](crate::ClientBuilder::async_signer)) each signature runs
/// on tokio's blocking pool, so a slow HSM never stalls an executor thread; as a [`Signer`]
/// ([`ClientBuilder::signer`](crate::ClientBuilder::signer)) it runs on the caller's thread.
/// Clones share the session. Its `Debug` output names the key's label, never the PIN.
#[derive(Clone)]
pub struct Pkcs11Signer {
    inner: Arc<Held>,
}

struct Held {
    session: Mutex<Session>,
    key: ObjectHandle,
    label: String,
}

fn hsm_error(what: String, error: cryptoki::error::Error) -> Error {
    Error::new(ErrorKind::Crypto, format!("PKCS #11: {what}: {error}")).with_source(error)
}

impl Pkcs11Signer {
    /// Loads the PKCS #11 `module` (its shared library), finds the token labelled `token`,
    /// logs in to it as its user with `pin`, and finds the private key labelled `key`.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the module cannot be loaded or no token or key has that
    /// label; [`ErrorKind::Crypto`] for what the module refuses (a wrong PIN, …).
    pub fn open(module: impl AsRef<Path>, token: &str, pin: &str, key: &str) -> Result<Self> {
        let module = module.as_ref();
        let pkcs11 = Pkcs11::new(module).map_err(|e| {
            Error::config(format!(
                "PKCS #11: cannot load the module `{}`: {e}; give the path of the HSM's PKCS #11 \
                 library (SoftHSM2: /usr/lib/softhsm/libsofthsm2.so)",
                module.display()
            ))
            .with_source(e)
        })?;
        match pkcs11.initialize(CInitializeArgs::new(CInitializeFlags::OS_LOCKING_OK)) {
            // Another signer of this process initialised it already.
            Ok(())
            | Err(cryptoki::error::Error::Pkcs11(RvError::CryptokiAlreadyInitialized, _)) => {}
            Err(e) => return Err(hsm_error("the module does not initialise".into(), e)),
        }
        let slots = pkcs11
            .get_slots_with_token()
            .map_err(|e| hsm_error("cannot list its slots".into(), e))?;
        let slot = slots
            .into_iter()
            .find(|slot| {
                pkcs11
                    .get_token_info(*slot)
                    .is_ok_and(|info| info.label().trim_end() == token)
            })
            .ok_or_else(|| {
                Error::config(format!(
                    "PKCS #11: no token labelled `{token}` in `{}`",
                    module.display()
                ))
            })?;
        let session = pkcs11
            .open_ro_session(slot)
            .map_err(|e| hsm_error(format!("cannot open a session on `{token}`"), e))?;
        session
            .login(UserType::User, Some(&AuthPin::new(pin.into())))
            .map_err(|e| hsm_error(format!("cannot log in to `{token}` (wrong PIN?)"), e))?;
        let found = session
            .find_objects(&[
                Attribute::Class(ObjectClass::PRIVATE_KEY),
                Attribute::Label(key.as_bytes().to_vec()),
            ])
            .map_err(|e| hsm_error("cannot search the token".into(), e))?;
        let handle = found.first().copied().ok_or_else(|| {
            Error::config(format!(
                "PKCS #11: the token `{token}` holds no private key labelled `{key}`"
            ))
        })?;
        Ok(Self {
            inner: Arc::new(Held {
                session: Mutex::new(session),
                key: handle,
                label: key.to_owned(),
            }),
        })
    }
}

impl Held {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let session = self.session.lock().unwrap_or_else(PoisonError::into_inner);
        session
            .sign(&Mechanism::Sha256RsaPkcs, self.key, message)
            .map_err(|e| hsm_error(format!("the key `{}` did not sign", self.label), e))
    }
}

impl Signer for Pkcs11Signer {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        self.inner.sign(message)
    }
}

impl AsyncSigner for Pkcs11Signer {
    fn sign_async(&self, message: Vec<u8>) -> BoxFuture<'static, Result<Vec<u8>>> {
        let held = self.inner.clone();
        Box::pin(async move {
            if tokio::runtime::Handle::try_current().is_err() {
                return held.sign(&message);
            }
            tokio::task::spawn_blocking(move || held.sign(&message))
                .await
                .unwrap_or_else(|e| {
                    Err(
                        Error::new(ErrorKind::Crypto, "PKCS #11: the signing task stopped")
                            .with_source(e),
                    )
                })
        })
    }
}

impl fmt::Debug for Pkcs11Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Pkcs11Signer")
            .field("key", &self.inner.label)
            .finish_non_exhaustive()
    }
}
