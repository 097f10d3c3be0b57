//! The rules a request is checked against, and the messages of a broken one.

use http::Method;
use serde_json::{Value, json};

use super::{jsapi, post, refusal, valid};
use crate::schema::{Checked, check};

#[test]
fn a_missing_required_field_is_named_as_wechat_pay_names_it() {
    let mut body = jsapi();
    body["payer"] = json!({});
    assert_eq!(
        refusal(post("/v3/pay/transactions/jsapi", body)),
        "输入源“/body/payer/openid”映射到字段“用户标识”必填性规则校验失败，此字段为必填项 \
         [sandbox: the docs of POST v3/pay/transactions/jsapi list json.payer.openid as required]"
    );
    let mut body = jsapi();
    body.as_object_mut().map(|o| o.remove("notify_url"));
    let missing = refusal(post("/v3/pay/transactions/jsapi", body));
    assert!(
        missing.starts_with("输入源“/body/notify_url”映射到字段“通知地址”必填"),
        "{missing}"
    );
    // `null` is absent.
    let mut body = jsapi();
    body["out_trade_no"] = Value::Null;
    assert!(refusal(post("/v3/pay/transactions/jsapi", body)).contains("/body/out_trade_no"));
    // No body at all where one is required.
    let empty = check(&Method::POST, "/v3/pay/transactions/jsapi", "", b" ");
    assert!(refusal(empty).contains("“/body/appid”"));
}

#[test]
fn a_required_field_inside_an_optional_parent_counts_only_when_the_parent_is_there() {
    let mut body = jsapi();
    body["scene_info"] = json!({"payer_client_ip": "14.23.150.211"});
    valid(post("/v3/pay/transactions/jsapi", body.clone()));
    body["scene_info"]["store_info"] =
        json!({"id": "0001", "name": "腾讯大厦分店", "address": "x"});
    let message = refusal(post("/v3/pay/transactions/jsapi", body));
    assert!(
        message.starts_with("输入源“/body/scene_info/store_info/area_code”映射到字段“地区编码”"),
        "{message}"
    );
    assert!(message.ends_with("list json.scene_info.store_info.area_code as required]"));
}

#[test]
fn each_item_of_an_array_is_checked() {
    let mut body = jsapi();
    body["detail"] = json!({"goods_detail": [
        {"merchant_goods_id": "1", "quantity": 1, "unit_price": 828800},
        {"merchant_goods_id": "2", "unit_price": 1}
    ]});
    let message = refusal(post("/v3/pay/transactions/jsapi", body));
    assert!(
        message.starts_with("输入源“/body/detail/goods_detail/1/quantity”映射到字段“商品数量”"),
        "{message}"
    );
    assert!(
        message.contains("json.detail.goods_detail[].quantity as required"),
        "{message}"
    );
}

#[test]
fn a_value_of_the_wrong_type_is_named() {
    let mut body = jsapi();
    body["amount"]["total"] = json!("100");
    assert_eq!(
        refusal(post("/v3/pay/transactions/jsapi", body)),
        "无法将 JSON 输入源“/body/amount/total”映射到目标字段“总金额”中，此字段需要一个合法的 64 位\
         有符号整数 [sandbox: the docs of POST v3/pay/transactions/jsapi list json.amount.total as \
         integer]"
    );
    for (field, value, words) in [
        ("amount", json!(100), "一个 JSON 对象"),
        ("support_fapiao", json!("true"), "一个合法的布尔值"),
        ("limit_pay", json!("no_credit"), "一个 JSON 数组"),
        ("description", json!(7), "一个字符串"),
    ] {
        let mut body = jsapi();
        body[field] = value;
        let message = refusal(post("/v3/pay/transactions/jsapi", body));
        assert!(message.contains(&format!("“/body/{field}”")), "{message}");
        assert!(message.contains(words), "{message}");
    }
    let mut body = jsapi();
    body["amount"]["total"] = json!(69.1 * 100.0);
    assert!(refusal(post("/v3/pay/transactions/jsapi", body)).contains("64 位有符号整数"));
}

#[test]
fn a_value_outside_the_documented_ones_is_named_with_them() {
    let mut body = jsapi();
    body["limit_pay"] = json!(["no_credit", "no_cash"]);
    let message = refusal(post("/v3/pay/transactions/jsapi", body));
    assert!(
        message.starts_with(
            "输入源“/body/limit_pay”映射到值字段“指定支付方式”枚举规则校验失败，取值必须是 \
             no_balance | no_credit | no_debit | balance_only 之一"
        ),
        "{message}"
    );
    assert!(message.ends_with(
        "list json.limit_pay with the values no_balance, no_credit, no_debit, balance_only]"
    ));
    // Values listed for a number are its decimal texts.
    let plan = |months: Value| {
        let mut body = jsapi();
        body["subsidy_info"] = json!({"subsidy_detail": [{"subsidy_period_type": "PERIOD",
            "subsidy_plan": [{"subsidy_installment_num": months, "subsidy_percent": 100}]}]});
        post("/v3/pay/transactions/jsapi", body)
    };
    valid(plan(json!(12)));
    assert!(refusal(plan(json!(4))).contains("3 | 6 | 12"));
    // An optional field at its zero value is "not set".
    let complete = |finish_type: Value| {
        let body = json!({"appid": "wx1", "service_id": "1", "finish_type": finish_type,
            "total_amount": 0, "profit_sharing": false});
        post("/v3/payscore/payafter-orders/1234/complete", body)
    };
    valid(complete(json!(0)));
    valid(complete(json!(2)));
    assert!(refusal(complete(json!(3))).contains("“/body/finish_type”"));
}

#[test]
fn query_fields_are_text_of_their_documented_type() {
    let get = |query: &str| {
        check(
            &Method::GET,
            "/v3/transfer/batches/batch-id/1030000071100999991182020050700019480001",
            query,
            b"",
        )
    };
    valid(get("need_query_detail=true&offset=0&limit=20"));
    // PHP's http_build_query writes true as 1; booleans in text take any case.
    valid(get("need_query_detail=1"));
    valid(get("need_query_detail=FALSE&detail_status=ALL"));
    let missing = refusal(get("offset=0"));
    assert!(
        missing.starts_with("输入源“/query/need_query_detail”映射到字段"),
        "{missing}"
    );
    assert!(
        missing.contains("list query.need_query_detail as required"),
        "{missing}"
    );
    let boolean = refusal(get("need_query_detail=yes"));
    assert!(
        boolean.starts_with("无法将输入源“/query/need_query_detail”"),
        "{boolean}"
    );
    assert!(boolean.contains("一个合法的布尔值"), "{boolean}");
    let integer = refusal(get("need_query_detail=true&offset=x1"));
    assert!(
        integer.contains("/query/offset") && integer.contains("64 位有符号整数"),
        "{integer}"
    );
    let bill = |query: &str| check(&Method::GET, "/v3/bill/tradebill", query, b"");
    valid(bill("bill_date=2019-06-11&bill_type=ALL"));
    let values = refusal(bill("bill_date=2019-06-11&bill_type=SOME"));
    assert!(
        values.starts_with("输入源“/query/bill_type”映射到值字段“账单类型”枚举规则校验失败"),
        "{values}"
    );
    // Percent-decoded; a `+` is a plus.
    valid(get("need_query_detail=%74rue"));
}

#[test]
fn path_variables_are_checked_against_their_documented_type() {
    let path = |id: &str| {
        check(
            &Method::GET,
            &format!("/v3/ecommerce/applyments/{id}"),
            "",
            b"",
        )
    };
    valid(path("2000002124775691"));
    assert_eq!(
        refusal(path("APPLYMENT_20210312084316")),
        "无法将输入源“/uri_template/applyment_id”映射到目标字段“微信支付申请单号”中，此字段需要一个\
         合法的数字 [sandbox: the docs of GET v3/ecommerce/applyments/{applyment_id} list \
         applyment_id as number]"
    );
}

#[test]
fn two_templates_of_one_shape_take_the_first_whose_rules_hold() {
    let cancel = |id: &str| {
        check(
            &Method::POST,
            &format!("/v3/apply4subject/applyment/{id}/cancel"),
            "",
            b"",
        )
    };
    let by_id = cancel("20000011111");
    let by_code = cancel("1900013511_10000");
    assert!(matches!(by_id, Checked::Valid(_)), "{by_id:?}");
    assert!(matches!(by_code, Checked::Valid(_)), "{by_code:?}");
}

#[test]
fn apiv2_xml_fields_are_checked() {
    let order = |xml: &str| check(&Method::POST, "/pay/unifiedorder", "", xml.as_bytes());
    let complete = "<xml><appid>wx2421b1c4370ec43b</appid><mch_id>10000100</mch_id>\
        <nonce_str>1add1a30ac87aa2db72f57a2375d8fec</nonce_str><sign>0CB01533B8C1EF103065174F50BCA001</sign>\
        <body>JSAPI支付测试</body><out_trade_no>1415659990</out_trade_no><total_fee>1</total_fee>\
        <spbill_create_ip>14.23.150.211</spbill_create_ip><notify_url>http://wxpay.wxutil.com/pub_v2/pay/notify.v2.php</notify_url>\
        <trade_type>JSAPI</trade_type><openid>oUpF8uMuAJO_M2pxb1Q9zNjWeS6o</openid></xml>";
    valid(order(complete));
    let missing = refusal(order(
        &complete.replace("<out_trade_no>1415659990</out_trade_no>", ""),
    ));
    assert!(
        missing
            .starts_with("输入源“/body/xml/out_trade_no”映射到字段“商户订单号”必填性规则校验失败"),
        "{missing}"
    );
    let fee = refusal(order(
        &complete.replace(">1</total_fee>", ">0.01</total_fee>"),
    ));
    assert!(
        fee.starts_with("无法将输入源“/body/xml/total_fee”映射到目标字段“"),
        "{fee}"
    );
    let sign = refusal(order(
        &complete.replace("<body>", "<sign_type>SHA1</sign_type><body>"),
    ));
    assert!(
        sign.contains("/body/xml/sign_type") && sign.contains("MD5 | HMAC-SHA256"),
        "{sign}"
    );
    let broken = refusal(order("<xml><appid>wx"));
    assert!(broken.starts_with("XML格式错误 [sandbox:"), "{broken}");
}

#[test]
fn a_body_that_is_not_a_json_object_is_refused() {
    let text = refusal(check(
        &Method::POST,
        "/v3/pay/transactions/jsapi",
        "",
        b"{\"appid\":",
    ));
    assert!(text.starts_with("无法将请求体解析为 JSON："), "{text}");
    let array = refusal(post("/v3/pay/transactions/jsapi", json!([1])));
    assert!(
        array.starts_with("无法将 JSON 输入源“/body”映射到目标字段“请求体”中"),
        "{array}"
    );
    // Undocumented fields are WeChat Pay's to ignore.
    let mut body = jsapi();
    body["extra"] = json!({"anything": [1, 2]});
    valid(post("/v3/pay/transactions/jsapi", body));
}

#[test]
fn uploads_are_not_read_as_json() {
    let upload = check(
        &Method::POST,
        "/v3/merchant/media/upload",
        "",
        b"--boundary\r\n",
    );
    assert!(matches!(upload, Checked::Valid(_)), "{upload:?}");
}

#[test]
fn either_of_wechat_pay_s_two_order_numbers_will_do_where_the_apiv2_table_marks_both() {
    let query = |fields: &str| {
        check(
            &Method::POST,
            "/pay/orderquery",
            "",
            format!("<xml><appid>wxd678efh567hg6787</appid><mch_id>1900000109</mch_id>{fields}<nonce_str>x</nonce_str><sign>x</sign></xml>").as_bytes(),
        )
    };
    valid(query(
        "<out_trade_no>1217752501201407033233368018</out_trade_no>",
    ));
    valid(query(
        "<transaction_id>1009660380201506130728806387</transaction_id>",
    ));
    let message = refusal(query(""));
    assert!(message.contains("/body/xml/transaction_id"), "{message}");
    // A refund query names any one of its four numbers; a refund still needs its own number.
    let refund_query = |fields: &str| {
        check(
            &Method::POST,
            "/pay/refundquery",
            "",
            format!("<xml><appid>wxd678efh567hg6787</appid><mch_id>1900000109</mch_id>{fields}<nonce_str>x</nonce_str><sign>x</sign></xml>").as_bytes(),
        )
    };
    valid(refund_query("<out_refund_no>R1</out_refund_no>"));
    let refund = check(
        &Method::POST,
        "/secapi/pay/refund",
        "",
        b"<xml><appid>wxd678efh567hg6787</appid><mch_id>1900000109</mch_id><out_trade_no>1</out_trade_no><total_fee>1</total_fee><refund_fee>1</refund_fee><nonce_str>x</nonce_str><sign>x</sign></xml>",
    );
    assert!(refusal(refund).contains("/body/xml/out_refund_no"));
}

#[test]
fn a_direct_merchant_s_combined_order_needs_no_second_level_merchant() {
    let body = json!({
        "combine_appid": "wxd678efh567hg6787", "combine_mchid": "1900000109",
        "combine_out_trade_no": "C-1", "notify_url": "https://example.com/notify",
        "sub_orders": [{"mchid": "1900000109", "attach": "", "out_trade_no": "C-1-A",
                        "description": "子单", "amount": {"total_amount": 100, "currency": "CNY"}}],
        "combine_payer_info": {"openid": "oUpF8uMuAJO_M2pxb1Q9zNjWeS6o"},
    });
    valid(post("/v3/combine-transactions/jsapi", body.clone()));
    // Its other required fields still count.
    let mut body = body;
    body["sub_orders"][0]
        .as_object_mut()
        .map(|o| o.remove("mchid"));
    assert!(
        refusal(post("/v3/combine-transactions/jsapi", body)).contains("/body/sub_orders/0/mchid")
    );
}
