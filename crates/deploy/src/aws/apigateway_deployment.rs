//! Deployments of the WebSocket API: snapshots of its routes and integrations that a stage
//! serves. The stage is deployed explicitly (CreateDeployment, its status checked, then
//! UpdateStage to point at it) rather than with auto-deploy: an explicit deployment reports
//! whether it was built, so a deploy that ends is one whose routes are live.

use super::{AwsError, Clients, SdkResultExt};

/// A deployment: a snapshot of the routes and integrations that a stage can serve.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Deployment {
    pub id: String,
    /// `PENDING`, `DEPLOYED` or `FAILED`.
    pub status: String,
    /// Why it failed, when it did.
    pub message: String,
}

impl Deployment {
    pub fn is_deployed(&self) -> bool {
        self.status == "DEPLOYED"
    }
}

/// A deployment of the API as it is now.
pub async fn create_deployment(
    clients: &Clients,
    api: &str,
    description: &str,
) -> Result<Deployment, AwsError> {
    let out = clients
        .apigateway
        .create_deployment()
        .api_id(api)
        .description(description)
        .send()
        .await
        .aws("apigateway:CreateDeployment", clients)?;
    Ok(Deployment {
        id: out.deployment_id().unwrap_or_default().to_owned(),
        status: status_of(out.deployment_status()),
        message: out
            .deployment_status_message()
            .unwrap_or_default()
            .to_owned(),
    })
}

pub async fn get_deployment(
    clients: &Clients,
    api: &str,
    id: &str,
) -> Result<Option<Deployment>, AwsError> {
    let out = clients
        .apigateway
        .get_deployment()
        .api_id(api)
        .deployment_id(id)
        .send()
        .await
        .found("apigateway:GetDeployment", clients)?;
    Ok(out.map(|d| Deployment {
        id: d.deployment_id().unwrap_or(id).to_owned(),
        status: status_of(d.deployment_status()),
        message: d.deployment_status_message().unwrap_or_default().to_owned(),
    }))
}

/// A missing status counts as deployed: the call answered and said nothing was pending.
fn status_of(status: Option<&aws_sdk_apigatewayv2::types::DeploymentStatus>) -> String {
    status.map_or("DEPLOYED", |s| s.as_str()).to_owned()
}

/// `None` while the deployment is pending; its failure carries API Gateway's message.
pub fn outcome(api: &str, stage: &str, deployment: &Deployment) -> Option<Result<(), AwsError>> {
    match deployment.status.as_str() {
        "PENDING" => None,
        "FAILED" => Some(Err(AwsError::DeploymentFailed {
            api: api.to_owned(),
            stage: stage.to_owned(),
            message: if deployment.message.is_empty() {
                "no reason given".to_owned()
            } else {
                deployment.message.clone()
            },
        })),
        _ => Some(Ok(())),
    }
}

/// Polls a new deployment until API Gateway has built it (or says why it could not).
pub async fn wait_deployed(
    clients: &Clients,
    api: &str,
    stage: &str,
    mut deployment: Deployment,
) -> Result<Deployment, AwsError> {
    const POLLS: u32 = 60;
    for _ in 0..POLLS {
        if let Some(outcome) = outcome(api, stage, &deployment) {
            return outcome.map(|()| deployment);
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
        deployment = get_deployment(clients, api, &deployment.id)
            .await?
            .ok_or_else(|| AwsError::NotReady {
                what: format!("deployment {} of API {api}", deployment.id),
            })?;
    }
    Err(AwsError::NotReady {
        what: format!("deployment {} of API {api}", deployment.id),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_failed_deployment_reports_api_gateways_message() {
        let deployment = |status: &str, message: &str| Deployment {
            id: "d1".into(),
            status: status.into(),
            message: message.into(),
        };
        assert!(outcome("a1", "dev", &deployment("PENDING", "")).is_none());
        assert!(matches!(
            outcome("a1", "dev", &deployment("DEPLOYED", "")),
            Some(Ok(()))
        ));
        let failed = outcome(
            "a1",
            "dev",
            &deployment("FAILED", "Execution failed due to configuration error"),
        );
        match failed {
            Some(Err(err @ AwsError::DeploymentFailed { .. })) => assert_eq!(
                err.to_string(),
                "API Gateway could not deploy API a1 to stage dev: Execution failed due to \
                 configuration error"
            ),
            other => panic!("{other:?}"),
        }
    }
}
