//! [`MockServer`]'s network faults: an outage and the return on the same ports, and
//! connections closed after an idle time.

use std::sync::PoisonError;
use std::time::{Duration, Instant};

use super::mock_server::MockServer;
use super::network::listening;

/// Network faults and outages.
impl MockServer {
    /// An outage: both ports stop listening (connections are refused, as by a host that is
    /// down) and every open connection is closed. Nothing reaches the mock until
    /// [`MockServer::accept_connections`].
    ///
    /// ```
    /// use wechatpay::mock::MockServer;
    ///
    /// # fn main() -> wechatpay::Result<()> {
    /// let mock = MockServer::start()?;
    /// let client = mock.client_builder().build()?;
    /// mock.refuse_connections();
    /// let error = client["v3/certificates"].get(()).unwrap_err();
    /// assert!(error.is_connect()); // nothing was sent
    /// mock.accept_connections(); // back, on the same ports
    /// # Ok(())
    /// # }
    /// ```
    pub fn refuse_connections(&self) {
        self.shared.network.accepting.send_replace(false);
        // The accept loops close their listeners as soon as they see it; wait for that, so
        // that a connection made right after this call is refused.
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && (listening(self.address) || listening(self.tls_address))
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Ends an outage of [`MockServer::refuse_connections`]: the mock listens again on the
    /// same ports (and returns once it does).
    pub fn accept_connections(&self) {
        self.shared.network.accepting.send_replace(true);
        let deadline = Instant::now() + Duration::from_secs(2);
        while Instant::now() < deadline && !(listening(self.address) && listening(self.tls_address))
        {
            std::thread::sleep(Duration::from_millis(2));
        }
    }

    /// Closes every connection that stays silent, both ways, for `limit` (as WeChat Pay does
    /// after about 8 s, and most servers after some seconds); `None` keeps connections open
    /// (the default). A reply delayed longer than `limit` counts as silence too.
    pub fn close_idle_connections_after(&self, limit: Option<Duration>) {
        *self
            .shared
            .network
            .idle_limit
            .lock()
            .unwrap_or_else(PoisonError::into_inner) = limit;
    }
}
