// `#[allow(deprecated)]` on a statement or an item silences the check there.
#![deny(warnings)]

use wechatpay_macros::chain;

struct Client;

impl Client {
    fn chain_raw(&self, p: &str) -> String {
        p.to_string()
    }
}

#[allow(deprecated)]
fn new_thing(client: &Client) -> String {
    chain!(client.v3.new.thing)
}

fn main() {
    let client = Client;
    #[allow(deprecated)]
    let path = chain!(client.v3.pay.transactons.jsapi);
    assert_eq!(path, "v3/pay/transactons/jsapi");
    #[allow(deprecated)]
    chain!(client.v3.other.thing).clear();
    assert_eq!(new_thing(&client), "v3/new/thing");
}
