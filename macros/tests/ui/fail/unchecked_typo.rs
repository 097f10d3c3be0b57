use wechatpay_macros::chain;

struct Client;

fn main() {
    let client = Client;
    chain!(client.v3.new.thing; uncheked);
    chain!(client.v3.new.thing;);
    chain!(client.v3.new.thing; unchecked extra);
}
