//! Identifiers in the shapes API Gateway and Lambda use.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// 64 unpredictable bits: SipHash keyed by the process's random seed over a counter.
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.finish()
}

/// A connection id like API Gateway's (`L0SM9cOFvHcCIhw=`): 11 random bytes in standard base64,
/// 16 characters ending in `=`.
///
/// API Gateway's ids use the whole base64 alphabet, `+` and `/` included, so an id put in a URL
/// unencoded breaks there one time in a few. Here every id holds a `+` and a `/`, so the mistake
/// shows up on the first try.
pub fn connection_id() -> String {
    use base64::Engine;
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&random_u64().to_le_bytes());
    bytes[8..].copy_from_slice(&random_u64().to_le_bytes());
    let mut id = base64::engine::general_purpose::STANDARD
        .encode(&bytes[..11])
        .into_bytes();
    // Characters 0..14 carry six bits each (the 15th only four, then `=`): replacing two of them
    // keeps the id canonical base64 of 11 bytes.
    if !id.contains(&b'+') || !id.contains(&b'/') {
        let plus = (bytes[11] % 14) as usize;
        let slash = (plus + 1 + (bytes[12] % 13) as usize) % 14;
        id[plus] = b'+';
        id[slash] = b'/';
    }
    String::from_utf8(id).expect("base64 is ASCII")
}

/// A Lambda request id: a version-4 UUID.
pub fn lambda_request_id() -> String {
    let high = random_u64();
    let low = random_u64();
    let bytes: Vec<u8> = high
        .to_be_bytes()
        .into_iter()
        .chain(low.to_be_bytes())
        .collect();
    let hex: String = bytes.iter().map(|byte| format!("{byte:02x}")).collect();
    format!(
        "{}-{}-4{}-{:x}{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        0x8 | (bytes[8] & 0x3),
        &hex[17..20],
        &hex[20..32]
    )
}

/// An X-Ray trace header as Lambda passes it in `Lambda-Runtime-Trace-Id`.
pub fn trace_id(epoch_secs: u64) -> String {
    format!(
        "Root=1-{epoch_secs:08x}-{:016x}{:08x};Parent={:016x};Sampled=0",
        random_u64(),
        random_u64() as u32,
        random_u64()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connection_ids_are_distinct_base64_of_eleven_bytes_with_plus_and_slash() {
        use base64::Engine;
        let ids: Vec<String> = (0..200).map(|_| connection_id()).collect();
        for id in &ids {
            assert_eq!(id.len(), 16, "{id}");
            assert!(id.ends_with('=') && !id.ends_with("=="), "{id}");
            assert!(id.contains('+') && id.contains('/'), "{id}");
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(id)
                .unwrap_or_else(|error| panic!("{id}: {error}"));
            assert_eq!(decoded.len(), 11, "{id}");
            // Canonical: encoding the bytes again gives the same text.
            assert_eq!(
                &base64::engine::general_purpose::STANDARD.encode(&decoded),
                id
            );
        }
        let distinct: std::collections::BTreeSet<&String> = ids.iter().collect();
        assert_eq!(distinct.len(), ids.len());
    }

    #[test]
    fn request_ids_are_uuids() {
        let id = lambda_request_id();
        let parts: Vec<&str> = id.split('-').collect();
        assert_eq!(
            parts.iter().map(|p| p.len()).collect::<Vec<_>>(),
            [8, 4, 4, 4, 12]
        );
        assert!(parts[2].starts_with('4'));
        assert_ne!(id, lambda_request_id());
    }
}
