#![deny(warnings)]

use wechatpay_macros::chain;

struct Client;

impl Client {
    fn chain_raw(&self, p: &str) -> String {
        p.to_string()
    }

    fn transactions(&self) -> String {
        chain!(self.v3.pay.transactions.outTradeNo._out_trade_no_)
    }
}

struct State {
    client: Client,
}

macro_rules! certificates {
    ($client:expr) => {
        chain!($client.v3.certificates)
    };
}

fn main() {
    let state = State { client: Client };
    let clients = [Client, Client];
    assert_eq!(
        state.client.transactions(),
        "v3/pay/transactions/out-trade-no/{out_trade_no}"
    );
    assert_eq!(chain!((state.client).v3.certificates), "v3/certificates");
    assert_eq!(chain!((clients[0]).v3.bill.tradebill), "v3/bill/tradebill");
    assert_eq!(
        chain!((&clients[1]).V3.MerchantService.complaintsV2),
        "v3/merchant-service/complaints-v2"
    );
    assert_eq!(certificates!(state.client), "v3/certificates");
    assert_eq!(certificates!(clients[1]), "v3/certificates");
}
