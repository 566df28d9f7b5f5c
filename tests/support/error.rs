//! The one error type of the end-to-end harness.

use std::path::PathBuf;
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    #[error("control-plane binaries: {0}")]
    Binaries(String),

    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },

    #[error("certificate generation failed: {0}")]
    Certificate(#[from] rcgen::Error),

    #[error("kubeconfig: {0}")]
    Kubeconfig(String),

    #[error("Kubernetes API: {0}")]
    Kube(#[from] kube::Error),

    #[error("HTTP: {0}")]
    Http(#[from] reqwest::Error),

    #[error("{process} failed to start: {reason}\n--- last lines of {log} ---\n{log_tail}")]
    Startup {
        process: String,
        reason: String,
        log: PathBuf,
        log_tail: String,
    },

    #[error("manifest {path}: {reason}")]
    Manifest { path: PathBuf, reason: String },

    #[error("timed out after {after:?} waiting for {what}")]
    Timeout { after: Duration, what: String },

    #[error("{0}")]
    Invalid(String),
}

impl HarnessError {
    pub fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io {
            context: context.into(),
            source,
        }
    }
}

pub type HarnessResult<T> = Result<T, HarnessError>;
