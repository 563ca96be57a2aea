//! Operator use-cases: users, keys for users, admin bootstrap.

use super::{Accounts, CreatedKey, new_key};
use crate::{CoreError, CoreResult};
use wm_domain::ValidationError;
use wm_domain::account::{Role, User};
use wm_domain::api_key::ApiKey;
use wm_domain::email::Email;
use wm_domain::ids::UserId;
use wm_domain::plan::PlanName;
use wm_store::{NewUser, StoreError, UserPatch, UserQuery};

/// Email of the admin created on first start when nothing else was configured.
pub const BOOTSTRAP_ADMIN_EMAIL: &str = "admin@whitemagic.local";
/// Plans every installation knows about.
pub const BUILTIN_PLANS: [&str; 4] = ["free", "starter", "pro", "enterprise"];

/// A new account.
#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: Email,
    pub plan: Option<PlanName>,
    pub role: Option<Role>,
}

/// Admin changes to a user.
pub type AdminUserPatch = UserPatch;

/// One page of users and the cursor for the next.
#[derive(Debug, Clone)]
pub struct UserPage {
    pub users: Vec<User>,
    pub next_cursor: Option<UserId>,
}

impl Accounts {
    /// The plan must exist in the plans table (the built-in ones or any an admin added).
    async fn check_plan(&self, plan: &PlanName) -> CoreResult<()> {
        if self.store.get_plan(plan).await?.is_some() {
            return Ok(());
        }
        let known: Vec<String> = self.store.list_plans().await?.into_iter().map(|p| p.name.to_string()).collect();
        Err(ValidationError::new("plan", format!("unknown plan; one of {}", known.join(", "))).into())
    }

    pub async fn list_users(&self, q: Option<String>, limit: u32, after: Option<UserId>) -> CoreResult<UserPage> {
        let limit = limit.clamp(1, 100);
        let mut users = self.store.list_users(&UserQuery { q, limit: limit + 1, after }).await?;
        let next_cursor = if users.len() > limit as usize {
            users.truncate(limit as usize);
            users.last().map(|u| u.id)
        } else {
            None
        };
        Ok(UserPage { users, next_cursor })
    }

    /// Create a user; 409 if the email is taken.
    pub async fn create_user(&self, new: NewAccount) -> CoreResult<User> {
        let plan = new.plan.unwrap_or_else(PlanName::free);
        self.check_plan(&plan).await?;
        let user = NewUser {
            id: UserId::new(),
            email: new.email,
            role: new.role.unwrap_or(Role::User),
            plan,
            now: self.now(),
        };
        self.store.create_user(user).await.map_err(|e| match e {
            StoreError::Conflict(_) => CoreError::Conflict("a user with this email already exists".into()),
            e => e.into(),
        })
    }

    pub async fn get_user(&self, id: UserId) -> CoreResult<User> {
        self.store.get_user(id).await?.ok_or(CoreError::NotFound("user"))
    }

    /// Change plan, role or suspension; effective on the user's next request.
    pub async fn update_user(&self, id: UserId, patch: AdminUserPatch) -> CoreResult<User> {
        if let Some(p) = &patch.plan {
            self.check_plan(p).await?;
        }
        let user = self.store.update_user(id, &patch, self.now()).await?.ok_or(CoreError::NotFound("user"))?;
        self.cache.clear();
        Ok(user)
    }

    /// Issue a key for any user (admin).
    pub async fn create_key_for(&self, id: UserId, name: &str) -> CoreResult<CreatedKey> {
        self.get_user(id).await?;
        self.create_key(id, name, None).await
    }

    /// Make sure `email` is an admin owning `key` (idempotent; safe with several instances
    /// starting at once). Returns whether anything was created.
    pub async fn ensure_admin_key(&self, email: &Email, key: &ApiKey, label: &str) -> CoreResult<bool> {
        if let Some((_, owner)) = self.store.find_key_by_hash(&key.hash()).await? {
            if owner.email != *email {
                return Err(CoreError::Conflict("the seed admin key already belongs to another user".into()));
            }
            return Ok(false);
        }
        let user = self.find_or_create_admin(email).await?;
        let now = self.now();
        let new = wm_store::NewApiKey {
            id: wm_domain::ids::KeyId::new(),
            user_id: user.id,
            name: label.to_owned(),
            prefix: key.prefix().to_owned(),
            hash: key.hash(),
            created_at: now,
            expires_at: None,
        };
        match self.store.insert_key(new).await {
            Ok(_) => Ok(true),
            Err(StoreError::Conflict(_)) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// Create an admin key for `email` (creating or promoting the user), shown once.
    pub async fn create_admin_key(&self, email: &Email, label: &str) -> CoreResult<CreatedKey> {
        let user = self.find_or_create_admin(email).await?;
        let (key, new) =
            new_key(self.config.key_env, user.id, wm_domain::account::parse_key_name(label)?, self.now(), None);
        let record = self.store.insert_key(new).await?;
        Ok(CreatedKey { record, key })
    }

    /// On an empty database only: create the bootstrap admin and return its key (to print once).
    pub async fn bootstrap_if_empty(&self) -> CoreResult<Option<CreatedKey>> {
        if self.store.count_users().await? > 0 {
            return Ok(None);
        }
        let email = Email::parse(BOOTSTRAP_ADMIN_EMAIL)?;
        let user = NewUser {
            id: UserId::new(),
            email,
            role: Role::Admin,
            plan: PlanName::parse("enterprise")?,
            now: self.now(),
        };
        let user = match self.store.create_user(user).await {
            Ok(u) => u,
            Err(StoreError::Conflict(_)) => return Ok(None), // another instance won the race
            Err(e) => return Err(e.into()),
        };
        let (key, new) = new_key(self.config.key_env, user.id, "bootstrap".into(), self.now(), None);
        let record = self.store.insert_key(new).await?;
        Ok(Some(CreatedKey { record, key }))
    }

    async fn find_or_create_admin(&self, email: &Email) -> CoreResult<User> {
        if let Some(u) = self.store.find_user_by_email(email).await? {
            if u.role == Role::Admin {
                return Ok(u);
            }
            let patch = UserPatch { role: Some(Role::Admin), ..Default::default() };
            return self.store.update_user(u.id, &patch, self.now()).await?.ok_or(CoreError::NotFound("user"));
        }
        let new = NewUser {
            id: UserId::new(),
            email: email.clone(),
            role: Role::Admin,
            plan: PlanName::parse("enterprise")?,
            now: self.now(),
        };
        match self.store.create_user(new).await {
            Ok(u) => Ok(u),
            Err(StoreError::Conflict(_)) => {
                self.store.find_user_by_email(email).await?.ok_or(CoreError::NotFound("user"))
            }
            Err(e) => Err(e.into()),
        }
    }
}
