//! Headless Chromium driven over the DevTools protocol (CDP) on a loopback WebSocket.
//!
//! Needs Debian's `chromium` (`apt-get install -y chromium`); the test command installs it.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

use crate::http_client;
use crate::ws_client::Client;

/// Where Chromium is expected.
pub const CHROMIUM: &str = "/usr/bin/chromium";

/// A running headless Chromium with a fresh profile.
pub struct Chromium {
    child: Child,
    profile: PathBuf,
    /// `http://127.0.0.1:<port>` of its DevTools endpoint.
    pub devtools: String,
}

impl Chromium {
    pub fn launch() -> Chromium {
        assert!(
            std::path::Path::new(CHROMIUM).exists(),
            "{CHROMIUM} is missing: apt-get install -y chromium"
        );
        let unique = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let profile =
            std::env::temp_dir().join(format!("socket-chromium-{}-{unique}", std::process::id()));
        std::fs::create_dir_all(&profile).unwrap();
        let child = Command::new(CHROMIUM)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
                "--window-size=900,600",
            ])
            .arg(format!("--user-data-dir={}", profile.display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start chromium");
        // With port 0 Chromium writes the port it chose into the profile.
        let active_port = profile.join("DevToolsActivePort");
        let started = Instant::now();
        let port = loop {
            if let Some(port) = std::fs::read_to_string(&active_port).ok().and_then(|text| {
                text.lines()
                    .next()
                    .and_then(|line| line.trim().parse::<u16>().ok())
            }) {
                break port;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "chromium did not open DevTools"
            );
            std::thread::sleep(Duration::from_millis(50));
        };
        Chromium {
            child,
            profile,
            devtools: format!("http://127.0.0.1:{port}"),
        }
    }

    /// Attaches to the first page target.
    pub async fn page(&self) -> Page {
        let started = Instant::now();
        loop {
            let targets =
                http_client::request("GET", &format!("{}/json/list", self.devtools), &[], b"")
                    .await
                    .map(|response| response.json());
            if let Ok(Value::Array(targets)) = targets {
                if let Some(target) = targets.iter().find(|target| target["type"] == "page") {
                    return Page::attach(target).await;
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no page target in chromium"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Opens another tab (on `about:blank`) and attaches to it: two tabs share the browser but
    /// not their page state, like a user with the page open twice.
    pub async fn new_tab(&self) -> Page {
        // Recent Chromium accepts only PUT here.
        let target = http_client::request(
            "PUT",
            &format!("{}/json/new?about:blank", self.devtools),
            &[],
            b"",
        )
        .await
        .expect("open a tab")
        .json();
        Page::attach(&target).await
    }

    /// Closes the tab `page` drives, as a user closing it would (its connections close).
    pub async fn close_tab(&self, page: Page) {
        let response = http_client::request(
            "GET",
            &format!("{}/json/close/{}", self.devtools, page.target_id),
            &[],
            b"",
        )
        .await
        .expect("close a tab");
        assert_eq!(response.status, 200, "close the tab: {}", response.text());
    }
}

impl Drop for Chromium {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}

/// One page, driven with CDP commands.
pub struct Page {
    socket: Client,
    next_id: u64,
    target_id: String,
}

impl Page {
    /// Attaches to a target as `/json/list` or `/json/new` describes it.
    async fn attach(target: &Value) -> Page {
        let url = target["webSocketDebuggerUrl"]
            .as_str()
            .unwrap_or_else(|| panic!("no DevTools URL for the tab: {target}"));
        let (socket, _) = tokio_tungstenite::connect_async(url)
            .await
            .expect("attach to the page");
        Page {
            socket,
            next_id: 0,
            target_id: target["id"].as_str().expect("target id").to_owned(),
        }
    }

    /// Enables page events and loads `url`.
    pub async fn open(&mut self, url: &str) {
        self.call("Page.enable", json!({})).await;
        self.call("Page.navigate", json!({ "url": url })).await;
    }

    /// The text content of the element `selector` matches (`null` when there is none).
    pub async fn text_of(&mut self, selector: &str) -> Value {
        self.evaluate(&format!(
            "document.querySelector({selector:?})?.textContent ?? null"
        ))
        .await
    }

    /// Sends a command and returns its `result` (events in between are skipped).
    pub async fn call(&mut self, method: &str, params: Value) -> Value {
        self.next_id += 1;
        let id = self.next_id;
        let command = json!({ "id": id, "method": method, "params": params });
        self.socket
            .send(Message::Text(command.to_string().into()))
            .await
            .expect("send a CDP command");
        loop {
            let frame = tokio::time::timeout(Duration::from_secs(30), self.socket.next())
                .await
                .unwrap_or_else(|_| panic!("no answer to {method}"))
                .expect("CDP connection open")
                .expect("CDP frame");
            let Message::Text(text) = frame else { continue };
            let message: Value = serde_json::from_str(&text).expect("CDP JSON");
            if message["id"] == id {
                if let Some(error) = message.get("error") {
                    panic!("{method} failed: {error}");
                }
                return message["result"].clone();
            }
        }
    }

    /// Evaluates a JavaScript expression in the page and returns its value.
    pub async fn evaluate(&mut self, expression: &str) -> Value {
        let result = self
            .call(
                "Runtime.evaluate",
                json!({ "expression": expression, "returnByValue": true }),
            )
            .await;
        result["result"]["value"].clone()
    }

    /// Polls `expression` until it returns `true`.
    pub async fn wait_until(&mut self, expression: &str, timeout: Duration) -> bool {
        let give_up = Instant::now() + timeout;
        while Instant::now() < give_up {
            if self.evaluate(expression).await == Value::Bool(true) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    /// A real mouse click in the middle of the element `selector` matches.
    pub async fn click(&mut self, selector: &str) {
        let rect = self
            .evaluate(&format!(
                "(() => {{ const r = document.querySelector({selector:?}).getBoundingClientRect(); \
                 return {{ x: r.x + r.width / 2, y: r.y + r.height / 2 }}; }})()"
            ))
            .await;
        for kind in ["mousePressed", "mouseReleased"] {
            self.call(
                "Input.dispatchMouseEvent",
                json!({ "type": kind, "x": rect["x"], "y": rect["y"], "button": "left", "clickCount": 1 }),
            )
            .await;
        }
    }

    /// Types `text` into the element `selector` matches (focus, then keyboard input).
    pub async fn type_into(&mut self, selector: &str, text: &str) {
        self.evaluate(&format!("document.querySelector({selector:?}).focus()"))
            .await;
        self.call("Input.insertText", json!({ "text": text })).await;
    }

    /// A PNG screenshot of the page.
    pub async fn screenshot(&mut self) -> Vec<u8> {
        use base64::Engine;
        let result = self
            .call("Page.captureScreenshot", json!({ "format": "png" }))
            .await;
        base64::engine::general_purpose::STANDARD
            .decode(result["data"].as_str().expect("screenshot data"))
            .expect("base64 screenshot")
    }
}
