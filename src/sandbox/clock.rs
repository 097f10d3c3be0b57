//! The sandbox's business clock: it starts at the system time, runs `scale` times as fast
//! as the real clock, and can be moved ahead. Order expiries, the times the sandbox writes
//! into its answers and bills, and the notification retry schedule follow it; signatures and
//! the request timestamp check stay on the real clock (a client five virtual minutes ahead
//! would refuse every answer).

use std::sync::Mutex;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use crate::time::format_rfc3339;

/// The virtual clock.
pub(crate) struct Clock {
    state: Mutex<State>,
}

/// Virtual time is `virtual_ms + (now − real) × scale`.
struct State {
    real: Instant,
    virtual_ms: u64,
    scale: f64,
}

impl Clock {
    /// A clock at the system time, running `scale` times as fast (a scale that is not a
    /// positive number is taken as 1).
    pub(crate) fn new(scale: f64) -> Self {
        let system_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |since| since.as_millis() as u64);
        Self {
            state: Mutex::new(State {
                real: Instant::now(),
                virtual_ms: system_ms,
                scale: valid_scale(scale),
            }),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Virtual Unix time in milliseconds.
    pub(crate) fn now_ms(&self) -> u64 {
        let state = self.state();
        state.at(Instant::now())
    }

    /// Moves the clock `ms` milliseconds ahead.
    pub(crate) fn advance(&self, ms: u64) {
        let mut state = self.state();
        state.virtual_ms = state.virtual_ms.saturating_add(ms);
    }

    /// How many times as fast as the real clock it runs.
    pub(crate) fn scale(&self) -> f64 {
        self.state().scale
    }

    /// Runs `scale` times as fast from now on (a scale that is not a positive number is taken
    /// as 1).
    pub(crate) fn set_scale(&self, scale: f64) {
        let mut state = self.state();
        let now = Instant::now();
        state.virtual_ms = state.at(now);
        state.real = now;
        state.scale = valid_scale(scale);
    }

    /// The real time until the clock reads `virtual_ms` (zero when it is past).
    pub(crate) fn real_wait_until(&self, virtual_ms: u64) -> Duration {
        let state = self.state();
        let ahead = virtual_ms.saturating_sub(state.at(Instant::now()));
        Duration::from_secs_f64(ahead as f64 / 1000.0 / state.scale)
    }
}

impl State {
    fn at(&self, now: Instant) -> u64 {
        let real = now.saturating_duration_since(self.real).as_secs_f64() * 1000.0;
        self.virtual_ms.saturating_add((real * self.scale) as u64)
    }
}

fn valid_scale(scale: f64) -> f64 {
    if scale.is_finite() && scale > 0.0 {
        scale
    } else {
        1.0
    }
}

/// Virtual milliseconds as WeChat Pay writes a time: RFC 3339 in Beijing time.
pub(crate) fn rfc3339(ms: u64) -> String {
    format_rfc3339(ms / 1000, 8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advance_and_scale() {
        let clock = Clock::new(1.0);
        let start = clock.now_ms();
        clock.advance(3_600_000);
        assert!(clock.now_ms() >= start + 3_600_000);
        assert_eq!(clock.real_wait_until(start), Duration::ZERO);
        clock.set_scale(1000.0);
        let wait = clock.real_wait_until(clock.now_ms() + 60_000);
        assert!(wait <= Duration::from_millis(60), "{wait:?}");
        clock.set_scale(-1.0);
        assert_eq!(clock.scale(), 1.0);
        assert_eq!(rfc3339(0), "1970-01-01T08:00:00+08:00");
    }
}
