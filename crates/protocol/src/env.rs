//! Environment variables `socket deploy` and `socket dev` set on the function, and the runtime reads.

/// The route selection expression (e.g. `$request.body.route`).
pub const ROUTE_SELECTION: &str = "SOCKET_ROUTE_SELECTION";

/// The management API endpoint (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, or
/// the emulator's `http://127.0.0.1:3111/{stage}`); when unset the runtime derives it from the event.
pub const MANAGEMENT_ENDPOINT: &str = "SOCKET_MANAGEMENT_ENDPOINT";

/// The connection registry's DynamoDB table (`{service}-{stage}-connections`); unset when the
/// registry is off.
pub const REGISTRY_TABLE: &str = "SOCKET_REGISTRY_TABLE";

/// The DynamoDB endpoint of the registry: `socket dev`'s `http://127.0.0.1:<port>/@dynamodb`, or
/// DynamoDB Local / moto; unset → `https://dynamodb.{region}.amazonaws.com`.
pub const REGISTRY_ENDPOINT: &str = "SOCKET_REGISTRY_ENDPOINT";

/// Seconds a registry record lives without being refreshed (default 10800: API Gateway's 2 h
/// maximum connection duration plus 1 h).
pub const REGISTRY_TTL: &str = "SOCKET_REGISTRY_TTL";
