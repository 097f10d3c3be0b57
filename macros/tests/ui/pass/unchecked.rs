// `; unchecked` accepts a path that is not a documented endpoint, without a warning.
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
    assert_eq!(chain!(client.v3.new.thing; unchecked), "v3/new/thing");
    assert_eq!(
        chain!(client.v3.pay.transactons.jsapi; unchecked),
        "v3/pay/transactons/jsapi"
    );
    assert_eq!(chain!((&client).v3.pay; unchecked), "v3/pay");
}
