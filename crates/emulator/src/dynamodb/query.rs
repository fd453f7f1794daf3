//! Query: the items of one partition in sort key order, a page at a time.
//!
//! A page ends after `Limit` items or 1 MB of items, whichever comes first; `LastEvaluatedKey`
//! then holds the last item's key, even when no item follows (DynamoDB only knows there are none
//! on the next call, which answers an empty page without one). Expired items are not counted.

use std::cmp::Ordering;

use serde_json::{json, Map, Value};

use super::errors::DynamoError;
use super::expressions::{self, Comparator, Term};
use super::keys::{ItemKey, KeySchema, KeyType, KeyValue};
use super::params::{constraint, not_served, Params};
use super::store::{now_seconds, Store};
use super::values;

/// A page holds at most this many bytes of items.
const MAX_PAGE_BYTES: usize = 1024 * 1024;

/// A resolved key condition: one partition, and which of its sort keys.
struct KeyCondition {
    hash: KeyValue,
    range: Option<RangeCondition>,
}

enum RangeCondition {
    Compare(Comparator, KeyValue),
    Between(KeyValue, KeyValue),
    BeginsWith(String),
}

impl RangeCondition {
    fn matches(&self, key: &KeyValue) -> bool {
        match self {
            RangeCondition::Compare(comparator, value) => {
                let ordering = key.cmp(value);
                match comparator {
                    Comparator::Eq => ordering == Ordering::Equal,
                    Comparator::Lt => ordering == Ordering::Less,
                    Comparator::Le => ordering != Ordering::Greater,
                    Comparator::Gt => ordering == Ordering::Greater,
                    Comparator::Ge => ordering != Ordering::Less,
                }
            }
            RangeCondition::Between(low, high) => low <= key && key <= high,
            RangeCondition::BeginsWith(prefix) => {
                matches!(key, KeyValue::S(text) if text.starts_with(prefix.as_str()))
            }
        }
    }
}

/// The attribute value `value` as a key of type `kind`.
fn key_value(value: &Value, kind: KeyType) -> Result<KeyValue, DynamoError> {
    KeyValue::of(value, kind).ok_or_else(|| {
        DynamoError::validation(
            "One or more parameter values were invalid: Condition parameter type does not match schema type",
        )
    })
}

/// Maps the parsed terms onto the table's key: an equality on the partition key, and at most one
/// condition on the sort key.
fn resolve(schema: &KeySchema, terms: Vec<Term>) -> Result<KeyCondition, DynamoError> {
    if terms.len() > 2 {
        return Err(DynamoError::validation(
            "Conditions can be of length 1 or 2 only",
        ));
    }
    if terms.len() == 2 && terms[0].attribute() == terms[1].attribute() {
        return Err(DynamoError::validation(
            "KeyConditionExpressions must only contain one condition per key",
        ));
    }
    let missed = |attribute: &str| {
        DynamoError::validation(format!(
            "Query condition missed key schema element: {attribute}"
        ))
    };
    let (hash_terms, other_terms): (Vec<Term>, Vec<Term>) = terms
        .into_iter()
        .partition(|term| term.attribute() == schema.hash.name);
    let hash = match hash_terms.into_iter().next() {
        Some(Term::Compare {
            comparator: Comparator::Eq,
            value,
            ..
        }) => key_value(&value, schema.hash.kind)?,
        Some(_) => return Err(DynamoError::validation("Query key condition not supported")),
        None => return Err(missed(&schema.hash.name)),
    };
    let Some(term) = other_terms.into_iter().next() else {
        return Ok(KeyCondition { hash, range: None });
    };
    let range_attribute = match &schema.range {
        Some(range) if range.name == term.attribute() => range,
        Some(range) => return Err(missed(&range.name)),
        None => return Err(missed(term.attribute())),
    };
    let kind = range_attribute.kind;
    let range = match term {
        Term::Compare {
            comparator, value, ..
        } => RangeCondition::Compare(comparator, key_value(&value, kind)?),
        Term::Between { low, high, .. } => {
            let (low_key, high_key) = (key_value(&low, kind)?, key_value(&high, kind)?);
            if low_key > high_key {
                return Err(DynamoError::validation(format!(
                    "Invalid KeyConditionExpression: The BETWEEN operator requires upper bound to be greater than or equal to lower bound; lower bound operand: AttributeValue: {low}, upper bound operand: AttributeValue: {high}"
                )));
            }
            RangeCondition::Between(low_key, high_key)
        }
        Term::BeginsWith { prefix, .. } => {
            let operand_type = prefix
                .as_object()
                .and_then(|object| object.keys().next().cloned())
                .unwrap_or_default();
            match (kind, prefix.get("S").and_then(Value::as_str)) {
                (KeyType::S, Some(prefix)) => RangeCondition::BeginsWith(prefix.to_string()),
                _ => {
                    return Err(DynamoError::validation(format!(
                        "Invalid KeyConditionExpression: Incorrect operand type for operator or function; operator or function: begins_with, operand type: {operand_type}"
                    )))
                }
            }
        }
    };
    Ok(KeyCondition {
        hash,
        range: Some(range),
    })
}

pub fn query(store: &Store, params: &Params) -> Result<Value, DynamoError> {
    let table_name = params.table_name()?;
    params.refuse(&[
        "IndexName",
        "FilterExpression",
        "ProjectionExpression",
        "KeyConditions",
        "QueryFilter",
        "AttributesToGet",
        "ConditionalOperator",
    ])?;
    let expression = params.string("KeyConditionExpression")?.ok_or_else(|| {
        DynamoError::validation(
            "Either the KeyConditions or KeyConditionExpression parameter must be specified in the request.",
        )
    })?;
    let no_placeholders = Map::new();
    let names = params
        .map("ExpressionAttributeNames")?
        .unwrap_or(&no_placeholders);
    let placeholder_values = params
        .map("ExpressionAttributeValues")?
        .map(|values| values::item(&Value::Object(values.clone()), "expressionAttributeValues"))
        .transpose()?
        .unwrap_or_default();
    let terms = expressions::key_condition(expression, names, &placeholder_values)?;
    let limit = params
        .integer("Limit", "limit", 1)?
        .map_or(usize::MAX, |limit| limit as usize);
    let count_only = match params.string("Select")? {
        None | Some("ALL_ATTRIBUTES") => false,
        Some("COUNT") => true,
        Some("SPECIFIC_ATTRIBUTES") => return Err(not_served("Select SPECIFIC_ATTRIBUTES")),
        Some("ALL_PROJECTED_ATTRIBUTES") => {
            return Err(DynamoError::validation(
                "ALL_PROJECTED_ATTRIBUTES can be used only when Querying using an IndexName",
            ))
        }
        Some(other) => {
            return Err(constraint(
                &format!("'{other}'"),
                "select",
                "Member must satisfy enum value set: [SPECIFIC_ATTRIBUTES, COUNT, ALL_ATTRIBUTES, ALL_PROJECTED_ATTRIBUTES]",
            ))
        }
    };
    let forward = params.boolean("ScanIndexForward")?.unwrap_or(true);
    params.boolean("ConsistentRead")?;
    let start = params.optional_item("ExclusiveStartKey", "exclusiveStartKey")?;

    store.with_table(table_name, |table| {
        let condition = resolve(&table.schema, terms)?;
        let start = start
            .map(|key| {
                table.key_from(&key).map_err(|error| {
                    DynamoError::validation(format!(
                        "The provided starting key is invalid: {}",
                        error.message
                    ))
                })
            })
            .transpose()?;
        if start.as_ref().is_some_and(|start| start.hash != condition.hash) {
            return Err(DynamoError::validation(
                "The provided starting key is outside query boundaries based on provided conditions",
            ));
        }
        let candidates = table
            .partition(
                &condition.hash,
                start.as_ref().map(|start| &start.range),
                forward,
                now_seconds(),
            )
            .filter(|(range, _)| match (&condition.range, range) {
                (Some(condition), Some(range)) => condition.matches(range),
                _ => true,
            });
        let mut items = Vec::new();
        let mut count = 0;
        let mut bytes = 0;
        let mut last_key = None;
        for (range, item) in candidates {
            count += 1;
            bytes += values::item_size(item);
            if !count_only {
                items.push(Value::Object(item.clone()));
            }
            if count == limit || bytes >= MAX_PAGE_BYTES {
                last_key = Some(ItemKey {
                    hash: condition.hash.clone(),
                    range: range.clone(),
                });
                break;
            }
        }
        let mut answer = json!({ "Count": count, "ScannedCount": count });
        if !count_only {
            answer["Items"] = Value::Array(items);
        }
        if let Some(key) = last_key {
            answer["LastEvaluatedKey"] = Value::Object(table.key_attributes(&key));
        }
        Ok(answer)
    })
}

#[cfg(test)]
mod tests {
    use super::super::operations::tests::{call, registry_store};
    use super::*;

    fn fill(store: &Store, pk: &str, sks: &[&str]) {
        for sk in sks {
            call(
                store,
                "PutItem",
                json!({"TableName": "reg", "Item": {"pk": {"S": pk}, "sk": {"S": sk}}}),
            )
            .unwrap();
        }
    }

    fn sort_keys(answer: &Value) -> Vec<String> {
        answer["Items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|item| item["sk"]["S"].as_str().unwrap().to_string())
            .collect()
    }

    fn query_pk(store: &Store, pk: &str, extra: Value) -> Result<Value, DynamoError> {
        let mut body = json!({
            "TableName": "reg",
            "KeyConditionExpression": "pk = :pk",
            "ExpressionAttributeValues": {":pk": {"S": pk}},
            "ConsistentRead": true,
        });
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        call(store, "Query", body)
    }

    #[test]
    fn pages_follow_the_last_evaluated_key() {
        let store = registry_store();
        fill(&store, "chan#room", &["c", "a", "e", "b", "d"]);
        fill(&store, "chan#other", &["x"]);
        let first = query_pk(&store, "chan#room", json!({"Limit": 2})).unwrap();
        assert_eq!(sort_keys(&first), ["a", "b"]);
        assert_eq!(first["Count"], 2);
        assert_eq!(first["ScannedCount"], 2);
        assert_eq!(
            first["LastEvaluatedKey"],
            json!({"pk": {"S": "chan#room"}, "sk": {"S": "b"}})
        );
        let second = query_pk(
            &store,
            "chan#room",
            json!({"Limit": 2, "ExclusiveStartKey": first["LastEvaluatedKey"]}),
        )
        .unwrap();
        assert_eq!(sort_keys(&second), ["c", "d"]);
        // The page that reaches the end exactly still carries a key; the next one is empty.
        let third = query_pk(
            &store,
            "chan#room",
            json!({"Limit": 1, "ExclusiveStartKey": second["LastEvaluatedKey"]}),
        )
        .unwrap();
        assert_eq!(sort_keys(&third), ["e"]);
        assert!(third.get("LastEvaluatedKey").is_some());
        let last = query_pk(
            &store,
            "chan#room",
            json!({"Limit": 1, "ExclusiveStartKey": third["LastEvaluatedKey"]}),
        )
        .unwrap();
        assert_eq!(last, json!({"Count": 0, "ScannedCount": 0, "Items": []}));
        // Without a limit, everything and no key.
        let all = query_pk(&store, "chan#room", json!({})).unwrap();
        assert_eq!(sort_keys(&all), ["a", "b", "c", "d", "e"]);
        assert!(all.get("LastEvaluatedKey").is_none());
        let backwards = query_pk(
            &store,
            "chan#room",
            json!({"ScanIndexForward": false, "Limit": 2}),
        )
        .unwrap();
        assert_eq!(sort_keys(&backwards), ["e", "d"]);
    }

    #[test]
    fn begins_with_selects_a_prefix() {
        let store = registry_store();
        fill(
            &store,
            "conn#1",
            &["#conn", "chan#a", "chan#b", "chan", "chan$"],
        );
        let answer = call(
            &store,
            "Query",
            json!({
                "TableName": "reg",
                "KeyConditionExpression": "pk = :pk AND begins_with(sk, :prefix)",
                "ExpressionAttributeValues": {":pk": {"S": "conn#1"}, ":prefix": {"S": "chan#"}},
            }),
        )
        .unwrap();
        assert_eq!(sort_keys(&answer), ["chan#a", "chan#b"]);
        assert_eq!(answer["Count"], 2);
    }

    #[test]
    fn count_pages_without_items() {
        let store = registry_store();
        let members: Vec<String> = (0..7).map(|i| format!("id{i}")).collect();
        fill(
            &store,
            "chan#big",
            &members.iter().map(String::as_str).collect::<Vec<_>>(),
        );
        let mut total = 0;
        let mut start = None;
        loop {
            let mut extra = json!({"Select": "COUNT", "Limit": 3});
            if let Some(start) = start.take() {
                extra["ExclusiveStartKey"] = start;
            }
            let page = query_pk(&store, "chan#big", extra).unwrap();
            assert!(page.get("Items").is_none());
            assert_eq!(page["Count"], page["ScannedCount"]);
            total += page["Count"].as_u64().unwrap();
            match page.get("LastEvaluatedKey") {
                Some(key) => start = Some(key.clone()),
                None => break,
            }
        }
        assert_eq!(total, 7);
        assert_eq!(
            query_pk(&store, "chan#none", json!({"Select": "COUNT"})).unwrap(),
            json!({"Count": 0, "ScannedCount": 0})
        );
    }

    #[test]
    fn a_page_stops_at_one_megabyte() {
        let store = registry_store();
        let blob = "x".repeat(300 * 1024);
        for sk in ["a", "b", "c", "d", "e"] {
            call(&store, "PutItem", json!({"TableName": "reg", "Item": {"pk": {"S": "p"}, "sk": {"S": sk}, "blob": {"S": blob}}})).unwrap();
        }
        let page = query_pk(&store, "p", json!({})).unwrap();
        assert_eq!(page["Count"], 4);
        assert_eq!(page["LastEvaluatedKey"]["sk"]["S"], "d");
    }

    #[test]
    fn refused_queries() {
        let store = registry_store();
        let message = |extra: Value| query_pk(&store, "p", extra).unwrap_err().message;
        assert_eq!(
            message(json!({"Limit": 0})),
            "1 validation error detected: Value '0' at 'limit' failed to satisfy constraint: Member must have value greater than or equal to 1"
        );
        assert!(message(json!({"ExclusiveStartKey": {"pk": {"S": "p"}}}))
            .starts_with("The provided starting key is invalid"));
        assert!(
            message(json!({"ExclusiveStartKey": {"pk": {"S": "q"}, "sk": {"S": "a"}}}))
                .contains("outside query boundaries")
        );
        assert!(message(json!({"Select": "SOME"})).contains("enum value set"));
        let missed = call(&store, "Query", json!({"TableName": "reg", "KeyConditionExpression": "sk = :v", "ExpressionAttributeValues": {":v": {"S": "a"}}})).unwrap_err();
        assert_eq!(
            missed.message,
            "Query condition missed key schema element: pk"
        );
        let mismatch = call(&store, "Query", json!({"TableName": "reg", "KeyConditionExpression": "pk = :v", "ExpressionAttributeValues": {":v": {"N": "1"}}})).unwrap_err();
        assert!(mismatch
            .message
            .contains("Condition parameter type does not match schema type"));
        let not_supported = call(&store, "Query", json!({"TableName": "reg", "KeyConditionExpression": "pk > :v", "ExpressionAttributeValues": {":v": {"S": "a"}}})).unwrap_err();
        assert_eq!(not_supported.message, "Query key condition not supported");
        let unknown = call(&store, "Query", json!({"TableName": "nope", "KeyConditionExpression": "pk = :v", "ExpressionAttributeValues": {":v": {"S": "a"}}})).unwrap_err();
        assert_eq!(unknown.code, "ResourceNotFoundException");
    }

    #[test]
    fn sort_key_comparisons() {
        let store = registry_store();
        fill(&store, "p", &["a", "b", "c", "d"]);
        let between = call(&store, "Query", json!({"TableName": "reg", "KeyConditionExpression": "pk = :p AND sk BETWEEN :lo AND :hi", "ExpressionAttributeValues": {":p": {"S": "p"}, ":lo": {"S": "b"}, ":hi": {"S": "c"}}})).unwrap();
        assert_eq!(sort_keys(&between), ["b", "c"]);
        let less = call(&store, "Query", json!({"TableName": "reg", "KeyConditionExpression": "#k = :p AND #s < :v", "ExpressionAttributeNames": {"#k": "pk", "#s": "sk"}, "ExpressionAttributeValues": {":p": {"S": "p"}, ":v": {"S": "c"}}})).unwrap();
        assert_eq!(sort_keys(&less), ["a", "b"]);
    }
}
