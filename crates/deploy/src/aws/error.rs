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
    #[diagnostic(code(socket::aws::access_denied))]
    AccessDenied {
        operation: &'static str,
        message: String,
        /// Names the missing permission ([`access_denied_help`]).
        #[help]
        help: String,
    },

    #[error("AWS kept throttling requests ({operation}: {message})")]
    #[diagnostic(
        code(socket::aws::throttled),
        help(
            "too many requests in this account and region (other tools or deploys share the \
             limit); the SDK already retried with backoff. Wait a minute and run the command \
             again: it continues where it stopped"
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
        code(socket::aws::busy),
        help(
            "an update of this resource is in progress (an earlier deploy, or an edit in the \
             console); wait until it finishes (seconds to a minute) and run the command again"
        )
    )]
    Busy {
        operation: &'static str,
        message: String,
    },

    #[error("the request conflicts with what exists ({operation}: {message})")]
    #[diagnostic(
        code(socket::aws::conflict),
        help(
            "something else (another tool, or a change in the console) made or changed this \
             stage's resources since socket read them; run the command again: it reads what \
             exists now. If it persists, look at the resource named above in the AWS console"
        )
    )]
    Conflict {
        operation: &'static str,
        message: String,
    },

    #[error("an AWS quota was reached ({operation}: {message})")]
    #[diagnostic(
        code(socket::aws::limit),
        help(
            "delete resources this account no longer uses (`socket remove --stage S` for old \
             stages), or ask for a higher quota in the Service Quotas console; then run the \
             command again"
        )
    )]
    LimitExceeded {
        operation: &'static str,
        message: String,
    },

    #[error("AWS rejected the request as invalid ({operation}: {message})")]
    #[diagnostic(
        code(socket::aws::rejected),
        help(
            "check the manifest value the message names (memory 128-10240 MB, timeout at most \
             900 s, env at most 4 KB, route names); if the manifest is right, this is a bug in \
             socket: report it with the output of SOCKET_LOG=debug"
        )
    )]
    Rejected {
        operation: &'static str,
        message: String,
    },

    #[error("AWS failed internally ({operation}: {message})")]
    #[diagnostic(
        code(socket::aws::service),
        help(
            "an error on AWS's side, usually brief (see the AWS Health Dashboard); the command \
             is safe to repeat: run it again in a minute"
        )
    )]
    ServiceError {
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

    #[error("Lambda could not apply the last update of function {name}: {reason}")]
    #[diagnostic(
        code(socket::aws::function_failed),
        help(
            "fix the cause Lambda names (the role, the code or the configuration), then run \
             `socket deploy` again: it updates the function anew"
        )
    )]
    FunctionFailed { name: String, reason: String },

    #[error("API Gateway could not deploy API {api} to stage {stage}: {message}")]
    #[diagnostic(
        code(socket::aws::deployment_failed),
        help(
            "the stage still serves its previous deployment; fix the cause API Gateway names \
             (a route or integration), then run `socket deploy` again"
        )
    )]
    DeploymentFailed {
        api: String,
        stage: String,
        message: String,
    },
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

/// Rate limits (the SDK has retried already).
const THROTTLED: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "TooManyRequestsException",
    "RequestLimitExceeded",
];

/// A change of the same resource is still in progress: Lambda's "An update is in progress"
/// (ResourceConflictException that is not about a name taken), IAM's concurrent modification.
const BUSY: &[&str] = &[
    "ResourceConflictException",
    "ResourceNotReadyException",
    "ConcurrentModification",
    "ConcurrentModificationException",
    // DynamoDB: the table is being created, updated or deleted.
    "ResourceInUseException",
];

/// The request contradicts what exists: API Gateway's ConflictException (a route key that
/// exists), IAM's EntityAlreadyExists and DeleteConflict.
const CONFLICT: &[&str] = &[
    "ConflictException",
    "EntityAlreadyExists",
    "EntityAlreadyExistsException",
    "ResourceInUseException",
    "DeleteConflict",
    "DeleteConflictException",
];

/// Account quotas (not rates): IAM's LimitExceeded, Lambda's code storage.
const LIMIT: &[&str] = &[
    "LimitExceeded",
    "LimitExceededException",
    "CodeStorageExceededException",
    "ServiceQuotaExceededException",
];

const REJECTED: &[&str] = &[
    "BadRequestException",
    "ValidationException",
    "ValidationError",
    "InvalidParameterValueException",
    "InvalidParameterException",
    "InvalidRequestContentException",
    "InvalidInput",
    "MalformedPolicyDocument",
    "MalformedPolicyDocumentException",
    "RequestTooLargeException",
];

const SERVICE: &[&str] = &[
    "ServiceException",
    "ServiceFailure",
    "ServiceUnavailable",
    "ServiceUnavailableException",
    "InternalFailure",
    "InternalServerError",
    "InternalServerException",
    "InternalError",
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

/// What to grant: the action AWS's message names, else the actions the table lists for the
/// call; and where the whole list is.
pub fn access_denied_help(operation: &str, message: &str) -> String {
    let named = crate::permissions::action_in_message(message).map(|a| vec![a]);
    let missing = named.unwrap_or_else(|| crate::permissions::actions_for(operation));
    let grant = match missing.as_slice() {
        [] => "the permission this call needs".to_owned(),
        [one] => format!("`{one}`"),
        many => format!(
            "one of {}",
            many.iter()
                .map(|a| format!("`{a}`"))
                .collect::<Vec<_>>()
                .join(", ")
        ),
    };
    format!(
        "the AWS identity in use lacks {grant}. Grant it every action in the README's \
         \"Permissions\" table (crates/deploy/src/permissions.rs), then run the command again: \
         it continues where it stopped"
    )
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
        // Lambda answers ResourceConflictException both for "in progress" and for a name or
        // statement id that exists.
        let taken = message.contains("already exist");
        return if is(BAD_CREDENTIALS) {
            AwsError::BadCredentials { operation, message }
        } else if is(ACCESS_DENIED) {
            let help = access_denied_help(operation, &message);
            AwsError::AccessDenied {
                operation,
                message,
                help,
            }
        } else if is(THROTTLED) {
            AwsError::Throttled { operation, message }
        } else if is(NOT_FOUND) {
            AwsError::Vanished { operation, message }
        } else if is(CONFLICT) || (is(BUSY) && taken) {
            AwsError::Conflict { operation, message }
        } else if is(BUSY) {
            AwsError::Busy { operation, message }
        } else if is(LIMIT) {
            AwsError::LimitExceeded { operation, message }
        } else if is(REJECTED) {
            AwsError::Rejected { operation, message }
        } else if is(SERVICE) || code.starts_with("HTTP5") {
            AwsError::ServiceError { operation, message }
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
mod tests;
