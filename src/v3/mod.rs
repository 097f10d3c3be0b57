//! APIv3: signing requests, verifying answers and notifications, pay-sign, bills.
//!
//! Every function here is pure: the clock and the nonce are inputs. The client
//! ([`Client`](crate::Client)) calls them for you; they are public for tests, for custom
//! transports and for anything the client does not cover.

pub mod certificates;
pub mod notify;
pub mod paysign;
pub(crate) mod request;
pub(crate) mod response;
pub mod sign;
pub mod verify;
