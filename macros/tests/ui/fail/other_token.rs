use wechatpay_macros::chain;

struct Client;

fn main() {
    let client = Client;
    chain!(client.v3.-pay);
    chain!(crate::CLIENT.v3);
    chain!("client".v3);
}
