//! API keys: `wm_<env>_<32 base62>`, ~190 bits of randomness, stored only as SHA-256.

use crate::ValidationError;
use rand::Rng;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SECRET_LEN: usize = 32;
/// How many leading characters of a key are kept for display.
pub const PREFIX_LEN: usize = 16;

/// The environment tag embedded in a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyEnv {
    Prod,
    Test,
    Dev,
}

impl KeyEnv {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Prod => "prod",
            Self::Test => "test",
            Self::Dev => "dev",
        }
    }
}

/// Why a presented key was refused before any lookup.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum KeyFormatError {
    #[error("the API key is not of the form wm_<env>_<32 characters>")]
    Malformed,
}

/// A raw API key. Its Debug output never shows the secret.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey(String);

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ApiKey({}…)", self.prefix())
    }
}

impl ApiKey {
    /// A fresh random key for `env`.
    pub fn generate(env: KeyEnv) -> Self {
        let mut rng = rand::rng();
        let secret: String = (0..SECRET_LEN).map(|_| BASE62[rng.random_range(0..BASE62.len())] as char).collect();
        Self(format!("wm_{}_{}", env.as_str(), secret))
    }

    /// Check the shape of a presented key (no lookup).
    pub fn parse(raw: &str) -> Result<Self, KeyFormatError> {
        let rest = raw.strip_prefix("wm_").ok_or(KeyFormatError::Malformed)?;
        let (env, secret) = rest.split_once('_').ok_or(KeyFormatError::Malformed)?;
        let env_ok = matches!(env, "prod" | "test" | "dev");
        let secret_ok = secret.len() == SECRET_LEN && secret.bytes().all(|b| b.is_ascii_alphanumeric());
        if env_ok && secret_ok { Ok(Self(raw.to_owned())) } else { Err(KeyFormatError::Malformed) }
    }

    /// Parse a key given in configuration (e.g. the seed admin key), naming the setting on error.
    pub fn parse_setting(raw: &str, setting: &str) -> Result<Self, ValidationError> {
        Self::parse(raw.trim()).map_err(|e| ValidationError::new(setting, e.to_string()))
    }

    /// The raw key, to show the user exactly once.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The display prefix (first 16 characters).
    pub fn prefix(&self) -> &str {
        &self.0[..PREFIX_LEN.min(self.0.len())]
    }

    /// SHA-256 of the key, the only form stored.
    pub fn hash(&self) -> KeyHash {
        KeyHash::of(&self.0)
    }
}

/// SHA-256 of a raw key or token, hex-encoded (64 chars).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyHash(pub String);

impl KeyHash {
    pub fn of(raw: &str) -> Self {
        // `encode_to_slice` works on bytes; `hex::encode` goes char by char (a hot path here).
        let mut buf = [0u8; 64];
        hex::encode_to_slice(Sha256::digest(raw.as_bytes()), &mut buf).expect("32 bytes fill 64 hex digits");
        Self(std::str::from_utf8(&buf).expect("hex is ASCII").to_owned())
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_parse_and_differ() {
        let a = ApiKey::generate(KeyEnv::Prod);
        let b = ApiKey::generate(KeyEnv::Prod);
        assert_ne!(a, b);
        assert_eq!(a.expose().len(), "wm_prod_".len() + 32);
        assert_eq!(ApiKey::parse(a.expose()).unwrap(), a);
        assert_eq!(a.prefix().len(), 16);
        assert!(!format!("{a:?}").contains(&a.expose()[16..]));
        assert_eq!(a.hash().as_str().len(), 64);
    }

    #[test]
    fn rejects_malformed() {
        let ok = "wm_test_0123456789abcdefABCDEF0123456789";
        assert!(ApiKey::parse(ok).is_ok());
        for bad in [
            "",
            "wm_test_",
            "wm_stage_0123456789abcdefABCDEF0123456789",
            "wm_test_0123456789abcdefABCDEF012345678",
            "wm_test_0123456789abcdefABCDEF01234567890",
            "wm_test_0123456789abcdefABCDEF01234567-9",
            "xx_test_0123456789abcdefABCDEF0123456789",
        ] {
            assert!(ApiKey::parse(bad).is_err(), "{bad:?} accepted");
        }
    }
}
