//! The keys of trusted token issuers: inline JWKS, a file, a URL, or OIDC discovery
//! (`{issuer}/.well-known/openid-configuration` then `jwks_uri`), fetched over https.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

use crate::seed::{JwksSource, TrustedIssuer};

const CACHE_TTL: Duration = Duration::from_secs(300);

#[derive(Debug, thiserror::Error)]
pub enum IssuerError {
    #[error("reading JWKS file {path}: {source}")]
    File {
        path: String,
        source: std::io::Error,
    },
    #[error("fetching {url}: {message}")]
    Fetch { url: String, message: String },
    #[error("the JWK set of {origin} is not valid: {message}")]
    Invalid { origin: String, message: String },
    #[error("building the https client: {0}")]
    Client(String),
}

pub struct IssuerKeys {
    configured: Vec<TrustedIssuer>,
    client: reqwest::Client,
    cache: Mutex<HashMap<String, (Instant, JwkSet)>>,
}

impl std::fmt::Debug for IssuerKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerKeys")
            .field("configured", &self.configured)
            .finish_non_exhaustive()
    }
}

impl IssuerKeys {
    /// `extra_ca_pem`: a CA trusted (besides the system roots) for discovery and JWKS fetches.
    pub fn new(
        configured: Vec<TrustedIssuer>,
        extra_ca_pem: Option<&str>,
    ) -> Result<IssuerKeys, IssuerError> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let mut builder = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .https_only(true);
        if let Some(pem) = extra_ca_pem {
            for cert in reqwest::Certificate::from_pem_bundle(pem.as_bytes())
                .map_err(|e| IssuerError::Client(e.to_string()))?
            {
                builder = builder.add_root_certificate(cert);
            }
        }
        let client = builder
            .build()
            .map_err(|e| IssuerError::Client(e.to_string()))?;
        Ok(IssuerKeys {
            configured,
            client,
            cache: Mutex::new(HashMap::new()),
        })
    }

    fn source_for(&self, issuer: &str) -> JwksSource {
        self.configured
            .iter()
            .rev()
            .find(|t| t.issuer == issuer)
            .and_then(|t| t.jwks.clone())
            .unwrap_or(JwksSource::Discovery)
    }

    /// The issuer's keys; `refresh` bypasses the cache (used when a `kid` is unknown).
    pub async fn keys(&self, issuer: &str, refresh: bool) -> Result<JwkSet, IssuerError> {
        if !refresh {
            if let Some((at, set)) = self.cache.lock().await.get(issuer) {
                if at.elapsed() < CACHE_TTL {
                    return Ok(set.clone());
                }
            }
        }
        let set = self.load(issuer).await?;
        self.cache
            .lock()
            .await
            .insert(issuer.to_string(), (Instant::now(), set.clone()));
        Ok(set)
    }

    async fn load(&self, issuer: &str) -> Result<JwkSet, IssuerError> {
        match self.source_for(issuer) {
            JwksSource::Inline(value) => parse_set(value, "inline JWKS"),
            JwksSource::File(path) => {
                let text =
                    tokio::fs::read_to_string(&path)
                        .await
                        .map_err(|source| IssuerError::File {
                            path: path.clone(),
                            source,
                        })?;
                let value = serde_json::from_str(&text).map_err(|e| IssuerError::Invalid {
                    origin: path.clone(),
                    message: e.to_string(),
                })?;
                parse_set(value, &path)
            }
            JwksSource::Url(url) => self.fetch_set(&url).await,
            JwksSource::Discovery => {
                let url = format!(
                    "{}/.well-known/openid-configuration",
                    issuer.trim_end_matches('/')
                );
                let document = self.fetch_json(&url).await?;
                let jwks_uri = document
                    .get("jwks_uri")
                    .and_then(|v| v.as_str())
                    .ok_or_else(|| IssuerError::Invalid {
                        origin: url.clone(),
                        message: "no jwks_uri in the discovery document".into(),
                    })?;
                self.fetch_set(jwks_uri).await
            }
        }
    }

    async fn fetch_json(&self, url: &str) -> Result<serde_json::Value, IssuerError> {
        let fail = |message: String| IssuerError::Fetch {
            url: url.to_string(),
            message,
        };
        let response = self
            .client
            .get(url)
            .header("accept", "application/json, application/jwk-set+json")
            .send()
            .await
            .map_err(|e| fail(e.to_string()))?;
        if !response.status().is_success() {
            return Err(fail(format!("status {}", response.status())));
        }
        response.json().await.map_err(|e| fail(e.to_string()))
    }

    async fn fetch_set(&self, url: &str) -> Result<JwkSet, IssuerError> {
        let value = self.fetch_json(url).await?;
        parse_set(value, url)
    }
}

fn parse_set(value: serde_json::Value, origin: &str) -> Result<JwkSet, IssuerError> {
    serde_json::from_value(value).map_err(|e| IssuerError::Invalid {
        origin: origin.to_string(),
        message: e.to_string(),
    })
}
