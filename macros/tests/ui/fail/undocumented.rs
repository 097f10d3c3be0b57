// An undocumented path warns, naming the nearest documented ones; `deny` makes it an error
// so that its text is checked here.
#![deny(deprecated)]

use wechatpay_macros::chain;

struct Client;

impl Client {
    fn chain_raw(&self, p: &str) -> String {
        p.to_string()
    }
}

fn main() {
    let client = Client;
    chain!(client.v3.pay.transactons.jsapi);
    chain!(client.v3.pay.transactions.jsapi.extra);
    chain!(client.v3.refund.domestic.refund._out_refund_no_);
    chain!(client.v3.applyment4sub.applyment._empty_);
    chain!(client.v3.pay.transactions.id."4200000001");
    chain!(client.v3.brand.new.thing.entirely);
    chain!(client.pay.transactons.jsapi);
    chain!(client.v3.pay.transactions);
}
