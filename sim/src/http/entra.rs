//! The login host: the Entra v2 token endpoint (client secret or client assertion), its
//! discovery documents, and a managed identity endpoint in App Service style
//! (`IDENTITY_ENDPOINT` + `IDENTITY_HEADER`, as azure_identity's `ManagedIdentityCredential`
//! uses) plus an IMDS style path.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::Utc;
use serde_json::json;

use super::app::SharedApp;
use super::params::Params;
use super::respond::json as json_response;
use crate::auth::assertion::verify_assertion;
use crate::auth::tokens::ClientAuth;
use crate::auth::{EntraError, AZURE_DEVOPS_RESOURCE};
use crate::model::Identity;
use crate::options::FederatedMismatchCode;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

pub fn routes() -> Router<SharedApp> {
    Router::new()
        .route("/{tenant}/oauth2/v2.0/token", post(token))
        .route(
            "/{tenant}/v2.0/.well-known/openid-configuration",
            get(openid_configuration),
        )
        .route("/{tenant}/discovery/v2.0/keys", get(keys))
        .route("/msi/token", get(managed_identity_app_service))
        .route(
            "/metadata/identity/oauth2/token",
            get(managed_identity_imds),
        )
}

fn error_response(app: &SharedApp, error: &EntraError) -> Response {
    let now = Utc::now();
    let trace = uuid::Uuid::new_v4();
    let correlation = uuid::Uuid::new_v4();
    let timestamp = now.format("%Y-%m-%d %H:%M:%SZ").to_string();
    let separator = if app.behaviours().entra_error_line_breaks {
        "\r\n"
    } else {
        " "
    };
    let description = format!(
        "AADSTS{}: {}{separator}Trace ID: {trace}{separator}Correlation ID: {correlation}{separator}Timestamp: {timestamp}",
        error.code, error.description
    );
    json_response(
        error.status,
        json!({
            "error": error.error,
            "error_description": description,
            "error_codes": [error.code],
            "timestamp": timestamp,
            "trace_id": trace,
            "correlation_id": correlation,
            "error_uri": format!("{}/error?code={}", app.urls.login, error.code),
        }),
    )
}

fn outage() -> EntraError {
    EntraError::new(
        StatusCode::SERVICE_UNAVAILABLE,
        "temporarily_unavailable",
        90033,
        "A transient error has occurred. Please try again.",
    )
}

fn tenant_matches(app: &SharedApp, tenant: &str) -> bool {
    let state = app.state();
    tenant.eq_ignore_ascii_case(&state.tenant_id.to_string())
        || tenant.eq_ignore_ascii_case(&state.tenant_domain)
}

fn check_scope(app: &SharedApp, scope: &str) -> Result<(), EntraError> {
    let scope = scope.trim();
    let Some(resource) = scope.strip_suffix("/.default") else {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            1002012,
            format!("The provided value for scope {scope} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI)."),
        ));
    };
    if resource != AZURE_DEVOPS_RESOURCE {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            500011,
            format!(
                "The resource principal named {resource} was not found in the tenant named {}. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You might have sent your authentication request to the wrong tenant.",
                app.state().tenant_domain
            ),
        ));
    }
    Ok(())
}

fn required<'a>(params: &'a Params, name: &str) -> Result<&'a str, EntraError> {
    params.get(name).ok_or_else(|| {
        EntraError::invalid_request(
            900144,
            format!("The request body must contain the following parameter: '{name}'."),
        )
    })
}

async fn authenticate_client(
    app: &SharedApp,
    tenant: &str,
    form: &Params,
) -> Result<(Identity, ClientAuth), EntraError> {
    if app.faults().token_outage {
        return Err(outage());
    }
    if !tenant_matches(app, tenant) {
        return Err(EntraError::invalid_request(
            90002,
            format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud. Check with your subscription administrator, this may happen if there are no active subscriptions for the tenant."),
        ));
    }
    let grant_type = required(form, "grant_type")?;
    if grant_type != "client_credentials" {
        return Err(EntraError::new(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            70003,
            format!("The app requested an unsupported grant type '{grant_type}'."),
        ));
    }
    let client_id = required(form, "client_id")?;
    let scope = required(form, "scope")?;
    let registered = app.state().identity_by_client_id(client_id).cloned();
    let identity = registered
        .filter(|i| tenant_matches(app, &i.tenant_id.to_string()) && !i.managed_identity)
        .ok_or_else(|| {
            EntraError::new(
                StatusCode::BAD_REQUEST,
                "unauthorized_client",
                700016,
                format!("Application with identifier '{client_id}' was not found in the directory '{tenant}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant."),
            )
        })?;
    check_scope(app, scope)?;
    if let Some(secret) = form.get("client_secret") {
        return match &identity.client_secret {
            Some(expected) if expected == secret => Ok((identity, ClientAuth::Secret)),
            _ => Err(EntraError::invalid_client(
                7000215,
                format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
            )),
        };
    }
    if let Some(assertion) = form.get("client_assertion") {
        let assertion_type = form.get("client_assertion_type").unwrap_or_default();
        if assertion_type != JWT_BEARER {
            return Err(EntraError::invalid_request(
                7000219,
                "'client_assertion_type' must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'.",
            ));
        }
        let behaviours = app.behaviours();
        if behaviours.federation_disabled {
            return Err(EntraError::invalid_request(
                700223,
                "The client application is not allowed to use federated identity credentials: federated identity credentials are disabled for this tenant or application.",
            ));
        }
        verify_assertion(&identity, assertion, &app.issuers)
            .await
            .map_err(|error| match behaviours.federated_mismatch_code {
                FederatedMismatchCode::Aadsts700213 => error.with_code(70021, 700213),
                FederatedMismatchCode::Aadsts70021 => error,
            })?;
        return Ok((identity, ClientAuth::Assertion));
    }
    Err(EntraError::invalid_client(
        7000218,
        "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
    ))
}

pub async fn token(
    State(app): State<SharedApp>,
    Path(tenant): Path<String>,
    body: Bytes,
) -> Response {
    let form = Params::parse(std::str::from_utf8(&body).ok());
    let (identity, auth) = match authenticate_client(&app, &tenant, &form).await {
        Ok(found) => found,
        Err(error) => return error_response(&app, &error),
    };
    let lifetime = app.access_token_lifetime;
    match app.tokens.issue(&identity, auth, lifetime) {
        Ok(token) => json_response(
            StatusCode::OK,
            json!({
                "token_type": "Bearer",
                "expires_in": lifetime.as_secs(),
                "ext_expires_in": lifetime.as_secs(),
                "access_token": token,
            }),
        ),
        Err(e) => {
            tracing::error!(error = %e, "signing an access token failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}

pub async fn openid_configuration(
    State(app): State<SharedApp>,
    Path(tenant): Path<String>,
) -> Response {
    let base = format!("{}/{tenant}", app.urls.login);
    json_response(
        StatusCode::OK,
        json!({
            "token_endpoint": format!("{base}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["ES256"],
            "issuer": format!("{base}/v2.0"),
            "tenant_region_scope": "EU",
        }),
    )
}

pub async fn keys(State(app): State<SharedApp>) -> Response {
    json_response(StatusCode::OK, app.tokens.jwks())
}

/// Picks the managed identity a request names (`client_id`, `object_id`/`principal_id`), or the
/// only/first managed identity (system assigned) when it names none.
fn managed_identity(app: &SharedApp, params: &Params) -> Option<Identity> {
    let state = app.state();
    let candidates = state.identities.iter().filter(|i| i.managed_identity);
    if let Some(client_id) = params.get("client_id") {
        return candidates
            .into_iter()
            .find(|i| i.client_id.to_string().eq_ignore_ascii_case(client_id))
            .cloned();
    }
    if let Some(object_id) = params.get("object_id").or(params.get("principal_id")) {
        return candidates
            .into_iter()
            .find(|i| i.object_id.to_string().eq_ignore_ascii_case(object_id))
            .cloned();
    }
    if params.get("msi_res_id").is_some() || params.get("mi_res_id").is_some() {
        return None;
    }
    candidates.into_iter().next().cloned()
}

fn msi_error(status: StatusCode, error: &str, description: &str) -> Response {
    json_response(
        status,
        json!({ "error": error, "error_description": description }),
    )
}

fn managed_identity_token(app: &SharedApp, params: &Params, imds: bool) -> Response {
    if app.faults().token_outage {
        return msi_error(
            StatusCode::SERVICE_UNAVAILABLE,
            "temporarily_unavailable",
            "The managed identity endpoint is temporarily unavailable.",
        );
    }
    let Some(resource) = params.get("resource") else {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required query variable 'resource' is missing",
        );
    };
    let resource = resource.trim_end_matches("/.default").trim_end_matches('/');
    if resource != AZURE_DEVOPS_RESOURCE {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "invalid_resource",
            "AADSTS500011: The resource principal was not found in the tenant.",
        );
    }
    let Some(identity) = managed_identity(app, params) else {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Identity not found",
        );
    };
    let lifetime = app.access_token_lifetime;
    let token = match app
        .tokens
        .issue(&identity, ClientAuth::ManagedIdentity, lifetime)
    {
        Ok(token) => token,
        Err(e) => {
            tracing::error!(error = %e, "signing an access token failed");
            return StatusCode::INTERNAL_SERVER_ERROR.into_response();
        }
    };
    let now = Utc::now().timestamp();
    let expires_on = (now + lifetime.as_secs() as i64).to_string();
    let mut body = json!({
        "access_token": token,
        "expires_on": expires_on,
        "resource": resource,
        "token_type": "Bearer",
        "client_id": identity.client_id,
    });
    if imds {
        body["expires_in"] = json!(lifetime.as_secs().to_string());
        body["ext_expires_in"] = json!(lifetime.as_secs().to_string());
        body["not_before"] = json!(now.to_string());
    }
    json_response(StatusCode::OK, body)
}

/// `GET /msi/token?api-version=2019-08-01&resource=...[&client_id=...]` with `X-IDENTITY-HEADER`.
pub async fn managed_identity_app_service(
    State(app): State<SharedApp>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let secret = headers
        .get("x-identity-header")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if secret != app.managed_identity_secret {
        return msi_error(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "The X-IDENTITY-HEADER header is missing or wrong.",
        );
    }
    managed_identity_token(&app, &params, false)
}

/// `GET /metadata/identity/oauth2/token?api-version=2018-02-01&resource=...` with `Metadata: true`.
pub async fn managed_identity_imds(
    State(app): State<SharedApp>,
    headers: HeaderMap,
    params: Params,
) -> Response {
    let metadata = headers
        .get("metadata")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("true"));
    if !metadata {
        return msi_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "Required metadata header not specified",
        );
    }
    managed_identity_token(&app, &params, true)
}
