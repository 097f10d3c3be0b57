//! The endpoint catalog: its content, lookups, search, and `Chain::documented_methods`.

use std::collections::HashSet;

use wechatpay::Client;
use wechatpay::endpoints::{self, Api, Product};
use wechatpay::http::Method;
use wechatpay::toolkit::normalize_segment;

/// A client that never sends anything: chains need no server.
fn offline_client() -> Client {
    Client::builder()
        .mchid(wechatpay::mock::MCHID)
        .serial(wechatpay::mock::MERCHANT_SERIAL)
        .private_key(wechatpay::mock::merchant_private_key())
        .platform_key(
            wechatpay::mock::PLATFORM_KEY_ID,
            wechatpay::mock::platform_public_key(),
        )
        .base_uri("http://127.0.0.1:9/")
        .build()
        .expect("builds")
}

#[test]
fn every_documented_operation_is_present_once() {
    let all = endpoints::all();
    assert_eq!(all.len(), 1147);
    assert_eq!(all.iter().filter(|e| e.api() == Api::V3).count(), 1018);
    assert_eq!(all.iter().filter(|e| e.api() == Api::V2).count(), 129);
    let pairs: HashSet<(&Method, &str)> = all.iter().map(|e| (e.method(), e.template())).collect();
    assert_eq!(pairs.len(), all.len(), "a (method, template) pair twice");
    // Sorted by template then method: the lookups rely on it.
    assert!(all.windows(2).all(|pair| {
        (pair[0].template(), pair[0].method().as_str())
            < (pair[1].template(), pair[1].method().as_str())
    }));
}

#[test]
fn every_template_normalises_to_itself() {
    for endpoint in endpoints::all() {
        let template = endpoint.template();
        for segment in template.split('/') {
            assert_eq!(normalize_segment(segment), segment, "{template}");
        }
        // `Client::chain` normalises its whole argument the same way.
        assert_eq!(normalize_segment(template), template);
        assert_eq!(
            endpoint.api() == Api::V2,
            template.starts_with("v2/"),
            "{template}"
        );
        assert!(!template.contains("{empty}"), "{template}");
    }
}

#[test]
fn every_template_is_accepted_by_a_chain() {
    let client = offline_client();
    for endpoint in endpoints::all() {
        let template = endpoint.template();
        assert_eq!(client.chain(template).path(), template);
        assert!(
            client[template]
                .documented_methods()
                .contains(endpoint.method()),
            "{endpoint}"
        );
    }
}

#[test]
fn every_operation_has_a_product_and_a_title() {
    for endpoint in endpoints::all() {
        assert_ne!(
            endpoint.product(),
            Product::Other,
            "{endpoint}: extend PRODUCTS"
        );
        assert!(!endpoint.title().is_empty(), "{endpoint}");
        assert!(
            endpoint.product().prefixes().iter().any(|prefix| {
                let prefix: Vec<&str> = prefix.split('/').collect();
                endpoint
                    .template()
                    .split('/')
                    .collect::<Vec<_>>()
                    .starts_with(&prefix)
            }),
            "{endpoint}"
        );
        for url in endpoint.docs() {
            assert!(url.starts_with("https://"), "{endpoint}: {url}");
        }
    }
    let products: HashSet<Product> = endpoints::all().iter().map(|e| e.product()).collect();
    assert_eq!(products.len(), Product::ALL.len() - 1); // all but Other
    assert_eq!(Product::ProfitSharing.to_string(), "Profit sharing");
    assert_eq!(Product::ApiV2.title(), "APIv2");
}

#[test]
fn the_macro_list_matches_the_catalog() {
    let templates = include_str!("../../generated/templates.txt");
    let mut expected: Vec<&str> = endpoints::all().iter().map(|e| e.template()).collect();
    expected.dedup();
    assert_eq!(templates.lines().collect::<Vec<_>>(), expected);
}

#[test]
fn find_exact_and_through_variables() {
    let jsapi = endpoints::find(Method::POST, "v3/pay/transactions/jsapi").unwrap();
    assert_eq!(jsapi.product(), Product::Payments);
    assert_eq!(jsapi.api(), Api::V3);
    assert!(jsapi.request_fields().contains(&"json"));
    assert_eq!(jsapi.response_fields(), ["prepay_id"]);
    assert!(endpoints::find("post", "v3/pay/transactions/jsapi").is_some());
    assert!(endpoints::find("GET", "v3/pay/transactions/jsapi").is_none());

    // Variables are wildcards whatever their names; exact names win.
    let by_id = endpoints::find("GET", "v3/pay/transactions/id/{out_trade_no}").unwrap();
    assert_eq!(by_id.template(), "v3/pay/transactions/id/{transaction_id}");
    assert_eq!(by_id.variables().collect::<Vec<_>>(), ["transaction_id"]);
    let cancel = "v3/apply4subject/applyment/{business_code}/cancel";
    assert_eq!(endpoints::find("POST", cancel).unwrap().template(), cancel);
    let either = endpoints::for_template("v3/apply4subject/applyment/{x}/cancel");
    assert_eq!(either.len(), 2);

    // A value in place of a variable is not documented; the docs' literal-name variables are.
    assert!(endpoints::find("GET", "v3/pay/transactions/id/4200000001").is_none());
    let add = endpoints::find("POST", "v2/secapi/mch/addInstitutionsub").unwrap();
    assert_eq!(add.template(), "v2/secapi/mch/{addinstitutionsub}");
    assert_eq!(add.product(), Product::ApiV2);

    // The `_empty_` trick is the literal trailing slash.
    let applyment = endpoints::find("POST", "v3/applyment4sub/applyment/").unwrap();
    assert_eq!(applyment.product(), Product::Onboarding);
    assert!(endpoints::find("POST", "v3/applyment4sub/applyment").is_none());
}

#[test]
fn methods_of_a_template() {
    let methods = endpoints::methods("v3/merchant-service/complaint-notifications");
    assert_eq!(
        methods,
        [Method::DELETE, Method::GET, Method::POST, Method::PUT]
    );
    assert_eq!(
        endpoints::methods("v3/apply4subject/applyment/{id}/cancel"),
        [Method::POST]
    );
    assert!(endpoints::methods("v3/pay/transactions").is_empty());
    assert!(endpoints::for_template("").is_empty());

    let client = offline_client();
    assert_eq!(
        client["v3/pay/transactions/out-trade-no/{out_trade_no}"].documented_methods(),
        [Method::GET]
    );
    assert!(
        client["v3/pay/transactons/jsapi"]
            .documented_methods()
            .is_empty()
    );
    assert_eq!(
        client
            .chain("v3")
            .chain("merchantService")
            .chain("complaintsV2")
            .documented_methods(),
        [Method::GET]
    );
}

#[test]
fn suggestions() {
    assert_eq!(
        endpoints::suggest("v3/pay/transactons/jsapi"),
        ["v3/pay/transactions/jsapi"]
    );
    assert_eq!(
        endpoints::suggest("v3/pay/transactions/jsapi/"),
        ["v3/pay/transactions/jsapi"]
    );
    assert_eq!(
        endpoints::suggest("v3/applyment4sub/applyment/{empty}"),
        ["v3/applyment4sub/applyment/"]
    );
    assert_eq!(endpoints::suggest("v3/certificates")[0], "v3/certificates");
    let three = endpoints::suggest("v3/refund/domestic/refund/{out_refund_no}");
    assert_eq!(three[0], "v3/refund/domestic/refunds/{out_refund_no}");
    assert!(three.len() <= 3);
    for odd in [
        "",
        "/",
        "//",
        "{",
        "}",
        "{}",
        "v3/{",
        "支付",
        "\u{0}",
        &"a/".repeat(200),
    ] {
        assert!(endpoints::suggest(odd).len() <= 3);
    }
    let long = "v3/pay/".repeat(100_000);
    assert!(endpoints::suggest(&long).is_empty());
}

#[test]
fn search_by_path_words() {
    let hits = endpoints::search("transactions jsapi");
    assert_eq!(hits[0].template(), "v3/pay/transactions/jsapi");
    assert!(hits.iter().all(|e| e.template().contains("transactions")));
    assert!(
        hits.iter()
            .any(|e| e.template() == "v3/pay/partner/transactions/jsapi")
    );

    let hits = endpoints::search("v3/refund/domestic/refunds");
    assert_eq!(hits[0].template(), "v3/refund/domestic/refunds");

    // Words of a segment, variable names and methods count too.
    let hits = endpoints::search("out-trade-no close");
    assert!(hits.iter().all(|e| e.template().ends_with("/close")));
    assert!(
        hits[..3]
            .iter()
            .any(|e| e.template() == "v3/pay/transactions/out-trade-no/{out_trade_no}/close")
    );
    let hits = endpoints::search("GET transaction_id");
    assert!(hits.iter().all(|e| e.method() == Method::GET));
    assert!(!hits.is_empty());
}

#[test]
fn search_by_title() {
    let hits = endpoints::search("退款");
    assert!(hits.len() > 20);
    assert!(hits.iter().all(|e| e.title().contains("退款")));
    assert_eq!(hits[0].product(), Product::Refunds);
    assert!(
        hits.iter()
            .any(|e| e.template() == "v3/refund/domestic/refunds")
    );

    // Latin letters in titles ignore case; words from both sides combine.
    let hits = endpoints::search("app 下单 combine");
    assert_eq!(hits[0].template(), "v3/combine-transactions/app");
    let hits = endpoints::search("分账 ecommerce");
    assert!(!hits.is_empty());
    assert!(hits.iter().all(|e| e.template().contains("ecommerce")));
}

#[test]
fn search_never_panics() {
    for odd in [
        "",
        " ",
        "\t\n",
        "/",
        "///",
        "{",
        "{}",
        "}{",
        "-",
        "_",
        "İ",
        "ß",
        "\u{0}",
        "🦀",
        "v3 v3 v3",
        "no-such-word",
    ] {
        let hits = endpoints::search(odd);
        assert!(hits.len() <= endpoints::all().len(), "{odd:?}");
    }
    assert!(endpoints::search("").is_empty());
    assert!(endpoints::search(" / ").is_empty());
    assert!(endpoints::search("no-such-word").is_empty());
    assert!(endpoints::search(&"pay ".repeat(1000)).len() > 10);
    let many: String = (0..100_000).map(|i| format!("w{i} ")).collect();
    assert!(endpoints::search(&many).is_empty());
    assert!(endpoints::search(&"x".repeat(1_000_000)).is_empty());
    assert!(endpoints::find("GET", &"v3/".repeat(100_000)).is_none());
    assert!(endpoints::for_template(&"{x}/".repeat(100_000)).is_empty());
}
