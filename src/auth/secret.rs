//! A string that never shows up in logs.

use std::fmt;
use std::sync::Arc;

/// A secret value (PAT, client secret, access token). `Debug` is redacted and there is
/// deliberately no `Display`, so a secret cannot end up in a log line or status message by
/// accident; read it with [`SecretString::expose`] at the single place it is sent.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretString(Arc<str>);

impl SecretString {
    pub fn new(value: impl Into<String>) -> Self {
        Self(Arc::from(value.into()))
    }

    /// The secret itself. Only call this where the value leaves the process.
    pub fn expose(&self) -> &str {
        &self.0
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for SecretString {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretString(<redacted>)")
    }
}

impl From<String> for SecretString {
    fn from(value: String) -> Self {
        Self::new(value)
    }
}

impl From<&str> for SecretString {
    fn from(value: &str) -> Self {
        Self::new(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_output_never_contains_the_secret() {
        let secret = SecretString::new("hunter2-pat-value");
        let rendered = format!("{secret:?} {:?}", Some(secret.clone()));
        assert!(!rendered.contains("hunter2"), "{rendered}");
        assert_eq!(secret.expose(), "hunter2-pat-value");
    }
}
