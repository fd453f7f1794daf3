//! DynamoDB tables in memory, answering the registry's five operations (`PutItem`, `GetItem`,
//! `DeleteItem`, `Query`, `BatchWriteItem`) with the JSON 1.0 API's request and answer shapes.
//!
//! Handler unit tests (`socket_runtime::testing`) run the registry on it, so the code under test
//! is the production registry code down to the JSON of each call. Tables have the registry's key
//! schema (`pk` HASH, `sk` RANGE, both strings) and are created on first use.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};

use serde_json::{json, Map, Value};

use crate::dynamodb::DynamoDbError;

type Key = (String, String);
type Table = BTreeMap<Key, Map<String, Value>>;

/// Tables by name, in memory.
#[derive(Debug, Default)]
pub struct MemoryTables {
    tables: Mutex<HashMap<String, Table>>,
}

impl MemoryTables {
    /// No tables yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// How many items `table` holds.
    pub fn item_count(&self, table: &str) -> usize {
        self.tables().get(table).map_or(0, BTreeMap::len)
    }

    fn tables(&self) -> MutexGuard<'_, HashMap<String, Table>> {
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Answers one call as DynamoDB would.
    pub fn handle(&self, operation: &'static str, body: &Value) -> Result<Value, DynamoDbError> {
        let invalid =
            |message: &str| DynamoDbError::service(operation, "ValidationException", message);
        let table_name = || {
            body["TableName"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| invalid("TableName is required"))
        };
        let mut tables = self.tables();
        match operation {
            "PutItem" => {
                let item = body["Item"]
                    .as_object()
                    .ok_or_else(|| invalid("Item is required"))?;
                let key = key_of(item).ok_or_else(|| invalid("the item has no pk/sk strings"))?;
                tables
                    .entry(table_name()?)
                    .or_default()
                    .insert(key, item.clone());
                Ok(json!({}))
            }
            "GetItem" => {
                let key = key_arg(&body["Key"]).ok_or_else(|| invalid("Key is required"))?;
                let item = tables.get(&table_name()?).and_then(|table| table.get(&key));
                Ok(match item {
                    Some(item) => json!({ "Item": item }),
                    None => json!({}),
                })
            }
            "DeleteItem" => {
                let key = key_arg(&body["Key"]).ok_or_else(|| invalid("Key is required"))?;
                if let Some(table) = tables.get_mut(&table_name()?) {
                    table.remove(&key);
                }
                Ok(json!({}))
            }
            "Query" => {
                let table = tables.entry(table_name()?).or_default();
                query(table, body).map_err(|message| invalid(&message))
            }
            "BatchWriteItem" => {
                let requests = body["RequestItems"]
                    .as_object()
                    .ok_or_else(|| invalid("RequestItems is required"))?;
                let count: usize = requests
                    .values()
                    .filter_map(Value::as_array)
                    .map(Vec::len)
                    .sum();
                if count == 0 || count > 25 {
                    return Err(invalid("a batch holds 1 to 25 requests"));
                }
                for (name, writes) in requests {
                    let table = tables.entry(name.clone()).or_default();
                    for write in writes.as_array().into_iter().flatten() {
                        if let Some(item) = write["PutRequest"]["Item"].as_object() {
                            let key = key_of(item)
                                .ok_or_else(|| invalid("the item has no pk/sk strings"))?;
                            table.insert(key, item.clone());
                        } else if let Some(key) = key_arg(&write["DeleteRequest"]["Key"]) {
                            table.remove(&key);
                        } else {
                            return Err(invalid("each request is a PutRequest or a DeleteRequest"));
                        }
                    }
                }
                Ok(json!({ "UnprocessedItems": {} }))
            }
            _ => Err(DynamoDbError::service(
                operation,
                "UnknownOperationException",
                format!("{operation} is not one of the registry's operations"),
            )),
        }
    }
}

/// `pk = :pk` or `pk = :pk AND begins_with(sk, :prefix)`, paged by `Limit` and `ExclusiveStartKey`.
fn query(table: &Table, body: &Value) -> Result<Value, String> {
    let expression = body["KeyConditionExpression"].as_str().unwrap_or_default();
    let values = &body["ExpressionAttributeValues"];
    let placeholder = |name: &str| {
        values[name.trim()]["S"]
            .as_str()
            .map(str::to_string)
            .ok_or_else(|| format!("{} has no string value", name.trim()))
    };
    let (hash, range) = match expression.split_once(" AND ") {
        Some((hash, range)) => (hash, Some(range)),
        None => (expression, None),
    };
    let pk = match hash.split_once('=') {
        Some((name, value)) if name.trim() == "pk" => placeholder(value)?,
        _ => return Err(format!("unsupported KeyConditionExpression {expression:?}")),
    };
    let prefix = match range {
        None => String::new(),
        Some(range) => {
            let inner = range
                .trim()
                .strip_prefix("begins_with(")
                .and_then(|rest| rest.strip_suffix(')'))
                .and_then(|args| args.split_once(','))
                .filter(|(name, _)| name.trim() == "sk")
                .ok_or_else(|| format!("unsupported KeyConditionExpression {expression:?}"))?;
            placeholder(inner.1)?
        }
    };
    let start = match key_arg(&body["ExclusiveStartKey"]) {
        Some(key) => Bound::Excluded(key),
        None => Bound::Included((pk.clone(), prefix.clone())),
    };
    let limit = body["Limit"]
        .as_u64()
        .map_or(usize::MAX, |limit| limit as usize);
    let mut matching = table
        .range((start, Bound::Unbounded))
        .take_while(|((item_pk, sk), _)| *item_pk == pk && sk.starts_with(&prefix));
    let page: Vec<&Map<String, Value>> = matching
        .by_ref()
        .take(limit)
        .map(|(_, item)| item)
        .collect();
    let mut answer = json!({ "Count": page.len(), "ScannedCount": page.len() });
    if matching.next().is_some() {
        if let Some(last) = page.last() {
            answer["LastEvaluatedKey"] = json!({ "pk": last["pk"], "sk": last["sk"] });
        }
    }
    if body["Select"].as_str() != Some("COUNT") {
        answer["Items"] = json!(page);
    }
    Ok(answer)
}

fn key_of(item: &Map<String, Value>) -> Option<Key> {
    Some((
        item.get("pk")?["S"].as_str()?.to_string(),
        item.get("sk")?["S"].as_str()?.to_string(),
    ))
}

fn key_arg(key: &Value) -> Option<Key> {
    key_of(key.as_object()?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put(tables: &MemoryTables, pk: &str, sk: &str) {
        tables
            .handle(
                "PutItem",
                &json!({"TableName": "t", "Item": {"pk": {"S": pk}, "sk": {"S": sk}}}),
            )
            .unwrap();
    }

    #[test]
    fn query_pages_and_filters_by_prefix() {
        let tables = MemoryTables::new();
        for sk in ["#conn", "chan#a", "chan#b", "chan#c"] {
            put(&tables, "conn#1", sk);
        }
        put(&tables, "conn#2", "chan#z");
        let query = |start: Value| {
            let mut body = json!({
                "TableName": "t",
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {":pk": {"S": "conn#1"}, ":prefix": {"S": "chan#"}},
                "Limit": 2,
            });
            if !start.is_null() {
                body["ExclusiveStartKey"] = start;
            }
            tables.handle("Query", &body).unwrap()
        };
        let first = query(Value::Null);
        assert_eq!(first["Count"], 2);
        assert_eq!(first["Items"][1]["sk"]["S"], "chan#b");
        let second = query(first["LastEvaluatedKey"].clone());
        assert_eq!(second["Count"], 1);
        assert_eq!(second["Items"][0]["sk"]["S"], "chan#c");
        assert!(second.get("LastEvaluatedKey").is_none());
    }

    #[test]
    fn batches_over_25_are_refused() {
        let tables = MemoryTables::new();
        let writes: Vec<Value> = (0..26)
            .map(|i| json!({"PutRequest": {"Item": {"pk": {"S": "all"}, "sk": {"S": i.to_string()}}}}))
            .collect();
        let error = tables
            .handle("BatchWriteItem", &json!({"RequestItems": {"t": writes}}))
            .unwrap_err();
        assert_eq!(error.code(), Some("ValidationException"));
        assert_eq!(tables.item_count("t"), 0);
    }
}
