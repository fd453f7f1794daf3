//! Reading a request's parameters, with DynamoDB's messages for the ones missing or malformed.
//!
//! Parameters are named twice: as they travel (`TableName`) and as AWS's validation messages
//! name them (`tableName`).

use serde_json::{Map, Value};

use super::errors::DynamoError;
use super::values::{self, Item};

/// The JSON body of one request.
pub struct Params(Map<String, Value>);

/// `1 validation error detected: Value null at 'item' failed to satisfy constraint: ...`
pub fn constraint(value: &str, parameter: &str, constraint: &str) -> DynamoError {
    DynamoError::validation(format!(
        "1 validation error detected: Value {value} at '{parameter}' failed to satisfy constraint: {constraint}"
    ))
}

fn wrong_type(field: &str, expected: &str) -> DynamoError {
    DynamoError::serialization(format!("{field} must be {expected}"))
}

impl Params {
    pub fn parse(body: &[u8]) -> Result<Self, DynamoError> {
        match serde_json::from_slice::<Value>(body) {
            Ok(Value::Object(map)) => Ok(Self(map)),
            Ok(_) => Err(DynamoError::serialization(
                "The request body must be a JSON object",
            )),
            Err(error) => Err(DynamoError::serialization(format!(
                "The request body is not valid JSON: {error}"
            ))),
        }
    }

    #[cfg(test)]
    pub fn from_json(value: Value) -> Self {
        Self(value.as_object().cloned().expect("a JSON object"))
    }

    fn get(&self, field: &str) -> Option<&Value> {
        self.0.get(field).filter(|value| !value.is_null())
    }

    /// `TableName`: present, 3–255 characters of `a-z A-Z 0-9 _ . -`.
    pub fn table_name(&self) -> Result<&str, DynamoError> {
        self.table_name_at("TableName", "tableName")
    }

    pub fn table_name_at(&self, field: &str, parameter: &str) -> Result<&str, DynamoError> {
        let name = self
            .string(field)?
            .ok_or_else(|| constraint("null", parameter, "Member must not be null"))?;
        table_name(name, parameter)?;
        Ok(name)
    }

    pub fn string(&self, field: &str) -> Result<Option<&str>, DynamoError> {
        self.get(field)
            .map(|value| value.as_str().ok_or_else(|| wrong_type(field, "a string")))
            .transpose()
    }

    pub fn boolean(&self, field: &str) -> Result<Option<bool>, DynamoError> {
        self.get(field)
            .map(|value| {
                value
                    .as_bool()
                    .ok_or_else(|| wrong_type(field, "a boolean"))
            })
            .transpose()
    }

    /// An integer parameter of at least `minimum`.
    pub fn integer(
        &self,
        field: &str,
        parameter: &str,
        minimum: i64,
    ) -> Result<Option<i64>, DynamoError> {
        let Some(value) = self.get(field) else {
            return Ok(None);
        };
        let number = value
            .as_i64()
            .ok_or_else(|| wrong_type(field, "an integer"))?;
        if number < minimum {
            return Err(constraint(
                &format!("'{number}'"),
                parameter,
                &format!("Member must have value greater than or equal to {minimum}"),
            ));
        }
        Ok(Some(number))
    }

    pub fn map(&self, field: &str) -> Result<Option<&Map<String, Value>>, DynamoError> {
        self.get(field)
            .map(|value| value.as_object().ok_or_else(|| wrong_type(field, "a map")))
            .transpose()
    }

    pub fn array(&self, field: &str, parameter: &str) -> Result<&Vec<Value>, DynamoError> {
        self.get(field)
            .ok_or_else(|| constraint("null", parameter, "Member must not be null"))?
            .as_array()
            .ok_or_else(|| wrong_type(field, "a list"))
    }

    /// A required item or key: checked attribute values.
    pub fn item(&self, field: &str, parameter: &str) -> Result<Item, DynamoError> {
        let value = self
            .get(field)
            .ok_or_else(|| constraint("null", parameter, "Member must not be null"))?;
        values::item(value, parameter)
    }

    /// An optional map of attribute values (`ExclusiveStartKey`).
    pub fn optional_item(&self, field: &str, parameter: &str) -> Result<Option<Item>, DynamoError> {
        self.get(field)
            .map(|value| values::item(value, parameter))
            .transpose()
    }

    /// `ReturnValues` of PutItem and DeleteItem: whether the old item is wanted back.
    pub fn returns_old_item(&self) -> Result<bool, DynamoError> {
        match self.string("ReturnValues")? {
            None | Some("NONE") => Ok(false),
            Some("ALL_OLD") => Ok(true),
            Some(_) => Err(DynamoError::validation(
                "Return values set to invalid value",
            )),
        }
    }

    /// Refuses the parameters this endpoint does not implement rather than ignoring them, so a
    /// request is never answered as if they had been applied.
    pub fn refuse(&self, unsupported: &[&str]) -> Result<(), DynamoError> {
        match unsupported.iter().find(|field| self.get(field).is_some()) {
            Some(field) => Err(not_served(field)),
            None => Ok(()),
        }
    }

    /// Item operations without a condition take no expression placeholders.
    pub fn refuse_placeholders(&self) -> Result<(), DynamoError> {
        for field in ["ExpressionAttributeNames", "ExpressionAttributeValues"] {
            if self.get(field).is_some() {
                return Err(DynamoError::validation(format!(
                    "{field} can only be specified when using expressions"
                )));
            }
        }
        Ok(())
    }
}

/// A parameter (or value) that DynamoDB takes but this endpoint does not implement.
pub fn not_served(what: &str) -> DynamoError {
    DynamoError::validation(format!(
        "{what} is not supported by the local DynamoDB endpoint of socket dev (it serves the connection registry's operations); point `socket dev --registry-endpoint URL` at DynamoDB Local or moto for it"
    ))
}

/// Checks a table name as DynamoDB does.
pub fn table_name(name: &str, parameter: &str) -> Result<(), DynamoError> {
    let length = name.chars().count();
    if length < 3 {
        return Err(constraint(
            &format!("'{name}'"),
            parameter,
            "Member must have length greater than or equal to 3",
        ));
    }
    if length > 255 {
        return Err(constraint(
            &format!("'{name}'"),
            parameter,
            "Member must have length less than or equal to 255",
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
    {
        return Err(constraint(
            &format!("'{name}'"),
            parameter,
            "Member must satisfy regular expression pattern: [a-zA-Z0-9_.-]+",
        ));
    }
    Ok(())
}
