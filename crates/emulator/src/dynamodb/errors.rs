//! DynamoDB's error answers: HTTP 400 with `{"__type": "<namespace>#<Code>", "message": ...}`.
//!
//! Errors of DynamoDB's own model live in `com.amazonaws.dynamodb.v20120810`; the request layer's
//! (unknown operation, a body that is not JSON) in `com.amazon.coral.service`, as AWS answers them.
//! SDKs map the part after `#` to their error variants.

use std::fmt;

const DYNAMODB: &str = "com.amazonaws.dynamodb.v20120810";
const CORAL: &str = "com.amazon.coral.service";

/// One error answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DynamoError {
    namespace: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl DynamoError {
    fn new(namespace: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            namespace,
            code,
            message: message.into(),
        }
    }

    /// A request DynamoDB refuses: a missing or malformed parameter, a key that does not match.
    pub fn validation(message: impl Into<String>) -> Self {
        Self::new(DYNAMODB, "ValidationException", message)
    }

    /// A table that does not exist. AWS says no more than this for item operations.
    pub fn table_not_found() -> Self {
        Self::new(
            DYNAMODB,
            "ResourceNotFoundException",
            "Requested resource not found",
        )
    }

    /// A table that does not exist, as DescribeTable and DeleteTable name it.
    pub fn named_table_not_found(table: &str) -> Self {
        Self::new(
            DYNAMODB,
            "ResourceNotFoundException",
            format!("Requested resource not found: Table: {table} not found"),
        )
    }

    /// CreateTable of a table that exists.
    pub fn table_in_use(table: &str) -> Self {
        Self::new(
            DYNAMODB,
            "ResourceInUseException",
            format!("Table already exists: {table}"),
        )
    }

    /// An `X-Amz-Target` that names no operation this endpoint serves (or none at all).
    pub fn unknown_operation(message: impl Into<String>) -> Self {
        Self::new(CORAL, "UnknownOperationException", message)
    }

    /// A body that is not a JSON object.
    pub fn serialization(message: impl Into<String>) -> Self {
        Self::new(CORAL, "SerializationException", message)
    }

    /// The body of the answer.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "__type": format!("{}#{}", self.namespace, self.code),
            "message": self.message,
        })
    }
}

impl fmt::Display for DynamoError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "{}: {}", self.code, self.message)
    }
}

impl std::error::Error for DynamoError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_type_names_the_namespace_and_the_code() {
        let body = DynamoError::table_not_found().to_json();
        assert_eq!(
            body["__type"],
            "com.amazonaws.dynamodb.v20120810#ResourceNotFoundException"
        );
        assert_eq!(body["message"], "Requested resource not found");
        assert_eq!(
            DynamoError::unknown_operation("x").to_json()["__type"],
            "com.amazon.coral.service#UnknownOperationException"
        );
    }
}
