//! The AWS services a stage is made of: one client per service, all logging into one [`CallLog`].
//!
//! Each service has its own file with the few calls `socket` makes ([`iam`], [`lambda`],
//! [`apigateway`], [`logs`], [`dynamodb`]); they return [`AwsError`] ([`error`]: what the user can do about
//! a failed call) so the commands never see SDK types.

pub mod apigateway;
pub mod apigateway_deployment;
pub mod authorizer;
pub mod call_log;
pub mod domain;
pub mod dynamodb;
pub mod error;
pub mod iam;
pub mod lambda;
pub mod lambda_readiness;
pub mod logs;
pub mod tagging;

use aws_config::SdkConfig;

pub use call_log::CallLog;
pub use error::{classify, is_not_found, AwsError, SdkResultExt};

/// Tag keys every resource of a stage carries; `remove` and discovery trust nothing else.
pub const TAG_SERVICE: &str = socket_manifest::SERVICE_TAG;
pub const TAG_STAGE: &str = socket_manifest::STAGE_TAG;

/// The HTTPS client every SDK client of the tool uses: rustls with the ring crypto provider (the
/// one socket-client's own HTTPS uses), so one TLS library is compiled instead of ring plus
/// aws-lc-rs, the SDK's default. Trust roots are the platform's, as with the SDK's default client.
pub fn http_client() -> aws_smithy_runtime_api::client::http::SharedHttpClient {
    use aws_smithy_http_client::tls;
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The SDK clients of one region, all logging their calls into the same [`CallLog`].
#[derive(Clone, Debug)]
pub struct Clients {
    pub iam: aws_sdk_iam::Client,
    pub lambda: aws_sdk_lambda::Client,
    pub apigateway: aws_sdk_apigatewayv2::Client,
    pub logs: aws_sdk_cloudwatchlogs::Client,
    pub dynamodb: aws_sdk_dynamodb::Client,
    pub region: String,
    /// `AWS_ENDPOINT_URL` or the like, when the SDK was pointed away from AWS (named in errors).
    pub endpoint: Option<String>,
    pub calls: CallLog,
}

impl Clients {
    pub fn new(config: &SdkConfig) -> Self {
        let calls = CallLog::default();
        let region = config.region().map(|r| r.to_string()).unwrap_or_default();
        let iam = aws_sdk_iam::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        let lambda = aws_sdk_lambda::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        let apigateway = aws_sdk_apigatewayv2::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        let logs = aws_sdk_cloudwatchlogs::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        let dynamodb = aws_sdk_dynamodb::config::Builder::from(config)
            .interceptor(calls.clone())
            .build();
        Clients {
            iam: aws_sdk_iam::Client::from_conf(iam),
            lambda: aws_sdk_lambda::Client::from_conf(lambda),
            apigateway: aws_sdk_apigatewayv2::Client::from_conf(apigateway),
            logs: aws_sdk_cloudwatchlogs::Client::from_conf(logs),
            dynamodb: aws_sdk_dynamodb::Client::from_conf(dynamodb),
            region,
            endpoint: config.endpoint_url().map(str::to_owned),
            calls,
        }
    }

    /// Where requests go, for messages: the custom endpoint, else the region.
    pub fn target(&self) -> String {
        match &self.endpoint {
            Some(url) => url.clone(),
            None => format!("AWS region {}", self.region),
        }
    }
}

/// Clients for the manifest's stage and region, with credentials resolved up front
/// ([`crate::credentials`]: the stage's `.env` file, then the AWS chain; `AWS_ENDPOINT_URL`
/// points every client elsewhere, a local AWS implementation in tests).
pub async fn connect(
    manifest: &socket_manifest::Manifest,
) -> Result<Clients, crate::credentials::CredentialsError> {
    let config = crate::credentials::load(manifest).await?;
    Ok(Clients::new(&config))
}

/// The account id in an ARN (`arn:aws:iam::123456789012:role/x` → `123456789012`).
pub fn account_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(4).filter(|a| !a.is_empty())
}

/// The partition of an ARN (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition_of(arn: &str) -> Option<&str> {
    arn.split(':').nth(1).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        let arn = "arn:aws:iam::123456789012:role/echo-dev";
        assert_eq!(account_of(arn), Some("123456789012"));
        assert_eq!(partition_of(arn), Some("aws"));
        assert_eq!(account_of("nonsense"), None);
    }
}
