//! JSON values ↔ DynamoDB attribute values (`S`, `N`, `M`, `BOOL`, `NULL`, `L`), for the
//! connection attributes handlers set.

use serde_json::{json, Map, Number, Value};

/// `"a"` → `{"S":"a"}`, `1` → `{"N":"1"}`, objects → `M`, arrays → `L`.
pub(crate) fn to_attribute(value: &Value) -> Value {
    match value {
        Value::Null => json!({ "NULL": true }),
        Value::Bool(flag) => json!({ "BOOL": flag }),
        Value::Number(number) => json!({ "N": number.to_string() }),
        Value::String(text) => json!({ "S": text }),
        Value::Array(items) => json!({ "L": items.iter().map(to_attribute).collect::<Vec<_>>() }),
        Value::Object(map) => json!({ "M": to_attribute_map(map) }),
    }
}

pub(crate) fn to_attribute_map(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .map(|(key, value)| (key.clone(), to_attribute(value)))
        .collect()
}

/// The inverse of [`to_attribute`]; attribute types it does not produce become `null`.
pub(crate) fn from_attribute(attribute: &Value) -> Value {
    let Some((kind, value)) = attribute.as_object().and_then(|map| map.iter().next()) else {
        return Value::Null;
    };
    match kind.as_str() {
        "S" => value.clone(),
        "BOOL" => value.clone(),
        "N" => value
            .as_str()
            .and_then(parse_number)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        "L" => Value::Array(
            value
                .as_array()
                .map(|items| items.iter().map(from_attribute).collect())
                .unwrap_or_default(),
        ),
        "M" => Value::Object(
            value
                .as_object()
                .map(from_attribute_map)
                .unwrap_or_default(),
        ),
        _ => Value::Null,
    }
}

pub(crate) fn from_attribute_map(map: &Map<String, Value>) -> Map<String, Value> {
    map.iter()
        .map(|(key, value)| (key.clone(), from_attribute(value)))
        .collect()
}

fn parse_number(text: &str) -> Option<Number> {
    if let Ok(integer) = text.parse::<i64>() {
        return Some(integer.into());
    }
    if let Ok(unsigned) = text.parse::<u64>() {
        return Some(unsigned.into());
    }
    text.parse::<f64>().ok().and_then(Number::from_f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_round_trips() {
        let value = json!({
            "name": "ada", "age": 36, "ratio": 0.5, "admin": false, "none": null,
            "tags": ["a", 1, {"deep": true}], "big": u64::MAX,
        });
        let attribute = to_attribute(&value);
        assert_eq!(attribute["M"]["name"], json!({"S": "ada"}));
        assert_eq!(attribute["M"]["age"], json!({"N": "36"}));
        assert_eq!(attribute["M"]["none"], json!({"NULL": true}));
        assert_eq!(from_attribute(&attribute), value);
    }
}
