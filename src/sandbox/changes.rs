//! The change counter: every change of the sandbox (an entity, a logged request, a delivery
//! attempt) takes the next sequence number, so that a console asks for what changed since the
//! number it last saw, and can wait for the next change.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokio::sync::watch;

/// The sequence of changes.
pub(crate) struct Changes {
    seq: AtomicU64,
    latest: watch::Sender<u64>,
}

impl Changes {
    pub(crate) fn new() -> Self {
        Self {
            seq: AtomicU64::new(0),
            latest: watch::Sender::new(0),
        }
    }

    /// Takes the next sequence number for a change, and wakes those waiting.
    pub(crate) fn bump(&self) -> u64 {
        let seq = self.seq.fetch_add(1, Ordering::Relaxed) + 1;
        self.latest
            .send_modify(|latest| *latest = (*latest).max(seq));
        seq
    }

    /// The number of the latest change.
    pub(crate) fn current(&self) -> u64 {
        self.seq.load(Ordering::Relaxed)
    }

    /// Waits until a change after `since` (at most `limit`).
    pub(crate) async fn wait_past(&self, since: u64, limit: Duration) {
        let mut latest = self.latest.subscribe();
        let _ = tokio::time::timeout(limit, latest.wait_for(|seq| *seq > since)).await;
    }
}
