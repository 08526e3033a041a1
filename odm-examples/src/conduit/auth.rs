//! Passwords and tokens.
//!
//! Passwords are hashed with PBKDF2-HMAC-SHA256 and a random 16-byte salt, stored as
//! `pbkdf2-sha256$ROUNDS$SALT$HASH` (base64), so the round count can be raised later without losing old
//! hashes. The default round count ([`DEFAULT_PASSWORD_ROUNDS`]) is modest so that the service stays
//! quick in debug builds and tests; a production deployment raises it with `--password-rounds` (OWASP
//! suggests 600,000 for PBKDF2-HMAC-SHA256) or moves to Argon2id.
//!
//! Tokens are JWTs signed with HS256 (HMAC-SHA256), written out here in a few lines rather than with a
//! JWT crate: the claims are the user's id (`sub`), the tenant (`tenant`) and the expiry (`exp`). A token
//! is only valid for the tenant it was issued in, so a token of tenant A used on tenant B's path is 401.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use hmac::{Hmac, KeyInit as _, Mac as _};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

/// The PBKDF2 round count when none is given.
pub const DEFAULT_PASSWORD_ROUNDS: u32 = 10_000;

/// How long a token is valid when none is given.
pub const DEFAULT_TOKEN_TTL: Duration = Duration::from_secs(24 * 60 * 60);

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    /// The user's id, in hex.
    pub sub: String,
    /// The tenant the token was issued in.
    pub tenant: String,
    /// When it expires, in seconds since the Unix epoch.
    pub exp: u64,
}

/// The secret that signs tokens, and how long they last.
#[derive(Clone)]
pub struct Keys {
    secret: Vec<u8>,
    ttl: Duration,
}

impl std::fmt::Debug for Keys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Keys")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

const HEADER: &str = r#"{"alg":"HS256","typ":"JWT"}"#;

impl Keys {
    /// Keys that sign with `secret`.
    pub fn new(secret: impl Into<Vec<u8>>, ttl: Duration) -> Keys {
        Keys {
            secret: secret.into(),
            ttl,
        }
    }

    /// Keys with a random 32-byte secret: tokens die with the process.
    pub fn random(ttl: Duration) -> Keys {
        let mut secret = [0u8; 32];
        getrandom::fill(&mut secret).expect("the system's random source");
        Keys::new(secret.to_vec(), ttl)
    }

    fn mac(&self) -> Hmac<Sha256> {
        Hmac::<Sha256>::new_from_slice(&self.secret).expect("HMAC takes keys of any length")
    }

    /// A token for `user` of `tenant`.
    pub fn issue(&self, tenant: &str, user: &str) -> String {
        let exp = (SystemTime::now() + self.ttl)
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let claims = Claims {
            sub: user.to_owned(),
            tenant: tenant.to_owned(),
            exp,
        };
        let payload = serde_json::to_vec(&claims).expect("claims serialize");
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(HEADER),
            URL_SAFE_NO_PAD.encode(payload)
        );
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        let signature = URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes());
        format!("{signing_input}.{signature}")
    }

    /// The claims of `token` when its signature is ours, its algorithm HS256 and it has not expired.
    pub fn verify(&self, token: &str) -> Option<Claims> {
        let (signing_input, signature) = token.rsplit_once('.')?;
        let (header, payload) = signing_input.split_once('.')?;
        let signature = URL_SAFE_NO_PAD.decode(signature).ok()?;
        let mut mac = self.mac();
        mac.update(signing_input.as_bytes());
        mac.verify_slice(&signature).ok()?;
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(header).ok()?).ok()?;
        if header.get("alg")?.as_str()? != "HS256" {
            return None;
        }
        let claims: Claims = serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).ok()?).ok()?;
        let now = SystemTime::now().duration_since(UNIX_EPOCH).ok()?.as_secs();
        (claims.exp > now).then_some(claims)
    }
}

/// Hashes `password` with a fresh random salt.
pub fn hash_password(password: &str, rounds: u32) -> String {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).expect("the system's random source");
    let hash = pbkdf2::pbkdf2_hmac_array::<Sha256, 32>(password.as_bytes(), &salt, rounds);
    format!(
        "pbkdf2-sha256${rounds}${}${}",
        STANDARD_NO_PAD.encode(salt),
        STANDARD_NO_PAD.encode(hash)
    )
}

/// Whether `password` is the one `stored` was made from (compared in constant time).
pub fn verify_password(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2-sha256"), Some(rounds), Some(salt), Some(hash), None) = (
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
        parts.next(),
    ) else {
        return false;
    };
    let (Ok(rounds), Ok(salt), Ok(hash)) = (
        rounds.parse::<u32>(),
        STANDARD_NO_PAD.decode(salt),
        STANDARD_NO_PAD.decode(hash),
    ) else {
        return false;
    };
    let mut computed = vec![0u8; hash.len()];
    pbkdf2::pbkdf2_hmac::<Sha256>(password.as_bytes(), &salt, rounds, &mut computed);
    computed.len() == hash.len()
        && computed
            .iter()
            .zip(&hash)
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_refuse_tampering() {
        let keys = Keys::new(b"secret".to_vec(), DEFAULT_TOKEN_TTL);
        let token = keys.issue("acme", "65f1c2a4b7e4a1d2c3b4a5f6");
        let claims = keys.verify(&token).expect("valid");
        assert_eq!(
            (claims.tenant.as_str(), claims.sub.as_str()),
            ("acme", "65f1c2a4b7e4a1d2c3b4a5f6")
        );

        let other = Keys::new(b"other".to_vec(), DEFAULT_TOKEN_TTL);
        assert_eq!(other.verify(&token), None);

        // A payload swapped for another tenant's keeps the old signature, which no longer matches.
        let forged_payload = URL_SAFE_NO_PAD
            .encode(br#"{"sub":"65f1c2a4b7e4a1d2c3b4a5f6","tenant":"globex","exp":99999999999}"#);
        let mut parts: Vec<&str> = token.split('.').collect();
        parts[1] = &forged_payload;
        assert_eq!(keys.verify(&parts.join(".")), None);
        assert_eq!(keys.verify("not a token"), None);

        let expired = Keys::new(b"secret".to_vec(), Duration::ZERO).issue("acme", "x");
        assert_eq!(keys.verify(&expired), None);
    }

    #[test]
    fn passwords_verify_only_themselves() {
        let stored = hash_password("hunter2", 1000);
        assert!(stored.starts_with("pbkdf2-sha256$1000$"));
        assert!(verify_password("hunter2", &stored));
        assert!(!verify_password("hunter3", &stored));
        assert!(!verify_password("hunter2", "plain"));
        assert_ne!(
            stored,
            hash_password("hunter2", 1000),
            "a fresh salt each time"
        );
    }
}
