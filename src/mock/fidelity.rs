//! What WeChat Pay answers before looking at a request's signature: `404` for a path that is
//! no operation of its API (`/`, a typo, `/favicon.ico`), and nginx's `400` for an APIv2 call
//! that needs the merchant certificate (mutual TLS) and came without one.

use http::Method;

use super::rules::Reply;
use crate::endpoints::{self, Api};

/// WeChat Pay's answer to a path that is no operation of its API: `404 NOT_FOUND`
/// (请求的资源不存在), with the method and path in the message.
pub(crate) fn not_found(method: &Method, path: &str) -> Reply {
    Reply::error(
        404,
        "NOT_FOUND",
        &format!(
            "请求的资源不存在: no documented WeChat Pay operation is {method} {path}; check the \
             path (`wechatpay endpoints WORDS` lists the documented ones)"
        ),
    )
}

/// The answer of WeChat Pay's nginx to a mutual-TLS call without a client certificate
/// (reported by merchants: `400 No required SSL certificate was sent`).
fn no_certificate() -> Reply {
    Reply::status(400)
        .header("Content-Type", "text/html")
        .header("Server", "nginx")
        .body(
            "<html>\r\n<head><title>400 No required SSL certificate was sent</title></head>\r\n\
             <body>\r\n<center><h1>400 Bad Request</h1></center>\r\n\
             <center>No required SSL certificate was sent</center>\r\n\
             <hr><center>nginx</center>\r\n</body>\r\n</html>\r\n",
        )
}

/// Why WeChat Pay refuses an APIv2 request before checking its `sign`, and its answer: a
/// path that is no documented APIv2 operation, or a mutual-TLS operation called without a
/// client certificate. `None` when neither holds.
pub(super) fn v2_refusal(
    method: &Method,
    path: &str,
    client_certificate: bool,
) -> Option<(String, Reply)> {
    let Some(endpoint) = documented_v2(path) else {
        return Some((
            format!("404: no documented WeChat Pay operation at {path}"),
            not_found(method, path),
        ));
    };
    let mutual_tls = endpoint.request_fields().contains(&"security");
    if mutual_tls && !client_certificate {
        return Some((
            format!(
                "400: {} needs the merchant certificate (mutual TLS, `security: true`) and none \
                 was presented: send it to the TLS port",
                endpoint.template()
            ),
            no_certificate(),
        ));
    }
    None
}

/// The documented APIv2 operation at the wire path `path` (`/pay/unifiedorder`): a template
/// whose literal segments are the path's and whose variables take any segment.
fn documented_v2(path: &str) -> Option<&'static endpoints::Endpoint> {
    let wanted: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    endpoints::all().iter().find(|endpoint| {
        endpoint.api() == Api::V2
            && endpoint
                .template()
                .strip_prefix("v2/")
                .is_some_and(|template| fits(template, &wanted))
    })
}

fn fits(template: &str, path: &[&str]) -> bool {
    let mut segments = template.split('/');
    let fit = path.iter().all(|given| match segments.next() {
        Some(segment) if segment.starts_with('{') => !given.is_empty(),
        Some(segment) => segment == *given,
        None => false,
    });
    fit && segments.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documented_v2_paths_and_the_rest() {
        assert!(v2_refusal(&Method::POST, "/pay/unifiedorder", false).is_none());
        let (why, reply) = v2_refusal(&Method::GET, "/", false).unwrap();
        assert!(why.starts_with("404"), "{why}");
        assert_eq!(reply.status, 404);
        assert!(v2_refusal(&Method::GET, "/favicon.ico", false).is_some());
        let (why, reply) = v2_refusal(&Method::POST, "/secapi/pay/refund", false).unwrap();
        assert!(why.contains("mutual TLS"), "{why}");
        assert_eq!(reply.status, 400);
        assert!(v2_refusal(&Method::POST, "/secapi/pay/refund", true).is_none());
    }
}
