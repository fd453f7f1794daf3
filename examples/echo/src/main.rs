//! The echo example: every behaviour socket's own tests rely on.
//!
//! - `connect` → 200, or 403 when the URL has `?reject=1`
//! - `echo` (`{"route":"echo","data":X}`) → sends `X` back as a JSON text frame
//! - `whoami` → sends `{"connectionId": <id>, "stage": <stage>}`
//! - `fail` → the handler returns an error (a function error: the caller gets API Gateway's error frame)
//! - `sleep` (`{"route":"sleep","data":<ms>}`) → waits that long, then sends `{"slept": <ms>}`
//! - `crash` → the process exits mid-invocation (the caller gets API Gateway's error frame, and
//!   a new process serves the next message)
//! - `default` → sends `{"route":"default","body":<raw body>}`
//! - `disconnect` → prints `disconnect code=<close code> reason="<reason>"`, then 200

use std::time::Duration;

use serde_json::{json, Value};
use socket_runtime::{on, run, Error, Socket};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Error> {
    on("connect", |_: Value, socket: Socket| async move {
        if socket.query("reject") == Some("1") {
            return Ok(403);
        }
        Ok(200)
    });
    on("echo", |data: Value, socket: Socket| async move {
        socket.send(&data).await?;
        Ok(())
    });
    on("whoami", |_: Value, socket: Socket| async move {
        let reply = json!({ "connectionId": socket.connection_id(), "stage": socket.stage() });
        socket.send(&reply).await?;
        Ok(())
    });
    on("fail", |_: Value, _socket: Socket| async move {
        Err::<(), _>(Error::msg("the fail route always fails"))
    });
    on("sleep", |data: Value, socket: Socket| async move {
        let millis = data
            .as_f64()
            .filter(|millis| *millis >= 0.0)
            .ok_or_else(|| {
                Error::msg(format!(
                    "sleep needs a number of milliseconds as data, got {data}"
                ))
            })?;
        tokio::time::sleep(Duration::from_secs_f64(millis / 1000.0)).await;
        socket.send(&json!({ "slept": data })).await?;
        Ok(())
    });
    on("crash", |_: Value, _socket: Socket| async move {
        exit_mid_invocation()
    });
    on("default", |_: Value, socket: Socket| async move {
        let body = socket.body().unwrap_or_default().to_string();
        socket
            .send(&json!({ "route": "default", "body": body }))
            .await?;
        Ok(())
    });
    on("disconnect", |_: Value, socket: Socket| async move {
        // What the handler saw, for the close tests.
        println!(
            "disconnect code={} reason={:?}",
            socket.disconnect_status_code().unwrap_or_default(),
            socket.disconnect_reason().unwrap_or_default()
        );
        Ok(200)
    });
    run().await
}

/// Ends the process without answering the invocation, as a crash (or an out-of-memory kill) does.
fn exit_mid_invocation() -> Result<(), Error> {
    eprintln!("crash: exiting mid-invocation");
    std::process::exit(70)
}
