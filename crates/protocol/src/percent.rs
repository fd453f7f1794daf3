//! Percent-encoding of path segments, for connection ids in `@connections/{id}` URLs.
//!
//! AWS connection ids are base64 text (`+`, `/`, `=` included), so they must be encoded as a
//! path segment when put in a URL and decoded when read from one.
//!
//! ```
//! use socket_protocol::percent::{decode, encode_segment};
//!
//! assert_eq!(encode_segment("ab+c/d="), "ab%2Bc%2Fd%3D");
//! assert_eq!(decode("ab%2Bc%2Fd%3D").as_deref(), Some("ab+c/d="));
//! assert_eq!(decode("trailing%2").as_deref(), Some("trailing%2")); // kept, not a panic
//! ```

use percent_encoding::{percent_decode_str, utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};

/// Everything but the unreserved characters of RFC 3986 (`A-Z a-z 0-9 - . _ ~`): the set SigV4
/// and API Gateway expect in a path segment.
pub const SEGMENT: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// Encodes `text` as one URL path segment.
pub fn encode_segment(text: &str) -> String {
    utf8_percent_encode(text, SEGMENT).to_string()
}

/// Decodes `%XX` escapes; `None` when the result is not UTF-8. A `%` not followed by two hex
/// digits is kept as it is.
pub fn decode(text: &str) -> Option<String> {
    percent_decode_str(text)
        .decode_utf8()
        .ok()
        .map(|decoded| decoded.into_owned())
}
