//! [`MockHandle`]: the mock seen from the engine plugged into it (the sandbox), which signs
//! notifications with the mock's platform keys and changes them (rotation, signing mode).

use std::net::SocketAddr;
use std::sync::{Arc, Weak};

use bytes::Bytes;
use http::HeaderMap;
use serde_json::Value;

use super::engine::Engine;
use super::keys::MCHID;
use super::notify::{self, Envelope};
use super::notify_v2;
use super::platform::Signing;
use super::rules::Fault;
use super::shared::Shared;
use crate::error::{Error, Result};
use crate::toolkit::SignType;

/// An [`Engine`] that keeps a handle on the mock it is plugged into.
pub(crate) trait Attach: Engine {
    /// Called once when the server starts, with a handle on it.
    fn attach(&self, mock: MockHandle);
}

/// The mock seen from an [`Engine`]: its addresses, its platform keys, notifications signed
/// with them. It does not keep the mock alive.
#[derive(Clone)]
pub(crate) struct MockHandle {
    shared: Weak<Shared>,
    pub address: SocketAddr,
    pub tls_address: SocketAddr,
}

impl MockHandle {
    pub(super) fn new(shared: &Arc<Shared>, address: SocketAddr, tls_address: SocketAddr) -> Self {
        Self {
            shared: Arc::downgrade(shared),
            address,
            tls_address,
        }
    }

    fn shared(&self) -> Result<Arc<Shared>> {
        self.shared
            .upgrade()
            .ok_or_else(|| Error::invalid("the mock server has stopped"))
    }

    /// An APIv3 notification signed now by the platform key in use, its resource encrypted
    /// with the mock's APIv3 key (see `MockServer::notification_with`).
    pub(crate) fn notification(
        &self,
        envelope: &Envelope<'_>,
        plaintext: &Value,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        let shared = self.shared()?;
        notify::v3_notification(&shared, envelope, plaintext, fault)
    }

    /// An APIv2 notification (see `MockServer::v2_notification_with`).
    pub(crate) fn v2_notification(
        &self,
        fields: &Value,
        sign_type: SignType,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        notify_v2::v2_notification(fields, sign_type, fault)
    }

    /// An APIv2 refund notification (see `MockServer::v2_refund_notification_with`).
    pub(crate) fn v2_refund_notification(
        &self,
        fields: &Value,
        refund: &Value,
        fault: Option<Fault>,
    ) -> Result<(HeaderMap, Bytes)> {
        notify_v2::v2_refund_notification(fields, refund, fault)
    }

    /// Which key signs the answers now.
    pub(crate) fn signing(&self) -> Result<Signing> {
        Ok(self.shared()?.platform().signing())
    }

    /// Signs the answers with `signing` from now on.
    pub(crate) fn set_signing(&self, signing: Signing) -> Result<()> {
        self.shared()?.platform().set_signing(signing);
        Ok(())
    }

    /// Rotates the platform certificate (see `MockServer::rotate_platform_certificate`).
    pub(crate) fn rotate(&self) -> Result<()> {
        self.shared()?.platform().rotate();
        Ok(())
    }

    /// The serial of the platform certificate in use, and the serials listed at
    /// `GET /v3/certificates`.
    pub(crate) fn certificates(&self) -> Result<(String, Vec<String>)> {
        Ok(self.shared()?.platform().serials())
    }

    /// The merchant ids the mock accepts requests from.
    pub(crate) fn merchants(&self) -> Result<Vec<String>> {
        let shared = self.shared()?;
        let mut ids = vec![MCHID.to_owned()];
        ids.extend(shared.merchants().keys().cloned());
        Ok(ids)
    }
}
