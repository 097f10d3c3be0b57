//! The change feed: what changed after a sequence number, as the control API shows it, read
//! so that no change is skipped.

use serde_json::{Value, json};

use super::core::{Core, Store};
use super::{combine, orders, summary, views};

/// The entities changed after `since`, as the control API shows them (expiries applied).
pub(crate) struct Entities {
    pub transactions: Vec<Value>,
    pub combines: Vec<Value>,
    pub refunds: Vec<Value>,
    pub service_orders: Vec<Value>,
    pub transfers: Vec<Value>,
}

/// The entities changed after `since`, and the number of the latest change they include.
pub(crate) fn entities(core: &Core, since: u64) -> (u64, Entities) {
    let mut store = core.store();
    orders::expire_all(core, &mut store);
    combine::expire_all(core, &mut store);
    // Read while the store is locked: every change numbered up to it is in the store.
    let seq = core.changes.current();
    (seq, collect(&store, since))
}

fn collect(store: &Store, since: u64) -> Entities {
    let combines = store
        .combines
        .since(since)
        .map(|c| {
            let subs: Vec<_> = c
                .sub_orders
                .iter()
                .filter_map(|(owner, number)| store.transactions.find(number, Some(owner)))
                .map(|index| store.transactions.get(index))
                .collect();
            summary::combine(c, &subs)
        })
        .collect();
    Entities {
        transactions: store
            .transactions
            .since(since)
            .map(summary::transaction)
            .collect(),
        combines,
        refunds: store.refunds.since(since).map(summary::refund).collect(),
        service_orders: store
            .service_orders
            .since(since)
            .map(summary::service_order)
            .collect(),
        transfers: store
            .transfers
            .since(since)
            .map(summary::transfer_bill)
            .collect(),
    }
}

/// Everything changed after `since`: a console's one poll. The store, the log and the
/// deliveries are locked together while the latest change's number is read, so that every
/// change numbered up to it is in the answer (and none is skipped by the next poll).
pub(crate) fn changes(core: &Core, since: u64) -> Value {
    let mut store = core.store();
    orders::expire_all(core, &mut store);
    combine::expire_all(core, &mut store);
    let (seq, entities, requests, notifications) = core.log.with(|log| {
        core.deliveries.with(|deliveries| {
            let seq = core.changes.current();
            let requests: Vec<Value> = log
                .iter()
                .filter(|entry| entry.seq > since)
                .map(|entry| entry.to_json(true))
                .collect();
            let notifications: Vec<Value> = deliveries
                .iter()
                .filter(|d| d.seq > since)
                .map(views::delivery)
                .collect();
            (seq, collect(&store, since), requests, notifications)
        })
    });
    drop(store);
    json!({
        "seq": seq,
        "clock": views::clock(core),
        "transactions": entities.transactions,
        "combine_transactions": entities.combines,
        "refunds": entities.refunds,
        "payscore_orders": entities.service_orders,
        "transfer_bills": entities.transfers,
        "requests": requests,
        "notifications": notifications,
    })
}
