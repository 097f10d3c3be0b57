//! What the mock's servers, its handle and the engine plugged in share: rules, records,
//! merchants, platform keys, the clock.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;

#[cfg(feature = "sandbox")]
use super::engine::Engine;
use super::network::Network;
use super::platform::Platform;
use super::rules::State;
use crate::crypto::PublicKey;
use crate::toolkit;

/// What the mock's servers share with its handle.
pub(super) struct Shared {
    pub state: Mutex<State>,
    pub network: Arc<Network>,
    pub merchant_key: PublicKey,
    /// Merchants besides [`MCHID`](super::MCHID): their certificate serial and public key, by merchant id.
    pub merchants: Mutex<HashMap<String, (String, PublicKey)>>,
    pub platform: Mutex<Platform>,
    pub reuse_signatures: AtomicBool,
    pub last_signature: Mutex<Option<CachedSignature>>,
    /// Seconds the mock's clock runs ahead of (or, negative, behind) the system clock.
    pub clock_offset: AtomicI64,
    /// The stateful WeChat Pay plugged in (the sandbox), if any.
    #[cfg(feature = "sandbox")]
    pub engine: Option<Arc<dyn Engine>>,
}

impl Shared {
    pub(super) fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave the state half-written: recover it.
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn platform(&self) -> MutexGuard<'_, Platform> {
        self.platform
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(super) fn merchants(&self) -> MutexGuard<'_, HashMap<String, (String, PublicKey)>> {
        self.merchants
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The mock's clock, in Unix seconds: the system clock plus the offset set with
    /// [`MockServer::set_clock_offset`](super::MockServer::set_clock_offset).
    pub(super) fn now(&self) -> u64 {
        toolkit::timestamp().saturating_add_signed(self.clock_offset.load(Ordering::Relaxed))
    }
}

/// The signature headers of the last answer, reusable within the same second.
pub(super) struct CachedSignature {
    pub second: u64,
    pub key_id: String,
    pub body: Bytes,
    pub headers: Vec<(&'static str, String)>,
}
