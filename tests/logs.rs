//! `socket logs` against records put into moto's log group with PutLogEvents: the filters on the
//! structured fields, `--since`, and `--tail` picking up a record written after it started.

use std::io::{BufRead, BufReader};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::Value;
use socket_tests::deploy_project::Project;
use socket_tests::moto::Aws;

const GROUP: &str = "/aws/lambda/echo-dev";
const STREAM: &str = "2024/01/01/[$LATEST]0123456789abcdef";

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis() as i64
}

fn invocation(route: &str, connection: &str, status: u16) -> String {
    format!("socket invocation route={route} connection={connection} request=r-{connection} status={status} ms=1.5")
}

/// Puts `(timestamp, message)` records (in time order) into the function's log stream.
async fn put(aws: &Aws, records: &[(i64, String)]) {
    let events = records
        .iter()
        .map(|(timestamp, message)| {
            aws_sdk_cloudwatchlogs::types::InputLogEvent::builder()
                .timestamp(*timestamp)
                .message(message)
                .build()
                .unwrap()
        })
        .collect();
    aws.logs
        .put_log_events()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .set_log_events(Some(events))
        .send()
        .await
        .unwrap();
}

/// `socket logs --json <args>`: the records printed, as JSON objects.
fn logs(project: &Project, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["logs", "--json"];
    all.extend_from_slice(args);
    let run = project.run(&all).success();
    run.stdout
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

fn messages(records: &[Value]) -> Vec<String> {
    records
        .iter()
        .map(|r| r["message"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn logs_filter_by_route_connection_and_time_and_tail_follows() {
    let project = Project::builder("logs").deployed("dev").start();
    let aws = &project.aws;
    aws.logs
        .create_log_stream()
        .log_group_name(GROUP)
        .log_stream_name(STREAM)
        .send()
        .await
        .unwrap();
    let now = now_ms();
    let old = now - 2 * 3600 * 1000;
    let handler_line = "INFO socket{route=chat connection_id=B=}: echo: hello".to_owned();
    put(
        aws,
        &[
            (old, invocation("$connect", "A=", 200)),
            (now - 4000, "START RequestId: 1 Version: $LATEST".to_owned()),
            (now - 3000, invocation("chat", "A=", 200)),
            (now - 2000, invocation("$connect", "B=", 403)),
            (now - 1000, handler_line.clone()),
        ],
    )
    .await;

    // Default: the last 10 minutes, oldest first.
    let recent = logs(&project, &[]);
    assert_eq!(
        messages(&recent),
        vec![
            "START RequestId: 1 Version: $LATEST".to_owned(),
            invocation("chat", "A=", 200),
            invocation("$connect", "B=", 403),
            handler_line.clone(),
        ]
    );
    assert_eq!(recent[1]["route"], "chat");
    assert_eq!(recent[1]["connectionId"], "A=");
    assert_eq!(recent[1]["status"], 200);
    assert_eq!(recent[2]["status"], 403);

    // Exact matches on the structured fields: the handler's line carries its invocation's.
    let chat = logs(&project, &["--route", "chat"]);
    assert_eq!(
        messages(&chat),
        vec![invocation("chat", "A=", 200), handler_line.clone()]
    );
    let b = logs(&project, &["--connection", "B="]);
    assert_eq!(
        messages(&b),
        vec![invocation("$connect", "B=", 403), handler_line.clone()]
    );
    assert!(logs(&project, &["--route", "cha"]).is_empty());

    // --since reaches the old record, as a duration or a time.
    let connects = logs(&project, &["--since", "3h", "--route", "$connect"]);
    assert_eq!(
        messages(&connects),
        vec![
            invocation("$connect", "A=", 200),
            invocation("$connect", "B=", 403)
        ]
    );
    let since = iso(old - 1000);
    assert_eq!(logs(&project, &["--since", &since]).len(), 5);
    let bad = project.run(&["logs", "--since", "yesterday"]).failure();
    assert!(bad.stderr.contains("--since"), "{}", bad.stderr);

    // The human form: time, route, connection id, outcome.
    let human = project.run(&["logs", "--route", "chat"]).success();
    let first = human.stdout.lines().next().unwrap().to_owned();
    assert!(
        first.ends_with("  chat  A=  status=200 1.5ms request=r-A="),
        "{first}"
    );

    // --tail prints what exists, then a record written after it started.
    let mut tail = project.spawn(&["logs", "--tail", "--json", "--connection", "C="]);
    let mut lines = BufReader::new(tail.stdout.take().unwrap()).lines();
    put(aws, &[(now_ms(), invocation("$connect", "C=", 200))]).await;
    let first: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(first["message"], invocation("$connect", "C=", 200));
    put(aws, &[(now_ms() + 1, invocation("chat", "C=", 200))]).await;
    let second: Value = serde_json::from_str(&lines.next().unwrap().unwrap()).unwrap();
    assert_eq!(second["message"], invocation("chat", "C=", 200));
    tail.kill().unwrap();
    tail.wait().unwrap();

    // A stage never deployed has no log group: said, with what to do.
    let missing = project.run(&["logs", "--stage", "prod"]).failure();
    assert!(
        missing.stderr.contains("does not exist"),
        "{}",
        missing.stderr
    );
    assert!(
        missing.stderr.contains("socket deploy"),
        "{}",
        missing.stderr
    );
}

/// `2024-05-01T10:00:00.123Z` for a Unix time in ms (what `--since` accepts).
fn iso(ms: i64) -> String {
    let u = socket_protocol::utc::Utc::from_epoch_seconds(ms / 1000);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        u.year,
        u.month,
        u.day,
        u.hour,
        u.minute,
        u.second,
        ms % 1000
    )
}
