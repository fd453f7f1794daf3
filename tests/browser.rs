//! The echo example's browser page (`examples/echo/index.html`) in headless Chromium, talking to
//! the real `socket dev`: type a message, click Send, see the echo in the page.
//!
//! Run with `cargo test -p socket-tests --test browser`; needs Debian's `chromium`. The
//! screenshot is kept in `target/test-artifacts/browser-echo.png`.

use std::time::Duration;

use socket_tests::artifacts;
use socket_tests::chromium::Chromium;
use socket_tests::socket_dev::SocketDev;
use socket_tests::static_files;
use socket_tests::workspace::workspace_root;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_page_in_chromium_shows_the_echo() {
    let dev = SocketDev::echo(&["--workers", "2"]);
    let site = static_files::serve_file(workspace_root().join("examples/echo/index.html")).await;
    let chromium = Chromium::launch();
    let mut page = chromium.page().await;

    page.open(&format!("{site}/index.html?url={}", dev.ws_url))
        .await;
    assert!(
        page.wait_until(
            "document.getElementById('status')?.textContent === 'open'",
            Duration::from_secs(20)
        )
        .await,
        "the page did not connect: status is {}\n{}",
        page.evaluate("document.getElementById('status')?.textContent")
            .await,
        dev.output().join("\n")
    );

    let message = "hello from chromium";
    page.type_into("#message", message).await;
    page.click("#send").await;
    let shown = format!(
        "[...document.querySelectorAll('#log li')].some(li => li.textContent === {:?})",
        format!("\"{message}\"")
    );
    assert!(
        page.wait_until(&shown, Duration::from_secs(20)).await,
        "the echo did not appear; log: {}",
        page.evaluate("document.getElementById('log').textContent")
            .await
    );
    // The input was cleared by the page's submit handler: the click really submitted the form.
    assert_eq!(
        page.evaluate("document.getElementById('message').value")
            .await,
        ""
    );

    let screenshot = page.screenshot().await;
    assert!(screenshot.starts_with(b"\x89PNG"), "not a PNG");
    artifacts::keep("browser-echo.png", &screenshot);

    // The emulator saw a browser connection: the handshake carried the page's origin.
    assert!(dev
        .output()
        .iter()
        .any(|line| line.contains("connected from 127.0.0.1")));
}
