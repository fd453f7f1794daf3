//! The JSON Schema of `serverless.yml` (`socket schema`; `socket init` writes it beside the
//! manifest so editors complete and check keys). Hand-written for its descriptions; a test keeps
//! its keys equal to the ones the reader accepts.

/// `serverless.schema.json` (JSON Schema draft-07).
pub const SCHEMA: &str = include_str!("../serverless.schema.json");

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use serde_json::Value;

    use super::SCHEMA;
    use crate::authorizer::AUTHORIZER_KEYS;
    use crate::domain::DOMAIN_KEYS;
    use crate::inputs::{COMPONENT_KEYS, CONNECTION_KEYS, INPUT_KEYS};
    use crate::load::TOP_LEVEL_KEYS;
    use crate::read::Key;

    fn properties(schema: &Value, pointer: &str) -> BTreeSet<String> {
        schema
            .pointer(pointer)
            .and_then(Value::as_object)
            .unwrap_or_else(|| panic!("{pointer} is an object in the schema"))
            .keys()
            .cloned()
            .collect()
    }

    fn names<T>(keys: &[Key<T>]) -> BTreeSet<String> {
        keys.iter().map(|k| k.name.to_owned()).collect()
    }

    #[test]
    fn the_schema_names_exactly_the_keys_the_reader_accepts() {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the schema is JSON");
        let top: BTreeSet<String> = TOP_LEVEL_KEYS.iter().map(|k| k.to_string()).collect();
        assert_eq!(properties(&schema, "/properties"), top);
        assert_eq!(
            properties(&schema, "/$defs/component/properties"),
            names(COMPONENT_KEYS)
        );
        assert_eq!(
            properties(&schema, "/$defs/inputs/properties"),
            names(INPUT_KEYS)
        );
        assert_eq!(
            properties(
                &schema,
                "/$defs/inputs/properties/connections/anyOf/1/properties"
            ),
            names(CONNECTION_KEYS)
        );
        assert_eq!(
            properties(&schema, "/$defs/inputs/properties/domain/properties"),
            names(DOMAIN_KEYS)
        );
        assert_eq!(
            properties(&schema, "/$defs/inputs/properties/authorizer/properties"),
            names(AUTHORIZER_KEYS)
        );
        // A stage's block takes every input but `stages`.
        let mut stage = names(INPUT_KEYS);
        stage.remove("stages");
        assert_eq!(properties(&schema, "/$defs/stageInputs/properties"), stage);
    }
}
