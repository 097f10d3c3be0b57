//! The integration tests, one test crate (one link) with a module per area. The
//! conformance harness is its own crate (`tests/conformance.rs`).

mod allocations;
mod async_signing;
mod bill;
mod callbacks;
mod certificates;
mod chain;
#[cfg(feature = "cli")]
mod cli;
mod client;
mod common;
#[cfg(feature = "sandbox")]
mod console;
mod endpoints;
mod errors;
mod events;
mod examples;
mod faults;
mod first_signature;
#[cfg(feature = "redis")]
mod fleet;
mod hardening;
#[cfg(unix)]
mod hardening_bodies;
#[cfg(all(unix, feature = "cli"))]
mod hardening_cli;
mod hardening_keys;
mod hardening_proxy;
#[cfg(unix)]
mod hardening_store;
mod http2;
mod keys;
#[cfg(feature = "sandbox")]
mod merchant;
mod notify;
mod options;
mod paysign;
#[cfg(feature = "pkcs11")]
mod pkcs11;
mod plaintext;
mod properties;
mod proxy;
mod rate_limits;
#[cfg(feature = "redis")]
mod redis_server;
#[cfg(feature = "redis")]
mod redis_stores;
mod registry;
mod resilience;
mod rollout;
mod runtimes;
#[cfg(feature = "sandbox")]
mod sandbox;
#[cfg(feature = "cli")]
mod sandbox_cli;
#[cfg(feature = "sandbox")]
mod sandbox_forms;
#[cfg(feature = "sandbox")]
mod sandbox_memory;
mod schema;
mod sensitive;
mod sink;
mod sourcegen;
mod toolkit;
#[cfg(feature = "tracing")]
mod tracing;
mod transport;
mod v2;
mod v2_notify;
