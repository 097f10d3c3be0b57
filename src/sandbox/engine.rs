//! The sandbox plugged into the mock server: its console and control API, its answers to WeChat Pay's
//! API, its request log, and its deliveries running beside the server.

use std::sync::Arc;

use bytes::Bytes;
use futures::future::BoxFuture;

use super::core::Core;
use super::{console, control, dispatch, routes};
use crate::mock::Reply;
use crate::mock::engine::{Engine, Exchange, Inbound};
use crate::mock::{Attach, MockHandle};

impl Attach for Core {
    fn attach(&self, mock: MockHandle) {
        Core::attach(self, mock);
    }
}

impl Engine for Core {
    fn control(
        self: Arc<Self>,
        request: &Inbound<'_>,
    ) -> Option<BoxFuture<'static, http::Response<Bytes>>> {
        console::serve(&self, request).or_else(|| control::handle(self, request))
    }

    fn answer(&self, request: &Inbound<'_>) -> Option<Reply> {
        Some(routes::answer(self, request))
    }

    fn record(&self, exchange: Exchange) {
        self.log
            .add(exchange, self.now_ms(), || self.changes.bump());
    }

    fn run(self: Arc<Self>) -> BoxFuture<'static, ()> {
        Box::pin(dispatch::run(self))
    }
}
