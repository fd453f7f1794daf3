//! `socket dev` runs the `$connect` authorizer as API Gateway does, end to end: the real
//! `socket` binary serving `examples/auth` (an `on_authorize` handler in the same binary) to
//! real WebSocket clients.
//!
//! Run with `cargo test -p socket-tests --test auth`.

use std::time::Duration;

use serde_json::{json, Value};
use socket_tests::socket_dev::SocketDev;
use socket_tests::ws_client;

const WAIT: Duration = Duration::from_secs(10);

/// The HTTP status a refused handshake got.
async fn refused_status(url: &str) -> u16 {
    match ws_client::try_connect(url).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
        Ok(_) => panic!("the handshake to {url} completed"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deny_is_403_before_connect_and_a_missing_token_is_401_without_invoking() {
    let dev = SocketDev::example("auth", &["--workers", "1"]);

    assert_eq!(
        refused_status(&format!("{}?token=wrong", dev.ws_url)).await,
        403
    );
    let denied = dev
        .wait_for_line(WAIT, |line| line.contains("refused with 403"))
        .await
        .expect("the denial is logged");
    let denied_id = denied
        .split_whitespace()
        .nth(1)
        .expect("connection id in the line")
        .to_string();

    assert_eq!(refused_status(&dev.ws_url).await, 401);
    dev.wait_for_line(WAIT, |line| {
        line.contains("refused with 401") && line.contains("route.request.querystring.token")
    })
    .await
    .expect("the missing identity source is logged");

    // An allowed connection afterwards: its connect line shows the worker output is read.
    let mut client = ws_client::connect(&format!("{}?token=let-me-in", dev.ws_url)).await;
    ws_client::send_route(&mut client, "whoami", Value::Null).await;
    let allowed_id = ws_client::next_json(&mut client, WAIT).await["connectionId"]
        .as_str()
        .unwrap()
        .to_string();
    dev.wait_for_line(WAIT, |line| {
        line.contains(&format!("connect handler ran for {allowed_id}"))
    })
    .await
    .expect("connect ran for the allowed connection");

    let output = dev.output();
    assert!(
        !output
            .iter()
            .any(|line| line.contains(&format!("connect handler ran for {denied_id}"))),
        "connect ran for the denied connection:\n{}",
        output.join("\n")
    );
    assert!(
        output
            .iter()
            .any(|line| line.contains(&format!("authorize ran for {denied_id}"))),
        "the authorizer decided the denial:\n{}",
        output.join("\n")
    );
    // The handshake without a token never reached the function: two handshakes, two runs.
    let authorize_runs = output
        .iter()
        .filter(|line| line.contains("authorize ran for"))
        .count();
    assert_eq!(authorize_runs, 2, "{}", output.join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn allow_puts_the_context_in_connect_and_every_later_event() {
    let dev = SocketDev::example("auth", &["--workers", "1"]);
    let mut client = ws_client::connect(&format!("{}?token=let-me-in", dev.ws_url)).await;

    ws_client::send_route(&mut client, "whoami", Value::Null).await;
    let reply = ws_client::next_json(&mut client, WAIT).await;
    assert_eq!(
        reply["authorizer"],
        json!({"plan": "free", "connectedWith": "token", "principalId": "guest"})
    );
    let id = reply["connectionId"].as_str().unwrap().to_string();
    dev.wait_for_line(WAIT, |line| {
        line.contains(&format!("connect handler ran for {id} as guest"))
    })
    .await
    .expect("connect saw the principal");

    // A second message still carries it.
    ws_client::send_route(&mut client, "whoami", Value::Null).await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await["authorizer"]["principalId"],
        "guest"
    );
}
