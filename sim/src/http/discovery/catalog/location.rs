//! The location service itself: resource areas, served by every host, at organization and
//! at deployment level (no organization in the path; `?organizationName=` or `?accountName=`
//! then picks the organization).

use super::{Area, Endpoint, Location, Verb, PREVIEW_ONLY};

pub static LOCATION: Area = Area {
    id: None,
    name: "Location",
    host: None,
};

pub static RESOURCE_AREAS: Location = Location {
    id: "e81700f7-3be2-46de-8624-2eb35882fcaa",
    area: &LOCATION,
    resource_name: "ResourceAreas",
    route_template: "_apis/{resource}/{areaId}",
    resource_version: 1,
    min_version: "3.2",
    released_version: PREVIEW_ONLY,
};

pub static LIST_RESOURCE_AREAS: Endpoint = Endpoint {
    location: &RESOURCE_AREAS,
    verb: Verb::Get,
    path: "/{org}/_apis/resourceareas",
};
pub static GET_RESOURCE_AREA: Endpoint = Endpoint {
    location: &RESOURCE_AREAS,
    verb: Verb::Get,
    path: "/{org}/_apis/resourceareas/{area_id}",
};
pub static LIST_DEPLOYMENT_RESOURCE_AREAS: Endpoint = Endpoint {
    location: &RESOURCE_AREAS,
    verb: Verb::Get,
    path: "/_apis/resourceareas",
};
pub static GET_DEPLOYMENT_RESOURCE_AREA: Endpoint = Endpoint {
    location: &RESOURCE_AREAS,
    verb: Verb::Get,
    path: "/_apis/resourceareas/{area_id}",
};
