//! Paths: PHP's segment normalisation through `normalize_segment`, `chain()`, `client["…"]`
//! and the `chain!` macro, and the documented call in all six styles against the mock.

use crate::common::{
    OUT_ORDER_NO, TEMPLATE, assert_prepaid_request, prepaid_mock, prepaid_options,
};
use wechatpay::mock::PLATFORM_KEY_ID;
use wechatpay::toolkit::normalize_segment;
use wechatpay::{Chain, Client, Response, chain};

/// php-sdk.md §2.1: every row of the normalisation table, as `(input, output)`.
const TABLE: &[(&str, &str)] = &[
    ("v3", "v3"),
    ("V3", "v3"),
    ("MerchantService", "merchant-service"),
    ("merchantService", "merchant-service"),
    ("complaintsV2", "complaints-v2"),
    ("ABC", "a-b-c"),
    ("HTTPSProxy", "h-t-t-p-s-proxy"),
    ("Transfer2Pocket", "transfer2-pocket"),
    ("a1B2c3", "a1-b2c3"),
    ("_out_trade_no_", "{out_trade_no}"),
    ("_transaction_id_", "{transaction_id}"),
    ("_outTradeNo_", "{out-trade-no}"),
    ("{outTradeNo}", "{out-trade-no}"),
    ("_a_/_b_", "{a_/_b}"),
    ("__", "{}"),
    ("_", "_"),
    ("_x", "_x"),
    ("x_", "x_"),
    ("{out_trade_no}", "{out_trade_no}"),
    ("{+myurl}", "{+myurl}"),
    ("out-trade-no", "out-trade-no"),
    ("pay_bank", "pay_bank"),
    ("applyment4sub", "applyment4sub"),
    ("id", "id"),
    (
        "v3/merchantService/complaintsV2",
        "v3/merchant-service/complaints-v2",
    ),
    ("v2/pay/MicroPay", "v2/pay/-micro-pay"),
    ("ÄÖ", "ÄÖ"),
];

/// A client that is never used to send anything: normalisation needs no server.
fn offline_client() -> Client {
    Client::builder()
        .mchid(wechatpay::mock::MCHID)
        .serial(wechatpay::mock::MERCHANT_SERIAL)
        .private_key(wechatpay::mock::merchant_private_key())
        .platform_key(PLATFORM_KEY_ID, wechatpay::mock::platform_public_key())
        .base_uri("http://127.0.0.1:9/")
        .build()
        .expect("builds")
}

#[test]
fn normalize_segment_matches_the_php_table() {
    for (input, expected) in TABLE {
        assert_eq!(normalize_segment(input), *expected, "normalising `{input}`");
    }
}

#[test]
fn client_chain_matches_the_php_table() {
    let client = offline_client();
    for (input, expected) in TABLE {
        assert_eq!(
            client.chain(input).path(),
            *expected,
            "client.chain({input:?})"
        );
        assert_eq!(client[*input].path(), *expected, "client[{input:?}]");
    }
}

#[test]
fn chained_segments_are_normalised_one_by_one() {
    let client = offline_client();
    assert_eq!(
        client
            .chain("v3")
            .chain("merchantService")
            .chain("_complaint_id_")
            .path(),
        "v3/merchant-service/{complaint_id}"
    );
    assert_eq!(
        client["v3/merchantService/complaintsV2"].path(),
        "v3/merchant-service/complaints-v2"
    );
    assert_eq!(client["v2/pay/MicroPay"].path(), "v2/pay/-micro-pay");
    // php-sdk.md §2.2
    assert_eq!(
        client
            .chain("v3")
            .chain("pay")
            .chain("transactions")
            .chain("outTradeNo")
            .chain("_out_trade_no_")
            .chain("close")
            .path(),
        "v3/pay/transactions/out-trade-no/{out_trade_no}/close"
    );
    assert_eq!(
        client["v3"]["marketing"]["busifavor"]["users"]["{openid}/coupons/{coupon_code}"]["appids"]
            ["{appid}"]
            .path(),
        "v3/marketing/busifavor/users/{openid}/coupons/{coupon_code}/appids/{appid}"
    );
    // The raw variants keep the text as written.
    assert_eq!(
        client.chain_raw("v3/merchantService").path(),
        "v3/merchantService"
    );
    assert_eq!(
        client.chain("v3").chain_raw("addInstitutionsub").path(),
        "v3/addInstitutionsub"
    );
}

#[test]
fn index_caches_chains_by_template() {
    let client = offline_client();
    assert!(std::ptr::eq(&client["x"], &client["x"]));
    assert!(std::ptr::eq(&client[TEMPLATE], &client[TEMPLATE]));
    assert!(!std::ptr::eq(&client["x"], &client["y"]));

    let chain: &Chain = &client["v3"];
    assert!(std::ptr::eq(&chain["y"], &chain["y"]));
    assert!(std::ptr::eq(&client["v3"]["pay"], &client["v3"]["pay"]));
    assert_eq!(chain["merchantService"].path(), "v3/merchant-service");

    // Clones of a client share the cache.
    let clone = client.clone();
    assert!(std::ptr::eq(&client["shared"], &clone["shared"]));
}

#[test]
fn chain_macro_matches_the_runtime() {
    let client = offline_client();
    let runtime = |segments: &[&str]| {
        segments
            .iter()
            .skip(1)
            .fold(client.chain(segments[0]), |chain, segment| {
                chain.chain(segment)
            })
            .path()
            .to_owned()
    };

    assert_eq!(chain!(client.v3; unchecked).path(), runtime(&["v3"]));
    assert_eq!(chain!(client.V3; unchecked).path(), "v3");
    assert_eq!(
        chain!(client.v3.merchantService.complaintsV2).path(),
        runtime(&["v3", "merchantService", "complaintsV2"])
    );
    assert_eq!(
        chain!(client.v3.merchantService.complaintsV2).path(),
        "v3/merchant-service/complaints-v2"
    );
    assert_eq!(
        chain!(
            client
                .v3
                .payscore
                .partner
                .serviceorder
                ._out_order_no_
                .sendPrepaidmessage
        )
        .path(),
        TEMPLATE
    );
    assert_eq!(
        chain!(client.v3.pay.transactions.outTradeNo._out_trade_no_.close).path(),
        runtime(&[
            "v3",
            "pay",
            "transactions",
            "outTradeNo",
            "_out_trade_no_",
            "close"
        ])
    );
    assert_eq!(
        chain!(client.v3.pay.HTTPSProxy.Transfer2Pocket.a1B2c3.pay_bank; unchecked).path(),
        runtime(&[
            "v3",
            "pay",
            "HTTPSProxy",
            "Transfer2Pocket",
            "a1B2c3",
            "pay_bank"
        ])
    );
    assert_eq!(
        chain!(client.v3.pay.HTTPSProxy.Transfer2Pocket.a1B2c3.pay_bank; unchecked).path(),
        "v3/pay/h-t-t-p-s-proxy/transfer2-pocket/a1-b2c3/pay_bank"
    );
    assert_eq!(
        chain!(client.v3.marketing.favor.media.imageUpload).path(),
        "v3/marketing/favor/media/image-upload"
    );
    assert_eq!(
        chain!(client.v3.ecommerce.refunds._refund_id_.r#return; unchecked).path(),
        "v3/ecommerce/refunds/{refund_id}/return"
    );
    assert_eq!(
        chain!(client.v3.ecommerce.refunds._refund_id_.r#return; unchecked).path(),
        runtime(&["v3", "ecommerce", "refunds", "_refund_id_", "return"])
    );
    assert_eq!(
        chain!(client.v3.applyment4sub."applyment/").path(),
        "v3/applyment4sub/applyment/"
    );
    assert_eq!(
        chain!(client.secapi.mch."addInstitutionsub").path(),
        "secapi/mch/addInstitutionsub"
    );
    assert_eq!(
        chain!(client.v3.marketing."MixedCase_kept"; unchecked).path(),
        "v3/marketing/MixedCase_kept"
    );
}

#[test]
fn chain_macro_takes_a_parenthesised_receiver() {
    struct State {
        client: Client,
    }
    let state = State {
        client: offline_client(),
    };
    let clients = [offline_client()];

    assert_eq!(
        chain!((state.client).v3.certificates).path(),
        "v3/certificates"
    );
    assert_eq!(
        chain!((clients[0]).v3.merchantService; unchecked).path(),
        "v3/merchant-service"
    );
    // Any expression yielding a client or a chain.
    assert_eq!(
        chain!((state.client["v3"]).pay.transactions._out_trade_no_; unchecked).path(),
        "v3/pay/transactions/{out_trade_no}"
    );
    assert_eq!(
        chain!(
            (state.client.chain("v3").chain("ecommerce"))
                .refunds
                ._refund_id_
        )
        .path(),
        "v3/ecommerce/refunds/{refund_id}"
    );
}

// ---------------------------------------------------------------------------------------
// The six styles of the documented call against the mock.
// ---------------------------------------------------------------------------------------

const SEGMENTS: [&str; 6] = [
    "v3",
    "payscore",
    "partner",
    "serviceorder",
    "_out_order_no_",
    "sendPrepaidmessage",
];

fn folded(client: &Client) -> Chain {
    SEGMENTS[1..]
        .iter()
        .fold(client.chain(SEGMENTS[0]), |chain, segment| {
            chain.chain(segment)
        })
}

fn assert_answer(response: &Response) {
    assert_eq!(response.status(), 204);
    assert_eq!(response.verified_by(), PLATFORM_KEY_ID);
    assert!(response.is_verified());
    assert!(response.bytes().is_empty());
}

#[test]
fn six_styles_sync() {
    let (mock, client) = prepaid_mock();
    let options = prepaid_options();

    assert_eq!(folded(&client).path(), TEMPLATE);
    let answers = [
        folded(&client).post(options.clone()),
        chain!(
            client
                .v3
                .payscore
                .partner
                .serviceorder
                ._out_order_no_
                .sendPrepaidmessage
        )
        .post(options.clone()),
        client.chain(TEMPLATE).post(options.clone()),
        client[TEMPLATE].post(options.clone()),
    ];
    for answer in &answers {
        assert_answer(answer.as_ref().expect("the call succeeds"));
    }

    let requests = mock.requests();
    assert_eq!(requests.len(), answers.len());
    for request in &requests {
        assert_prepaid_request(request);
    }
    assert!(requests[0].target.contains(OUT_ORDER_NO));
}

#[test]
fn six_styles_async() {
    let (mock, client) = prepaid_mock();
    let options = prepaid_options();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");

    let answers = runtime.block_on(async {
        vec![
            folded(&client).post_async(options.clone()).await,
            chain!(
                client
                    .v3
                    .payscore
                    .partner
                    .serviceorder
                    ._out_order_no_
                    .sendPrepaidmessage
            )
            .post_async(options.clone())
            .await,
            client.chain(TEMPLATE).post_async(options.clone()).await,
            client[TEMPLATE].post_async(options.clone()).await,
        ]
    });
    for answer in &answers {
        assert_answer(answer.as_ref().expect("the call succeeds"));
    }

    let requests = mock.requests();
    assert_eq!(requests.len(), answers.len());
    for request in &requests {
        assert_prepaid_request(request);
    }
}

#[test]
fn typed_options_are_the_same_call() {
    let (mock, client) = prepaid_mock();
    let options = wechatpay::Options::new()
        .var("out_order_no", OUT_ORDER_NO)
        .json(crate::common::prepaid_body());
    assert_answer(&client[TEMPLATE].post(options).expect("the call succeeds"));
    assert_prepaid_request(&mock.requests()[0]);
}
