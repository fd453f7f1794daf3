//! {{name}}: the handlers API Gateway calls for every connect, message and disconnect.
//!
//! Clients send JSON text frames such as `{"route": "message", "data": "hi"}`; the `route` field
//! picks the handler (see `routeSelection` in serverless.yml) and `data` is what the handler gets.
//! Run locally with `socket dev`, deploy with `socket deploy`.

use serde::Deserialize;
use serde_json::{json, Value};
use socket_runtime::{on, run, Error, Socket};

/// `{"route": "send", "data": {"to": "<connection id>", "text": "hi"}}`
#[derive(Deserialize)]
struct Send {
    to: String,
    text: String,
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    // A new connection. Return a non-2xx status to refuse it (e.g. a missing token).
    on("connect", |_: Value, socket: Socket| async move {
        // e.g. ws://…/dev?token=… : check it here and refuse with Ok(401).
        let _token = socket.query("token");
        Ok(200)
    });

    // Echo: the message's data goes back to the caller.
    on("message", |data: Value, socket: Socket| async move {
        socket.send(&data).await?;
        Ok(())
    });

    // The caller's connection id, which others can `send` to.
    on("whoami", |_: Value, socket: Socket| async move {
        let greeting = std::env::var("GREETING").unwrap_or_default();
        socket
            .send(&json!({ "connectionId": socket.connection_id(), "greeting": greeting }))
            .await?;
        Ok(())
    });

    // To another connection: the building block of broadcast (keep the ids of connected clients,
    // e.g. in a table written on connect and cleaned on disconnect, and send to each).
    on("send", |message: Send, socket: Socket| async move {
        let delivered = socket
            .send_to(
                &message.to,
                &json!({ "from": socket.connection_id(), "text": message.text }),
            )
            .await;
        match delivered {
            Err(error) if error.is_gone() => {
                socket
                    .send(&json!({ "error": "gone", "to": message.to }))
                    .await?;
                Ok(())
            }
            other => other.map_err(Into::into),
        }
    });

    // Anything else: unknown routes, text that is not JSON, binary frames.
    on("default", |_: Value, socket: Socket| async move {
        let body = socket.body().unwrap_or_default().to_string();
        socket
            .send(&json!({ "error": "unknown route", "body": body }))
            .await?;
        Ok(())
    });

    on(
        "disconnect",
        |_: Value, _socket: Socket| async move { Ok(()) },
    );

    run().await
}
