//! The end-to-end checks of `examples/echo` under `socket dev`, shared by every way of running
//! it: the handler the tests built (`--bootstrap`), and the handler `socket dev` builds itself for
//! the Lambda target or for the host's own target (`--worker-target`).

use std::time::Duration;

use serde_json::{json, Value};

use crate::echo_project::EchoProject;
use crate::socket_dev::SocketDev;
use crate::ws_client;

const WAIT: Duration = Duration::from_secs(10);

/// `echo` answers with its data, `whoami` with the connection id and stage, anything else goes
/// to `$default`; the worker's output is shown with the route and connection id.
pub async fn echo_whoami_and_default_routes(dev: &SocketDev) {
    let mut client = ws_client::connect(&dev.ws_url).await;

    ws_client::send_route(
        &mut client,
        "echo",
        json!({"hello": "world", "n": [1, 2, 3]}),
    )
    .await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!({"hello": "world", "n": [1, 2, 3]})
    );

    let id = ws_client::whoami(&mut client).await;
    assert_eq!(id.len(), 16, "an API Gateway-shaped connection id: {id}");
    assert!(id.ends_with('='), "{id}");

    ws_client::send_route(&mut client, "whoami", Value::Null).await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!({"connectionId": id, "stage": "dev"})
    );

    // Not JSON: `$default`, with the raw body.
    ws_client::send_text(&mut client, "plain words, not JSON").await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!({"route": "default", "body": "plain words, not JSON"})
    );

    // JSON naming a route the manifest does not declare: `$default` too.
    let undeclared = r#"{"route":"nowhere","data":1}"#;
    ws_client::send_text(&mut client, undeclared).await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!({"route": "default", "body": undeclared})
    );

    // The worker output is shown with the route and the connection id.
    let line = dev
        .wait_for_line(WAIT, |line| {
            line.contains("$connect") && line.contains(&id) && line.starts_with("[worker")
        })
        .await;
    assert!(
        line.is_some(),
        "no worker line for $connect of {id}:\n{}",
        dev.output().join("\n")
    );
}

/// A `$connect` answering 403 refuses the handshake with 403, and the refused connection never
/// gets a `$disconnect`.
pub async fn handshake_is_refused_with_the_status_connect_returned(dev: &SocketDev) {
    let refused = ws_client::try_connect(&format!("{}?reject=1", dev.ws_url)).await;
    match refused {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 403)
        }
        Err(other) => panic!("expected an HTTP 403 refusal, got {other}"),
        Ok(_) => panic!("the handshake completed although $connect returned 403"),
    }
    let mut client = ws_client::connect(&format!("{}?reject=0", dev.ws_url)).await;
    let id = ws_client::whoami(&mut client).await;
    assert!(!id.is_empty());
    let refused_line = dev
        .wait_for_line(WAIT, |line| line.contains("refused by $connect with 403"))
        .await
        .expect("the refusal is logged");
    let refused_id = refused_line
        .split_whitespace()
        .nth(1)
        .expect("connection id in the line")
        .to_string();
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        !dev.output()
            .iter()
            .any(|line| line.contains(&refused_id) && line.contains("disconnected")),
        "a refused connection got a $disconnect"
    );
}

/// A handler error reaches the client as API Gateway's error frame and the connection stays.
pub async fn failing_handler_gets_the_error_frame_and_the_connection_stays_open(dev: &SocketDev) {
    let mut client = ws_client::connect(&dev.ws_url).await;
    let id = ws_client::whoami(&mut client).await;

    ws_client::send_route(&mut client, "fail", Value::Null).await;
    assert_error_frame(&ws_client::next_json(&mut client, WAIT).await, &id);

    ws_client::send_route(&mut client, "echo", json!("still here")).await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!("still here")
    );
}

/// API Gateway's frame for a failed invocation of connection `id`: exactly `message`,
/// `connectionId` and `requestId`.
pub fn assert_error_frame(frame: &Value, id: &str) {
    assert_eq!(frame["message"], "Internal server error", "{frame}");
    assert_eq!(frame["connectionId"], id, "{frame}");
    assert!(
        frame["requestId"].as_str().is_some_and(|r| !r.is_empty()),
        "{frame}"
    );
    assert_eq!(frame.as_object().unwrap().len(), 3, "{frame}");
}

/// Editing the handler rebuilds it and swaps the workers under an open connection, which sees
/// the new code; a broken edit shows the error and the previous workers keep serving.
pub async fn editing_the_handler_rebuilds_and_swaps_workers(
    dev: &SocketDev,
    project: &EchoProject,
) {
    let mut client = ws_client::connect(&dev.ws_url).await;
    let id = ws_client::whoami(&mut client).await;

    // An edit: whoami gains a field. The same connection sees the new code.
    project.edit("src/main.rs", |source| {
        source.replace(
            r#""stage": socket.stage() }"#,
            r#""stage": socket.stage(), "generation": 2 }"#,
        )
    });
    let rebuilt = dev
        .wait_for_line(Duration::from_secs(600), |line| {
            line.contains("[watch] rebuilt")
        })
        .await;
    assert!(
        rebuilt.is_some(),
        "no rebuild:\n{}",
        dev.output().join("\n")
    );
    ws_client::send_route(&mut client, "whoami", Value::Null).await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!({"connectionId": id, "stage": "dev", "generation": 2})
    );

    // A broken edit: the error is shown and the previous workers keep serving.
    project.edit("src/main.rs", |source| format!("{source}\nfn broken( {{\n"));
    let failed = dev
        .wait_for_line(Duration::from_secs(600), |line| {
            line.contains("[watch] build failed")
        })
        .await;
    assert!(
        failed.is_some(),
        "no build failure shown:\n{}",
        dev.output().join("\n")
    );
    ws_client::send_route(&mut client, "whoami", Value::Null).await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!({"connectionId": id, "stage": "dev", "generation": 2})
    );
    assert!(
        !dev.output()
            .iter()
            .any(|line| line.contains(&format!("{id} disconnected"))),
        "the connection was dropped:\n{}",
        dev.output().join("\n")
    );
}
