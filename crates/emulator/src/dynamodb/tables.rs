//! The table operations, enough for tools and tests to create the registry's table:
//! CreateTable, DescribeTable, DeleteTable, ListTables. A table is ACTIVE as soon as it exists.

use std::time::UNIX_EPOCH;

use serde_json::{json, Value};

use super::errors::DynamoError;
use super::keys::{KeyAttribute, KeySchema, KeyType};
use super::params::{constraint, not_served, table_name, Params};
use super::store::{now_seconds, Store, Table};

/// DynamoDB's TableDescription of `table` in `status`.
fn description(table: &Table, region: &str, status: &str) -> Value {
    let (items, bytes) = table.statistics(now_seconds());
    let created = table
        .created
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_millis() as f64
        / 1000.0;
    let key_schema: Vec<Value> = table
        .schema
        .attributes()
        .zip(["HASH", "RANGE"])
        .map(|(attribute, key_type)| json!({"AttributeName": attribute.name, "KeyType": key_type}))
        .collect();
    let definitions: Vec<Value> = table
        .schema
        .attributes()
        .map(|attribute| {
            json!({"AttributeName": attribute.name, "AttributeType": attribute.kind.name()})
        })
        .collect();
    json!({
        "AttributeDefinitions": definitions,
        "BillingModeSummary": {
            "BillingMode": "PAY_PER_REQUEST",
            "LastUpdateToPayPerRequestDateTime": created,
        },
        "CreationDateTime": created,
        "DeletionProtectionEnabled": false,
        "ItemCount": items,
        "KeySchema": key_schema,
        "ProvisionedThroughput": {
            "NumberOfDecreasesToday": 0,
            "ReadCapacityUnits": 0,
            "WriteCapacityUnits": 0,
        },
        "TableArn": format!("arn:aws:dynamodb:{region}:000000000000:table/{}", table.name),
        "TableId": table.id,
        "TableName": table.name,
        "TableSizeBytes": bytes,
        "TableStatus": status,
    })
}

/// `KeySchema` and `AttributeDefinitions` of a CreateTable request.
fn key_schema(params: &Params) -> Result<KeySchema, DynamoError> {
    let elements = params.array("KeySchema", "keySchema")?;
    let definitions = params.array("AttributeDefinitions", "attributeDefinitions")?;
    if elements.is_empty() || elements.len() > 2 {
        return Err(constraint(
            "'[]'",
            "keySchema",
            "Member must have length less than or equal to 2, Member must have length greater than or equal to 1",
        ));
    }
    let field = |value: &Value, name: &str| -> Result<String, DynamoError> {
        value
            .get(name)
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| constraint("null", name, "Member must not be null"))
    };
    let defined: Vec<(String, String)> = definitions
        .iter()
        .map(|definition| {
            Ok((
                field(definition, "AttributeName")?,
                field(definition, "AttributeType")?,
            ))
        })
        .collect::<Result<_, DynamoError>>()?;
    let mut attributes = Vec::new();
    for (position, element) in elements.iter().enumerate() {
        let name = field(element, "AttributeName")?;
        let key_type = field(element, "KeyType")?;
        let expected = if position == 0 { "HASH" } else { "RANGE" };
        if key_type != expected {
            return Err(DynamoError::validation(format!(
                "Invalid KeySchema: The {} KeySchemaElement is not a {expected} key type",
                if position == 0 { "first" } else { "second" }
            )));
        }
        let Some((_, attribute_type)) = defined.iter().find(|(defined, _)| *defined == name) else {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Some index key attributes are not defined in AttributeDefinitions. Keys: [{name}], AttributeDefinitions: [{}]",
                defined.iter().map(|(name, _)| name.as_str()).collect::<Vec<_>>().join(", ")
            )));
        };
        let kind = match attribute_type.as_str() {
            "S" => KeyType::S,
            "N" => KeyType::N,
            "B" => return Err(not_served("A binary (B) key attribute")),
            other => {
                return Err(constraint(
                    &format!("'{other}'"),
                    "attributeDefinitions.member.attributeType",
                    "Member must satisfy enum value set: [B, N, S]",
                ))
            }
        };
        attributes.push(KeyAttribute { name, kind });
    }
    if defined.len() != attributes.len() {
        return Err(DynamoError::validation(
            "One or more parameter values were invalid: Number of attributes in KeySchema does not exactly match number of attributes defined in AttributeDefinitions",
        ));
    }
    let mut attributes = attributes.into_iter();
    Ok(KeySchema {
        hash: attributes.next().expect("one key element at least"),
        range: attributes.next(),
    })
}

pub fn create_table(store: &Store, params: &Params) -> Result<Value, DynamoError> {
    let name = params.table_name()?;
    params.refuse(&[
        "GlobalSecondaryIndexes",
        "LocalSecondaryIndexes",
        "StreamSpecification",
    ])?;
    let schema = key_schema(params)?;
    let table = store.create_table(name, schema, |table| {
        description(table, store.region(), "ACTIVE")
    })?;
    Ok(json!({ "TableDescription": table }))
}

pub fn describe_table(store: &Store, params: &Params) -> Result<Value, DynamoError> {
    let name = params.table_name()?;
    store
        .with_table(name, |table| {
            Ok(json!({ "Table": description(table, store.region(), "ACTIVE") }))
        })
        .map_err(|_| DynamoError::named_table_not_found(name))
}

pub fn delete_table(store: &Store, params: &Params) -> Result<Value, DynamoError> {
    let name = params.table_name()?;
    let table = store.delete_table(name, |table| description(table, store.region(), "DELETING"))?;
    Ok(json!({ "TableDescription": table }))
}

pub fn list_tables(store: &Store, params: &Params) -> Result<Value, DynamoError> {
    let limit = params.integer("Limit", "limit", 1)?.unwrap_or(100);
    if limit > 100 {
        return Err(constraint(
            &format!("'{limit}'"),
            "limit",
            "Member must have value less than or equal to 100",
        ));
    }
    let start = params.string("ExclusiveStartTableName")?;
    if let Some(start) = start {
        table_name(start, "exclusiveStartTableName")?;
    }
    let names: Vec<String> = store
        .table_names()
        .into_iter()
        .filter(|name| start.is_none_or(|start| name.as_str() > start))
        .collect();
    let page: Vec<&String> = names.iter().take(limit as usize).collect();
    let mut answer = json!({ "TableNames": page });
    if names.len() > page.len() {
        answer["LastEvaluatedTableName"] = json!(page.last());
    }
    Ok(answer)
}

#[cfg(test)]
mod tests {
    use super::super::operations::tests::call;
    use super::*;

    fn registry_definition(name: &str) -> Value {
        json!({
            "TableName": name,
            "KeySchema": [
                {"AttributeName": "pk", "KeyType": "HASH"},
                {"AttributeName": "sk", "KeyType": "RANGE"},
            ],
            "AttributeDefinitions": [
                {"AttributeName": "pk", "AttributeType": "S"},
                {"AttributeName": "sk", "AttributeType": "S"},
            ],
            "BillingMode": "PAY_PER_REQUEST",
        })
    }

    #[test]
    fn create_describe_list_delete() {
        let store = Store::new("eu-west-1");
        let created = call(
            &store,
            "CreateTable",
            registry_definition("app-dev-connections"),
        )
        .unwrap();
        let table = &created["TableDescription"];
        assert_eq!(table["TableStatus"], "ACTIVE");
        assert_eq!(
            table["TableArn"],
            "arn:aws:dynamodb:eu-west-1:000000000000:table/app-dev-connections"
        );
        assert_eq!(
            table["KeySchema"][1],
            json!({"AttributeName": "sk", "KeyType": "RANGE"})
        );
        let again = call(
            &store,
            "CreateTable",
            registry_definition("app-dev-connections"),
        )
        .unwrap_err();
        assert_eq!(again.code, "ResourceInUseException");

        call(&store, "CreateTable", registry_definition("b-table")).unwrap();
        call(&store, "CreateTable", registry_definition("c-table")).unwrap();
        let first = call(&store, "ListTables", json!({"Limit": 2})).unwrap();
        assert_eq!(
            first,
            json!({"TableNames": ["app-dev-connections", "b-table"], "LastEvaluatedTableName": "b-table"})
        );
        let rest = call(
            &store,
            "ListTables",
            json!({"ExclusiveStartTableName": "b-table"}),
        )
        .unwrap();
        assert_eq!(rest, json!({"TableNames": ["c-table"]}));

        let described = call(&store, "DescribeTable", json!({"TableName": "b-table"})).unwrap();
        assert_eq!(described["Table"]["ItemCount"], 0);
        let deleted = call(&store, "DeleteTable", json!({"TableName": "b-table"})).unwrap();
        assert_eq!(deleted["TableDescription"]["TableStatus"], "DELETING");
        let gone = call(&store, "DescribeTable", json!({"TableName": "b-table"})).unwrap_err();
        assert_eq!(
            gone.message,
            "Requested resource not found: Table: b-table not found"
        );
    }

    #[test]
    fn schemas_are_checked() {
        let store = Store::new("us-east-1");
        let mut body = registry_definition("t-1");
        body["KeySchema"][0]["KeyType"] = json!("RANGE");
        assert_eq!(
            call(&store, "CreateTable", body).unwrap_err().message,
            "Invalid KeySchema: The first KeySchemaElement is not a HASH key type"
        );
        let mut body = registry_definition("t-1");
        body["AttributeDefinitions"].as_array_mut().unwrap().pop();
        assert!(call(&store, "CreateTable", body)
            .unwrap_err()
            .message
            .contains(
                "Some index key attributes are not defined in AttributeDefinitions. Keys: [sk]"
            ));
        let mut body = registry_definition("t-1");
        body["KeySchema"].as_array_mut().unwrap().pop();
        assert!(call(&store, "CreateTable", body)
            .unwrap_err()
            .message
            .contains("Number of attributes in KeySchema does not exactly match"));
        assert!(call(&store, "CreateTable", registry_definition("x"))
            .unwrap_err()
            .message
            .contains("length greater than or equal to 3"));
    }
}
