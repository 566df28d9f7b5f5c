//! Graph, on `vssps.dev.azure.com`. Templates and resource names as the Graph clients carry
//! them (`_apis/{area}/{resource}/...`); minimum versions are the first client versions that
//! carry each resource.

use super::{Area, Endpoint, Host, Location, Verb, PREVIEW_ONLY};

pub static GRAPH: Area = Area {
    id: Some("bb1e7ec9-e901-4b68-999a-de7012b920f8"),
    name: "Graph",
    host: Some(Host::Vssps),
};

/// Most of Graph is preview-only; descriptors and storage keys are released.
const RELEASED: &str = "7.1";

const fn graph_location(
    id: &'static str,
    resource_name: &'static str,
    route_template: &'static str,
    min_version: &'static str,
) -> Location {
    Location {
        id,
        area: &GRAPH,
        resource_name,
        route_template,
        resource_version: 1,
        min_version,
        released_version: PREVIEW_ONLY,
    }
}

const fn released(location: Location) -> Location {
    Location {
        released_version: RELEASED,
        ..location
    }
}

pub static GRAPH_GROUPS: Location = graph_location(
    "ebbe6af8-0b91-4c13-8cf1-777c14858188",
    "Groups",
    "_apis/{area}/{resource}/{groupDescriptor}",
    "3.2",
);
pub static GRAPH_USERS: Location = graph_location(
    "005e26ec-6b77-4e4f-a986-b3827bf241f5",
    "Users",
    "_apis/{area}/{resource}/{userDescriptor}",
    "3.2",
);
pub static GRAPH_SERVICE_PRINCIPALS: Location = graph_location(
    "e1dbb0ae-49cb-4532-95a1-86cd89cfcab4",
    "ServicePrincipals",
    "_apis/{area}/{resource}/{servicePrincipalDescriptor}",
    "6.0",
);
pub static GRAPH_MEMBERSHIPS: Location = graph_location(
    "3fd2e6ca-fb30-443a-b579-95b19ed0934c",
    "Memberships",
    "_apis/{area}/{resource}/{subjectDescriptor}/{containerDescriptor}",
    "3.2",
);
/// Listing a subject's memberships: its own location, with the word `Memberships` fixed.
pub static GRAPH_MEMBERSHIPS_BATCH: Location = graph_location(
    "e34b6394-6b30-4435-94a9-409a5eef3e31",
    "MembershipsBatch",
    "_apis/{area}/Memberships/{subjectDescriptor}",
    "3.2",
);
pub static GRAPH_MEMBERSHIP_STATES: Location = graph_location(
    "1ffe5c94-1144-4191-907b-d0211cad36a8",
    "MembershipStates",
    "_apis/{area}/{resource}/{subjectDescriptor}",
    "3.2",
);
pub static GRAPH_DESCRIPTORS: Location = released(graph_location(
    "048aee0a-7072-4cde-ab73-7af77b1e0b4e",
    "Descriptors",
    "_apis/{area}/{resource}/{storageKey}",
    "3.1",
));
pub static GRAPH_STORAGE_KEYS: Location = released(graph_location(
    "eb85f8cc-f0f6-4264-a5b1-ffe2e4d4801f",
    "StorageKeys",
    "_apis/{area}/{resource}/{subjectDescriptor}",
    "3.2",
));
pub static GRAPH_SUBJECT_QUERY: Location = graph_location(
    "05942c89-006a-48ce-bb79-baeb8abf99c6",
    "SubjectQuery",
    "_apis/{area}/{resource}",
    "5.0",
);
pub static GRAPH_SUBJECT_LOOKUP: Location = graph_location(
    "4dd4d168-11f2-48c4-83e8-756fa0de027c",
    "SubjectLookup",
    "_apis/{area}/{resource}",
    "3.2",
);
pub static GRAPH_SUBJECTS: Location = graph_location(
    "1d44a2ac-4f8a-459e-83c2-1c92626fb9c6",
    "Subjects",
    "_apis/{area}/{resource}/{subjectDescriptor}",
    "3.2",
);

const fn graph(location: &'static Location, verb: Verb, path: &'static str) -> Endpoint {
    Endpoint {
        location,
        verb,
        path,
    }
}

const GROUPS: &str = "/{org}/_apis/graph/groups";
const GROUP: &str = "/{org}/_apis/graph/groups/{descriptor}";
pub static LIST_GROUPS: Endpoint = graph(&GRAPH_GROUPS, Verb::Get, GROUPS);
pub static CREATE_GROUP: Endpoint = graph(&GRAPH_GROUPS, Verb::Post, GROUPS);
pub static GET_GROUP: Endpoint = graph(&GRAPH_GROUPS, Verb::Get, GROUP);
pub static UPDATE_GROUP: Endpoint = graph(&GRAPH_GROUPS, Verb::Patch, GROUP);
pub static DELETE_GROUP: Endpoint = graph(&GRAPH_GROUPS, Verb::Delete, GROUP);

const USERS: &str = "/{org}/_apis/graph/users";
const USER: &str = "/{org}/_apis/graph/users/{descriptor}";
pub static LIST_USERS: Endpoint = graph(&GRAPH_USERS, Verb::Get, USERS);
pub static CREATE_USER: Endpoint = graph(&GRAPH_USERS, Verb::Post, USERS);
pub static GET_USER: Endpoint = graph(&GRAPH_USERS, Verb::Get, USER);
pub static DELETE_USER: Endpoint = graph(&GRAPH_USERS, Verb::Delete, USER);

const SERVICE_PRINCIPALS: &str = "/{org}/_apis/graph/serviceprincipals";
pub static LIST_SERVICE_PRINCIPALS: Endpoint =
    graph(&GRAPH_SERVICE_PRINCIPALS, Verb::Get, SERVICE_PRINCIPALS);
pub static CREATE_SERVICE_PRINCIPAL: Endpoint =
    graph(&GRAPH_SERVICE_PRINCIPALS, Verb::Post, SERVICE_PRINCIPALS);
pub static GET_SERVICE_PRINCIPAL: Endpoint = graph(
    &GRAPH_SERVICE_PRINCIPALS,
    Verb::Get,
    "/{org}/_apis/graph/serviceprincipals/{descriptor}",
);

const MEMBERSHIP: &str = "/{org}/_apis/graph/memberships/{subject}/{container}";
pub static ADD_MEMBERSHIP: Endpoint = graph(&GRAPH_MEMBERSHIPS, Verb::Put, MEMBERSHIP);
pub static CHECK_MEMBERSHIP: Endpoint = graph(&GRAPH_MEMBERSHIPS, Verb::Head, MEMBERSHIP);
pub static GET_MEMBERSHIP: Endpoint = graph(&GRAPH_MEMBERSHIPS, Verb::Get, MEMBERSHIP);
pub static REMOVE_MEMBERSHIP: Endpoint = graph(&GRAPH_MEMBERSHIPS, Verb::Delete, MEMBERSHIP);
pub static LIST_MEMBERSHIPS: Endpoint = graph(
    &GRAPH_MEMBERSHIPS_BATCH,
    Verb::Get,
    "/{org}/_apis/graph/memberships/{subject}",
);
pub static GET_MEMBERSHIP_STATE: Endpoint = graph(
    &GRAPH_MEMBERSHIP_STATES,
    Verb::Get,
    "/{org}/_apis/graph/membershipstates/{subject}",
);

pub static GET_DESCRIPTOR: Endpoint = graph(
    &GRAPH_DESCRIPTORS,
    Verb::Get,
    "/{org}/_apis/graph/descriptors/{storage_key}",
);
pub static GET_STORAGE_KEY: Endpoint = graph(
    &GRAPH_STORAGE_KEYS,
    Verb::Get,
    "/{org}/_apis/graph/storagekeys/{descriptor}",
);
pub static QUERY_SUBJECTS: Endpoint = graph(
    &GRAPH_SUBJECT_QUERY,
    Verb::Post,
    "/{org}/_apis/graph/subjectquery",
);
pub static LOOKUP_SUBJECTS: Endpoint = graph(
    &GRAPH_SUBJECT_LOOKUP,
    Verb::Post,
    "/{org}/_apis/graph/subjectlookup",
);
pub static GET_SUBJECT: Endpoint = graph(
    &GRAPH_SUBJECTS,
    Verb::Get,
    "/{org}/_apis/graph/subjects/{descriptor}",
);
