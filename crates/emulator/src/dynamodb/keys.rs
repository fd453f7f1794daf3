//! Primary keys: a table's key schema, key values and their order (strings by UTF-8 bytes,
//! numbers by value, as DynamoDB sorts a partition).

use std::cmp::Ordering;

use serde_json::Value;

/// The type of a key attribute. Binary keys are not served locally.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyType {
    S,
    N,
}

impl KeyType {
    pub fn name(self) -> &'static str {
        match self {
            KeyType::S => "S",
            KeyType::N => "N",
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeyAttribute {
    pub name: String,
    pub kind: KeyType,
}

/// A table's primary key: a partition (hash) key and an optional sort (range) key.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KeySchema {
    pub hash: KeyAttribute,
    pub range: Option<KeyAttribute>,
}

impl KeySchema {
    /// The registry's table: `pk` (S, HASH), `sk` (S, RANGE).
    pub fn registry() -> Self {
        Self {
            hash: KeyAttribute {
                name: "pk".into(),
                kind: KeyType::S,
            },
            range: Some(KeyAttribute {
                name: "sk".into(),
                kind: KeyType::S,
            }),
        }
    }

    /// The key attributes, hash first.
    pub fn attributes(&self) -> impl Iterator<Item = &KeyAttribute> {
        std::iter::once(&self.hash).chain(self.range.as_ref())
    }
}

/// The value of a key attribute. Numbers hold their canonical form, so equal numbers are equal.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum KeyValue {
    S(String),
    N(String),
}

impl KeyValue {
    /// The key value of attribute value `value` if it has type `kind`.
    pub fn of(value: &Value, kind: KeyType) -> Option<Self> {
        let object = value.as_object()?;
        match kind {
            KeyType::S => Some(KeyValue::S(object.get("S")?.as_str()?.to_string())),
            KeyType::N => Some(KeyValue::N(object.get("N")?.as_str()?.to_string())),
        }
    }

    /// As an attribute value on the wire.
    pub fn to_attribute(&self) -> Value {
        match self {
            KeyValue::S(text) => serde_json::json!({ "S": text }),
            KeyValue::N(number) => serde_json::json!({ "N": number }),
        }
    }
}

impl Ord for KeyValue {
    fn cmp(&self, other: &Self) -> Ordering {
        match (self, other) {
            // Rust orders strings by their UTF-8 bytes, as DynamoDB does.
            (KeyValue::S(a), KeyValue::S(b)) => a.cmp(b),
            (KeyValue::N(a), KeyValue::N(b)) => compare_numbers(a, b),
            (KeyValue::S(_), KeyValue::N(_)) => Ordering::Greater,
            (KeyValue::N(_), KeyValue::S(_)) => Ordering::Less,
        }
    }
}

impl PartialOrd for KeyValue {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

/// Orders two canonical numbers (see [`values::number`]) by value, exactly.
fn compare_numbers(a: &str, b: &str) -> Ordering {
    let split = |number: &str| {
        let (negative, magnitude) = match number.strip_prefix('-') {
            Some(magnitude) => (true, magnitude.to_string()),
            None => (false, number.to_string()),
        };
        let (whole, fraction) = match magnitude.split_once('.') {
            Some((whole, fraction)) => (whole.to_string(), fraction.to_string()),
            None => (magnitude, String::new()),
        };
        (negative, whole, fraction)
    };
    let (a_negative, a_whole, a_fraction) = split(a);
    let (b_negative, b_whole, b_fraction) = split(b);
    // Canonical numbers have no leading zeros in the whole part and no trailing zeros in the
    // fraction: magnitudes order by the whole part's length, then digit by digit.
    let magnitude = a_whole
        .len()
        .cmp(&b_whole.len())
        .then_with(|| a_whole.cmp(&b_whole))
        .then_with(|| a_fraction.cmp(&b_fraction));
    match (a_negative, b_negative) {
        (false, false) => magnitude,
        (true, true) => magnitude.reverse(),
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
    }
}

/// The primary key of one item.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct ItemKey {
    pub hash: KeyValue,
    pub range: Option<KeyValue>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_order_by_value() {
        let mut numbers = ["10", "-2.5", "9.99", "0", "-10", "0.5", "100", "-0.01"]
            .map(|n| KeyValue::N(n.to_string()));
        numbers.sort();
        let sorted: Vec<_> = numbers
            .iter()
            .map(|key| match key {
                KeyValue::N(n) => n.as_str(),
                KeyValue::S(_) => unreachable!(),
            })
            .collect();
        assert_eq!(
            sorted,
            ["-10", "-2.5", "-0.01", "0", "0.5", "9.99", "10", "100"]
        );
    }
}
