//! Tokens: the access tokens the simulated Entra issues, and the verification of client
//! assertions against trusted issuers' keys.

pub mod assertion;
pub mod issuers;
pub mod tokens;

/// The Entra application id of Azure DevOps (the token audience).
pub const AZURE_DEVOPS_RESOURCE: &str = "499b84ac-1321-427f-aa17-267ca6975798";
/// The audience of Kubernetes service account tokens exchanged with Entra.
pub const TOKEN_EXCHANGE_AUDIENCE: &str = "api://AzureADTokenExchange";

use axum::http::StatusCode;

/// An Entra token endpoint failure: `{"error","error_description":"AADSTS...","error_codes":[...]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntraError {
    pub status: StatusCode,
    pub error: &'static str,
    pub code: u32,
    /// Without the `AADSTS{code}: ` prefix and the trace suffix.
    pub description: String,
}

impl EntraError {
    pub fn new(
        status: StatusCode,
        error: &'static str,
        code: u32,
        description: impl Into<String>,
    ) -> Self {
        EntraError {
            status,
            error,
            code,
            description: description.into(),
        }
    }

    /// The same error under another code when it has code `from`.
    pub fn with_code(mut self, from: u32, to: u32) -> Self {
        if self.code == from {
            self.code = to;
        }
        self
    }

    pub fn invalid_request(code: u32, description: impl Into<String>) -> Self {
        EntraError::new(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            code,
            description,
        )
    }

    pub fn invalid_client(code: u32, description: impl Into<String>) -> Self {
        EntraError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            code,
            description,
        )
    }
}
