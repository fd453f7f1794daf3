//! moto's server (a real implementation of DynamoDB's JSON API) on a free loopback port, for
//! running the suite; one server per test, killed on drop.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// moto's server on a free loopback port, killed on drop.
pub struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// `moto_server` from `target/moto-venv/bin/` (where the README's test command installs it),
    /// else from `PATH`.
    pub fn start() -> Moto {
        let target = std::env::var_os("CARGO_TARGET_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target"));
        let venv = target.join("moto-venv/bin/moto_server");
        Moto::start_with(|| {
            Command::new(if venv.is_file() {
                venv.clone()
            } else {
                PathBuf::from("moto_server")
            })
        })
    }

    /// Starts the moto server `server` makes (with `-H 127.0.0.1 -p {port}` appended) on a free
    /// loopback port, and waits until it answers.
    pub fn start_with(server: impl Fn() -> Command) -> Moto {
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free loopback port")
                .port();
            let child = server()
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto_server: install it with `python3 -m venv target/moto-venv && target/moto-venv/bin/pip install 'moto[server]'` (the README's test command does)");
            let mut moto = Moto { child, port };
            if moto.ready(Duration::from_secs(60)) {
                return moto;
            }
            // Lost the port between choosing and binding it: try another.
        }
        panic!("moto_server did not start");
    }

    /// The loopback port it listens on.
    pub fn port(&self) -> u16 {
        self.port
    }

    fn ready(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return false;
            }
            if TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }

    /// `http://127.0.0.1:{port}`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
