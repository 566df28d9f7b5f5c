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
    pub text: String,
}

impl ApiVersion {
    pub fn parse(text: &str) -> Option<ApiVersion> {
        let text = text.trim();
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
                (number, true)
            }
            None => (text, false),
        };
        let (major, minor) = number.split_once('.').unwrap_or((number, "0"));
        Some(ApiVersion {
            major: major.parse().ok()?,
            minor: minor.parse().ok()?,
            preview,
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
}

impl VersionPolicy {
    pub const PREVIEW_ONLY: VersionPolicy = VersionPolicy { released: None };

    /// From a location's `releasedVersion` (`0.0`: preview-only).
    pub fn released_at(released_version: &str) -> VersionPolicy {
        let released = ApiVersion::parse(released_version)
            .map(|v| (v.major, v.minor))
            .filter(|&v| v != (0, 0));
        VersionPolicy { released }
    }
}

pub fn check(
    policy: VersionPolicy,
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
    Ok(version)
}

/// Middleware enforcing a [`VersionPolicy`] on a group of routes.
pub async fn enforce(
    State(policy): State<VersionPolicy>,
    request: Request,
    next: Next,
) -> Response {
    let requested = requested_version(request.uri().query(), request.headers());
    match check(policy, request.method().as_str(), requested) {
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
        assert_eq!(VersionPolicy::released_at("0.0").released, None);
        assert_eq!(VersionPolicy::released_at("7.1").released, Some((7, 1)));
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
