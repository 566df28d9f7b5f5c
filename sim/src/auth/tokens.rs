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
    /// Tokens whose signature and audience were verified, with their claims: an ES256
    /// verification costs more than most requests, and clients send one token many times. Their
    /// lifetime is checked again on every use.
    verified: std::sync::Mutex<std::collections::HashMap<String, AccessClaims>>,
}

/// Verified tokens remembered at most (the map is emptied when full).
const VERIFIED_KEPT: usize = 1024;

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
            verified: Default::default(),
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
    /// A token that verifies (the usual case, answered from the verified tokens) is not
    /// expired; only one refused as expired is checked again without its expiry.
    pub fn is_expired(&self, token: &str) -> bool {
        let refused_as_expired = matches!(
            self.verify(token),
            Err(TokenError::Jwt(e)) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature)
        );
        if !refused_as_expired {
            return false;
        }
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[AZURE_DEVOPS_RESOURCE]);
        validation.validate_exp = false;
        jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation).is_ok()
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        let verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        let now = now_secs();
        // Within its lifetime as `decode` judges it (no leeway): not before `nbf`, until `exp`.
        // Outside it, the full verification below gives the same error as without the cache.
        if let Some(claims) = verified.get(token) {
            if claims.nbf <= now && now <= claims.exp {
                return Ok(claims.clone());
            }
        }
        drop(verified);
        let mut validation = Validation::new(Algorithm::ES256);
        validation.set_audience(&[AZURE_DEVOPS_RESOURCE]);
        validation.leeway = 0;
        validation.validate_nbf = true;
        let claims =
            jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &validation)?.claims;
        let mut verified = self.verified.lock().unwrap_or_else(|p| p.into_inner());
        if verified.len() >= VERIFIED_KEPT {
            verified.clear();
        }
        verified.insert(token.to_string(), claims.clone());
        Ok(claims)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use uuid::Uuid;

    fn identity() -> Identity {
        Identity {
            name: "operator".into(),
            display_name: "operator".into(),
            client_id: Uuid::new_v4(),
            object_id: Uuid::new_v4(),
            tenant_id: Uuid::new_v4(),
            client_secret: None,
            federated_credentials: Vec::new(),
            pats: Vec::new(),
            managed_identity: false,
            directory_read: false,
            access: Vec::new(),
        }
    }

    #[test]
    fn a_remembered_token_still_expires() {
        let tokens = TokenService::generate().unwrap();
        let token = tokens
            .issue(&identity(), ClientAuth::Secret, Duration::from_secs(1))
            .unwrap();
        let forged = TokenService::generate()
            .unwrap()
            .issue(&identity(), ClientAuth::Secret, Duration::from_secs(1))
            .unwrap();
        let first = tokens.verify(&token).unwrap();
        assert_eq!(tokens.verify(&token).unwrap().oid, first.oid);
        assert!(!tokens.is_expired(&token));
        std::thread::sleep(Duration::from_millis(2100));
        assert!(
            !tokens.is_expired(&forged),
            "not ours, so not merely expired"
        );
        let error = tokens.verify(&token).unwrap_err();
        assert!(
            matches!(&error, TokenError::Jwt(e) if matches!(e.kind(), jsonwebtoken::errors::ErrorKind::ExpiredSignature)),
            "{error:?}"
        );
        assert!(tokens.is_expired(&token));
    }

    #[test]
    fn a_forged_token_is_refused_even_after_a_genuine_one() {
        let tokens = TokenService::generate().unwrap();
        let other = TokenService::generate().unwrap();
        let genuine = tokens
            .issue(&identity(), ClientAuth::Secret, Duration::from_secs(60))
            .unwrap();
        tokens.verify(&genuine).unwrap();
        let forged = other
            .issue(&identity(), ClientAuth::Secret, Duration::from_secs(60))
            .unwrap();
        assert!(tokens.verify(&forged).is_err());
        assert!(!tokens.is_expired(&genuine));
        assert!(!tokens.is_expired(&forged));
    }
}
