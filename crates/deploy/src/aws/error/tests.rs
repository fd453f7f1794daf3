//! Each AWS error class the commands can meet, classified by its true cause.

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

/// A service error with AWS's code and message, from `operation`.
fn aws_error(operation: &'static str, code: &str, status: u16, message: &str) -> AwsError {
    let meta = aws_sdk_iam::error::ErrorMetadata::builder()
        .code(code)
        .message(message)
        .build();
    let err = aws_sdk_iam::operation::get_role::GetRoleError::generic(meta);
    classify(
        operation,
        "AWS region us-east-1",
        SdkError::service_error(err, response(status, "")),
    )
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
        classify(error(Some("NoSuchEntity"), 404, "")),
        AwsError::Vanished { .. }
    ));
    assert!(is_not_found(&error(
        Some("ResourceNotFoundException"),
        404,
        ""
    )));
    assert!(!is_not_found(&error(Some("AccessDenied"), 403, "")));
}

#[test]
fn an_api_gateway_conflict_is_not_an_update_in_progress() {
    let err = aws_error(
        "apigateway:CreateRoute",
        "ConflictException",
        409,
        "Unable to complete operation due to concurrent modification. Please try again later.",
    );
    assert!(matches!(err, AwsError::Conflict { .. }), "{err:?}");
    let err = aws_error(
        "apigateway:CreateRoute",
        "ConflictException",
        409,
        "Route with key message already exists for this API",
    );
    assert!(matches!(err, AwsError::Conflict { .. }), "{err:?}");
    assert!(!err.to_string().contains("still applying"), "{err}");
    assert!(err.to_string().contains("conflicts with what exists"));
    let err = aws_error(
        "iam:CreateRole",
        "EntityAlreadyExists",
        409,
        "Role with name echo-dev already exists.",
    );
    assert!(matches!(err, AwsError::Conflict { .. }), "{err:?}");
}

#[test]
fn a_lambda_update_in_progress_is_busy_and_a_taken_name_a_conflict() {
    let err = aws_error(
        "lambda:UpdateFunctionCode",
        "ResourceConflictException",
        409,
        "The operation cannot be performed at this time. An update is in progress for resource: arn:aws:lambda:us-east-1:123456789012:function:echo-dev",
    );
    assert!(matches!(err, AwsError::Busy { .. }), "{err:?}");
    assert!(err.to_string().contains("still applying an earlier change"));
    let err = aws_error(
        "lambda:AddPermission",
        "ResourceConflictException",
        409,
        "The statement id (socket-apigateway-invoke) provided already exists.",
    );
    assert!(matches!(err, AwsError::Conflict { .. }), "{err:?}");
}

#[test]
fn throttling_advises_waiting_and_retrying() {
    for (op, code) in [
        ("apigateway:CreateRoute", "TooManyRequestsException"),
        ("lambda:GetFunction", "TooManyRequestsException"),
        ("iam:GetRole", "Throttling"),
        ("logs:DescribeLogGroups", "ThrottlingException"),
    ] {
        let err = aws_error(op, code, 429, "Rate exceeded");
        assert!(matches!(err, AwsError::Throttled { .. }), "{code}: {err:?}");
        let help = miette::Diagnostic::help(&err).unwrap().to_string();
        assert!(help.contains("run the command again"), "{help}");
    }
}

#[test]
fn quotas_validation_and_service_failures_each_have_their_class() {
    let limit = aws_error(
        "iam:CreateRole",
        "LimitExceeded",
        409,
        "Cannot exceed quota for RolesPerAccount: 1000",
    );
    assert!(matches!(limit, AwsError::LimitExceeded { .. }), "{limit:?}");
    let help = miette::Diagnostic::help(&limit).unwrap().to_string();
    assert!(help.contains("Service Quotas"), "{help}");
    let storage = aws_error(
        "lambda:CreateFunction",
        "CodeStorageExceededException",
        400,
        "Code storage limit exceeded.",
    );
    assert!(
        matches!(storage, AwsError::LimitExceeded { .. }),
        "{storage:?}"
    );

    for (op, code) in [
        ("apigateway:CreateRoute", "BadRequestException"),
        ("lambda:CreateFunction", "InvalidParameterValueException"),
        ("iam:PutRolePolicy", "MalformedPolicyDocument"),
        ("logs:DeleteLogGroup", "InvalidParameterException"),
    ] {
        let err = aws_error(op, code, 400, "1 validation error");
        assert!(matches!(err, AwsError::Rejected { .. }), "{code}: {err:?}");
    }

    for (op, code, status) in [
        ("lambda:GetFunction", "ServiceException", 500),
        ("iam:GetRole", "ServiceFailure", 500),
        ("logs:DescribeLogGroups", "ServiceUnavailableException", 503),
    ] {
        let err = aws_error(op, code, status, "internal");
        assert!(
            matches!(err, AwsError::ServiceError { .. }),
            "{code}: {err:?}"
        );
    }
    assert!(matches!(
        classify(
            "apigateway:GetApis",
            "AWS region us-east-1",
            error(None, 502, "")
        ),
        AwsError::ServiceError { .. }
    ));
}

#[test]
fn access_denied_names_the_missing_permission() {
    let err = aws_error(
        "lambda:CreateFunction",
        "AccessDeniedException",
        403,
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: lambda:TagResource on resource: arn:aws:lambda:us-east-1:123456789012:function:echo-dev because no identity-based policy allows the lambda:TagResource action",
    );
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert!(help.contains("lacks `lambda:TagResource`"), "{help}");
    assert!(help.contains("Permissions"), "points at the list: {help}");

    // No action in the message: the table's actions for the call.
    let err = aws_error("iam:CreateRole", "AccessDenied", 403, "Access denied");
    let help = miette::Diagnostic::help(&err).unwrap().to_string();
    assert!(help.contains("`iam:CreateRole`, `iam:TagRole`"), "{help}");
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
