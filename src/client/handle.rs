//! [`Client`], the handle users hold: what its chains share, its chain cache, and
//! `client["…"]`. Its builder is [`ClientBuilder`](super::ClientBuilder); its other methods
//! are in `helpers.rs`.

use std::fmt;
use std::ops::Index;
use std::sync::Arc;

use elsa::sync::FrozenMap;

use crate::chain::Chain;
use crate::config::Config;
use crate::crypto::PlatformKeys;
use crate::future::shared::Shared;

/// A WeChat Pay client: every endpoint through [`Client::chain`], `client["…"]` or
/// [`chain!`](crate::chain!).
///
/// Cheap to clone (clones share keys, connections and the chain cache); `Send + Sync`.
///
/// Every APIv3 request carries `Wechatpay-Serial: <id>` naming the preferred platform key
/// ([`Client::wechatpay_serial`]: a `PUB_KEY_ID_…` when one is configured) unless the
/// `headers` option sets that header, as the official Go SDK does: fields encrypted with
/// [`Client::encrypt`] then always match the header, and during a migration to the WeChat Pay
/// public key WeChat Pay signs its answers with that key.
///
/// ```no_run
/// use serde_json::json;
/// use wechatpay::{Client, PrivateKey, PublicKey};
///
/// # fn main() -> wechatpay::Result<()> {
/// let client = Client::builder()
///     .mchid("1900000109")
///     .serial("3775B6A45ACD588826D15E583A95F5DD00000000")
///     .private_key(PrivateKey::from_pem_file("apiclient_key.pem")?)
///     .platform_key("PUB_KEY_ID_0114232134912410000000000000", PublicKey::from_pem_file("pub_key.pem")?)
///     .build()?;
///
/// let res = client["v3/pay/transactions/id/{transaction_id}"].get(json!({
///     "transaction_id": "1217752501201407033233368018",
///     "query": {"mchid": "1900000109"},
/// }))?;
/// println!("{}", res.text()?);
/// # Ok(())
/// # }
/// ```
#[derive(Clone)]
pub struct Client {
    pub(super) shared: Arc<Shared>,
    // Kept outside `Shared`: the cached chains hold `Arc<Shared>`, and a cache inside
    // `Shared` would make a cycle that is never freed.
    cache: Arc<FrozenMap<String, Box<Chain>>>,
}

impl Client {
    /// A chain for `path`, normalised like PHP: `camelCase` → `kebab-case`, a leading capital
    /// lowered, `_name_` → `{name}`; the argument may hold several segments
    /// (`"v3/pay/transactions/native"`) and template variables (`{out_trade_no}`), whose
    /// values come from the options and are never case-changed.
    ///
    /// Rule 3 (`_name_` → `{name}`) applies to the whole argument, as in PHP: in
    /// `"v3/pay/_out_trade_no_"` the `_out_trade_no_` stays literal; write `{out_trade_no}`
    /// in multi-segment strings.
    ///
    /// Allocates the path once; use `client["…"]` to reuse a cached chain instead.
    pub fn chain(&self, path: &str) -> Chain {
        Chain::root(self.shared.clone(), path, true)
    }

    /// A chain for `path` exactly as written, without normalisation (what
    /// [`chain!`](crate::chain!) expands to).
    pub fn chain_raw(&self, path: &str) -> Chain {
        Chain::root(self.shared.clone(), path, false)
    }

    /// The merchant id (`mchid`) this client signs for.
    pub fn mchid(&self) -> &str {
        &self.shared.config.mchid
    }

    /// The platform keys trusted right now: the configured ones, and in automatic mode
    /// ([`ClientBuilder::auto_certificates`](crate::ClientBuilder::auto_certificates)) the downloaded certificates beside them. A
    /// snapshot: a later refresh does not change it.
    pub fn platform_keys(&self) -> Arc<PlatformKeys> {
        self.shared.config.platform_keys.snapshot()
    }

    /// The checked configuration.
    pub(crate) fn config(&self) -> &Config {
        &self.shared.config
    }

    /// A client around `shared`, with an empty chain cache.
    pub(crate) fn from_shared(shared: Shared) -> Self {
        Self {
            shared: Arc::new(shared),
            cache: Arc::new(FrozenMap::new()),
        }
    }
}

impl Index<&str> for Client {
    type Output = Chain;

    /// `client["v3/pay/transactions/{out_trade_no}"]`: the chain for that template, built
    /// once and cached by the client (keyed by the exact string given, so
    /// `client["merchantService"]` and `client["merchant-service"]` are two entries for the
    /// same path). The cache only grows: index with templates, never with values such as
    /// order numbers (pass those as options).
    fn index(&self, path: &str) -> &Chain {
        if let Some(chain) = self.cache.get(path) {
            return chain;
        }
        self.cache
            .insert_with(path.to_owned(), || Box::new(self.chain(path)))
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let config = &self.shared.config;
        f.debug_struct("Client")
            .field("mchid", &config.mchid)
            .field("serial", &config.serial)
            .field(
                "platform_keys",
                &config.platform_keys.snapshot().ids().collect::<Vec<_>>(),
            )
            .field("base_uri", &config.base_uri)
            .field("backup_base_uri", &config.backup_base_uri)
            .field("timeout", &config.timeout)
            .finish_non_exhaustive()
    }
}
