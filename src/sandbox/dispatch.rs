//! Makes the deliveries' attempts when they are due in the sandbox's clock: each attempt is
//! signed and encrypted afresh (a retry hours later must pass the merchant's 5-minute
//! timestamp check), keeps the notification's `id`, and is sent by [`deliver`].

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::HeaderMap;

use super::core::Core;
use super::deliver::deliver;
use super::deliveries::{Attempt, Payload, Started};
use crate::error::{Error, Result};
use crate::mock::Envelope;
use crate::toolkit::SignType;

/// Runs the attempts as they fall due, until the server stops.
pub(crate) async fn run(core: Arc<Core>) {
    loop {
        let now = core.now_ms();
        for started in core.deliveries.take_due(now) {
            tokio::spawn(attempt(core.clone(), started));
        }
        // Sleep until the next attempt is due (in real time, at the clock's scale), or until
        // one is added or the clock moves.
        let wait = core
            .deliveries
            .next_due()
            .map_or(Duration::from_secs(3600), |due| {
                core.clock.real_wait_until(due)
            });
        if wait.is_zero() {
            tokio::task::yield_now().await;
            continue;
        }
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = core.deliveries.changed() => {}
        }
    }
}

/// One attempt: signed now, sent, its answer judged and recorded.
async fn attempt(core: Arc<Core>, started: Started) {
    let started_ms = core.now_ms();
    let genuine = started.notice.fault.is_none();
    let built = build(&core, &started);
    let mut attempt = Attempt {
        number: started.number,
        manual: started.manual,
        scheduled_ms: started.scheduled_ms,
        started_ms,
        status: None,
        latency_ms: 0,
        answer: String::new(),
        error: None,
        accepted: false,
        verdict: String::new(),
    };
    match built {
        Ok((headers, body)) => match deliver(&started.notice.url, &headers, body).await {
            Ok(delivered) => {
                attempt.status = delivered.status;
                attempt.latency_ms = delivered.latency.as_millis() as u64;
                attempt.answer = String::from_utf8_lossy(&delivered.body).into_owned();
                attempt.error = delivered.error.clone();
                attempt.accepted = delivered.accepted();
                attempt.verdict = delivered.verdict(genuine);
            }
            Err(error) => attempt.error = Some(error.to_string()),
        },
        Err(error) => attempt.error = Some(format!("the notification cannot be made: {error}")),
    }
    if attempt.verdict.is_empty() {
        attempt.verdict = format!(
            "not delivered: {}",
            attempt.error.as_deref().unwrap_or("unknown error")
        );
    }
    core.deliveries
        .finish(started.id, attempt, || core.changes.bump());
}

/// The notification of an attempt: headers and body, as WeChat Pay sends it now.
fn build(core: &Core, started: &Started) -> Result<(HeaderMap, Bytes)> {
    let mock = core
        .mock()
        .ok_or_else(|| Error::invalid("the sandbox is not serving"))?;
    let notice = &started.notice;
    match &notice.payload {
        Payload::V3(resource) => mock.notification(
            &Envelope {
                id: Some(&started.notification_id),
                create_time: Some(started.created_ms / 1000),
                summary: Some(&notice.summary),
                event_type: &notice.event_type,
                resource_type: &notice.resource_type,
                original_type: &notice.original_type,
            },
            resource,
            notice.fault,
        ),
        Payload::V2(fields) => mock.v2_notification(fields, SignType::Md5, notice.fault),
        Payload::V2Refund { fields, refund } => {
            mock.v2_refund_notification(fields, refund, notice.fault)
        }
    }
}
