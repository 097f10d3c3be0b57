//! A fleet through Redis (feature `redis`): what several instances of a service must share,
//! kept in one Redis server.
//!
//! * [`RedisKeyStore`]: the downloaded platform certificates of a merchant
//!   ([`ClientBuilder::key_store`](crate::ClientBuilder::key_store)), with a cross-process
//!   single flight: when the store is empty or stale, one instance downloads and the others
//!   wait for its result instead of calling WeChat Pay themselves.
//! * [`RedisDedupe`]: the [`Deduplicate`](crate::events::Deduplicate) claims of
//!   notifications, so that a notification delivered to two instances (or retried on
//!   another) is processed once; when Redis cannot answer, no claim is
//!   [`New`](crate::events::Claim::New).
//!
//! Both take a URL, `redis://[user:password@]host[:port][/db]` (or `redis+unix:///path`),
//! and do no I/O when made. The connection is made at the first use and shared by every
//! store of the process opened with the same URL: one multiplexed connection (the `redis`
//! crate's connection manager, which reconnects after an outage), driven by the process's
//! runtime thread, so that the futures run under any executor. Every call gives up after a
//! few seconds. The URL's user and password never appear in `Debug` or in errors.
//!
//! Keys live under a prefix (`wechatpay` unless set): `{prefix}:{mchid}:certificates` (and
//! its `:lease`) and `{prefix}:notification:{id}`. Nothing secret is written: certificates
//! are public, notification ids are opaque.
//!
//! ```no_run
//! use std::sync::Arc;
//!
//! use wechatpay::events::Deduplicate;
//! use wechatpay::redis::{RedisDedupe, RedisKeyStore};
//! use wechatpay::{Client, PrivateKey};
//!
//! # fn main() -> wechatpay::Result<()> {
//! let redis = "redis://10.0.0.5:6379/0";
//! let client = Client::builder()
//!     .mchid("1900000109")
//!     .serial("3775B6A45ACD588826D15E583A95F5DD00000000")
//!     .private_key(PrivateKey::from_pem_file("apiclient_key.pem")?)
//!     .apiv3_key("0123456789abcdef0123456789abcdef")
//!     .auto_certificates()
//!     .key_store(RedisKeyStore::new(redis, "1900000109")?)
//!     .build()?;
//! let seen: Arc<dyn Deduplicate> = Arc::new(RedisDedupe::new(redis)?);
//! # let _ = (client, seen);
//! # Ok(())
//! # }
//! ```

mod connection;
mod dedupe;
mod keystore;
mod names;

pub use dedupe::RedisDedupe;
pub use keystore::RedisKeyStore;
