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

/// A connection id like API Gateway's (`L0SM9cOFvHcCIhw=`): 15 alphanumerics and `=`.
///
/// API Gateway's ids are base64; this alphabet leaves out `+` and `/` so an id is always
/// safe in a URL path without escaping.
pub fn connection_id() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut id = String::with_capacity(16);
    let mut bits = random_u64();
    let mut left = 10;
    for _ in 0..15 {
        if left == 0 {
            bits = random_u64();
            left = 10;
        }
        id.push(ALPHABET[(bits % ALPHABET.len() as u64) as usize] as char);
        bits /= ALPHABET.len() as u64;
        left -= 1;
    }
    id.push('=');
    id
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
    fn connection_ids_are_distinct_and_url_safe() {
        let first = connection_id();
        let second = connection_id();
        assert_ne!(first, second);
        assert_eq!(first.len(), 16);
        assert!(first.ends_with('='));
        assert!(first[..15].chars().all(|c| c.is_ascii_alphanumeric()));
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
