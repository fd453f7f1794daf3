//! A `$connect` authorizer in the same binary: `?token=let-me-in` is allowed as principal
//! `guest` with a context; anything else is denied. `connect` and every later event of the
//! connection see that context as `Socket::authorizer()`; `whoami` sends it back.

use serde_json::{json, Value};
use socket_runtime::{on, on_authorize, run, Authorization, AuthorizeRequest, Socket};

#[tokio::main]
async fn main() -> Result<(), socket_runtime::Error> {
    on_authorize(|request: AuthorizeRequest| async move {
        eprintln!("authorize ran for {}", request.connection_id());
        Ok(match request.query("token") {
            Some("let-me-in") => Authorization::allow("guest").with_context(json!({
                "plan": "free",
                "connectedWith": "token",
            })),
            _ => Authorization::deny(),
        })
    });
    on("connect", |_: Value, socket: Socket| async move {
        // The tests read this line to tell whether `connect` ran.
        eprintln!(
            "connect handler ran for {} as {}",
            socket.connection_id(),
            socket.principal_id().unwrap_or("nobody")
        );
        Ok(200)
    });
    on("whoami", |_: Value, socket: Socket| async move {
        let reply = json!({
            "connectionId": socket.connection_id(),
            "authorizer": socket.authorizer(),
        });
        socket.send(&reply).await?;
        Ok(())
    });
    run().await
}
