//! The one place where the SDK's errors become messages a person can act on: every failed call
//! is classified by its service error code (read from the raw response when the SDK could not
//! parse it), else by how the request failed.

use std::error::Error as StdError;

use aws_sdk_lambda::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_smithy_runtime_api::client::orchestrator::HttpResponse;

use super::Clients;

/// An AWS call that failed, classified by what the user can do about it.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum AwsError {
    #[error("no AWS credentials were found (calling {operation})")]
    #[diagnostic(
        code(socket::aws::no_credentials),
        help(
            "put AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY in `.env` (or `.env.<stage>` for \
             another stage), or set AWS_PROFILE to a profile in ~/.aws (run `aws sso login` first \
             for SSO profiles)"
        )
    )]
    NoCredentials { operation: &'static str },

    #[error("AWS rejected the credentials ({operation}: {message})")]
    #[diagnostic(
        code(socket::aws::bad_credentials),
        help(
            "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN for temporary \
             credentials) in `.env.<stage>` or your profile: they are mistyped, deactivated or expired"
        )
    )]
    BadCredentials {
        operation: &'static str,
        message: String,
    },

    #[error("could not reach {target} ({operation}): {cause}")]
    #[diagnostic(
        code(socket::aws::unreachable),
        help(
            "check the network connection and the region; if AWS_ENDPOINT_URL is set, check that \
             something is listening there. Nothing was lost: run the command again"
        )
    )]
    Unreachable {
        operation: &'static str,
        target: String,
        cause: String,
    },

    #[error("access denied: {operation} ({message})")]
    #[diagnostic(
        code(socket::aws::access_denied),
        help(
            "the AWS identity in use lacks a permission socket needs. Grant it the actions listed \
             in the README (\"Permissions\"): IAM roles, Lambda functions, API Gateway, CloudWatch \
             Logs, DynamoDB; then run the command again: it continues where it stopped"
        )
    )]
    AccessDenied {
        operation: &'static str,
        message: String,
    },

    #[error("AWS kept throttling requests ({operation}: {message})")]
    #[diagnostic(
        code(socket::aws::throttled),
        help(
            "the SDK already retried with backoff; wait a minute and run the command again: it \
             continues where it stopped"
        )
    )]
    Throttled {
        operation: &'static str,
        message: String,
    },

    #[error("a resource disappeared while socket was working on it ({operation}: {message})")]
    #[diagnostic(
        code(socket::aws::vanished),
        help(
            "something else changed or deleted this stage's resources at the same time; run the \
             command again: it reads what exists now and finishes the job"
        )
    )]
    Vanished {
        operation: &'static str,
        message: String,
    },

    #[error("AWS is still applying an earlier change ({operation}: {message})")]
    #[diagnostic(
        code(socket::aws::conflict),
        help("wait a few seconds and run the command again")
    )]
    Conflict {
        operation: &'static str,
        message: String,
    },

    #[error("AWS request timed out ({operation}) talking to {target}")]
    #[diagnostic(
        code(socket::aws::timeout),
        help("check the network connection; then run the command again")
    )]
    Timeout {
        operation: &'static str,
        target: String,
    },

    #[error("{operation} failed: {code}: {message}")]
    #[diagnostic(
        code(socket::aws::failed),
        help("run again with SOCKET_LOG=debug for every AWS call; the command is safe to repeat")
    )]
    Failed {
        operation: &'static str,
        code: String,
        message: String,
    },

    #[error("{what} did not become ready in time")]
    #[diagnostic(
        code(socket::aws::not_ready),
        help("look at the resource in the AWS console; then run the command again")
    )]
    NotReady { what: String },
}

/// Error codes that mean "does not exist" in the services `socket` uses.
const NOT_FOUND: &[&str] = &[
    "ResourceNotFoundException",
    "NotFoundException",
    "NoSuchEntity",
    "NoSuchEntityException",
];

const BAD_CREDENTIALS: &[&str] = &[
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "InvalidSignatureException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidAccessKeyId",
    "AuthFailure",
];

const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
    "Forbidden",
];

const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
    "LimitExceededException",
];

const CONFLICT: &[&str] = &[
    "ResourceConflictException",
    "ConflictException",
    "ConcurrentModificationException",
    // DynamoDB: the table is being created, updated or deleted.
    "ResourceInUseException",
];

/// Whether a failed call means the resource does not exist.
pub fn is_not_found<E>(err: &SdkError<E, HttpResponse>) -> bool
where
    E: ProvideErrorMetadata,
{
    service_error(err).is_some_and(|(code, _)| NOT_FOUND.contains(&code.as_str()))
}

/// The error code and message of a service error response.
///
/// The SDK parses them for each protocol; when it cannot (a proxy or a local AWS answering in
/// another protocol's error format), the raw response is read: `<Code>` (XML) or `__type`/`code`
/// (JSON), else the HTTP status.
fn service_error<E>(err: &SdkError<E, HttpResponse>) -> Option<(String, String)>
where
    E: ProvideErrorMetadata,
{
    let service = err.as_service_error()?;
    if let Some(code) = service.code() {
        return Some((
            code.to_owned(),
            service.message().unwrap_or_default().to_owned(),
        ));
    }
    let raw = err.raw_response()?;
    let body = raw
        .body()
        .bytes()
        .map(String::from_utf8_lossy)
        .unwrap_or_default();
    let message = xml_element(&body, "Message")
        .or_else(|| json_field(&body, "message"))
        .or_else(|| json_field(&body, "Message"))
        .unwrap_or_default();
    let code = xml_element(&body, "Code")
        .or_else(|| json_field(&body, "__type"))
        .or_else(|| json_field(&body, "code"))
        .map(|c| c.rsplit('#').next().unwrap_or(&c).to_owned())
        .unwrap_or_else(|| match raw.status().as_u16() {
            403 => "AccessDenied".to_owned(),
            404 => "NotFoundException".to_owned(),
            429 => "TooManyRequestsException".to_owned(),
            status => format!("HTTP{status}"),
        });
    Some((code, message))
}

fn xml_element(body: &str, name: &str) -> Option<String> {
    let start = body.find(&format!("<{name}>"))? + name.len() + 2;
    let end = body[start..].find(&format!("</{name}>"))? + start;
    Some(body[start..end].trim().to_owned())
}

fn json_field(body: &str, name: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(body).ok()?;
    value.get(name)?.as_str().map(str::to_owned)
}

/// Classify a failed SDK call. `target` names where the request went (for unreachable errors).
pub fn classify<E>(
    operation: &'static str,
    target: &str,
    err: SdkError<E, HttpResponse>,
) -> AwsError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let chain = DisplayErrorContext(&err).to_string();
    if let Some((code, message)) = service_error(&err) {
        let is = |list: &[&str]| list.contains(&code.as_str());
        return if is(BAD_CREDENTIALS) {
            AwsError::BadCredentials { operation, message }
        } else if is(ACCESS_DENIED) {
            AwsError::AccessDenied { operation, message }
        } else if is(THROTTLED) {
            AwsError::Throttled { operation, message }
        } else if is(NOT_FOUND) {
            AwsError::Vanished { operation, message }
        } else if is(CONFLICT) {
            AwsError::Conflict { operation, message }
        } else {
            AwsError::Failed {
                operation,
                code,
                message,
            }
        };
    }
    // Missing credentials fail before anything is sent: the identity resolver reports them.
    let lower = chain.to_lowercase();
    if !matches!(err, SdkError::ResponseError(_))
        && (lower.contains("no credentials")
            || lower.contains("credential provider")
            || lower.contains("credentials provider"))
    {
        return AwsError::NoCredentials { operation };
    }
    match &err {
        SdkError::TimeoutError(_) => AwsError::Timeout {
            operation,
            target: target.to_owned(),
        },
        SdkError::DispatchFailure(failure) if failure.is_timeout() => AwsError::Timeout {
            operation,
            target: target.to_owned(),
        },
        SdkError::DispatchFailure(failure) => AwsError::Unreachable {
            operation,
            target: target.to_owned(),
            cause: failure
                .as_connector_error()
                .map(|e| innermost(e))
                .unwrap_or(chain),
        },
        SdkError::ResponseError(_) => AwsError::Failed {
            operation,
            code: "UnreadableResponse".into(),
            message: chain,
        },
        _ => AwsError::Failed {
            operation,
            code: "RequestFailed".into(),
            message: chain,
        },
    }
}

/// The most specific cause of an error ("Connection refused (os error 111)").
fn innermost(err: &(dyn StdError + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// `.aws(op, clients)?` and `.found(op, clients)?` on SDK results.
pub trait SdkResultExt<T> {
    /// Any error becomes an [`AwsError`].
    fn aws(self, operation: &'static str, clients: &Clients) -> Result<T, AwsError>;
    /// "Not found" becomes `Ok(None)`; other errors become an [`AwsError`].
    fn found(self, operation: &'static str, clients: &Clients) -> Result<Option<T>, AwsError>;
}

impl<T, E> SdkResultExt<T> for Result<T, SdkError<E, HttpResponse>>
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    fn aws(self, operation: &'static str, clients: &Clients) -> Result<T, AwsError> {
        self.map_err(|err| classify(operation, &clients.target(), err))
    }

    fn found(self, operation: &'static str, clients: &Clients) -> Result<Option<T>, AwsError> {
        match self {
            Ok(value) => Ok(Some(value)),
            Err(err) if is_not_found(&err) => Ok(None),
            Err(err) => Err(classify(operation, &clients.target(), err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    type Response = HttpResponse;

    fn response(status: u16, body: &str) -> Response {
        let status = aws_smithy_runtime_api::http::StatusCode::try_from(status).unwrap();
        HttpResponse::new(status, body.to_owned().into())
    }

    /// A service error as the SDK returns it; `code: None` when it could not parse the body.
    fn error(
        code: Option<&str>,
        status: u16,
        body: &str,
    ) -> SdkError<aws_sdk_iam::operation::get_role::GetRoleError, Response> {
        let mut meta = aws_sdk_iam::error::ErrorMetadata::builder();
        if let Some(code) = code {
            meta = meta.code(code).message("from the SDK");
        }
        let err = aws_sdk_iam::operation::get_role::GetRoleError::generic(meta.build());
        SdkError::service_error(err, response(status, body))
    }

    #[test]
    fn service_errors_are_classified_by_code() {
        let classify = |e| classify("iam:GetRole", "AWS region us-east-1", e);
        assert!(matches!(
            classify(error(Some("AccessDenied"), 403, "")),
            AwsError::AccessDenied { .. }
        ));
        assert!(matches!(
            classify(error(Some("AccessDeniedException"), 403, "")),
            AwsError::AccessDenied { .. }
        ));
        assert!(matches!(
            classify(error(Some("InvalidClientTokenId"), 403, "")),
            AwsError::BadCredentials { .. }
        ));
        assert!(matches!(
            classify(error(Some("ThrottlingException"), 400, "")),
            AwsError::Throttled { .. }
        ));
        assert!(matches!(
            classify(error(Some("NoSuchEntity"), 404, "")),
            AwsError::Vanished { .. }
        ));
        assert!(matches!(
            classify(error(Some("ResourceConflictException"), 409, "")),
            AwsError::Conflict { .. }
        ));
        assert!(is_not_found(&error(
            Some("ResourceNotFoundException"),
            404,
            ""
        )));
        assert!(!is_not_found(&error(Some("AccessDenied"), 403, "")));
    }

    #[test]
    fn unparsed_error_bodies_are_read_for_their_code() {
        let classify = |e| classify("lambda:GetFunction", "AWS region us-east-1", e);
        // Another protocol's XML (as some local AWS implementations and proxies answer).
        let xml = "<ErrorResponse><Errors><Error><Code>AccessDenied</Code><Message>no</Message></Error></Errors></ErrorResponse>";
        match classify(error(None, 403, xml)) {
            AwsError::AccessDenied { message, .. } => assert_eq!(message, "no"),
            other => panic!("{other:?}"),
        }
        let json =
            r#"{"__type": "com.amazon.coral#UnrecognizedClientException", "message": "bad key"}"#;
        assert!(matches!(
            classify(error(None, 403, json)),
            AwsError::BadCredentials { .. }
        ));
        assert!(matches!(
            classify(error(None, 429, "")),
            AwsError::Throttled { .. }
        ));
        assert!(matches!(
            classify(error(None, 403, "")),
            AwsError::AccessDenied { .. }
        ));
        assert!(is_not_found(&error(None, 404, "")));
    }
}
