//! The answer side of the request future: check the answer of the last try, verify it again
//! after a refresh of the platform keys, and deliver it (into its sink, with its digest
//! checked).

use std::sync::Arc;

use super::exchange::{Delivery, Exchanged};
use super::trace::Trace;
use super::{Answer, Placement, Shared, State, refresh};
use crate::crypto::Verified;
use crate::error::{Error, ErrorKind, Result, Verification};
use crate::request::{self, Check};
use crate::response::{Response, Streamed};
use crate::toolkit;
use crate::transport::StreamedBody;
use crate::v3::verify::HEADER_SERIAL;

/// What the poll does next.
#[allow(clippy::large_enum_variant)]
pub(super) enum Next {
    /// Wait in this state.
    Wait(State),
    /// The request is over.
    Done(Result<Response>),
}

/// What verifying an answer again needs.
pub(super) struct AfterRefresh {
    pub check: Check,
    pub error: Error,
    pub streamed: Option<StreamedBody>,
    pub delivery: Option<Delivery>,
}

/// Counts which key verified `response`.
fn counted(shared: &Shared, response: Response, now: u64) -> Response {
    if let Some(id) = response.verified_by().key_id() {
        shared
            .config
            .platform_keys
            .record(id, Verified::Answer, now);
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
pub(super) fn verify_again(
    shared: &Shared,
    check: &Check,
    error: Error,
    refreshed: Result<()>,
) -> Result<Response> {
    let Some(answer) = error.response() else {
        return Err(error);
    };
    let mut response = http::Response::new(answer.body().clone());
    *response.status_mut() = answer.status();
    *response.headers_mut() = answer.headers().clone();
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

/// What the poll does with a finished exchange: check the answer, then hand it back, write
/// it into the sink, or wait for a refresh of the platform keys.
pub(super) fn checked(
    shared: Arc<Shared>,
    placement: Placement,
    exchanged: Exchanged,
    trace: Trace,
) -> Next {
    let Exchanged {
        response,
        check,
        note,
        delivery,
    } = exchanged;
    let streamed = response.extensions().get::<StreamedBody>().copied();
    let now = toolkit::timestamp();
    let error = match request::finish(&shared.config, &check, response, now) {
        Ok(response) => {
            let response = counted(&shared, response, now);
            return deliver(&shared, placement, response, streamed, delivery, trace);
        }
        Err(error) => match note {
            Some(note) => error.with_note(note),
            None => error,
        },
    };
    let refresh =
        unknown_serial(&error).and_then(|serial| refresh::after_unknown_serial(&shared, serial));
    match refresh {
        Some(refresh) => Next::Wait(State::Refreshing {
            shared,
            placement,
            after: AfterRefresh {
                check,
                error,
                streamed,
                delivery,
            },
            refresh,
            trace,
        }),
        None => Next::Done(Err(error)),
    }
}

/// A verified answer, delivered: the sink's bytes described (after writing a whole body into
/// it on a blocking thread), the digest checked.
pub(super) fn deliver(
    shared: &Shared,
    placement: Placement,
    response: Response,
    streamed: Option<StreamedBody>,
    delivery: Option<Delivery>,
    trace: Trace,
) -> Next {
    let Some(delivery) = delivery else {
        return Next::Done(Ok(response));
    };
    let (path, digest_checked) = (delivery.path.clone(), delivery.digest.is_some());
    let described = move |bytes: u64| Streamed {
        bytes,
        path,
        digest_checked,
    };
    if let Some(StreamedBody { bytes }) = streamed {
        return Next::Done(Ok(response.into_streamed(described(bytes))));
    }
    let Some(sink) = delivery.stream_to.as_ref().and_then(|to| to.take()) else {
        // No sink, only a digest: check the body in memory.
        let checked = match &delivery.digest {
            Some((kind, value)) => crate::bill::check(response.bytes(), kind, value),
            None => Ok(()),
        };
        return Next::Done(checked.map(|()| response));
    };
    let blocking = move || {
        let bytes = sink.write_whole(response.bytes())?;
        Ok(response.into_streamed(described(bytes)))
    };
    let in_tokio = tokio::runtime::Handle::try_current().is_ok();
    let writing = if placement == Placement::Caller && in_tokio {
        tokio::task::spawn_blocking(blocking)
    } else {
        match shared.runtime() {
            Ok(runtime) => runtime.spawn_blocking(blocking),
            Err(error) => return Next::Done(Err(error)),
        }
    };
    Next::Wait(State::Sinking {
        answer: Answer::Remote(writing),
        trace,
    })
}
