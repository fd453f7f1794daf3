//! The HTTP side: `POST /@dynamodb` with DynamoDB's JSON 1.0 protocol.
//!
//! The operation is the `X-Amz-Target` header (`DynamoDB_20120810.<Operation>`), the parameters
//! the JSON body; answers are `application/x-amz-json-1.0`, 200 with the result or 400 with the
//! error. The SigV4 signature is accepted and not verified: the endpoint serves this machine
//! (loopback by default), holds no one's data but the emulator's, and needs no credentials, so
//! the workers' dummy ones work.

use bytes::Bytes;
use http::{header, HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Body;

use super::errors::DynamoError;
use super::operations;
use super::params::Params;
use super::store::Store;
use crate::ids;

/// The endpoint's path on `socket dev`'s port.
pub const PATH: &str = "/@dynamodb";

/// DynamoDB refuses request bodies over 16 MB.
const MAX_REQUEST_BYTES: usize = 16 * 1024 * 1024;

const TARGET_PREFIX: &str = "DynamoDB_20120810.";
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";

/// Whether a request for `path` is the endpoint's. SDKs append the operation path `/` to an
/// endpoint URL that has a path, so `/@dynamodb/` is the same endpoint.
pub fn serves(path: &str) -> bool {
    path.strip_prefix(PATH)
        .is_some_and(|rest| rest.is_empty() || rest == "/")
}

/// Answers one request.
pub async fn handle<B>(store: &Store, request: Request<B>) -> Response<Full<Bytes>>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    match answer(store, request).await {
        Ok(body) => respond(StatusCode::OK, &body),
        Err(error) => respond(StatusCode::BAD_REQUEST, &error.to_json()),
    }
}

async fn answer<B>(store: &Store, request: Request<B>) -> Result<serde_json::Value, DynamoError>
where
    B: Body,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    if request.method() != Method::POST {
        return Err(DynamoError::unknown_operation(format!(
            "{} is not served: send DynamoDB requests as POST {PATH}",
            request.method()
        )));
    }
    let target = request
        .headers()
        .get("x-amz-target")
        .and_then(|value| value.to_str().ok())
        .ok_or_else(|| {
            DynamoError::unknown_operation(format!(
                "The X-Amz-Target header is missing: it names the operation, as {TARGET_PREFIX}<Operation>"
            ))
        })?;
    let operation = target
        .strip_prefix(TARGET_PREFIX)
        .filter(|operation| operations::is_served(operation))
        .ok_or_else(|| {
            DynamoError::unknown_operation(format!("{target} is not an operation served here"))
        })?
        .to_string();
    let body = Limited::new(request.into_body(), MAX_REQUEST_BYTES)
        .collect()
        .await
        .map_err(|_| {
            DynamoError::validation(format!(
                "The request body could not be read (DynamoDB takes at most {MAX_REQUEST_BYTES} bytes)"
            ))
        })?
        .to_bytes();
    let params = Params::parse(&body)?;
    operations::execute(store, &operation, &params)
}

fn respond(status: StatusCode, body: &serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::from(body.to_string())));
    *response.status_mut() = status;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(CONTENT_TYPE));
    if let Ok(id) = HeaderValue::from_str(&ids::lambda_request_id()) {
        headers.insert("x-amzn-requestid", id);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_endpoint_path_with_or_without_a_slash() {
        assert!(serves("/@dynamodb"));
        assert!(serves("/@dynamodb/"));
        assert!(!serves("/@dynamodbx"));
        assert!(!serves("/dev/@dynamodb"));
    }

    async fn send(target: Option<&str>, body: &str) -> (StatusCode, serde_json::Value) {
        let store = Store::new("us-east-1");
        let mut request = Request::post(PATH);
        if let Some(target) = target {
            request = request.header("x-amz-target", target);
        }
        let request = request
            .body(Full::new(Bytes::from(body.to_string())))
            .unwrap();
        let response = handle(&store, request).await;
        assert_eq!(response.headers()[header::CONTENT_TYPE], CONTENT_TYPE);
        let status = response.status();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn requests_need_a_target_and_a_json_body() {
        let (status, body) = send(None, "{}").await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(
            body["__type"],
            "com.amazon.coral.service#UnknownOperationException"
        );
        let (_, body) = send(Some("DynamoDB_20120810.Scan"), "{}").await;
        assert_eq!(
            body["__type"],
            "com.amazon.coral.service#UnknownOperationException"
        );
        let (_, body) = send(Some("DynamoDB_20120810.ListTables"), "not json").await;
        assert_eq!(
            body["__type"],
            "com.amazon.coral.service#SerializationException"
        );
        let (status, body) = send(Some("DynamoDB_20120810.ListTables"), "{}").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(body, serde_json::json!({"TableNames": []}));
        let (_, body) = send(
            Some("DynamoDB_20120810.GetItem"),
            r#"{"TableName":"missing","Key":{"pk":{"S":"a"}}}"#,
        )
        .await;
        assert_eq!(
            body,
            serde_json::json!({
                "__type": "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException",
                "message": "Requested resource not found",
            })
        );
    }
}
