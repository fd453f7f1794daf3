//! The connection registry: which connections exist, their attributes, and channels of them, in
//! one DynamoDB table (`pk` HASH, `sk` RANGE, TTL attribute `ttl`).
//!
//! | item | `pk` | `sk` | other attributes |
//! |---|---|---|---|
//! | connection | `conn#<id>` | `#conn` | `connectedAt` (N ms), `sourceIp`, `userAgent`, `attributes` (M) |
//! | membership | `chan#<channel>` | `<id>` | |
//! | inverse | `conn#<id>` | `chan#<channel>` | |
//! | everyone | `all` | `<id>` | |
//!
//! Every item carries `ttl = now + SOCKET_REGISTRY_TTL` so that connections whose `disconnect`
//! never ran expire. Members are read with paged `Query`s, never a `Scan`.

use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{json, Map, Value};

use crate::attribute_value::{from_attribute_map, to_attribute_map};
use crate::backoff;
use crate::channel::validate_channel;
use crate::credentials::{non_empty_env, Signing};
use crate::dynamodb::{DynamoDb, DynamoDbError};
use crate::memory_tables::MemoryTables;
use crate::registry_error::RegistryError;

/// API Gateway's 2 h maximum connection duration plus 1 h margin.
pub const DEFAULT_TTL: Duration = Duration::from_secs(10_800);

/// The most ids one `Query` page returns (and one broadcast round posts).
pub const MAX_PAGE_SIZE: usize = 1000;

/// DynamoDB's limit on the writes in one `BatchWriteItem`.
const BATCH_LIMIT: usize = 25;

const CONNECTION_SK: &str = "#conn";
const EVERYONE_PK: &str = "all";
const CHANNEL_PREFIX: &str = "chan#";
const CONNECTION_PREFIX: &str = "conn#";

/// What the registry records about a connection when it is accepted.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ConnectionRecord {
    /// The connection id.
    pub connection_id: String,
    /// When it connected, in ms since the Unix epoch.
    pub connected_at_ms: i64,
    /// The client's IP address.
    pub source_ip: String,
    /// The client's `User-Agent`.
    pub user_agent: String,
    /// Attributes the handler attached (`set_attribute`).
    pub attributes: Map<String, Value>,
}

/// Whom a page of ids is read from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// The members of one channel.
    Channel(String),
    /// Every registered connection.
    Everyone,
}

/// Where the next page starts (DynamoDB's `LastEvaluatedKey`).
#[derive(Clone, Debug, PartialEq)]
pub struct Cursor(Value);

/// One page of connection ids.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Page {
    /// The ids, in the table's order.
    pub ids: Vec<String>,
    /// `Some` when there may be more.
    pub next: Option<Cursor>,
}

/// The registry in one table. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Registry {
    db: DynamoDb,
    table: Arc<str>,
    ttl: Duration,
    page_size: usize,
}

impl Registry {
    /// The registry in `table`, reached through `db`, with the default TTL.
    pub fn new(db: DynamoDb, table: impl Into<String>) -> Self {
        Self {
            db,
            table: table.into().into(),
            ttl: DEFAULT_TTL,
            page_size: MAX_PAGE_SIZE,
        }
    }

    /// `SOCKET_REGISTRY_TABLE` on `SOCKET_REGISTRY_ENDPOINT` (else DynamoDB in `AWS_REGION`),
    /// with `SOCKET_REGISTRY_TTL` and the environment's credentials, read now; `None` when no
    /// table is set (the registry is off).
    pub fn from_env() -> Result<Option<Self>, DynamoDbError> {
        Self::from_env_signed(&Signing::from_env())
    }

    /// [`from_env`](Self::from_env), signed as `signing` says (a function's runtime passes the
    /// credentials and region of the configuration it read at start-up).
    pub fn from_env_signed(signing: &Signing) -> Result<Option<Self>, DynamoDbError> {
        let Some(table) = non_empty_env(socket_protocol::env::REGISTRY_TABLE) else {
            return Ok(None);
        };
        let db = DynamoDb::from_env_signed(signing)?;
        let ttl = non_empty_env(socket_protocol::env::REGISTRY_TTL)
            .and_then(|seconds| match seconds.parse::<u64>() {
                Ok(seconds) if seconds > 0 => Some(Duration::from_secs(seconds)),
                _ => {
                    tracing::warn!(value = %seconds, "SOCKET_REGISTRY_TTL is not a positive number of seconds; using 10800");
                    None
                }
            })
            .unwrap_or(DEFAULT_TTL);
        Ok(Some(Self::new(db, table).with_ttl(ttl)))
    }

    /// A registry in memory (handler unit tests): the same operations on [`MemoryTables`].
    pub fn in_memory() -> Self {
        Self::new(
            DynamoDb::in_memory(Arc::new(MemoryTables::new())),
            "memory-connections",
        )
    }

    /// Records expire this long after they were last written.
    pub fn with_ttl(mut self, ttl: Duration) -> Self {
        self.ttl = ttl;
        self
    }

    /// Reads at most `size` ids per `Query` (1 to [`MAX_PAGE_SIZE`]); small pages let tests page.
    #[doc(hidden)]
    pub fn with_page_size(mut self, size: usize) -> Self {
        self.page_size = size.clamp(1, MAX_PAGE_SIZE);
        self
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The DynamoDB endpoint the registry uses.
    pub fn dynamodb(&self) -> &DynamoDb {
        &self.db
    }

    /// Records an accepted connection: its item and its `all` item.
    pub async fn register(&self, connection: &ConnectionRecord) -> Result<(), RegistryError> {
        self.batch_write(vec![
            put(self.connection_item(connection)),
            put(self.item(EVERYONE_PK, &connection.connection_id)),
        ])
        .await
    }

    /// Removes a connection: its item, its memberships (both directions) and its `all` item.
    pub async fn unregister(&self, connection_id: &str) -> Result<(), RegistryError> {
        let connection_pk = format!("{CONNECTION_PREFIX}{connection_id}");
        let mut writes = vec![delete(EVERYONE_PK, connection_id)];
        let mut after = None;
        loop {
            let page = self.query_keys(&connection_pk, "", after.as_ref()).await?;
            for sk in page.ids {
                if let Some(channel) = sk.strip_prefix(CHANNEL_PREFIX) {
                    writes.push(delete(&format!("{CHANNEL_PREFIX}{channel}"), connection_id));
                }
                writes.push(delete(&connection_pk, &sk));
            }
            match page.next {
                Some(next) => after = Some(next),
                None => break,
            }
        }
        self.batch_write(writes).await
    }

    /// Adds a connection to a channel.
    pub async fn join(&self, connection_id: &str, channel: &str) -> Result<(), RegistryError> {
        validate_channel(channel)?;
        self.batch_write(vec![
            put(self.item(&format!("{CHANNEL_PREFIX}{channel}"), connection_id)),
            put(self.item(
                &format!("{CONNECTION_PREFIX}{connection_id}"),
                &format!("{CHANNEL_PREFIX}{channel}"),
            )),
        ])
        .await
    }

    /// Removes a connection from a channel (nothing happens if it was not a member).
    pub async fn leave(&self, connection_id: &str, channel: &str) -> Result<(), RegistryError> {
        validate_channel(channel)?;
        self.batch_write(vec![
            delete(&format!("{CHANNEL_PREFIX}{channel}"), connection_id),
            delete(
                &format!("{CONNECTION_PREFIX}{connection_id}"),
                &format!("{CHANNEL_PREFIX}{channel}"),
            ),
        ])
        .await
    }

    /// Every member of a channel (all pages); an unknown channel has none.
    pub async fn members(&self, channel: &str) -> Result<Vec<String>, RegistryError> {
        self.all_of(&Audience::Channel(channel.to_string())).await
    }

    /// Every registered connection (all pages of `all`).
    pub async fn connections(&self) -> Result<Vec<String>, RegistryError> {
        self.all_of(&Audience::Everyone).await
    }

    async fn all_of(&self, audience: &Audience) -> Result<Vec<String>, RegistryError> {
        let mut ids = Vec::new();
        let mut after = None;
        loop {
            let page = self.page(audience, after.as_ref()).await?;
            ids.extend(page.ids);
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(ids),
            }
        }
    }

    /// One page of ids of `audience`, starting after `after`.
    pub async fn page(
        &self,
        audience: &Audience,
        after: Option<&Cursor>,
    ) -> Result<Page, RegistryError> {
        let pk = match audience {
            Audience::Channel(channel) => {
                validate_channel(channel)?;
                format!("{CHANNEL_PREFIX}{channel}")
            }
            Audience::Everyone => EVERYONE_PK.to_string(),
        };
        self.query_keys(&pk, "", after).await
    }

    /// How many members a channel has (`Select: COUNT`, summed over pages).
    pub async fn member_count(&self, channel: &str) -> Result<usize, RegistryError> {
        validate_channel(channel)?;
        let mut count = 0;
        let mut after: Option<Value> = None;
        loop {
            let mut body = self.query_body(&format!("{CHANNEL_PREFIX}{channel}"), "", after.take());
            body["Select"] = json!("COUNT");
            let answer = self.call("Query", &body).await?;
            count += answer["Count"].as_u64().unwrap_or_default() as usize;
            match answer.get("LastEvaluatedKey").filter(|key| !key.is_null()) {
                Some(key) => after = Some(key.clone()),
                None => return Ok(count),
            }
        }
    }

    /// The channels a connection is a member of.
    pub async fn channels_of(&self, connection_id: &str) -> Result<Vec<String>, RegistryError> {
        let pk = format!("{CONNECTION_PREFIX}{connection_id}");
        let mut channels = Vec::new();
        let mut after = None;
        loop {
            let page = self.query_keys(&pk, CHANNEL_PREFIX, after.as_ref()).await?;
            channels.extend(
                page.ids
                    .iter()
                    .filter_map(|sk| sk.strip_prefix(CHANNEL_PREFIX).map(str::to_string)),
            );
            match page.next {
                Some(next) => after = Some(next),
                None => return Ok(channels),
            }
        }
    }

    /// What the registry holds about a connection; `None` when it is not registered.
    pub async fn connection(
        &self,
        connection_id: &str,
    ) -> Result<Option<ConnectionRecord>, RegistryError> {
        let answer = self
            .call(
                "GetItem",
                &json!({
                    "TableName": &*self.table,
                    "Key": key(&format!("{CONNECTION_PREFIX}{connection_id}"), CONNECTION_SK),
                    "ConsistentRead": true,
                }),
            )
            .await?;
        let Some(item) = answer.get("Item").and_then(Value::as_object) else {
            return Ok(None);
        };
        let text = |name: &str| {
            item.get(name)
                .and_then(|value| value["S"].as_str())
                .unwrap_or_default()
                .to_string()
        };
        Ok(Some(ConnectionRecord {
            connection_id: connection_id.to_string(),
            connected_at_ms: item
                .get("connectedAt")
                .and_then(|value| value["N"].as_str())
                .and_then(|ms| ms.parse().ok())
                .unwrap_or_default(),
            source_ip: text("sourceIp"),
            user_agent: text("userAgent"),
            attributes: item
                .get("attributes")
                .and_then(|value| value["M"].as_object())
                .map(from_attribute_map)
                .unwrap_or_default(),
        }))
    }

    /// A connection's attributes; `None` when it is not registered.
    pub async fn attributes(
        &self,
        connection_id: &str,
    ) -> Result<Option<Map<String, Value>>, RegistryError> {
        Ok(self
            .connection(connection_id)
            .await?
            .map(|record| record.attributes))
    }

    /// Sets one attribute of a registered connection (read, change, write back: the registry's
    /// IAM actions have no `UpdateItem`; concurrent writers of the same connection race).
    pub async fn set_attribute(
        &self,
        connection_id: &str,
        name: &str,
        value: Value,
    ) -> Result<(), RegistryError> {
        let mut record =
            self.connection(connection_id)
                .await?
                .ok_or_else(|| RegistryError::NotRegistered {
                    connection_id: connection_id.to_string(),
                })?;
        record.attributes.insert(name.to_string(), value);
        let item = self.connection_item(&record);
        self.call(
            "PutItem",
            &json!({ "TableName": &*self.table, "Item": item }),
        )
        .await
        .map(|_| ())
    }

    /// The sort keys under `pk` that start with `prefix` (one page), and where the next starts.
    async fn query_keys(
        &self,
        pk: &str,
        prefix: &str,
        after: Option<&Cursor>,
    ) -> Result<Page, RegistryError> {
        let body = self.query_body(pk, prefix, after.map(|cursor| cursor.0.clone()));
        let answer = self.call("Query", &body).await?;
        let ids = answer["Items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|item| item["sk"]["S"].as_str().map(str::to_string))
            .collect();
        let next = answer
            .get("LastEvaluatedKey")
            .filter(|key| !key.is_null())
            .map(|key| Cursor(key.clone()));
        Ok(Page { ids, next })
    }

    fn query_body(&self, pk: &str, prefix: &str, after: Option<Value>) -> Value {
        let mut body = json!({
            "TableName": &*self.table,
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": { ":pk": { "S": pk } },
            "ConsistentRead": true,
            "Limit": self.page_size,
        });
        if !prefix.is_empty() {
            body["KeyConditionExpression"] = json!("pk = :pk AND begins_with(sk, :prefix)");
            body["ExpressionAttributeValues"][":prefix"] = json!({ "S": prefix });
        }
        if let Some(after) = after {
            body["ExclusiveStartKey"] = after;
        }
        body
    }

    /// Writes in batches of 25, retrying what DynamoDB leaves unprocessed.
    async fn batch_write(&self, writes: Vec<Value>) -> Result<(), RegistryError> {
        for chunk in writes.chunks(BATCH_LIMIT) {
            let mut pending = Value::Array(chunk.to_vec());
            let mut tries = 0;
            loop {
                tries += 1;
                let answer = self
                    .call(
                        "BatchWriteItem",
                        &json!({ "RequestItems": { &*self.table: pending } }),
                    )
                    .await?;
                let unprocessed = answer["UnprocessedItems"][&*self.table].clone();
                let left = unprocessed.as_array().map_or(0, Vec::len);
                if left == 0 {
                    break;
                }
                if tries >= backoff::MAX_TRIES {
                    return Err(RegistryError::Unprocessed { count: left });
                }
                backoff::wait(tries).await;
                pending = unprocessed;
            }
        }
        Ok(())
    }

    async fn call(&self, operation: &'static str, body: &Value) -> Result<Value, RegistryError> {
        self.db
            .call(operation, body)
            .await
            .map_err(|error| RegistryError::from_dynamodb(error, &self.table))
    }

    /// The connection's own item.
    fn connection_item(&self, record: &ConnectionRecord) -> Map<String, Value> {
        let id = &record.connection_id;
        let mut item = self.item(&format!("{CONNECTION_PREFIX}{id}"), CONNECTION_SK);
        item.insert(
            "connectedAt".into(),
            json!({ "N": record.connected_at_ms.to_string() }),
        );
        item.insert("sourceIp".into(), json!({ "S": record.source_ip }));
        item.insert("userAgent".into(), json!({ "S": record.user_agent }));
        item.insert(
            "attributes".into(),
            json!({ "M": to_attribute_map(&record.attributes) }),
        );
        item
    }

    /// An item with its key and `ttl`.
    fn item(&self, pk: &str, sk: &str) -> Map<String, Value> {
        let expires = SystemTime::now()
            .checked_add(self.ttl)
            .unwrap_or_else(SystemTime::now)
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_secs())
            .unwrap_or_default();
        let mut item = key(pk, sk);
        item.insert("ttl".into(), json!({ "N": expires.to_string() }));
        item
    }
}

fn key(pk: &str, sk: &str) -> Map<String, Value> {
    let mut key = Map::new();
    key.insert("pk".into(), json!({ "S": pk }));
    key.insert("sk".into(), json!({ "S": sk }));
    key
}

fn put(item: Map<String, Value>) -> Value {
    json!({ "PutRequest": { "Item": item } })
}

fn delete(pk: &str, sk: &str) -> Value {
    json!({ "DeleteRequest": { "Key": key(pk, sk) } })
}
