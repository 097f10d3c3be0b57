//! What a try tells the transport: its [`SendOptions`], with the client's rule for the body of
//! the answer, decided here, above the transport (which answers are read only in part, which
//! go into the request's sink), and where the body of a `sink` request goes ([`Delivery`],
//! with the bill digest checked as it is written).

use std::path::PathBuf;
use std::time::{Duration, Instant};

use http::{HeaderMap, StatusCode};

use crate::bill::Checker;
use crate::error::{Error, ErrorKind, Result};
use crate::options::Sink;
use crate::plan::Plan;
use crate::request::{self, Check, Prepared};
use crate::transport::{BodyCheck, BodyRule, BodySink, Reading, SendOptions, StreamTo};
use crate::v3::verify::names::SIGNATURE;

/// Where the body of a `sink` request goes, the digest it must have, and what the answer
/// will say about it.
pub(crate) struct Delivery {
    /// The sink; taken by a transport that streamed into it.
    pub stream_to: Option<StreamTo>,
    /// Whether the transport may stream (a download WeChat Pay does not sign).
    pub streams: bool,
    pub path: Option<PathBuf>,
    pub digest: Option<(String, String)>,
}

/// The sink and digest of `plan`, if it has either.
///
/// # Errors
///
/// A digest of a kind that cannot be checked (the plan refused it already).
pub(crate) fn delivery(plan: &Plan, check: &Check) -> Result<Option<Delivery>> {
    if plan.sink.is_none() && plan.digest.is_none() {
        return Ok(None);
    }
    let path = match &plan.sink {
        Some(Sink::Path(path)) => Some(path.clone()),
        _ => None,
    };
    let stream_to = match &plan.sink {
        Some(sink) => {
            let digest = match &plan.digest {
                Some((kind, value)) => Some(Checker::new(kind, value)?),
                None => None,
            };
            let check: Option<Box<dyn BodyCheck>> = match (digest, plan.max_sink_size) {
                (None, None) => None,
                (digest, max) => Some(Box::new(DownloadCheck {
                    digest,
                    max,
                    seen: 0,
                })),
            };
            Some(StreamTo::new(BodySink::new(sink.clone(), check)))
        }
        None => None,
    };
    Ok(Some(Delivery {
        stream_to,
        streams: check.may_stream(),
        path,
        digest: plan.digest.clone(),
    }))
}

/// The options of one try of `prepared`: its TLS and timeouts, the request's `deadline`, and
/// the client's rule for the body ([`reading`]), with the sink of `delivery` when the answer
/// may stream into it.
pub(crate) fn send_options(
    prepared: &Prepared,
    delivery: Option<&Delivery>,
    deadline: Option<Instant>,
) -> SendOptions {
    let mut rule = BodyRule::new(prepared.limits.max_response_size, reading);
    rule.signed = prepared.check.must_be_signed();
    rule.sink = delivery
        .filter(|delivery| delivery.streams)
        .and_then(|delivery| delivery.stream_to.clone());
    SendOptions::new(
        prepared.mutual_tls,
        prepared
            .connect_timeout
            .map(|limit| limit.unwrap_or(Duration::MAX)),
        prepared.limits.read_timeout,
        deadline,
        rule,
    )
}

/// The client's rule for an answer's body: only a [`request::prefix`] of an answer that is an
/// error whatever the rest says (one byte more than is kept, so that the client sees whether
/// there was more), an unsigned success into the sink when there is one, else the whole body
/// up to the limit.
fn reading(rule: &BodyRule, status: StatusCode, headers: &HeaderMap) -> Reading {
    if let Some(kept) = request::prefix(rule.signed, status, headers, rule.max) {
        return Reading::Prefix(kept + 1);
    }
    let sink = rule
        .sink
        .as_ref()
        .filter(|_| status.is_success() && !headers.contains_key(SIGNATURE))
        .and_then(StreamTo::take);
    match sink {
        Some(sink) => Reading::Stream(sink),
        None => Reading::Whole(rule.max),
    }
}

/// What the client checks as a body goes into the sink: its size
/// ([`Options::max_sink_size`](crate::Options::max_sink_size)), before a byte past the limit
/// is written, and a bill's digest.
struct DownloadCheck {
    digest: Option<Checker>,
    max: Option<u64>,
    seen: u64,
}

impl BodyCheck for DownloadCheck {
    fn update(&mut self, piece: &[u8]) -> Result<()> {
        self.seen = self.seen.saturating_add(piece.len() as u64);
        if let Some(max) = self.max
            && self.seen > max
        {
            return Err(Error::new(
                ErrorKind::Transport,
                format!(
                    "the download passed {max} bytes, the limit set with \
                     Options::max_sink_size; it was stopped and nothing was kept"
                ),
            ));
        }
        match &mut self.digest {
            Some(digest) => digest.update(piece),
            None => Ok(()),
        }
    }

    fn finish(self: Box<Self>) -> Result<()> {
        match self.digest {
            Some(digest) => digest.finish(),
            None => Ok(()),
        }
    }
}
