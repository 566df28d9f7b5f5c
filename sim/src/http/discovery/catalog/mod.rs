//! The one table of every Azure DevOps operation azdo-sim serves: the resource areas, the API
//! resource locations (ids, route templates and versions as the real service publishes them),
//! and the concrete routes implementing them.
//!
//! The routers register their handlers through it ([`super::ApiRoutes`]), the discovery
//! endpoints (`_apis/ResourceAreas`, `OPTIONS _apis`) publish it, and tests check that the
//! routers serve exactly the catalog and that every route is an expansion of its location's
//! template, so what clients discover and what the simulator serves cannot drift apart.
//!
//! Location ids and route templates come from the official clients (the `azure-devops` Python
//! package, `azure-devops-extension-api`, the .NET resource id tables).

mod dev;
mod entitlements;
mod graph;
mod known_areas;
mod location;
mod template;

use std::collections::HashSet;
use std::sync::LazyLock;

use axum::http::Method;
use axum::routing::MethodFilter;

pub use dev::*;
pub use entitlements::*;
pub use graph::*;
pub use known_areas::{AreaHost, KnownArea, KNOWN_AREAS};
pub use location::*;
use template::is_parameter;
pub use template::{path_matches_template, template_segments};

use crate::http::version::{MAX_MAJOR, MAX_MINOR};

/// The simulated Azure DevOps hosts (the login host serves no Azure DevOps API).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Host {
    /// `dev.azure.com`
    Dev,
    /// `vssps.dev.azure.com`
    Vssps,
    /// `vsaex.dev.azure.com`
    Vsaex,
}

impl Host {
    pub const ALL: [Host; 3] = [Host::Dev, Host::Vssps, Host::Vsaex];
}

/// A resource area: the unit `_apis/ResourceAreas` maps to a host.
#[derive(Debug)]
pub struct Area {
    /// The id clients look up (`resource_area_identifier` in the SDKs); `None` for the location
    /// service itself, which every host serves and clients reach without looking it up.
    pub id: Option<&'static str>,
    pub name: &'static str,
    /// The host serving the area; `None`: every host.
    pub host: Option<Host>,
}

impl Area {
    pub fn served_by(&self, host: Host) -> bool {
        self.host.is_none_or(|h| h == host)
    }
}

/// An API resource location, as `OPTIONS {host}/{org}/_apis` publishes it.
#[derive(Debug)]
pub struct Location {
    pub id: &'static str,
    pub area: &'static Area,
    pub resource_name: &'static str,
    /// Relative to the organization URL; `{area}` and `{resource}` are filled from the area
    /// name and resource name, other parameters are optional segments clients drop when
    /// they have no value for them (`{*name}`: catch-all).
    pub route_template: &'static str,
    pub resource_version: u32,
    pub min_version: &'static str,
    /// The newest version served without `-preview`; `0.0`: preview-only. Which resources
    /// are released follows the SDKs generated for a released API version (the 7.0 clients
    /// send plain `7.0` to released resources and `7.0-preview.N` to the others).
    pub released_version: &'static str,
}

pub const PREVIEW_ONLY: &str = "0.0";

impl Location {
    pub fn preview_only(&self) -> bool {
        self.released_version == PREVIEW_ONLY
    }

    /// The newest version served, the simulator's maximum for every resource.
    pub fn max_version(&self) -> String {
        format!("{MAX_MAJOR}.{MAX_MINOR}")
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Verb {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
}

impl Verb {
    pub fn method(self) -> Method {
        match self {
            Verb::Get => Method::GET,
            Verb::Head => Method::HEAD,
            Verb::Post => Method::POST,
            Verb::Put => Method::PUT,
            Verb::Patch => Method::PATCH,
            Verb::Delete => Method::DELETE,
        }
    }

    pub fn filter(self) -> MethodFilter {
        match self {
            Verb::Get => MethodFilter::GET,
            Verb::Head => MethodFilter::HEAD,
            Verb::Post => MethodFilter::POST,
            Verb::Put => MethodFilter::PUT,
            Verb::Patch => MethodFilter::PATCH,
            Verb::Delete => MethodFilter::DELETE,
        }
    }
}

/// One served operation: a method on a concrete route implementing a location.
#[derive(Debug)]
pub struct Endpoint {
    pub location: &'static Location,
    pub verb: Verb,
    /// The router path (lowercase words, `{param}` segments). Organization-level routes start
    /// with `/{org}/`; deployment-level routes (no organization) with `/_apis/`.
    pub path: &'static str,
}

const ORG_PREFIX: &str = "/{org}/";

impl Endpoint {
    pub fn organization_level(&self) -> bool {
        self.path.starts_with(ORG_PREFIX)
    }

    /// The path below the organization (or below the host for deployment-level routes).
    pub fn relative_path(&self) -> &'static str {
        self.path
            .strip_prefix(ORG_PREFIX)
            .or_else(|| self.path.strip_prefix('/'))
            .unwrap_or(self.path)
    }

    pub fn served_by(&self, host: Host) -> bool {
        self.location.area.served_by(host)
    }
}

/// Every resource area, in the order `_apis/ResourceAreas` lists them.
pub static AREAS: &[&Area] = &[
    &CORE,
    &BUILD,
    &DISTRIBUTED_TASK,
    &SERVICE_ENDPOINT,
    &GIT,
    &PIPELINE_PERMISSIONS,
    &PIPELINES_CHECKS,
    &SECURITY_ROLES,
    &GRAPH,
    &MEMBER_ENTITLEMENT_MANAGEMENT,
    &OPERATIONS,
    &LOCATION,
];

/// Every location, in the order `OPTIONS _apis` lists them.
pub static LOCATIONS: &[&Location] = &[
    &PROJECTS,
    &PROCESSES,
    &BUILD_DEFINITIONS,
    &AGENT_POOLS,
    &AGENT_QUEUES,
    &ENVIRONMENTS,
    &VARIABLE_GROUPS,
    &SECURE_FILES,
    &SERVICE_ENDPOINTS,
    &GIT_REPOSITORIES,
    &PIPELINE_PERMISSIONS_LOCATION,
    &CHECK_CONFIGURATIONS,
    &CHECK_QUERY_CONFIGURATIONS,
    &ROLE_ASSIGNMENTS,
    &ROLE_DEFINITIONS,
    &GRAPH_GROUPS,
    &GRAPH_USERS,
    &GRAPH_SERVICE_PRINCIPALS,
    &GRAPH_MEMBERSHIPS,
    &GRAPH_MEMBERSHIPS_BATCH,
    &GRAPH_MEMBERSHIP_STATES,
    &GRAPH_DESCRIPTORS,
    &GRAPH_STORAGE_KEYS,
    &GRAPH_SUBJECT_QUERY,
    &GRAPH_SUBJECT_LOOKUP,
    &GRAPH_SUBJECTS,
    &GROUP_ENTITLEMENTS,
    &GROUP_ENTITLEMENTS_LIST,
    &GROUP_ENTITLEMENT_MEMBERS,
    &USER_ENTITLEMENTS,
    &USER_ENTITLEMENT,
    &SERVICE_PRINCIPAL_ENTITLEMENTS,
    &SERVICE_PRINCIPAL_ENTITLEMENT,
    &USER_ENTITLEMENT_SUMMARY,
    &OPERATIONS_LOCATION,
    &RESOURCE_AREAS,
];

/// Every served operation.
pub static ENDPOINTS: &[&Endpoint] = &[
    // dev.azure.com
    &LIST_PROJECTS,
    &GET_PROJECT,
    &LIST_PROCESSES,
    &GET_PROCESS,
    &LIST_DEFINITIONS,
    &GET_DEFINITION,
    &LIST_POOLS,
    &GET_POOL,
    &LIST_QUEUES,
    &GET_QUEUE,
    &LIST_ENVIRONMENTS,
    &GET_ENVIRONMENT,
    &LIST_VARIABLE_GROUPS,
    &GET_VARIABLE_GROUP,
    &LIST_SECURE_FILES,
    &GET_SECURE_FILE,
    &LIST_SERVICE_ENDPOINTS,
    &GET_SERVICE_ENDPOINT,
    &LIST_REPOSITORIES,
    &GET_REPOSITORY,
    &UPDATE_PIPELINE_PERMISSIONS_BATCH,
    &GET_PIPELINE_PERMISSIONS,
    &UPDATE_PIPELINE_PERMISSIONS,
    &LIST_CHECK_CONFIGURATIONS,
    &ADD_CHECK_CONFIGURATION,
    &GET_CHECK_CONFIGURATION,
    &UPDATE_CHECK_CONFIGURATION,
    &DELETE_CHECK_CONFIGURATION,
    &QUERY_CHECK_CONFIGURATIONS,
    &LIST_ROLE_DEFINITIONS,
    &LIST_ROLE_ASSIGNMENTS,
    &SET_ROLE_ASSIGNMENTS,
    &REMOVE_ROLE_ASSIGNMENTS,
    &SET_ROLE_ASSIGNMENT,
    &REMOVE_ROLE_ASSIGNMENT,
    // vssps.dev.azure.com
    &LIST_GROUPS,
    &CREATE_GROUP,
    &GET_GROUP,
    &UPDATE_GROUP,
    &DELETE_GROUP,
    &LIST_USERS,
    &CREATE_USER,
    &GET_USER,
    &DELETE_USER,
    &LIST_SERVICE_PRINCIPALS,
    &CREATE_SERVICE_PRINCIPAL,
    &GET_SERVICE_PRINCIPAL,
    &ADD_MEMBERSHIP,
    &CHECK_MEMBERSHIP,
    &GET_MEMBERSHIP,
    &REMOVE_MEMBERSHIP,
    &LIST_MEMBERSHIPS,
    &GET_MEMBERSHIP_STATE,
    &GET_DESCRIPTOR,
    &GET_STORAGE_KEY,
    &QUERY_SUBJECTS,
    &LOOKUP_SUBJECTS,
    &GET_SUBJECT,
    // vsaex.dev.azure.com
    &LIST_GROUP_ENTITLEMENTS,
    &ADD_GROUP_ENTITLEMENT,
    &GET_GROUP_ENTITLEMENT,
    &UPDATE_GROUP_ENTITLEMENT,
    &DELETE_GROUP_ENTITLEMENT,
    &LIST_GROUP_ENTITLEMENT_MEMBERS,
    &ADD_GROUP_ENTITLEMENT_MEMBER,
    &REMOVE_GROUP_ENTITLEMENT_MEMBER,
    &SEARCH_USER_ENTITLEMENTS,
    &ADD_USER_ENTITLEMENT,
    &GET_USER_ENTITLEMENT,
    &UPDATE_USER_ENTITLEMENT,
    &DELETE_USER_ENTITLEMENT,
    &ADD_SERVICE_PRINCIPAL_ENTITLEMENT,
    &GET_SERVICE_PRINCIPAL_ENTITLEMENT,
    &UPDATE_SERVICE_PRINCIPAL_ENTITLEMENT,
    &DELETE_SERVICE_PRINCIPAL_ENTITLEMENT,
    &GET_USER_ENTITLEMENT_SUMMARY,
    &GET_OPERATION,
    // every host
    &LIST_RESOURCE_AREAS,
    &GET_RESOURCE_AREA,
    &LIST_DEPLOYMENT_RESOURCE_AREAS,
    &GET_DEPLOYMENT_RESOURCE_AREA,
];

/// The endpoints a host serves.
pub fn endpoints_of(host: Host) -> impl Iterator<Item = &'static Endpoint> {
    ENDPOINTS.iter().copied().filter(move |e| e.served_by(host))
}

/// The locations a host publishes at organization level (`deployment: false`) or at
/// deployment level (`deployment: true`): those with at least one endpoint there.
pub fn locations_of(host: Host, deployment: bool) -> impl Iterator<Item = &'static Location> {
    LOCATIONS.iter().copied().filter(move |location| {
        endpoints_of(host)
            .any(|e| std::ptr::eq(e.location, *location) && e.organization_level() != deployment)
    })
}

/// The fixed words of all routes (lowercase): the server lowercases these path segments
/// before routing, since Azure DevOps routes are case-insensitive.
pub static ROUTE_WORDS: LazyLock<HashSet<&'static str>> = LazyLock::new(|| {
    ENDPOINTS
        .iter()
        .flat_map(|e| e.path.split('/'))
        .filter(|s| !s.is_empty() && !is_parameter(s))
        .collect()
});

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    #[test]
    fn endpoints_are_unique_and_locations_listed() {
        let mut seen = HashSet::new();
        for endpoint in ENDPOINTS {
            assert!(
                seen.insert((endpoint.verb, endpoint.path, endpoint.location.area.host)),
                "duplicate endpoint {:?} {}",
                endpoint.verb,
                endpoint.path
            );
            assert!(
                LOCATIONS
                    .iter()
                    .any(|l| std::ptr::eq(*l, endpoint.location)),
                "location {} of {} is not listed",
                endpoint.location.id,
                endpoint.path
            );
            assert!(AREAS
                .iter()
                .any(|a| std::ptr::eq(*a, endpoint.location.area)));
        }
        for location in LOCATIONS {
            assert!(
                ENDPOINTS
                    .iter()
                    .any(|e| std::ptr::eq(e.location, *location)),
                "location {} has no endpoint",
                location.id
            );
        }
        let ids: HashSet<_> = LOCATIONS.iter().map(|l| l.id).collect();
        assert_eq!(ids.len(), LOCATIONS.len(), "location ids are unique");
    }

    #[test]
    fn versions_parse() {
        use crate::http::version::ApiVersion;
        for location in LOCATIONS {
            for version in [location.min_version, location.released_version] {
                assert!(ApiVersion::parse(version).is_some(), "{}", location.id);
            }
        }
        assert!(GRAPH_GROUPS.preview_only() && !GRAPH_DESCRIPTORS.preview_only());
    }

    #[test]
    fn paths_use_lowercase_words() {
        for word in ROUTE_WORDS.iter() {
            assert_eq!(*word, word.to_ascii_lowercase());
        }
        assert!(ROUTE_WORDS.contains("pipelinepermissions"));
        assert!(ROUTE_WORDS.contains("resourceareas"));
        assert!(!ROUTE_WORDS.contains("{org}"));
    }

    #[test]
    fn hosts_publish_their_areas() {
        let dev: Vec<_> = locations_of(Host::Dev, false).map(|l| l.id).collect();
        let vssps: Vec<_> = locations_of(Host::Vssps, false).map(|l| l.id).collect();
        assert!(dev.contains(&PROJECTS.id) && !dev.contains(&GRAPH_GROUPS.id));
        assert!(vssps.contains(&GRAPH_GROUPS.id) && !vssps.contains(&PROJECTS.id));
        assert!(dev.contains(&RESOURCE_AREAS.id) && vssps.contains(&RESOURCE_AREAS.id));
        let deployment: Vec<_> = locations_of(Host::Dev, true).map(|l| l.id).collect();
        assert_eq!(deployment, vec![RESOURCE_AREAS.id]);
    }
}
