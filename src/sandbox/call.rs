//! A correctly signed request as the state machines read it (path segments, query, JSON body
//! or APIv2 fields, the calling merchant), and the answers they give (WeChat Pay's errors).

use http::Method;
use serde_json::{Value, json};

use crate::mock::Reply;
use crate::mock::engine::Inbound;
use crate::protocol::Api;
use crate::uri::percent_decode_bytes;
use crate::v2::merchant_field;
use crate::v3::sign::parse_authorization;
use crate::xml::{self, XmlMap};

/// A request that passed the checks.
pub(crate) struct Call<'a> {
    pub method: &'a Method,
    /// The path segments, percent-decoded, without the leading empty one.
    pub segments: Vec<String>,
    pub query: Vec<(String, String)>,
    /// The JSON body (APIv3), `Null` when there is none.
    pub json: Value,
    /// The fields (APIv2).
    pub fields: XmlMap,
    /// The calling merchant: the `mchid` of the `Authorization` (APIv3), the `mch_id` field
    /// (APIv2).
    pub mchid: String,
    /// `http://host:port` as the client addressed the sandbox.
    pub origin: String,
    pub api: Api,
}

impl<'a> Call<'a> {
    pub(crate) fn parse(request: &Inbound<'a>) -> Self {
        let api = Api::of_wire_path(request.path);
        let segments = request
            .path
            .trim_start_matches('/')
            .split('/')
            .map(|segment| lossy(percent_decode_bytes(segment, false)))
            .collect();
        let query = crate::uri::query_pairs(request.target, false)
            .map(|(key, value)| (lossy(key), lossy(value)))
            .collect();
        let json = serde_json::from_slice(request.body).unwrap_or(Value::Null);
        let fields = match api {
            Api::V2 => xml::parse(request.body).unwrap_or_default(),
            Api::V3 => XmlMap::new(),
        };
        let mchid = match api {
            Api::V3 => request
                .headers
                .get(http::header::AUTHORIZATION)
                .and_then(|value| value.to_str().ok())
                .and_then(|value| parse_authorization(value).ok())
                .map(|authorization| authorization.mchid.to_owned()),
            Api::V2 => {
                merchant_field(&fields).and_then(|(_, value)| value.as_str().map(str::to_owned))
            }
        }
        .unwrap_or_default();
        let host = request
            .headers
            .get(http::header::HOST)
            .and_then(|value| value.to_str().ok())
            .unwrap_or("127.0.0.1");
        let scheme = if request.client_certificate {
            "https"
        } else {
            "http"
        };
        Self {
            method: request.method,
            segments,
            query,
            json,
            fields,
            mchid,
            origin: format!("{scheme}://{host}"),
            api,
        }
    }

    /// A query parameter.
    pub(crate) fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }

    /// A string field of the JSON body at `pointer` (`/amount/currency`).
    pub(crate) fn text(&self, pointer: &str) -> Option<&str> {
        self.json.pointer(pointer).and_then(Value::as_str)
    }

    /// A string field the model needs: `400 PARAM_ERROR` naming it when it is missing.
    pub(crate) fn required(&self, pointer: &str) -> Result<&str, Refusal> {
        self.text(pointer)
            .filter(|text| !text.is_empty())
            .ok_or_else(|| missing(pointer))
    }

    /// An integer field the model needs (an amount in fen).
    pub(crate) fn amount(&self, pointer: &str) -> Result<i64, Refusal> {
        match self.json.pointer(pointer) {
            None | Some(Value::Null) => Err(missing(pointer)),
            Some(value) => value.as_i64().filter(|amount| *amount > 0).ok_or_else(|| {
                param_error(&format!(
                    "输入源“/body{pointer}”映射到字段“{}”类型校验失败: {value} is not a positive \
                     integer amount in fen",
                    field_name(pointer)
                ))
            }),
        }
    }

    /// An APIv2 field the model needs.
    pub(crate) fn field(&self, name: &str) -> Result<&str, Refusal> {
        self.fields
            .get_str(name)
            .filter(|value| !value.is_empty())
            .ok_or_else(|| Refusal::v2_fail(format!("缺少参数{name}: the request has no `{name}`")))
    }
}

fn lossy(bytes: Vec<u8>) -> String {
    String::from_utf8(bytes).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

fn field_name(pointer: &str) -> String {
    pointer.trim_start_matches('/').replace('/', ".")
}

/// `400 PARAM_ERROR` for a field the model needs and the request lacks.
pub(crate) fn missing(pointer: &str) -> Refusal {
    param_error(&format!(
        "输入源“/body{pointer}”映射到字段“{}”必填性规则校验失败，此字段为必填项",
        field_name(pointer)
    ))
}

/// `400 PARAM_ERROR` with `message`.
pub(crate) fn param_error(message: &str) -> Refusal {
    Refusal::new(400, "PARAM_ERROR", message)
}

/// A WeChat Pay error answer.
pub(crate) fn error(status: u16, code: &str, message: &str) -> Reply {
    Reply::error(status, code, message)
}

/// `200` with a JSON body.
pub(crate) fn ok(body: Value) -> Reply {
    Reply::json(200, body)
}

/// `204`, no body.
pub(crate) fn no_content() -> Reply {
    Reply::status(204)
}

/// An APIv2 answer whose call failed (`return_code` FAIL).
pub(crate) fn v2_fail(message: &str) -> Reply {
    Reply::xml(200, json!({"return_code": "FAIL", "return_msg": message}))
}

/// An APIv2 answer whose business result failed (`result_code` FAIL, `err_code`).
pub(crate) fn v2_error(code: &str, description: &str) -> Reply {
    Reply::xml(
        200,
        json!({
            "return_code": "SUCCESS", "return_msg": "OK", "result_code": "FAIL",
            "err_code": code, "err_code_des": description,
        }),
    )
}

/// Why an action is refused: WeChat Pay's status, code and message (also used by the
/// control API, whose errors have the same shape), answered as JSON or, for APIv2, XML.
#[derive(Debug)]
pub(crate) struct Refusal {
    pub status: u16,
    pub code: &'static str,
    pub message: String,
    format: Format,
}

/// How a refusal is answered.
#[derive(Debug, Clone, Copy)]
enum Format {
    Json,
    /// APIv2 `return_code` FAIL.
    V2Fail,
    /// APIv2 `result_code` FAIL with an `err_code`.
    V2Error,
}

impl Refusal {
    pub(crate) fn new(status: u16, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            format: Format::Json,
        }
    }

    /// An APIv2 call that failed (`return_code` FAIL).
    pub(crate) fn v2_fail(message: impl Into<String>) -> Self {
        Self {
            format: Format::V2Fail,
            ..Self::new(200, "FAIL", message)
        }
    }

    /// An APIv2 call whose business result failed (`err_code`).
    pub(crate) fn v2_error(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            format: Format::V2Error,
            ..Self::new(200, code, message)
        }
    }

    /// The refusal as WeChat Pay answers it.
    pub(crate) fn reply(&self) -> Reply {
        match self.format {
            Format::Json => error(self.status, self.code, &self.message),
            Format::V2Fail => v2_fail(&self.message),
            Format::V2Error => v2_error(self.code, &self.message),
        }
    }
}
