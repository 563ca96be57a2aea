//! Key delivery without ever storing the raw key: a purchase inserts the key with the hash of a
//! throwaway secret nobody knows, plus a random claim token stored only as a hash. Claiming the
//! token (once, atomically) gives the key a fresh secret and shows it, that once.

use super::{Billing, BillingConfig};
use crate::{CoreError, CoreResult};
use chrono::{DateTime, Utc};
use rand::Rng;
use wm_domain::api_key::{ApiKey, KeyEnv, KeyHash};
use wm_domain::email::Email;
use wm_domain::ids::{KeyId, UserId};
use wm_domain::plan::PlanName;
use wm_store::{ClaimOutcome, NewApiKey, NewClaimToken};

const TOKEN_LEN: usize = 32;
const BASE62: &[u8] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/// A one-time link that reveals a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimLink {
    /// `{WM_PUBLIC_URL}/claim/{token}`.
    pub url: String,
    pub expires_at: DateTime<Utc>,
}

/// What opening a claim link shows.
#[derive(Debug, Clone)]
pub enum ClaimResult {
    /// The key, shown now and never again.
    Revealed {
        key: ApiKey,
        email: Email,
        plan: PlanName,
    },
    AlreadyClaimed,
    Expired,
    /// The key was revoked before anyone claimed it.
    Revoked,
    NotFound,
}

/// A key, its claim token and the link, ready to insert.
pub(crate) struct Issued {
    pub key: NewApiKey,
    pub claim: NewClaimToken,
    pub link: ClaimLink,
}

/// A fresh placeholder key for `user` and a claim token for it.
pub(crate) fn issue(cfg: &BillingConfig, env: KeyEnv, user: UserId, name: &str, now: DateTime<Utc>) -> Issued {
    let placeholder = ApiKey::generate(env);
    let mut rng = rand::rng();
    let token: String = (0..TOKEN_LEN).map(|_| BASE62[rng.random_range(0..BASE62.len())] as char).collect();
    let expires_at = now + cfg.claim_ttl;
    let key = NewApiKey {
        id: KeyId::new(),
        user_id: user,
        name: name.to_owned(),
        prefix: placeholder.prefix().to_owned(),
        hash: placeholder.hash(),
        created_at: now,
        expires_at: None,
    };
    let claim =
        NewClaimToken { token_hash: KeyHash::of(&token), key_id: key.id, user_id: user, created_at: now, expires_at };
    let url = format!("{}/claim/{token}", cfg.public_url.trim_end_matches('/'));
    Issued { key, claim, link: ClaimLink { url, expires_at } }
}

/// Whether `token` has the shape of a claim token (it may still be unknown).
pub fn well_formed(token: &str) -> bool {
    token.len() == TOKEN_LEN && token.bytes().all(|b| b.is_ascii_alphanumeric())
}

impl Billing {
    /// Use a claim token: the first call reveals the key, every later one says it was claimed.
    pub async fn claim(&self, token: &str) -> CoreResult<ClaimResult> {
        if !well_formed(token) {
            return Ok(ClaimResult::NotFound);
        }
        let key = ApiKey::generate(self.accounts.key_env());
        let outcome = self.store.claim_key(&KeyHash::of(token), &key.hash(), key.prefix(), self.clock.now()).await?;
        Ok(match outcome {
            ClaimOutcome::Claimed { user_id, .. } => {
                self.accounts.forget_cached_key(key.hash().as_str());
                let user = self.store.get_user(user_id).await?.ok_or(CoreError::NotFound("user"))?;
                tracing::info!(user.id = %user_id, "API key claimed");
                ClaimResult::Revealed { key, email: user.email, plan: user.plan }
            }
            ClaimOutcome::AlreadyUsed => ClaimResult::AlreadyClaimed,
            ClaimOutcome::Expired => ClaimResult::Expired,
            ClaimOutcome::KeyRevoked => ClaimResult::Revoked,
            ClaimOutcome::NotFound => ClaimResult::NotFound,
        })
    }

    /// A new key for `user`, delivered by a fresh claim link (for operators without SMTP, or a
    /// lost email). The key works once claimed.
    pub async fn issue_claim_link(&self, user: UserId) -> CoreResult<ClaimLink> {
        self.store.get_user(user).await?.ok_or(CoreError::NotFound("user"))?;
        let issued = issue(&self.config, self.accounts.key_env(), user, "claim link", self.clock.now());
        self.store.insert_claimable_key(&issued.key, &issued.claim).await?;
        Ok(issued.link)
    }
}
