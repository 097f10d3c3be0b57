//! The asynchronous signing path: a try signed by an [`AsyncSigner`] (the request future
//! awaits its signature, so other requests go on meanwhile), and the bridge that lets the
//! synchronous helpers (pay-sign parameters, `Chain::build_request`) use such a signer.

use std::sync::{Arc, Mutex, PoisonError};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::header::AUTHORIZATION;
use http::{HeaderValue, Method};

use crate::config::Config;
use crate::crypto::{AsyncSigner, Signer};
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::request::{self, Pending, Prepared, Stamp};
use crate::runtime::ClientRuntime;
use crate::toolkit;
use crate::uri::BaseUri;
use crate::v3::sign;

/// Builds a try of `plan` for `base` as the synchronous path builds it (one rule for what is
/// signed), with a fresh nonce and the time now, keeping aside the message to sign in
/// [`Prepared::pending`] (none for an APIv2 request, which the APIv2 key signed).
///
/// # Errors
///
/// As [`request::prepare_at`].
pub(crate) fn prepare_pending(
    config: &Config,
    base: &BaseUri,
    method: &Method,
    plan: &Plan,
) -> Result<Prepared> {
    let nonce = toolkit::nonce(32)?;
    let timestamp = toolkit::timestamp();
    let capture = Capture::default();
    let stamp = Stamp {
        timestamp,
        nonce: &nonce,
    };
    let mut prepared =
        request::prepare_signed_by(config, &capture, base, method.clone(), plan, stamp)?;
    let message = capture
        .message
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .take();
    prepared.pending = message.map(|message| {
        Box::new(Pending {
            message,
            timestamp,
            nonce,
        })
    });
    Ok(prepared)
}

/// Signs `pending` with `signer` and writes the `Authorization` header of `prepared`.
///
/// # Errors
///
/// Whatever `signer` reports.
pub(crate) async fn authorize(
    config: &Config,
    signer: &Arc<dyn AsyncSigner>,
    prepared: &mut Prepared,
    pending: Pending,
) -> Result<()> {
    let Pending {
        message,
        timestamp,
        nonce,
    } = pending;
    let signature = signer.sign_async(message).await?;
    let header = sign::authorization(
        &config.mchid,
        &config.serial,
        timestamp,
        &nonce,
        &STANDARD.encode(signature),
    );
    let mut value = HeaderValue::from_str(&header)
        .map_err(|e| Error::invalid("the `Authorization` header cannot be sent").with_source(e))?;
    value.set_sensitive(true);
    prepared.request.headers_mut().insert(AUTHORIZATION, value);
    Ok(())
}

/// A signer that keeps the message it is asked to sign and signs nothing (the header it
/// yields is replaced).
#[derive(Default)]
struct Capture {
    message: Mutex<Option<Vec<u8>>>,
}

impl Signer for Capture {
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        *self.message.lock().unwrap_or_else(PoisonError::into_inner) = Some(message.to_vec());
        Ok(Vec::new())
    }
}

/// An [`AsyncSigner`] used where a signature is needed at once: the caller's thread waits
/// for it, the signature running on the process's runtime thread (feature `blocking`).
pub(crate) struct Bridged {
    signer: Arc<dyn AsyncSigner>,
    runtime: ClientRuntime,
}

impl Bridged {
    pub(crate) fn new(signer: Arc<dyn AsyncSigner>) -> Self {
        Self {
            signer,
            runtime: ClientRuntime::default(),
        }
    }
}

impl Signer for Bridged {
    #[cfg(feature = "blocking")]
    fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let signing = self.signer.sign_async(message.to_vec());
        self.runtime
            .block_on(|placement| self.runtime.placed(placement, signing))
    }

    #[cfg(not(feature = "blocking"))]
    fn sign(&self, _: &[u8]) -> Result<Vec<u8>> {
        let _ = (&self.signer, &self.runtime);
        Err(Error::config(
            "this client signs with an AsyncSigner, and this signature is needed at once \
             (pay-sign parameters, Chain::build_request): turn on the `blocking` feature, or \
             give ClientBuilder::signer (or private_key) beside the async signer",
        ))
    }
}
