//! Runtimes: the blocking verbs from plain threads and from `spawn_blocking`, the async verbs
//! under tokio (both flavours) and under `futures::executor` with no tokio at all, many
//! requests at once, dropping the client, and futures that are never polled.

use std::future::Future;
use std::sync::mpsc;
use std::time::Duration;

use crate::common::{
    OUT_ORDER_NO, TEMPLATE, assert_prepaid_request, prepaid_mock, prepaid_on, prepaid_options,
};
use futures::future::join_all;
use serde_json::json;
use wechatpay::mock::{MockServer, PLATFORM_KEY_ID, Reply};

/// Options for the documented call with another order number.
fn options_for(out_order_no: &str) -> serde_json::Value {
    let mut options = prepaid_options();
    options["out_order_no"] = json!(out_order_no);
    options
}

#[tokio::test]
async fn mock_starts_inside_a_tokio_runtime() {
    let (mock, client) = prepaid_mock();
    let response = client[TEMPLATE].post_async(prepaid_options()).await;
    assert_eq!(response.expect("ok").status(), 204);
    assert_eq!(mock.requests().len(), 1);
}

/// A mock answering the documented call for every order number `N{i}` with `i < count`.
fn many_orders(count: usize) -> (MockServer, wechatpay::Client) {
    let mock = MockServer::start().expect("the mock starts");
    for i in 0..count {
        mock.on(
            "POST",
            &format!("/v3/payscore/partner/serviceorder/N{i}/send-prepaidmessage"),
            Reply::json(200, json!({"order": i})),
        );
    }
    let client = mock.client_builder().build().unwrap();
    (mock, client)
}

#[test]
fn blocking_verbs_from_plain_threads_sharing_one_client() {
    let (mock, client) = many_orders(4);
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let client = client.clone();
            std::thread::spawn(move || {
                let response = client[TEMPLATE]
                    .post(options_for(&format!("N{i}")))
                    .expect("ok");
                assert_eq!(response.verified_by(), PLATFORM_KEY_ID);
                response.json::<serde_json::Value>().unwrap()["order"].as_u64()
            })
        })
        .collect();
    let mut orders: Vec<u64> = threads
        .into_iter()
        .map(|thread| thread.join().unwrap().unwrap())
        .collect();
    orders.sort_unstable();
    assert_eq!(orders, [0, 1, 2, 3]);
    assert_eq!(mock.requests().len(), 4);
    assert!(mock.requests().iter().all(|r| r.verdict.is_ok()));

    // Scoped threads borrowing the client (and its cached chains) work too.
    let chain = &client[TEMPLATE];
    std::thread::scope(|scope| {
        for i in 0..2 {
            scope.spawn(move || chain.post(options_for(&format!("N{i}"))).expect("ok"));
        }
    });
    assert_eq!(mock.requests().len(), 6);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn blocking_verbs_inside_spawn_blocking() {
    let (mock, client) = prepaid_on(MockServer::start().expect("the mock starts"));
    let response = tokio::task::spawn_blocking(move || client[TEMPLATE].post(prepaid_options()))
        .await
        .expect("the task ran")
        .expect("ok");
    assert_eq!(response.status(), 204);
    assert_eq!(response.verified_by(), PLATFORM_KEY_ID);
    assert_prepaid_request(&mock.requests()[0]);
}

#[tokio::test]
async fn async_verbs_under_current_thread_tokio() {
    let (mock, client) = prepaid_on(MockServer::start().expect("the mock starts"));
    let response = client[TEMPLATE]
        .post_async(prepaid_options())
        .await
        .expect("ok");
    assert_eq!(response.status(), 204);
    assert_eq!(response.verified_by(), PLATFORM_KEY_ID);
    // A spawned task (the future is Send + 'static).
    let spawned = tokio::spawn(client[TEMPLATE].post_async(prepaid_options()));
    assert_eq!(spawned.await.unwrap().unwrap().status(), 204);
    assert_eq!(mock.requests().len(), 2);
    for request in mock.requests() {
        assert_prepaid_request(&request);
    }
    // Dropping the client here, inside an async context, must not panic.
    drop(client);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn async_verbs_under_multi_thread_tokio() {
    let (mock, client) = prepaid_on(MockServer::start().expect("the mock starts"));
    let tasks: Vec<_> = (0..4)
        .map(|_| tokio::spawn(client[TEMPLATE].post_async(prepaid_options())))
        .collect();
    for task in tasks {
        assert_eq!(task.await.unwrap().unwrap().status(), 204);
    }
    assert_eq!(mock.requests().len(), 4);
    drop(client);
}

#[test]
fn async_verbs_without_any_tokio_runtime() {
    let (mock, client) = prepaid_mock();
    assert!(tokio::runtime::Handle::try_current().is_err());
    let response =
        futures::executor::block_on(client[TEMPLATE].post_async(prepaid_options())).expect("ok");
    assert_eq!(response.status(), 204);
    assert_eq!(response.verified_by(), PLATFORM_KEY_ID);
    assert_prepaid_request(&mock.requests()[0]);

    // The other verbs too.
    mock.on(
        "GET",
        "/v3/certificates",
        Reply::json(200, json!({"data": []})),
    );
    mock.on("PUT", "/v3/x", Reply::status(204));
    mock.on("PATCH", "/v3/x", Reply::status(204));
    mock.on("DELETE", "/v3/x", Reply::status(204));
    futures::executor::block_on(async {
        assert_eq!(
            client["v3/certificates"]
                .get_async(())
                .await
                .unwrap()
                .status(),
            200
        );
        assert_eq!(client["v3/x"].put_async(()).await.unwrap().status(), 204);
        assert_eq!(client["v3/x"].patch_async(()).await.unwrap().status(), 204);
        assert_eq!(client["v3/x"].delete_async(()).await.unwrap().status(), 204);
        assert_eq!(
            client["v3/x"]
                .request_async(http::Method::PUT, ())
                .await
                .unwrap()
                .status(),
            204
        );
    });
    assert!(mock.requests().iter().all(|r| r.verdict.is_ok()));
    assert_eq!(mock.requests().len(), 6);
}

#[test]
fn sixteen_concurrent_requests() {
    let (mock, client) = many_orders(16);
    // Futures only wait for the client's runtime, so a plain executor drives all 16.
    let answers = futures::executor::block_on(join_all(
        (0..16).map(|i| client[TEMPLATE].post_async(options_for(&format!("N{i}")))),
    ));
    for (i, answer) in answers.into_iter().enumerate() {
        let response = answer.expect("ok");
        assert_eq!(response.json::<serde_json::Value>().unwrap()["order"], i);
        assert_eq!(response.verified_by(), PLATFORM_KEY_ID);
    }
    let requests = mock.requests();
    assert_eq!(requests.len(), 16);
    let mut paths: Vec<&str> = requests.iter().map(|r| r.path()).collect();
    paths.sort_unstable();
    paths.dedup();
    assert_eq!(paths.len(), 16, "each request went out once");
    assert!(requests.iter().all(|r| r.verdict.is_ok()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixteen_concurrent_requests_under_tokio() {
    let (mock, client) = many_orders(16);
    let answers =
        join_all((0..16).map(|i| client[TEMPLATE].post_async(options_for(&format!("N{i}"))))).await;
    assert!(answers.iter().all(|answer| answer.is_ok()));
    assert_eq!(mock.requests().len(), 16);
}

/// Runs `work` on a thread and fails if it does not finish within `limit`.
fn finishes_within(limit: Duration, work: impl FnOnce() + Send + 'static) {
    let (done, finished) = mpsc::channel();
    std::thread::spawn(move || {
        work();
        let _ = done.send(());
    });
    finished.recv_timeout(limit).expect("must not hang");
}

#[test]
fn dropping_an_idle_client_does_not_hang() {
    let (mock, client) = prepaid_mock();
    client[TEMPLATE].post(prepaid_options()).expect("ok");
    let clone = client.clone();
    finishes_within(Duration::from_millis(500), move || drop(client));
    // The clone still works: the runtime lives while any clone does.
    clone[TEMPLATE].post(prepaid_options()).expect("ok");
    finishes_within(Duration::from_millis(500), move || drop(clone));

    // A client that never sent anything.
    let unused = mock.client_builder().build().unwrap();
    finishes_within(Duration::from_millis(500), move || drop(unused));
    assert_eq!(mock.requests().len(), 2);
}

#[test]
fn a_future_that_is_never_polled_sends_nothing() {
    let (mock, client) = prepaid_mock();
    let future = client[TEMPLATE].post_async(prepaid_options());
    std::thread::sleep(Duration::from_millis(50));
    assert!(mock.requests().is_empty(), "created but not polled");
    drop(future);
    std::thread::sleep(Duration::from_millis(50));
    assert!(mock.requests().is_empty(), "dropped unpolled");

    // Polling it is what sends it.
    let future = client[TEMPLATE].post_async(prepaid_options());
    assert!(mock.requests().is_empty());
    assert_eq!(futures::executor::block_on(future).unwrap().status(), 204);
    assert_eq!(mock.requests().len(), 1);
    assert!(mock.requests()[0].target.contains(OUT_ORDER_NO));
}

#[test]
fn dropping_a_future_in_flight_cancels_it() {
    let (mock, client) = prepaid_mock();
    mock.on(
        "POST",
        crate::common::PREPAID_PATH,
        Reply::status(204).delay(Duration::from_millis(200)),
    );
    let mut future = Box::pin(client[TEMPLATE].post_async(prepaid_options()));
    // Poll once to start it, then give up.
    let mut context = std::task::Context::from_waker(std::task::Waker::noop());
    assert!(future.as_mut().poll(&mut context).is_pending());
    drop(future);
    // The client stays usable.
    mock.on("POST", crate::common::PREPAID_PATH, Reply::status(204));
    assert_eq!(
        client[TEMPLATE].post(prepaid_options()).unwrap().status(),
        204
    );
}

#[test]
fn a_completed_future_polled_again_is_an_error() {
    let (_mock, client) = prepaid_mock();
    let mut future = Box::pin(client[TEMPLATE].post_async(prepaid_options()));
    assert!(futures::executor::block_on(future.as_mut()).is_ok());
    let err = futures::executor::block_on(future.as_mut()).expect_err("already done");
    assert_eq!(err.kind(), wechatpay::ErrorKind::InvalidArgument);
}

#[test]
fn one_client_across_runtimes_that_come_and_go() {
    // Connections belong to the runtime that opened them: a client shared by successive
    // runtimes (a static client in `#[tokio::test]`s) must not reuse a dead runtime's pool.
    let (mock, client) = prepaid_mock();
    for _ in 0..3 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let response = runtime.block_on(client[TEMPLATE].post_async(prepaid_options()));
        assert_eq!(response.expect("ok").status(), 204);
        drop(runtime);
        // A blocking call between runtimes goes through the client's runtime thread.
        client[TEMPLATE].post(prepaid_options()).expect("ok");
    }
    assert_eq!(mock.requests().len(), 6);
}

#[tokio::test]
async fn a_blocking_verb_inside_an_async_fn_does_not_deadlock() {
    // Not recommended (it stalls this executor thread), but it must finish: inside a tokio
    // context the blocking verbs use the client's own runtime thread.
    let (mock, client) = prepaid_mock();
    let response = client[TEMPLATE].post(prepaid_options());
    assert_eq!(response.expect("ok").status(), 204);
    assert_eq!(mock.requests().len(), 1);
}

#[test]
fn blocking_and_async_callers_share_a_client() {
    let (mock, client) = prepaid_mock();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let background = {
        let client = client.clone();
        runtime.spawn(async move {
            for _ in 0..5 {
                client[TEMPLATE].post_async(prepaid_options()).await?;
            }
            Ok::<_, wechatpay::Error>(())
        })
    };
    for _ in 0..5 {
        client[TEMPLATE].post(prepaid_options()).expect("ok");
    }
    runtime.block_on(background).unwrap().expect("ok");
    assert_eq!(mock.requests().len(), 10);
}

#[test]
fn blocking_callers_take_turns_driving_the_shared_runtime() {
    // Blocking calls drive the process's runtime on their own threads and hand it back to the
    // runtime thread when they stop: 8 threads calling again and again, pausing now shorter
    // and now longer than the hand-back delay, while async calls with no tokio runtime of
    // their own run on that runtime too.
    let (mock, client) = prepaid_mock();
    let threads: Vec<_> = (0..8)
        .map(|lane| {
            let client = client.clone();
            std::thread::spawn(move || {
                for call in 0..25 {
                    if (lane + call) % 5 == 0 {
                        std::thread::sleep(Duration::from_millis(3 + call as u64 % 3));
                    }
                    let response = client[TEMPLATE].post(prepaid_options()).expect("ok");
                    assert_eq!(response.status(), 204);
                }
            })
        })
        .collect();
    let answers = futures::executor::block_on(join_all(
        (0..20).map(|_| client[TEMPLATE].post_async(prepaid_options())),
    ));
    assert!(answers.iter().all(|answer| answer.is_ok()), "{answers:?}");
    for thread in threads {
        thread.join().expect("no panic");
    }
    assert_eq!(mock.requests().len(), 8 * 25 + 20);
}
