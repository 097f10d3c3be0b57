//! The notifications the sandbox sends and every attempt to deliver them, kept in a bounded
//! ring, with the retry schedule: an attempt that is not accepted is tried again 15 s, 15 s,
//! 30 s, 3 min, 10 min, 20 min, 30 min, 30 min, 30 min, 60 min, 3 h, 3 h, 3 h, 6 h and 6 h
//! after the one before (WeChat Pay's documented schedule, in the sandbox's clock), then
//! given up. Pure bookkeeping: the attempts themselves are made by `dispatch`.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::sync::{Mutex, MutexGuard};

use serde_json::Value;
use tokio::sync::Notify;

use crate::mock::Fault;
use crate::mock::ring::{Ring, Weigh};

/// The delays between attempts, in seconds, after the first.
pub(crate) const RETRY_SCHEDULE: [u64; 15] = [
    15, 15, 30, 180, 600, 1_200, 1_800, 1_800, 1_800, 3_600, 10_800, 10_800, 10_800, 21_600, 21_600,
];

/// How many deliveries are kept, and how many bytes of them.
const KEPT: usize = 2_000;
const KEPT_BYTES: usize = 8 << 20;

/// What a notification carries.
#[derive(Clone, Debug)]
pub(crate) enum Payload {
    /// APIv3: the resource, encrypted when sent.
    V3(Value),
    /// APIv2: the fields, signed when sent.
    V2(Value),
    /// APIv2 refund result: the outer fields and the refund's, encrypted into `req_info`.
    V2Refund { fields: Value, refund: Value },
}

/// A notification to deliver.
#[derive(Clone, Debug)]
pub(crate) struct Notice {
    pub event_type: String,
    pub summary: String,
    pub resource_type: String,
    pub original_type: String,
    pub url: String,
    pub payload: Payload,
    /// The entity it is about: its kind and number.
    pub subject: (&'static str, String),
    /// Sent deliberately broken (the console's and `notify send`'s faults).
    pub fault: Option<Fault>,
    /// Retried on the schedule until accepted (a fired test notification is sent once).
    pub retry: bool,
}

/// One attempt to deliver a notification.
#[derive(Clone, Debug)]
pub(crate) struct Attempt {
    pub number: usize,
    /// A resend asked for, not one of the schedule.
    pub manual: bool,
    /// When the schedule wanted it (virtual ms).
    pub scheduled_ms: u64,
    /// When it was made (virtual ms).
    pub started_ms: u64,
    pub status: Option<u16>,
    pub latency_ms: u64,
    pub answer: String,
    pub error: Option<String>,
    pub accepted: bool,
    pub verdict: String,
}

/// A notification and its attempts.
pub(crate) struct Delivery {
    pub id: u64,
    pub seq: u64,
    pub notice: Notice,
    /// The envelope `id`, the same on every attempt (merchants deduplicate by it).
    pub notification_id: String,
    pub created_ms: u64,
    pub attempts: Vec<Attempt>,
    /// `pending`, `retrying`, `delivered` or `failed`.
    pub state: &'static str,
    pub next_ms: Option<u64>,
    pub in_flight: bool,
    /// How many retries of the schedule were used.
    retries: usize,
}

impl Weigh for Delivery {
    fn weight(&self) -> usize {
        let payload = match &self.notice.payload {
            Payload::V3(value) | Payload::V2(value) => value.to_string().len(),
            Payload::V2Refund { fields, refund } => {
                fields.to_string().len() + refund.to_string().len()
            }
        };
        let attempts: usize = self
            .attempts
            .iter()
            .map(|attempt| 128 + attempt.answer.len() + attempt.verdict.len())
            .sum();
        256 + self.notice.url.len() + payload + attempts
    }
}

/// A due attempt: when, which delivery, whether asked for.
type Due = Reverse<(u64, u64, bool)>;

struct Inner {
    records: Ring<Delivery>,
    due: BinaryHeap<Due>,
    next_id: u64,
}

/// The deliveries and the attempts due.
pub(crate) struct Deliveries {
    inner: Mutex<Inner>,
    wake: Notify,
}

impl Deliveries {
    pub(crate) fn new() -> Self {
        Self {
            inner: Mutex::new(Inner {
                records: Ring::new(KEPT, KEPT_BYTES),
                due: BinaryHeap::new(),
                next_id: 1,
            }),
            wake: Notify::new(),
        }
    }

    fn inner(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Adds a notification, due at once; returns its id. `seq` numbers the change, taken
    /// while the deliveries are locked (so that a reader never sees a number before its
    /// change).
    pub(crate) fn add(
        &self,
        notice: Notice,
        notification_id: String,
        now_ms: u64,
        seq: impl FnOnce() -> u64,
    ) -> u64 {
        let id = {
            let mut inner = self.inner();
            let seq = seq();
            let id = inner.next_id;
            inner.next_id += 1;
            inner.records.push(Delivery {
                id,
                seq,
                notice,
                notification_id,
                created_ms: now_ms,
                attempts: Vec::new(),
                state: "pending",
                next_ms: Some(now_ms),
                in_flight: false,
                retries: 0,
            });
            inner.due.push(Reverse((now_ms, id, false)));
            id
        };
        self.wake.notify_one();
        id
    }

    /// Delivers `id` again now, whatever its state.
    ///
    /// # Errors
    ///
    /// When no delivery has that id (any more).
    pub(crate) fn resend(&self, id: u64, now_ms: u64) -> Result<(), String> {
        {
            let mut inner = self.inner();
            if !inner.records.iter().any(|delivery| delivery.id == id) {
                return Err(format!(
                    "no delivery {id}: GET /_sandbox/notifications lists those kept"
                ));
            }
            inner.due.push(Reverse((now_ms, id, true)));
        }
        self.wake.notify_one();
        Ok(())
    }

    /// When the next attempt is due (virtual ms).
    pub(crate) fn next_due(&self) -> Option<u64> {
        self.inner().due.peek().map(|Reverse((due, _, _))| *due)
    }

    /// The attempts due by `now_ms`, marked in flight: what to send, the attempt's number,
    /// when it was due and whether it was asked for.
    pub(crate) fn take_due(&self, now_ms: u64) -> Vec<Started> {
        let mut inner = self.inner();
        let mut started = Vec::new();
        let mut later = Vec::new();
        while let Some(Reverse((due, id, manual))) = inner.due.peek().copied() {
            if due > now_ms {
                break;
            }
            inner.due.pop();
            let begun = inner.records.update(
                |delivery| delivery.id == id,
                |delivery| {
                    if delivery.in_flight {
                        return Err(());
                    }
                    if !manual && matches!(delivery.state, "delivered" | "failed") {
                        return Ok(None);
                    }
                    delivery.in_flight = true;
                    Ok(Some(Started {
                        id,
                        notice: delivery.notice.clone(),
                        notification_id: delivery.notification_id.clone(),
                        created_ms: delivery.created_ms,
                        number: delivery.attempts.len() + 1,
                        scheduled_ms: due,
                        manual,
                    }))
                },
            );
            match begun {
                Some(Ok(Some(attempt))) => started.push(attempt),
                // Still being sent: try again a second later.
                Some(Err(())) => later.push(Reverse((due + 1_000, id, manual))),
                _ => {}
            }
        }
        inner.due.extend(later);
        started
    }

    /// Records an attempt of `id` and schedules the next one when it was not accepted (`seq`
    /// as for [`Deliveries::add`]).
    pub(crate) fn finish(&self, id: u64, attempt: Attempt, seq: impl FnOnce() -> u64) {
        let mut inner = self.inner();
        let seq = seq();
        let next = inner.records.update(
            |delivery| delivery.id == id,
            |delivery| {
                delivery.in_flight = false;
                delivery.seq = seq;
                let scheduled = attempt.scheduled_ms;
                let (accepted, manual) = (attempt.accepted, attempt.manual);
                delivery.attempts.push(attempt);
                if accepted {
                    delivery.state = "delivered";
                    delivery.next_ms = None;
                    return None;
                }
                if !delivery.notice.retry {
                    delivery.state = "failed";
                    delivery.next_ms = None;
                    return None;
                }
                if manual {
                    if delivery.state == "pending" {
                        delivery.state = "retrying";
                    }
                    return None;
                }
                match RETRY_SCHEDULE.get(delivery.retries) {
                    Some(delay) => {
                        delivery.retries += 1;
                        delivery.state = "retrying";
                        let next = scheduled + delay * 1_000;
                        delivery.next_ms = Some(next);
                        Some(next)
                    }
                    None => {
                        delivery.state = "failed";
                        delivery.next_ms = None;
                        None
                    }
                }
            },
        );
        if let Some(Some(next)) = next {
            inner.due.push(Reverse((next, id, false)));
            drop(inner);
            self.wake.notify_one();
        }
    }

    /// Resolves when an attempt may have become due: one added, or the clock moved.
    pub(crate) async fn changed(&self) {
        self.wake.notified().await;
    }

    /// Wakes the dispatcher (the clock moved).
    pub(crate) fn poke(&self) {
        self.wake.notify_one();
    }

    /// Reads the deliveries kept.
    pub(crate) fn with<R>(&self, read: impl FnOnce(&Ring<Delivery>) -> R) -> R {
        read(&self.inner().records)
    }
}

/// An attempt being made.
pub(crate) struct Started {
    pub id: u64,
    pub notice: Notice,
    pub notification_id: String,
    pub created_ms: u64,
    pub number: usize,
    pub scheduled_ms: u64,
    pub manual: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn notice() -> Notice {
        Notice {
            event_type: "TRANSACTION.SUCCESS".into(),
            summary: "支付成功".into(),
            resource_type: "encrypt-resource".into(),
            original_type: "transaction".into(),
            url: "http://127.0.0.1:1/notify".into(),
            payload: Payload::V3(json!({})),
            subject: ("transaction", "T1".into()),
            fault: None,
            retry: true,
        }
    }

    fn failed(started: &Started) -> Attempt {
        Attempt {
            number: started.number,
            manual: started.manual,
            scheduled_ms: started.scheduled_ms,
            started_ms: started.scheduled_ms,
            status: Some(500),
            latency_ms: 1,
            answer: String::new(),
            error: None,
            accepted: false,
            verdict: String::new(),
        }
    }

    #[test]
    fn retries_follow_the_schedule_from_the_time_due_then_give_up() {
        let deliveries = Deliveries::new();
        let id = deliveries.add(notice(), "EV-1".into(), 1_000, || 1);
        let mut due = 1_000;
        let mut times = Vec::new();
        for _ in 0..16 {
            let started = deliveries.take_due(due);
            assert_eq!(started.len(), 1);
            times.push(started[0].scheduled_ms);
            deliveries.finish(id, failed(&started[0]), || 2);
            match deliveries.next_due() {
                Some(next) => due = next,
                None => break,
            }
        }
        let gaps: Vec<u64> = times.windows(2).map(|w| (w[1] - w[0]) / 1_000).collect();
        assert_eq!(gaps, RETRY_SCHEDULE);
        let state = deliveries.with(|ring| ring.iter().next().map(|d| d.state));
        assert_eq!(state, Some("failed"));
        assert!(deliveries.resend(id, due).is_ok());
        assert_eq!(
            deliveries.take_due(due).len(),
            1,
            "a resend after giving up"
        );
        assert!(deliveries.resend(99, due).is_err());
    }
}
