//! A stand-in OIDC token issuer, like a Kubernetes API server's service account issuer: it serves
//! `/.well-known/openid-configuration` and `/openid/v1/jwks` over https and mints signed service
//! account tokens. Tests use it to exercise federated credentials end to end.

use std::net::{IpAddr, Ipv4Addr};
use std::time::Duration;

use axum::routing::get;
use axum::{Json, Router};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{json, Value};
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;
use tokio_rustls::TlsAcceptor;

use crate::auth::TOKEN_EXCHANGE_AUDIENCE;
use crate::seed::{JwksSource, TrustedIssuer};
use crate::tls::ServerIdentity;

/// Claims of a minted token; every field can be bent to produce invalid tokens.
#[derive(Debug, Clone)]
pub struct TokenSpec {
    pub subject: String,
    pub audience: String,
    /// Overrides the issuer claim (defaults to the issuer's URL).
    pub issuer: Option<String>,
    /// Seconds from now; negative for an expired token.
    pub expires_in: i64,
}

impl TokenSpec {
    /// A service account token for `namespace`/`name` with the token exchange audience.
    pub fn service_account(namespace: &str, name: &str) -> TokenSpec {
        TokenSpec {
            subject: format!("system:serviceaccount:{namespace}:{name}"),
            audience: TOKEN_EXCHANGE_AUDIENCE.to_string(),
            issuer: None,
            expires_in: 3600,
        }
    }
}

pub struct OidcIssuer {
    url: String,
    ca_pem: String,
    kid: String,
    key: EncodingKey,
    jwks: Value,
    shutdown: watch::Sender<bool>,
    task: JoinHandle<()>,
}

impl std::fmt::Debug for OidcIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcIssuer")
            .field("url", &self.url)
            .finish_non_exhaustive()
    }
}

/// A fresh P-256 signing key with its JWK.
fn signing_key() -> anyhow::Result<(String, EncodingKey, Value)> {
    let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let raw = key.public_key_raw();
    let x = URL_SAFE_NO_PAD.encode(&raw[1..33]);
    let y = URL_SAFE_NO_PAD.encode(&raw[33..65]);
    let kid = URL_SAFE_NO_PAD.encode(&raw[1..13]);
    let jwk = json!({"kty": "EC", "use": "sig", "crv": "P-256", "kid": kid, "alg": "ES256", "x": x, "y": y});
    Ok((kid, EncodingKey::from_ec_der(&key.serialize_der()), jwk))
}

impl OidcIssuer {
    /// Starts the issuer on a random loopback port.
    pub async fn start() -> anyhow::Result<OidcIssuer> {
        let identity = ServerIdentity::generate()?;
        let acceptor = TlsAcceptor::from(identity.server_config()?);
        let listener = TcpListener::bind((IpAddr::V4(Ipv4Addr::LOCALHOST), 0)).await?;
        let url = format!("https://{}", listener.local_addr()?);
        let (kid, key, jwk) = signing_key()?;
        let jwks = json!({ "keys": [jwk] });
        let discovery = json!({
            "issuer": url,
            "jwks_uri": format!("{url}/openid/v1/jwks"),
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["ES256"],
        });
        let served_jwks = jwks.clone();
        let router = Router::new()
            .route(
                "/.well-known/openid-configuration",
                get(move || std::future::ready(Json(discovery.clone()))),
            )
            .route(
                "/openid/v1/jwks",
                get(move || std::future::ready(Json(served_jwks.clone()))),
            );
        let (shutdown, receiver) = watch::channel(false);
        let task = tokio::spawn(crate::server::accept_loop(
            listener, acceptor, router, receiver,
        ));
        Ok(OidcIssuer {
            url,
            ca_pem: identity.ca_pem,
            kid,
            key,
            jwks,
            shutdown,
            task,
        })
    }

    /// The issuer URL (the `iss` claim).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The CA of the issuer's https endpoint (give it to `SimOptions::issuer_ca_pem`).
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The public keys (`{"keys":[...]}`).
    pub fn jwks(&self) -> &Value {
        &self.jwks
    }

    /// Trust through OIDC discovery, as Entra does with a real cluster's issuer.
    pub fn trusted_by_discovery(&self) -> TrustedIssuer {
        TrustedIssuer {
            issuer: self.url.clone(),
            jwks: Some(JwksSource::Discovery),
        }
    }

    /// Trust through the inline JWK set.
    pub fn trusted_inline(&self) -> TrustedIssuer {
        TrustedIssuer {
            issuer: self.url.clone(),
            jwks: Some(JwksSource::Inline(self.jwks.clone())),
        }
    }

    /// A signed token as the spec says.
    pub fn mint(&self, spec: &TokenSpec) -> anyhow::Result<String> {
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let exp = now + spec.expires_in;
        let claims = json!({
            "iss": spec.issuer.clone().unwrap_or_else(|| self.url.clone()),
            "sub": spec.subject,
            "aud": [spec.audience],
            "iat": now.min(exp) - 1,
            "nbf": now.min(exp) - 1,
            "exp": exp,
            "kubernetes.io": { "namespace": "azdo-operator", "serviceaccount": { "name": "azdo-operator" } },
        });
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &self.key)?)
    }

    /// A token with valid claims signed by a key this issuer does not publish.
    pub fn mint_with_foreign_key(&self, spec: &TokenSpec) -> anyhow::Result<String> {
        let (_, other_key, _) = signing_key()?;
        let now = jsonwebtoken::get_current_timestamp() as i64;
        let claims = json!({
            "iss": spec.issuer.clone().unwrap_or_else(|| self.url.clone()),
            "sub": spec.subject,
            "aud": [spec.audience],
            "iat": now,
            "exp": now + spec.expires_in,
        });
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        Ok(jsonwebtoken::encode(&header, &claims, &other_key)?)
    }

    pub async fn shutdown(self) {
        let _ = self.shutdown.send(true);
        let _ = tokio::time::timeout(Duration::from_secs(5), self.task).await;
    }
}
