//! A chain: one API path template and its ten verbs.

use std::fmt;
use std::ops::Index;
use std::sync::{Arc, OnceLock};

use bytes::Bytes;
use elsa::sync::FrozenMap;
use http::Method;

use crate::error::Result;
use crate::future::ResponseFuture;
use crate::future::shared::Shared;
use crate::future::trace::Trace;
use crate::normalize::{normalized_len, push_normalized};
use crate::options::Options;
use crate::plan::{Plan, plaintext};
use crate::request;
#[cfg(feature = "blocking")]
use crate::response::Response;
use crate::runtime::Placement;

/// The verbs whose documented-encrypted fields a chain caches, in the order of its cache.
static VERBS: [Method; 5] = [
    Method::GET,
    Method::PUT,
    Method::POST,
    Method::PATCH,
    Method::DELETE,
];

/// An API path template such as `v3/pay/transactions/id/{transaction_id}`, with the verbs
/// that call it.
///
/// Make one with [`Client::chain`](crate::Client::chain), `client["…"]` or
/// [`chain!`](crate::chain!); extend it with [`Chain::chain`] or `chain["…"]`.
///
/// The blocking verbs (`get`, `put`, `post`, `patch`, `delete`; feature `blocking`) work from
/// any thread; the `*_async` verbs return a `Send + 'static` [`ResponseFuture`] that runs
/// under any executor. Both take anything that converts into [`Options`]: a
/// `serde_json::Value`, an [`Options`] built with methods, or `()` for none.
pub struct Chain {
    shared: Arc<Shared>,
    path: String,
    /// Whether the path is a documented template (looked up once): a request of one that is
    /// not carries it, for the hint on a `404`.
    documented: OnceLock<bool>,
    children: FrozenMap<String, Box<Chain>>,
    /// The documented-encrypted request fields of this path for `GET`, `PUT`, `POST`,
    /// `PATCH` and `DELETE`, each looked up once.
    encrypted: [OnceLock<&'static [&'static str]>; 5],
}

impl Chain {
    pub(crate) fn root(shared: Arc<Shared>, path: &str, normalize: bool) -> Self {
        let path = if normalize {
            let mut normalized = String::with_capacity(normalized_len(path));
            push_normalized(&mut normalized, path);
            normalized
        } else {
            path.to_owned()
        };
        Self::with_path(shared, path)
    }

    fn with_path(shared: Arc<Shared>, path: String) -> Self {
        Self {
            shared,
            path,
            children: FrozenMap::new(),
            documented: OnceLock::new(),
            encrypted: Default::default(),
        }
    }

    /// This chain plus one more segment, normalised like PHP (see
    /// [`Client::chain`](crate::Client::chain)).
    pub fn chain(&self, segment: &str) -> Chain {
        let mut path = String::with_capacity(self.path.len() + 1 + normalized_len(segment));
        path.push_str(&self.path);
        path.push('/');
        push_normalized(&mut path, segment);
        Self::with_path(self.shared.clone(), path)
    }

    /// This chain plus `path`, appended exactly as written.
    pub fn chain_raw(&self, path: &str) -> Chain {
        let mut joined = String::with_capacity(self.path.len() + 1 + path.len());
        joined.push_str(&self.path);
        joined.push('/');
        joined.push_str(path);
        Self::with_path(self.shared.clone(), joined)
    }

    /// The path template, e.g. `v3/pay/transactions/id/{transaction_id}`.
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The methods the WeChat Pay docs give for this chain's path, empty when it is not a
    /// documented endpoint (see [`endpoints::methods`](crate::endpoints::methods)).
    pub fn documented_methods(&self) -> Vec<Method> {
        crate::endpoints::methods(&self.path)
    }

    /// Sends a request with any method and returns its future.
    ///
    /// The options are decoded now (a bad option or a missing path variable is reported when
    /// the future is first polled); signing and sending wait for the first poll.
    ///
    /// Polled inside a tokio runtime (which needs IO and time enabled, as `#[tokio::main]` and
    /// `#[tokio::test]` have), the request's I/O runs right there, on pooled connections of
    /// that runtime; under any other executor it runs on the client's own runtime thread. Do
    /// not `futures::executor::block_on` it inside a tokio task: await it.
    pub fn request_async(&self, method: Method, options: impl Into<Options>) -> ResponseFuture {
        self.future(method, options.into(), Placement::Caller)
    }

    fn future(&self, method: Method, options: Options, placement: Placement) -> ResponseFuture {
        let plan = Plan::decode_guarded(&self.path, &options, self.guard(&method));
        let trace = Trace::request(&method, &self.path);
        ResponseFuture::new(
            self.shared.clone(),
            method,
            plan,
            placement,
            trace,
            self.undocumented_path(),
        )
    }

    /// The signed request this chain would send with `options`, the timestamp and the nonce
    /// given, without sending it. Pure: useful to inspect or log a request (its
    /// `Authorization` header is a secret-free signature), or to send it yourself (an APIv2
    /// `security: true` request must then go over mutual TLS with the merchant certificate).
    ///
    /// # Errors
    ///
    /// As the verbs, before anything would be sent.
    pub fn build_request(
        &self,
        method: Method,
        options: impl Into<Options>,
        timestamp: u64,
        nonce: &str,
    ) -> Result<http::Request<Bytes>> {
        let options = options.into();
        let plan = Plan::decode_guarded(&self.path, &options, self.guard(&method));
        request::prepare(&self.shared.config, method, &plan?, timestamp, nonce)
            .map(|prepared| prepared.request)
    }

    /// What the plain-text guard needs for a call of `method`: nothing when the operation
    /// has no documented-encrypted field.
    fn guard<'m>(&self, method: &'m Method) -> Option<plaintext::Guard<'m>> {
        let fields = self.encrypted_fields(method);
        (!fields.is_empty()).then(|| plaintext::Guard {
            method,
            fields,
            client_allows: self.shared.config.allow_plaintext,
        })
    }

    /// This chain's path when it is not a documented template (the error of a `404` then names
    /// the nearest documented ones), else `None`: a documented path costs no copy.
    fn undocumented_path(&self) -> Option<String> {
        let documented = *self
            .documented
            .get_or_init(|| crate::endpoints::is_documented(&self.path));
        (!documented).then(|| self.path.clone())
    }

    /// The documented-encrypted request fields of `method` on this path (cached for the
    /// five verbs).
    fn encrypted_fields(&self, method: &Method) -> &'static [&'static str] {
        match VERBS.iter().position(|verb| verb == method) {
            Some(index) => {
                self.encrypted[index].get_or_init(|| plaintext::fields(method, &self.path))
            }
            None => plaintext::fields(method, &self.path),
        }
    }

    /// Sends a request with any method and waits for the answer.
    ///
    /// The calling thread drives the process's shared runtime until the answer is back (no
    /// hop to another thread); inside a tokio runtime (`spawn_blocking`) it hands the request
    /// to the runtime thread and parks instead. Fine on any thread; inside an `async fn` use
    /// the `*_async` verbs instead, or the executor thread stalls meanwhile.
    ///
    /// # Errors
    ///
    /// See [`Error`](crate::Error): missing path variables and bad options before anything is sent,
    /// transport failures and timeouts, API errors, answers that fail verification.
    #[cfg(feature = "blocking")]
    pub fn request(&self, method: Method, options: impl Into<Options>) -> Result<Response> {
        let options = options.into();
        self.shared
            .runtime
            .block_on(|placement| self.future(method, options, placement))
    }
}

macro_rules! verbs {
    ($($method:ident $blocking:ident $nonblocking:ident;)*) => {
        impl Chain {
            $(
                #[doc = concat!("`", stringify!($method), "` and wait for the verified answer.")]
                ///
                /// # Errors
                ///
                /// See [`Chain::request`].
                #[cfg(feature = "blocking")]
                pub fn $blocking(&self, options: impl Into<Options>) -> Result<Response> {
                    self.request(Method::$method, options)
                }

                #[doc = concat!("`", stringify!($method), "`, as a `Send + 'static` future of the verified answer.")]
                pub fn $nonblocking(&self, options: impl Into<Options>) -> ResponseFuture {
                    self.request_async(Method::$method, options)
                }
            )*
        }
    };
}

verbs! {
    GET get get_async;
    PUT put put_async;
    POST post post_async;
    PATCH patch patch_async;
    DELETE delete delete_async;
}

impl Index<&str> for Chain {
    type Output = Chain;

    /// `chain["…"]`: this chain plus a normalised segment, built once and cached by this
    /// chain (see [`Client`](crate::Client)'s `Index` for the caching rule).
    fn index(&self, segment: &str) -> &Chain {
        if let Some(child) = self.children.get(segment) {
            return child;
        }
        self.children
            .insert_with(segment.to_owned(), || Box::new(self.chain(segment)))
    }
}

impl Clone for Chain {
    /// The same path; the clone starts with an empty child cache.
    fn clone(&self) -> Self {
        Self {
            shared: self.shared.clone(),
            path: self.path.clone(),
            children: FrozenMap::new(),
            documented: self.documented.clone(),
            encrypted: self.encrypted.clone(),
        }
    }
}

impl fmt::Debug for Chain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Chain").field("path", &self.path).finish()
    }
}
