//! APIv2: XML bodies, MD5 / HMAC-SHA256 `sign`, mutual TLS, checked answers and callbacks.
//!
//! A path template whose expansion starts with `v2/` (any case) is an APIv2 call; the prefix
//! is dropped, so `v2/pay/micropay` goes to `https://api.mch.weixin.qq.com/pay/micropay`. The
//! client needs the APIv2 key ([`ClientBuilder::apiv2_key`](crate::ClientBuilder::apiv2_key)), and
//! the merchant certificate
//! ([`ClientBuilder::merchant_identity`](crate::ClientBuilder::merchant_identity)) for the
//! calls made with `security: true`.
//!
//! ```
//! use serde_json::json;
//!
//! # fn main() -> wechatpay::Result<()> {
//! # let mock = wechatpay::mock::MockServer::start()?;
//! # mock.on("POST", "/pay/micropay", wechatpay::mock::Reply::xml(200, json!({
//! #     "return_code": "SUCCESS", "return_msg": "OK", "result_code": "SUCCESS",
//! #     "transaction_id": "1217752501201407033233368018",
//! # })));
//! # let client = mock.client_builder().build()?;
//! // `client`: a Client with the APIv2 key (ClientBuilder::apiv2_key).
//! let res = client["v2/pay/micropay"].post(json!({
//!     "xml": {
//!         "appid": "wxd678efh567hg6787",
//!         "mch_id": "1900000109",
//!         "body": "image形象店-深圳腾大- QQ公仔",
//!         "out_trade_no": "1217752501201407033233368018",
//!         "total_fee": 888,
//!         "spbill_create_ip": "8.8.8.8",
//!         "auth_code": "120061098828009406",
//!     },
//! }))?;
//! assert_eq!(res.verified_by(), "MD5");
//! assert_eq!(res.xml()?.get_str("transaction_id"), Some("1217752501201407033233368018"));
//! # Ok(())
//! # }
//! ```
//!
//! # Requests
//!
//! The fields come from the `xml` option (an object), or for a `GET` without `xml` from the
//! query of the request (the `query` option or the template). Each value is sent as PHP would
//! cast it to a string: numbers in decimal, `true` as `1`, `false` and `null` as empty text;
//! nested objects and arrays are sent as their compact JSON text, which is what WeChat Pay
//! expects in fields such as `detail` and `scene_info` (PHP would write nested XML instead).
//! Then, like the PHP SDK:
//!
//! 1. the merchant id field (`mch_id`, else `mchid`, else `combine_mch_id`; the first one
//!    present and not `null`) must be the client's merchant id, or nothing is sent;
//! 2. `sign_type` picks the algorithm: `MD5` when absent, else `MD5` or `HMAC-SHA256` (any
//!    other value is an error here; PHP would send an empty `sign`);
//! 3. `nonce_str` is added (32 random characters, appended) unless the fields have one or the
//!    `nonceless` option is present and not `null` (even `false`, as in PHP);
//! 4. `sign` is computed over the fields and appended last (replacing a `sign` given);
//! 5. `GET` sends the fields as the query (`rawurlencode`d, in order, `sign` last) and no
//!    body; other methods send them as the XML body, with
//!    `Content-Type: text/xml; charset=utf-8` and
//!    `Accept: text/xml, text/plain, application/x-gzip`;
//! 6. `security: true` (exactly `true`) sends the request over mutual TLS with the merchant
//!    certificate (`SendOptions::mutual_tls` for the transport).
//!
//! The `base_uri`, `query`, `headers`, `timeout` and `connect_timeout` options apply as for
//! APIv3; `json`, `body` and media uploads are refused.
//!
//! # Answers
//!
//! A status of 400 or more is an [`ErrorKind::Api`](crate::ErrorKind::Api) error. The paths
//! of [`NO_SIGNATURE_PATHS`] (bills, red packets, transfers, …) are answered without a `sign`
//! and handed back untouched (they may not even be XML). Every other answer is parsed and
//! checked: `return_code` must be `SUCCESS`, `result_code` (when present) must be `SUCCESS`,
//! and `sign` must match (MD5, or HMAC-SHA256 when it is 64 characters long). A failure
//! keeps the answer: [`Error::response`](crate::Error::response) gives the body, `code` and
//! `message` (`return_code`/`return_msg` or `err_code`/`err_code_des`) and the parsed
//! [`fields`](crate::ErrorResponse::fields).
//!
//! # Callbacks
//!
//! [`Client::verify_v2_notification`](crate::Client::verify_v2_notification) checks a payment
//! notification, [`Client::decrypt_v2_refund`](crate::Client::decrypt_v2_refund) decrypts the
//! `req_info` of a refund notification, and [`reply`] writes the answer WeChat Pay expects.

mod fields;
mod notify;
pub(crate) mod request;
mod response;

pub use fields::{fields_from_json, sign_request, to_query};
#[cfg(feature = "mock")]
pub(crate) use fields::{merchant_field, signed_fields};
pub use notify::{decrypt_refund, reply, verify_notification};
pub use response::NO_SIGNATURE_PATHS;
pub(crate) use response::check;
pub(crate) use response::is_unsigned_path;
