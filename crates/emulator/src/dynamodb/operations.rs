//! The operations: which ones the endpoint serves, and the item operations (PutItem, GetItem,
//! DeleteItem, BatchWriteItem). Query is in [`super::query`], the table operations in
//! [`super::tables`].

use std::collections::HashSet;

use serde_json::{json, Map, Value};

use super::errors::DynamoError;
use super::keys::ItemKey;
use super::params::{constraint, Params};
use super::query;
use super::store::{now_seconds, Store};
use super::tables;
use super::values::{self, Item, MAX_ITEM_BYTES};

/// The most write requests one BatchWriteItem takes.
const MAX_BATCH_WRITES: usize = 25;

/// The operations served, as `X-Amz-Target` names them after `DynamoDB_20120810.`.
const OPERATIONS: [&str; 9] = [
    "PutItem",
    "GetItem",
    "DeleteItem",
    "Query",
    "BatchWriteItem",
    "CreateTable",
    "DescribeTable",
    "DeleteTable",
    "ListTables",
];

/// Whether `operation` is one this endpoint serves.
pub fn is_served(operation: &str) -> bool {
    OPERATIONS.contains(&operation)
}

/// Runs `operation` with the request body `params`; the answer is the response body.
pub fn execute(store: &Store, operation: &str, params: &Params) -> Result<Value, DynamoError> {
    match operation {
        "PutItem" => put_item(store, params),
        "GetItem" => get_item(store, params),
        "DeleteItem" => delete_item(store, params),
        "Query" => query::query(store, params),
        "BatchWriteItem" => batch_write_item(store, params),
        "CreateTable" => tables::create_table(store, params),
        "DescribeTable" => tables::describe_table(store, params),
        "DeleteTable" => tables::delete_table(store, params),
        "ListTables" => tables::list_tables(store, params),
        other => Err(DynamoError::unknown_operation(format!(
            "DynamoDB_20120810.{other} is not served here; the local endpoint serves {}",
            OPERATIONS.join(", ")
        ))),
    }
}

/// Fields of the item operations that take conditions or projections.
const CONDITIONS: [&str; 4] = [
    "ConditionExpression",
    "Expected",
    "ConditionalOperator",
    "ProjectionExpression",
];

fn put_item(store: &Store, params: &Params) -> Result<Value, DynamoError> {
    let table_name = params.table_name()?;
    params.refuse(&CONDITIONS)?;
    params.refuse_placeholders()?;
    let item = params.item("Item", "item")?;
    let return_old = params.returns_old_item()?;
    check_size(&item)?;
    store.with_table(table_name, |table| {
        let key = table.key_of_item(&item)?;
        let old = table.put(key, item, now_seconds());
        Ok(old_attributes(old.filter(|_| return_old)))
    })
}

fn get_item(store: &Store, params: &Params) -> Result<Value, DynamoError> {
    let table_name = params.table_name()?;
    params.refuse(&["ProjectionExpression", "AttributesToGet"])?;
    params.refuse_placeholders()?;
    let key = params.item("Key", "key")?;
    // Every read here is strongly consistent, so `ConsistentRead` changes nothing.
    params.boolean("ConsistentRead")?;
    store.with_table(table_name, |table| {
        let key = table.key_from(&key)?;
        Ok(match table.get(&key, now_seconds()) {
            Some(item) => json!({ "Item": item }),
            None => json!({}),
        })
    })
}

fn delete_item(store: &Store, params: &Params) -> Result<Value, DynamoError> {
    let table_name = params.table_name()?;
    params.refuse(&CONDITIONS)?;
    params.refuse_placeholders()?;
    let key = params.item("Key", "key")?;
    let return_old = params.returns_old_item()?;
    store.with_table(table_name, |table| {
        let key = table.key_from(&key)?;
        let old = table.delete(&key, now_seconds());
        Ok(old_attributes(old.filter(|_| return_old)))
    })
}

/// `{"Attributes": old}` for `ReturnValues: ALL_OLD` when there was an item, else `{}`.
fn old_attributes(old: Option<Item>) -> Value {
    match old {
        Some(item) => json!({ "Attributes": item }),
        None => json!({}),
    }
}

fn check_size(item: &Item) -> Result<(), DynamoError> {
    if values::item_size(item) > MAX_ITEM_BYTES {
        return Err(DynamoError::validation(
            "Item size has exceeded the maximum allowed size",
        ));
    }
    Ok(())
}

/// One checked write of a batch.
enum Write {
    Put(Item),
    Delete(Item),
}

fn batch_write_item(store: &Store, params: &Params) -> Result<Value, DynamoError> {
    let requests = params
        .map("RequestItems")?
        .ok_or_else(|| constraint("null", "requestItems", "Member must not be null"))?;
    if requests.is_empty() {
        return Err(constraint(
            "'{}'",
            "requestItems",
            "Member must have length greater than or equal to 1",
        ));
    }
    let mut writes: Vec<(&str, Write)> = Vec::new();
    for (table_name, list) in requests {
        super::params::table_name(table_name, "requestItems.key")?;
        let list = list
            .as_array()
            .ok_or_else(|| DynamoError::serialization("RequestItems values must be lists"))?;
        if list.is_empty() || list.len() > MAX_BATCH_WRITES {
            return Err(constraint(
                &format!("'{{{table_name}=[...]}}'"),
                "requestItems",
                "Map value must satisfy constraint: [Member must have length less than or equal to 25, Member must have length greater than or equal to 1]",
            ));
        }
        for request in list {
            writes.push((table_name, write_request(request)?));
        }
    }
    if writes.len() > MAX_BATCH_WRITES {
        return Err(DynamoError::validation(
            "Too many items requested for the BatchWriteItem call",
        ));
    }
    let names: Vec<&str> = requests.keys().map(String::as_str).collect();
    store.with_tables(&names, |tables| {
        // Check the whole batch before writing any of it, as DynamoDB refuses it whole.
        let mut keys: HashSet<(&str, ItemKey)> = HashSet::new();
        let mut checked = Vec::with_capacity(writes.len());
        for (table_name, write) in writes {
            let table = &tables[table_name];
            let key = match &write {
                Write::Put(item) => {
                    check_size(item)?;
                    table.key_of_item(item)?
                }
                Write::Delete(key) => table.key_from(key)?,
            };
            if !keys.insert((table_name, key.clone())) {
                return Err(DynamoError::validation(
                    "Provided list of item keys contains duplicates",
                ));
            }
            checked.push((table_name, key, write));
        }
        let now = now_seconds();
        for (table_name, key, write) in checked {
            let table = tables.get_mut(table_name).expect("checked above");
            match write {
                Write::Put(item) => {
                    table.put(key, item, now);
                }
                Write::Delete(_) => {
                    table.delete(&key, now);
                }
            }
        }
        Ok(json!({ "UnprocessedItems": Map::new() }))
    })
}

/// `{"PutRequest": {"Item": ..}}` or `{"DeleteRequest": {"Key": ..}}`.
fn write_request(request: &Value) -> Result<Write, DynamoError> {
    let exactly_one = || {
        DynamoError::validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes: a WriteRequest holds exactly one of PutRequest or DeleteRequest",
        )
    };
    let request = request
        .as_object()
        .filter(|request| request.len() == 1)
        .ok_or_else(exactly_one)?;
    let member = |request: &Value, field: &str, parameter: &str| {
        let value = request
            .get(field)
            .ok_or_else(|| constraint("null", parameter, "Member must not be null"))?;
        values::item(value, parameter)
    };
    if let Some(put) = request.get("PutRequest") {
        return Ok(Write::Put(member(put, "Item", "item")?));
    }
    if let Some(delete) = request.get("DeleteRequest") {
        return Ok(Write::Delete(member(delete, "Key", "key")?));
    }
    Err(exactly_one())
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;
    use crate::dynamodb::keys::KeySchema;

    pub fn registry_store() -> Store {
        let store = Store::new("us-east-1");
        store
            .create_table("reg", KeySchema::registry(), |_| ())
            .unwrap();
        store
    }

    pub fn call(store: &Store, operation: &str, body: Value) -> Result<Value, DynamoError> {
        execute(store, operation, &Params::from_json(body))
    }

    #[test]
    fn put_get_delete_round_trip() {
        let store = registry_store();
        let item = json!({
            "pk": {"S": "conn#1"}, "sk": {"S": "#conn"},
            "connectedAt": {"N": "1700000000000"}, "sourceIp": {"S": "127.0.0.1"},
            "attributes": {"M": {"name": {"S": "ada"}, "tags": {"L": [{"BOOL": true}, {"NULL": true}]}}},
        });
        assert_eq!(
            call(&store, "PutItem", json!({"TableName": "reg", "Item": item})).unwrap(),
            json!({})
        );
        let key = json!({"pk": {"S": "conn#1"}, "sk": {"S": "#conn"}});
        assert_eq!(
            call(
                &store,
                "GetItem",
                json!({"TableName": "reg", "Key": key, "ConsistentRead": true})
            )
            .unwrap(),
            json!({"Item": item})
        );
        assert_eq!(
            call(
                &store,
                "DeleteItem",
                json!({"TableName": "reg", "Key": key, "ReturnValues": "ALL_OLD"})
            )
            .unwrap(),
            json!({"Attributes": item})
        );
        assert_eq!(
            call(&store, "GetItem", json!({"TableName": "reg", "Key": key})).unwrap(),
            json!({})
        );
        assert_eq!(
            call(
                &store,
                "DeleteItem",
                json!({"TableName": "reg", "Key": key})
            )
            .unwrap(),
            json!({})
        );
    }

    #[test]
    fn expired_items_read_as_absent() {
        let store = registry_store();
        let past = (now_seconds() as u64 - 5).to_string();
        let future = (now_seconds() as u64 + 3600).to_string();
        for (sk, ttl) in [("gone", &past), ("here", &future)] {
            call(&store, "PutItem", json!({"TableName": "reg", "Item": {"pk": {"S": "p"}, "sk": {"S": sk}, "ttl": {"N": ttl}}})).unwrap();
        }
        let get = |sk: &str| {
            call(
                &store,
                "GetItem",
                json!({"TableName": "reg", "Key": {"pk": {"S": "p"}, "sk": {"S": sk}}}),
            )
            .unwrap()
        };
        assert_eq!(get("gone"), json!({}));
        assert_eq!(get("here")["Item"]["ttl"]["N"], future.as_str());
    }

    #[test]
    fn errors_name_what_is_wrong() {
        let store = registry_store();
        let missing_table = call(
            &store,
            "GetItem",
            json!({"TableName": "nope", "Key": {"pk": {"S": "a"}, "sk": {"S": "b"}}}),
        )
        .unwrap_err();
        assert_eq!(missing_table, DynamoError::table_not_found());
        let no_name = call(&store, "PutItem", json!({"Item": {}})).unwrap_err();
        assert_eq!(no_name.code, "ValidationException");
        assert_eq!(
            no_name.message,
            "1 validation error detected: Value null at 'tableName' failed to satisfy constraint: Member must not be null"
        );
        let partial_key = call(
            &store,
            "GetItem",
            json!({"TableName": "reg", "Key": {"pk": {"S": "a"}}}),
        )
        .unwrap_err();
        assert_eq!(
            partial_key.message,
            "The provided key element does not match the schema"
        );
        let condition = call(&store, "PutItem", json!({"TableName": "reg", "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}}, "ConditionExpression": "attribute_not_exists(pk)"})).unwrap_err();
        assert!(condition
            .message
            .starts_with("ConditionExpression is not supported"));
        let unknown = call(&store, "Scan", json!({"TableName": "reg"})).unwrap_err();
        assert_eq!(unknown.code, "UnknownOperationException");
        let big = "x".repeat(MAX_ITEM_BYTES);
        let too_big = call(&store, "PutItem", json!({"TableName": "reg", "Item": {"pk": {"S": "a"}, "sk": {"S": "b"}, "blob": {"S": big}}})).unwrap_err();
        assert_eq!(
            too_big.message,
            "Item size has exceeded the maximum allowed size"
        );
    }

    #[test]
    fn batch_write_puts_and_deletes_all_or_nothing() {
        let store = registry_store();
        let put = |pk: &str, sk: &str| json!({"PutRequest": {"Item": {"pk": {"S": pk}, "sk": {"S": sk}}}});
        let answer = call(
            &store,
            "BatchWriteItem",
            json!({"RequestItems": {"reg": [put("conn#1", "#conn"), put("all", "1")]}}),
        )
        .unwrap();
        assert_eq!(answer, json!({"UnprocessedItems": {}}));
        let count = |pk: &str| {
            call(&store, "Query", json!({"TableName": "reg", "KeyConditionExpression": "pk = :pk", "ExpressionAttributeValues": {":pk": {"S": pk}}, "Select": "COUNT"})).unwrap()["Count"].clone()
        };
        assert_eq!(count("all"), 1);

        let delete = json!({"DeleteRequest": {"Key": {"pk": {"S": "all"}, "sk": {"S": "1"}}}});
        let duplicates = call(
            &store,
            "BatchWriteItem",
            json!({"RequestItems": {"reg": [delete, delete]}}),
        )
        .unwrap_err();
        assert_eq!(
            duplicates.message,
            "Provided list of item keys contains duplicates"
        );
        // A batch with one bad request writes nothing.
        let bad = json!({"PutRequest": {"Item": {"pk": {"S": "x"}}}});
        assert!(call(
            &store,
            "BatchWriteItem",
            json!({"RequestItems": {"reg": [delete, bad]}})
        )
        .is_err());
        assert_eq!(count("all"), 1);
        call(
            &store,
            "BatchWriteItem",
            json!({"RequestItems": {"reg": [delete]}}),
        )
        .unwrap();
        assert_eq!(count("all"), 0);

        let many: Vec<Value> = (0..26).map(|i| put("all", &i.to_string())).collect();
        assert!(call(
            &store,
            "BatchWriteItem",
            json!({"RequestItems": {"reg": many}})
        )
        .unwrap_err()
        .message
        .contains("less than or equal to 25"));
        let unknown = call(
            &store,
            "BatchWriteItem",
            json!({"RequestItems": {"nope": [put("a", "b")]}}),
        )
        .unwrap_err();
        assert_eq!(unknown.code, "ResourceNotFoundException");
    }
}
