//! The connection registry's DynamoDB table (`connections:` in the manifest): key `pk`/`sk`
//! (strings), on-demand billing, the stage's tags, and TTL on `ttl` so records of connections
//! whose disconnect never ran expire.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, KeySchemaElement, KeyType, ScalarAttributeType, TableStatus,
    Tag, TimeToLiveSpecification, TimeToLiveStatus,
};

use super::{AwsError, Clients, SdkResultExt};

/// What a table with this stage's name but another owner is called in messages.
pub const TABLE_KIND: &str = "DynamoDB table";
/// The attribute holding each record's expiry (epoch seconds), as the runtime writes it.
pub const TTL_ATTRIBUTE: &str = "ttl";
/// The partition and sort keys of every registry item.
const KEYS: [(&str, KeyType); 2] = [("pk", KeyType::Hash), ("sk", KeyType::Range)];

/// How long to wait for a new table to become active (seconds, usually).
const ACTIVE_WAIT: Duration = Duration::from_secs(300);
const POLL: Duration = Duration::from_secs(2);

/// A table as it exists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    pub name: String,
    pub arn: String,
    /// `ACTIVE`, `CREATING`, `UPDATING`, `DELETING`, ...
    pub status: String,
    pub on_demand: bool,
    /// The attribute TTL is on (enabled or being enabled), if any.
    pub ttl: Option<String>,
    pub tags: BTreeMap<String, String>,
}

/// The table's description, tags and TTL; `None` if there is no such table.
pub async fn get_table(clients: &Clients, name: &str) -> Result<Option<Table>, AwsError> {
    let Some(out) = clients
        .dynamodb
        .describe_table()
        .table_name(name)
        .send()
        .await
        .found("dynamodb:DescribeTable", clients)?
    else {
        return Ok(None);
    };
    let Some(table) = out.table() else {
        return Ok(None);
    };
    let arn = table.table_arn().unwrap_or_default().to_owned();
    let (tags, ttl) = tokio::try_join!(tags_of(clients, &arn), ttl_of(clients, name))?;
    Ok(Some(Table {
        name: name.to_owned(),
        status: table
            .table_status()
            .map(|s| s.as_str().to_owned())
            .unwrap_or_default(),
        on_demand: table
            .billing_mode_summary()
            .and_then(|b| b.billing_mode())
            .is_some_and(|mode| *mode == BillingMode::PayPerRequest),
        arn,
        ttl,
        tags,
    }))
}

async fn tags_of(clients: &Clients, arn: &str) -> Result<BTreeMap<String, String>, AwsError> {
    let mut tags = BTreeMap::new();
    let mut token = None;
    loop {
        let out = clients
            .dynamodb
            .list_tags_of_resource()
            .resource_arn(arn)
            .set_next_token(token)
            .send()
            .await
            .aws("dynamodb:ListTagsOfResource", clients)?;
        tags.extend(
            out.tags()
                .iter()
                .map(|t| (t.key().to_owned(), t.value().to_owned())),
        );
        match out.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(tags),
        }
    }
}

async fn ttl_of(clients: &Clients, name: &str) -> Result<Option<String>, AwsError> {
    let out = clients
        .dynamodb
        .describe_time_to_live()
        .table_name(name)
        .send()
        .await
        .aws("dynamodb:DescribeTimeToLive", clients)?;
    let Some(ttl) = out.time_to_live_description() else {
        return Ok(None);
    };
    let on = matches!(
        ttl.time_to_live_status(),
        Some(TimeToLiveStatus::Enabled | TimeToLiveStatus::Enabling)
    );
    Ok(ttl.attribute_name().filter(|_| on).map(str::to_owned))
}

/// Creates the table (on-demand, tagged) and returns its ARN; it is `CREATING` for a while.
pub async fn create_table(
    clients: &Clients,
    name: &str,
    tags: &BTreeMap<String, String>,
) -> Result<String, AwsError> {
    let mut create = clients
        .dynamodb
        .create_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest);
    for (attribute, key_type) in KEYS {
        create = create
            .key_schema(
                KeySchemaElement::builder()
                    .attribute_name(attribute)
                    .key_type(key_type)
                    .build()
                    .expect("name and key type are set"),
            )
            .attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(attribute)
                    .attribute_type(ScalarAttributeType::S)
                    .build()
                    .expect("name and type are set"),
            );
    }
    for (key, value) in tags {
        create = create.tags(
            Tag::builder()
                .key(key)
                .value(value)
                .build()
                .expect("key and value are set"),
        );
    }
    let out = create.send().await.aws("dynamodb:CreateTable", clients)?;
    Ok(out
        .table_description()
        .and_then(|t| t.table_arn())
        .unwrap_or_default()
        .to_owned())
}

/// Switches a table to on-demand billing.
pub async fn set_on_demand(clients: &Clients, name: &str) -> Result<(), AwsError> {
    clients
        .dynamodb
        .update_table()
        .table_name(name)
        .billing_mode(BillingMode::PayPerRequest)
        .send()
        .await
        .aws("dynamodb:UpdateTable", clients)?;
    Ok(())
}

/// Polls until the table is `ACTIVE` (TTL cannot be changed before), telling `waiting` how long
/// it has waited so far; gives up after [`ACTIVE_WAIT`].
pub async fn wait_active(
    clients: &Clients,
    name: &str,
    waiting: impl Fn(Duration),
) -> Result<(), AwsError> {
    let started = Instant::now();
    loop {
        let out = clients
            .dynamodb
            .describe_table()
            .table_name(name)
            .send()
            .await
            .aws("dynamodb:DescribeTable", clients)?;
        let status = out.table().and_then(|t| t.table_status());
        if status == Some(&TableStatus::Active) {
            return Ok(());
        }
        if started.elapsed() >= ACTIVE_WAIT {
            return Err(AwsError::NotReady {
                what: format!("DynamoDB table {name}"),
            });
        }
        waiting(started.elapsed());
        tokio::time::sleep(POLL).await;
    }
}

/// Turns TTL on for `attribute`.
pub async fn enable_ttl(clients: &Clients, name: &str, attribute: &str) -> Result<(), AwsError> {
    let spec = TimeToLiveSpecification::builder()
        .enabled(true)
        .attribute_name(attribute)
        .build()
        .expect("enabled and attribute are set");
    clients
        .dynamodb
        .update_time_to_live()
        .table_name(name)
        .time_to_live_specification(spec)
        .send()
        .await
        .aws("dynamodb:UpdateTimeToLive", clients)?;
    Ok(())
}

/// Deletes the table; `false` if there was none.
pub async fn delete_table(clients: &Clients, name: &str) -> Result<bool, AwsError> {
    let out = clients
        .dynamodb
        .delete_table()
        .table_name(name)
        .send()
        .await
        .found("dynamodb:DeleteTable", clients)?;
    Ok(out.is_some())
}
