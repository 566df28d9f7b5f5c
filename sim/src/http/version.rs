//! `api-version` handling: from the query or the `Accept` header, preview rules and range.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::error::ApiError;
use super::params::Params;

/// The newest version this simulator (like Azure DevOps Services today) serves.
pub const MAX_MAJOR: u32 = 7;
pub const MAX_MINOR: u32 = 2;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiVersion {
    pub major: u32,
    pub minor: u32,
    pub preview: bool,
    /// `N` of `-preview.N` (`None` for a bare `-preview`).
    pub preview_number: Option<u32>,
    pub text: String,
}

impl ApiVersion {
    pub fn parse(text: &str) -> Option<ApiVersion> {
        let text = text.trim();
        let mut preview_number = None;
        let (number, preview) = match text.split_once('-') {
            Some((number, suffix)) => {
                let suffix = suffix.to_ascii_lowercase();
                let rest = suffix.strip_prefix("preview")?;
                if !(rest.is_empty()
                    || rest
                        .strip_prefix('.')
                        .is_some_and(|r| r.parse::<u32>().is_ok()))
                {
                    return None;
                }
                preview_number = rest.strip_prefix('.').and_then(|r| r.parse().ok());
                (number, true)
            }
            None => (text, false),
        };
        let (major, minor) = number.split_once('.').unwrap_or((number, "0"));
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
            preview,
            preview_number,
            text: text.to_string(),
        })
    }

    fn number(&self) -> String {
        format!("{}.{}", self.major, self.minor)
    }
}

/// Reads the requested version: `?api-version=` first, then `Accept: ...;api-version=`.
pub fn requested_version(query: Option<&str>, headers: &HeaderMap) -> Option<String> {
    if let Some(v) = Params::parse(query).get("api-version") {
        return Some(v.to_string());
    }
    headers
        .get_all(header::ACCEPT)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([';', ',']))
        .filter_map(|part| {
            let (key, value) = part.split_once('=')?;
            key.trim()
                .eq_ignore_ascii_case("api-version")
                .then(|| value.trim().trim_matches('"').to_string())
        })
        .next()
}

/// What a resource demands of the version.
#[derive(Debug, Clone, Copy)]
pub struct VersionPolicy {
    /// The newest version served without the `-preview` flag (`None`: preview-only). Newer
    /// versions, up to the maximum, need the flag.
    pub released: Option<(u32, u32)>,
    /// The resource's version: `-preview.N` above it is out of range.
    pub resource_version: u32,
}

impl VersionPolicy {
    pub const PREVIEW_ONLY: VersionPolicy = VersionPolicy {
        released: None,
        resource_version: 1,
    };

    /// From a location's `releasedVersion` (`0.0`: preview-only) and resource version.
    pub fn released_at(released_version: &str, resource_version: u32) -> VersionPolicy {
        let released = ApiVersion::parse(released_version)
            .map(|v| (v.major, v.minor))
            .filter(|&v| v != (0, 0));
        VersionPolicy {
            released,
            resource_version,
        }
    }
}

/// Version rules that are behaviour switches rather than facts of a resource.
#[derive(Debug, Clone, Copy, Default)]
pub struct VersionSwitches {
    /// Refuse `-preview` on a version the resource has released (as the service may do 12 weeks
    /// after a release).
    pub refuse_released_preview: bool,
}

pub fn check(
    policy: VersionPolicy,
    method: &str,
    requested: Option<String>,
) -> Result<ApiVersion, ApiError> {
    check_with(policy, VersionSwitches::default(), method, requested)
}

pub fn check_with(
    policy: VersionPolicy,
    switches: VersionSwitches,
    method: &str,
    requested: Option<String>,
) -> Result<ApiVersion, ApiError> {
    let Some(text) = requested else {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "VssVersionNotSpecifiedException",
            format!(
                "No api-version was supplied for the \"{method}\" request. The version must be supplied either as part of the Accept header (e.g. \"application/json; api-version=1.0\") or as a query parameter (e.g. \"?api-version=1.0\")."
            ),
        ));
    };
    let version = ApiVersion::parse(&text).ok_or_else(|| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "VssInvalidApiVersionException",
            format!("The specified API version '{text}' is not in a valid format."),
        )
    })?;
    if (version.major, version.minor) > (MAX_MAJOR, MAX_MINOR) {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "VssVersionOutOfRangeException",
            format!(
                "The requested REST API version of {} is out of range for this server. The latest REST API version this server supports is {MAX_MAJOR}.{MAX_MINOR}.",
                version.number()
            ),
        ));
    }
    let released = policy
        .released
        .is_some_and(|r| (version.major, version.minor) <= r);
    if !version.preview && !released {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "VssInvalidPreviewVersionException",
            format!(
                "The requested version \"{}\" of the resource is under preview. The -preview flag must be supplied in the api-version for such requests. For example: \"{}-preview\"",
                version.text,
                version.number()
            ),
        ));
    }
    if version
        .preview_number
        .is_some_and(|n| n > policy.resource_version)
    {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "VssVersionOutOfRangeException",
            format!(
                "The requested version \"{}\" of the resource is out of range: the resource's version is {}. The latest version this resource supports is \"{}-preview.{}\".",
                version.text,
                policy.resource_version,
                version.number(),
                policy.resource_version
            ),
        ));
    }
    if version.preview && released && switches.refuse_released_preview {
        return Err(ApiError::new(
            StatusCode::BAD_REQUEST,
            "VssInvalidPreviewVersionException",
            format!(
                "The requested version \"{}\" is a preview of a released version of the resource; previews of released versions are no longer served. Use \"{}\".",
                version.text,
                version.number()
            ),
        ));
    }
    Ok(version)
}

/// Middleware enforcing a [`VersionPolicy`] on a group of routes.
pub async fn enforce(
    State(policy): State<VersionPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let requested = requested_version(request.uri().query(), request.headers());
    let switches = request
        .extensions()
        .get::<VersionSwitches>()
        .copied()
        .unwrap_or_default();
    match check_with(policy, switches, request.method().as_str(), requested) {
        Ok(_) => next.run(request).await,
        Err(error) => error.into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const GRAPH: VersionPolicy = VersionPolicy::PREVIEW_ONLY;
    const CORE: VersionPolicy = VersionPolicy {
        released: Some((7, 1)),
        resource_version: 4,
    };

    #[test]
    fn parses_versions() {
        let v = ApiVersion::parse("7.1-preview.1").unwrap();
        assert_eq!((v.major, v.minor, v.preview), (7, 1, true));
        assert!(ApiVersion::parse("7.1-preview").unwrap().preview);
        assert!(!ApiVersion::parse("6.0").unwrap().preview);
        assert!(ApiVersion::parse("seven").is_none());
        assert!(ApiVersion::parse("7.1-beta").is_none());
    }

    #[test]
    fn preview_rules() {
        assert!(check(GRAPH, "GET", Some("7.1-preview.1".into())).is_ok());
        assert!(check(GRAPH, "GET", Some("7.2-preview.1".into())).is_ok());
        let err = check(GRAPH, "GET", Some("7.1".into())).unwrap_err();
        assert_eq!(err.type_key, "VssInvalidPreviewVersionException");
        assert!(check(CORE, "GET", Some("7.1".into())).is_ok());
        assert!(check(CORE, "GET", Some("6.0".into())).is_ok());
        // Past the released version, only previews.
        assert_eq!(
            check(CORE, "GET", Some("7.2".into())).unwrap_err().type_key,
            "VssInvalidPreviewVersionException"
        );
        assert!(check(CORE, "GET", Some("7.2-preview".into())).is_ok());
        assert_eq!(
            check(CORE, "GET", Some("8.0".into())).unwrap_err().type_key,
            "VssVersionOutOfRangeException"
        );
        assert_eq!(
            check(CORE, "GET", None).unwrap_err().type_key,
            "VssVersionNotSpecifiedException"
        );
    }

    #[test]
    fn policies_from_released_versions() {
        assert_eq!(VersionPolicy::released_at("0.0", 1).released, None);
        assert_eq!(VersionPolicy::released_at("7.1", 2).released, Some((7, 1)));
    }

    #[test]
    fn preview_numbers_are_checked_against_the_resource_version() {
        assert_eq!(
            ApiVersion::parse("7.1-preview.4").unwrap().preview_number,
            Some(4)
        );
        assert!(check(CORE, "GET", Some("7.1-preview.4".into())).is_ok());
        assert!(check(CORE, "GET", Some("7.1-preview".into())).is_ok());
        assert_eq!(
            check(CORE, "GET", Some("7.1-preview.5".into()))
                .unwrap_err()
                .type_key,
            "VssVersionOutOfRangeException"
        );
        assert_eq!(
            check(GRAPH, "GET", Some("7.1-preview.2".into()))
                .unwrap_err()
                .type_key,
            "VssVersionOutOfRangeException"
        );
    }

    #[test]
    fn previews_of_released_versions_can_be_refused() {
        let refuse = VersionSwitches {
            refuse_released_preview: true,
        };
        let err = check_with(CORE, refuse, "GET", Some("7.1-preview.1".into())).unwrap_err();
        assert_eq!(err.type_key, "VssInvalidPreviewVersionException");
        assert!(check_with(CORE, refuse, "GET", Some("7.1".into())).is_ok());
        // A preview beyond the released version is still a preview.
        assert!(check_with(CORE, refuse, "GET", Some("7.2-preview.1".into())).is_ok());
        // Preview-only resources are unaffected.
        assert!(check_with(GRAPH, refuse, "GET", Some("7.1-preview.1".into())).is_ok());
    }

    #[test]
    fn version_from_accept_header() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::ACCEPT,
            "application/json;api-version=7.1-preview.1"
                .parse()
                .unwrap(),
        );
        assert_eq!(
            requested_version(None, &headers).as_deref(),
            Some("7.1-preview.1")
        );
        assert_eq!(
            requested_version(Some("api-version=7.0"), &headers).as_deref(),
            Some("7.0")
        );
    }
}
