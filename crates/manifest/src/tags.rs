//! `tags:` — the user's tags, put on every resource deploy creates beside `socket`'s own.

use std::collections::BTreeMap;

use super::read::Field;
use super::ManifestError;

/// The tag keys `socket` puts on every resource of a stage: deploy finds and owns resources by
/// them, so the manifest cannot set them.
pub const SERVICE_TAG: &str = "socket:service";
pub const STAGE_TAG: &str = "socket:stage";

/// Reads `tags:` into `tags` (merged key by key over what earlier blocks set).
pub(crate) fn read(
    tags: &mut BTreeMap<String, String>,
    field: &Field,
) -> Result<(), ManifestError> {
    for entry in field.entries("a map of tags (key: value)")? {
        check_key(entry.name).map_err(|(m, h)| field.key_error(&entry, m, h))?;
        let value = entry.value.scalar("a tag value", |s, _| check_value(s))?;
        if let Some(value) = value {
            tags.insert(entry.name.to_string(), value);
        }
    }
    Ok(())
}

fn check_key(key: &str) -> Result<(), (String, String)> {
    if key.starts_with("socket:") {
        return Err((
            format!("tag `{key}` is socket's own"),
            format!("`{SERVICE_TAG}` and `{STAGE_TAG}` are set by deploy, which finds the stage's resources by them; pick a key without the `socket:` prefix"),
        ));
    }
    if key.to_ascii_lowercase().starts_with("aws:") {
        return Err((
            format!("tag `{key}` uses the `aws:` prefix"),
            "AWS reserves keys starting with `aws:`; pick another key".into(),
        ));
    }
    if key.is_empty() || key.chars().count() > 128 || !key.chars().all(allowed) {
        return Err((
            format!("`{key}` is not a tag key AWS accepts"),
            "a key is 1 to 128 letters, digits, spaces and _ . : / = + - @".into(),
        ));
    }
    Ok(())
}

fn check_value(value: &str) -> Result<String, (String, String)> {
    if value.chars().count() > 256 || !value.chars().all(allowed) {
        return Err((
            format!("`{value}` is not a tag value AWS accepts"),
            "a value is at most 256 letters, digits, spaces and _ . : / = + - @".into(),
        ));
    }
    Ok(value.to_string())
}

fn allowed(c: char) -> bool {
    c.is_alphanumeric() || " _.:/=+-@".contains(c)
}
