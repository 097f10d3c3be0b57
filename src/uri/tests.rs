//! Tests of percent-encoding, queries and base URIs.

use super::*;
use serde_json::json;

fn resolved(base: &str, reference: &str) -> String {
    let (origin, target) = BaseUri::parse(base)
        .and_then(|base| base.resolve(reference))
        .expect("resolves");
    format!("{origin}{target}")
}

#[test]
fn resolves_like_guzzle() {
    let main = "https://api.mch.weixin.qq.com/";
    assert_eq!(
        resolved(main, "v3/certificates"),
        "https://api.mch.weixin.qq.com/v3/certificates"
    );
    assert_eq!(
        resolved(main, "/v3/certificates"),
        "https://api.mch.weixin.qq.com/v3/certificates"
    );
    assert_eq!(
        resolved("https://api.mch.weixin.qq.com/hk/", "v3/statements"),
        "https://api.mch.weixin.qq.com/hk/v3/statements"
    );
    assert_eq!(
        resolved("https://api.mch.weixin.qq.com/hk", "v3/statements"),
        "https://api.mch.weixin.qq.com/v3/statements"
    );
    assert_eq!(
        resolved("https://api.mch.weixin.qq.com/hk/", "/v3/statements"),
        "https://api.mch.weixin.qq.com/v3/statements"
    );
    assert_eq!(
        resolved(main, "https://api2.mch.weixin.qq.com/v3/x"),
        "https://api2.mch.weixin.qq.com/v3/x"
    );
    assert_eq!(
        resolved(main, "v3/a/../b/./c"),
        "https://api.mch.weixin.qq.com/v3/b/c"
    );
    assert_eq!(
        resolved(main, "v3/x?y=1"),
        "https://api.mch.weixin.qq.com/v3/x?y=1"
    );
    assert_eq!(resolved(main, ""), "https://api.mch.weixin.qq.com/");
    assert_eq!(
        resolved(main, "v3/applyment4sub/applyment/"),
        "https://api.mch.weixin.qq.com/v3/applyment4sub/applyment/"
    );
    assert_eq!(
        resolved("https://apius.mch.weixin.qq.com/v3/sandbox/", "v3/pay"),
        "https://apius.mch.weixin.qq.com/v3/sandbox/v3/pay"
    );
    assert_eq!(
        resolved("http://127.0.0.1:8080", "v3/x"),
        "http://127.0.0.1:8080/v3/x"
    );
    assert_eq!(
        resolved(main, "v3/x?notify_url=https://example.com/n"),
        "https://api.mch.weixin.qq.com/v3/x?notify_url=https://example.com/n"
    );
}

#[test]
fn rejects_bad_base_uris() {
    for bad in [
        "api.mch.weixin.qq.com",
        "ftp://x/",
        "https:///x",
        "",
        "https://user:pass@api.mch.weixin.qq.com/",
        "https://api.mch.weixin.qq.com@evil.example/",
        "https://api.mch.weixin.qq.com\\@evil.example/",
    ] {
        assert!(BaseUri::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn plain_http_stays_on_this_machine() {
    for secure in [
        "https://api.mch.weixin.qq.com",
        "http://127.0.0.1:8080",
        "http://127.1.2.3",
        "http://localhost",
        "HTTP://LOCALHOST:1",
        "http://[::1]:80",
    ] {
        assert!(is_secure_origin(secure), "{secure}");
    }
    for insecure in [
        "http://api.mch.weixin.qq.com",
        "http://127.0.0.1.evil.example",
        "http://localhost.evil.example:80",
        "http://10.0.0.1",
        "http://[::2]",
    ] {
        assert!(check_secure_origin(insecure).is_err(), "{insecure}");
    }
}

#[test]
fn builds_queries_like_http_build_query() {
    assert_eq!(
        build_query(&json!({"a": "b c", "d": ["x", "y"]})).expect("query"),
        "a=b%20c&d%5B0%5D=x&d%5B1%5D=y"
    );
    assert_eq!(
        build_query(&json!({"t": true, "f": false, "n": null, "i": 0, "m": {"k": "v"}}))
            .expect("query"),
        "f=0&i=0&m%5Bk%5D=v&t=1"
    );
    assert_eq!(
        build_query(&json!("raw=1&b=2")).expect("query"),
        "raw=1&b=2"
    );
    assert!(build_query(&json!(5)).is_err());
}

#[test]
fn rawurlencode_matches_php() {
    assert_eq!(rawurlencode("a b+c/~中"), "a%20b%2Bc%2F~%E4%B8%AD");
}

#[test]
fn numbers_print_like_php() {
    assert_eq!(number_text(&Number::from(10)), "10");
    assert_eq!(number_text(&Number::from_f64(2.0).expect("finite")), "2");
    assert_eq!(number_text(&Number::from_f64(1.5).expect("finite")), "1.5");
    assert_eq!(
        number_text(&Number::from_f64(1e20).expect("finite")),
        "1.0E+20"
    );
}
