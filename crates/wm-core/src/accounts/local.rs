//! The local principal: acting as one user of the database without an API key, for the
//! single-user tools that run next to the database (`whitemagic mcp --user EMAIL`).

use super::Accounts;
use crate::{AuthFailure, CoreError, CoreResult};
use uuid::Uuid;
use wm_domain::account::Principal;
use wm_domain::email::Email;
use wm_domain::ids::KeyId;

impl Accounts {
    /// The principal of the user with `email`. It carries no key: `key_id` is the nil id.
    /// An unknown email is `not_found`; a suspended account is refused as its keys would be.
    pub async fn local_principal(&self, email: &Email) -> CoreResult<Principal> {
        let user = self.store.find_user_by_email(email).await?.ok_or(CoreError::NotFound("user"))?;
        if user.suspended {
            return Err(CoreError::Unauthorized(AuthFailure::Suspended));
        }
        Ok(Principal {
            user_id: user.id,
            key_id: KeyId(Uuid::nil()),
            email: user.email,
            role: user.role,
            plan: user.plan,
        })
    }
}
