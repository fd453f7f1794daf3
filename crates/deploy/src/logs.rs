//! `socket logs`: the function's CloudWatch log group, oldest record first, one line per record
//! with its time, route and connection id.
//!
//! Route and connection come from the line the runtime writes per invocation (and from the
//! tracing span on a handler's own lines; [`socket_protocol::invocation_log`]), so `--route` and
//! `--connection` match those fields exactly rather than searching text. `--tail` polls
//! FilterLogEvents every second from the newest timestamp seen, skipping event ids already
//! printed (several records can share a millisecond), until Ctrl-C.

use std::collections::HashSet;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::json;

use crate::aws::logs::{filter_events, LogEvent};
use crate::aws::{AwsError, Clients};
use crate::names::StageNames;
use crate::outputs::OutputOptions;
use socket_manifest::{Manifest, Overrides};
use socket_protocol::invocation_log::{route_and_connection, Invocation, Outcome};
use socket_protocol::utc::Utc;

/// How often `--tail` asks for new records.
const TAIL_INTERVAL: Duration = Duration::from_secs(1);
/// Without `--since`: the last ten minutes (as `serverless logs` does).
const DEFAULT_SINCE: Duration = Duration::from_secs(600);

#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LogsError {
    #[error(transparent)]
    #[diagnostic(transparent)]
    Aws(#[from] AwsError),

    #[error("`{value}` is not a time for --since")]
    #[diagnostic(
        code(socket::logs::since),
        help("give a duration back from now (`30s`, `10m`, `2h`, `1d`) or a UTC time such as `2024-05-01T10:00:00Z`")
    )]
    Since { value: String },

    #[error("the log group {group} does not exist")]
    #[diagnostic(
        code(socket::logs::no_group),
        help("deploy the stage first (`socket deploy --stage {stage}`): deploy creates the function's log group")
    )]
    NoLogGroup { group: String, stage: String },
}

/// Options of `socket logs`.
#[derive(Clone, Debug, Default)]
pub struct LogsOptions {
    pub tail: bool,
    /// `10m`, `2h`, or an ISO 8601 UTC time.
    pub since: Option<String>,
    pub route: Option<String>,
    pub connection: Option<String>,
    pub output: OutputOptions,
}

/// `socket logs`: print the stage's records, then (with `--tail`) follow new ones.
pub async fn run(
    config: &Path,
    overrides: &Overrides,
    options: &LogsOptions,
) -> miette::Result<()> {
    options.output.start();
    let manifest = Manifest::load(config, overrides)?;
    let since = match &options.since {
        Some(value) => parse_since(value, now_ms()).ok_or_else(|| LogsError::Since {
            value: value.clone(),
        })?,
        None => now_ms() - DEFAULT_SINCE.as_millis() as i64,
    };
    let clients = crate::aws::connect(&manifest).await?;
    let names = StageNames::of(&manifest);
    let result = follow(&clients, &names, since, options).await;
    tracing::debug!(target: "socket::aws", "{}", clients.calls.summary());
    result.map_err(Into::into)
}

async fn follow(
    clients: &Clients,
    names: &StageNames,
    since: i64,
    options: &LogsOptions,
) -> Result<(), LogsError> {
    let missing = || LogsError::NoLogGroup {
        group: names.log_group.clone(),
        stage: names.stage.clone(),
    };
    let mut from = since;
    // Ids of the records printed at timestamp `from`, the only ones a later poll can return again.
    let mut seen: HashSet<String> = HashSet::new();
    loop {
        let events = filter_events(clients, &names.log_group, from)
            .await?
            .ok_or_else(missing)?;
        for event in events {
            if event.timestamp < from || seen.contains(&event.id) {
                continue;
            }
            if event.timestamp > from {
                from = event.timestamp;
                seen.clear();
            }
            seen.insert(event.id.clone());
            if let Some(line) = render(&event, options) {
                println!("{line}");
            }
        }
        if !options.tail {
            return Ok(());
        }
        tokio::select! {
            _ = tokio::time::sleep(TAIL_INTERVAL) => {}
            _ = tokio::signal::ctrl_c() => return Ok(()),
        }
    }
}

/// The line for one record, or `None` if the filters leave it out.
fn render(event: &LogEvent, options: &LogsOptions) -> Option<String> {
    let message = event.message.trim_end();
    let (route, connection) = route_and_connection(message);
    let keeps = |wanted: &Option<String>, have: &Option<String>| {
        wanted.as_ref().is_none_or(|w| have.as_ref() == Some(w))
    };
    if !keeps(&options.route, &route) || !keeps(&options.connection, &connection) {
        return None;
    }
    let time = iso_time(event.timestamp);
    let record = Invocation::parse(message);
    if options.output.json {
        let mut value = json!({
            "time": time,
            "eventId": event.id,
            "route": route,
            "connectionId": connection,
            "message": message,
        });
        if let Some(record) = &record {
            value["requestId"] = json!(record.request_id);
            value["durationMs"] = json!(record.duration_ms);
            match &record.outcome {
                Outcome::Status(status) => value["status"] = json!(status),
                Outcome::Error(error) => value["error"] = json!(error),
            }
        }
        return Some(value.to_string());
    }
    let route = route.as_deref().unwrap_or("-");
    let connection = connection.as_deref().unwrap_or("-");
    let text = match &record {
        Some(record) => {
            let outcome = match &record.outcome {
                Outcome::Status(status) => format!("status={status}"),
                Outcome::Error(error) => format!("error: {error}"),
            };
            format!(
                "{outcome} {:.1}ms request={}",
                record.duration_ms, record.request_id
            )
        }
        None => message.to_owned(),
    };
    Some(format!("{time}  {route}  {connection}  {text}"))
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or_default()
}

/// `2024-05-01T10:00:00.123Z`.
fn iso_time(ms: i64) -> String {
    let utc = Utc::from_epoch_seconds(ms.div_euclid(1000));
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        utc.year,
        utc.month,
        utc.day,
        utc.hour,
        utc.minute,
        utc.second,
        ms.rem_euclid(1000)
    )
}

/// Milliseconds since the epoch for `--since`: `30s`, `10m`, `2h`, `1d` back from `now_ms`, or
/// an ISO 8601 time (`2024-05-01T10:00:00Z`, fractions and `+hh:mm` offsets allowed; no zone
/// means UTC).
pub fn parse_since(value: &str, now_ms: i64) -> Option<i64> {
    let value = value.trim();
    let split = value.len().saturating_sub(1);
    let (amount, unit) = (value.get(..split)?, value.get(split..)?);
    if let Ok(amount) = amount.parse::<u32>() {
        let seconds: i64 = match unit {
            "s" => 1,
            "m" => 60,
            "h" => 3600,
            "d" => 86_400,
            "w" => 7 * 86_400,
            _ => return None,
        };
        return Some(now_ms - i64::from(amount) * seconds * 1000);
    }
    parse_iso(value)
}

fn parse_iso(value: &str) -> Option<i64> {
    let (date, time) = value.split_once(['T', ' ']).unwrap_or((value, "00:00:00"));
    let mut date_parts = date.splitn(3, '-').map(|p| p.parse::<i64>().ok());
    let (year, month, day) = (
        date_parts.next()??,
        date_parts.next()??,
        date_parts.next()??,
    );
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    // The zone: `Z`, `+hh:mm`, `-hh:mm`, or none (UTC).
    let (clock, offset_seconds) = if let Some(clock) = time.strip_suffix('Z') {
        (clock, 0)
    } else if let Some(at) = time.rfind(['+', '-']) {
        let (clock, zone) = time.split_at(at);
        let sign = if zone.starts_with('-') { -1 } else { 1 };
        let (h, m) = zone[1..].split_once(':').unwrap_or((&zone[1..], "0"));
        (
            clock,
            sign * (h.parse::<i64>().ok()? * 3600 + m.parse::<i64>().ok()? * 60),
        )
    } else {
        (time, 0)
    };
    let mut clock_parts = clock.splitn(3, ':');
    let hour: i64 = clock_parts.next()?.parse().ok()?;
    let minute: i64 = clock_parts.next().unwrap_or("0").parse().ok()?;
    let seconds: f64 = clock_parts.next().unwrap_or("0").parse().ok()?;
    let days = days_from_civil(year, month, day);
    let whole = days * 86_400 + hour * 3600 + minute * 60 - offset_seconds;
    Some(whole * 1000 + (seconds * 1000.0).round() as i64)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm, the inverse
/// of [`Utc::from_epoch_seconds`]).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let mp = (month + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_takes_durations_and_times() {
        let now = 1_700_000_000_000;
        assert_eq!(parse_since("10m", now), Some(now - 600_000));
        assert_eq!(parse_since("2h", now), Some(now - 7_200_000));
        assert_eq!(parse_since("1d", now), Some(now - 86_400_000));
        assert_eq!(
            parse_since("2024-02-09T18:23:28Z", now),
            Some(1_707_503_008_000)
        );
        assert_eq!(
            parse_since("2024-02-09T18:23:28.5Z", now),
            Some(1_707_503_008_500)
        );
        assert_eq!(
            parse_since("2024-02-09T20:23:28+02:00", now),
            Some(1_707_503_008_000)
        );
        assert_eq!(parse_since("2024-02-09", now), Some(1_707_436_800_000));
        for bad in ["soon", "10x", "m", "2024-13-01T00:00:00Z", ""] {
            assert_eq!(parse_since(bad, now), None, "{bad}");
        }
    }

    #[test]
    fn times_print_in_utc_with_milliseconds() {
        assert_eq!(iso_time(1_707_503_008_123), "2024-02-09T18:23:28.123Z");
        assert_eq!(
            parse_iso(&iso_time(1_707_503_008_123)),
            Some(1_707_503_008_123)
        );
    }

    #[test]
    fn filters_match_the_structured_fields_exactly() {
        let event = |message: &str| LogEvent {
            id: "1".into(),
            timestamp: 0,
            message: message.into(),
        };
        let record =
            event("socket invocation route=chat connection=abc= request=r status=200 ms=2.0");
        let options = |route: Option<&str>, connection: Option<&str>| LogsOptions {
            route: route.map(str::to_owned),
            connection: connection.map(str::to_owned),
            ..LogsOptions::default()
        };
        let line = render(&record, &options(None, None)).unwrap();
        assert_eq!(
            line,
            "1970-01-01T00:00:00.000Z  chat  abc=  status=200 2.0ms request=r"
        );
        assert!(render(&record, &options(Some("chat"), Some("abc="))).is_some());
        assert!(render(&record, &options(Some("cha"), None)).is_none());
        assert!(render(&record, &options(None, Some("abc"))).is_none());
        let other = event("START RequestId: r Version: $LATEST");
        assert!(render(&other, &options(None, None)).is_some());
        assert!(render(&other, &options(Some("chat"), None)).is_none());
    }
}
