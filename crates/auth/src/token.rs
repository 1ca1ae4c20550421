//! Access tokens (short-lived HS256 JWTs with a pinned algorithm and required `exp`, `iat`, `iss`,
//! `aud`, `sub`) and refresh tokens (opaque random strings, stored only as SHA-256 digests).

use icat_common::ApiError;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use rand::distr::{Alphanumeric, SampleString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const ISSUER: &str = "icat-workspace";
pub const AUDIENCE: &str = "icat-api";
/// Access tokens live 15 minutes; the refresh token renews them.
pub const ACCESS_TTL_SECS: i64 = 15 * 60;

/// The claims of an access token. `sid` names the session, so that revoking the session ends the
/// token at once.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub sid: String,
    pub iat: i64,
    pub exp: i64,
    pub iss: String,
    pub aud: String,
}

/// Signs and checks access tokens.
#[derive(Clone)]
pub struct TokenKeys {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl TokenKeys {
    pub fn new(secret: &str) -> Result<Self, ApiError> {
        if secret.len() < 32 {
            return Err(ApiError::internal(
                "ICAT_JWT_SECRET must be at least 32 characters",
            ));
        }
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[AUDIENCE]);
        // set_issuer/set_audience check the claims only when present; this makes them required.
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = 5;
        validation.validate_exp = true;
        Ok(Self {
            encoding: EncodingKey::from_secret(secret.as_bytes()).map_err(ApiError::internal)?,
            decoding: DecodingKey::from_secret(secret.as_bytes()).map_err(ApiError::internal)?,
            validation,
        })
    }

    /// A signed access token for a user's session.
    pub fn issue(&self, user_id: &str, session_id: &str) -> Result<String, ApiError> {
        let now = chrono::Utc::now().timestamp();
        let claims = Claims {
            sub: user_id.to_owned(),
            sid: session_id.to_owned(),
            iat: now,
            exp: now + ACCESS_TTL_SECS,
            iss: ISSUER.to_owned(),
            aud: AUDIENCE.to_owned(),
        };
        jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            .map_err(ApiError::internal)
    }

    /// The claims of a valid token; any flaw (signature, algorithm, expiry, audience, issuer,
    /// missing claim) is the same 401.
    pub fn verify(&self, token: &str) -> Result<Claims, ApiError> {
        jsonwebtoken::decode::<Claims>(token, &self.decoding, &self.validation)
            .map(|data| data.claims)
            .map_err(|_| ApiError::unauthorized("the access token is invalid or has expired"))
    }
}

/// A new random secret of 256 bits and more, for refresh tokens and generated keys.
pub fn random_token() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), 48)
}

/// The digest under which a refresh token is stored; the token itself is never stored.
pub fn digest(token: &str) -> String {
    Sha256::digest(token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys() -> TokenKeys {
        match TokenKeys::new("a-test-secret-that-is-long-enough-0123456789") {
            Ok(k) => k,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn issued_tokens_verify() {
        let keys = keys();
        let token = keys.issue("u1", "s1").unwrap_or_default();
        let claims = keys.verify(&token).map_err(|e| e.status);
        assert!(matches!(claims, Ok(ref c) if c.sub == "u1" && c.sid == "s1"));
    }

    #[test]
    fn flawed_tokens_are_refused() {
        let keys = keys();
        let now = chrono::Utc::now().timestamp();
        let sign = |claims: serde_json::Value, alg: Algorithm, secret: &str| {
            jsonwebtoken::encode(
                &Header::new(alg),
                &claims,
                &EncodingKey::from_secret(secret.as_bytes()).unwrap_or_else(|e| panic!("{e}")),
            )
            .unwrap_or_default()
        };
        let good = serde_json::json!({"sub":"u","sid":"s","iat":now,"exp":now+60,"iss":ISSUER,"aud":AUDIENCE});
        let secret = "a-test-secret-that-is-long-enough-0123456789";
        assert!(
            keys.verify(&sign(good.clone(), Algorithm::HS256, secret))
                .is_ok()
        );
        assert!(
            keys.verify(&sign(
                good.clone(),
                Algorithm::HS256,
                "another-secret-of-enough-length-0000"
            ))
            .is_err()
        );
        assert!(
            keys.verify(&sign(good.clone(), Algorithm::HS512, secret))
                .is_err(),
            "algorithm is pinned"
        );
        for missing in ["exp", "aud", "iss", "sub", "iat"] {
            let mut claims = good.clone();
            if let Some(map) = claims.as_object_mut() {
                map.remove(missing);
            }
            assert!(
                keys.verify(&sign(claims, Algorithm::HS256, secret))
                    .is_err(),
                "{missing} is required"
            );
        }
        let mut expired = good.clone();
        expired["exp"] = serde_json::json!(now - 60);
        assert!(
            keys.verify(&sign(expired, Algorithm::HS256, secret))
                .is_err()
        );
        let mut other_aud = good;
        other_aud["aud"] = serde_json::json!("someone-else");
        assert!(
            keys.verify(&sign(other_aud, Algorithm::HS256, secret))
                .is_err()
        );
        // alg "none": header {"alg":"none"}, no signature.
        let none = "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ1In0.";
        assert!(keys.verify(none).is_err());
    }

    #[test]
    fn digests_are_stable_hex() {
        assert_eq!(digest("abc").len(), 64);
        assert_eq!(digest("abc"), digest("abc"));
        assert_ne!(digest("abc"), digest("abd"));
    }
}
