//! Environment variables `socket deploy` and `socket dev` set on the function, and the runtime reads.

/// The route selection expression (e.g. `$request.body.route`).
pub const ROUTE_SELECTION: &str = "SOCKET_ROUTE_SELECTION";

/// The management API endpoint (`https://{apiId}.execute-api.{region}.amazonaws.com/{stage}`, or
/// the emulator's `http://127.0.0.1:3111/{stage}`); when unset the runtime derives it from the event.
pub const MANAGEMENT_ENDPOINT: &str = "SOCKET_MANAGEMENT_ENDPOINT";
