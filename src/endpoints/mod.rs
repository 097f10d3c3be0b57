//! The catalog of documented WeChat Pay operations: 1,147 of them (1,018 APIv3, 129 APIv2),
//! generated from the public endpoint documentation.
//!
//! Any path works with [`Client::chain`](crate::Client::chain), so a typo only shows as
//! WeChat Pay's 404. The catalog tells what is documented: [`find`] an operation by method and
//! template, list the methods of a template with [`for_template`], look one up by words with
//! [`search`], or get the nearest documented paths of a mistyped one with [`suggest`].
//! [`Chain::documented_methods`](crate::Chain::documented_methods) asks it for a chain, and
//! the [`chain!`](crate::chain!) macro checks its path against the same list at compile time.
//! The [`reference`](mod@reference) lists every operation with the call to make.
//!
//! ```
//! use wechatpay::endpoints::{self, Product};
//! use wechatpay::http::Method;
//!
//! let jsapi = endpoints::find(Method::POST, "v3/pay/transactions/jsapi").unwrap();
//! assert_eq!(jsapi.product(), Product::Payments);
//! assert!(jsapi.docs()[0].starts_with("https://pay.weixin.qq.com/"));
//!
//! // Variables match whatever their names: `{id}` stands for `{transaction_id}`.
//! let query = endpoints::find("GET", "v3/pay/transactions/id/{id}").unwrap();
//! assert_eq!(query.template(), "v3/pay/transactions/id/{transaction_id}");
//!
//! assert!(endpoints::find("POST", "v3/pay/transactons/jsapi").is_none());
//! assert_eq!(endpoints::suggest("v3/pay/transactons/jsapi")[0], "v3/pay/transactions/jsapi");
//! ```
//!
//! # Matching
//!
//! Templates are written as the SDK writes paths (normalised, `{variables}`, APIv2 paths
//! start with `v2/`; the docs' `_empty_` trick for a trailing slash is the literal slash,
//! `v3/applyment4sub/applyment/`). A path matches a template when every `/`-separated
//! segment does: the same text, or a variable of the template against a variable of any name
//! (`{out_trade_no}` against `{transaction_id}`), or against a literal that is the variable's
//! own name ignoring case (the docs write `v2/secapi/mch/{addinstitutionsub}` for the
//! segment `addInstitutionsub`). An exact match is preferred to one through variables. A
//! value in place of a variable (`v3/pay/transactions/id/4200000001`) matches nothing: values
//! belong in the options.
//!
//! The data is `'static`: nothing is parsed at run time. The lookups scan at most the
//! catalog; none of them is on the request path.
//!
//! # Where it comes from
//!
//! The `sourcegen` test (`tests/it/sourcegen.rs`) generates `generated/endpoints.rs`,
//! `generated/products.rs` (the [`Product`] groups, from a table of path prefixes),
//! `generated/templates.txt` (the list `chain!` checks) and `generated/reference.md` from
//! the endpoint corpus, and fails when a committed file is stale;
//! `WECHATPAY_REGENERATE=1 cargo test --test sourcegen` rewrites them.

pub(crate) mod matching;
mod product;
pub mod reference;
mod search;

use std::fmt;

use http::Method;

pub use product::Product;

/// The protocol of an operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
pub enum Api {
    /// APIv2: XML bodies, MD5 or HMAC-SHA256 signs, paths under `v2/`.
    V2,
    /// APIv3: JSON bodies, RSA signatures.
    V3,
}

impl Api {
    /// `"v2"` or `"v3"`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Api::V2 => "v2",
            Api::V3 => "v3",
        }
    }
}

impl fmt::Display for Api {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One documented operation: a method on a path template.
///
/// ```
/// let refund = wechatpay::endpoints::find("POST", "v3/refund/domestic/refunds").unwrap();
/// assert_eq!(refund.title(), "申请退款");
/// assert_eq!(refund.to_string(), "POST v3/refund/domestic/refunds");
/// assert!(refund.request_fields().contains(&"json"));
/// assert!(refund.response_fields().contains(&"refund_id"));
/// ```
#[derive(Debug, PartialEq, Eq, Hash)]
pub struct Endpoint {
    api: Api,
    method: Method,
    template: &'static str,
    title: &'static str,
    description: Option<&'static str>,
    docs: &'static [&'static str],
    request_fields: &'static [&'static str],
    response_fields: &'static [&'static str],
    product: Product,
}

impl Endpoint {
    /// APIv2 or APIv3.
    pub fn api(&self) -> Api {
        self.api
    }

    /// The HTTP method.
    pub fn method(&self) -> &Method {
        &self.method
    }

    /// The path template as the SDK writes it, e.g. `v3/pay/transactions/id/{transaction_id}`:
    /// give it to [`Client::chain`](crate::Client::chain) or `client["…"]` as it is.
    pub fn template(&self) -> &'static str {
        self.template
    }

    /// The title in the official docs, e.g. `"JSAPI下单"`.
    pub fn title(&self) -> &'static str {
        self.title
    }

    /// The summary in the official docs, when they give one.
    pub fn description(&self) -> Option<&'static str> {
        self.description
    }

    /// The official documentation pages (merchant, partner, global editions …); may be empty.
    pub fn docs(&self) -> &'static [&'static str] {
        self.docs
    }

    /// The options the call takes: its path variables and the option keys it uses (`json`,
    /// `query`, `headers`, `xml`, `body`, `base_uri`, `security`, `nonceless`).
    pub fn request_fields(&self) -> &'static [&'static str] {
        self.request_fields
    }

    /// The top-level fields of the answer.
    pub fn response_fields(&self) -> &'static [&'static str] {
        self.response_fields
    }

    /// The product group, derived from the path.
    pub fn product(&self) -> Product {
        self.product
    }

    /// The names of the template's variables, in order: `["transaction_id"]` for
    /// `v3/pay/transactions/id/{transaction_id}`.
    pub fn variables(&self) -> impl Iterator<Item = &'static str> + use<> {
        self.template
            .split('/')
            .filter(|segment| matching::is_variable(segment))
            .map(|segment| &segment[1..segment.len() - 1])
    }
}

impl fmt::Display for Endpoint {
    /// `METHOD template`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.method, self.template)
    }
}

/// The catalog, sorted by template then method.
static ENDPOINTS: &[Endpoint] = &include!("../../generated/endpoints.rs");

/// Every documented operation, sorted by template then method.
///
/// ```
/// use wechatpay::endpoints::{self, Api};
///
/// assert_eq!(endpoints::all().len(), 1147);
/// let v2 = endpoints::all().iter().filter(|e| e.api() == Api::V2).count();
/// assert_eq!(v2, 129);
/// ```
pub fn all() -> &'static [Endpoint] {
    ENDPOINTS
}

/// The operations whose template is exactly `template`.
fn exact(template: &str) -> &'static [Endpoint] {
    let start = ENDPOINTS.partition_point(|e| e.template < template);
    let end = start + ENDPOINTS[start..].partition_point(|e| e.template == template);
    &ENDPOINTS[start..end]
}

/// The documented operation `method` on `template`, if any; the method is compared ignoring
/// ASCII case, and `template` is matched as the [module docs](self#matching) say (an exact
/// match first, else the closest through variables).
///
/// ```
/// use wechatpay::endpoints;
/// use wechatpay::http::Method;
///
/// let close = endpoints::find(&Method::POST, "v3/pay/transactions/out-trade-no/{out_trade_no}/close");
/// assert_eq!(close.unwrap().title(), "关单");
/// assert!(endpoints::find("GET", "v3/pay/transactions/jsapi").is_none()); // only POST
/// ```
pub fn find(method: impl AsRef<str>, template: &str) -> Option<&'static Endpoint> {
    let method = method.as_ref();
    let same_method = |e: &&'static Endpoint| e.method.as_str().eq_ignore_ascii_case(method);
    if let Some(endpoint) = exact(template).iter().find(same_method) {
        return Some(endpoint);
    }
    ENDPOINTS
        .iter()
        .filter(same_method)
        .filter_map(|e| matching::fit(e.template, template).map(|wildcards| (wildcards, e)))
        .min_by_key(|(wildcards, _)| *wildcards)
        .map(|(_, endpoint)| endpoint)
}

/// Every documented operation on `template` (one per method), matched as the
/// [module docs](self#matching) say; empty when the template is not documented.
///
/// ```
/// use wechatpay::endpoints;
///
/// let methods: Vec<String> = endpoints::for_template("v3/merchant-service/complaint-notifications")
///     .iter()
///     .map(|e| e.method().to_string())
///     .collect();
/// assert_eq!(methods, ["DELETE", "GET", "POST", "PUT"]);
/// ```
pub fn for_template(template: &str) -> Vec<&'static Endpoint> {
    let exact = exact(template);
    if !exact.is_empty() {
        return exact.iter().collect();
    }
    let fits: Vec<(usize, &'static Endpoint)> = ENDPOINTS
        .iter()
        .filter_map(|e| matching::fit(e.template, template).map(|wildcards| (wildcards, e)))
        .collect();
    let best = fits.iter().map(|(wildcards, _)| *wildcards).min();
    fits.into_iter()
        .filter(|(wildcards, _)| Some(*wildcards) == best)
        .map(|(_, endpoint)| endpoint)
        .collect()
}

/// The methods documented for `template` (see [`for_template`]), each once, in alphabetical
/// order; empty when the template is not documented.
///
/// ```
/// use wechatpay::http::Method;
///
/// let methods = wechatpay::endpoints::methods("v3/pay/transactions/id/{transaction_id}");
/// assert_eq!(methods, [Method::GET]);
/// ```
pub fn methods(template: &str) -> Vec<Method> {
    let mut methods: Vec<Method> = Vec::new();
    for endpoint in for_template(template) {
        if !methods.contains(&endpoint.method) {
            methods.push(endpoint.method.clone());
        }
    }
    methods.sort_by(|a, b| a.as_str().cmp(b.as_str()));
    methods
}

/// Whether `template` is documented (an exact match, or a fit through variables: see
/// [`for_template`]).
pub(crate) fn is_documented(template: &str) -> bool {
    !exact(template).is_empty()
        || ENDPOINTS
            .iter()
            .any(|e| matching::fit(e.template, template).is_some())
}

/// `error` with the nearest documented templates appended, when WeChat Pay answered `404` to
/// `template`, which is not documented (a typo in a string path, which `chain!` would have
/// caught at compile time).
pub(crate) fn hint_nearest(error: crate::Error, template: &str) -> crate::Error {
    if error.status() != Some(http::StatusCode::NOT_FOUND) {
        return error;
    }
    match suggest(template).as_slice() {
        [] => error.with_note(format!("; `{template}` is not a documented path")),
        nearest => error.with_note(format!(
            "; `{template}` is not a documented path: did you mean `{}`?",
            nearest.join("` or `")
        )),
    }
}

/// Up to three documented templates nearest to `path`, nearest first: the suggestions of the
/// `chain!` macro's warning.
///
/// Nearness is an edit distance over segments: replacing a segment costs the character edit
/// distance (nothing where variables match as in [`find`], at most 2 for a value written in
/// place of a variable), adding or removing one costs its length plus one. A template is
/// suggested when it is within a third of the path's length (at least 3) and at most twice as
/// far as the nearest (or one further), so a clear winner comes alone. A documented path is
/// its own first suggestion; a path over 1,000 bytes gets none.
///
/// ```
/// use wechatpay::endpoints;
///
/// assert_eq!(endpoints::suggest("v3/pay/transactons/jsapi"), ["v3/pay/transactions/jsapi"]);
/// assert_eq!(
///     endpoints::suggest("v3/pay/transactions/id/4200000001"),
///     ["v3/pay/transactions/id/{transaction_id}"],
/// );
/// assert!(endpoints::suggest("no/such/thing/anywhere").is_empty());
/// ```
pub fn suggest(path: &str) -> Vec<&'static str> {
    let templates = ENDPOINTS.iter().map(|e| e.template);
    matching::nearest(templates, path, 3)
}

/// Operations matching every word of `words`, best first; empty when `words` has none.
///
/// Words are separated by white space, `/`, `.` or `->`, so a path, a `chain!` path or a PHP
/// chain can be pasted; each word is also tried as the PHP SDK normalises a chain segment
/// (`sendPrepaidmessage` is `send-prepaidmessage`, `_out_order_no_` is `{out_order_no}`). A
/// word matches a path segment (best when it is
/// the whole segment, then a `-`/`_`-separated part of one, then any part), a variable's
/// name, the method, or any part of the title (so Chinese titles match by substring).
/// Latin letters match ignoring case. Ties go to the product listed first in
/// [`Product::ALL`], then to the shorter path.
///
/// ```
/// use wechatpay::endpoints;
///
/// let hits = endpoints::search("transactions jsapi");
/// assert_eq!(hits[0].template(), "v3/pay/transactions/jsapi");
///
/// let refunds = endpoints::search("退款");
/// assert!(refunds.iter().any(|e| e.template() == "v3/refund/domestic/refunds"));
///
/// // PHP spellings: a camelCase segment, a `_variable_`, a chain.
/// let hits = endpoints::search("serviceorder _out_order_no_ sendPrepaidmessage");
/// assert_eq!(hits[0].template(), "v3/payscore/serviceorder/{out_order_no}/send-prepaidmessage");
/// let hits = endpoints::search("v3->payscore->partner->serviceorder->_out_order_no_->sendPrepaidmessage");
/// assert_eq!(hits[0].template(), "v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage");
///
/// assert!(endpoints::search("  ").is_empty());
/// ```
pub fn search(words: &str) -> Vec<&'static Endpoint> {
    search::search(ENDPOINTS, words)
}
