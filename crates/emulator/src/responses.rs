//! The plain HTTP responses the gateway and the management API answer with.

use bytes::Bytes;
use http::{header, Response, StatusCode};
use http_body_util::Full;

/// `status` with a `text/plain` body.
pub fn text(status: StatusCode, text: &str) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Full::new(Bytes::from(text.to_string())))
        .expect("static response parts")
}

/// `status` with `value` as an `application/json` body.
pub fn json(status: StatusCode, value: &serde_json::Value) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .body(Full::new(Bytes::from(value.to_string())))
        .expect("static response parts")
}

/// `status` with an empty body.
pub fn empty(status: StatusCode) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .body(Full::new(Bytes::new()))
        .expect("static response parts")
}
