//! `domain:` — a custom domain for the stage's WebSocket API: the domain name, the regional ACM
//! certificate that covers it, and an optional base path the API is mapped under.

use super::read::{Field, Key, Scope};
use super::yaml::Span;
use super::ManifestError;

/// A custom domain of a stage.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Domain {
    /// e.g. `chat.example.com`.
    pub name: String,
    /// `arn:aws:acm:{region}:{account}:certificate/{id}`, in the stage's region.
    pub certificate: String,
    /// The API mapping key (`v1` serves `wss://chat.example.com/v1`); empty: the domain's root.
    pub base_path: String,
}

impl Domain {
    /// `wss://{name}` or `wss://{name}/{basePath}`.
    pub fn url(&self) -> String {
        match self.base_path.as_str() {
            "" => format!("wss://{}", self.name),
            path => format!("wss://{}/{path}", self.name),
        }
    }
}

/// `domain:` as read, with where its certificate was written (checked against the region, which
/// is known only once every input is read).
#[derive(Debug, Default)]
pub(crate) struct DomainInput {
    pub name: Option<String>,
    /// The ARN, where it is written and its path in the document (for the region check's error).
    pub certificate: Option<(String, Span, String)>,
    pub base_path: Option<String>,
}

pub(crate) const DOMAIN_KEYS: &[Key<DomainInput>] = &[
    Key::new(
        "name",
        |d: &mut DomainInput, f: &Field| -> Result<(), ManifestError> {
            if let Some(name) = f.scalar("a domain name such as chat.example.com", domain_name)? {
                d.name = Some(name);
            }
            Ok(())
        },
    )
    .required(),
    Key::new(
        "certificate",
        |d: &mut DomainInput, f: &Field| -> Result<(), ManifestError> {
            if let Some(arn) = f.scalar("an ACM certificate ARN", certificate_arn)? {
                d.certificate = Some((arn, f.node.span, f.path.clone()));
            }
            Ok(())
        },
    )
    .required(),
    Key::new(
        "basePath",
        |d: &mut DomainInput, f: &Field| -> Result<(), ManifestError> {
            if let Some(path) = f.scalar("a base path such as `v1`", base_path)? {
                d.base_path = Some(path);
            }
            Ok(())
        },
    ),
];

pub(crate) const EXPECTING: &str = "a domain block: `name`, `certificate`, optionally `basePath`";

/// The region field of an ACM certificate ARN.
pub(crate) fn certificate_region(arn: &str) -> &str {
    arn.split(':').nth(3).unwrap_or_default()
}

/// Checks the certificate is in `region`; `Err` is the message and help for the user.
pub(crate) fn check_certificate_region(arn: &str, region: &str) -> Result<(), (String, String)> {
    let in_region = certificate_region(arn);
    if in_region == region {
        return Ok(());
    }
    Err((
        format!(
            "the certificate is in {in_region}, but the stage deploys to {region}: a regional API Gateway domain needs a certificate of its own region"
        ),
        format!(
            "request or import a certificate for the domain in {region} (AWS Certificate Manager, region {region}) and put its ARN here, or deploy the stage to {in_region}"
        ),
    ))
}

fn domain_name(s: &str, _: &Scope) -> Result<String, (String, String)> {
    let name = s.trim().trim_end_matches('.').to_ascii_lowercase();
    let label_ok = |label: &str| {
        !label.is_empty()
            && label.len() <= 63
            && !label.starts_with('-')
            && !label.ends_with('-')
            && label
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    };
    let labels: Vec<&str> = name.split('.').collect();
    if name.len() > 253 || labels.len() < 2 || !labels.iter().all(|l| label_ok(l)) {
        return Err((
            format!("`{s}` is not a domain name"),
            "write the host name clients connect to, e.g. `chat.example.com` (no scheme, no path)"
                .into(),
        ));
    }
    if name.contains(".execute-api.") {
        return Err((
            format!("`{s}` is API Gateway's own domain"),
            "name a domain you own, e.g. `chat.example.com`".into(),
        ));
    }
    Ok(name)
}

fn certificate_arn(s: &str, _: &Scope) -> Result<String, (String, String)> {
    let parts: Vec<&str> = s.trim().splitn(6, ':').collect();
    let ok = matches!(parts.as_slice(),
        ["arn", partition, "acm", region, account, resource]
            if partition.starts_with("aws")
                && super::names::check_region(region).is_ok()
                && account.len() == 12
                && account.bytes().all(|b| b.is_ascii_digit())
                && resource.strip_prefix("certificate/").is_some_and(|id| !id.is_empty()));
    if !ok {
        return Err((
            format!("`{s}` is not an ACM certificate ARN"),
            "copy the ARN from AWS Certificate Manager, e.g. `arn:aws:acm:us-east-1:123456789012:certificate/0a1b2c3d-...`".into(),
        ));
    }
    Ok(s.trim().to_string())
}

/// API Gateway's mapping key: segments of letters, digits and `-._~`, joined by `/`; leading
/// and trailing slashes are dropped.
fn base_path(s: &str, _: &Scope) -> Result<String, (String, String)> {
    let path = s.trim().trim_matches('/');
    let ok = path.split('/').all(|segment| {
        !segment.is_empty()
            && segment
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
    });
    if !path.is_empty() && !ok {
        return Err((
            format!("`{s}` is not a base path"),
            "use path segments of letters, digits, `-`, `.`, `_`, `~`, e.g. `v1` or `api/v1`"
                .into(),
        ));
    }
    Ok(path.to_string())
}
