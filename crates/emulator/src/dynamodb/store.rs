//! The tables and their items, in memory.
//!
//! A table keeps each partition (hash key value) as a sorted map of its items by sort key, so a
//! Query walks one partition in DynamoDB's order: strings by UTF-8 bytes, numbers by value.
//! Items whose `ttl` (epoch seconds) has passed are treated as deleted on every read, as a
//! DynamoDB table with TTL on `ttl` eventually deletes them, and [`Store::sweep`] drops them.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::sync::{Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use super::errors::DynamoError;
use super::keys::{ItemKey, KeySchema, KeyValue};
use super::values::{self, Item};

/// The attribute that holds an item's expiry (epoch seconds), as the registry's table declares.
pub const TTL_ATTRIBUTE: &str = "ttl";

/// One table.
#[derive(Debug)]
pub struct Table {
    pub name: String,
    pub schema: KeySchema,
    pub created: SystemTime,
    /// Stable for the table's life, as `TableId` is.
    pub id: String,
    partitions: HashMap<KeyValue, BTreeMap<Option<KeyValue>, Item>>,
}

/// Seconds since the epoch, the unit of `ttl`.
pub fn now_seconds() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

/// Whether `item` has expired at `now` (epoch seconds). An item without a numeric `ttl` lives on.
fn expired(item: &Item, now: f64) -> bool {
    item.get(TTL_ATTRIBUTE)
        .and_then(|value| value.get("N"))
        .and_then(Value::as_str)
        .and_then(|number| number.parse::<f64>().ok())
        .is_some_and(|expiry| expiry < now)
}

impl Table {
    fn new(name: &str, schema: KeySchema, sequence: u64) -> Self {
        Self {
            name: name.to_string(),
            schema,
            created: SystemTime::now(),
            id: format!("00000000-0000-4000-8000-{sequence:012x}"),
            partitions: HashMap::new(),
        }
    }

    /// The key of a whole item (PutItem): each key attribute present, of its type, not empty.
    pub fn key_of_item(&self, item: &Item) -> Result<ItemKey, DynamoError> {
        let mut values = self.schema.attributes().map(|attribute| {
            let value = item.get(&attribute.name).ok_or_else(|| {
                DynamoError::validation(format!(
                    "One or more parameter values were invalid: Missing the key {} in the item",
                    attribute.name
                ))
            })?;
            let key = KeyValue::of(value, attribute.kind).ok_or_else(|| {
                let actual = value
                    .as_object()
                    .and_then(|object| object.keys().next().cloned())
                    .unwrap_or_default();
                DynamoError::validation(format!(
                    "One or more parameter values were invalid: Type mismatch for key {} expected: {} actual: {actual}",
                    attribute.name,
                    attribute.kind.name()
                ))
            })?;
            non_empty(key, &attribute.name)
        });
        let hash = values.next().expect("a hash key")?;
        let range = values.next().transpose()?;
        Ok(ItemKey { hash, range })
    }

    /// The key given as `Key` or `ExclusiveStartKey`: exactly the key attributes, of their types.
    pub fn key_from(&self, key: &Item) -> Result<ItemKey, DynamoError> {
        let mismatch =
            || DynamoError::validation("The provided key element does not match the schema");
        if key.len() != self.schema.attributes().count() {
            return Err(mismatch());
        }
        let mut values = self.schema.attributes().map(|attribute| {
            let value = key.get(&attribute.name).ok_or_else(mismatch)?;
            let key = KeyValue::of(value, attribute.kind).ok_or_else(mismatch)?;
            non_empty(key, &attribute.name)
        });
        let hash = values.next().expect("a hash key")?;
        let range = values.next().transpose()?;
        Ok(ItemKey { hash, range })
    }

    /// The key attributes of `key`, as `LastEvaluatedKey` carries them.
    pub fn key_attributes(&self, key: &ItemKey) -> Item {
        let mut attributes = Map::new();
        attributes.insert(self.schema.hash.name.clone(), key.hash.to_attribute());
        if let (Some(range), Some(value)) = (&self.schema.range, &key.range) {
            attributes.insert(range.name.clone(), value.to_attribute());
        }
        attributes
    }

    /// Stores `item` under `key`; returns the item it replaced, if one was live.
    pub fn put(&mut self, key: ItemKey, item: Item, now: f64) -> Option<Item> {
        let replaced = self
            .partitions
            .entry(key.hash)
            .or_default()
            .insert(key.range, item);
        replaced.filter(|old| !expired(old, now))
    }

    pub fn get(&self, key: &ItemKey, now: f64) -> Option<&Item> {
        self.partitions
            .get(&key.hash)?
            .get(&key.range)
            .filter(|item| !expired(item, now))
    }

    /// Removes the item under `key`; returns it if it was live.
    pub fn delete(&mut self, key: &ItemKey, now: f64) -> Option<Item> {
        let partition = self.partitions.get_mut(&key.hash)?;
        let removed = partition.remove(&key.range);
        if partition.is_empty() {
            self.partitions.remove(&key.hash);
        }
        removed.filter(|item| !expired(item, now))
    }

    /// The live items of partition `hash` in sort key order (reversed unless `forward`),
    /// starting after sort key `after` when given.
    pub fn partition<'a>(
        &'a self,
        hash: &KeyValue,
        after: Option<&Option<KeyValue>>,
        forward: bool,
        now: f64,
    ) -> Box<dyn Iterator<Item = (&'a Option<KeyValue>, &'a Item)> + 'a> {
        let Some(partition) = self.partitions.get(hash) else {
            return Box::new(std::iter::empty());
        };
        let live = move |(_, item): &(&Option<KeyValue>, &Item)| !expired(item, now);
        match (after, forward) {
            (None, true) => Box::new(partition.iter().filter(live)),
            (None, false) => Box::new(partition.iter().rev().filter(live)),
            (Some(after), true) => Box::new(
                partition
                    .range((Bound::Excluded(after.clone()), Bound::Unbounded))
                    .filter(live),
            ),
            (Some(after), false) => Box::new(
                partition
                    .range((Bound::Unbounded, Bound::Excluded(after.clone())))
                    .rev()
                    .filter(live),
            ),
        }
    }

    /// Live items and their total size, for DescribeTable.
    pub fn statistics(&self, now: f64) -> (usize, usize) {
        self.partitions
            .values()
            .flat_map(BTreeMap::values)
            .filter(|item| !expired(item, now))
            .fold((0, 0), |(count, bytes), item| {
                (count + 1, bytes + values::item_size(item))
            })
    }

    /// Drops expired items; returns how many.
    fn sweep(&mut self, now: f64) -> usize {
        let mut dropped = 0;
        self.partitions.retain(|_, partition| {
            let before = partition.len();
            partition.retain(|_, item| !expired(item, now));
            dropped += before - partition.len();
            !partition.is_empty()
        });
        dropped
    }
}

/// DynamoDB refuses an empty string (or binary) as a key value.
fn non_empty(key: KeyValue, attribute: &str) -> Result<KeyValue, DynamoError> {
    match &key {
        KeyValue::S(text) if text.is_empty() => Err(DynamoError::validation(format!(
            "One or more parameter values are not valid. The AttributeValue for a key attribute cannot contain an empty string value. Key: {attribute}"
        ))),
        _ => Ok(key),
    }
}

/// Every table of the endpoint.
#[derive(Debug)]
pub struct Store {
    /// Named in table ARNs.
    region: String,
    tables: Mutex<Tables>,
}

#[derive(Debug, Default)]
struct Tables {
    by_name: BTreeMap<String, Table>,
    created: u64,
}

impl Store {
    pub fn new(region: &str) -> Self {
        Self {
            region: region.to_string(),
            tables: Mutex::default(),
        }
    }

    pub fn region(&self) -> &str {
        &self.region
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        // A panic while holding the lock leaves consistent maps (every change is one insert or
        // remove), so a poisoned lock is still usable.
        self.tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Creates table `name`; runs `describe` on it.
    pub fn create_table<R>(
        &self,
        name: &str,
        schema: KeySchema,
        describe: impl FnOnce(&Table) -> R,
    ) -> Result<R, DynamoError> {
        let mut tables = self.lock();
        if tables.by_name.contains_key(name) {
            return Err(DynamoError::table_in_use(name));
        }
        tables.created += 1;
        let table = Table::new(name, schema, tables.created);
        let described = describe(&table);
        tables.by_name.insert(name.to_string(), table);
        Ok(described)
    }

    /// Removes table `name`; runs `describe` on it.
    pub fn delete_table<R>(
        &self,
        name: &str,
        describe: impl FnOnce(&Table) -> R,
    ) -> Result<R, DynamoError> {
        let table = self
            .lock()
            .by_name
            .remove(name)
            .ok_or_else(|| DynamoError::named_table_not_found(name))?;
        Ok(describe(&table))
    }

    /// Runs `operation` on table `name`, or answers that it does not exist.
    pub fn with_table<R>(
        &self,
        name: &str,
        operation: impl FnOnce(&mut Table) -> Result<R, DynamoError>,
    ) -> Result<R, DynamoError> {
        let mut tables = self.lock();
        let table = tables
            .by_name
            .get_mut(name)
            .ok_or_else(DynamoError::table_not_found)?;
        operation(table)
    }

    /// Runs `operation` with every table named in `names` at once (BatchWriteItem), so a batch
    /// is checked in full before any of it is written.
    pub fn with_tables<R>(
        &self,
        names: &[&str],
        operation: impl FnOnce(&mut BTreeMap<String, Table>) -> Result<R, DynamoError>,
    ) -> Result<R, DynamoError> {
        let mut tables = self.lock();
        if names.iter().any(|name| !tables.by_name.contains_key(*name)) {
            return Err(DynamoError::table_not_found());
        }
        operation(&mut tables.by_name)
    }

    pub fn table_names(&self) -> Vec<String> {
        self.lock().by_name.keys().cloned().collect()
    }

    /// Drops every expired item; returns how many.
    pub fn sweep(&self, now: f64) -> usize {
        self.lock()
            .by_name
            .values_mut()
            .map(|table| table.sweep(now))
            .sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn item(value: Value) -> Item {
        values::item(&value, "item").unwrap()
    }

    fn registry_table() -> Table {
        Table::new("t", KeySchema::registry(), 1)
    }

    #[test]
    fn a_partition_reads_in_utf8_byte_order() {
        let mut table = registry_table();
        for sk in ["b", "a", "Z", "é", "aa", "#conn", "chan#x"] {
            let stored = item(json!({"pk": {"S": "p"}, "sk": {"S": sk}}));
            let key = table.key_of_item(&stored).unwrap();
            table.put(key, stored, 0.0);
        }
        let order: Vec<_> = table
            .partition(&KeyValue::S("p".into()), None, true, 0.0)
            .map(|(_, item)| item["sk"]["S"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(order, ["#conn", "Z", "a", "aa", "b", "chan#x", "é"]);
        let after_a: Vec<_> = table
            .partition(
                &KeyValue::S("p".into()),
                Some(&Some(KeyValue::S("a".into()))),
                false,
                0.0,
            )
            .map(|(_, item)| item["sk"]["S"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(after_a, ["Z", "#conn"]);
    }

    #[test]
    fn expired_items_are_gone_on_read_and_swept() {
        let store = Store::new("us-east-1");
        store
            .create_table("t", KeySchema::registry(), |_| ())
            .unwrap();
        store
            .with_table("t", |table| {
                for (sk, ttl) in [("old", "100"), ("new", "300")] {
                    let stored =
                        item(json!({"pk": {"S": "p"}, "sk": {"S": sk}, "ttl": {"N": ttl}}));
                    let key = table.key_of_item(&stored)?;
                    table.put(key, stored, 0.0);
                }
                let old = ItemKey {
                    hash: KeyValue::S("p".into()),
                    range: Some(KeyValue::S("old".into())),
                };
                assert!(table.get(&old, 99.0).is_some());
                assert!(table.get(&old, 200.0).is_none());
                assert_eq!(table.statistics(200.0).0, 1);
                Ok(())
            })
            .unwrap();
        assert_eq!(store.sweep(200.0), 1);
        assert_eq!(store.sweep(200.0), 0);
        assert_eq!(store.sweep(400.0), 1);
    }

    #[test]
    fn keys_must_match_the_schema() {
        let table = registry_table();
        let missing = table
            .key_of_item(&item(json!({"pk": {"S": "p"}})))
            .unwrap_err();
        assert_eq!(
            missing.message,
            "One or more parameter values were invalid: Missing the key sk in the item"
        );
        let mismatch = table
            .key_of_item(&item(json!({"pk": {"N": "1"}, "sk": {"S": "s"}})))
            .unwrap_err();
        assert_eq!(
            mismatch.message,
            "One or more parameter values were invalid: Type mismatch for key pk expected: S actual: N"
        );
        assert!(table
            .key_of_item(&item(json!({"pk": {"S": ""}, "sk": {"S": "s"}})))
            .unwrap_err()
            .message
            .contains("cannot contain an empty string value. Key: pk"));
        for key in [
            json!({"pk": {"S": "p"}}),
            json!({"pk": {"S": "p"}, "sk": {"S": "s"}, "x": {"S": "y"}}),
            json!({"pk": {"S": "p"}, "sk": {"N": "1"}}),
        ] {
            assert_eq!(
                table.key_from(&item(key)).unwrap_err().message,
                "The provided key element does not match the schema"
            );
        }
    }
}
