//! Guides: each job a merchant's integration does, how this crate does it, with examples that
//! run as doctests (`cargo test`). The [crate root](crate) is the short version.
//!
//! Each is listed with what it covers in the [crate root's table](crate#guides).

#[doc = include_str!("guide/credentials.md")]
pub mod credentials {}

#[doc = include_str!("guide/paths.md")]
pub mod paths {}

#[doc = include_str!("guide/testing.md")]
pub mod testing {}

#[doc = include_str!("guide/platform_keys.md")]
pub mod platform_keys {}

#[doc = include_str!("guide/callbacks.md")]
pub mod callbacks {}

#[doc = include_str!("guide/sensitive_fields.md")]
pub mod sensitive_fields {}

#[doc = include_str!("guide/paysign.md")]
pub mod paysign {}

#[doc = include_str!("guide/bills.md")]
pub mod bills {}

#[doc = include_str!("guide/apiv2.md")]
pub mod apiv2 {}

#[doc = include_str!("guide/errors.md")]
pub mod errors {}

#[doc = include_str!("guide/network.md")]
pub mod network {}

// Its examples use `wechatpay::redis`: they run with `cargo test --all-features`.
#[cfg_attr(feature = "redis", doc = include_str!("guide/fleet.md"))]
#[cfg_attr(
    not(feature = "redis"),
    doc = "Running a fleet: this guide is built with feature `redis` (as on docs.rs)."
)]
pub mod fleet {}

#[doc = include_str!("guide/cli.md")]
pub mod cli {}

#[doc = include_str!("guide/from_php.md")]
pub mod from_php {}

#[doc = include_str!("guide/features.md")]
pub mod features {}

#[doc = include_str!("guide/security.md")]
pub mod security {}
