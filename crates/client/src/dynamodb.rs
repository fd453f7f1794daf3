//! Signed calls to DynamoDB's JSON 1.0 API (`POST /`, `X-Amz-Target: DynamoDB_20120810.<Op>`) on
//! the same pooled HTTP/1 client as the management API — no SDK, so a function's zip and cold
//! start stay as they were. Throttling and 5xx answers are retried with backoff.
//!
//! The same calls can be answered by an in-memory [`MemoryTables`] (handler unit tests).

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::Full;
use hyper::{Method, Request, Uri};
use serde_json::Value;

use crate::backoff;
use crate::credentials::{non_empty_env, Credentials, Signing};
use crate::endpoints::dynamodb_endpoint;
use crate::https;
use crate::memory_tables::MemoryTables;
use crate::sigv4;

/// DynamoDB's signing name.
const SERVICE: &str = "dynamodb";
const CONTENT_TYPE: &str = "application/x-amz-json-1.0";
const TARGET_PREFIX: &str = "DynamoDB_20120810.";
/// The error codes that mean "slow down": retried with backoff.
const THROTTLING_CODES: &[&str] = &[
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "LimitExceededException",
    "InternalServerError",
];

/// Why a DynamoDB call failed.
#[derive(Clone, Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DynamoDbError {
    /// DynamoDB answered with an error: `code` is the `__type` after its `#`, e.g.
    /// `ResourceNotFoundException`, `ValidationException`, `ConditionalCheckFailedException`.
    #[error("DynamoDB {operation} answered {status} {code}: {message}")]
    Service {
        /// The operation, e.g. `Query`.
        operation: &'static str,
        /// The HTTP status.
        status: u16,
        /// The error code.
        code: String,
        /// DynamoDB's message.
        message: String,
    },
    /// The request could not be sent or its answer not read.
    #[error("could not reach DynamoDB at {endpoint}: {message}")]
    Transport {
        /// The endpoint called.
        endpoint: String,
        /// What went wrong.
        message: String,
    },
    /// No credentials to sign with.
    #[error("cannot sign the DynamoDB request: {0} (Lambda sets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY and AWS_SESSION_TOKEN; set them when running elsewhere)")]
    Credentials(String),
    /// The endpoint is not a usable `http(s)://host[/path]` URL.
    #[error("invalid DynamoDB endpoint {endpoint:?}: {reason} (check SOCKET_REGISTRY_ENDPOINT)")]
    Endpoint {
        /// The endpoint given.
        endpoint: String,
        /// What is wrong with it.
        reason: String,
    },
}

impl DynamoDbError {
    /// The `__type` code of a service error.
    pub fn code(&self) -> Option<&str> {
        match self {
            DynamoDbError::Service { code, .. } => Some(code),
            _ => None,
        }
    }

    /// Throttling, a 5xx or a lost connection: worth another try.
    fn is_retryable(&self) -> bool {
        match self {
            DynamoDbError::Service { status, code, .. } => {
                *status >= 500 || THROTTLING_CODES.contains(&code.as_str())
            }
            DynamoDbError::Transport { .. } => true,
            _ => false,
        }
    }

    /// A service error built from an error answer's status and body.
    pub(crate) fn from_answer(operation: &'static str, status: u16, body: &[u8]) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let field = |name: &str| {
            parsed
                .as_ref()
                .and_then(|json| json.get(name))
                .and_then(Value::as_str)
                .map(str::to_string)
        };
        let code = field("__type")
            .map(|kind| kind.rsplit('#').next().unwrap_or_default().to_string())
            .unwrap_or_else(|| format!("HTTP{status}"));
        let message = field("message")
            .or_else(|| field("Message"))
            .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
        DynamoDbError::Service {
            operation,
            status,
            code,
            message,
        }
    }

    /// A service error as DynamoDB would send it (for in-process tables).
    pub(crate) fn service(operation: &'static str, code: &str, message: impl Into<String>) -> Self {
        DynamoDbError::Service {
            operation,
            status: 400,
            code: code.to_string(),
            message: message.into(),
        }
    }
}

/// A DynamoDB endpoint and how to sign for it. Cheap to clone.
#[derive(Clone, Debug)]
pub struct DynamoDb {
    transport: Transport,
}

#[derive(Clone, Debug)]
enum Transport {
    Http(Arc<HttpEndpoint>),
    Memory(Arc<MemoryTables>),
}

#[derive(Debug)]
struct HttpEndpoint {
    endpoint: String,
    uri: Uri,
    host: String,
    region: String,
    /// `None`: every call fails with [`DynamoDbError::Credentials`].
    credentials: Option<Credentials>,
}

impl DynamoDb {
    /// DynamoDB at `endpoint` (e.g. `https://dynamodb.eu-west-1.amazonaws.com`, or a local
    /// `http://127.0.0.1:3111/@dynamodb` — requests go to the endpoint's path), signed for
    /// `region` with `credentials` (`None`: calls fail with [`DynamoDbError::Credentials`]).
    pub fn new(
        endpoint: &str,
        region: &str,
        credentials: Option<Credentials>,
    ) -> Result<Self, DynamoDbError> {
        let endpoint = endpoint.trim().to_string();
        let invalid = |reason: &str| DynamoDbError::Endpoint {
            endpoint: endpoint.clone(),
            reason: reason.to_string(),
        };
        let uri: Uri = endpoint
            .parse()
            .map_err(|error| invalid(&format!("not a URL ({error})")))?;
        if !matches!(uri.scheme_str(), Some("http" | "https")) {
            return Err(invalid("the scheme must be http:// or https://"));
        }
        let host = uri
            .authority()
            .map(|authority| authority.as_str().to_string())
            .ok_or_else(|| invalid("no host"))?;
        Ok(Self {
            transport: Transport::Http(Arc::new(HttpEndpoint {
                endpoint,
                uri,
                host,
                region: region.to_string(),
                credentials,
            })),
        })
    }

    /// `SOCKET_REGISTRY_ENDPOINT`, else DynamoDB in `AWS_REGION`; the environment's credentials,
    /// read now.
    pub fn from_env() -> Result<Self, DynamoDbError> {
        Self::from_env_signed(&Signing::from_env())
    }

    /// `SOCKET_REGISTRY_ENDPOINT`, else DynamoDB in the signing region (`us-east-1` when none),
    /// signed as `signing` says.
    pub fn from_env_signed(signing: &Signing) -> Result<Self, DynamoDbError> {
        let region = signing.region().unwrap_or("us-east-1");
        let endpoint = non_empty_env(socket_protocol::env::REGISTRY_ENDPOINT)
            .unwrap_or_else(|| dynamodb_endpoint(region));
        Self::new(&endpoint, region, signing.credentials().cloned())
    }

    /// Calls answered by `table` in this process instead of a server.
    pub fn in_memory(table: Arc<MemoryTables>) -> Self {
        Self {
            transport: Transport::Memory(table),
        }
    }

    /// The endpoint, or `memory` for an in-process table.
    pub fn endpoint(&self) -> &str {
        match &self.transport {
            Transport::Http(http) => &http.endpoint,
            Transport::Memory(_) => "memory",
        }
    }

    /// Calls `operation` (e.g. `PutItem`) with `body`, retrying throttling, 5xx and lost
    /// connections with backoff (at most [`backoff::MAX_TRIES`] tries); the answer's JSON.
    pub async fn call(
        &self,
        operation: &'static str,
        body: &Value,
    ) -> Result<Value, DynamoDbError> {
        let mut tries = 0;
        loop {
            tries += 1;
            let outcome = match &self.transport {
                Transport::Http(http) => http.call(operation, body).await,
                Transport::Memory(table) => table.handle(operation, body),
            };
            match outcome {
                Err(error) if error.is_retryable() && tries < backoff::MAX_TRIES => {
                    tracing::debug!(%error, tries, "retrying DynamoDB {operation}");
                    backoff::wait(tries).await;
                }
                other => return other,
            }
        }
    }
}

impl HttpEndpoint {
    async fn call(&self, operation: &'static str, body: &Value) -> Result<Value, DynamoDbError> {
        let request = self.signed_request(operation, body)?;
        let transport_error = |message: String| DynamoDbError::Transport {
            endpoint: self.endpoint.clone(),
            message,
        };
        let (status, answer) = https::exchange(request).await.map_err(transport_error)?;
        if !(200..300).contains(&status) {
            return Err(DynamoDbError::from_answer(operation, status, &answer));
        }
        serde_json::from_slice(&answer).map_err(|error| {
            transport_error(format!("the {operation} answer is not JSON: {error}"))
        })
    }

    fn signed_request(
        &self,
        operation: &'static str,
        body: &Value,
    ) -> Result<Request<Full<Bytes>>, DynamoDbError> {
        let body = Bytes::from(serde_json::to_vec(body).unwrap_or_default());
        let credentials = self.credentials.as_ref().ok_or_else(|| {
            DynamoDbError::Credentials(
                "AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set".into(),
            )
        })?;
        let target = format!("{TARGET_PREFIX}{operation}");
        let epoch_seconds = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default();
        let path = match self.uri.path() {
            "" => "/",
            path => path,
        };
        let signed = sigv4::sign_with_headers(
            &sigv4::Request {
                method: "POST",
                host: &self.host,
                path,
                content_type: Some(CONTENT_TYPE),
                body: &body,
            },
            &[("x-amz-target", &target)],
            &sigv4::Credentials {
                access_key_id: &credentials.access_key_id,
                secret_access_key: &credentials.secret_access_key,
                session_token: credentials.session_token.as_deref(),
            },
            &self.region,
            SERVICE,
            epoch_seconds,
        );
        let mut builder = Request::builder()
            .method(Method::POST)
            .uri(self.uri.clone())
            .header("host", &self.host)
            .header("content-type", CONTENT_TYPE)
            .header("x-amz-target", target)
            .header("x-amz-date", signed.amz_date)
            .header("authorization", signed.authorization);
        if let Some(token) = signed.security_token {
            builder = builder.header("x-amz-security-token", token);
        }
        builder
            .body(Full::new(body))
            .map_err(|error| DynamoDbError::Endpoint {
                endpoint: self.endpoint.clone(),
                reason: error.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_code_is_the_type_after_its_hash() {
        let error = DynamoDbError::from_answer(
            "GetItem",
            400,
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"Requested resource not found"}"#,
        );
        assert_eq!(error.code(), Some("ResourceNotFoundException"));
        assert!(!error.is_retryable());
        assert!(error.to_string().contains("Requested resource not found"));

        let throttled = DynamoDbError::from_answer(
            "Query",
            400,
            br#"{"__type":"com.amazonaws.dynamodb.v20120810#ThrottlingException","Message":"slow down"}"#,
        );
        assert!(throttled.is_retryable());
        let unavailable = DynamoDbError::from_answer("Query", 503, b"Service Unavailable");
        assert_eq!(unavailable.code(), Some("HTTP503"));
        assert!(unavailable.is_retryable());
    }

    #[test]
    fn endpoints_must_be_http_urls() {
        assert!(DynamoDb::new("http://127.0.0.1:3111/@dynamodb", "us-east-1", None).is_ok());
        for bad in ["127.0.0.1:3111", "ftp://dynamo", "not a url"] {
            assert!(
                matches!(
                    DynamoDb::new(bad, "us-east-1", None),
                    Err(DynamoDbError::Endpoint { .. })
                ),
                "{bad}"
            );
        }
    }
}
