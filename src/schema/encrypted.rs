//! The request fields the docs mark encrypted (RSA with the platform key: "微信支付公钥/平台证书
//! 加密后的BASE64字符串"), per documented operation: for a guard that refuses such a field
//! sent in plain text before anything is sent. In the default build.

use http::Method;

use crate::endpoints;

/// The encrypted request fields of one operation.
struct Encrypted {
    method: Method,
    template: &'static str,
    /// The docs' dotted paths.
    fields: &'static [&'static str],
}

/// Sorted by template then method; generated from the corpus's `schema.jsonl` by
/// `tests/it/sourcegen/schema.rs`.
static ENCRYPTED: &[Encrypted] = &include!("../../generated/encrypted.rs");

/// The documented dotted paths (`json.payer.identity.number`, `xml.enc_bank_no`,
/// `query.card_no`, `body.meta.…` in an upload's `meta`, `[]` for each item of an array) of
/// the request fields the docs mark encrypted for `method` on
/// `template`; empty for an operation without any, or not documented. `template` is matched
/// as [`endpoints::find`] matches it, so a variable of any name fits
/// (`v3/applyment4sub/applyment/applyment_id/{id}`).
#[allow(dead_code)] // the guard of issue 23 is its first user
pub(crate) fn encrypted_request_fields(method: &Method, template: &str) -> &'static [&'static str] {
    if let Some(paths) = lookup(method, template) {
        return paths;
    }
    endpoints::find(method, template)
        .and_then(|endpoint| lookup(method, endpoint.template()))
        .unwrap_or_default()
}

fn lookup(method: &Method, template: &str) -> Option<&'static [&'static str]> {
    let start = ENCRYPTED.partition_point(|e| e.template < template);
    ENCRYPTED[start..]
        .iter()
        .take_while(|e| e.template == template)
        .find(|e| e.method == method)
        .map(|e| e.fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_operation_with_encrypted_fields_lists_them() {
        let fields = encrypted_request_fields(&Method::POST, "v3/pay/transactions/jsapi");
        assert_eq!(
            fields,
            ["json.payer.identity.number", "json.payer.identity.name"]
        );
    }

    #[test]
    fn a_variable_of_any_name_fits_and_the_method_must_match() {
        let documented = encrypted_request_fields(&Method::POST, "v3/applyment4sub/applyment/");
        assert!(
            documented.contains(&"json.contact_info.contact_name"),
            "{documented:?}"
        );
        let renamed = encrypted_request_fields(
            &Method::POST,
            "v3/apply4sub/sub_merchants/{id}/modify-settlement",
        );
        assert_eq!(renamed, ["json.account_number", "json.account_name"]);
        assert!(encrypted_request_fields(&Method::GET, "v3/applyment4sub/applyment/").is_empty());
    }

    #[test]
    fn operations_without_encrypted_fields_and_unknown_paths_have_none() {
        assert!(encrypted_request_fields(&Method::GET, "v3/pay/transactions/id/{id}").is_empty());
        assert!(encrypted_request_fields(&Method::POST, "v3/no/such/path").is_empty());
        assert!(encrypted_request_fields(&Method::POST, "").is_empty());
    }

    #[test]
    fn the_table_is_sorted_and_every_entry_is_documented() {
        let key = |e: &Encrypted| (e.template, e.method.to_string());
        for pair in ENCRYPTED.windows(2) {
            assert!(
                key(&pair[0]) < key(&pair[1]),
                "not sorted at {:?}",
                key(&pair[1])
            );
        }
        for e in ENCRYPTED {
            assert!(!e.fields.is_empty());
            let endpoint = endpoints::find(&e.method, e.template);
            assert_eq!(endpoint.map(|e| e.template()), Some(e.template));
        }
    }
}
