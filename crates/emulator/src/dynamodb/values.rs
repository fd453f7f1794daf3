//! Attribute values (`{"S": ..}`, `{"N": ..}`, `{"M": ..}`, ...): checked as DynamoDB checks them,
//! numbers stored in DynamoDB's canonical form (`"1.50"` and `"15E-1"` are both read back as
//! `"1.5"`), and sized as DynamoDB sizes items (the 400 KB item limit, the 1 MB page).

use serde_json::{Map, Value};

use super::errors::DynamoError;

/// An item: attribute name → attribute value, as on the wire.
pub type Item = Map<String, Value>;

/// DynamoDB refuses an item larger than this.
pub const MAX_ITEM_BYTES: usize = 400 * 1024;

/// The most significant digits a number keeps.
const MAX_DIGITS: usize = 38;

/// Checks every attribute of `value` (a JSON object of attribute values) and returns the item
/// with canonical numbers. `parameter` names it in errors (`item`, `key`).
pub fn item(value: &Value, parameter: &str) -> Result<Item, DynamoError> {
    let Some(attributes) = value.as_object() else {
        return Err(DynamoError::serialization(format!(
            "{parameter} must be a map of attribute names to attribute values"
        )));
    };
    attributes
        .iter()
        .map(|(name, value)| {
            if name.is_empty() {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: An AttributeValue may not contain an empty attribute name",
                ));
            }
            Ok((name.clone(), attribute(value)?))
        })
        .collect()
}

/// Checks one attribute value and returns it with canonical numbers.
pub fn attribute(value: &Value) -> Result<Value, DynamoError> {
    let empty = || {
        DynamoError::validation(
            "Supplied AttributeValue is empty, must contain exactly one of the supported datatypes",
        )
    };
    let object = value.as_object().ok_or_else(empty)?;
    let mut members = object.iter();
    let (kind, inner) = members.next().ok_or_else(empty)?;
    if members.next().is_some() {
        return Err(DynamoError::validation(
            "Supplied AttributeValue has more than one datatypes set, must contain exactly one of the supported datatypes",
        ));
    }
    let wrong_type = || {
        DynamoError::serialization(format!(
            "Unexpected JSON type for the {kind} member of an AttributeValue"
        ))
    };
    let checked = match kind.as_str() {
        "S" | "B" => Value::String(inner.as_str().ok_or_else(wrong_type)?.to_string()),
        "N" => Value::String(number(inner.as_str().ok_or_else(wrong_type)?)?),
        "BOOL" => Value::Bool(inner.as_bool().ok_or_else(wrong_type)?),
        "NULL" => {
            if inner.as_bool().ok_or_else(wrong_type)? {
                Value::Bool(true)
            } else {
                return Err(DynamoError::validation(
                    "One or more parameter values were invalid: Null attribute value types must have the value of true",
                ));
            }
        }
        "M" => Value::Object(item(inner, "M")?),
        "L" => Value::Array(
            inner
                .as_array()
                .ok_or_else(wrong_type)?
                .iter()
                .map(attribute)
                .collect::<Result<_, _>>()?,
        ),
        "SS" | "NS" | "BS" => Value::Array(set(kind, inner.as_array().ok_or_else(wrong_type)?)?),
        _ => return Err(empty()),
    };
    Ok(Value::Object(Map::from_iter([(kind.clone(), checked)])))
}

/// A string, number or binary set: not empty, no duplicates.
fn set(kind: &str, members: &[Value]) -> Result<Vec<Value>, DynamoError> {
    if members.is_empty() {
        return Err(DynamoError::validation(format!(
            "One or more parameter values were invalid: An {kind} set may not be empty"
        )));
    }
    let mut checked: Vec<String> = Vec::with_capacity(members.len());
    for member in members {
        let text = member.as_str().ok_or_else(|| {
            DynamoError::serialization(format!("Every member of an {kind} set must be a string"))
        })?;
        let text = if kind == "NS" {
            number(text)?
        } else {
            text.to_string()
        };
        if checked.contains(&text) {
            return Err(DynamoError::validation(format!(
                "One or more parameter values were invalid: Input collection [{}] contains duplicates.",
                members
                    .iter()
                    .filter_map(Value::as_str)
                    .collect::<Vec<_>>()
                    .join(", ")
            )));
        }
        checked.push(text);
    }
    Ok(checked.into_iter().map(Value::String).collect())
}

/// DynamoDB's canonical form of a number: no sign for positives, no leading or trailing zeros,
/// no exponent (`"+007.50"` → `"7.5"`, `"1E+2"` → `"100"`, `"-0"` → `"0"`).
pub fn number(text: &str) -> Result<String, DynamoError> {
    let invalid = || DynamoError::validation("A value provided cannot be converted into a number");
    let (negative, unsigned) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (mantissa, exponent) = match unsigned.find(['e', 'E']) {
        Some(at) => {
            let exponent = &unsigned[at + 1..];
            let digits = exponent.trim_start_matches(['+', '-']);
            if digits.is_empty()
                || exponent.len() - digits.len() > 1
                || !digits.bytes().all(|b| b.is_ascii_digit())
            {
                return Err(invalid());
            }
            let exponent: i64 = exponent.parse().map_err(|_| invalid())?;
            (&unsigned[..at], exponent)
        }
        None => (unsigned, 0),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if whole.is_empty() && fraction.is_empty()
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(invalid());
    }
    // value = digits × 10^exponent, with the digits stripped of zeros on both ends.
    let digits = format!("{whole}{fraction}");
    let mut exponent = exponent - fraction.len() as i64;
    let digits = digits.trim_start_matches('0');
    let significant = digits.trim_end_matches('0');
    exponent += (digits.len() - significant.len()) as i64;
    if significant.is_empty() {
        return Ok("0".to_string());
    }
    if significant.len() > MAX_DIGITS {
        return Err(DynamoError::validation(
            "Attempting to store more than 38 significant digits in a Number",
        ));
    }
    let magnitude = significant.len() as i64 + exponent - 1;
    if magnitude > 125 {
        return Err(DynamoError::validation(
            "Number overflow. Attempting to store a number with magnitude larger than supported range",
        ));
    }
    if magnitude < -130 {
        return Err(DynamoError::validation(
            "Number underflow. Attempting to store a number with magnitude smaller than supported range",
        ));
    }
    let sign = if negative { "-" } else { "" };
    let point = significant.len() as i64 + exponent;
    Ok(if exponent >= 0 {
        format!("{sign}{significant}{}", "0".repeat(exponent as usize))
    } else if point > 0 {
        let (whole, fraction) = significant.split_at(point as usize);
        format!("{sign}{whole}.{fraction}")
    } else {
        format!("{sign}0.{}{significant}", "0".repeat((-point) as usize))
    })
}

/// An item's size as DynamoDB counts it: attribute names plus values.
pub fn item_size(item: &Item) -> usize {
    item.iter()
        .map(|(name, value)| name.len() + value_size(value))
        .sum()
}

fn value_size(value: &Value) -> usize {
    let Some((kind, inner)) = value.as_object().and_then(|object| object.iter().next()) else {
        return 0;
    };
    let text_size = |value: &Value| value.as_str().map_or(0, str::len);
    // Numbers take about one byte per two significant digits, plus one.
    let number_size = |value: &Value| {
        let digits = value
            .as_str()
            .map_or(0, |text| text.bytes().filter(u8::is_ascii_digit).count());
        digits.div_ceil(2) + 1
    };
    // Binary travels as base64: four characters carry three bytes.
    let binary_size = |value: &Value| text_size(value) / 4 * 3;
    let members = || inner.as_array().into_iter().flatten();
    match kind.as_str() {
        "S" => text_size(inner),
        "N" => number_size(inner),
        "B" => binary_size(inner),
        "BOOL" | "NULL" => 1,
        "SS" => members().map(text_size).sum(),
        "NS" => members().map(number_size).sum(),
        "BS" => members().map(binary_size).sum(),
        "L" => {
            3 + members()
                .map(|member| 1 + value_size(member))
                .sum::<usize>()
        }
        "M" => {
            3 + inner.as_object().map_or(0, |map| {
                map.iter()
                    .map(|(name, member)| 1 + name.len() + value_size(member))
                    .sum()
            })
        }
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_take_their_canonical_form() {
        for (given, canonical) in [
            ("0", "0"),
            ("-0.000", "0"),
            ("+007.50", "7.5"),
            ("1E+2", "100"),
            ("15E-1", "1.5"),
            ("-.25", "-0.25"),
            ("0.001", "0.001"),
            ("1700000000", "1700000000"),
            ("123.456e1", "1234.56"),
        ] {
            assert_eq!(number(given).unwrap(), canonical, "{given}");
        }
        for invalid in ["", "-", "1.2.3", "abc", "1e", "1e+-2", " 1", "0x10", "."] {
            assert_eq!(
                number(invalid).unwrap_err().message,
                "A value provided cannot be converted into a number",
                "{invalid:?}"
            );
        }
        assert!(number(&"9".repeat(39)).is_err());
        assert!(number("1E126").unwrap_err().message.contains("overflow"));
        assert!(number("1E-131").unwrap_err().message.contains("underflow"));
    }

    #[test]
    fn an_attribute_value_has_exactly_one_type() {
        assert!(attribute(&json!({}))
            .unwrap_err()
            .message
            .contains("is empty"));
        assert!(attribute(&json!({"S": "a", "N": "1"}))
            .unwrap_err()
            .message
            .contains("more than one datatypes"));
        assert!(attribute(&json!({"NULL": false}))
            .unwrap_err()
            .message
            .contains("Null attribute value types must have the value of true"));
        assert_eq!(
            attribute(&json!({"S": 1})).unwrap_err().code,
            "SerializationException"
        );
        assert!(attribute(&json!({"SS": []})).is_err());
        assert!(attribute(&json!({"NS": ["1", "1.0"]}))
            .unwrap_err()
            .message
            .contains("duplicates"));
    }

    #[test]
    fn nested_numbers_are_canonical_too() {
        let checked = item(
            &json!({"a": {"M": {"b": {"L": [{"N": "01.0"}, {"BOOL": true}, {"NULL": true}]}}}}),
            "item",
        )
        .unwrap();
        assert_eq!(
            Value::Object(checked),
            json!({"a": {"M": {"b": {"L": [{"N": "1"}, {"BOOL": true}, {"NULL": true}]}}}})
        );
    }

    #[test]
    fn sizes_count_names_and_values() {
        let item = item(
            &json!({"pk": {"S": "conn#abc"}, "ttl": {"N": "1700000000"}}),
            "item",
        )
        .unwrap();
        // "pk" + 8 bytes, "ttl" + 10 digits / 2 + 1.
        assert_eq!(item_size(&item), 2 + 8 + 3 + 6);
    }
}
