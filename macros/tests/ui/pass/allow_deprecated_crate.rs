// `#![allow(deprecated)]` at the crate root silences the check in the whole crate.
#![deny(warnings)]
#![allow(deprecated)]

use wechatpay_macros::chain;

struct Client;

impl Client {
    fn chain_raw(&self, p: &str) -> String {
        p.to_string()
    }
}

mod inner {
    pub fn thing(client: &super::Client) -> String {
        wechatpay_macros::chain!(client.v3.private.thing)
    }
}

fn main() {
    let client = Client;
    assert_eq!(chain!(client.v3.new.thing), "v3/new/thing");
    assert_eq!(inner::thing(&client), "v3/private/thing");
}
