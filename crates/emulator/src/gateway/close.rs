//! How a connection ends: who closed it with which code, and the closing handshake.

use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::io::AsyncReadExt;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

use super::{WebSocket, CLOSE_HANDSHAKE_GRACE};

/// Why a connection ended, as `$disconnect` reports it.
pub(super) struct Closed {
    pub(super) code: u16,
    pub(super) reason: String,
    /// The gateway closes it (and sends the close frame); otherwise the client did.
    pub(super) by_gateway: bool,
}

impl Closed {
    pub(super) fn by_gateway(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: reason.to_string(),
            by_gateway: true,
        }
    }

    pub(super) fn by_client(code: u16, reason: &str) -> Self {
        Self {
            code,
            reason: reason.to_string(),
            by_gateway: false,
        }
    }
}

/// Sends the gateway's close frame (or answers the client's) and ends the connection politely.
pub(super) async fn finish_close(socket: &mut WebSocket, closed: &Closed, oversized: bool) {
    if !closed.by_gateway {
        // Flushes the close frame tungstenite queued in reply to the client's.
        let _ = tokio::time::timeout(CLOSE_HANDSHAKE_GRACE, socket.close(None)).await;
        return;
    }
    let frame = CloseFrame {
        code: CloseCode::from(closed.code),
        reason: closed.reason.clone().into(),
    };
    let _ = tokio::time::timeout(
        CLOSE_HANDSHAKE_GRACE,
        socket.send(Message::Close(Some(frame))),
    )
    .await;
    if oversized {
        // The rest of the oversized frame is still unread: read it off the socket so closing
        // sends a FIN rather than a reset that could destroy the close frame in flight.
        let stream = socket.get_mut();
        let mut scratch = vec![0u8; 64 * 1024];
        let give_up = Instant::now() + CLOSE_HANDSHAKE_GRACE;
        while Instant::now() < give_up {
            match tokio::time::timeout(Duration::from_millis(200), stream.read(&mut scratch)).await
            {
                Ok(Ok(read)) if read > 0 => continue,
                _ => break,
            }
        }
        return;
    }
    // Wait for the client's close frame, as the closing handshake asks.
    let _ = tokio::time::timeout(CLOSE_HANDSHAKE_GRACE, async {
        while let Some(Ok(message)) = socket.next().await {
            if message.is_close() {
                break;
            }
        }
    })
    .await;
}
