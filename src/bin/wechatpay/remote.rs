//! The subcommands of `wechatpay sandbox` that drive a running sandbox through its control
//! API (`/_sandbox/…` on its plain port): the payer's and WeChat Pay's actions, the clock,
//! the request log, the deliveries.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use serde_json::{Value, json};

use crate::{Failure, Outcome, output};

/// Where the sandbox is.
#[derive(Debug, clap::Args)]
pub struct Remote {
    /// The sandbox's base URI, as it printed it [env: WECHATPAY_BASE_URI].
    #[arg(
        id = "sandbox_uri",
        long = "base-uri",
        value_name = "URI",
        env = "WECHATPAY_BASE_URI",
        hide_env = true
    )]
    base_uri: String,
}

/// Subcommands for a running sandbox.
#[derive(Debug, clap::Subcommand)]
pub enum Command {
    /// The payer acts on an unpaid order: pays it (TRANSACTION.SUCCESS is sent), or not.
    Pay {
        /// The order's out_trade_no (or a combined order's combine_out_trade_no).
        out_trade_no: String,
        /// What the payer does.
        #[arg(long, value_parser = ["SUCCESS", "PAYERROR", "CLOSED"], default_value = "SUCCESS")]
        result: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// WeChat Pay settles a refund (REFUND.SUCCESS, ABNORMAL or CLOSED is sent).
    Complete {
        /// The refund's out_refund_no.
        out_refund_no: String,
        /// How it ends.
        #[arg(long, value_parser = ["SUCCESS", "ABNORMAL", "CLOSED"], default_value = "SUCCESS")]
        result: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// The recipient of a transfer bill accepts it, or refuses it.
    Confirm {
        /// The bill's out_bill_no.
        out_bill_no: String,
        /// What the recipient does.
        #[arg(long, value_parser = ["SUCCESS", "FAIL"], default_value = "SUCCESS")]
        result: String,
        #[command(flatten)]
        remote: Remote,
    },
    /// Shows the business clock, moves it ahead, or changes its speed.
    Clock {
        /// How far to move it: seconds, or with a unit (90s, 15m, 3h, 2d).
        #[arg(long, value_name = "DURATION")]
        advance: Option<String>,
        /// How many times as fast as the real clock it runs from now on.
        #[arg(long, value_name = "N")]
        time_scale: Option<f64>,
        #[command(flatten)]
        remote: Remote,
    },
    /// The request log, one line each (or in full).
    Requests {
        /// Only the requests that failed a check.
        #[arg(long)]
        refused: bool,
        /// Only the requests whose path contains this text.
        #[arg(long, value_name = "TEXT")]
        path: Option<String>,
        /// How many of the newest.
        #[arg(long, default_value_t = 100)]
        limit: u32,
        /// Headers and bodies too, as JSON.
        #[arg(long)]
        full: bool,
        #[command(flatten)]
        remote: Remote,
    },
    /// The notifications sent to notify_url and every attempt.
    Notifications {
        #[command(flatten)]
        remote: Remote,
    },
    /// Delivers a notification again, now.
    Resend {
        /// The delivery's id (from `notifications`).
        id: u64,
        #[command(flatten)]
        remote: Remote,
    },
    /// Rotates the platform certificate: a new one is listed beside the old and signs from now on.
    Rotate {
        #[command(flatten)]
        remote: Remote,
    },
}

pub fn run(command: Command) -> Outcome {
    match command {
        Command::Pay {
            out_trade_no,
            result,
            remote,
        } => {
            let path = format!("transactions/{}/pay", segment(&out_trade_no));
            print(&remote.call("POST", &path, Some(json!({"result": result})))?);
        }
        Command::Complete {
            out_refund_no,
            result,
            remote,
        } => {
            let path = format!("refunds/{}/complete", segment(&out_refund_no));
            print(&remote.call("POST", &path, Some(json!({"result": result})))?);
        }
        Command::Confirm {
            out_bill_no,
            result,
            remote,
        } => {
            let path = format!("transfer-bills/{}/confirm", segment(&out_bill_no));
            print(&remote.call("POST", &path, Some(json!({"result": result})))?);
        }
        Command::Clock {
            advance,
            time_scale,
            remote,
        } => {
            let mut body = json!({});
            if let Some(advance) = advance {
                body["advance_seconds"] = json!(seconds(&advance)?);
            }
            if let Some(scale) = time_scale {
                body["time_scale"] = json!(scale);
            }
            let clock = if body.as_object().is_some_and(|body| body.is_empty()) {
                remote.call("GET", "clock", None)?
            } else {
                remote.call("POST", "clock", Some(body))?
            };
            print(&clock);
        }
        Command::Requests {
            refused,
            path,
            limit,
            full,
            remote,
        } => {
            let mut query = format!("requests?limit={limit}&summary={}", !full);
            if refused {
                query.push_str("&refused=true");
            }
            if let Some(path) = path {
                query.push_str(&format!(
                    "&path={}",
                    wechatpay::toolkit::rawurlencode(&path)
                ));
            }
            let answer = remote.call("GET", &query, None)?;
            let requests = answer["data"].as_array().cloned().unwrap_or_default();
            if full {
                print(&Value::Array(requests));
            } else {
                for request in &requests {
                    println!("{}", request_line(request));
                }
            }
        }
        Command::Notifications { remote } => {
            let answer = remote.call("GET", "notifications", None)?;
            for delivery in answer["data"].as_array().into_iter().flatten() {
                println!(
                    "{} {} {} → {} ({}, {} attempts)",
                    delivery["id"],
                    time(&delivery["create_time"]),
                    delivery["event_type"].as_str().unwrap_or_default(),
                    delivery["url"].as_str().unwrap_or_default(),
                    delivery["state"].as_str().unwrap_or_default(),
                    delivery["attempts"].as_array().map_or(0, Vec::len),
                );
                for attempt in delivery["attempts"].as_array().into_iter().flatten() {
                    println!("  {}", attempt_line(delivery, attempt));
                }
            }
        }
        Command::Resend { id, remote } => {
            print(&remote.call("POST", &format!("notifications/{id}/resend"), None)?);
        }
        Command::Rotate { remote } => print(&remote.call("POST", "platform/rotate", None)?),
    }
    Ok(())
}

fn print(value: &Value) {
    output::body(value.to_string().as_bytes());
}

/// A number as a path segment (percent-encoded).
fn segment(text: &str) -> String {
    wechatpay::toolkit::rawurlencode(text)
}

/// `90`, `90s`, `15m`, `3h`, `2d` in seconds.
fn seconds(text: &str) -> Result<f64, Failure> {
    let text = text.trim();
    let (number, unit) = match text.char_indices().last() {
        Some((at, unit)) if unit.is_ascii_alphabetic() => (&text[..at], unit),
        _ => (text, 's'),
    };
    let factor = match unit {
        's' => 1.0,
        'm' => 60.0,
        'h' => 3600.0,
        'd' => 86_400.0,
        _ => 0.0,
    };
    number
        .parse::<f64>()
        .ok()
        .filter(|n| n.is_finite() && *n >= 0.0 && factor > 0.0)
        .map(|n| n * factor)
        .ok_or_else(|| {
            Failure(format!(
                "--advance takes seconds or a duration like 90s, 15m, 3h, 2d, not `{text}`"
            ))
        })
}

/// `HH:MM:SS` of an RFC 3339 time.
fn time(value: &Value) -> &str {
    value
        .as_str()
        .and_then(|time| time.get(11..19))
        .unwrap_or("--:--:--")
}

/// A logged request in one line: time, method, target, status, verdict.
pub fn request_line(request: &Value) -> String {
    let query = request["query"].as_str().unwrap_or_default();
    format!(
        "{} {} {}{}{} {} {}",
        time(&request["time"]),
        request["method"].as_str().unwrap_or_default(),
        request["path"].as_str().unwrap_or_default(),
        if query.is_empty() { "" } else { "?" },
        query,
        request["status"],
        request["verdict"].as_str().unwrap_or_default(),
    )
}

/// A delivery attempt in one line: time, event, URL, attempt, the merchant's answer, and the
/// next retry.
pub fn attempt_line(delivery: &Value, attempt: &Value) -> String {
    let last = delivery["attempts"]
        .as_array()
        .and_then(|attempts| attempts.last())
        .is_some_and(|latest| latest["number"] == attempt["number"]);
    let next = match delivery["next_retry"].as_str() {
        Some(next) if last => format!("; next retry at {}", &next[..19.min(next.len())]),
        _ => String::new(),
    };
    format!(
        "{} {} → {} attempt {}: {}{next}",
        time(&attempt["time"]),
        delivery["event_type"].as_str().unwrap_or_default(),
        delivery["url"].as_str().unwrap_or_default(),
        attempt["number"],
        attempt["verdict"].as_str().unwrap_or_default(),
    )
}

impl Remote {
    /// Calls the control API: `path` under `/_sandbox/`, a JSON body; the JSON answered, or
    /// the control API's error.
    pub fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<Value, Failure> {
        let base = self.base_uri.trim_end_matches('/');
        let base = base.strip_suffix("/_sandbox").unwrap_or(base);
        let host = base.strip_prefix("http://").ok_or_else(|| {
            Failure(format!(
                "the sandbox's base URI must be its plain http:// one (WECHATPAY_BASE_URI as it \
                 printed it), not `{}`",
                self.base_uri
            ))
        })?;
        let host = host.split('/').next().unwrap_or(host);
        let body = body.map(|body| body.to_string()).unwrap_or_default();
        let mut stream = TcpStream::connect(host).map_err(|e| {
            Failure(format!(
                "cannot reach the sandbox at {host}: {e} (is it running?)"
            ))
        })?;
        stream.set_read_timeout(Some(Duration::from_secs(30)))?;
        write!(
            stream,
            "{method} /_sandbox/{path} HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )?;
        let mut answer = Vec::new();
        stream.read_to_end(&mut answer)?;
        let text = String::from_utf8_lossy(&answer);
        let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
        let status: u16 = head
            .split_whitespace()
            .nth(1)
            .and_then(|status| status.parse().ok())
            .unwrap_or(0);
        let json: Value = serde_json::from_str(body).unwrap_or(Value::Null);
        if (200..300).contains(&status) {
            return Ok(json);
        }
        Err(Failure(format!(
            "the sandbox answered {status} {}: {}",
            json["code"].as_str().unwrap_or_default(),
            json["message"].as_str().unwrap_or(body)
        )))
    }
}
