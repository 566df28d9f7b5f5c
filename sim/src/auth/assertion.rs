//! Verifying a `client_assertion` (a federated token, e.g. a Kubernetes service account token)
//! the way Entra does: a federated identity credential of the application must match the
//! assertion's issuer, subject and audience; the signature must verify against the issuer's
//! published keys; the assertion must be within its validity period.

use chrono::{TimeZone, Utc};
use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde::Deserialize;

use super::issuers::IssuerKeys;
use super::EntraError;
use crate::model::Identity;

#[derive(Debug, Clone, Deserialize)]
struct AssertionClaims {
    iss: Option<String>,
    sub: Option<String>,
    #[serde(default)]
    aud: Audience,
    exp: Option<i64>,
    nbf: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(untagged)]
enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn values(&self) -> Vec<String> {
        match self {
            Audience::None => Vec::new(),
            Audience::One(a) => vec![a.clone()],
            Audience::Many(list) => list.clone(),
        }
    }
}

fn malformed() -> EntraError {
    EntraError::invalid_request(50027, "JWT token is invalid or malformed.")
}

fn format_time(epoch: i64) -> String {
    Utc.timestamp_opt(epoch, 0)
        .single()
        .map(|t| t.format("%m/%d/%Y %H:%M:%S").to_string())
        .unwrap_or_else(|| epoch.to_string())
}

/// Checks `assertion` for `identity`; Ok when Entra would accept it.
pub async fn verify_assertion(
    identity: &Identity,
    assertion: &str,
    issuers: &IssuerKeys,
) -> Result<(), EntraError> {
    let header = jsonwebtoken::decode_header(assertion).map_err(|_| malformed())?;
    let claims: AssertionClaims =
        jsonwebtoken::dangerous::insecure_decode::<AssertionClaims>(assertion)
            .map_err(|_| malformed())?
            .claims;
    let issuer = claims.iss.clone().unwrap_or_default();
    let subject = claims.sub.clone().unwrap_or_default();
    let audiences = claims.aud.values();

    let matched = identity.federated_credentials.iter().find(|credential| {
        credential.issuer == issuer
            && credential.subject == subject
            && audiences
                .iter()
                .any(|a| credential.audiences.iter().any(|c| c == a))
    });
    if matched.is_none() {
        return Err(EntraError::invalid_request(
            70021,
            format!(
                "No matching federated identity record found for presented assertion. Assertion Issuer: '{issuer}'. Assertion Subject: '{subject}'. Assertion Audience: '{}'. https://docs.microsoft.com/en-us/azure/active-directory/develop/workload-identity-federation",
                audiences.join(",")
            ),
        ));
    }

    let now = Utc::now().timestamp();
    let exp = claims.exp.ok_or_else(malformed)?;
    let nbf = claims.nbf.unwrap_or(exp - 3600);
    if now >= exp || now < nbf - 300 {
        return Err(EntraError::invalid_client(
            700024,
            format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://docs.microsoft.com/azure/active-directory/develop/active-directory-certificate-credentials .",
                Utc::now().format("%Y-%m-%dT%H:%M:%S%.6fZ"),
                format_time(nbf),
                format_time(exp)
            ),
        ));
    }

    let keys = issuers.keys(&issuer, false).await.map_err(|e| {
        tracing::warn!(issuer = %issuer, error = %e, "could not load the issuer's keys");
        EntraError::invalid_request(50166, "Request to External OIDC endpoint failed.")
    })?;
    if verify_signature(assertion, &header, &keys).is_ok() {
        return Ok(());
    }
    // An unknown key id may mean the issuer rotated its keys: refetch once.
    let refreshed = issuers.keys(&issuer, true).await.map_err(|_| {
        EntraError::invalid_request(50166, "Request to External OIDC endpoint failed.")
    })?;
    verify_signature(assertion, &header, &refreshed).map_err(|reason| {
        EntraError::invalid_client(
            50013,
            format!("Assertion failed signature validation. [Reason - {reason}, Thumbprint of key used by client: '{}']", header.kid.clone().unwrap_or_default()),
        )
    })
}

fn verify_signature(
    assertion: &str,
    header: &jsonwebtoken::Header,
    keys: &JwkSet,
) -> Result<(), &'static str> {
    if header.alg == Algorithm::HS256
        || header.alg == Algorithm::HS384
        || header.alg == Algorithm::HS512
    {
        return Err("The key was not found.");
    }
    let candidates: Vec<_> = match &header.kid {
        Some(kid) => keys
            .keys
            .iter()
            .filter(|k| k.common.key_id.as_deref() == Some(kid.as_str()))
            .collect(),
        None => keys.keys.iter().collect(),
    };
    if candidates.is_empty() {
        return Err("The key was not found.");
    }
    let mut validation = Validation::new(header.alg);
    // Lifetime and claims were checked already; only the signature is at stake here.
    validation.validate_exp = false;
    validation.validate_aud = false;
    validation.required_spec_claims.clear();
    for jwk in candidates {
        let Ok(key) = DecodingKey::from_jwk(jwk) else {
            continue;
        };
        if jsonwebtoken::decode::<serde_json::Value>(assertion, &key, &validation).is_ok() {
            return Ok(());
        }
    }
    Err("The signature is invalid.")
}
