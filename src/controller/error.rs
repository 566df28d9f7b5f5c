//! The controllers' error: a PascalCase reason (status condition, Event, metric label), a
//! message a person can act on, and how to retry.

use crate::ado::AdoError;
use crate::reason::Reason;

/// When to try again after an error.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// Soon, with per-object exponential backoff (transient failures).
    Backoff,
    /// At the next periodic resync (something outside may change: a user created, a project
    /// renamed).
    Resync,
    /// Only when the object changes (its spec is wrong).
    AwaitChange,
}

/// Why a reconcile could not finish.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct Error {
    /// Why, as written to the condition, the Event and the metric label.
    pub reason: Reason,
    /// What went wrong, quotable in a status condition (never a secret).
    pub message: String,
    /// When to retry.
    pub retry: Retry,
}

impl Error {
    pub fn new(reason: Reason, message: impl Into<String>, retry: Retry) -> Self {
        Self {
            reason,
            message: message.into(),
            retry,
        }
    }

    /// The spec cannot work as written.
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Reason::InvalidSpec, message, Retry::AwaitChange)
    }

    /// Something this object depends on is not there yet.
    pub fn waiting(reason: Reason, message: impl Into<String>) -> Self {
        Self::new(reason, message, Retry::Backoff)
    }

    /// A name that does not resolve in Azure DevOps.
    pub fn not_found(reason: Reason, message: impl Into<String>) -> Self {
        Self::new(reason, message, Retry::Resync)
    }

    /// Wrap an Azure DevOps error with what we were doing.
    pub fn ado(context: &str, err: AdoError) -> Self {
        let retry = match &err {
            e if e.is_transient() => Retry::Backoff,
            AdoError::Unauthorized(_) | AdoError::Auth(_) | AdoError::Forbidden(_) => {
                Retry::Backoff
            }
            _ => Retry::Resync,
        };
        Self {
            reason: err.reason(),
            message: format!("{context}: {err}"),
            retry,
        }
    }
}

impl From<kube::Error> for Error {
    fn from(err: kube::Error) -> Self {
        Self::new(Reason::KubernetesApiError, err.to_string(), Retry::Backoff)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ado::ApiErrorDetail;

    fn detail() -> ApiErrorDetail {
        ApiErrorDetail {
            operation: "graph.groups.get",
            status: Some(404),
            type_key: Some("GraphSubjectNotFoundException".into()),
            message: "VS403325: not found".into(),
        }
    }

    #[test]
    fn ado_errors_keep_their_reason_and_choose_a_retry() {
        let e = Error::ado("reading group", AdoError::NotFound(detail()));
        assert_eq!(e.reason, Reason::NotFound);
        assert_eq!(e.retry, Retry::Resync);
        assert!(e.message.starts_with("reading group: "), "{}", e.message);
        assert!(e.message.contains("GraphSubjectNotFoundException"));
        let t = Error::ado("x", AdoError::Transient(detail()));
        assert_eq!(
            (t.reason, t.retry),
            (Reason::AzureDevOpsUnavailable, Retry::Backoff)
        );
        let f = Error::ado("x", AdoError::Forbidden(detail()));
        assert_eq!((f.reason, f.retry), (Reason::Forbidden, Retry::Backoff));
    }
}
