//! `authorizer:` — a Lambda REQUEST authorizer on `$connect`, answered by the same function's
//! `on_authorize` handler: which parts of the handshake API Gateway requires before invoking it.

use socket_protocol::authorizer::IdentitySource;

use super::read::{Field, Key, Scope};
use super::ManifestError;

/// The `$connect` authorizer of a stage.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Authorizer {
    /// `route.request.header.<Name>` / `route.request.querystring.<name>`: a handshake without
    /// every one of them is refused with 401 before the function runs.
    pub identity_sources: Vec<String>,
}

pub(crate) const AUTHORIZER_KEYS: &[Key<Authorizer>] =
    &[Key::new("identitySources", read_identity_sources).required()];

pub(crate) const EXPECTING: &str =
    "an authorizer block such as `identitySources: [route.request.querystring.token]`";

fn read_identity_sources(authorizer: &mut Authorizer, field: &Field) -> Result<(), ManifestError> {
    let items = field.items()?;
    if items.is_empty() {
        return Err(field.error(
            "no identity source",
            Some("name at least one, e.g. `route.request.querystring.token` or `route.request.header.Authorization`".into()),
        ));
    }
    let mut sources = Vec::new();
    for item in items {
        if let Some(source) = item.scalar("an identity source", identity_source)? {
            if !sources.contains(&source) {
                sources.push(source);
            }
        }
    }
    authorizer.identity_sources = sources;
    Ok(())
}

fn identity_source(s: &str, _: &Scope) -> Result<String, (String, String)> {
    match IdentitySource::parse(s) {
        Some(_) => Ok(s.to_string()),
        None => Err((
            format!("`{s}` is not an identity source of a WebSocket authorizer"),
            "use `route.request.header.<Name>` or `route.request.querystring.<name>`, e.g. `route.request.querystring.token`".into(),
        )),
    }
}
