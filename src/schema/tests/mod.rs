//! The schema's tests: the tables, the routing, the checks and their messages, the samples;
//! `corpus.rs` runs every documented call of the conformance corpus through the check.

mod corpus;
mod rules;
mod samples;

use http::Method;
use serde_json::{Value, json};

use super::data::{parse, schema};
use super::route::Tree;
use super::{Checked, Operation, check, documented_methods, webhooks};

fn post(path: &str, body: Value) -> Checked {
    check(&Method::POST, path, "", body.to_string().as_bytes())
}

#[track_caller]
fn valid(checked: Checked) -> &'static Operation {
    match checked {
        Checked::Valid(op) => op,
        other => panic!("not valid: {other:?}"),
    }
}

#[track_caller]
fn refusal(checked: Checked) -> String {
    match checked {
        Checked::Invalid { message, .. } => message,
        other => panic!("not invalid: {other:?}"),
    }
}

/// A JSAPI order as the docs show it.
fn jsapi() -> Value {
    json!({
        "appid": "wxd678efh567hg6787",
        "mchid": "1230000109",
        "description": "Image形象店-深圳腾大-QQ公仔",
        "out_trade_no": "1217752501201407033233368018",
        "notify_url": "https://www.weixin.qq.com/wxpay/pay.php",
        "amount": {"total": 100, "currency": "CNY"},
        "payer": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"}
    })
}

#[test]
fn the_tables_parse_and_hold_every_operation_and_notification() {
    let schema = schema();
    assert_eq!(schema.operations.len(), 1147);
    assert_eq!(webhooks().len(), 115);
    let keys: Vec<(&str, &str)> = schema
        .operations
        .iter()
        .map(|op| (op.template, op.method))
        .collect();
    assert!(
        keys.windows(2).all(|pair| pair[0] < pair[1]),
        "sorted, no duplicates"
    );
    for op in &schema.operations {
        let endpoint = crate::endpoints::find(op.method, op.template);
        assert_eq!(
            endpoint.map(|e| e.template()),
            Some(op.template),
            "{}",
            op.template
        );
    }
}

#[test]
fn a_string_that_needs_an_escape_is_an_error_not_a_panic() {
    assert!(parse(r#"{"operations":[{"m":"GET","t":"v3/a\"b"}],"webhooks":[]}"#).is_err());
    assert!(parse("not json").is_err());
    assert!(parse(r#"{"operations":[],"webhooks":[]}"#).is_ok());
}

#[test]
fn wire_paths_find_their_operations() {
    let op = valid(post("/v3/pay/transactions/jsapi", jsapi()));
    assert_eq!(
        (op.method(), op.template()),
        ("POST", "v3/pay/transactions/jsapi")
    );
    // A variable takes any one non-empty segment, percent-encoded or not.
    let query = valid(check(
        &Method::GET,
        "/v3/pay/transactions/id/4200000985202103031441826014",
        "mchid=1230000109",
        b"",
    ));
    assert_eq!(query.template(), "v3/pay/transactions/id/{transaction_id}");
    let encoded = check(
        &Method::GET,
        "/v3/pay/transactions/out-trade-no/a%2Fb%20c",
        "mchid=1230000109",
        b"",
    );
    assert!(matches!(encoded, Checked::Valid(_)), "{encoded:?}");
    let empty = check(&Method::GET, "/v3/pay/transactions/id/", "mchid=1", b"");
    assert!(matches!(empty, Checked::Undocumented), "{empty:?}");
    // APIv2 paths have no `v2/` on the wire.
    let v2 = check(&Method::POST, "/pay/closeorder", "", b"<xml/>");
    assert!(
        matches!(
            v2,
            Checked::Invalid {
                template: "v2/pay/closeorder",
                ..
            }
        ),
        "{v2:?}"
    );
    assert!(matches!(
        check(&Method::POST, "/v2/pay/closeorder", "", b"<xml/>"),
        Checked::Undocumented
    ));
    // The docs' `{addinstitutionsub}` is the literal segment `addInstitutionsub`.
    let literal = check(
        &Method::POST,
        "/secapi/mch/queryInstitutionsub",
        "",
        b"<xml/>",
    );
    assert!(
        matches!(
            literal,
            Checked::Invalid {
                template: "v2/secapi/mch/{queryinstitutionsub}",
                ..
            }
        ),
        "{literal:?}"
    );
    for path in [
        "/",
        "",
        "/v3",
        "/v3/pay/transactions/jsapi/",
        "/v3//jsapi",
        "/nothing",
    ] {
        assert!(
            matches!(post(path, json!({})), Checked::Undocumented),
            "{path}"
        );
    }
}

#[test]
fn overseas_access_points_are_taken_where_the_docs_give_them() {
    let body = json!({"sp_mchid": "1", "sub_mchid": "2", "transaction_id": "3",
        "out_refund_no": "4", "amount": {"refund": 1, "total": 1, "currency": "HKD"}});
    let hk = post("/hk/v3/refunds", body.clone());
    let plain = post("/v3/refunds", body);
    assert_eq!(format!("{hk:?}"), format!("{plain:?}"));
    assert!(
        matches!(plain, Checked::Valid(_) | Checked::Invalid { .. }),
        "{plain:?}"
    );
    let global = check(&Method::POST, "/global/v3/customs/redeclare", "", b"{}");
    assert!(matches!(
        global,
        Checked::Invalid {
            template: "v3/customs/redeclare",
            ..
        }
    ));
    // No `/hk/` access point is documented for the domestic JSAPI order.
    assert!(matches!(
        post("/hk/v3/pay/transactions/jsapi", jsapi()),
        Checked::Undocumented
    ));
    assert!(matches!(
        post("/xx/v3/refunds", json!({})),
        Checked::Undocumented
    ));
}

#[test]
fn a_literal_segment_beats_a_variable() {
    let templates = [
        "v3/x/{id}/y",
        "v3/x/batch/{z}",
        "v3/{a}/batch/y",
        "v3/x/{id}",
    ];
    let tree = Tree::new(templates.into_iter());
    assert_eq!(
        tree.best("v3/x/batch/y"),
        [1],
        "the literal at the first difference wins"
    );
    assert_eq!(tree.best("v3/x/7/y"), [0]);
    assert_eq!(tree.best("v3/q/batch/y"), [2]);
    assert_eq!(tree.best("v3/x/batch"), [3]);
    assert!(tree.best("v3/x/batch/y/z").is_empty());
    let same_shape = Tree::new(["v3/a/{one}/c", "v3/a/{two}/c"].into_iter());
    assert_eq!(same_shape.best("v3/a/b/c"), [0, 1]);
    // With real templates: `POST …/images/upload` is the literal, a `GET` of it the variable.
    let upload = check(
        &Method::POST,
        "/v3/merchant-service/images/upload",
        "",
        b"--x",
    );
    assert_eq!(
        valid(upload).template(),
        "v3/merchant-service/images/upload"
    );
    let image = check(&Method::GET, "/v3/merchant-service/images/upload", "", b"");
    assert_eq!(
        valid(image).template(),
        "v3/merchant-service/images/{media_id}"
    );
}

#[test]
fn another_method_on_a_documented_path_is_undocumented_and_its_methods_are_told() {
    let get = check(&Method::GET, "/v3/pay/transactions/jsapi", "", b"");
    assert!(matches!(get, Checked::Undocumented));
    assert_eq!(documented_methods("/v3/pay/transactions/jsapi"), ["POST"]);
    assert_eq!(
        documented_methods("/v3/merchant-service/images/upload"),
        ["GET", "POST"]
    );
    assert_eq!(
        documented_methods("/v3/merchant-service/complaint-notifications"),
        ["DELETE", "GET", "POST", "PUT"]
    );
    assert!(documented_methods("/v3/no/such/path").is_empty());
    assert!(documented_methods("/hk/v3/pay/transactions/jsapi").is_empty());
}
