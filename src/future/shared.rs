//! [`Shared`]: what every chain of a client shares.

use std::sync::Arc;

use super::expiry::ExpiryWatch;
use super::failover::FailoverShell;
use super::refresher::Refresher;
use crate::config::Config;
use crate::runtime::ClientRuntime;
use crate::transport::{HttpsTransport, Transport};

/// What every chain of a client shares: the checked configuration, the transport, the
/// process's runtime thread behind blocking calls, the route to the backup domain, and
/// (automatic mode) what keeps the platform keys current.
pub(crate) struct Shared {
    pub config: Config,
    pub transport: Arc<dyn Transport>,
    /// The default transport, when it is the one in use (it knows the proxies).
    pub https: Option<HttpsTransport>,
    /// Where the client's work runs.
    pub runtime: ClientRuntime,
    pub refresher: Option<Refresher>,
    pub failover: Option<Arc<FailoverShell>>,
    /// When to look at the certificates' expiry again.
    pub expiry: ExpiryWatch,
}

impl Shared {
    pub(crate) fn new(
        config: Config,
        transport: Arc<dyn Transport>,
        https: Option<HttpsTransport>,
        refresher: Option<Refresher>,
    ) -> Self {
        let failover = config.backup_base_uri.clone().map(|backup| {
            Arc::new(FailoverShell::new(
                config.failover,
                config.base_uri.clone(),
                backup,
            ))
        });
        Self {
            config,
            transport,
            https,
            runtime: ClientRuntime::default(),
            refresher,
            failover,
            expiry: ExpiryWatch::default(),
        }
    }
}
