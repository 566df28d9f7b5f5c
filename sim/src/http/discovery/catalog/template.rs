//! Route templates as the SDKs read them, and whether a router path is one of their expansions.

use super::Location;

pub(super) fn is_parameter(segment: &str) -> bool {
    segment.len() > 2 && segment.starts_with('{') && segment.ends_with('}')
}

/// The template's segments with `{area}` and `{resource}` filled in and the fixed words
/// lowercased, as a router path would spell them.
pub fn template_segments(location: &Location) -> Vec<String> {
    location
        .route_template
        .split('/')
        .filter(|s| !s.is_empty())
        .map(|segment| match segment {
            "{area}" => location.area.name.to_ascii_lowercase(),
            "{resource}" => location.resource_name.to_ascii_lowercase(),
            other if is_parameter(other) => other.to_string(),
            other => other.to_ascii_lowercase(),
        })
        .collect()
}

/// Whether a router path is what a client builds from the location's template: the same
/// fixed words in order, each parameter either kept (any name) or dropped, as the SDKs drop
/// parameters they have no value for.
pub fn path_matches_template(relative_path: &str, location: &Location) -> bool {
    let template = template_segments(location);
    let mut path = relative_path
        .split('/')
        .filter(|s| !s.is_empty())
        .peekable();
    for segment in &template {
        if is_parameter(segment) {
            if path.peek().is_some_and(|p| is_parameter(p)) {
                path.next();
            }
        } else if path.next() != Some(segment.as_str()) {
            return false;
        }
    }
    path.next().is_none()
}

#[cfg(test)]
mod tests {
    use super::super::*;

    #[test]
    fn every_endpoint_is_an_expansion_of_its_template() {
        for endpoint in ENDPOINTS {
            assert!(
                path_matches_template(endpoint.relative_path(), endpoint.location),
                "{:?} {} does not match {}",
                endpoint.verb,
                endpoint.path,
                endpoint.location.route_template
            );
        }
    }

    #[test]
    fn template_matching_rejects_other_routes() {
        assert!(path_matches_template("_apis/graph/groups", &GRAPH_GROUPS));
        assert!(path_matches_template(
            "_apis/graph/groups/{d}",
            &GRAPH_GROUPS
        ));
        assert!(!path_matches_template(
            "_apis/graph/users/{d}",
            &GRAPH_GROUPS
        ));
        assert!(!path_matches_template(
            "_apis/graph/groups/{d}/x",
            &GRAPH_GROUPS
        ));
        assert!(path_matches_template(
            "{project}/_apis/build/definitions",
            &BUILD_DEFINITIONS
        ));
        assert!(path_matches_template(
            "_apis/graph/memberships/{subject}",
            &GRAPH_MEMBERSHIPS_BATCH
        ));
    }
}
