#![deny(warnings)]

use wechatpay_macros::chain;

struct Client;

impl Client {
    fn chain_raw(&self, p: &str) -> String {
        p.to_string()
    }
}

fn main() {
    let client = Client;
    assert_eq!(
        chain!(
            client
                .v3
                .payscore
                .partner
                .serviceorder
                ._out_order_no_
                .sendPrepaidmessage
        ),
        "v3/payscore/partner/serviceorder/{out_order_no}/send-prepaidmessage"
    );
    // Paths that are not documented endpoints: normalised all the same.
    assert_eq!(
        chain!(client.V3.complaintsV2._; unchecked),
        "v3/complaints-v2/_"
    );
    assert_eq!(
        chain!(client.v3.r#return.type.r#match; unchecked),
        "v3/return/type/match"
    );
    assert_eq!(
        chain!(client.v3.applyment4sub."applyment/"),
        "v3/applyment4sub/applyment/"
    );
    assert_eq!(
        chain!(client.v2.secapi.mch."addInstitutionsub"),
        "v2/secapi/mch/addInstitutionsub"
    );
    assert_eq!(
        chain!(client.v3.bill."1"."x.y-z"; unchecked),
        "v3/bill/1/x.y-z"
    );
}
