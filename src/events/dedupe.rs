//! Duplicate notifications: WeChat Pay resends a notification until it is acknowledged (up
//! to 15 times over about a day), and may resend one that was acknowledged too late.

use std::collections::{HashMap, VecDeque};
use std::future::ready;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use futures::future::BoxFuture;

use crate::error::Result;

/// What [`Deduplicate::claim`] found for a notification id.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Claim {
    /// Not seen (or seen, failed and released, or claimed so long ago that the claim
    /// lapsed): it is now claimed by the caller, which must process it and then call
    /// [`Deduplicate::complete`] (then answer success) or [`Deduplicate::release`] (then answer
    /// failure, so that WeChat Pay's retry is processed).
    New,
    /// Another delivery of the same notification is being processed right now. Do not process
    /// it; answer with a failure ([`Reply::failure`](crate::callback::Reply::failure)) so that
    /// WeChat Pay retries it later, in case that other processing fails.
    InProgress,
    /// Already processed: answer success ([`Reply::success`](crate::callback::Reply::success))
    /// without processing it again.
    Done,
}

/// Remembers which notifications were processed, keyed by [`Notification::id`] (the same for
/// every retry of one notification).
///
/// [`Notification::id`]: crate::Notification::id
///
/// The shape is claim, then complete or release, so that a handler that fails lets WeChat
/// Pay's retry through, and two deliveries of one notification that arrive together (a retry
/// sent while a slow handler still runs, or two instances behind a load balancer) are not
/// both processed. Every method returns a future, so that an implementation over a database
/// or Redis does not block the handler's executor:
///
/// ```
/// use wechatpay::Notification;
/// use wechatpay::callback::Reply;
/// use wechatpay::events::{Claim, Deduplicate, Event, MemoryDedupe};
///
/// /// Processes a verified notification once, whichever instance it reaches.
/// async fn handle(seen: &dyn Deduplicate, notification: &Notification) -> Reply {
///     let now = wechatpay::toolkit::timestamp();
///     match seen.claim(notification.id(), now).await {
///         Claim::New => {}
///         Claim::InProgress => return Reply::failure("being processed"), // retried later
///         Claim::Done => return Reply::success(), // processed already: acknowledge again
///     }
///     match notification.event() {
///         Ok(Event::ComplaintCreate(complaint)) => {
///             // … store `complaint.complaint_id`, in a transaction of your own …
///         }
///         Ok(_) => {}
///         Err(error) => {
///             // Let WeChat Pay's retry through (if this fails too, the claim's lease lapses).
///             let _ = seen.release(notification.id()).await;
///             return Reply::for_error(&error);
///         }
///     }
///     if let Err(error) = seen.complete(notification.id(), now).await {
///         // Processed, but not marked done: log it, and acknowledge anyway.
///         eprintln!("{error}");
///     }
///     Reply::success()
/// }
///
/// # fn main() -> wechatpay::Result<()> {
/// # let mock = wechatpay::mock::MockServer::start()?;
/// # let client = mock.client_builder().build()?;
/// # let (headers, body) = mock.notification("COMPLAINT.CREATE", "encrypt-resource", "complaint",
/// #     &serde_json::json!({"complaint_id": "200201820200101080076610000", "action_type": "CREATE_COMPLAINT"}))?;
/// let seen = MemoryDedupe::new(); // one per process, shared by every request
/// let notification = client.verify_notification(&headers, &body)?;
/// futures::executor::block_on(async {
///     assert!(handle(&seen, &notification).await.is_success());
///     let now = wechatpay::toolkit::timestamp();
///     assert_eq!(seen.claim(notification.id(), now).await, Claim::Done);
/// });
/// # Ok(())
/// # }
/// ```
///
/// `now` is the Unix time in seconds (e.g. [`toolkit::timestamp`](crate::toolkit::timestamp)), an
/// input so that implementations stay testable (a store with a clock of its own, such as
/// Redis's expiries, may ignore it).
///
/// # Where a database fits
///
/// [`MemoryDedupe`] protects one process, and forgets everything on restart. With several
/// instances, share the claims: feature `redis` has `wechatpay::redis::RedisDedupe`; over a
/// database, a table with a **unique key on the notification id** and a state (`claim` =
/// insert a pending row, or take over a pending row older than a lease; `complete` = mark it
/// done; `release` = delete the pending row). A store that cannot answer must return
/// [`Claim::InProgress`] (WeChat Pay will retry), never [`Claim::New`].
///
/// Notification ids only catch resends of one notification. The guard that also covers a
/// payment seen both through its notification and through a query is idempotency on the
/// business key, in the same database transaction as the business change: e.g. a unique key
/// on (`out_trade_no`, `trade_state`), or an update guarded by the current state
/// (`UPDATE orders SET state = 'PAID' WHERE out_trade_no = ? AND state = 'UNPAID'`, where no
/// row changed means already done). Deduplicating by id in front of that saves work; it does
/// not replace it.
pub trait Deduplicate: Send + Sync {
    /// Claims notification `id` at `now` for processing; see [`Claim`]. A store that cannot
    /// answer answers [`Claim::InProgress`].
    fn claim<'a>(&'a self, id: &'a str, now: u64) -> BoxFuture<'a, Claim>;

    /// Records that notification `id` was processed at `now`: from then on (for the
    /// implementation's window) [`Deduplicate::claim`] answers [`Claim::Done`].
    ///
    /// # Errors
    ///
    /// When the store cannot record it: the claim then lapses after its lease, and a later
    /// delivery is processed again.
    fn complete<'a>(&'a self, id: &'a str, now: u64) -> BoxFuture<'a, Result<()>>;

    /// Gives up the claim on `id` after a failure, so that the next delivery is processed.
    /// Does nothing to a notification already completed.
    ///
    /// # Errors
    ///
    /// When the store cannot be asked: the claim then lapses after its lease.
    fn release<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>>;

    /// Claims and completes at once: `true` the first time `id` is seen within the window
    /// (even when the completion could not be recorded).
    ///
    /// Simpler, but a handler that then fails has already marked the notification done, and
    /// WeChat Pay's retry is dropped: prefer `claim` / `complete` / `release` unless the
    /// processing cannot fail.
    fn first_time<'a>(&'a self, id: &'a str, now: u64) -> BoxFuture<'a, bool> {
        Box::pin(async move {
            if self.claim(id, now).await == Claim::New {
                let _ = self.complete(id, now).await;
                true
            } else {
                false
            }
        })
    }
}

/// The default window of [`MemoryDedupe`]: 25 hours, longer than WeChat Pay's retries (its 15
/// retries span about 24 hours).
pub(crate) const DEFAULT_WINDOW: Duration = Duration::from_secs(25 * 60 * 60);

/// The default lease of a [`Claim::New`] in [`MemoryDedupe`]: 60 seconds. WeChat Pay waits 5
/// seconds for an answer; a claim still pending after the lease is taken for a handler that
/// died, and the next delivery may claim it again.
pub(crate) const DEFAULT_LEASE: Duration = Duration::from_secs(60);

/// The default number of ids [`MemoryDedupe`] remembers: 100,000.
pub(crate) const DEFAULT_CAPACITY: usize = 100_000;

/// An in-memory [`Deduplicate`] for one process: `Send + Sync`, bounded in time and memory.
///
/// * Ids are forgotten once older than the window (25 hours unless set with
///   [`MemoryDedupe::with_window`]), counted from the last claim or completion.
/// * At most 100,000 ids are kept unless set with [`MemoryDedupe::with_capacity`]; beyond
///   that the oldest are forgotten early, so a flood of notifications can let a duplicate
///   through, never make the handler refuse work.
/// * The clock is the `now` argument; a clock that goes back only delays forgetting.
#[derive(Debug)]
pub struct MemoryDedupe {
    window: u64,
    lease: u64,
    capacity: usize,
    table: Mutex<Table>,
}

#[derive(Debug, Default)]
struct Table {
    entries: HashMap<String, Entry>,
    /// `(at, id)` in the order of writes; an item is stale when its entry has another `at`.
    order: VecDeque<(u64, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Entry {
    done: bool,
    at: u64,
}

impl Default for MemoryDedupe {
    fn default() -> Self {
        Self::new()
    }
}

impl MemoryDedupe {
    /// An empty store with the default window (25 hours), lease (60 s) and capacity (100,000).
    pub fn new() -> Self {
        Self {
            window: DEFAULT_WINDOW.as_secs(),
            lease: DEFAULT_LEASE.as_secs(),
            capacity: DEFAULT_CAPACITY,
            table: Mutex::new(Table::default()),
        }
    }

    /// Forgets ids older than `window` (whole seconds).
    pub fn with_window(mut self, window: Duration) -> Self {
        self.window = window.as_secs();
        self
    }

    /// Lets a pending claim lapse after `lease` (whole seconds).
    pub fn with_lease(mut self, lease: Duration) -> Self {
        self.lease = lease.as_secs();
        self
    }

    /// Keeps at most `capacity` ids (at least 1).
    pub fn with_capacity(mut self, capacity: usize) -> Self {
        self.capacity = capacity.max(1);
        self
    }

    /// How many ids are remembered now (expired ones included until the next call that
    /// writes).
    pub fn len(&self) -> usize {
        self.lock().entries.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Table> {
        // A panic elsewhere while holding the lock leaves the table consistent (every write
        // is a single insert or remove), so a poisoned lock is still usable.
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn write(&self, table: &mut Table, id: &str, entry: Entry) {
        table.entries.insert(id.to_owned(), entry);
        table.order.push_back((entry.at, id.to_owned()));
        table.evict(entry.at, self.window, self.capacity);
    }
}

impl Table {
    /// Drops entries older than `window` and, beyond `capacity`, the oldest ones.
    fn evict(&mut self, now: u64, window: u64, capacity: usize) {
        while let Some((at, _)) = self.order.front() {
            let expired = at.saturating_add(window) <= now;
            if !expired && self.entries.len() <= capacity {
                break;
            }
            if let Some((at, id)) = self.order.pop_front()
                && self.entries.get(&id).is_some_and(|entry| entry.at == at)
            {
                self.entries.remove(&id);
            }
        }
        // Stale items (ids written again, or released) must not grow the queue without bound.
        if self.order.len() > 2 * self.entries.len() + 64 {
            let mut live: Vec<(u64, String)> = self
                .entries
                .iter()
                .map(|(id, entry)| (entry.at, id.clone()))
                .collect();
            live.sort_unstable();
            self.order = live.into();
        }
    }
}

impl MemoryDedupe {
    fn claim_now(&self, id: &str, now: u64) -> Claim {
        let mut table = self.lock();
        table.evict(now, self.window, self.capacity);
        match table.entries.get(id) {
            Some(entry) if entry.done && now < entry.at.saturating_add(self.window) => Claim::Done,
            Some(entry) if now < entry.at.saturating_add(self.lease) => Claim::InProgress,
            _ => {
                self.write(
                    &mut table,
                    id,
                    Entry {
                        done: false,
                        at: now,
                    },
                );
                Claim::New
            }
        }
    }

    fn complete_now(&self, id: &str, now: u64) {
        let mut table = self.lock();
        self.write(
            &mut table,
            id,
            Entry {
                done: true,
                at: now,
            },
        );
    }

    fn release_now(&self, id: &str) {
        let mut table = self.lock();
        if table.entries.get(id).is_some_and(|entry| !entry.done) {
            table.entries.remove(id);
        }
    }
}

/// Answers at once: the table is in memory.
impl Deduplicate for MemoryDedupe {
    fn claim<'a>(&'a self, id: &'a str, now: u64) -> BoxFuture<'a, Claim> {
        Box::pin(ready(self.claim_now(id, now)))
    }

    fn complete<'a>(&'a self, id: &'a str, now: u64) -> BoxFuture<'a, Result<()>> {
        self.complete_now(id, now);
        Box::pin(ready(Ok(())))
    }

    fn release<'a>(&'a self, id: &'a str) -> BoxFuture<'a, Result<()>> {
        self.release_now(id);
        Box::pin(ready(Ok(())))
    }
}
