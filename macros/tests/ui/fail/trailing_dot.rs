use wechatpay_macros::chain;

struct Client;

fn main() {
    let client = Client;
    chain!(client.v3.);
}
