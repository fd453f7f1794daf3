//! The API Gateway WebSocket protocol as `socket` speaks it, with no Lambda client or TLS in it:
//! the event JSON a function receives ([`events`]), the `$connect` authorizer's event and policy
//! ([`authorizer`]), route selection ([`route_selection`]), the
//! environment variables the tool and the runtime agree on ([`env`]), the time formats
//! ([`utc`]), percent-encoding of connection ids in URLs ([`percent`]) and the one log line per
//! invocation the runtime writes and `socket logs` reads ([`invocation_log`]).
//!
//! The runtime, the local emulator, the benchmarks and the tests all build on this crate, so
//! there is one definition of each.

pub mod authorizer;
pub mod env;
pub mod events;
pub mod invocation_log;
pub mod percent;
pub mod route_selection;
pub mod utc;

pub use route_selection::{select_route, select_route_in, DEFAULT_ROUTE_SELECTION};
