//! The client, its builder, and `client["…"]`.

mod builder;
mod handle;
mod helpers;
mod network;
mod safeguards;

pub use builder::ClientBuilder;
pub use handle::Client;
pub use network::NetworkStatus;
