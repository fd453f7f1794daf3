//! API Gateway's WebSocket quotas and the close codes it uses when one is hit.
//!
//! The defaults are API Gateway's documented quotas: 32 KB frames, 128 KB messages, a 10-minute
//! idle timeout and a 2-hour maximum connection duration. A frame or message over its quota
//! closes the connection with 1009 "Message too big"; the idle and duration limits close it with
//! 1001 "Going away". A binary frame closes it with 1003, as API Gateway rejects binary frames.

use std::time::Duration;

/// The largest WebSocket frame API Gateway accepts (larger messages must be fragmented).
pub const MAX_FRAME_BYTES: usize = 32 * 1024;
/// The largest message (all frames of one message, or one `@connections` POST body).
pub const MAX_MESSAGE_BYTES: usize = 128 * 1024;
/// How long a connection may stay without a message from its client.
pub const IDLE_TIMEOUT: Duration = Duration::from_secs(10 * 60);
/// How long a connection may stay open at all.
pub const MAX_CONNECTION_DURATION: Duration = Duration::from_secs(2 * 60 * 60);

/// Close code for a frame or message over the quota.
pub const CLOSE_MESSAGE_TOO_BIG: u16 = 1009;
pub const REASON_MESSAGE_TOO_BIG: &str = "Message too big";
/// Close code for the idle timeout, the maximum duration and the emulator shutting down.
pub const CLOSE_GOING_AWAY: u16 = 1001;
pub const REASON_GOING_AWAY: &str = "Going away";
/// Close code for a binary frame from the client: API Gateway accepts only text frames.
pub const CLOSE_UNSUPPORTED_DATA: u16 = 1003;
pub const REASON_UNSUPPORTED_DATA: &str = "Binary frames are not supported";
/// Close code when a backend deletes the connection through `DELETE @connections/{id}`.
pub const CLOSE_NORMAL: u16 = 1000;
/// Reported to `$disconnect` when the client went away without a close frame.
pub const CLOSE_ABNORMAL: u16 = 1006;
/// Reported to `$disconnect` when the client's close frame carried no code.
pub const CLOSE_NO_STATUS: u16 = 1005;

/// The limits one emulator enforces.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    pub max_frame_bytes: usize,
    pub max_message_bytes: usize,
    pub idle_timeout: Duration,
    pub max_connection_duration: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_frame_bytes: MAX_FRAME_BYTES,
            max_message_bytes: MAX_MESSAGE_BYTES,
            idle_timeout: IDLE_TIMEOUT,
            max_connection_duration: MAX_CONNECTION_DURATION,
        }
    }
}

impl Limits {
    /// The WebSocket protocol configuration that enforces the size limits while reading.
    ///
    /// The read buffer starts at 8 KiB instead of tungstenite's 128 KiB (it grows for larger
    /// frames): with thousands of mostly idle connections the default buffer is nearly all of the
    /// emulator's memory.
    pub fn websocket_config(&self) -> tokio_tungstenite::tungstenite::protocol::WebSocketConfig {
        tokio_tungstenite::tungstenite::protocol::WebSocketConfig::default()
            .read_buffer_size(8 * 1024)
            .max_frame_size(Some(self.max_frame_bytes))
            .max_message_size(Some(self.max_message_bytes))
    }
}
