#![doc = include_str!("../README.md")]
#![forbid(unsafe_code)]
#![deny(missing_docs)]
#![cfg_attr(docsrs, feature(doc_auto_cfg))]

pub mod bill;
mod blocking;
mod chain;
mod client;
pub mod crypto;
pub mod endpoints;
mod error;
mod media;
#[cfg(feature = "mock")]
pub mod mock;
mod normalize;
pub mod notify;
mod options;
pub mod paysign;
mod pipeline;
mod response;
mod sensitive;
pub mod sign;
mod template;
mod transport;
pub mod uri;
pub mod v2;
pub mod verify;

pub use chain::{Chain, ResponseFuture};
pub use client::{
    Client, ClientBuilder, DEFAULT_BASE_URI, DEFAULT_CONNECT_TIMEOUT, DEFAULT_TIMEOUT,
};
pub use crypto::{Backend, Certificate, PrivateKey, PublicKey, Signer};
pub use error::{Error, ErrorKind, ErrorResponse, Result, Verification};
pub use media::Media;
pub use normalize::normalize_segment;
pub use notify::Notification;
pub use options::Options;
pub use paysign::{AppParams, JsapiParams};
pub use response::Response;
pub use template::expand as expand_template;
pub use transport::{HttpsTransport, MutualTls, Transport};
#[cfg(feature = "macros")]
pub use wechatpay_macros::chain;

/// Re-exported so that no hyper type is needed to use a [`Transport`] or read a
/// [`Response`].
pub use bytes;
pub use http;
