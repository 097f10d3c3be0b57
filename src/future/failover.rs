//! The shell of the backup domain: the client's [`Failover`] state behind a lock, the clock
//! read when something happens, and the probe of the primary, run in the background on the
//! runtime thread while requests go to the backup.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use super::trace::{self, Trace};
use crate::resilience::{Change, Failover, FailoverPolicy, Route};
use crate::runtime::ClientRuntime;
use crate::transport::Transport;
use crate::uri::BaseUri;

/// A client's route between its base URI and the backup.
pub(crate) struct FailoverShell {
    policy: FailoverPolicy,
    primary: BaseUri,
    backup: BaseUri,
    state: Mutex<Failover>,
}

impl FailoverShell {
    pub(crate) fn new(policy: FailoverPolicy, primary: BaseUri, backup: BaseUri) -> Self {
        Self {
            policy,
            primary,
            backup,
            state: Mutex::new(Failover::new()),
        }
    }

    fn state(&self) -> MutexGuard<'_, Failover> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Whether requests go to the backup now.
    pub(crate) fn on_backup(&self) -> bool {
        self.state().route() == Route::Backup
    }

    /// Where the next request goes; starts a probe of the primary with `transport` on the
    /// runtime thread when one is due.
    pub(crate) fn route(
        self: &Arc<Self>,
        transport: &Arc<dyn Transport>,
        runtime: &ClientRuntime,
    ) -> Route {
        let (route, probe) = {
            let mut state = self.state();
            (state.route(), state.start_probe(Instant::now()))
        };
        if probe {
            self.probe(transport, runtime);
        }
        route
    }

    /// A connection to the primary failed; nothing was sent.
    pub(crate) fn primary_unreachable(&self, trace: &Trace) {
        let change = self
            .state()
            .primary_unreachable(&self.policy, Instant::now());
        self.report(change, trace);
    }

    /// The primary answered (or took the request).
    pub(crate) fn primary_reachable(&self, trace: &Trace) {
        let change = self.state().primary_reachable();
        self.report(change, trace);
    }

    fn report(&self, change: Change, trace: &Trace) {
        match change {
            Change::None => {}
            Change::ToBackup => trace::failover(
                trace,
                self.primary.origin(),
                self.backup.origin(),
                self.policy.failures(),
            ),
            Change::ToPrimary => trace::switched_back(trace, self.primary.origin()),
        }
    }

    /// Probes the primary on the runtime thread, and moves back to it when it answers.
    fn probe(self: &Arc<Self>, transport: &Arc<dyn Transport>, runtime: &ClientRuntime) {
        let origin = http::Uri::try_from(self.primary.origin());
        let (Ok(thread), Ok(origin)) = (runtime.thread(), origin) else {
            self.state().probe_done(false, &self.policy, Instant::now());
            return;
        };
        let (shell, transport) = (self.clone(), transport.clone());
        thread.spawn(async move {
            let reachable = transport.probe(&origin).await;
            let change = shell
                .state()
                .probe_done(reachable.is_ok(), &shell.policy, Instant::now());
            trace::probed(shell.primary.origin(), reachable.as_ref().err());
            shell.report(change, &Trace::none());
        });
    }
}
