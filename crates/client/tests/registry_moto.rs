//! The registry's conformance suite against moto's DynamoDB server (a real implementation of the
//! JSON API), and against the in-memory tables handler unit tests use.

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use socket_client::{conformance, DynamoDb, MemoryTables};

/// moto's server on a free loopback port, killed on drop.
struct Moto {
    child: Child,
    port: u16,
}

impl Moto {
    /// `moto_server` from `target/moto-venv/bin/` (where the README's test command installs it),
    /// else from `PATH`.
    fn start() -> Moto {
        let venv = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../target/moto-venv/bin/moto_server");
        for _ in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")
                .and_then(|listener| listener.local_addr())
                .expect("a free loopback port")
                .port();
            let program = if venv.is_file() {
                venv.clone()
            } else {
                PathBuf::from("moto_server")
            };
            let child = Command::new(program)
                .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("moto_server: install it with `python3 -m venv target/moto-venv && target/moto-venv/bin/pip install 'moto[server]'`");
            let mut moto = Moto { child, port };
            if moto.ready(Duration::from_secs(60)) {
                return moto;
            }
            // Lost the port between choosing and binding it: try another.
        }
        panic!("moto_server did not start");
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

    fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn the_registry_passes_the_suite_on_moto_dynamodb() {
    let moto = Moto::start();
    let table = "chat-dev-connections";
    conformance::create_table(&moto.endpoint(), table).await;
    conformance::run(&moto.endpoint(), table).await;
    // Twice on the same table: the suite cleans up after itself and does not collide.
    conformance::run(&moto.endpoint(), table).await;
}

#[tokio::test]
async fn the_in_memory_tables_pass_the_same_suite() {
    let tables = std::sync::Arc::new(MemoryTables::new());
    conformance::run_on(DynamoDb::in_memory(tables.clone()), "memory-connections").await;
    assert_eq!(
        tables.item_count("memory-connections"),
        0,
        "the suite leaves nothing behind"
    );
}

#[tokio::test]
async fn a_missing_table_is_reported_as_such() {
    let moto = Moto::start();
    let registry =
        socket_client::Registry::new(conformance::dynamodb(&moto.endpoint()), "deleted-by-hand");
    let error = registry.members("lobby").await.unwrap_err();
    assert!(
        matches!(&error, socket_client::RegistryError::TableMissing { table } if table == "deleted-by-hand"),
        "{error:?}"
    );
    assert!(error.to_string().contains("socket deploy"), "{error}");
}
