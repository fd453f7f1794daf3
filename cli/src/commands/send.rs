//! `socket send`: a message to a connection, a channel or everyone, from outside any handler.

use socket_client::{BroadcastReport, Client, ClientConfig, Credentials};
use socket_manifest::Manifest;

use crate::args::{block_on, ManifestArgs};

#[derive(clap::Args, Clone, Debug)]
#[command(group(clap::ArgGroup::new("to").required(true).args(["connection", "channel", "all"])))]
pub struct Args {
    #[command(flatten)]
    manifest: ManifestArgs,
    /// Send to this connection id.
    #[arg(long, value_name = "ID")]
    connection: Option<String>,
    /// Send to every member of this channel (needs `connections:` in the manifest).
    #[arg(long, value_name = "NAME")]
    channel: Option<String>,
    /// Send to every connection (needs `connections:` in the manifest).
    #[arg(long)]
    all: bool,
    /// Send through a running `socket dev` instead of AWS: its address (default
    /// http://127.0.0.1:3111). Without it, a `socket dev` running for this stage is used when
    /// there is one, else the deployed stage.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "http://127.0.0.1:3111")]
    local: Option<String>,
    /// Print what happened as JSON.
    #[arg(long)]
    json: bool,
    /// The message: JSON is sent as is (compact); anything else as text.
    message: String,
}

pub fn run(args: Args) -> miette::Result<()> {
    let manifest = Manifest::load(&args.manifest.config, &args.manifest.overrides())?;
    let local = args
        .local
        .clone()
        .or_else(|| socket_emulator::running::find(&manifest.dir, &manifest.stage));
    block_on(async {
        let client = match &local {
            Some(url) => local_client(&manifest, url)?,
            None => aws_client(&manifest).await?,
        };
        let report = deliver(&client, &args).await?;
        print_report(&args, &report, local.as_deref());
        if report.failed.is_empty() {
            Ok(())
        } else {
            Err(miette::miette!(
                help = "the connections listed above did not get the message",
                "{} of {} deliveries failed",
                report.failed.len(),
                report.failed.len() + report.delivered
            ))
        }
    })
}

/// A client for `socket dev` at `url`: its management API and its local registry endpoint.
fn local_client(manifest: &Manifest, url: &str) -> miette::Result<Client> {
    let url = url.trim_end_matches('/');
    Client::new(ClientConfig {
        api_id: "local".into(),
        region: manifest.region.clone(),
        stage: manifest.stage.clone(),
        table: manifest
            .connections
            .as_ref()
            .map(|registry| registry.table.clone()),
        management_endpoint: Some(format!("{url}/{}", manifest.stage)),
        registry_endpoint: Some(format!("{url}/@dynamodb")),
        // socket dev checks no signature.
        credentials: Some(Credentials {
            access_key_id: "local".into(),
            secret_access_key: "local".into(),
            session_token: None,
        }),
    })
    .map_err(|error| miette::miette!("{error}"))
}

/// A client for the deployed stage: its API id from AWS, the stage's credentials.
async fn aws_client(manifest: &Manifest) -> miette::Result<Client> {
    let target = socket_deploy::send_target::resolve(manifest).await?;
    Client::new(ClientConfig {
        api_id: target.api_id,
        region: manifest.region.clone(),
        stage: manifest.stage.clone(),
        table: manifest
            .connections
            .as_ref()
            .map(|registry| registry.table.clone()),
        management_endpoint: Some(target.management_endpoint),
        registry_endpoint: target.dynamodb_endpoint,
        credentials: Some(target.credentials),
    })
    .map_err(|error| miette::miette!("{error}"))
}

async fn deliver(client: &Client, args: &Args) -> miette::Result<BroadcastReport> {
    let message = serde_json::from_str::<serde_json::Value>(&args.message).ok();
    if let Some(id) = &args.connection {
        let sent = match &message {
            Some(json) => client.send(id, json).await,
            None => client.send_text(id, args.message.clone()).await,
        };
        return Ok(match sent {
            Ok(()) => BroadcastReport {
                delivered: 1,
                ..BroadcastReport::default()
            },
            Err(error) if error.is_gone() => BroadcastReport {
                gone: vec![id.clone()],
                ..BroadcastReport::default()
            },
            Err(error) => BroadcastReport {
                failed: vec![(id.clone(), error.to_string())],
                ..BroadcastReport::default()
            },
        });
    }
    let message = message.unwrap_or_else(|| serde_json::Value::String(args.message.clone()));
    let report = match &args.channel {
        Some(channel) => client.broadcast(channel, &message).await,
        None => client.broadcast_all(&message).await,
    };
    report.map_err(|error| {
        miette::miette!(
            help = "turn the registry on with `connections: true` in the manifest's inputs (and deploy), or send to one `--connection`",
            "{error}"
        )
    })
}

fn print_report(args: &Args, report: &BroadcastReport, local: Option<&str>) {
    if args.json {
        let failed: Vec<_> = report
            .failed
            .iter()
            .map(|(id, reason)| serde_json::json!({ "connection": id, "error": reason }))
            .collect();
        let summary = serde_json::json!({
            "delivered": report.delivered,
            "gone": report.gone,
            "failed": failed,
            "via": local.unwrap_or("aws"),
        });
        println!("{summary}");
        return;
    }
    let audience = match (&args.connection, &args.channel) {
        (Some(id), _) => format!("connection {id}"),
        (_, Some(channel)) => format!("channel {channel}"),
        _ => "every connection".to_string(),
    };
    println!("sent to {audience}: {} delivered", report.delivered);
    if !report.gone.is_empty() {
        println!(
            "gone (removed from the registry): {}",
            report.gone.join(", ")
        );
    }
    for (id, reason) in &report.failed {
        eprintln!("failed: {id}: {reason}");
    }
}
