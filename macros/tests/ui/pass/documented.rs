// Documented endpoints expand without a warning, whatever the names of their variables.
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
        chain!(client.v3.pay.transactions.jsapi),
        "v3/pay/transactions/jsapi"
    );
    assert_eq!(
        chain!(client.v3.pay.transactions.id._transaction_id_),
        "v3/pay/transactions/id/{transaction_id}"
    );
    // A variable of another name stands for the documented one.
    assert_eq!(
        chain!(client.v3.pay.transactions.id._id_),
        "v3/pay/transactions/id/{id}"
    );
    assert_eq!(
        chain!(client.v3.refund.domestic.refunds._out_refund_no_),
        "v3/refund/domestic/refunds/{out_refund_no}"
    );
    // The docs' `_empty_` trick is the literal trailing slash.
    assert_eq!(
        chain!(client.v3.applyment4sub."applyment/"),
        "v3/applyment4sub/applyment/"
    );
    // A path that does not start with `v2`/`v3` extends a chain: it ends a documented one.
    assert_eq!(
        chain!((client).pay.transactions.jsapi),
        "pay/transactions/jsapi"
    );
    // APIv2, and a segment the docs write as a variable named after it.
    assert_eq!(chain!(client.v2.pay.unifiedorder), "v2/pay/unifiedorder");
    assert_eq!(
        chain!(client.v2.secapi.mch."addInstitutionsub"),
        "v2/secapi/mch/addInstitutionsub"
    );
}
