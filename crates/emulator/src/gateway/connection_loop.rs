//! One open connection: the client's text frames become MESSAGE events (a binary frame closes
//! it with 1003, as on API Gateway), what the gateway sends is written, idle and
//! maximum-duration limits apply, and the end runs `$disconnect`.

use std::sync::Arc;
use std::time::Instant;

use futures_util::{SinkExt, StreamExt};
use socket_protocol::events::{self, MessageBody};
use tokio::sync::{mpsc, watch};
use tokio_tungstenite::tungstenite::{Error as WsError, Message};

use super::close::{finish_close, Closed};
use super::{Gateway, WebSocket};
use crate::connections::{Connection, Outbound};
use crate::ids;
use crate::invocation::Outcome;
use crate::limits;
use crate::output;

impl Gateway {
    /// Reads the client's frames and writes what the gateway sends, until the connection ends;
    /// then runs `$disconnect`.
    pub(super) async fn run_connection(
        self: Arc<Self>,
        connection: Arc<Connection>,
        mut socket: WebSocket,
        mut outbound: mpsc::UnboundedReceiver<Outbound>,
    ) {
        let limits = self.config.limits;
        let expires = Instant::now() + limits.max_connection_duration;
        let mut shutdown = self.shutdown.subscribe();
        let mut oversized = false;
        let closed = loop {
            let idle_at = connection.last_active_instant() + limits.idle_timeout;
            tokio::select! {
                frame = socket.next() => match frame {
                    Some(Ok(Message::Text(text))) => self.on_message(&connection, text.to_string()),
                    // API Gateway rejects binary frames and disconnects the client with 1003,
                    // without invoking anything.
                    Some(Ok(Message::Binary(_))) => {
                        break Closed::by_gateway(limits::CLOSE_UNSUPPORTED_DATA, limits::REASON_UNSUPPORTED_DATA);
                    }
                    Some(Ok(Message::Ping(_))) => connection.touch(),
                    Some(Ok(Message::Pong(_) | Message::Frame(_))) => {}
                    Some(Ok(Message::Close(frame))) => {
                        break match frame {
                            Some(frame) => Closed::by_client(u16::from(frame.code), &frame.reason),
                            None => Closed::by_client(limits::CLOSE_NO_STATUS, ""),
                        };
                    }
                    Some(Err(WsError::Capacity(_))) => {
                        oversized = true;
                        break Closed::by_gateway(limits::CLOSE_MESSAGE_TOO_BIG, limits::REASON_MESSAGE_TOO_BIG);
                    }
                    Some(Err(_)) | None => break Closed::by_client(limits::CLOSE_ABNORMAL, ""),
                },
                command = outbound.recv() => match command {
                    Some(Outbound::Message { message, written }) => {
                        if socket.send(message).await.is_err() {
                            break Closed::by_client(limits::CLOSE_ABNORMAL, "");
                        }
                        if let Some(written) = written {
                            let _ = written.send(());
                        }
                    }
                    Some(Outbound::Close { code, reason }) => break Closed::by_gateway(code, &reason),
                    None => break Closed::by_gateway(limits::CLOSE_GOING_AWAY, limits::REASON_GOING_AWAY),
                },
                _ = tokio::time::sleep_until(idle_at.into()) => {
                    if connection.last_active_instant().elapsed() >= limits.idle_timeout {
                        break Closed::by_gateway(limits::CLOSE_GOING_AWAY, limits::REASON_GOING_AWAY);
                    }
                }
                _ = tokio::time::sleep_until(expires.into()) => {
                    break Closed::by_gateway(limits::CLOSE_GOING_AWAY, limits::REASON_GOING_AWAY);
                }
                _ = stopping(&mut shutdown) => {
                    break Closed::by_gateway(limits::CLOSE_GOING_AWAY, limits::REASON_GOING_AWAY);
                }
            }
        };
        self.registry.remove(&connection.id);
        outbound.close();
        finish_close(&mut socket, &closed, oversized).await;
        drop(socket);
        self.disconnect(&connection, closed.code, &closed.reason)
            .await;
    }

    /// Turns one client message into a MESSAGE event; a failure sends the error frame.
    fn on_message(self: &Arc<Self>, connection: &Arc<Connection>, text: String) {
        connection.touch();
        let route = events::select_route(&self.config.route_selection, &text)
            .filter(|route| self.config.routes.iter().any(|declared| declared == route))
            .unwrap_or_else(|| "$default".to_string());
        let context = connection.context.next_request();
        let event = events::to_json(&events::message(
            &context,
            &route,
            &MessageBody::Text(text),
            &ids::connection_id(),
        ));
        // Submitted here, in the order the frames arrived, so a single worker sees them in order.
        let pending = self.submit(&event, &route, &connection.id);
        let connection = Arc::clone(connection);
        tokio::spawn(async move {
            if let Outcome::Failed(failure) = pending.await {
                output::line(
                    "gateway",
                    &format!(
                        "{} {route} failed: {failure}; sent the error frame",
                        connection.id
                    ),
                );
                let frame = serde_json::json!({
                    "message": "Internal server error",
                    "connectionId": connection.id,
                    "requestId": context.request_id,
                });
                let _ = connection.send(Message::Text(frame.to_string().into()));
            }
        });
    }
}

/// Completes once the emulator is stopping.
async fn stopping(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stopping| *stopping).await;
}
