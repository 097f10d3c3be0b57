use wechatpay_macros::chain;

struct Client;

fn main() {
    let client = Client;
    chain!(client.v3.bill."tradebill?bill_date=2024-01-01");
    chain!(client.v3."page#top");
}
