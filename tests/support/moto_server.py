"""moto's server with the API Gateway v2 calls a deploy makes that moto (5.2) does not implement.

moto models APIs, routes, integrations and stages, but not deployments: CreateDeployment,
GetDeployment(s) and UpdateStage answer 404 or "not implemented", and a stage has no
`deploymentId`. This adds them as AWS's API reference describes them (a deployment is built at
once, `DEPLOYED`; CreateDeployment with StageName or UpdateStage with DeploymentId makes a stage
serve it; a deployment of an API without routes is refused as on AWS), and gives WebSocket APIs
the `wss://` ApiEndpoint AWS reports. TagResource and UntagResource keep a domain name's tags
apart from the ones GetDomainName reports; here they change the domain name's own, as on AWS.

With IAM enforced (`/moto-api/reset-auth`), moto checks a request's signature against a body
it rebuilds from the parsed parameters when the request has none, so every signed GET or DELETE
of a REST service (Lambda, API Gateway) fails with SignatureDoesNotMatch, and so does a form POST
(IAM) whose values hold a space (moto re-encodes it as `+`, AWS SDKs send `%20`). The signature
is checked here over the empty body that was signed, and a form body is tried in both encodings.
Everything else is moto, unchanged.

Usage: python moto_server.py [moto_server's arguments]
"""

import json
import random
import string
import sys
from datetime import datetime, timezone
from urllib.parse import quote, unquote, urlencode

from moto.apigatewayv2 import models, urls
from moto.iam import access_control
from moto.apigatewayv2.exceptions import APIGatewayV2Error
from moto.apigatewayv2.responses import ApiGatewayV2Response
from moto.server import main


class DeploymentNotFound(APIGatewayV2Error):
    code = 404

    def __init__(self, deployment_id):
        super().__init__(
            "NotFoundException", f"Invalid Deployment identifier specified {deployment_id}"
        )


class BadRequest(APIGatewayV2Error):
    code = 400

    def __init__(self, message):
        super().__init__("BadRequestException", message)


_create_aws_request = access_control.IAMRequestBase._create_aws_request


def _create_aws_request_signed_body(self):
    request = _create_aws_request(self)
    if not self._body and self._method in ("GET", "DELETE", "HEAD"):
        request.data = b""
    return request


access_control.IAMRequestBase._create_aws_request = _create_aws_request_signed_body

_check_signature = access_control.IAMRequestBase.check_signature


def _check_signature_as_sent(self):
    try:
        return _check_signature(self)
    except access_control.SignatureDoesNotMatchError:
        if self._body or not isinstance(self._data, dict) or not self._data:
            raise
        self._body = urlencode(
            self._data, doseq=True, quote_via=lambda v, *_: quote(v, safe="")
        ).encode()
        try:
            return _check_signature(self)
        finally:
            self._body = b""


access_control.IAMRequestBase.check_signature = _check_signature_as_sent

API = r"{0}/v2/apis/(?P<api_id>[^/]+)"
urls.url_paths[API + r"/deployments$"] = ApiGatewayV2Response.dispatch
urls.url_paths[API + r"/deployments/(?P<deployment_id>[^/]+)$"] = ApiGatewayV2Response.dispatch

# WebSocket APIs' endpoint is wss:// on AWS.
_api_init = models.Api.__init__


def _api_init_wss(self, *args, **kwargs):
    _api_init(self, *args, **kwargs)
    if self.protocol_type == "WEBSOCKET":
        self.api_endpoint = "wss://" + self.api_endpoint.split("://", 1)[1]


models.Api.__init__ = _api_init_wss

# Stages carry the deployment they serve.
_stage_init = models.Stage.__init__
_stage_to_json = models.Stage.to_json


def _stage_init_with_deployment(self, api, config):
    _stage_init(self, api, config)
    self.deployment_id = config.get("deploymentId")


def _stage_to_json_with_deployment(self):
    out = _stage_to_json(self)
    if self.deployment_id:
        out["deploymentId"] = self.deployment_id
    return out


models.Stage.__init__ = _stage_init_with_deployment
models.Stage.to_json = _stage_to_json_with_deployment


def _deployments(api):
    if not hasattr(api, "deployments"):
        api.deployments = {}
    return api.deployments


def _deployment(api, deployment_id):
    deployment = _deployments(api).get(deployment_id)
    if deployment is None:
        raise DeploymentNotFound(deployment_id)
    return deployment


def create_deployment(self):
    api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])
    body = json.loads(self.body or "{}")
    if not api.routes:
        raise BadRequest("At least one route is required before deploying the Api.")
    deployment = {
        "deploymentId": "".join(random.choice(string.ascii_lowercase + string.digits) for _ in range(6)),
        "deploymentStatus": "DEPLOYED",
        "autoDeployed": False,
        "createdDate": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "description": body.get("description", ""),
    }
    stage_name = body.get("stageName")
    if stage_name:
        api.get_stage(stage_name).deployment_id = deployment["deploymentId"]
    _deployments(api)[deployment["deploymentId"]] = deployment
    return 201, {}, json.dumps(deployment)


def get_deployment(self):
    parts = self.path.split("/")
    api = self.apigatewayv2_backend.get_api(parts[-3])
    return 200, {}, json.dumps(_deployment(api, unquote(parts[-1])))


def get_deployments(self):
    api = self.apigatewayv2_backend.get_api(self.path.split("/")[-2])
    return 200, {}, json.dumps({"items": list(_deployments(api).values())})


def update_stage(self):
    parts = self.path.split("/")
    api = self.apigatewayv2_backend.get_api(parts[-3])
    stage = api.get_stage(unquote(parts[-1]))
    body = json.loads(self.body or "{}")
    if "deploymentId" in body:
        _deployment(api, body["deploymentId"])
        stage.deployment_id = body["deploymentId"]
    if "autoDeploy" in body:
        stage.auto_deploy = body["autoDeploy"]
    if "description" in body:
        stage.description = body["description"]
    stage.updated = datetime.now()
    return 200, {}, json.dumps(stage.to_json())


ApiGatewayV2Response.create_deployment = create_deployment
ApiGatewayV2Response.get_deployment = get_deployment
ApiGatewayV2Response.get_deployments = get_deployments
ApiGatewayV2Response.update_stage = update_stage


def _tagged(backend, resource_arn):
    """The domain name an `arn:…:apigateway:{region}::/domainnames/{name}` names (an API's tags
    already live where moto's TagResource puts them)."""
    path = resource_arn.split("::", 1)[-1]
    if path.startswith("/domainnames/"):
        return backend.domain_names.get(path[len("/domainnames/"):])
    return None


_tag_resource = models.ApiGatewayV2Backend.tag_resource
_untag_resource = models.ApiGatewayV2Backend.untag_resource


def _tag_resource_itself(self, resource_arn, tags):
    _tag_resource(self, resource_arn, tags)
    resource = _tagged(self, resource_arn)
    if resource is not None:
        resource.tags = {**(resource.tags or {}), **(tags or {})}


def _untag_resource_itself(self, resource_arn, tag_keys):
    _untag_resource(self, resource_arn, tag_keys)
    resource = _tagged(self, resource_arn)
    if resource is not None:
        resource.tags = {k: v for k, v in (resource.tags or {}).items() if k not in tag_keys}


models.ApiGatewayV2Backend.tag_resource = _tag_resource_itself
models.ApiGatewayV2Backend.untag_resource = _untag_resource_itself

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
