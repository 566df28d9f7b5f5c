//! Errors raised while acquiring a token. Messages are safe to quote in a status condition:
//! they never contain a token, a secret or an assertion.

use std::time::Duration;

/// Why a token could not be acquired.
#[derive(Debug, Clone, thiserror::Error)]
pub enum AuthError {
    /// The configuration cannot work (missing client id, non-https authority, empty PAT, ...).
    #[error("invalid authentication configuration: {0}")]
    Config(String),

    /// Entra ID refused the token request or could not be reached.
    #[error("token request to Entra ID failed{}: {message}", status.map(|s| format!(" (HTTP {s})")).unwrap_or_default())]
    Entra {
        status: Option<u16>,
        message: String,
        transient: bool,
    },

    /// The Kubernetes TokenRequest for a service account failed.
    #[error("minting a token for service account {namespace}/{name} failed: {message}")]
    ServiceAccountToken {
        namespace: String,
        name: String,
        message: String,
        transient: bool,
    },
}

impl AuthError {
    /// Whether trying again later can succeed without a configuration change.
    pub fn is_transient(&self) -> bool {
        match self {
            AuthError::Config(_) => false,
            AuthError::Entra { transient, .. } => *transient,
            AuthError::ServiceAccountToken { transient, .. } => *transient,
        }
    }

    /// Suggested wait before the next attempt, for transient failures.
    pub fn retry_hint(&self) -> Option<Duration> {
        self.is_transient().then(|| Duration::from_secs(10))
    }

    /// Classify an error returned by an `azure_identity` credential.
    pub(crate) fn from_azure(err: &azure_core::Error) -> Self {
        let status = http_status(err);
        let transient = match status {
            Some(code) => code == 408 || code == 429 || code >= 500,
            None => is_connection_problem(err),
        };
        AuthError::Entra {
            status,
            message: one_line(&err.to_string()),
            transient,
        }
    }
}

/// The HTTP status anywhere in an `azure_core` error chain (credentials wrap the response error).
fn http_status(err: &azure_core::Error) -> Option<u16> {
    let mut current = Some(err);
    while let Some(e) = current {
        if let Some(status) = e.http_status() {
            return Some(u16::from(status));
        }
        current = e.downcast_ref::<azure_core::Error>();
    }
    None
}

fn is_connection_problem(err: &azure_core::Error) -> bool {
    use azure_core::error::ErrorKind;
    let mut current = Some(err);
    while let Some(e) = current {
        if matches!(e.kind(), ErrorKind::Connection | ErrorKind::Io) {
            return true;
        }
        current = e.downcast_ref::<azure_core::Error>();
    }
    false
}

/// Collapse whitespace and cap the length so the message fits a status condition.
pub(crate) fn one_line(message: &str) -> String {
    const MAX: usize = 400;
    let collapsed = message.split_whitespace().collect::<Vec<_>>().join(" ");
    if collapsed.chars().count() <= MAX {
        collapsed
    } else {
        let mut cut: String = collapsed.chars().take(MAX).collect();
        cut.push('…');
        cut
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::error::{Error, ErrorKind};

    #[test]
    fn entra_status_is_found_inside_a_wrapped_credential_error() {
        let inner = Error::with_message(
            ErrorKind::HttpResponse {
                status: azure_core::http::StatusCode::BadRequest,
                error_code: Some("70021".into()),
                raw_response: None,
            },
            "AADSTS70021: No matching federated identity record found",
        );
        let outer = Error::with_error(
            ErrorKind::Credential,
            inner,
            "ClientAssertionCredential authentication failed. AADSTS70021: No matching federated identity record found",
        );
        let classified = AuthError::from_azure(&outer);
        match &classified {
            AuthError::Entra {
                status,
                transient,
                message,
            } => {
                assert_eq!(*status, Some(400));
                assert!(!transient);
                assert!(message.contains("AADSTS70021"));
            }
            other => panic!("unexpected {other:?}"),
        }
        assert!(!classified.is_transient());
    }

    #[test]
    fn entra_server_errors_and_connection_failures_are_transient() {
        let server = Error::with_message(
            ErrorKind::HttpResponse {
                status: azure_core::http::StatusCode::ServiceUnavailable,
                error_code: None,
                raw_response: None,
            },
            "unavailable",
        );
        assert!(AuthError::from_azure(&server).is_transient());
        let connection = Error::with_error(
            ErrorKind::Credential,
            Error::with_message(ErrorKind::Connection, "connection refused"),
            "WorkloadIdentityCredential authentication failed",
        );
        assert!(AuthError::from_azure(&connection).is_transient());
        let config = Error::with_message(ErrorKind::Credential, "no client ID specified");
        assert!(!AuthError::from_azure(&config).is_transient());
    }

    #[test]
    fn long_multiline_messages_are_flattened_and_capped() {
        let long = format!("first line\nsecond\t line {}", "x".repeat(1000));
        let flat = one_line(&long);
        assert!(flat.starts_with("first line second line"));
        assert!(!flat.contains('\n'));
        assert!(flat.chars().count() <= 401);
    }
}
