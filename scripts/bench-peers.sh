#!/usr/bin/env bash
# Installs the two peers `socket dev` is measured against, from the npm registry, into target/peers/,
# and writes each one's tiny echo app:
#   target/peers/arc  Architect's sandbox (@architect/sandbox@8.0.0) with an @ws app whose default
#                     handler echoes `data` back through @architect/functions@8.1.10 `arc.ws.send`
#   target/peers/sls  serverless@3.40.0 + serverless-offline@13.10.1 with a `websocket` function on
#                     route `echo` that posts `data` back through the ApiGatewayManagementApi client
# Both apps take the same message as `socket dev` on examples/echo, with the route in `action`
# (their route selection expression): {"action":"echo","data":...}. Re-running skips what exists.
set -euo pipefail
cd "$(dirname "$0")/.."
peers=target/peers
mkdir -p "$peers"

# npm must not phone home beyond the registry while installing.
export NO_UPDATE_NOTIFIER=1 SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off
npm_install() { # dir, packages...
  local dir=$1
  shift
  (cd "$dir" && npm install --no-audit --no-fund --loglevel=error --save-exact "$@")
}

# --- Architect sandbox ----------------------------------------------------------------------------
arc=$peers/arc
mkdir -p "$arc/src/ws/connect" "$arc/src/ws/disconnect" "$arc/src/ws/default"
cat >"$arc/app.arc" <<'EOF'
@app
echo-bench

@ws
EOF
[ -f "$arc/package.json" ] || echo '{"name":"echo-bench-arc","private":true}' >"$arc/package.json"
for route in connect disconnect; do
  cat >"$arc/src/ws/$route/index.js" <<'EOF'
exports.handler = async function () {
  return { statusCode: 200 }
}
EOF
done
cat >"$arc/src/ws/default/index.js" <<'EOF'
// Echo: send the message's `data` back to the caller.
const arc = require('@architect/functions')
exports.handler = async function (event) {
  const message = JSON.parse(event.body)
  await arc.ws.send({ id: event.requestContext.connectionId, payload: message.data })
  return { statusCode: 200 }
}
EOF
if [ ! -x "$arc/node_modules/.bin/sandbox" ]; then
  echo "bench-peers: installing Architect sandbox into $arc"
  npm_install "$arc" @architect/sandbox@8.0.0 @architect/functions@8.1.10
fi

# --- serverless-offline ---------------------------------------------------------------------------
sls=$peers/sls
mkdir -p "$sls"
cat >"$sls/serverless.yml" <<'EOF'
service: echo-bench
frameworkVersion: '3'
provider:
  name: aws
  runtime: nodejs20.x
  region: us-east-1
  websocketsApiRouteSelectionExpression: $request.body.action
functions:
  connect:
    handler: handler.ok
    events:
      - websocket:
          route: $connect
  disconnect:
    handler: handler.ok
    events:
      - websocket:
          route: $disconnect
  echo:
    handler: handler.echo
    events:
      - websocket:
          route: echo
plugins:
  - serverless-offline
EOF
cat >"$sls/handler.js" <<'EOF'
// Echo: post the message's `data` back to the caller through the local management API.
const {
  ApiGatewayManagementApiClient,
  PostToConnectionCommand,
} = require('@aws-sdk/client-apigatewaymanagementapi')

const client = new ApiGatewayManagementApiClient({
  endpoint: process.env.ECHO_MANAGEMENT_ENDPOINT || 'http://127.0.0.1:3001',
  region: 'us-east-1',
})

exports.ok = async () => ({ statusCode: 200 })

exports.echo = async (event) => {
  const message = JSON.parse(event.body)
  await client.send(
    new PostToConnectionCommand({
      ConnectionId: event.requestContext.connectionId,
      Data: JSON.stringify(message.data),
    }),
  )
  return { statusCode: 200 }
}
EOF
[ -f "$sls/package.json" ] || echo '{"name":"echo-bench-sls","private":true}' >"$sls/package.json"
if [ ! -x "$sls/node_modules/.bin/serverless" ]; then
  echo "bench-peers: installing serverless + serverless-offline into $sls"
  npm_install "$sls" serverless@3.40.0 serverless-offline@13.10.1 \
    @aws-sdk/client-apigatewaymanagementapi@3.1169.0
fi
echo "bench-peers: ready in $peers"
