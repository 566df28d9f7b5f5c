//! Adapter from an `azure_identity` credential to a [`TokenSource`]: our own expiry-aware cache
//! on top (so every call into the credential is a real token request, which makes the metrics
//! honest), single-flight refresh, and `invalidate()` that throws the credential away (the
//! `azure_identity` cache cannot be cleared, so a fresh credential is built from the factory).

use super::{AuthError, SecretString, TokenSource, AZURE_DEVOPS_SCOPE};
use crate::ado::metrics::AdoMetrics;
use async_trait::async_trait;
use azure_core::credentials::TokenCredential;
use azure_core::time::{Duration, OffsetDateTime};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use tokio::sync::Mutex;

/// Builds a fresh credential (with an empty token cache).
pub(crate) type CredentialFactory =
    Box<dyn Fn() -> Result<Arc<dyn TokenCredential>, AuthError> + Send + Sync>;

/// Refresh this long before expiry (the `azure_identity` margin), or after half the lifetime
/// for tokens that live shorter than twice that.
const REFRESH_MARGIN: Duration = Duration::seconds(300);

/// Upper bound of one token acquisition, retries by `azure_identity` included; every Azure
/// DevOps call of the organization waits for it.
const TOKEN_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);

pub(crate) struct EntraTokenSource {
    kind: &'static str,
    factory: CredentialFactory,
    state: Mutex<State>,
    invalidated: AtomicBool,
    metrics: Arc<AdoMetrics>,
}

struct State {
    credential: Option<Arc<dyn TokenCredential>>,
    cached: Option<CachedToken>,
}

struct CachedToken {
    header: SecretString,
    refresh_at: OffsetDateTime,
}

impl EntraTokenSource {
    pub(crate) fn new(
        kind: &'static str,
        factory: CredentialFactory,
        metrics: Arc<AdoMetrics>,
    ) -> Result<Self, AuthError> {
        // Build once up front so configuration errors surface at construction.
        let credential = factory()?;
        Ok(Self {
            kind,
            factory,
            state: Mutex::new(State {
                credential: Some(credential),
                cached: None,
            }),
            invalidated: AtomicBool::new(false),
            metrics,
        })
    }
}

pub(crate) fn refresh_instant(
    acquired: OffsetDateTime,
    expires_on: OffsetDateTime,
) -> OffsetDateTime {
    let lifetime = expires_on - acquired;
    let margin = if lifetime < REFRESH_MARGIN * 2 {
        lifetime / 2
    } else {
        REFRESH_MARGIN
    };
    expires_on - margin
}

#[async_trait]
impl TokenSource for EntraTokenSource {
    async fn authorization_header(&self) -> Result<String, AuthError> {
        let mut state = self.state.lock().await;
        if self.invalidated.swap(false, Ordering::SeqCst) {
            state.cached = None;
            state.credential = None;
        }
        let now = OffsetDateTime::now_utc();
        if let Some(cached) = &state.cached {
            if now < cached.refresh_at {
                return Ok(cached.header.expose().to_owned());
            }
        }
        let credential = match &state.credential {
            Some(credential) => credential.clone(),
            None => {
                let credential = (self.factory)()?;
                state.credential = Some(credential.clone());
                credential
            }
        };
        let request = credential.get_token(&[AZURE_DEVOPS_SCOPE], None);
        let Ok(result) = tokio::time::timeout(TOKEN_REQUEST_TIMEOUT, request).await else {
            self.metrics.token_failed(self.kind);
            return Err(AuthError::Entra {
                status: None,
                message: format!("no token within {}s", TOKEN_REQUEST_TIMEOUT.as_secs()),
                transient: true,
            });
        };
        match result {
            Ok(token) => {
                self.metrics.token_acquired(self.kind);
                let header = format!("Bearer {}", token.token.secret());
                state.cached = Some(CachedToken {
                    header: SecretString::new(header.clone()),
                    refresh_at: refresh_instant(now, token.expires_on),
                });
                Ok(header)
            }
            Err(err) => {
                self.metrics.token_failed(self.kind);
                let err = AuthError::from_azure(&err);
                tracing::warn!(kind = self.kind, error = %err, "token acquisition failed");
                Err(err)
            }
        }
    }

    fn invalidate(&self) {
        self.invalidated.store(true, Ordering::SeqCst);
    }

    fn kind(&self) -> &'static str {
        self.kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use azure_core::credentials::{AccessToken, TokenRequestOptions};
    use std::sync::atomic::AtomicUsize;

    #[derive(Debug)]
    struct CountingCredential {
        calls: Arc<AtomicUsize>,
        lifetime: Duration,
    }

    #[async_trait]
    impl TokenCredential for CountingCredential {
        async fn get_token(
            &self,
            scopes: &[&str],
            _: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            assert_eq!(scopes, [AZURE_DEVOPS_SCOPE]);
            let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
            Ok(AccessToken::new(
                format!("token-{n}"),
                OffsetDateTime::now_utc() + self.lifetime,
            ))
        }
    }

    fn source(
        calls: Arc<AtomicUsize>,
        builds: Arc<AtomicUsize>,
        lifetime: Duration,
    ) -> EntraTokenSource {
        EntraTokenSource::new(
            "test",
            Box::new(move || {
                builds.fetch_add(1, Ordering::SeqCst);
                Ok(Arc::new(CountingCredential {
                    calls: calls.clone(),
                    lifetime,
                }) as Arc<dyn TokenCredential>)
            }),
            Arc::new(AdoMetrics::unregistered()),
        )
        .expect("factory works")
    }

    #[tokio::test]
    async fn tokens_are_cached_until_the_refresh_margin() {
        let calls = Arc::new(AtomicUsize::new(0));
        let builds = Arc::new(AtomicUsize::new(0));
        let source = source(calls.clone(), builds.clone(), Duration::hours(1));
        for _ in 0..5 {
            assert_eq!(
                source.authorization_header().await.unwrap(),
                "Bearer token-1"
            );
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(builds.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn invalidate_rebuilds_the_credential_and_fetches_a_new_token() {
        let calls = Arc::new(AtomicUsize::new(0));
        let builds = Arc::new(AtomicUsize::new(0));
        let source = source(calls.clone(), builds.clone(), Duration::hours(1));
        assert_eq!(
            source.authorization_header().await.unwrap(),
            "Bearer token-1"
        );
        source.invalidate();
        assert_eq!(
            source.authorization_header().await.unwrap(),
            "Bearer token-2"
        );
        assert_eq!(
            source.authorization_header().await.unwrap(),
            "Bearer token-2"
        );
        assert_eq!(builds.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn concurrent_callers_share_one_token_request() {
        let calls = Arc::new(AtomicUsize::new(0));
        let builds = Arc::new(AtomicUsize::new(0));
        let source = Arc::new(source(calls.clone(), builds, Duration::hours(1)));
        let tasks: Vec<_> = (0..16)
            .map(|_| {
                let source = source.clone();
                tokio::spawn(async move { source.authorization_header().await.unwrap() })
            })
            .collect();
        for task in tasks {
            assert_eq!(task.await.unwrap(), "Bearer token-1");
        }
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }

    #[derive(Debug)]
    struct HangingCredential;

    #[async_trait]
    impl TokenCredential for HangingCredential {
        async fn get_token(
            &self,
            _: &[&str],
            _: Option<TokenRequestOptions<'_>>,
        ) -> azure_core::Result<AccessToken> {
            std::future::pending().await
        }
    }

    #[tokio::test(start_paused = true)]
    async fn a_hanging_token_request_times_out_as_a_transient_failure() {
        let metrics = Arc::new(AdoMetrics::unregistered());
        let source = EntraTokenSource::new(
            "test",
            Box::new(|| Ok(Arc::new(HangingCredential) as Arc<dyn TokenCredential>)),
            metrics.clone(),
        )
        .unwrap();
        let error = source.authorization_header().await.unwrap_err();
        assert!(error.is_transient(), "{error:?}");
        assert_eq!(metrics.token_failures("test"), 1);
    }

    #[test]
    fn short_lived_tokens_refresh_at_half_life() {
        let now = OffsetDateTime::now_utc();
        assert_eq!(
            refresh_instant(now, now + Duration::seconds(60)),
            now + Duration::seconds(30)
        );
        assert_eq!(
            refresh_instant(now, now + Duration::seconds(3599)),
            now + Duration::seconds(3299)
        );
    }
}
