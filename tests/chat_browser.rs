//! The chat example's page (`examples/chat/index.html`) in two headless Chromium tabs, talking
//! to the real `socket dev` on `examples/chat`: both join a room, one says something, the other
//! shows it, and sees the first leave when its tab closes.
//!
//! Run with `cargo test -p socket-tests --test chat_browser`; needs Debian's `chromium`. The
//! screenshots are kept in `target/test-artifacts/chat-alice.png` and `chat-bob.png`.

use std::time::Duration;

use serde_json::json;
use socket_tests::artifacts;
use socket_tests::chromium::{Chromium, Page};
use socket_tests::socket_dev::SocketDev;
use socket_tests::static_files;
use socket_tests::workspace::workspace_root;

const WAIT: Duration = Duration::from_secs(20);

/// The texts of the page's log lines, in order.
const LOG: &str = "[...document.querySelectorAll('#log li')].map(li => li.textContent)";

/// Waits until one of the page's log lines reads exactly `line`.
async fn assert_logged(page: &mut Page, who: &str, line: &str, dev: &SocketDev) {
    let shown = format!("{LOG}.includes({line:?})");
    assert!(
        page.wait_until(&shown, WAIT).await,
        "{who}'s page does not show {line:?}; its log: {}\nsocket dev:\n{}",
        page.evaluate(LOG).await,
        dev.output().join("\n")
    );
}

/// Opens the page as `name`, submits the join form with a real click, and waits until the
/// page says it is in `room`.
async fn join(page: &mut Page, site: &str, dev: &SocketDev, name: &str, room: &str) {
    page.open(&format!(
        "{site}/index.html?url={}&name={name}&room={room}",
        dev.ws_url
    ))
    .await;
    assert!(
        page.wait_until("document.readyState === 'complete'", WAIT)
            .await,
        "{name}'s page did not load"
    );
    page.call("Page.bringToFront", json!({})).await;
    page.click("#join").await;
    let status = format!("document.getElementById('status').textContent === 'in {room}'");
    assert!(
        page.wait_until(&status, WAIT).await,
        "{name}'s page did not join {room}: status {}\nsocket dev:\n{}",
        page.text_of("#status").await,
        dev.output().join("\n")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_tabs_exchange_a_message_and_see_each_other() {
    let dev = SocketDev::example("chat", &["--workers", "2"]);
    let site = static_files::serve_file(workspace_root().join("examples/chat/index.html")).await;
    let chromium = Chromium::launch();
    let mut alice = chromium.page().await;
    let mut bob = chromium.new_tab().await;

    join(&mut alice, &site, &dev, "alice", "lobby").await;
    assert_logged(&mut alice, "alice", "you joined lobby (1 here)", &dev).await;
    join(&mut bob, &site, &dev, "bob", "lobby").await;
    assert_logged(&mut bob, "bob", "you joined lobby (2 here)", &dev).await;
    // Presence: alice's page saw bob arrive.
    assert_logged(&mut alice, "alice", "bob joined lobby", &dev).await;

    alice.call("Page.bringToFront", json!({})).await;
    alice.type_into("#text", "hello from alice's tab").await;
    alice.click("#say").await;
    // Everyone in the room gets it, the sender too, with the sender's name.
    assert_logged(&mut bob, "bob", "alice: hello from alice's tab", &dev).await;
    assert_logged(&mut alice, "alice", "alice: hello from alice's tab", &dev).await;
    assert_eq!(
        bob.evaluate("document.querySelector('#log li.message .from').textContent")
            .await,
        "alice: ",
        "the sender's name is shown apart from the text"
    );
    // The page cleared its input: the click submitted the form.
    assert_eq!(
        alice
            .evaluate("document.getElementById('text').value")
            .await,
        ""
    );

    let alice_screenshot = alice.screenshot().await;
    assert!(alice_screenshot.starts_with(b"\x89PNG"), "not a PNG");
    artifacts::keep("chat-alice.png", &alice_screenshot);

    // Closing alice's tab closes her WebSocket: the disconnect tells the room she left.
    chromium.close_tab(alice).await;
    assert_logged(&mut bob, "bob", "alice left lobby", &dev).await;
    bob.call("Page.bringToFront", json!({})).await;
    let bob_screenshot = bob.screenshot().await;
    assert!(bob_screenshot.starts_with(b"\x89PNG"), "not a PNG");
    artifacts::keep("chat-bob.png", &bob_screenshot);
    assert_eq!(
        bob.evaluate(LOG).await,
        json!([
            "you joined lobby (2 here)",
            "alice: hello from alice's tab",
            "alice left lobby"
        ]),
        "bob's page shows exactly what happened since he joined"
    );
}
