//! Many merchants in one process, for platforms (服务商, SaaS): [`MerchantRegistry`], one
//! [`Client`](crate::Client) per merchant id, built when first needed from a [`MerchantSource`] of yours (a
//! database, a config file), and replaced atomically when a merchant's settings change.
//!
//! * **Lazy**: the first [`MerchantRegistry::get`] of a merchant asks the source; requests for
//!   the same merchant that arrive meanwhile wait for that same answer. The client is then
//!   kept, so later requests cost a map lookup.
//! * **Replaced atomically**: after a merchant's settings change (a renewed merchant
//!   certificate, a new APIv3 key), [`MerchantRegistry::insert`] puts the new client in at
//!   once, or [`MerchantRegistry::invalidate`] makes the next request ask the source again.
//!   Requests in flight finish with the client they started with; every request sees either
//!   the old client or the new one, whole.
//! * **Unknown merchants** (the source answers `None`) are not kept: each request for one asks
//!   the source again, so a merchant added to the database is found without a restart. Ids
//!   that cannot be merchant ids (anything but 1 to 32 ASCII letters and digits) never reach
//!   the source.
//!
//! With feature `axum`, [`MerchantNotified`] routes `/…/notify/{mchid}` to that merchant's
//! keys. Clients of one process share the runtime thread and, where their TLS settings are
//! equal, connection pools; see the [fleet guide](crate::guide::fleet) for what a fleet shares.
//!
//! ```
//! use wechatpay::Client;
//! use wechatpay::registry::MerchantRegistry;
//!
//! /// Your settings of a merchant, e.g. a row of your database.
//! async fn settings(mchid: &str) -> wechatpay::Result<Option<Client>> {
//!     if mchid != "1900000109" {
//!         return Ok(None); // not one of ours
//!     }
//!     # let builder = wechatpay::mock::client_builder("http://127.0.0.1:1/");
//!     # /*
//!     let builder = Client::builder().mchid(mchid).serial(&row.serial) /* … */;
//!     # */
//!     Ok(Some(builder.build()?))
//! }
//!
//! # fn main() -> wechatpay::Result<()> {
//! # futures::executor::block_on(async {
//! let merchants = MerchantRegistry::new(|mchid: String| async move { settings(&mchid).await });
//! let client = merchants.get("1900000109").await?.expect("a merchant of ours");
//! assert_eq!(client.mchid(), "1900000109");
//! assert!(merchants.get("1900000999").await?.is_none());
//! # Ok(())
//! # })
//! # }
//! ```

#[cfg(feature = "axum")]
mod axum;
mod merchants;

#[cfg(feature = "axum")]
#[cfg_attr(docsrs, doc(cfg(feature = "axum")))]
pub use self::axum::MerchantNotified;
pub use merchants::{MerchantRegistry, MerchantSource};
