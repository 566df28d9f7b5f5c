//! Typed Azure DevOps errors. Every variant carries what a status condition needs to quote:
//! the operation, the HTTP status, Azure DevOps' `typeKey` and its message (never a token).

use crate::auth::AuthError;
use crate::reason::Reason;
use std::fmt;
use std::time::Duration;

/// Details of a failed call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiErrorDetail {
    /// Stable operation name (the metrics label), e.g. `graph.groups.create`.
    pub operation: &'static str,
    /// HTTP status, when a response arrived.
    pub status: Option<u16>,
    /// Azure DevOps' exception type, e.g. `GraphSubjectNotFoundException`.
    pub type_key: Option<String>,
    /// Human-readable message (Azure DevOps' own when it sent one).
    pub message: String,
}

impl fmt::Display for ApiErrorDetail {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.operation, self.message)?;
        match (self.status, &self.type_key) {
            (Some(status), Some(key)) => write!(f, " (HTTP {status}, {key})"),
            (Some(status), None) => write!(f, " (HTTP {status})"),
            (None, Some(key)) => write!(f, " ({key})"),
            (None, None) => Ok(()),
        }
    }
}

/// An Azure DevOps call that did not succeed.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AdoError {
    /// 404: the subject, group, project or resource does not exist.
    #[error("not found: {0}")]
    NotFound(ApiErrorDetail),
    /// 409: e.g. a group of that name already exists.
    #[error("conflict: {0}")]
    Conflict(ApiErrorDetail),
    /// 403: the identity lacks a permission.
    #[error("forbidden: {0}")]
    Forbidden(ApiErrorDetail),
    /// 401, or what Azure DevOps sends instead: 203 with a sign-in page, a redirect, or a
    /// non-JSON body. Raised after one token refresh did not help.
    #[error("unauthorized: {0}")]
    Unauthorized(ApiErrorDetail),
    /// 429 (or a Retry-After longer than the retry budget).
    #[error("throttled: {detail}")]
    Throttled {
        detail: ApiErrorDetail,
        retry_after: Option<Duration>,
    },
    /// 5xx or a network failure, still failing after the retry budget.
    #[error("Azure DevOps unavailable: {0}")]
    Transient(ApiErrorDetail),
    /// 400 and other 4xx: the request itself is wrong (bad name, bad id, bad version).
    #[error("invalid request: {0}")]
    InvalidInput(ApiErrorDetail),
    /// Materializing an Entra identity failed in a way that retrying will not fix: a 503 (with
    /// a JSON or a plain-text body) that a second attempt did not cure. Usually the identity may
    /// not read the directory.
    #[error("Entra ID lookup failed: {0}; the operator's identity probably may not read the directory (grant it the Entra role Directory Readers), or add the subject in Azure DevOps first")]
    EntraLookup(ApiErrorDetail),
    /// The resource exists but cannot be used as it is (a service endpoint that is not ready).
    #[error("not ready: {0}")]
    NotReady(ApiErrorDetail),
    /// A token could not be acquired.
    #[error("authentication failed: {0}")]
    Auth(#[from] AuthError),
    /// The response was JSON but not the expected shape.
    #[error("unexpected response: {0}")]
    Decode(ApiErrorDetail),
    /// Client-side configuration problem (e.g. an unreadable CA bundle or URL).
    #[error("invalid client configuration: {0}")]
    Config(String),
    /// The reconcile's time was up before this call was sent (see `tenant.rs`).
    #[error("{operation} was not sent: the reconcile used its {}s budget", budget.as_secs())]
    DeadlineExceeded {
        operation: &'static str,
        budget: Duration,
    },
    /// A write asked for while the reconcile only observes: not sent.
    #[error("{operation} was not sent: the object only observes (managementPolicy: Observe)")]
    ObserveOnly { operation: &'static str },
}

impl AdoError {
    /// PascalCase reason for status conditions, Events and metric labels.
    pub fn reason(&self) -> Reason {
        match self {
            AdoError::NotFound(_) => Reason::NotFound,
            AdoError::Conflict(_) => Reason::Conflict,
            AdoError::Forbidden(_) => Reason::Forbidden,
            AdoError::Unauthorized(d) if d.message.contains(NOT_IN_ORGANIZATION) => {
                Reason::IdentityNotInOrganization
            }
            AdoError::Unauthorized(_) => Reason::AuthenticationFailed,
            AdoError::Auth(err) => auth_reason(err),
            AdoError::NotReady(_) => Reason::ServiceEndpointNotReady,
            AdoError::Throttled { .. } => Reason::Throttled,
            AdoError::Transient(_) => Reason::AzureDevOpsUnavailable,
            AdoError::InvalidInput(_) => Reason::InvalidRequest,
            AdoError::EntraLookup(_) => Reason::EntraLookupFailed,
            AdoError::Decode(_) => Reason::UnexpectedResponse,
            AdoError::Config(_) => Reason::InvalidConfiguration,
            AdoError::DeadlineExceeded { .. } => Reason::DeadlineExceeded,
            AdoError::ObserveOnly { .. } => Reason::ObserveOnly,
        }
    }

    /// Whether the same call can succeed later without any change on our side.
    pub fn is_transient(&self) -> bool {
        match self {
            AdoError::Throttled { .. }
            | AdoError::Transient(_)
            | AdoError::DeadlineExceeded { .. } => true,
            AdoError::Auth(err) => err.is_transient(),
            _ => false,
        }
    }

    /// How long the server asked us to wait, when it did.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            AdoError::Throttled { retry_after, .. } => *retry_after,
            _ => None,
        }
    }

    pub fn detail(&self) -> Option<&ApiErrorDetail> {
        match self {
            AdoError::NotFound(d)
            | AdoError::Conflict(d)
            | AdoError::Forbidden(d)
            | AdoError::Unauthorized(d)
            | AdoError::Transient(d)
            | AdoError::InvalidInput(d)
            | AdoError::EntraLookup(d)
            | AdoError::NotReady(d)
            | AdoError::Decode(d) => Some(d),
            AdoError::Throttled { detail, .. } => Some(detail),
            AdoError::Auth(_)
            | AdoError::Config(_)
            | AdoError::DeadlineExceeded { .. }
            | AdoError::ObserveOnly { .. } => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        self.detail().and_then(|d| d.status)
    }

    pub fn type_key(&self) -> Option<&str> {
        self.detail().and_then(|d| d.type_key.as_deref())
    }

    pub fn is_not_found(&self) -> bool {
        matches!(self, AdoError::NotFound(_))
    }

    pub fn is_conflict(&self) -> bool {
        matches!(self, AdoError::Conflict(_))
    }
}

/// Azure DevOps' generic internal error: an outage, whatever the call.
const INTERNAL_ERROR: &str = "TF400898";

/// A service principal the organization does not know (never added to it).
pub(crate) const NOT_IN_ORGANIZATION: &str = "TF401444";

/// Errors Azure DevOps documents as passing: `TF401349` (an unexpected error, "try again") and
/// `VS800075` (the project is still being created). Retried like outages, whatever the status.
const RETRY_CODES: [&str; 2] = ["TF401349", "VS800075"];

/// The precise reason of a token that could not be acquired: Entra's codes for a federated
/// credential that matches no record (`AADSTS700213`, formerly `AADSTS70021`) and for federated
/// credentials disabled in the tenant (`AADSTS700223`).
fn auth_reason(err: &AuthError) -> Reason {
    let text = err.to_string();
    if text.contains("AADSTS700223") {
        Reason::FederationDisabled
    } else if text.contains("AADSTS700213") || text.contains("AADSTS70021:") {
        Reason::FederatedCredentialMismatch
    } else {
        Reason::AuthenticationFailed
    }
}

/// Azure DevOps' JSON error body.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase", default)]
struct ErrorBody {
    message: Option<String>,
    type_key: Option<String>,
}

/// What we know about a response that is not a success.
pub(crate) struct FailedResponse<'a> {
    pub operation: &'static str,
    pub status: u16,
    pub content_type: Option<&'a str>,
    pub body: &'a [u8],
    pub retry_after: Option<Duration>,
    /// The call materializes an Entra identity: a 503 is a directory-read failure.
    pub entra_lookup: bool,
}

/// Turn a non-success response into an error.
pub(crate) fn classify(response: &FailedResponse<'_>) -> AdoError {
    let parsed: Option<ErrorBody> = serde_json::from_slice(response.body).ok();
    let (type_key, server_message) = match parsed {
        Some(body) => (body.type_key, body.message),
        None => (
            None,
            plain_text_message(response.content_type, response.body),
        ),
    };
    let status = response.status;
    let message = server_message
        .map(|m| sanitize(&m))
        .filter(|m| !m.is_empty())
        .unwrap_or_else(|| default_message(status));
    let detail = ApiErrorDetail {
        operation: response.operation,
        status: Some(status),
        type_key,
        message,
    };
    if RETRY_CODES.iter().any(|code| detail.message.contains(code)) {
        return AdoError::Transient(detail);
    }
    match status {
        203 | 300..=399 | 401 => AdoError::Unauthorized(detail),
        400 => AdoError::InvalidInput(detail),
        403 => AdoError::Forbidden(detail),
        404 => AdoError::NotFound(detail),
        409 => AdoError::Conflict(detail),
        429 => AdoError::Throttled {
            detail,
            retry_after: response.retry_after,
        },
        // TF400898 ("An Internal Error Occurred") is a plain outage, on any call.
        503 if response.entra_lookup && !detail.message.contains(INTERNAL_ERROR) => {
            AdoError::EntraLookup(detail)
        }
        500..=599 => AdoError::Transient(detail),
        _ => AdoError::InvalidInput(detail),
    }
}

/// A successful status whose body is not JSON: Azure DevOps' sign-in page.
pub(crate) fn non_json_success(
    operation: &'static str,
    status: u16,
    content_type: Option<&str>,
) -> AdoError {
    AdoError::Unauthorized(ApiErrorDetail {
        operation,
        status: Some(status),
        type_key: None,
        message: format!(
            "the response was not JSON ({}); the token was probably not accepted",
            content_type.unwrap_or("no content type")
        ),
    })
}

fn plain_text_message(content_type: Option<&str>, body: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(body);
    let trimmed = text.trim();
    let looks_like_html =
        content_type.is_some_and(|c| c.contains("html")) || trimmed.starts_with('<');
    if trimmed.is_empty() || looks_like_html {
        None
    } else {
        // A JSON string literal ("...") is still a plain message.
        Some(trimmed.trim_matches('"').to_string())
    }
}

fn default_message(status: u16) -> String {
    match status {
        203 => "Azure DevOps answered with a sign-in page (203); the token was not accepted".into(),
        300..=399 => {
            format!("Azure DevOps redirected the request ({status}); the token was not accepted")
        }
        401 => "the token was not accepted (401)".into(),
        404 => "not found".into(),
        429 => "too many requests".into(),
        _ => format!("HTTP {status}"),
    }
}

/// One line, bounded length, quotable in a condition message.
pub(crate) fn sanitize(message: &str) -> String {
    crate::auth::one_line_message(message)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed<'a>(status: u16, content_type: Option<&'a str>, body: &'a str) -> FailedResponse<'a> {
        FailedResponse {
            operation: "test.op",
            status,
            content_type,
            body: body.as_bytes(),
            retry_after: None,
            entra_lookup: false,
        }
    }

    const NOT_FOUND: &str = r#"{"$id":"1","innerException":null,"message":"VS403325: The subject was not found.","typeName":"Microsoft.VisualStudio.Services.Graph.GraphSubjectNotFoundException","typeKey":"GraphSubjectNotFoundException","errorCode":0,"eventId":3000}"#;

    #[test]
    fn status_codes_map_to_error_classes() {
        let json = Some("application/json");
        assert!(matches!(
            classify(&failed(404, json, NOT_FOUND)),
            AdoError::NotFound(_)
        ));
        assert!(matches!(
            classify(&failed(409, json, "{}")),
            AdoError::Conflict(_)
        ));
        assert!(matches!(
            classify(&failed(403, json, "{}")),
            AdoError::Forbidden(_)
        ));
        assert!(matches!(
            classify(&failed(401, json, "{}")),
            AdoError::Unauthorized(_)
        ));
        assert!(matches!(
            classify(&failed(203, Some("text/html"), "<html>")),
            AdoError::Unauthorized(_)
        ));
        assert!(matches!(
            classify(&failed(302, None, "")),
            AdoError::Unauthorized(_)
        ));
        assert!(matches!(
            classify(&failed(429, json, "{}")),
            AdoError::Throttled { .. }
        ));
        assert!(matches!(
            classify(&failed(500, json, "{}")),
            AdoError::Transient(_)
        ));
        assert!(matches!(
            classify(&failed(503, None, "")),
            AdoError::Transient(_)
        ));
        assert!(matches!(
            classify(&failed(400, json, "{}")),
            AdoError::InvalidInput(_)
        ));
        assert!(matches!(
            classify(&failed(405, json, "{}")),
            AdoError::InvalidInput(_)
        ));
    }

    #[test]
    fn type_key_and_message_are_carried() {
        let err = classify(&failed(404, Some("application/json"), NOT_FOUND));
        assert_eq!(err.status(), Some(404));
        assert_eq!(err.type_key(), Some("GraphSubjectNotFoundException"));
        assert_eq!(
            err.detail().unwrap().message,
            "VS403325: The subject was not found."
        );
        assert_eq!(err.reason(), Reason::NotFound);
        assert!(!err.is_transient());
        let text = err.to_string();
        assert!(
            text.contains("GraphSubjectNotFoundException") && text.contains("HTTP 404"),
            "{text}"
        );
    }

    #[test]
    fn html_bodies_are_not_quoted() {
        let err = classify(&failed(
            203,
            Some("text/html; charset=utf-8"),
            "<html><body>Sign in</body></html>",
        ));
        let message = &err.detail().unwrap().message;
        assert!(!message.contains("<html"), "{message}");
        assert_eq!(err.reason(), Reason::AuthenticationFailed);
    }

    #[test]
    fn plain_503_is_permanent_only_for_entra_lookups() {
        let mut response = failed(
            503,
            Some("text/plain"),
            "\"The identity could not be resolved\"",
        );
        assert!(matches!(classify(&response), AdoError::Transient(_)));
        response.entra_lookup = true;
        let err = classify(&response);
        assert!(matches!(err, AdoError::EntraLookup(_)));
        assert!(!err.is_transient());
        assert_eq!(
            err.detail().unwrap().message,
            "The identity could not be resolved"
        );
        // A JSON 503 on the same call is the same failure (the transport tries it twice).
        let json = failed(
            503,
            Some("application/json"),
            r#"{"message":"VS860015: cannot read the directory","typeKey":"X"}"#,
        );
        let json = FailedResponse {
            entra_lookup: true,
            ..json
        };
        assert!(matches!(classify(&json), AdoError::EntraLookup(_)));
        // An internal error on the same call is an outage.
        let outage = FailedResponse {
            entra_lookup: true,
            ..failed(
                503,
                Some("application/json"),
                r#"{"message":"TF400898: An Internal Error Occurred.","typeKey":"VssServiceException"}"#,
            )
        };
        assert!(matches!(classify(&outage), AdoError::Transient(_)));
    }

    #[test]
    fn documented_passing_errors_are_transient_whatever_the_status() {
        let json = Some("application/json");
        let unexpected = classify(&failed(
            400,
            json,
            r#"{"message":"TF401349: An unexpected error has occurred, please verify your request and try again.","typeKey":"UnexpectedException"}"#,
        ));
        assert!(unexpected.is_transient(), "{unexpected:?}");
        let creating = classify(&failed(
            404,
            json,
            r#"{"message":"VS800075: The project with id 'x' does not exist, or you do not have permission to access it.","typeKey":"ProjectDoesNotExistException"}"#,
        ));
        assert!(creating.is_transient(), "{creating:?}");
    }

    #[test]
    fn precise_reasons_for_configuration_problems() {
        let not_in_org = classify(&failed(
            401,
            Some("application/json"),
            r#"{"message":"TF401444: Please sign-in at least once as 8d3c\\0b1c in a web browser to enable access to the service.","typeKey":"UnauthorizedRequestException"}"#,
        ));
        assert_eq!(not_in_org.reason(), Reason::IdentityNotInOrganization);
        let entra = |message: &str| {
            AdoError::Auth(AuthError::Entra {
                status: Some(400),
                message: message.to_string(),
                transient: false,
            })
        };
        assert_eq!(
            entra("AADSTS700213: No matching federated identity record found").reason(),
            Reason::FederatedCredentialMismatch
        );
        assert_eq!(
            entra("AADSTS70021: No matching federated identity record found").reason(),
            Reason::FederatedCredentialMismatch
        );
        assert_eq!(
            entra("AADSTS700223: federated identity credentials are disabled").reason(),
            Reason::FederationDisabled
        );
        assert_eq!(
            entra("AADSTS7000215: Invalid client secret").reason(),
            Reason::AuthenticationFailed
        );
    }

    #[test]
    fn reasons_and_transience() {
        let throttled = AdoError::Throttled {
            detail: ApiErrorDetail {
                operation: "x",
                status: Some(429),
                type_key: None,
                message: "m".into(),
            },
            retry_after: Some(Duration::from_secs(3)),
        };
        assert_eq!(throttled.reason(), Reason::Throttled);
        assert!(throttled.is_transient());
        assert_eq!(throttled.retry_after(), Some(Duration::from_secs(3)));
        let transient = classify(&failed(502, None, ""));
        assert_eq!(transient.reason(), Reason::AzureDevOpsUnavailable);
        assert!(transient.is_transient());
        assert_eq!(
            classify(&failed(400, None, "")).reason(),
            Reason::InvalidRequest
        );
        assert_eq!(classify(&failed(403, None, "")).reason(), Reason::Forbidden);
        let auth = AdoError::Auth(AuthError::Config("x".into()));
        assert_eq!(auth.reason(), Reason::AuthenticationFailed);
        assert!(!auth.is_transient());
    }
}
