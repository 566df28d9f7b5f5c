//! Access tokens issued by the simulated Entra: ES256 JWTs signed by a key generated at start.

use std::time::Duration;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::AZURE_DEVOPS_RESOURCE;
use crate::model::Identity;

#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("generating the token signing key: {0}")]
    Key(#[from] rcgen::Error),
    #[error("signing or verifying a token: {0}")]
    Jwt(#[from] jsonwebtoken::errors::Error),
}

/// How the client proved who it was (the `appidacr` claim).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ClientAuth {
    Secret,
    Assertion,
    ManagedIdentity,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AccessClaims {
    pub aud: String,
    pub iss: String,
    pub iat: u64,
    pub nbf: u64,
    pub exp: u64,
    pub appid: String,
    pub appidacr: String,
    pub idtyp: String,
    pub oid: String,
    pub sub: String,
    pub tid: String,
    pub ver: String,
}

pub struct TokenService {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: serde_json::Value,
}

impl std::fmt::Debug for TokenService {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenService")
            .field("kid", &self.kid)
            .finish_non_exhaustive()
    }
}

fn now_secs() -> u64 {
    jsonwebtoken::get_current_timestamp()
}

impl TokenService {
    pub fn generate() -> Result<TokenService, TokenError> {
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
        let raw = key.public_key_raw();
        // Uncompressed point: 0x04 || x (32 bytes) || y (32 bytes).
        let x = URL_SAFE_NO_PAD.encode(&raw[1..33]);
        let y = URL_SAFE_NO_PAD.encode(&raw[33..65]);
        let kid = URL_SAFE_NO_PAD.encode(&raw[1..17]);
        let decoding = DecodingKey::from_ec_components(&x, &y)?;
        let encoding = EncodingKey::from_ec_der(&key.serialize_der());
        let jwk = json!({"kty": "EC", "use": "sig", "crv": "P-256", "kid": kid, "x": x, "y": y, "alg": "ES256"});
        Ok(TokenService {
            kid,
            encoding,
            decoding,
            jwk,
        })
    }

    /// The public keys, as served at `{tenant}/discovery/v2.0/keys`.
    pub fn jwks(&self) -> serde_json::Value {
        json!({ "keys": [self.jwk.clone()] })
    }

    pub fn issue(
        &self,
        identity: &Identity,
        auth: ClientAuth,
        lifetime: Duration,
    ) -> Result<String, TokenError> {
        let now = now_secs();
        let claims = AccessClaims {
            aud: AZURE_DEVOPS_RESOURCE.to_string(),
            iss: format!("https://sts.windows.net/{}/", identity.tenant_id),
            iat: now,
            nbf: now,
            exp: now + lifetime.as_secs().max(1),
            appid: identity.client_id.to_string(),
            appidacr: match auth {
                ClientAuth::Secret => "1",
                ClientAuth::Assertion => "2",
                ClientAuth::ManagedIdentity => "2",
            }
            .to_string(),
            idtyp: "app".to_string(),
            oid: identity.object_id.to_string(),
            sub: identity.object_id.to_string(),
            tid: identity.tenant_id.to_string(),
            ver: "1.0".to_string(),
        };
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        header.typ = Some("JWT".to_string());
        Ok(jsonwebtoken::encode(&header, &claims, &self.encoding)?)
    }

    /// Verifies signature, audience and lifetime (no leeway: an expired token is expired).
    /// True when `token` is one of ours, valid in every way but its expiry.
    pub fn is_expired(&self, token: &str) -> bool {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[AZURE_DEVOPS_RESOURCE]);
        validation.validate_exp = false;
        let ours = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation).is_ok();
        ours && matches!(
            self.verify(token),
            Err(TokenError::Jwt(e)) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature)
        )
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[AZURE_DEVOPS_RESOURCE]);
        validation.leeway = 0;
        validation.validate_nbf = true;
        Ok(jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)?.claims)
    }
}
