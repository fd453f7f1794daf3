//! AWS Signature Version 4 for the management API's and DynamoDB's requests, with the signing
//! key cached.
//!
//! Deriving the signing key takes four chained HMAC-SHA256 and depends only on the secret, the
//! day, the region and the service, so it is computed once a day per service rather than on every
//! call (it was the largest single cost of an echo invocation). The request shapes signed here:
//! no query string, `host`, an optional `content-type` and any extra headers (DynamoDB's
//! `x-amz-target`), the payload hash in the canonical request only (no `x-amz-content-sha256`
//! header), the session token signed, and the path encoded twice, as for every AWS service but S3.
//! `tests` checks the result against the `aws-sigv4` crate's signature for the same inputs.

use std::fmt::Write as _;
use std::sync::Mutex;

use ring::{digest, hmac};

use socket_protocol::utc::Utc;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// What a request is signed with.
pub(crate) struct Credentials<'a> {
    pub access_key_id: &'a str,
    pub secret_access_key: &'a str,
    pub session_token: Option<&'a str>,
}

/// The parts of the request that enter the signature.
pub(crate) struct Request<'a> {
    pub method: &'a str,
    pub host: &'a str,
    /// The path as sent on the wire (already percent-encoded once).
    pub path: &'a str,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
}

/// The headers to add to the request: `x-amz-date`, the optional `x-amz-security-token` and
/// `authorization`.
pub(crate) struct SignedHeaders {
    pub amz_date: String,
    pub security_token: Option<String>,
    pub authorization: String,
}

/// Signs `request` at `epoch_seconds` for `service` in `region`.
pub(crate) fn sign(
    request: &Request<'_>,
    credentials: &Credentials<'_>,
    region: &str,
    service: &str,
    epoch_seconds: u64,
) -> SignedHeaders {
    sign_with_headers(request, &[], credentials, region, service, epoch_seconds)
}

/// [`sign`], with `extra_headers` (lower-case names, sent as is) signed too.
pub(crate) fn sign_with_headers(
    request: &Request<'_>,
    extra_headers: &[(&str, &str)],
    credentials: &Credentials<'_>,
    region: &str,
    service: &str,
    epoch_seconds: u64,
) -> SignedHeaders {
    let amz_date = amz_date(epoch_seconds);
    let day = &amz_date[..8];
    let scope = format!("{day}/{region}/{service}/aws4_request");

    // The canonical headers: lower-case names, sorted, values trimmed.
    let mut headers: Vec<(&str, &str)> = Vec::with_capacity(5 + extra_headers.len());
    headers.push(("host", request.host));
    headers.push(("x-amz-date", &amz_date));
    if let Some(content_type) = request.content_type {
        headers.push(("content-type", content_type));
    }
    if let Some(token) = credentials.session_token {
        headers.push(("x-amz-security-token", token));
    }
    headers.extend_from_slice(extra_headers);
    headers.sort_unstable_by_key(|(name, _)| *name);
    let signed_headers = headers
        .iter()
        .map(|(name, _)| *name)
        .collect::<Vec<_>>()
        .join(";");

    let mut canonical = String::with_capacity(256 + request.path.len());
    canonical.push_str(request.method);
    canonical.push('\n');
    encode_path(&mut canonical, request.path);
    canonical.push_str("\n\n"); // the path, then an empty query string
    for (name, value) in &headers {
        let _ = writeln!(canonical, "{name}:{}", value.trim());
    }
    canonical.push('\n');
    canonical.push_str(&signed_headers);
    canonical.push('\n');
    push_hex(
        &mut canonical,
        digest::digest(&digest::SHA256, request.body).as_ref(),
    );

    let mut string_to_sign = String::with_capacity(160);
    let _ = write!(string_to_sign, "{ALGORITHM}\n{amz_date}\n{scope}\n");
    push_hex(
        &mut string_to_sign,
        digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref(),
    );

    let key = signing_key(credentials.secret_access_key, day, region, service);
    let signature = hmac::sign(&key, string_to_sign.as_bytes());
    let mut authorization = format!(
        "{ALGORITHM} Credential={}/{scope}, SignedHeaders={signed_headers}, Signature=",
        credentials.access_key_id
    );
    push_hex(&mut authorization, signature.as_ref());
    SignedHeaders {
        amz_date,
        security_token: credentials.session_token.map(str::to_string),
        authorization,
    }
}

/// The derived key for (secret, day, region, service); the last few are kept (a function that
/// broadcasts signs for both `execute-api` and `dynamodb`).
fn signing_key(secret: &str, day: &str, region: &str, service: &str) -> hmac::Key {
    struct Cached {
        secret: String,
        day: String,
        region: String,
        service: String,
        key: hmac::Key,
    }
    const KEPT: usize = 4;
    static CACHE: Mutex<Vec<Cached>> = Mutex::new(Vec::new());
    let mut cache = CACHE
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(cached) = cache.iter().find(|cached| {
        cached.day == day
            && cached.region == region
            && cached.service == service
            && cached.secret == secret
    }) {
        return cached.key.clone();
    }
    let mut key = hmac::sign(
        &hmac::Key::new(hmac::HMAC_SHA256, format!("AWS4{secret}").as_bytes()),
        day.as_bytes(),
    );
    for part in [region, service, "aws4_request"] {
        key = hmac::sign(
            &hmac::Key::new(hmac::HMAC_SHA256, key.as_ref()),
            part.as_bytes(),
        );
    }
    let key = hmac::Key::new(hmac::HMAC_SHA256, key.as_ref());
    if cache.len() == KEPT {
        cache.remove(0);
    }
    cache.push(Cached {
        secret: secret.to_string(),
        day: day.to_string(),
        region: region.to_string(),
        service: service.to_string(),
        key: key.clone(),
    });
    key
}

/// `20240209T182328Z`.
fn amz_date(epoch_seconds: u64) -> String {
    let t = Utc::from_epoch_seconds(epoch_seconds as i64);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        t.year, t.month, t.day, t.hour, t.minute, t.second
    )
}

/// The canonical URI: every byte but unreserved characters and `/` percent-encoded, so the `%`
/// of an already-encoded path becomes `%25` (the double encoding AWS expects).
fn encode_path(out: &mut String, path: &str) {
    if path.is_empty() {
        out.push('/');
        return;
    }
    for byte in path.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(byte as char);
        } else {
            let _ = write!(out, "%{byte:02X}");
        }
    }
}

fn push_hex(out: &mut String, bytes: &[u8]) {
    const HEX: &[u8; 16] = b"0123456789abcdef";
    for byte in bytes {
        out.push(HEX[usize::from(byte >> 4)] as char);
        out.push(HEX[usize::from(byte & 0x0f)] as char);
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use aws_sigv4::http_request::SigningSettings;
    use aws_sigv4::http_request::{sign as reference_sign, SignableBody, SignableRequest};
    use aws_sigv4::sign::v4;

    use super::*;

    /// The headers the `aws-sigv4` crate adds for the same request.
    fn reference(
        request: &Request<'_>,
        credentials: &Credentials<'_>,
        region: &str,
        epoch_seconds: u64,
    ) -> Vec<(String, String)> {
        reference_for(
            request,
            &[],
            credentials,
            region,
            "execute-api",
            epoch_seconds,
        )
    }

    fn reference_for(
        request: &Request<'_>,
        extra_headers: &[(&str, &str)],
        credentials: &Credentials<'_>,
        region: &str,
        service: &str,
        epoch_seconds: u64,
    ) -> Vec<(String, String)> {
        let identity = aws_credential_types::Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            credentials.session_token.map(str::to_string),
            None,
            "test",
        )
        .into();
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(region)
            .name(service)
            .time(UNIX_EPOCH + Duration::from_secs(epoch_seconds))
            .settings(SigningSettings::default())
            .build()
            .unwrap()
            .into();
        let url = format!("https://{}{}", request.host, request.path);
        let mut headers = vec![("host", request.host)];
        if let Some(content_type) = request.content_type {
            headers.push(("content-type", content_type));
        }
        headers.extend_from_slice(extra_headers);
        let signable = SignableRequest::new(
            request.method,
            &url,
            headers.into_iter(),
            SignableBody::Bytes(request.body),
        )
        .unwrap();
        let (instructions, _) = reference_sign(signable, &params).unwrap().into_parts();
        let mut added: Vec<(String, String)> = instructions
            .headers()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect();
        added.sort();
        added
    }

    fn ours(
        request: &Request<'_>,
        credentials: &Credentials<'_>,
        region: &str,
        epoch_seconds: u64,
    ) -> Vec<(String, String)> {
        ours_for(
            request,
            &[],
            credentials,
            region,
            "execute-api",
            epoch_seconds,
        )
    }

    fn ours_for(
        request: &Request<'_>,
        extra_headers: &[(&str, &str)],
        credentials: &Credentials<'_>,
        region: &str,
        service: &str,
        epoch_seconds: u64,
    ) -> Vec<(String, String)> {
        let signed = sign_with_headers(
            request,
            extra_headers,
            credentials,
            region,
            service,
            epoch_seconds,
        );
        let mut added = vec![
            ("authorization".to_string(), signed.authorization),
            ("x-amz-date".to_string(), signed.amz_date),
        ];
        if let Some(token) = signed.security_token {
            added.push(("x-amz-security-token".to_string(), token));
        }
        added.sort();
        added
    }

    const KEYS: Credentials<'static> = Credentials {
        access_key_id: "AKIDEXAMPLE",
        secret_access_key: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
        session_token: None,
    };

    #[test]
    fn matches_aws_sigv4_for_every_management_call() {
        let with_token = Credentials {
            session_token: Some("IQoJb3JpZ2luX2VjEXAMPLE//token+with/symbols="),
            ..KEYS
        };
        let post = Request {
            method: "POST",
            host: "abc123.execute-api.eu-west-1.amazonaws.com",
            path: "/prod/@connections/L0SM9cOFvHcCIhw%3D",
            content_type: Some("text/plain; charset=utf-8"),
            body: br#"{"hello":"world"}"#,
        };
        let delete = Request {
            method: "DELETE",
            content_type: None,
            body: b"",
            ..post
        };
        let get = Request {
            method: "GET",
            host: "127.0.0.1:3111",
            path: "/dev/@connections/a-b_c.d~e",
            ..delete
        };
        for credentials in [&KEYS, &with_token] {
            for request in [&post, &delete, &get] {
                // Two days, so the cached key must be replaced and then reused.
                for epoch_seconds in [1_707_503_008, 1_707_589_408, 1_707_589_409] {
                    assert_eq!(
                        ours(request, credentials, "eu-west-1", epoch_seconds),
                        reference(request, credentials, "eu-west-1", epoch_seconds),
                        "{} {} at {epoch_seconds}",
                        request.method,
                        request.path
                    );
                }
            }
        }
    }

    #[test]
    fn a_new_secret_or_region_is_not_signed_with_the_cached_key() {
        let request = Request {
            method: "POST",
            host: "h.example",
            path: "/dev/@connections/x",
            content_type: Some("application/octet-stream"),
            body: &[0, 159, 146, 150],
        };
        let rotated = Credentials {
            secret_access_key: "another-secret",
            ..KEYS
        };
        for (credentials, region) in [
            (&KEYS, "us-east-1"),
            (&rotated, "us-east-1"),
            (&KEYS, "sa-east-1"),
        ] {
            assert_eq!(
                ours(&request, credentials, region, 1_707_503_008),
                reference(&request, credentials, region, 1_707_503_008)
            );
        }
    }

    #[test]
    fn matches_aws_sigv4_for_a_dynamodb_call() {
        let with_token = Credentials {
            session_token: Some("IQoJb3JpZ2luX2VjEXAMPLE//token+with/symbols="),
            ..KEYS
        };
        let body = br##"{"TableName":"chat-dev-connections","Key":{"pk":{"S":"conn#abc="},"sk":{"S":"#conn"}},"ConsistentRead":true}"##;
        let aws = Request {
            method: "POST",
            host: "dynamodb.eu-west-1.amazonaws.com",
            path: "/",
            content_type: Some("application/x-amz-json-1.0"),
            body,
        };
        // The emulator's local endpoint: the path is the endpoint's.
        let local = Request {
            host: "127.0.0.1:3111",
            path: "/@dynamodb",
            ..aws
        };
        let target = [("x-amz-target", "DynamoDB_20120810.GetItem")];
        for credentials in [&KEYS, &with_token] {
            for request in [&aws, &local] {
                for epoch_seconds in [1_707_503_008, 1_707_589_408] {
                    // Interleaved with management calls, so the key cache holds both services.
                    assert_eq!(
                        ours(request, credentials, "eu-west-1", epoch_seconds),
                        reference(request, credentials, "eu-west-1", epoch_seconds),
                    );
                    assert_eq!(
                        ours_for(
                            request,
                            &target,
                            credentials,
                            "eu-west-1",
                            "dynamodb",
                            epoch_seconds
                        ),
                        reference_for(
                            request,
                            &target,
                            credentials,
                            "eu-west-1",
                            "dynamodb",
                            epoch_seconds
                        ),
                        "{} at {epoch_seconds}",
                        request.host
                    );
                }
            }
        }
    }

    #[test]
    fn amz_date_format() {
        assert_eq!(amz_date(1_707_503_008), "20240209T182328Z");
        assert_eq!(amz_date(0), "19700101T000000Z");
    }
}
