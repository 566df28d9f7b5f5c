//! Azure DevOps error responses: `{"$id":"1","innerException":null,"message",...}`.

use axum::http::{header, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered the way Azure DevOps answers it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub type_key: &'static str,
    pub message: String,
    pub body: ErrorBody,
    pub headers: Vec<(HeaderName, String)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorBody {
    /// The usual JSON error document.
    Vss,
    /// No body at all (e.g. HEAD membership 404).
    Empty,
    /// The message as a JSON string (Graph's 503 when materializing an Entra subject fails).
    JsonString,
}

fn type_name(type_key: &str) -> String {
    let namespace = match type_key {
        "GraphSubjectNotFoundException"
        | "GraphMembershipNotFoundException"
        | "GraphBadRequestException"
        | "InvalidSubjectTypeException"
        | "GraphSubjectTypeNotSupportedException" => "Microsoft.VisualStudio.Services.Graph",
        "InvalidAccessException" | "RequestBlockedException" => {
            "Microsoft.TeamFoundation.Framework.Server"
        }
        "UnauthorizedRequestException" => "Microsoft.TeamFoundation.Framework.Server",
        "ProjectDoesNotExistWithNameException" | "ProjectDoesNotExistException" => {
            "Microsoft.TeamFoundation.Core.WebApi"
        }
        "DefinitionNotFoundException" => "Microsoft.TeamFoundation.Build.WebApi",
        "GitRepositoryNotFoundException" => "Microsoft.TeamFoundation.Git.Server",
        "AddMemberIdentityAlreadyMemberException"
        | "GroupCreationException"
        | "IdentityNotFoundException"
        | "RemoveSpecialGroupException" => "Microsoft.VisualStudio.Services.Identity",
        _ => "Microsoft.VisualStudio.Services.WebApi",
    };
    let assembly = if namespace.starts_with("Microsoft.TeamFoundation.Framework.Server") {
        "Microsoft.TeamFoundation.Framework.Server"
    } else {
        "Microsoft.VisualStudio.Services.WebApi"
    };
    format!("{namespace}.{type_key}, {assembly}")
}

impl ApiError {
    pub fn new(status: StatusCode, type_key: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            type_key,
            message: message.into(),
            body: ErrorBody::Vss,
            headers: Vec::new(),
        }
    }

    pub fn with_header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub fn bare(status: StatusCode) -> Self {
        ApiError {
            status,
            type_key: "",
            message: String::new(),
            body: ErrorBody::Empty,
            headers: Vec::new(),
        }
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "GraphBadRequestException", message)
    }

    pub fn invalid_argument(message: impl Into<String>) -> Self {
        ApiError::new(StatusCode::BAD_REQUEST, "ArgumentException", message)
    }

    pub fn subject_not_found(descriptor: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "GraphSubjectNotFoundException",
            format!(
                "VS403325: The graph subject with descriptor '{descriptor}' could not be found."
            ),
        )
    }

    pub fn membership_not_found(member: &str, container: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "GraphMembershipNotFoundException",
            format!(
                "VS403328: The graph membership for member descriptor '{member}' and container descriptor '{container}' could not be found."
            ),
        )
    }

    pub fn identity_not_found(what: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "IdentityNotFoundException",
            format!("VS403283: Could not find identity with {what}."),
        )
    }

    pub fn access_denied(who: &str, resource: &str, permission: &str) -> Self {
        ApiError::new(
            StatusCode::FORBIDDEN,
            "InvalidAccessException",
            format!(
                "Access Denied: {who} needs the following permission(s) on the resource {resource} to perform this action: {permission}"
            ),
        )
    }

    pub fn unauthorized(who: &str) -> Self {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "UnauthorizedRequestException",
            format!("TF400813: The user '{who}' is not authorized to access this resource."),
        )
    }

    pub fn project_not_found(name: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "ProjectDoesNotExistWithNameException",
            format!(
                "TF200016: The following project does not exist: {name}. Verify that the name of the project is correct and that the project exists on the specified Azure DevOps Server."
            ),
        )
    }

    pub fn organization_not_found(name: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "HostNotFoundException",
            format!("The organization '{name}' could not be found."),
        )
    }

    pub fn route_not_found(path: &str) -> Self {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "VssResourceNotFoundException",
            format!("API resource location for '{path}' was not found."),
        )
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut response = match self.body {
            ErrorBody::Empty => self.status.into_response(),
            ErrorBody::JsonString => (
                self.status,
                axum::Json(serde_json::Value::String(self.message)),
            )
                .into_response(),
            ErrorBody::Vss => {
                let body = json!({
                    "$id": "1",
                    "innerException": null,
                    "message": self.message,
                    "typeName": type_name(self.type_key),
                    "typeKey": self.type_key,
                    "errorCode": 0,
                    "eventId": 3000,
                });
                let mut response = (self.status, axum::Json(body)).into_response();
                response.headers_mut().insert(
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json; charset=utf-8"),
                );
                if !self.type_key.is_empty() {
                    if let Ok(value) = HeaderValue::from_str(&self.message) {
                        response
                            .headers_mut()
                            .insert(HeaderName::from_static("x-tfs-serviceerror"), value);
                    }
                }
                response
            }
        };
        for (name, value) in self.headers {
            if let Ok(value) = HeaderValue::from_str(&value) {
                response.headers_mut().insert(name, value);
            }
        }
        response
    }
}

pub type ApiResult<T = Response> = Result<T, ApiError>;
