//! Environment variables `socket deploy` and `socket dev` set on the function, and the runtime reads.

/// The route selection expression (e.g. `$request.body.route`).
pub const ROUTE_SELECTION: &str = "SOCKET_ROUTE_SELECTION";

/// The management API endpoint (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, or
/// the emulator's `http://127.0.0.1:3111/{stage}`); when unset the runtime derives it from the event.
pub const MANAGEMENT_ENDPOINT: &str = "SOCKET_MANAGEMENT_ENDPOINT";

/// The connection registry's DynamoDB table; unset → the registry is off.
pub const REGISTRY_TABLE: &str = "SOCKET_REGISTRY_TABLE";

/// A DynamoDB endpoint to use instead of `https://dynamodb.{region}.amazonaws.com` (the
/// emulator's `http://127.0.0.1:{port}/@dynamodb`, moto, DynamoDB Local).
pub const REGISTRY_ENDPOINT: &str = "SOCKET_REGISTRY_ENDPOINT";

/// Seconds a registry record lives without being refreshed (default 10800).
pub const REGISTRY_TTL: &str = "SOCKET_REGISTRY_TTL";

/// How many management API posts one broadcast keeps in flight (default 32).
pub const BROADCAST_CONCURRENCY: &str = "SOCKET_BROADCAST_CONCURRENCY";

/// The WebSocket API's id, to build the management endpoint outside a handler.
pub const API_ID: &str = "SOCKET_API_ID";

/// The API stage, to build the management endpoint outside a handler.
pub const STAGE: &str = "SOCKET_STAGE";
