//! WebSocket client helpers over real TCP (tokio-tungstenite).

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

pub type Client = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// The user agent the test clients send (the management API's GET reports it).
pub const USER_AGENT: &str = "socket-tests/1.0";

/// Connects to `url` (the handshake must succeed).
pub async fn connect(url: &str) -> Client {
    try_connect(url)
        .await
        .unwrap_or_else(|error| panic!("connect to {url}: {error}"))
}

/// Connects to `url`; the error carries the HTTP response of a refused handshake.
pub async fn try_connect(url: &str) -> Result<Client, tokio_tungstenite::tungstenite::Error> {
    let mut request = url.into_client_request()?;
    request
        .headers_mut()
        .insert("user-agent", USER_AGENT.parse().expect("header value"));
    let (client, _response) = tokio_tungstenite::connect_async(request).await?;
    Ok(client)
}

/// Sends a text frame.
pub async fn send_text(client: &mut Client, text: &str) {
    client
        .send(Message::Text(text.into()))
        .await
        .expect("send a text frame");
}

/// Sends `{"route": route, "data": data}`.
pub async fn send_route(client: &mut Client, route: &str, data: serde_json::Value) {
    let frame = serde_json::json!({ "route": route, "data": data });
    send_text(client, &frame.to_string()).await;
}

/// What arrives next from the server, skipping pings and pongs.
#[derive(Debug, Clone, PartialEq)]
pub enum Received {
    Text(String),
    Binary(Vec<u8>),
    Close(Option<(u16, String)>),
    /// The connection ended without a close frame, or with an error.
    Ended(String),
    /// Nothing arrived in time.
    Timeout,
}

pub async fn next(client: &mut Client, timeout: Duration) -> Received {
    loop {
        let frame = match tokio::time::timeout(timeout, client.next()).await {
            Err(_) => return Received::Timeout,
            Ok(None) => return Received::Ended("stream ended".into()),
            Ok(Some(Err(error))) => return Received::Ended(error.to_string()),
            Ok(Some(Ok(frame))) => frame,
        };
        return match frame {
            Message::Text(text) => Received::Text(text.to_string()),
            Message::Binary(data) => Received::Binary(data.to_vec()),
            Message::Close(frame) => Received::Close(
                frame.map(|CloseFrame { code, reason }| (u16::from(code), reason.to_string())),
            ),
            Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => continue,
        };
    }
}

/// The next frame, which must be JSON text.
pub async fn next_json(client: &mut Client, timeout: Duration) -> serde_json::Value {
    match next(client, timeout).await {
        Received::Text(text) => {
            serde_json::from_str(&text).unwrap_or_else(|error| panic!("not JSON ({error}): {text}"))
        }
        other => panic!("expected a JSON text frame, got {other:?}"),
    }
}

/// This connection's id, asked from the `whoami` route of the echo example.
pub async fn whoami(client: &mut Client) -> String {
    send_route(client, "whoami", serde_json::Value::Null).await;
    let reply = next_json(client, Duration::from_secs(10)).await;
    reply["connectionId"]
        .as_str()
        .unwrap_or_else(|| panic!("whoami reply without connectionId: {reply}"))
        .to_string()
}
