//! An image upload (图片上传): a multipart body whose `meta` JSON (file name and SHA-256) is
//! what the request signature covers.
//!
//! ```text
//! cargo run --example media_upload
//! ```
//!
//! Runs against the built-in mock server, which checks the signature over `meta` and the
//! file's digest like WeChat Pay.

use serde_json::{Value, json};
use wechatpay::Media;
use wechatpay::mock::{MockServer, Reply};

/// A 1×1 PNG, so the example needs no file.
const PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4,
    0x89, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0xf0,
    0x1f, 0x00, 0x05, 0x00, 0x01, 0xff, 0x89, 0x99, 0x3d, 0x1d, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45,
    0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mock = MockServer::start()?;
    mock.on(
        "POST",
        "/v3/merchant/media/upload",
        Reply::json(
            200,
            json!({"media_id": "H1ihR9h1uVgqZC8r_nUhfBCfYjlWcG5H6pGhqoGn0L0"}),
        ),
    );
    let client = mock.client_builder().build()?;

    // `Media::from_file("logo.png")?` reads a file; from_bytes takes bytes in memory.
    let uploaded: Value = client["v3/merchant/media/upload"]
        .post(Media::from_bytes("logo.png", PNG))?
        .json()?;
    println!("media_id: {}", uploaded["media_id"]);

    let sent = &mock.requests()[0];
    println!(
        "the mock checked the signature over meta {}: {:?}",
        sent.media
            .as_ref()
            .map(|media| media.meta.as_str())
            .unwrap_or_default(),
        sent.verdict
    );
    Ok(())
}
