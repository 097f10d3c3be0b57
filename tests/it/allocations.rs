//! Allocation counts on the chain-building paths: `chain()` allocates once, a cached
//! `client["…"]` lookup not at all.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

use wechatpay::mock::MockServer;

/// The system allocator, counting the allocations of the current thread.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: every call is forwarded unchanged to the system allocator; the counter is a
// thread-local `Cell` with a const initialiser, so counting never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: same contract as ours.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.with(|count| count.set(count.get() + 1));
        // SAFETY: same contract as ours.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations<T>(work: impl FnOnce() -> T) -> (usize, T) {
    let before = ALLOCATIONS.with(Cell::get);
    let output = work();
    (ALLOCATIONS.with(Cell::get) - before, output)
}

const TEMPLATE: &str = "v3/payscore/partner/serviceorder/{out_order_no}/sendPrepaidmessage";

#[test]
fn building_a_chain_allocates_once() {
    let mock = MockServer::start().expect("mock starts");
    let client = mock.client_builder().build().expect("client builds");

    let (count, chain) = allocations(|| client.chain(TEMPLATE));
    assert_eq!(count, 1, "client.chain(…)");
    assert_eq!(
        chain.path(),
        "v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage"
    );

    let (count, child) = allocations(|| chain.chain("_sub_mchid_"));
    assert_eq!(count, 1, "chain.chain(…)");
    assert!(child.path().ends_with("/{sub_mchid}"));

    let (count, raw) = allocations(|| client.chain_raw("v3/applyment4sub/applyment/"));
    assert_eq!(count, 1, "client.chain_raw(…)");
    assert_eq!(raw.path(), "v3/applyment4sub/applyment/");
}

#[test]
fn a_cached_lookup_does_not_allocate() {
    let mock = MockServer::start().expect("mock starts");
    let client = mock.client_builder().build().expect("client builds");
    let first = client[TEMPLATE].path().as_ptr();
    let (count, again) = allocations(|| client[TEMPLATE].path().as_ptr());
    assert_eq!(count, 0);
    assert_eq!(first, again);

    let chain = &client["v3/pay"];
    let _ = &chain["transactions"];
    let (count, _) = allocations(|| chain["transactions"].path().len());
    assert_eq!(count, 0);
}
