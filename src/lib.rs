#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_cfg))]

// The pure core: options → plan, templates, URIs, signing, verification, crypto, XML, bills,
// typed events, the endpoint catalog, the documented schema (the encrypted request fields;
// the rest with feature `sandbox`), and the retry and failover rules (resilience). None of
// these modules imports the client, the chains, the request future, the runtime, the
// transport or the mock.
pub mod bill;
pub mod config;
pub mod crypto;
pub mod endpoints;
mod error;
pub mod events;
pub mod keystore;
mod media;
mod normalize;
mod options;
mod plan;
mod protocol;
mod request;
pub mod resilience;
mod response;
#[cfg_attr(feature = "sandbox", allow(dead_code))] // used by the sandbox as it is built
mod schema;
mod template;
mod time;
pub mod toolkit;
mod uri;
pub mod v2;
pub mod v3;
pub mod xml;

// The shell: the client and its chains, the request future, the runtime thread, the
// transport, the notify_url adapters, and the mock server.
#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub mod axum;
pub mod callback;
mod chain;
mod client;
mod future;
#[cfg(feature = "mock")]
pub mod mock;
#[cfg(feature = "pkcs11")]
#[cfg_attr(docsrs, doc(cfg(feature = "pkcs11")))]
pub mod pkcs11;
#[cfg(feature = "redis")]
#[cfg_attr(docsrs, doc(cfg(feature = "redis")))]
pub mod redis;
pub mod registry;
mod runtime;
#[cfg(feature = "sandbox")]
#[cfg_attr(docsrs, doc(cfg(feature = "sandbox")))]
pub mod sandbox;
pub mod transport;

// Documentation only: the guides, from src/guide/*.md.
pub mod guide;

pub use chain::Chain;
pub use client::{Client, ClientBuilder, NetworkStatus};
pub use crypto::{AsyncSigner, Certificate, PrivateKey, PublicKey, Signer};
pub use error::{Error, ErrorKind, ErrorResponse, Result, Verification};
pub use future::ResponseFuture;
pub use keystore::{FileKeyStore, KeyStore};
pub use media::Media;
pub use options::Options;
pub use response::{Response, Streamed, VerifiedBy};
pub use v3::certificates::PlatformCertificate;
pub use v3::notify::Notification;
#[cfg(feature = "macros")]
pub use wechatpay_macros::chain;

/// Re-exported so that no hyper type is needed to use a [`Transport`](transport::Transport)
/// or read a [`Response`].
pub use bytes;
pub use http;
