//! Many merchants in one process (a service provider, a platform): one `Client` per merchant,
//! each with its own keys, all sharing the process's runtime thread and the connection pool.
//!
//! ```text
//! cargo run --example many_merchants
//! ```
//!
//! Runs against the built-in mock server (every merchant here uses the mock's test keys).

use std::collections::HashMap;

use serde_json::json;
use wechatpay::Client;
use wechatpay::mock::{MockServer, Reply};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    mock.on(
        "GET",
        "/v3/pay/transactions/out-trade-no/1217752501201407033233368018",
        Reply::json(200, json!({"trade_state": "SUCCESS"})),
    );

    // Build each client once, at start-up, and keep them: `build()` parses the keys, and a
    // client is cheap to clone and share between threads.
    let mut clients: HashMap<String, Client> = HashMap::new();
    for shop in ["shop-a", "shop-b", "shop-c"] {
        // In production: .mchid(…).serial(…).private_key(…).platform_key(…) per merchant.
        clients.insert(shop.to_owned(), mock.client_builder().build()?);
    }

    std::thread::scope(|scope| {
        for (shop, client) in &clients {
            scope.spawn(move || {
                let answer = client["v3/pay/transactions/out-trade-no/{out_trade_no}"].get(json!({
                    "out_trade_no": "1217752501201407033233368018",
                    "query": {"mchid": client.mchid()},
                }));
                match answer {
                    Ok(response) => println!("{shop}: {}", response.text().unwrap_or_default()),
                    Err(error) => println!("{shop}: {error}"),
                }
            });
        }
    });
    Ok(())
}
