//! Channel names: what a valid one looks like.

use crate::registry_error::RegistryError;

/// The rule, as users see it when a name breaks it.
pub const CHANNEL_RULE: &str = "a channel name is 1 to 128 characters of A-Z a-z 0-9 - _ . : @ /";

const MAX_LENGTH: usize = 128;

/// `Ok` for a valid channel name, [`RegistryError::InvalidChannel`] otherwise.
pub fn validate_channel(channel: &str) -> Result<(), RegistryError> {
    let allowed = |byte: u8| {
        byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':' | b'@' | b'/')
    };
    if (1..=MAX_LENGTH).contains(&channel.len()) && channel.bytes().all(allowed) {
        Ok(())
    } else {
        Err(RegistryError::InvalidChannel {
            channel: channel.to_string(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_rule() {
        for good in [
            "lobby",
            "room:42",
            "user@example.com/inbox",
            "a-b_c.d",
            &"x".repeat(128),
        ] {
            assert!(validate_channel(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            "has space",
            "emoji🙂",
            "hash#tag",
            "new\nline",
            &"x".repeat(129),
        ] {
            let error = validate_channel(bad).unwrap_err();
            assert!(error.to_string().contains(CHANNEL_RULE), "{error}");
        }
    }
}
