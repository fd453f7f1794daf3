//! The custom domain of a stage, converged like the rest: the API Gateway domain name this
//! stage created (tagged), its API mapping to the stage, and the DNS target the user points a
//! record at. A domain name that exists but is not this stage's is never changed or deleted:
//! deploy only maps the stage onto it, and refuses when it already serves another API.

use std::collections::BTreeMap;

use crate::aws::domain::{self as aws, ApiMapping, DomainName};
use crate::aws::{AwsError, Clients};
use crate::desired::Desired;
use crate::names::StageNames;
use crate::observe::Observed;
use crate::outputs::DomainOutputs;
use crate::plan::{Change, Plan, Resource};
use socket_manifest::Domain;

/// What exists of the stage's custom domains.
#[derive(Clone, Debug, Default)]
pub struct ObservedDomains {
    /// Domain names tagged for this stage.
    pub owned: Vec<DomainName>,
    /// The manifest's domain name when it exists but is not tagged for this stage.
    pub other: Option<DomainName>,
    /// The API mappings of each domain above, by domain name.
    pub mappings: BTreeMap<String, Vec<ApiMapping>>,
}

impl ObservedDomains {
    /// The domain name called `name`, whoever owns it.
    pub fn named(&self, name: &str) -> Option<&DomainName> {
        self.owned
            .iter()
            .chain(self.other.as_ref())
            .find(|d| d.name == name)
    }

    /// The API another stage or tool mapped the manifest's domain to, when it is not `api`.
    pub fn mapped_elsewhere(&self, api: Option<&str>) -> Option<&ApiMapping> {
        let other = self.other.as_ref()?;
        self.mappings
            .get(&other.name)?
            .iter()
            .find(|m| Some(m.api_id.as_str()) != api)
    }
}

/// Reads the stage's domain names (by tag), the manifest's one (by name), and their mappings.
pub async fn observe(
    clients: &Clients,
    names: &StageNames,
    wanted: Option<&Domain>,
) -> Result<ObservedDomains, AwsError> {
    let mut observed = ObservedDomains {
        owned: aws::find_domain_names(clients, &names.tags()).await?,
        ..ObservedDomains::default()
    };
    if let Some(domain) = wanted {
        if !observed.owned.iter().any(|d| d.name == domain.name) {
            observed.other = aws::get_domain_name(clients, &domain.name).await?;
        }
    }
    let all: Vec<String> = observed
        .owned
        .iter()
        .chain(observed.other.as_ref())
        .map(|d| d.name.clone())
        .collect();
    for name in all {
        let mappings = aws::api_mappings(clients, &name).await?;
        observed.mappings.insert(name, mappings);
    }
    Ok(observed)
}

/// The domain's changes, last: the mapping needs the stage.
pub fn plan(desired: &Desired, observed: &Observed, plan: &mut Plan) {
    let domains = &observed.domains;
    let wanted = desired.domain.as_ref();
    // Domains this stage made that the manifest no longer names: mappings first, then the name.
    for owned in &domains.owned {
        if wanted.is_some_and(|w| w.name == owned.name) {
            continue;
        }
        for mapping in domains.mappings.get(&owned.name).into_iter().flatten() {
            plan.push(Change::delete(Resource::ApiMapping {
                domain: owned.name.clone(),
                id: Some(mapping.id.clone()),
            }));
        }
        plan.push(Change::delete(Resource::DomainName {
            name: owned.name.clone(),
        }));
    }
    let Some(wanted) = wanted else { return };
    let resource = Resource::DomainName {
        name: wanted.name.clone(),
    };
    match domains.named(&wanted.name) {
        None => plan.push(Change::create(resource)),
        Some(found) if domains.owned.contains(found) => {
            let fields = found.differences(&wanted.certificate);
            if !fields.is_empty() {
                plan.push(Change::update(resource, fields));
            }
        }
        // Someone else's domain name: only the mapping is ours.
        Some(_) => {}
    }
    let api = observed.api.as_ref().map(|a| a.id.as_str());
    let ours: Vec<&ApiMapping> = domains
        .mappings
        .get(&wanted.name)
        .into_iter()
        .flatten()
        .filter(|m| Some(m.api_id.as_str()) == api)
        .collect();
    let mapping = |id: Option<&ApiMapping>| Resource::ApiMapping {
        domain: wanted.name.clone(),
        id: id.map(|m| m.id.clone()),
    };
    match ours.split_first() {
        None => plan.push(Change::create(mapping(None))),
        Some((first, extra)) => {
            let mut fields = Vec::new();
            if first.key != wanted.base_path {
                fields.push("base_path");
            }
            if first.stage != desired.names.stage {
                fields.push("stage");
            }
            if !fields.is_empty() {
                plan.push(Change::update(mapping(Some(first)), fields));
            }
            for extra in extra {
                plan.push(Change::delete(mapping(Some(extra))));
            }
        }
    }
}

/// The outputs for the manifest's domain: its URL and the DNS target of `found`.
pub fn outputs(wanted: &Domain, found: Option<&DomainName>) -> DomainOutputs {
    DomainOutputs {
        url: wanted.url(),
        name: wanted.name.clone(),
        base_path: wanted.base_path.clone(),
        dns_target: found.and_then(|d| d.target.clone()),
        hosted_zone_id: found.and_then(|d| d.hosted_zone_id.clone()),
    }
}

/// Deletes the domain names this stage made (mappings first), and the stage's mappings on the
/// manifest's domain when it belongs to someone else. Returns what was deleted.
pub async fn remove(
    clients: &Clients,
    names: &StageNames,
    wanted: Option<&Domain>,
    apis: &[String],
) -> Result<Vec<String>, AwsError> {
    let observed = observe(clients, names, wanted).await?;
    let mut removed = Vec::new();
    for owned in &observed.owned {
        for mapping in observed.mappings.get(&owned.name).into_iter().flatten() {
            aws::delete_api_mapping(clients, &owned.name, &mapping.id).await?;
        }
        if aws::delete_domain_name(clients, &owned.name).await? {
            removed.push(format!("domain name {}", owned.name));
        }
    }
    if let Some(other) = &observed.other {
        for mapping in observed.mappings.get(&other.name).into_iter().flatten() {
            if apis.contains(&mapping.api_id) {
                aws::delete_api_mapping(clients, &other.name, &mapping.id).await?;
                removed.push(format!("API mapping on {}", other.name));
            }
        }
    }
    Ok(removed)
}
