//! The integration tests, one test crate (one link) with a module per area. The
//! conformance harness is its own crate (`tests/conformance.rs`).

mod allocations;
mod bill;
mod certificates;
mod chain;
mod client;
mod common;
mod endpoints;
mod errors;
mod events;
mod keys;
mod notify;
mod options;
mod paysign;
mod runtimes;
mod sensitive;
mod sourcegen;
mod toolkit;
mod v2;
