//! The client, its builder, and `client["…"]`.

mod builder;
mod handle;
mod helpers;
mod network;
mod safeguard_settings;
mod safeguards;

pub use builder::ClientBuilder;
pub use handle::Client;
pub use network::NetworkStatus;
