//! The guard against sensitive fields sent in plain text: a request to a documented operation
//! whose documented-encrypted field ([`encrypted_request_fields`]) holds plain text is refused
//! before anything is signed or sent, naming the field and how to encrypt it.
//!
//! # What counts as encrypted
//!
//! WeChat Pay's encrypted fields are RSA-OAEP ciphertexts under a platform key, in base64: an
//! RSA block is as long as the key's modulus, so a 2048-bit key (every WeChat Pay platform
//! key) gives 256 bytes, 344 base64 characters. A value counts as encrypted when it is
//! standard base64 of at least 256 bytes; anything else is plain text: a shorter or non-base64
//! string, a number, a boolean, an object. An empty string or `null` carries nothing and
//! passes; an array is checked item by item. The value itself never appears in the error.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use http::Method;
use serde_json::Value;

use crate::error::{Error, Result};
use crate::options::Options;
use crate::schema::encrypted_request_fields;

/// The fewest bytes of an RSA-OAEP ciphertext: one block of a 2048-bit key.
const MIN_CIPHERTEXT: usize = 256;

/// Fields the docs mark encrypted that are not ciphertexts of the merchant's own: the name of
/// an algorithm (`algorithm` of the fund-flow bills, `encryption_algorithm` of the payscore
/// bill: they say how WeChat Pay encrypts the bill), and `encrypt_code`, a code WeChat Pay
/// encrypted itself. Never refused.
const NOT_CIPHERTEXTS: [&str; 3] = ["algorithm", "encryption_algorithm", "encrypt_code"];

/// What the guard needs to know of a call besides its options.
pub(crate) struct Guard<'a> {
    pub method: &'a Method,
    /// The operation's documented-encrypted fields ([`fields`]), not empty.
    pub fields: &'static [&'static str],
    /// The client lets them hold plain text (`ClientBuilder::allow_plaintext`).
    pub client_allows: bool,
}

/// Refuses `options` of a call of `template` when a documented-encrypted field holds plain
/// text (unless the call or the client allows it); else whether the call carries such a
/// field ([`carries`]).
///
/// # Errors
///
/// As [`check`] and [`allowed`].
pub(crate) fn guard(guard: &Guard<'_>, template: &str, options: &Options) -> Result<bool> {
    if !guard.client_allows && !allowed(options)? {
        check(guard.method, template, guard.fields, options)?;
    }
    Ok(carries(guard.fields, options))
}

/// Whether `options` let documented-encrypted fields hold plain text (`"allow_plaintext":
/// true`, [`Options::allow_plaintext`]). Read here rather than by
/// [`Plan::decode`](crate::plan::Plan::decode), which accepts the name: only a request with
/// such fields asks.
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) for a value that is not
/// a boolean.
pub(crate) fn allowed(options: &Options) -> Result<bool> {
    super::flag(
        &options.map,
        "allow_plaintext",
        "documented-encrypted fields may hold plain text: see Options::allow_plaintext",
    )
}

/// The documented-encrypted fields of `method` on `template`: the docs' dotted paths.
pub(crate) fn fields(method: &Method, template: &str) -> &'static [&'static str] {
    encrypted_request_fields(method, template)
}

/// Refuses `options` when one of `fields` (of `method` on `template`) holds plain text.
///
/// # Errors
///
/// [`ErrorKind::InvalidArgument`](crate::ErrorKind::InvalidArgument) naming the first such
/// field, how to encrypt it, and how to opt out.
pub(crate) fn check(
    method: &Method,
    template: &str,
    fields: &[&str],
    options: &Options,
) -> Result<()> {
    for path in fields {
        let Some((root, rest)) = path.split_once('.') else {
            continue;
        };
        let plain = match root {
            "json" | "query" | "xml" => options
                .map
                .get(root)
                .is_some_and(|value| holds_plain_text(value, rest)),
            "body" => options.media.as_ref().is_some_and(|media| {
                let meta = rest.strip_prefix("meta.");
                let parsed = serde_json::from_str::<Value>(media.meta());
                matches!((meta, parsed), (Some(rest), Ok(meta)) if holds_plain_text(&meta, rest))
            }),
            _ => false,
        };
        if plain {
            return Err(refused(method, template, path));
        }
    }
    Ok(())
}

/// Whether the value at the dotted `path` under `value` (`[]` after a segment: each item of
/// that array) holds plain text.
fn holds_plain_text(value: &Value, path: &str) -> bool {
    any_leaf(value, path, &|name, leaf| {
        !NOT_CIPHERTEXTS.contains(&name) && is_plain(leaf)
    })
}

/// Whether one of `fields` holds a value in `options` (not `null`, not an empty string): the
/// request carries a sensitive field, encrypted (or let through in plain text).
pub(crate) fn carries(fields: &[&str], options: &Options) -> bool {
    let given = |_: &str, leaf: &Value| !matches!(leaf, Value::Null) && leaf.as_str() != Some("");
    fields.iter().any(|path| {
        let Some((root, rest)) = path.split_once('.') else {
            return false;
        };
        match root {
            "json" | "query" | "xml" => options
                .map
                .get(root)
                .is_some_and(|value| any_leaf(value, rest, &given)),
            _ => false,
        }
    })
}

/// Whether `test` holds for a leaf at the dotted `path` under `value` (given the leaf's name).
fn any_leaf(value: &Value, path: &str, test: &dyn Fn(&str, &Value) -> bool) -> bool {
    let (segment, rest) = match path.split_once('.') {
        Some((segment, rest)) => (segment, Some(rest)),
        None => (path, None),
    };
    let (name, each) = match segment.strip_suffix("[]") {
        Some(name) => (name, true),
        None => (segment, false),
    };
    let Some(found) = value.get(name) else {
        return false;
    };
    let below = |item: &Value| match rest {
        Some(rest) => any_leaf(item, rest, test),
        None => test(name, item),
    };
    match found {
        Value::Array(items) if each => items.iter().any(below),
        other => below(other),
    }
}

/// Whether a leaf value is plain text (see the [module docs](self)).
fn is_plain(value: &Value) -> bool {
    match value {
        Value::Null => false,
        Value::String(text) if text.is_empty() => false,
        Value::String(text) => !is_ciphertext(text),
        Value::Array(items) => items.iter().any(is_plain),
        _ => true,
    }
}

/// Whether `text` is standard base64 of at least one RSA-2048 block.
fn is_ciphertext(text: &str) -> bool {
    // 4 characters for every 3 bytes: at least 344 for 256 bytes.
    text.len() >= MIN_CIPHERTEXT.div_ceil(3) * 4
        && STANDARD
            .decode(text)
            .is_ok_and(|bytes| bytes.len() >= MIN_CIPHERTEXT)
}

fn refused(method: &Method, template: &str, path: &str) -> Error {
    let field = path
        .rsplit('.')
        .next()
        .unwrap_or(path)
        .trim_end_matches("[]");
    Error::invalid(format!(
        "`{path}` of {method} {template} holds plain text, but WeChat Pay's docs say it is sent \
         encrypted (RSA-OAEP with the platform key, base64: 344 characters for a 2048-bit \
         key); encrypt it with `client.encrypt(value)` (the client names that key in \
         Wechatpay-Serial by itself), e.g. json!({{\"{field}\": client.encrypt(\"…\")?}}). If \
         plain text is meant here, opt out with Options::allow_plaintext() (`\"allow_plaintext\": \
         true`) or ClientBuilder::allow_plaintext(). Nothing was sent"
    ))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ciphertext() -> String {
        STANDARD.encode([7u8; 256])
    }

    #[test]
    fn plain_values_are_refused_and_ciphertexts_pass() {
        let transfer = "v3/fund-app/mch-transfer/transfer-bills";
        let fields = fields(&Method::POST, transfer);
        assert!(fields.contains(&"json.user_name"), "{fields:?}");
        let plain = Options::from(json!({"json": {"user_name": "张三", "openid": "o"}}));
        let error = check(&Method::POST, transfer, fields, &plain).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("`json.user_name`"), "{message}");
        assert!(message.contains("client.encrypt"), "{message}");
        assert!(!message.contains("张三"), "the value is never shown");
        let sealed = Options::from(json!({"json": {"user_name": ciphertext()}}));
        assert!(check(&Method::POST, transfer, fields, &sealed).is_ok());
        let absent = Options::from(json!({"json": {"openid": "o", "user_name": null}}));
        assert!(check(&Method::POST, transfer, fields, &absent).is_ok());
    }

    #[test]
    fn array_items_and_nested_paths_are_walked() {
        let batches = "v3/transfer/batches";
        let fields = fields(&Method::POST, batches);
        assert!(fields.contains(&"json.transfer_detail_list[].user_name"));
        let items = |second: &str| {
            Options::from(json!({"json": {"transfer_detail_list": [
                {"user_name": ciphertext()},
                {"user_name": second},
            ]}}))
        };
        assert!(check(&Method::POST, batches, fields, &items(&ciphertext())).is_ok());
        assert!(check(&Method::POST, batches, fields, &items("李四")).is_err());
        assert!(check(&Method::POST, batches, fields, &items("")).is_ok());
    }

    #[test]
    fn what_counts_as_a_ciphertext() {
        assert!(is_ciphertext(&ciphertext()));
        assert_eq!(ciphertext().len(), 344);
        assert!(is_ciphertext(&STANDARD.encode([1u8; 512])), "RSA-4096");
        assert!(!is_ciphertext(&STANDARD.encode([1u8; 128])), "too short");
        assert!(
            !is_ciphertext(&"x".repeat(343)),
            "not base64: a character short"
        );
        assert!(!is_ciphertext(&format!("{}!", &ciphertext()[1..])));
        assert!(is_plain(&json!(110101199003077777u64)), "a number is plain");
        assert!(!is_plain(&json!(null)));
    }

    #[test]
    fn algorithm_names_are_never_refused() {
        let bill = "v3/bill/sub-merchant-fundflowbill";
        let fields = fields(&Method::GET, bill);
        let options = Options::from(json!({"query": {"algorithm": "AEAD_AES_256_GCM"}}));
        assert!(check(&Method::GET, bill, fields, &options).is_ok());
    }
}
