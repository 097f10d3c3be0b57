//! Sending requests: the [`Transport`] seam, [`SendOptions`] (how to send one request), and
//! the default transport, [`HttpsTransport`], a pooled hyper-util client over rustls with
//! proxy support.
//!
//! Only this module and the request future know about hyper and tokio; everything the
//! transport receives is a signed `http::Request<Bytes>` and its [`SendOptions`]. The rules of
//! WeChat Pay (which answers must be signed, a bill's digest) are decided above, by the client:
//! a transport only reads a body the way [`SendOptions::reading`] says.
//!
//! **Not settled.** [`Transport`], [`SendOptions`], [`Reading`] and [`BodySink`] may change
//! in minor releases before 1.0: a transport of your own may need changes when you upgrade.
//! ([`HttpsTransport`] and [`ClientBuilder::transport`](crate::ClientBuilder::transport) stay.)

mod body;
mod connector;
mod https;
mod pools;
mod proxy;
mod seam;
mod sink;
mod tls;

pub use https::HttpsTransport;
pub(crate) use pools::TransportSettings;
pub(crate) use proxy::ProxySetting;
pub(crate) use seam::BodyRule;
pub use seam::{Reading, SendOptions, Transport};
pub use sink::BodySink;
pub(crate) use sink::{BodyCheck, StreamTo};
#[cfg(feature = "mock")]
pub(crate) use tls::provider;
pub(crate) use tls::{TlsIdentity, certificates_from_pem};
