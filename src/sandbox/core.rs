//! The sandbox's state: its entities, clock, change counter, request log and deliveries, and
//! what every part of it shares (ids, notifications).

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock};

use bytes::Bytes;

use super::changes::Changes;
use super::clock::{Clock, rfc3339};
use super::deliveries::{Deliveries, Notice};
use super::entities::{Combine, Refund, ServiceOrder, Transaction, TransferBill};
use super::log::Log;
use super::table::Table;
use crate::mock::MockHandle;
use crate::mock::Reply;
use crate::toolkit;

/// Everything the sandbox keeps about the merchants' business.
#[derive(Default)]
pub(crate) struct Store {
    pub transactions: Table<Transaction>,
    pub refunds: Table<Refund>,
    pub combines: Table<Combine>,
    pub service_orders: Table<ServiceOrder>,
    pub transfers: Table<TransferBill>,
    /// Bill files made by the bill calls, by download token (the newest few).
    pub bills: VecDeque<(String, Bytes)>,
}

/// How many bill files are kept for download.
pub(crate) const BILLS_KEPT: usize = 16;

/// How the sandbox was started.
pub(crate) struct Settings {
    /// The state machines answer the operations they model (off: `wechatpay mock`).
    pub stateful: bool,
    /// What a correctly signed request to an undocumented path is answered instead of
    /// WeChat Pay's `404` (`wechatpay mock --reply`).
    pub fallback: Option<Reply>,
}

/// The sandbox.
pub(crate) struct Core {
    pub settings: Settings,
    store: Mutex<Store>,
    pub clock: Clock,
    pub changes: Changes,
    pub deliveries: Deliveries,
    pub log: Log,
    mock: OnceLock<MockHandle>,
    counter: AtomicU64,
}

impl Core {
    pub(crate) fn new(settings: Settings, time_scale: f64) -> Self {
        Self {
            settings,
            store: Mutex::new(Store::default()),
            clock: Clock::new(time_scale),
            changes: Changes::new(),
            deliveries: Deliveries::new(),
            log: Log::new(),
            mock: OnceLock::new(),
            counter: AtomicU64::new(1),
        }
    }

    pub(crate) fn store(&self) -> MutexGuard<'_, Store> {
        self.store
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The mock server the sandbox runs in (set when it starts).
    pub(crate) fn mock(&self) -> Option<&MockHandle> {
        self.mock.get()
    }

    pub(crate) fn attach(&self, mock: MockHandle) {
        let _ = self.mock.set(mock);
    }

    /// The business time, in virtual milliseconds.
    pub(crate) fn now_ms(&self) -> u64 {
        self.clock.now_ms()
    }

    /// The next change's sequence number: take it while holding the lock of what changes
    /// (the store, the log, the deliveries), so that a reader holding them sees every change
    /// numbered up to the number it reads.
    pub(crate) fn bump(&self) -> u64 {
        self.changes.bump()
    }

    /// A new id of WeChat Pay's shape: `prefix`, the business date, a unique counter, padded
    /// with digits to `len` characters.
    pub(crate) fn id(&self, prefix: &str, len: usize) -> String {
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        let date: String = rfc3339(self.now_ms())
            .chars()
            .take(10)
            .filter(char::is_ascii_digit)
            .collect();
        let head = format!("{prefix}{date}");
        let tail = count.to_string();
        let pad = len.saturating_sub(head.len() + tail.len());
        format!("{head}{}{tail}", "0".repeat(pad))
    }

    /// A prepay id (`wx` and the business time, then a unique part).
    pub(crate) fn prepay_id(&self) -> String {
        let time: String = rfc3339(self.now_ms())
            .chars()
            .take(19)
            .filter(char::is_ascii_digit)
            .collect();
        let count = self.counter.fetch_add(1, Ordering::Relaxed);
        let nonce = toolkit::nonce(8).unwrap_or_default().to_ascii_lowercase();
        format!("wx{time}{nonce}{count:010}")
    }

    /// Queues `notice` for delivery to its `notify_url`, now.
    pub(crate) fn notify(&self, notice: Notice) -> u64 {
        let id = format!("EV-{}", self.id("", 21));
        self.deliveries
            .add(notice, id, self.now_ms(), || self.changes.bump())
    }
}
