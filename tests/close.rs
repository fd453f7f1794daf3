//! How connections end under `socket dev`, as the `disconnect` handler sees it: the close code
//! and reason in `requestContext` for every way a connection can end — the client's close frame
//! (1000, 1001, none), a dropped TCP connection (1006), a binary frame (1003), the idle timeout,
//! a management `DELETE` and the emulator shutting down.
//!
//! `examples/echo`'s `disconnect` handler prints `disconnect code=<code> reason="<reason>"`;
//! `socket dev` shows it prefixed with `[worker N $disconnect <id>]`.
//!
//! Run with `cargo test -p socket-tests --test close`.

use std::time::Duration;

use futures_util::SinkExt;
use socket_protocol::percent;
use socket_tests::http_client;
use socket_tests::socket_dev::SocketDev;
use socket_tests::ws_client::{self, Received};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(15);

/// The line the `disconnect` handler printed for `id` (`code=… reason="…"`).
async fn handler_saw(dev: &SocketDev, id: &str) -> String {
    let marker = format!("$disconnect {id}] disconnect code=");
    let line = dev
        .wait_for_line(WAIT, |line| line.contains(&marker))
        .await
        .unwrap_or_else(|| {
            panic!(
                "the disconnect handler did not run for {id}:\n{}",
                dev.output().join("\n")
            )
        });
    line.split_once("] ")
        .map(|(_, seen)| seen.to_string())
        .unwrap()
}

async fn close_with(client: &mut ws_client::Client, code: u16, reason: &str) {
    client
        .send(Message::Close(Some(CloseFrame {
            code: CloseCode::from(code),
            reason: reason.to_string().into(),
        })))
        .await
        .expect("send the close frame");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_initiated_closes_reach_the_disconnect_handler() {
    let dev = SocketDev::echo(&["--workers", "2"]);

    // A normal close, with a reason.
    let mut normal = ws_client::connect(&dev.ws_url).await;
    let normal_id = ws_client::whoami(&mut normal).await;
    close_with(&mut normal, 1000, "bye").await;
    // The gateway answers the closing handshake (seen answered with 1000, and under heavy load
    // once with the TCP connection ending first); either way the connection ends.
    match ws_client::next(&mut normal, WAIT).await {
        Received::Close(Some((1000, _))) | Received::Ended(_) => {}
        other => panic!("expected the connection to end, got {other:?}"),
    }
    assert_eq!(
        handler_saw(&dev, &normal_id).await,
        r#"disconnect code=1000 reason="bye""#
    );

    // Going away (a browser tab closing).
    let mut leaving = ws_client::connect(&dev.ws_url).await;
    let leaving_id = ws_client::whoami(&mut leaving).await;
    close_with(&mut leaving, 1001, "tab closed").await;
    assert_eq!(
        handler_saw(&dev, &leaving_id).await,
        r#"disconnect code=1001 reason="tab closed""#
    );

    // A close frame without a code: 1005, "no status received".
    let mut silent = ws_client::connect(&dev.ws_url).await;
    let silent_id = ws_client::whoami(&mut silent).await;
    silent.send(Message::Close(None)).await.unwrap();
    assert_eq!(
        handler_saw(&dev, &silent_id).await,
        r#"disconnect code=1005 reason="""#
    );

    // The TCP connection dropped without a close frame: 1006.
    let mut dropped = ws_client::connect(&dev.ws_url).await;
    let dropped_id = ws_client::whoami(&mut dropped).await;
    drop(dropped);
    assert_eq!(
        handler_saw(&dev, &dropped_id).await,
        r#"disconnect code=1006 reason="""#
    );

    // Each ran exactly once.
    for id in [&normal_id, &leaving_id, &silent_id, &dropped_id] {
        let marker = format!("$disconnect {id}] disconnect code=");
        let runs = dev
            .output()
            .iter()
            .filter(|line| line.contains(&marker))
            .count();
        assert_eq!(runs, 1, "{id}:\n{}", dev.output().join("\n"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_binary_frame_closes_with_1003_without_invoking_a_route() {
    let dev = SocketDev::echo(&["--workers", "1"]);
    let mut client = ws_client::connect(&dev.ws_url).await;
    let id = ws_client::whoami(&mut client).await;
    client
        .send(Message::Binary(b"binary \x01 bytes".to_vec().into()))
        .await
        .unwrap();
    match ws_client::next(&mut client, WAIT).await {
        Received::Close(Some((1003, _))) => {}
        other => panic!("expected close 1003, got {other:?}"),
    }
    assert!(
        handler_saw(&dev, &id)
            .await
            .starts_with("disconnect code=1003 "),
        "{}",
        dev.output().join("\n")
    );
    // The frame was not handed to `$default` (or any route).
    assert!(
        !dev.output()
            .iter()
            .any(|line| line.contains("route=$default")),
        "{}",
        dev.output().join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_initiated_closes_reach_the_disconnect_handler() {
    // Idle: 1001 "Going away".
    let idling = SocketDev::echo(&["--workers", "1", "--idle-timeout", "1"]);
    let mut idle = ws_client::connect(&idling.ws_url).await;
    let idle_id = ws_client::whoami(&mut idle).await;
    assert_eq!(
        ws_client::next(&mut idle, WAIT).await,
        Received::Close(Some((1001, "Going away".into())))
    );
    assert_eq!(
        handler_saw(&idling, &idle_id).await,
        r#"disconnect code=1001 reason="Going away""#
    );

    let mut dev = SocketDev::echo(&["--workers", "2"]);

    // A backend's DELETE @connections/{id}: 1000.
    let mut deleted = ws_client::connect(&dev.ws_url).await;
    let deleted_id = ws_client::whoami(&mut deleted).await;
    let url = format!(
        "{}/{}",
        dev.management_url,
        percent::encode_segment(&deleted_id)
    );
    let answer = http_client::request("DELETE", &url, &[], b"")
        .await
        .unwrap();
    assert_eq!(answer.status, 204, "{}", answer.text());
    assert_eq!(
        ws_client::next(&mut deleted, WAIT).await,
        Received::Close(Some((1000, String::new())))
    );
    assert_eq!(
        handler_saw(&dev, &deleted_id).await,
        r#"disconnect code=1000 reason="""#
    );

    // The emulator stopping: 1001 "Going away".
    let mut open = ws_client::connect(&dev.ws_url).await;
    let open_id = ws_client::whoami(&mut open).await;
    let status = tokio::task::block_in_place(|| dev.terminate(WAIT)).expect("socket dev stops");
    assert!(status.success(), "{status}");
    assert_eq!(
        ws_client::next(&mut open, WAIT).await,
        Received::Close(Some((1001, "Going away".into())))
    );
    assert_eq!(
        handler_saw(&dev, &open_id).await,
        r#"disconnect code=1001 reason="Going away""#
    );
}
