//! Personal access token: `Authorization: Basic base64(":" + PAT)`.

use super::{AuthError, SecretString, TokenSource};
use async_trait::async_trait;
use base64::Engine;

pub(crate) const KIND: &str = "pat";

/// A PAT never expires from our point of view; a 401 means it was revoked or expired and only a
/// new Secret helps, so `invalidate()` has nothing to do.
pub struct PatTokenSource {
    header: SecretString,
}

impl PatTokenSource {
    pub fn new(token: SecretString) -> Result<Self, AuthError> {
        let token = token.expose().trim();
        if token.is_empty() {
            return Err(AuthError::Config(
                "the personal access token is empty".to_string(),
            ));
        }
        let encoded = base64::engine::general_purpose::STANDARD.encode(format!(":{token}"));
        Ok(Self {
            header: SecretString::new(format!("Basic {encoded}")),
        })
    }
}

impl std::fmt::Debug for PatTokenSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PatTokenSource").finish_non_exhaustive()
    }
}

#[async_trait]
impl TokenSource for PatTokenSource {
    async fn authorization_header(&self) -> Result<String, AuthError> {
        Ok(self.header.expose().to_owned())
    }

    fn invalidate(&self) {}

    fn kind(&self) -> &'static str {
        KIND
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn header_is_basic_with_empty_user() {
        let source = PatTokenSource::new(SecretString::new("abc123\n")).unwrap();
        // base64(":abc123")
        assert_eq!(
            source.authorization_header().await.unwrap(),
            "Basic OmFiYzEyMw=="
        );
        assert_eq!(source.kind(), "pat");
        assert!(!format!("{source:?}").contains("OmFiYzEyMw"));
    }

    #[test]
    fn empty_pat_is_a_configuration_error() {
        assert!(matches!(
            PatTokenSource::new(SecretString::new("  ")),
            Err(AuthError::Config(_))
        ));
    }
}
