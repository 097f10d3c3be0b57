//! [`MerchantRegistry`]: each merchant's client, made from your settings when first needed.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use futures::FutureExt;
use futures::future::{BoxFuture, Shared};

use crate::client::Client;
use crate::error::{Error, Result};

/// Where a [`MerchantRegistry`] gets a merchant's client: your settings, read when the
/// merchant is first needed (and again after [`MerchantRegistry::invalidate`]).
///
/// Any `Fn(String) -> impl Future<Output = Result<Option<Client>>>` is a source, e.g.
/// `|mchid: String| async move { … }`. Answer `Ok(None)` for a merchant that is not yours,
/// and an error when the settings cannot be read now (the request fails; the next one asks
/// again). The client must be the merchant's own (its [`Client::mchid`] is checked).
pub trait MerchantSource: Send + Sync + 'static {
    /// The client of merchant `mchid`, or `None` when there is no such merchant.
    fn client(&self, mchid: String) -> BoxFuture<'static, Result<Option<Client>>>;
}

impl<F, Fut> MerchantSource for F
where
    F: Fn(String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = Result<Option<Client>>> + Send + 'static,
{
    fn client(&self, mchid: String) -> BoxFuture<'static, Result<Option<Client>>> {
        Box::pin(self(mchid))
    }
}

/// One [`Client`] per merchant id, built lazily from a [`MerchantSource`] and replaceable
/// while requests are in flight. Cheap to clone (clones share the merchants); see the
/// [module docs](super).
#[derive(Clone)]
pub struct MerchantRegistry {
    inner: Arc<Inner>,
}

struct Inner {
    source: Box<dyn MerchantSource>,
    merchants: Mutex<HashMap<String, Slot>>,
    /// Numbers the loads, so that a load replaced or invalidated meanwhile is not kept.
    loads: AtomicU64,
}

/// The source's answer, shared by every request that waits for it.
type Load = Shared<BoxFuture<'static, std::result::Result<Option<Client>, Arc<Error>>>>;

enum Slot {
    Ready(Client),
    Loading(u64, Load),
}

impl MerchantRegistry {
    /// A registry that asks `source` for each merchant the first time it is needed.
    pub fn new(source: impl MerchantSource) -> Self {
        Self {
            inner: Arc::new(Inner {
                source: Box::new(source),
                merchants: Mutex::new(HashMap::new()),
                loads: AtomicU64::new(0),
            }),
        }
    }

    /// The client of merchant `mchid`: the one kept, or the source's answer (then kept);
    /// `None` when the source knows no such merchant, or `mchid` cannot be a merchant id.
    ///
    /// # Errors
    ///
    /// The source's error, or [`ErrorKind::Config`](crate::ErrorKind::Config) when the source
    /// answers with a client of another merchant.
    pub fn get(
        &self,
        mchid: &str,
    ) -> impl Future<Output = Result<Option<Client>>> + Send + 'static {
        let inner = self.inner.clone();
        let mchid = mchid.to_owned();
        let found = if is_merchant_id(&mchid) {
            inner.find(&mchid)
        } else {
            Found::Kept(None)
        };
        async move {
            let (number, load) = match found {
                Found::Kept(kept) => return Ok(kept),
                Found::Loading(number, load) => (number, load),
            };
            let result = match load.await {
                Ok(Some(client)) if client.mchid() != mchid => Err(Error::config(format!(
                    "the merchant source answered merchant `{mchid}` with a client of merchant \
                     `{}`: build it with ClientBuilder::mchid(\"{mchid}\")",
                    client.mchid()
                ))),
                Ok(found) => Ok(found),
                Err(error) => Err(shared_error(&error)),
            };
            // Kept only if no insert or invalidate came meanwhile; unknown merchants and
            // failures are not kept.
            let mut merchants = inner.lock();
            if matches!(merchants.get(&mchid), Some(Slot::Loading(n, _)) if *n == number) {
                match &result {
                    Ok(Some(client)) => merchants.insert(mchid, Slot::Ready(client.clone())),
                    _ => merchants.remove(&mchid),
                };
            }
            result
        }
    }

    /// Puts `client` in for its merchant ([`Client::mchid`]) at once, replacing the one kept
    /// (or a load in progress), and returns the replaced client. Requests in flight keep the
    /// client they started with.
    pub fn insert(&self, client: Client) -> Option<Client> {
        let mchid = client.mchid().to_owned();
        match self.inner.lock().insert(mchid, Slot::Ready(client)) {
            Some(Slot::Ready(replaced)) => Some(replaced),
            _ => None,
        }
    }

    /// Forgets merchant `mchid` (and any load in progress): the next request asks the source
    /// again. Returns the client that was kept.
    pub fn invalidate(&self, mchid: &str) -> Option<Client> {
        match self.inner.lock().remove(mchid) {
            Some(Slot::Ready(client)) => Some(client),
            _ => None,
        }
    }
}

/// What [`Inner::find`] found.
enum Found {
    Kept(Option<Client>),
    Loading(u64, Load),
}

impl Inner {
    /// The client kept for `mchid`, or the load to wait for (started if none is running).
    fn find(&self, mchid: &str) -> Found {
        let mut merchants = self.lock();
        match merchants.get(mchid) {
            Some(Slot::Ready(client)) => Found::Kept(Some(client.clone())),
            Some(Slot::Loading(number, load)) => Found::Loading(*number, load.clone()),
            None => {
                let number = self.loads.fetch_add(1, Ordering::Relaxed);
                let load = self
                    .source
                    .client(mchid.to_owned())
                    .map(|answer| answer.map_err(Arc::new))
                    .boxed()
                    .shared();
                merchants.insert(mchid.to_owned(), Slot::Loading(number, load.clone()));
                Found::Loading(number, load)
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<String, Slot>> {
        // Every change is one insert or remove: a panic elsewhere leaves the map consistent.
        self.merchants
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Whether `mchid` can be a merchant id: 1 to 32 ASCII letters and digits (WeChat Pay's are
/// digits; sandbox and test ids may hold letters).
fn is_merchant_id(mchid: &str) -> bool {
    (1..=32).contains(&mchid.len()) && mchid.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// The source's error, for one of the requests that waited for it.
fn shared_error(error: &Arc<Error>) -> Error {
    Error::new(error.kind(), format!("the merchant source failed: {error}"))
        .with_source(SourceError(error.clone()))
}

/// A source error shared by several requests.
struct SourceError(Arc<Error>);

impl fmt::Display for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for SourceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl std::error::Error for SourceError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        std::error::Error::source(&*self.0)
    }
}

impl fmt::Debug for MerchantRegistry {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MerchantRegistry")
            .field("merchants", &self.inner.lock().len())
            .finish_non_exhaustive()
    }
}
