//! The end of a request: the answer of the last try checked (and, when it names a platform
//! key the client does not know, verified once more after a refresh of the keys in automatic
//! mode), then delivered: into its sink, with its digest checked.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

use bytes::Bytes;

use super::exchange::{Exchanged, within};
use super::refresh;
use super::shared::Shared;
use super::trace;
use super::wire::Delivery;
use crate::bill::Checker;
use crate::crypto::Verified;
use crate::error::{Error, ErrorKind, Result, Verification};
use crate::request::{self, Check};
use crate::response::{Response, Streamed};
use crate::runtime::Placement;
use crate::toolkit;
use crate::transport::StreamTo;
use crate::v3::verify::HEADER_SERIAL;

/// Checks the answer of `exchanged`, verifies it again after a refresh of the platform keys
/// when it named an unknown serial, and delivers it (writing a whole body into the sink, or
/// checking its digest, on a blocking thread where `placement` says); the refresh and the
/// digest end at the request's `deadline`.
pub(crate) async fn finish(
    shared: &Arc<Shared>,
    placement: Placement,
    exchanged: Exchanged,
    deadline: Option<Instant>,
) -> Result<Response> {
    let Exchanged {
        response,
        check,
        note,
        delivery,
        named_public_key,
    } = exchanged;
    let now = toolkit::timestamp();
    let response = match request::finish(&shared.config, &check, response, now) {
        Ok(response) => {
            if named_public_key {
                rollout_answer(shared, response.verified_by().key_id());
            }
            counted(shared, response, now)
        }
        Err(error) => {
            if named_public_key && error.is_verification() {
                rollout_answer(shared, None);
            }
            let error = match note {
                Some(note) => error.with_note(note),
                None => error,
            };
            let refresh = unknown_serial(&error)
                .and_then(|serial| refresh::after_unknown_serial(shared, serial));
            let Some(refresh) = refresh else {
                return Err(error);
            };
            let waiting = within(deadline, "the refresh of the platform keys", refresh);
            let refreshed = shared.runtime.placed(placement, waiting).await;
            verify_again(shared, &check, error, refreshed)?
        }
    };
    deliver(shared, placement, response, delivery, deadline).await
}

/// An answer to a request that named the public key during a rollout, verified by
/// `verified_by` (`None`: it failed verification): the rollout goes back to 0 % when WeChat
/// Pay did not sign it with the public key.
fn rollout_answer(shared: &Shared, verified_by: Option<&str>) {
    if shared.config.platform_keys.public_key_answer(verified_by) {
        trace::rolled_back(verified_by);
    }
}

/// Counts which key verified `response` (and looks at the certificates' expiry when due).
fn counted(shared: &Shared, response: Response, now: u64) -> Response {
    shared.expiry.watch(&shared.config, now);
    if let Some(id) = response.verified_by().key_id() {
        shared
            .config
            .platform_keys
            .record(id, Verified::Response, now);
    }
    response
}

/// The serial of an answer refused as [`Verification::UnknownSerial`].
fn unknown_serial(error: &Error) -> Option<&str> {
    if error.kind() != ErrorKind::Verification(Verification::UnknownSerial) {
        return None;
    }
    error
        .response()?
        .headers()
        .get(HEADER_SERIAL)?
        .to_str()
        .ok()
}

/// Verifies the answer behind `error` once more, with the keys as they are after a refresh.
fn verify_again(
    shared: &Shared,
    check: &Check,
    error: Error,
    refreshed: Result<()>,
) -> Result<Response> {
    let Some(received) = error.response() else {
        return Err(error);
    };
    let mut response = http::Response::new(received.body().clone());
    *response.status_mut() = received.status();
    *response.headers_mut() = received.headers().clone();
    let now = toolkit::timestamp();
    match request::finish(&shared.config, check, response, now) {
        Ok(response) => Ok(counted(shared, response, now)),
        Err(again) => Err(match refreshed {
            Ok(()) => again.with_note(
                "; the platform certificates were refreshed (at most once a minute for unknown \
                 serials) and do not include it: the answer is not from WeChat Pay, or the \
                 key is missing from the configuration",
            ),
            Err(failed) => again.with_note(format!(
                "; refreshing the platform certificates first failed: {failed}"
            )),
        }),
    }
}

/// A verified answer, delivered: the sink's bytes described (after writing a whole body into
/// it on a blocking thread, when the transport did not stream it), the digest checked.
async fn deliver(
    shared: &Shared,
    placement: Placement,
    response: Response,
    delivery: Option<Delivery>,
    deadline: Option<Instant>,
) -> Result<Response> {
    let Some(delivery) = delivery else {
        return Ok(response);
    };
    let (path, digest_checked) = (delivery.path.clone(), delivery.digest.is_some());
    let described = move |bytes: u64| Streamed {
        bytes,
        path,
        digest_checked,
    };
    let stream_to = delivery.stream_to.as_ref();
    if let Some(bytes) = stream_to.and_then(StreamTo::written) {
        return Ok(response.into_streamed(described(bytes)));
    }
    let Some(sink) = stream_to.and_then(StreamTo::take) else {
        // No sink, only a digest: check the body in memory.
        if let Some((kind, value)) = delivery.digest {
            let body = response.bytes().clone();
            check_digest(shared, placement, deadline, body, kind, value).await?;
        }
        return Ok(response);
    };
    let writing = move || {
        let bytes = sink.write_whole(response.bytes())?;
        Ok(response.into_streamed(described(bytes)))
    };
    shared.runtime.placed_blocking(placement, writing).await
}

/// Checks a bill's digest over a body in memory, on a blocking thread (a gzip bill can take
/// seconds to decompress, which must not stall an executor), until `deadline`: past it the
/// request fails and the check stops at its next piece.
async fn check_digest(
    shared: &Shared,
    placement: Placement,
    deadline: Option<Instant>,
    body: Bytes,
    kind: String,
    value: String,
) -> Result<()> {
    let stop = Arc::new(AtomicBool::new(false));
    let stopping = StopOnDrop(stop.clone());
    let checking = async move {
        let _stopping = stopping;
        let work = move || check_in_pieces(&body, &kind, &value, &stop);
        let blocking = async move {
            tokio::task::spawn_blocking(work).await.unwrap_or_else(|e| {
                Err(Error::new(ErrorKind::Transport, "the digest check stopped").with_source(e))
            })
        };
        within(deadline, "the check of the bill's digest", blocking).await
    };
    shared.runtime.placed(placement, checking).await
}

/// The piece of a body the digest check takes between two looks at its stop signal.
const DIGEST_PIECE: usize = 64 * 1024;

fn check_in_pieces(body: &[u8], kind: &str, value: &str, stop: &AtomicBool) -> Result<()> {
    let mut checker = Checker::new(kind, value)?;
    for piece in body.chunks(DIGEST_PIECE) {
        if stop.load(Ordering::Acquire) {
            return Err(Error::new(
                ErrorKind::Timeout,
                "the check of the bill's digest stopped: the request ended",
            ));
        }
        checker.update(piece)?;
    }
    checker.finish()
}

/// Tells a blocking check to stop when the future waiting for it ends (done, timed out or
/// dropped).
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}
