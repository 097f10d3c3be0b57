//! APIv3: signing requests, verifying answers and notifications, pay-sign, bills.
//!
//! Every function here is pure: the clock and the nonce are inputs. The client
//! ([`Client`](crate::Client)) calls them for you; they are public for tests, for custom
//! transports and for anything the client does not cover.

pub(crate) mod answer;
pub mod certificates;
pub mod notify;
pub mod paysign;
pub(crate) mod request;
pub mod sign;
pub mod verify;

/// Bill downloads live at the crate root ([`crate::bill`]); this path is kept for them.
pub use crate::bill;
