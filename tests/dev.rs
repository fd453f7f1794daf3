//! `socket dev` end to end: the real `socket` binary serving `examples/echo`, driven by real
//! WebSocket clients over TCP and by HTTP calls to its management API.
//!
//! Run with `cargo test -p socket-tests --test dev`. Set `SOCKET_TEST_ECHO_OUTPUT=1` to see what
//! the emulator prints.

use std::collections::BTreeSet;
use std::time::{Duration, Instant};

use futures_util::SinkExt;
use serde_json::{json, Value};
use socket_protocol::percent;
use socket_tests::echo_checks;
use socket_tests::echo_project::EchoProject;
use socket_tests::http_client;
use socket_tests::socket_dev::SocketDev;
use socket_tests::ws_client::{self, Received};
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

const WAIT: Duration = Duration::from_secs(10);

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn echo_whoami_and_default_routes() {
    echo_checks::echo_whoami_and_default_routes(&SocketDev::echo(&["--workers", "2"])).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshake_is_refused_with_the_status_connect_returned() {
    let dev = SocketDev::echo(&["--workers", "1"]);
    echo_checks::handshake_is_refused_with_the_status_connect_returned(&dev).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_handler_gets_the_error_frame_and_the_connection_stays_open() {
    let dev = SocketDev::echo(&["--workers", "1"]);
    echo_checks::failing_handler_gets_the_error_frame_and_the_connection_stays_open(&dev).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_that_exits_mid_invocation_is_replaced_and_the_client_gets_the_error_frame() {
    let dev = SocketDev::echo(&["--workers", "1"]);
    let mut client = ws_client::connect(&dev.ws_url).await;
    let id = ws_client::whoami(&mut client).await;
    let workers_before = child_processes(dev.pid());
    assert_eq!(workers_before.len(), 1, "{workers_before:?}");

    ws_client::send_route(&mut client, "crash", Value::Null).await;
    echo_checks::assert_error_frame(&ws_client::next_json(&mut client, WAIT).await, &id);
    assert!(
        dev.wait_for_line(WAIT, |line| line
            .contains(&format!("while running crash {id}")))
            .await
            .is_some(),
        "{}",
        dev.output().join("\n")
    );

    // The same connection is served by a new process.
    ws_client::send_route(&mut client, "echo", json!("after the crash")).await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!("after the crash")
    );
    let workers_after = child_processes(dev.pid());
    assert_eq!(workers_after.len(), 1, "{workers_after:?}");
    assert_ne!(
        workers_after, workers_before,
        "the crashed process was replaced"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn management_api_sends_describes_and_deletes() {
    let dev = SocketDev::echo(&["--workers", "2"]);
    let mut first = ws_client::connect(&dev.ws_url).await;
    let mut second = ws_client::connect(&dev.ws_url).await;
    let first_id = ws_client::whoami(&mut first).await;
    let second_id = ws_client::whoami(&mut second).await;
    assert_ne!(first_id, second_id);
    // AWS ids are base64 (`+`, `/`, `=`): the SDKs URL-encode them as a path segment.
    for id in [&first_id, &second_id] {
        assert!(
            id.contains('+') && id.contains('/') && id.ends_with('='),
            "{id}"
        );
    }
    let url = |id: &str| format!("{}/{}", dev.management_url, percent::encode_segment(id));
    // What a SigV4-signing client sends: accepted, not checked.
    let signed = [
        ("Authorization", "AWS4-HMAC-SHA256 Credential=AKID/20260101/us-east-1/execute-api/aws4_request, SignedHeaders=host;x-amz-date, Signature=00"),
        ("X-Amz-Date", "20260101T000000Z"),
    ];

    // POST to one connection: only that one receives it.
    let sent = http_client::request("POST", &url(&first_id), &signed, b"{\"pushed\":true}")
        .await
        .unwrap();
    assert_eq!(sent.status, 200, "{}", sent.text());
    assert_eq!(
        ws_client::next(&mut first, WAIT).await,
        Received::Text("{\"pushed\":true}".into())
    );
    assert_eq!(
        ws_client::next(&mut second, Duration::from_millis(300)).await,
        Received::Timeout
    );

    // Unencoded, the id's `/` makes another path: refused as API Gateway refuses it, nothing sent.
    let unencoded = format!("{}/{first_id}", dev.management_url);
    let refused = http_client::request("POST", &unencoded, &signed, b"lost")
        .await
        .unwrap();
    assert_eq!(refused.status, 403, "{}", refused.text());
    assert_eq!(
        ws_client::next(&mut first, Duration::from_millis(300)).await,
        Received::Timeout
    );

    // GET: what API Gateway reports about the connection.
    let described = http_client::request("GET", &url(&first_id), &signed, b"")
        .await
        .unwrap();
    assert_eq!(described.status, 200, "{}", described.text());
    let info = described.json();
    let connected_at = info["connectedAt"]
        .as_str()
        .expect("connectedAt")
        .to_string();
    let last_active_at = info["lastActiveAt"]
        .as_str()
        .expect("lastActiveAt")
        .to_string();
    for stamp in [&connected_at, &last_active_at] {
        assert!(
            stamp.len() == 24 && stamp.ends_with('Z') && stamp.as_bytes()[10] == b'T',
            "ISO 8601 UTC: {stamp}"
        );
    }
    assert!(last_active_at >= connected_at, "{info}");
    assert_eq!(info["identity"]["sourceIp"], "127.0.0.1", "{info}");
    assert_eq!(
        info["identity"]["userAgent"],
        ws_client::USER_AGENT,
        "{info}"
    );

    // A body over the 128 KB message quota is refused.
    let too_big = vec![b'x'; 129 * 1024];
    let refused = http_client::request("POST", &url(&second_id), &[], &too_big)
        .await
        .unwrap();
    assert_eq!(refused.status, 413);

    // DELETE closes the client's connection, and $disconnect runs for it.
    let deleted = http_client::request("DELETE", &url(&first_id), &signed, b"")
        .await
        .unwrap();
    assert_eq!(deleted.status, 204, "{}", deleted.text());
    match ws_client::next(&mut first, WAIT).await {
        Received::Close(Some((1000, _))) => {}
        other => panic!("expected a close frame with 1000, got {other:?}"),
    }
    let ran = dev
        .wait_for_line(WAIT, |line| {
            line.starts_with("[worker")
                && line.contains(&format!(
                    "socket invocation route=$disconnect connection={first_id} "
                ))
                && line.contains(" status=200 ")
        })
        .await;
    assert!(
        ran.is_some(),
        "no $disconnect ran for {first_id}:\n{}",
        dev.output().join("\n")
    );
    let reported = dev
        .wait_for_line(WAIT, |line| {
            line.contains(&format!("{first_id} disconnected (1000"))
        })
        .await;
    assert!(reported.is_some(), "{}", dev.output().join("\n"));

    // The gone connection: 410 for every method.
    for method in ["POST", "GET", "DELETE"] {
        let gone = http_client::request(method, &url(&first_id), &[], b"x")
            .await
            .unwrap();
        assert_eq!(gone.status, 410, "{method} after DELETE");
        assert_eq!(
            gone.headers.get("x-amzn-errortype").map(String::as_str),
            Some("GoneException")
        );
    }
    let unknown = http_client::request("POST", &url("NoSuchConnId0A="), &[], b"x")
        .await
        .unwrap();
    assert_eq!(unknown.status, 410);

    // The other connection was not disturbed.
    ws_client::send_route(&mut second, "echo", json!(2)).await;
    assert_eq!(ws_client::next_json(&mut second, WAIT).await, json!(2));
    // $disconnect ran exactly once for the deleted connection.
    let runs = dev
        .output()
        .iter()
        .filter(|line| {
            line.starts_with("[worker")
                && line.contains(&format!(
                    "socket invocation route=$disconnect connection={first_id} "
                ))
        })
        .count();
    assert_eq!(runs, 1, "{}", dev.output().join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_flag_serves_the_registry_table_at_at_dynamodb() {
    let dev = SocketDev::echo(&["--connections"]);
    let endpoint = format!("http://127.0.0.1:{}/@dynamodb", dev.port());
    let call = |operation: &'static str, body: Value| {
        let endpoint = endpoint.clone();
        async move {
            let target = format!("DynamoDB_20120810.{operation}");
            http_client::request(
                "POST",
                &endpoint,
                &[
                    ("content-type", "application/x-amz-json-1.0"),
                    ("x-amz-target", &target),
                ],
                body.to_string().as_bytes(),
            )
            .await
            .unwrap()
        }
    };
    // The table is the one `socket deploy` would create, there from the start.
    let put = call(
        "PutItem",
        json!({"TableName": "echo-dev-connections", "Item": {"pk": {"S": "all"}, "sk": {"S": "id1"}}}),
    )
    .await;
    assert_eq!((put.status, put.json()), (200, json!({})));
    let query = call(
        "Query",
        json!({
            "TableName": "echo-dev-connections",
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": "all"}},
        }),
    )
    .await;
    assert_eq!(query.headers["content-type"], "application/x-amz-json-1.0");
    assert_eq!(
        query.json(),
        json!({"Count": 1, "ScannedCount": 1, "Items": [{"pk": {"S": "all"}, "sk": {"S": "id1"}}]})
    );
    let missing = call("DescribeTable", json!({"TableName": "other-table"})).await;
    assert_eq!(missing.status, 400);
    assert_eq!(
        missing.json()["__type"],
        "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
    );
    assert!(dev
        .output()
        .iter()
        .any(|line| line.contains("connection registry: table echo-dev-connections")));

    // Without the flag the path is not served.
    let off = SocketDev::echo(&[]);
    let refused = http_client::request(
        "POST",
        &format!("http://127.0.0.1:{}/@dynamodb", off.port()),
        &[("x-amz-target", "DynamoDB_20120810.ListTables")],
        b"{}",
    )
    .await
    .unwrap();
    assert_eq!(refused.status, 403);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn message_over_128_kb_is_closed_with_1009() {
    let dev = SocketDev::echo(&["--workers", "1"]);

    // 100 KB in four 25 KB frames: within both quotas (32 KB per frame, 128 KB per message).
    let mut client = ws_client::connect(&dev.ws_url).await;
    let payload = "y".repeat(100 * 1024 - 40);
    let message = json!({"route": "echo", "data": payload}).to_string();
    let chunks: Vec<&[u8]> = message.as_bytes().chunks(25 * 1024).collect();
    for (index, chunk) in chunks.iter().enumerate() {
        let opcode = if index == 0 {
            OpCode::Data(Data::Text)
        } else {
            OpCode::Data(Data::Continue)
        };
        let frame = Frame::message(chunk.to_vec(), opcode, index == chunks.len() - 1);
        client.send(Message::Frame(frame)).await.unwrap();
    }
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!(payload)
    );

    // 129 KB: closed with API Gateway's code.
    let mut client = ws_client::connect(&dev.ws_url).await;
    let id = ws_client::whoami(&mut client).await;
    ws_client::send_text(&mut client, &"z".repeat(129 * 1024)).await;
    match ws_client::next(&mut client, WAIT).await {
        Received::Close(Some((1009, reason))) => assert_eq!(reason, "Message too big"),
        other => panic!("expected close 1009, got {other:?}"),
    }
    let line = dev
        .wait_for_line(WAIT, |line| {
            line.contains(&format!("{id} disconnected (1009"))
        })
        .await;
    assert!(line.is_some(), "{}", dev.output().join("\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_connections_are_closed_after_the_idle_timeout() {
    let dev = SocketDev::echo(&["--workers", "1", "--idle-timeout", "1"]);
    let mut client = ws_client::connect(&dev.ws_url).await;
    let id = ws_client::whoami(&mut client).await;
    let started = Instant::now();
    match ws_client::next(&mut client, Duration::from_secs(5)).await {
        Received::Close(Some((1001, reason))) => assert_eq!(reason, "Going away"),
        other => panic!("expected close 1001, got {other:?}"),
    }
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(700) && waited < Duration::from_secs(3),
        "closed after {waited:?}"
    );
    assert!(dev
        .wait_for_line(WAIT, |line| line
            .contains(&format!("{id} disconnected (1001 \"Going away\")")))
        .await
        .is_some());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_are_closed_at_the_maximum_duration_even_when_busy() {
    let dev = SocketDev::echo(&["--workers", "1", "--max-connection-duration", "1.5"]);
    let mut client = ws_client::connect(&dev.ws_url).await;
    let started = Instant::now();
    let closed = loop {
        ws_client::send_route(&mut client, "echo", json!("busy")).await;
        match ws_client::next(&mut client, WAIT).await {
            Received::Text(_) => tokio::time::sleep(Duration::from_millis(100)).await,
            other => break other,
        }
    };
    assert_eq!(closed, Received::Close(Some((1001, "Going away".into()))));
    assert!(
        started.elapsed() >= Duration::from_millis(1300),
        "{:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handler_past_the_function_timeout_is_killed_and_replaced() {
    let dev = SocketDev::echo(&["--workers", "1", "--timeout", "1"]);
    let mut client = ws_client::connect(&dev.ws_url).await;
    let id = ws_client::whoami(&mut client).await;

    let started = Instant::now();
    ws_client::send_route(&mut client, "sleep", json!(5000)).await;
    let frame = ws_client::next_json(&mut client, WAIT).await;
    assert_eq!(frame["message"], "Internal server error", "{frame}");
    assert_eq!(frame["connectionId"], id.as_str());
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert!(dev
        .wait_for_line(WAIT, |line| line
            .contains(&format!("sleep {id} timed out after 1s")))
        .await
        .is_some());

    // The only worker was killed; a new process serves the next message.
    ws_client::send_route(&mut client, "sleep", json!(10)).await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!({"slept": 10})
    );
    ws_client::send_route(&mut client, "echo", json!("after")).await;
    assert_eq!(
        ws_client::next_json(&mut client, WAIT).await,
        json!("after")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_worker_delivers_a_connections_messages_in_order() {
    let dev = SocketDev::echo(&["--workers", "1"]);
    let mut client = ws_client::connect(&dev.ws_url).await;
    for index in 0..100 {
        ws_client::send_route(&mut client, "echo", json!(index)).await;
    }
    for index in 0..100 {
        assert_eq!(ws_client::next_json(&mut client, WAIT).await, json!(index));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_connections_echo_twenty_messages_each() {
    const CONNECTIONS: usize = 200;
    // Every message is queued at once: more would wait past API Gateway's 29 s integration
    // timeout on a loaded 2-core machine (they would time out there too, as they should).
    const MESSAGES: usize = 20;
    // A generous function timeout: this test is about nothing lost or crossed, on a busy machine.
    let dev = SocketDev::echo(&["--workers", "4", "--timeout", "20"]);
    let started = Instant::now();
    let mut clients = Vec::new();
    for _ in 0..CONNECTIONS {
        clients.push(ws_client::connect(&dev.ws_url).await);
    }
    let tasks: Vec<_> = clients
        .into_iter()
        .enumerate()
        .map(|(connection, mut client)| {
            tokio::spawn(async move {
                for message in 0..MESSAGES {
                    ws_client::send_route(
                        &mut client,
                        "echo",
                        json!({"c": connection, "m": message}),
                    )
                    .await;
                }
                let mut received = BTreeSet::new();
                for _ in 0..MESSAGES {
                    let reply = ws_client::next_json(&mut client, Duration::from_secs(60)).await;
                    assert_eq!(reply["c"], json!(connection), "crossed: {reply}");
                    assert!(
                        received.insert(reply["m"].as_u64().unwrap()),
                        "twice: {reply}"
                    );
                }
                assert_eq!(received, (0..MESSAGES as u64).collect::<BTreeSet<_>>());
                // Nothing extra arrives.
                assert_eq!(
                    ws_client::next(&mut client, Duration::from_millis(200)).await,
                    Received::Timeout
                );
            })
        })
        .collect();
    for task in tasks {
        task.await.expect("a connection's echoes");
    }
    eprintln!(
        "{CONNECTIONS} connections × {MESSAGES} echoes in {:?}",
        started.elapsed()
    );
}

/// The workers that ran the `sleep` route, from their output prefix `[worker N sleep <id>]`,
/// once `runs` invocations printed their line (a worker prints it after the reply was sent).
async fn workers_that_slept(dev: &SocketDev, runs: usize) -> BTreeSet<String> {
    let is_sleep = |line: &String| line.contains("socket invocation route=sleep ");
    let give_up = Instant::now() + WAIT;
    while dev.output().iter().filter(|line| is_sleep(line)).count() < runs
        && Instant::now() < give_up
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    dev.output()
        .iter()
        .filter(|line| is_sleep(line))
        .filter_map(|line| {
            let label = line.strip_prefix('[')?.split_once(']')?.0;
            match label.split(' ').collect::<Vec<_>>().as_slice() {
                ["worker", number, "sleep", _] => Some(number.to_string()),
                _ => None,
            }
        })
        .collect()
}

/// Sends `sleep` from `clients` connections at once; every one is answered.
async fn sleep_from_many(dev: &SocketDev, clients: usize, millis: u64) {
    let mut connected = Vec::new();
    for _ in 0..clients {
        let mut client = ws_client::connect(&dev.ws_url).await;
        ws_client::whoami(&mut client).await;
        connected.push(client);
    }
    for client in &mut connected {
        ws_client::send_route(client, "sleep", json!(millis)).await;
    }
    for client in &mut connected {
        assert_eq!(
            ws_client::next_json(client, Duration::from_secs(60)).await,
            json!({"slept": millis})
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn busy_workers_scale_out_on_demand_up_to_the_cap() {
    // Each of 8 clients' invocations waits for no other: 8 workers run them side by side, as
    // Lambda runs 8 concurrent invocations in 8 execution environments.
    let dev = SocketDev::echo(&["--timeout", "30"]);
    sleep_from_many(&dev, 8, 1500).await;
    let workers = workers_that_slept(&dev, 8).await;
    assert_eq!(workers.len(), 8, "{workers:?}\n{}", dev.output().join("\n"));

    // `--workers` caps them: one invocation per worker, the rest wait.
    let capped = SocketDev::echo(&["--workers", "2", "--timeout", "30"]);
    sleep_from_many(&capped, 4, 200).await;
    let workers = workers_that_slept(&capped, 4).await;
    assert_eq!(
        workers.len(),
        2,
        "{workers:?}\n{}",
        capped.output().join("\n")
    );
    assert_eq!(child_processes(capped.pid()).len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reserved_concurrency_in_the_manifest_caps_the_workers() {
    // The echo example's manifest with `reservedConcurrency: 3`, its handler as the tests built it.
    let root = socket_tests::workspace::workspace_root();
    let dir = tempfile::tempdir().unwrap();
    let manifest = std::fs::read_to_string(root.join("examples/echo/serverless.yml")).unwrap();
    let code = root.join("examples/echo").display().to_string();
    let manifest = format!("{manifest}    reservedConcurrency: 3\n    code: {code}\n");
    std::fs::write(dir.path().join("serverless.yml"), manifest).unwrap();
    let binary = socket_tests::workspace::example_binary("echo");
    let args: Vec<String> = [
        "dev",
        "--config",
        &dir.path().join("serverless.yml").display().to_string(),
        "--port",
        "0",
        "--timeout",
        "30",
        "--bootstrap",
        &binary.display().to_string(),
    ]
    .iter()
    .map(|arg| arg.to_string())
    .collect();
    let dev = SocketDev::start(&args);
    sleep_from_many(&dev, 6, 500).await;
    let workers = workers_that_slept(&dev, 6).await;
    assert_eq!(workers.len(), 3, "{workers:?}\n{}", dev.output().join("\n"));
    assert_eq!(child_processes(dev.pid()).len(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_closes_clients_runs_disconnect_and_stops_the_workers() {
    stopping_closes_clients_runs_disconnect_and_stops_the_workers(|dev| {
        dev.terminate(Duration::from_secs(15))
    })
    .await;
}

/// Ctrl-C reaches the whole foreground process group: the workers must still run `$disconnect`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ctrl_c_closes_clients_runs_disconnect_and_stops_the_workers() {
    stopping_closes_clients_runs_disconnect_and_stops_the_workers(|dev| {
        dev.interrupt(Duration::from_secs(15))
    })
    .await;
}

async fn stopping_closes_clients_runs_disconnect_and_stops_the_workers(
    stop: fn(&mut SocketDev) -> Option<std::process::ExitStatus>,
) {
    let mut dev = SocketDev::echo(&["--workers", "2"]);
    let mut first = ws_client::connect(&dev.ws_url).await;
    let mut second = ws_client::connect(&dev.ws_url).await;
    let first_id = ws_client::whoami(&mut first).await;
    let second_id = ws_client::whoami(&mut second).await;
    let workers_before = child_processes(dev.pid());
    assert!(!workers_before.is_empty(), "worker processes run");

    let status = tokio::task::block_in_place(|| stop(&mut dev)).expect("socket dev exits");
    assert!(status.success(), "exit status {status}");
    for client in [&mut first, &mut second] {
        match ws_client::next(client, WAIT).await {
            Received::Close(Some((1001, reason))) => assert_eq!(reason, "Going away"),
            other => panic!("expected close 1001, got {other:?}"),
        }
    }
    let output = dev.output();
    for id in [&first_id, &second_id] {
        assert!(
            output.iter().any(|line| line.starts_with("[worker")
                && line.contains(&format!(
                    "socket invocation route=$disconnect connection={id} "
                ))
                && line.contains(" status=200 ")),
            "$disconnect did not run for {id}:\n{}",
            output.join("\n")
        );
    }
    // The workers were stopped by `socket dev` once it was done with them, not killed by the
    // signal and replaced on the way out.
    assert!(
        !output
            .iter()
            .any(|line| line.contains("starting a new process")),
        "a worker died and was replaced while stopping:\n{}",
        output.join("\n")
    );
    for pid in workers_before {
        assert!(
            !std::path::Path::new(&format!("/proc/{pid}")).exists()
                || std::fs::read_to_string(format!("/proc/{pid}/stat"))
                    .is_ok_and(|stat| stat.contains(") Z ")),
            "worker {pid} still runs"
        );
    }
}

/// Process ids whose parent is `parent` (Linux `/proc`).
fn child_processes(parent: u32) -> Vec<u32> {
    let mut children = Vec::new();
    for entry in std::fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<u32>() else {
            continue;
        };
        let Ok(stat) = std::fs::read_to_string(entry.path().join("stat")) else {
            continue;
        };
        // `pid (comm) state ppid ...`; comm may hold spaces, so split after the last ')'.
        let after = stat
            .rsplit_once(')')
            .map(|(_, rest)| rest)
            .unwrap_or_default();
        let ppid = after
            .split_whitespace()
            .nth(1)
            .and_then(|p| p.parse::<u32>().ok());
        if ppid == Some(parent) {
            children.push(pid);
        }
    }
    children
}

/// `socket dev` building the handler itself for `worker_target` passes the echo checks, and
/// rebuilds and swaps the workers on an edit.
async fn built_by_socket_dev_for(worker_target: &str) {
    let project = EchoProject::new();
    let dev = project.socket_dev(worker_target);
    echo_checks::echo_whoami_and_default_routes(&dev).await;
    echo_checks::handshake_is_refused_with_the_status_connect_returned(&dev).await;
    echo_checks::failing_handler_gets_the_error_frame_and_the_connection_stays_open(&dev).await;
    echo_checks::editing_the_handler_rebuilds_and_swaps_workers(&dev, &project).await;
}

/// The static Linux musl build, what Lambda runs (the default on Linux).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lambda_target_workers_pass_the_echo_checks_and_rebuild_on_edit() {
    built_by_socket_dev_for("lambda").await;
}

/// The host's own target, what macOS and Windows run, forced here on Linux.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn host_target_workers_pass_the_echo_checks_and_rebuild_on_edit() {
    built_by_socket_dev_for("host").await;
    let built = socket_tests::workspace::workspace_root()
        .join("target/socket-dev-watch-test/socket-dev/echo");
    assert!(
        built.is_file(),
        "no host-target build at {}",
        built.display()
    );
}
