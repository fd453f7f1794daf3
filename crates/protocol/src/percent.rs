//! Percent-encoding: path segments (connection ids in `@connections/{id}` URLs), query strings
//! and the URL-encoded documents AWS returns.
//!
//! AWS connection ids are base64 text (`+`, `/`, `=` included), so they must be encoded as a
//! path segment when put in a URL and decoded when read from one.
//!
//! ```
//! use socket_protocol::percent::{decode, decode_form, encode_segment};
//!
//! assert_eq!(encode_segment("ab+c/d="), "ab%2Bc%2Fd%3D");
//! assert_eq!(decode("ab%2Bc%2Fd%3D").as_deref(), Some("ab+c/d="));
//! assert_eq!(decode("trailing%2").as_deref(), Some("trailing%2")); // kept, not a panic
//! assert_eq!(decode("%FF"), None); // not UTF-8
//! assert_eq!(decode_form("a%20b+c%zz%"), "a b c%zz%");
//! assert_eq!(decode_form("%FFok"), "\u{FFFD}ok");
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

/// Decodes a query-string or form component: `+` is a space, `%XX` escapes are decoded (a `%`
/// not followed by two hex digits is kept), and bytes that are not UTF-8 become U+FFFD.
pub fn decode_form(text: &str) -> String {
    percent_decode_str(&text.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}
