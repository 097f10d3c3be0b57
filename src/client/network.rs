//! [`NetworkStatus`]: where a client's requests go now.

/// Where a client's requests go now ([`Client::network`](crate::Client::network)): for
/// `wechatpay doctor`, health checks and dashboards.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetworkStatus {
    /// The configured base URI (the primary domain).
    pub base_uri: String,
    /// The backup base URI, when there is one.
    pub backup_base_uri: Option<String>,
    /// Whether requests of the base URI go to the backup now (after repeated connection
    /// failures; the primary is probed in the background meanwhile).
    pub on_backup: bool,
    /// The proxy requests to the base URI go through, as `http://host:port` (never its
    /// credentials); `None` when they go directly, or the transport is not the default one.
    pub proxy: Option<String>,
}

impl NetworkStatus {
    /// The base URI requests go to now: the backup while [`NetworkStatus::on_backup`], else
    /// the configured one.
    pub fn active_base_uri(&self) -> &str {
        match (&self.backup_base_uri, self.on_backup) {
            (Some(backup), true) => backup,
            _ => &self.base_uri,
        }
    }
}
