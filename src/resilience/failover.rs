//! When a client routes its requests to the backup domain, and when it comes back.

use std::time::{Duration, Instant};

/// The default number of connection failures to the primary in a row after which every
/// request goes to the backup.
pub(crate) const DEFAULT_FAILOVER_AFTER: u32 = 3;

/// The default time between two probes of the primary while requests go to the backup.
pub(crate) const DEFAULT_PROBE_INTERVAL: Duration = Duration::from_secs(30);

/// When to move to the backup domain and how often to look at the primary again.
///
/// ```
/// use std::time::Duration;
/// use wechatpay::resilience::FailoverPolicy;
///
/// let eager = FailoverPolicy::default().after(1).probe_interval(Duration::from_secs(10));
/// # let _ = eager;
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FailoverPolicy {
    after: u32,
    probe_interval: Duration,
}

impl Default for FailoverPolicy {
    /// After 3 failures in a row, a probe every 30 s.
    fn default() -> Self {
        Self {
            after: DEFAULT_FAILOVER_AFTER,
            probe_interval: DEFAULT_PROBE_INTERVAL,
        }
    }
}

impl FailoverPolicy {
    /// Every request goes to the backup after this many connection failures to the primary
    /// in a row (at least 1). Before that, each failed request alone goes to the backup.
    pub fn after(mut self, failures: u32) -> Self {
        self.after = failures.max(1);
        self
    }

    /// While requests go to the backup, the primary is probed this often (a TCP and TLS
    /// handshake, no request); the client moves back when a probe succeeds.
    pub fn probe_interval(mut self, interval: Duration) -> Self {
        self.probe_interval = interval;
        self
    }

    /// The failures in a row that move every request to the backup.
    pub(crate) fn failures(&self) -> u32 {
        self.after
    }
}

/// Where requests of the client's base URI go now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Route {
    /// The configured base URI.
    Primary,
    /// The backup base URI.
    Backup,
}

/// A change of route, to report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Change {
    /// Nothing changed.
    None,
    /// Every request goes to the backup from now on.
    ToBackup,
    /// The primary answered again: requests go back to it.
    ToPrimary,
}

/// The route of a client with a backup domain: a state machine whose inputs are what
/// happened to connections to the primary, and the time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Failover {
    failures: u32,
    mode: Mode,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Mode {
    Primary,
    Backup {
        since: Instant,
        next_probe: Instant,
        probing: bool,
    },
}

impl Default for Failover {
    fn default() -> Self {
        Self::new()
    }
}

impl Failover {
    /// On the primary, with no failure yet.
    pub(crate) fn new() -> Self {
        Self {
            failures: 0,
            mode: Mode::Primary,
        }
    }

    /// Where requests go now.
    pub(crate) fn route(&self) -> Route {
        match self.mode {
            Mode::Primary => Route::Primary,
            Mode::Backup { .. } => Route::Backup,
        }
    }

    /// Since when requests go to the backup, if they do.
    #[cfg(test)]
    pub(crate) fn on_backup_since(&self) -> Option<Instant> {
        match self.mode {
            Mode::Primary => None,
            Mode::Backup { since, .. } => Some(since),
        }
    }

    /// A connection to the primary failed at `now` (nothing was sent).
    pub(crate) fn primary_unreachable(&mut self, policy: &FailoverPolicy, now: Instant) -> Change {
        self.failures = self.failures.saturating_add(1);
        match self.mode {
            Mode::Primary if self.failures >= policy.after => {
                self.mode = Mode::Backup {
                    since: now,
                    next_probe: now + policy.probe_interval,
                    probing: false,
                };
                Change::ToBackup
            }
            _ => Change::None,
        }
    }

    /// The primary answered a request (any answer: it is reachable).
    pub(crate) fn primary_reachable(&mut self) -> Change {
        self.failures = 0;
        match self.mode {
            Mode::Primary => Change::None,
            Mode::Backup { .. } => {
                self.mode = Mode::Primary;
                Change::ToPrimary
            }
        }
    }

    /// Whether a probe of the primary should start at `now` (on the backup, the interval
    /// passed, no probe running); if so, it counts as running until [`Failover::probe_done`].
    pub(crate) fn start_probe(&mut self, now: Instant) -> bool {
        match &mut self.mode {
            Mode::Backup {
                next_probe,
                probing,
                ..
            } if !*probing && now >= *next_probe => {
                *probing = true;
                true
            }
            _ => false,
        }
    }

    /// A probe ended at `now`: back to the primary when it succeeded, else the next probe
    /// after another interval.
    pub(crate) fn probe_done(
        &mut self,
        reachable: bool,
        policy: &FailoverPolicy,
        now: Instant,
    ) -> Change {
        if reachable {
            return self.primary_reachable();
        }
        if let Mode::Backup {
            next_probe,
            probing,
            ..
        } = &mut self.mode
        {
            *probing = false;
            *next_probe = now + policy.probe_interval;
        }
        Change::None
    }
}
