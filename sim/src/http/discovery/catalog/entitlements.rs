//! Member Entitlement Management, on `vsaex.dev.azure.com`: group entitlements (group rules),
//! their members, user and service principal entitlements, the user summary (licence counts),
//! and the operations API the group rule operations are polled through. Location ids and
//! versions as `azure-devops` 7.1.0b4 (`member_entitlement_management`, `operations`) carries
//! them; released or preview as the 7.1 spec marks each path.

use super::{Area, Endpoint, Host, Location, Verb, PREVIEW_ONLY};

pub static MEMBER_ENTITLEMENT_MANAGEMENT: Area = Area {
    id: Some("68ddce18-2501-45f1-a17b-7931a9922690"),
    name: "MemberEntitlementManagement",
    host: Some(Host::Vsaex),
};

/// The operations service: every host of the real service serves it; azdo-sim on the host
/// whose operations it knows (the SDK's client has no area id: it calls the URL it is given).
pub static OPERATIONS: Area = Area {
    id: None,
    name: "operations",
    host: Some(Host::Vsaex),
};

const RELEASED: &str = "7.1";

const fn location(
    id: &'static str,
    resource_name: &'static str,
    route_template: &'static str,
    resource_version: u32,
    released_version: &'static str,
) -> Location {
    Location {
        id,
        area: &MEMBER_ENTITLEMENT_MANAGEMENT,
        resource_name,
        route_template,
        resource_version,
        min_version: "4.0",
        released_version,
    }
}

pub static GROUP_ENTITLEMENTS: Location = location(
    "2280bffa-58a2-49da-822e-0764a1bb44f7",
    "GroupEntitlements",
    "_apis/{resource}/{groupId}",
    1,
    RELEASED,
);
pub static GROUP_ENTITLEMENTS_LIST: Location = location(
    "9bce1f43-2629-419f-8f6c-7503be58a4f3",
    "GroupEntitlements",
    "_apis/{resource}",
    1,
    RELEASED,
);
pub static GROUP_ENTITLEMENT_MEMBERS: Location = location(
    "45a36e53-5286-4518-aa72-2d29f7acc5d8",
    "Members",
    "_apis/GroupEntitlements/{groupId}/{resource}/{memberId}",
    1,
    RELEASED,
);
pub static USER_ENTITLEMENTS: Location = location(
    "387f832c-dbf2-4643-88e9-c1aa94dbb737",
    "UserEntitlements",
    "_apis/{resource}",
    3,
    RELEASED,
);
pub static USER_ENTITLEMENT: Location = location(
    "8480c6eb-ce60-47e9-88df-eca3c801638b",
    "UserEntitlements",
    "_apis/{resource}/{userId}",
    3,
    RELEASED,
);
pub static SERVICE_PRINCIPAL_ENTITLEMENTS: Location = location(
    "f03dbf50-80f8-41b7-8ca2-65b6a178caba",
    "ServicePrincipalEntitlements",
    "_apis/{resource}",
    1,
    PREVIEW_ONLY,
);
pub static SERVICE_PRINCIPAL_ENTITLEMENT: Location = location(
    "1d491a66-190b-43ae-86b8-9c2688c55186",
    "ServicePrincipalEntitlements",
    "_apis/{resource}/{servicePrincipalId}",
    1,
    PREVIEW_ONLY,
);
pub static USER_ENTITLEMENT_SUMMARY: Location = location(
    "5ae55b13-c9dd-49d1-957e-6e76c152e3d9",
    "UserEntitlementSummary",
    "_apis/{resource}",
    1,
    RELEASED,
);
pub static OPERATIONS_LOCATION: Location = Location {
    id: "9a1b74b4-2ca8-4a9f-8470-c2f2e6fdc949",
    area: &OPERATIONS,
    resource_name: "operations",
    route_template: "_apis/{resource}/{operationId}",
    resource_version: 1,
    min_version: "4.0",
    // No 7.1 spec publishes it; the official clients send `-preview.1`.
    released_version: PREVIEW_ONLY,
};

const fn endpoint(location: &'static Location, verb: Verb, path: &'static str) -> Endpoint {
    Endpoint {
        location,
        verb,
        path,
    }
}

const GROUPS: &str = "/{org}/_apis/groupentitlements";
const GROUP: &str = "/{org}/_apis/groupentitlements/{group_id}";
const MEMBER: &str = "/{org}/_apis/groupentitlements/{group_id}/members/{member_id}";
const USERS: &str = "/{org}/_apis/userentitlements";
const USER: &str = "/{org}/_apis/userentitlements/{user_id}";
const PRINCIPALS: &str = "/{org}/_apis/serviceprincipalentitlements";
const PRINCIPAL: &str = "/{org}/_apis/serviceprincipalentitlements/{principal_id}";

pub static LIST_GROUP_ENTITLEMENTS: Endpoint =
    endpoint(&GROUP_ENTITLEMENTS_LIST, Verb::Get, GROUPS);
pub static ADD_GROUP_ENTITLEMENT: Endpoint = endpoint(&GROUP_ENTITLEMENTS, Verb::Post, GROUPS);
pub static GET_GROUP_ENTITLEMENT: Endpoint = endpoint(&GROUP_ENTITLEMENTS, Verb::Get, GROUP);
pub static UPDATE_GROUP_ENTITLEMENT: Endpoint = endpoint(&GROUP_ENTITLEMENTS, Verb::Patch, GROUP);
pub static DELETE_GROUP_ENTITLEMENT: Endpoint = endpoint(&GROUP_ENTITLEMENTS, Verb::Delete, GROUP);
pub static LIST_GROUP_ENTITLEMENT_MEMBERS: Endpoint = endpoint(
    &GROUP_ENTITLEMENT_MEMBERS,
    Verb::Get,
    "/{org}/_apis/groupentitlements/{group_id}/members",
);
pub static ADD_GROUP_ENTITLEMENT_MEMBER: Endpoint =
    endpoint(&GROUP_ENTITLEMENT_MEMBERS, Verb::Put, MEMBER);
pub static REMOVE_GROUP_ENTITLEMENT_MEMBER: Endpoint =
    endpoint(&GROUP_ENTITLEMENT_MEMBERS, Verb::Delete, MEMBER);
pub static SEARCH_USER_ENTITLEMENTS: Endpoint = endpoint(&USER_ENTITLEMENTS, Verb::Get, USERS);
pub static ADD_USER_ENTITLEMENT: Endpoint = endpoint(&USER_ENTITLEMENTS, Verb::Post, USERS);
pub static GET_USER_ENTITLEMENT: Endpoint = endpoint(&USER_ENTITLEMENT, Verb::Get, USER);
pub static UPDATE_USER_ENTITLEMENT: Endpoint = endpoint(&USER_ENTITLEMENT, Verb::Patch, USER);
pub static DELETE_USER_ENTITLEMENT: Endpoint = endpoint(&USER_ENTITLEMENT, Verb::Delete, USER);
pub static ADD_SERVICE_PRINCIPAL_ENTITLEMENT: Endpoint =
    endpoint(&SERVICE_PRINCIPAL_ENTITLEMENTS, Verb::Post, PRINCIPALS);
pub static GET_SERVICE_PRINCIPAL_ENTITLEMENT: Endpoint =
    endpoint(&SERVICE_PRINCIPAL_ENTITLEMENT, Verb::Get, PRINCIPAL);
pub static UPDATE_SERVICE_PRINCIPAL_ENTITLEMENT: Endpoint =
    endpoint(&SERVICE_PRINCIPAL_ENTITLEMENT, Verb::Patch, PRINCIPAL);
pub static DELETE_SERVICE_PRINCIPAL_ENTITLEMENT: Endpoint =
    endpoint(&SERVICE_PRINCIPAL_ENTITLEMENT, Verb::Delete, PRINCIPAL);
pub static GET_USER_ENTITLEMENT_SUMMARY: Endpoint = endpoint(
    &USER_ENTITLEMENT_SUMMARY,
    Verb::Get,
    "/{org}/_apis/userentitlementsummary",
);
pub static GET_OPERATION: Endpoint = endpoint(
    &OPERATIONS_LOCATION,
    Verb::Get,
    "/{org}/_apis/operations/{operation_id}",
);
