//! Authentication of Azure DevOps requests (Bearer access token or Basic PAT) and the
//! per-identity authorization checks handlers use.

use axum::extract::{Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use uuid::Uuid;

use super::app::SharedApp;
use super::error::ApiError;
use crate::model::permissions::Actor;
use crate::model::subjects::GroupScope;
use crate::model::Organization;
use crate::options::{DirectoryReadErrorBody, ExpiredToken, UnknownIdentity};
use crate::seed::{AccessSeed, ProjectAccess};

/// The authenticated identity behind a request, with its access to the organization in the URL.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub display_name: String,
    pub client_id: Uuid,
    pub object_id: Uuid,
    pub access: AccessSeed,
    pub directory_read: bool,
}

/// Put in response extensions so the request log knows who called.
#[derive(Debug, Clone)]
pub struct CallerName(pub String);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Need {
    Read,
    Write,
}

impl Caller {
    fn deny(&self, resource: &str, permission: &str) -> ApiError {
        ApiError::access_denied(&self.display_name, resource, permission)
    }

    fn check_write(&self, need: Need, resource: &str, permission: &str) -> Result<(), ApiError> {
        if need == Need::Write && self.access.read_only {
            return Err(self.deny(resource, permission));
        }
        Ok(())
    }

    /// Access to a project's resources.
    pub fn require_project(
        &self,
        project: &str,
        need: Need,
        permission: &str,
    ) -> Result<(), ApiError> {
        let resource = format!("project {project}");
        if !self.access.projects.allows(project) {
            return Err(self.deny(&resource, permission));
        }
        self.check_write(need, &resource, permission)
    }

    /// Access to identities in a scope (organization or project).
    pub fn require_scope(
        &self,
        org: &Organization,
        scope: GroupScope,
        need: Need,
    ) -> Result<(), ApiError> {
        let permission = match need {
            Need::Read => "Read",
            Need::Write => "Manage membership",
        };
        match scope {
            GroupScope::Organization => {
                let resource = format!("Identity {}", org.scope_descriptor);
                if need == Need::Write && self.access.projects != ProjectAccess::All {
                    return Err(self.deny(&resource, permission));
                }
                self.check_write(need, &resource, permission)
            }
            GroupScope::Project(id) => {
                let name = org.project_name(id).unwrap_or_default();
                let resource = format!("Identity {}", crate::ids::scope_descriptor(id));
                if !self.access.projects.allows(name) {
                    return Err(self.deny(&resource, permission));
                }
                self.check_write(need, &resource, permission)
            }
        }
    }

    /// Materializing Entra subjects needs to read the directory; Graph answers 503 when the
    /// identity may not (and retrying does not help): with a JSON error body, or with the
    /// message as a bare JSON string (`directoryReadErrorBody: string`).
    pub fn require_directory_read(&self, body: DirectoryReadErrorBody) -> Result<(), ApiError> {
        if self.directory_read {
            return Ok(());
        }
        let mut error = ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "IdentityServiceException",
            "VS860015: The identity could not be resolved in Azure Active Directory: the caller is not allowed to read the directory.",
        );
        if body == DirectoryReadErrorBody::String {
            error.body = super::error::ErrorBody::JsonString;
        }
        Err(error)
    }

    /// The IdentityRef recorded as `authorizedBy`.
    pub fn actor(&self, org: &Organization) -> Actor {
        let subject = org
            .subject_by_origin_id(&self.object_id.to_string())
            .cloned();
        Actor {
            display_name: self.display_name.clone(),
            id: subject
                .as_ref()
                .map(|s| s.storage_key.to_string())
                .unwrap_or_else(|| self.object_id.to_string()),
            unique_name: self.client_id.to_string(),
            descriptor: subject.map(|s| s.descriptor).unwrap_or_default(),
        }
    }
}

enum Credential {
    Bearer(String),
    Pat(String),
}

fn credential(headers: &HeaderMap) -> Option<Credential> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?.trim();
    let (scheme, rest) = value.split_once(' ')?;
    if scheme.eq_ignore_ascii_case("bearer") {
        return Some(Credential::Bearer(rest.trim().to_string()));
    }
    if scheme.eq_ignore_ascii_case("basic") {
        let decoded = STANDARD.decode(rest.trim()).ok()?;
        let text = String::from_utf8(decoded).ok()?;
        let (_, pat) = text.split_once(':')?;
        return Some(Credential::Pat(pat.to_string()));
    }
    None
}

fn wants_suppressed_redirect(headers: &HeaderMap) -> bool {
    headers
        .get("x-tfs-fedauthredirect")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("suppress"))
}

const SIGN_IN_PAGE: &str = r#"<!DOCTYPE html>
<html lang="en-US">
<head><title>Azure DevOps Services | Sign In</title><meta http-equiv="X-UA-Compatible" content="IE=11;&#32;IE=10;&#32;IE=9;&#32;IE=8" /></head>
<body>
<div class="signin-container"><h1>Azure DevOps Services</h1>
<p>Sign in to access your organization.</p>
<a href="https://app.vssps.visualstudio.com/_signin">Sign in</a></div>
</body>
</html>
"#;

/// What an unauthenticated request gets: a 203 sign-in page, or, when redirects are suppressed,
/// a 401 with the authentication challenge and no body (no wrapped exception: the official
/// SDKs turn exactly that into their authentication error).
fn unauthenticated(app: &SharedApp, headers: &HeaderMap) -> Response {
    let challenge = format!(
        "Bearer authorization_uri={}/{}, Basic realm=\"{}/\", TFS-Federated",
        app.urls.login, app.seed.tenant.id, app.urls.dev
    );
    if wants_suppressed_redirect(headers) {
        return ApiError::bare(StatusCode::UNAUTHORIZED)
            .with_header(header::WWW_AUTHENTICATE, challenge)
            .into_response();
    }
    let mut response = (StatusCode::NON_AUTHORITATIVE_INFORMATION, SIGN_IN_PAGE).into_response();
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    response
}

/// An expired access token: reads still get the sign-in page (203, whatever
/// `X-TFS-FedAuthRedirect` says), writes a 401 `TF400813`.
fn expired(method: &axum::http::Method) -> Response {
    use axum::http::Method;
    if [Method::GET, Method::HEAD, Method::POST, Method::OPTIONS].contains(method) {
        let mut response =
            (StatusCode::NON_AUTHORITATIVE_INFORMATION, SIGN_IN_PAGE).into_response();
        response.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/html; charset=utf-8"),
        );
        return response;
    }
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "UnauthorizedRequestException",
        "TF400813: The user '' is not authorized to access this resource.",
    )
    .into_response()
}

/// Deployment-level routes (`/_apis/...`) name no organization.
const DEPLOYMENT_LEVEL: &str = "_apis";

/// The organization is the first path segment on the dev and vssps hosts.
fn organization_in(path: &str) -> Option<&str> {
    path.trim_start_matches('/')
        .split('/')
        .next()
        .filter(|s| !s.is_empty())
}

pub async fn authenticate(
    State(app): State<SharedApp>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers().clone();
    let Some(org_name) = organization_in(request.uri().path()).map(str::to_string) else {
        return ApiError::route_not_found(request.uri().path()).into_response();
    };
    let behaviours = app.behaviours();
    if let Some(Credential::Bearer(token)) = credential(&headers) {
        if behaviours.expired_token == ExpiredToken::SignInPageOnReads
            && app.tokens.is_expired(&token)
        {
            return expired(request.method());
        }
    }
    let bearer = matches!(credential(&headers), Some(Credential::Bearer(_)));
    let identity = {
        let state = app.state();
        let found = match credential(&headers) {
            Some(Credential::Bearer(token)) => app
                .tokens
                .verify(&token)
                .ok()
                .and_then(|claims| state.identity_by_client_id(&claims.appid).cloned()),
            Some(Credential::Pat(pat)) => state
                .identities
                .iter()
                .find(|i| i.pats.contains(&pat))
                .cloned(),
            None => None,
        };
        if found.is_some()
            && org_name != DEPLOYMENT_LEVEL
            && state.organization(&org_name).is_none()
        {
            return ApiError::organization_not_found(&org_name).into_response();
        }
        found
    };
    let Some(identity) = identity else {
        return unauthenticated(&app, &headers);
    };
    if org_name == DEPLOYMENT_LEVEL {
        // Any valid identity may ask the deployment about itself.
        let mut response = next.run(request).await;
        response.extensions_mut().insert(CallerName(identity.name));
        return response;
    }
    let Some(access) = identity.access_to(&org_name).cloned() else {
        let error = if bearer && behaviours.unknown_identity == UnknownIdentity::Tf401444 {
            ApiError::new(
                StatusCode::UNAUTHORIZED,
                "UnauthorizedRequestException",
                format!(
                    "TF401444: Please sign-in at least once as {}\\{} in a web browser to enable access to the service.",
                    app.seed.tenant.id, identity.client_id
                ),
            )
        } else {
            ApiError::unauthorized(&identity.client_id.to_string())
        };
        let mut response = error.into_response();
        response
            .extensions_mut()
            .insert(CallerName(identity.name.clone()));
        return response;
    };
    let caller = Caller {
        name: identity.name.clone(),
        display_name: identity.display_name.clone(),
        client_id: identity.client_id,
        object_id: identity.object_id,
        access,
        directory_read: identity.directory_read,
    };
    request.extensions_mut().insert(caller);
    let mut response = next.run(request).await;
    response.extensions_mut().insert(CallerName(identity.name));
    response
}
