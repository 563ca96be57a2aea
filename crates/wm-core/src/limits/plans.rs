//! Plans as data: the admin use-cases and the short-lived plan cache.

use super::PlanLimits;
use crate::{CoreError, CoreResult};
use chrono::{DateTime, SubsecRound, Utc};
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError, RwLock};
use std::time::{Duration, Instant};
use wm_domain::plan::{Plan, PlanFeatures, PlanName};
use wm_store::Store;

/// A plan's settings (`PUT /admin/plans/{name}`): every limit is required.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanInput {
    /// Requests per minute (also the largest burst); 0 blocks every request.
    pub per_minute: u64,
    /// Requests per UTC day.
    pub daily: u64,
    /// Requests per UTC month.
    pub monthly: u64,
    /// Most memories an account may hold.
    pub memories: u64,
    /// Most bytes of memories (title + content) an account may hold.
    pub storage_bytes: u64,
    /// Feature flags, e.g. `{"rest_api": true, "mcp": true}`; absent flags are on.
    #[serde(default)]
    #[cfg_attr(feature = "openapi", schema(value_type = Option<Object>, example = json!({"rest_api": true, "mcp": true})))]
    pub features: Option<serde_json::Value>,
}

/// A plan as the API shows it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanView {
    /// The plan's name (what users' `plan` refers to).
    pub name: String,
    /// Requests per minute.
    pub per_minute: u64,
    /// Requests per UTC day.
    pub daily: u64,
    /// Requests per UTC month.
    pub monthly: u64,
    /// Most memories an account may hold.
    pub memories: u64,
    /// Most bytes of memories an account may hold.
    pub storage_bytes: u64,
    /// Feature flags (absent flags are on).
    #[cfg_attr(feature = "openapi", schema(value_type = Object))]
    pub features: serde_json::Value,
    /// Last change.
    pub updated_at: DateTime<Utc>,
}

impl From<&Plan> for PlanView {
    fn from(p: &Plan) -> Self {
        Self {
            name: p.name.as_str().to_owned(),
            per_minute: p.per_minute,
            daily: p.daily,
            monthly: p.monthly,
            memories: p.max_memories,
            storage_bytes: p.max_storage_bytes,
            features: p.features.to_json(),
            updated_at: p.updated_at,
        }
    }
}

/// Every plan.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PlanList {
    /// Ordered by monthly limit, then name.
    pub plans: Vec<PlanView>,
}

impl PlanLimits {
    /// Every plan, fresh from the store.
    pub async fn list_plans(&self) -> CoreResult<Vec<Plan>> {
        Ok(self.store.list_plans().await?)
    }

    /// Create or replace the plan `name`; effective on this instance's next request, on the
    /// others' within the plan cache TTL.
    pub async fn put_plan(&self, name: &PlanName, input: &PlanInput) -> CoreResult<Plan> {
        let features = match &input.features {
            Some(v) => PlanFeatures::parse(v)?,
            None => PlanFeatures::default(),
        };
        let plan = Plan {
            name: name.clone(),
            per_minute: input.per_minute,
            daily: input.daily,
            monthly: input.monthly,
            max_memories: input.memories,
            max_storage_bytes: input.storage_bytes,
            features,
            updated_at: self.clock.now().trunc_subsecs(6),
        };
        plan.validate()?;
        self.store.upsert_plan(&plan).await?;
        self.plans.clear();
        tracing::info!(plan = %name, "plan saved");
        Ok(plan)
    }
}

/// Every plan, reloaded from the store when older than the TTL (one reload at a time).
pub(crate) struct PlanCache {
    ttl: Duration,
    /// Told of every local plan edit, for other instances.
    changed: tokio::sync::broadcast::Sender<()>,
    snapshot: RwLock<Option<Arc<Snapshot>>>,
    reload: tokio::sync::Mutex<()>,
}

struct Snapshot {
    loaded: Instant,
    plans: HashMap<String, Arc<Plan>>,
    /// Unknown plan names already warned about (once per snapshot).
    warned: Mutex<HashSet<String>>,
}

impl PlanCache {
    pub fn new(ttl: Duration) -> Self {
        let changed = tokio::sync::broadcast::channel(16).0;
        Self { ttl, changed, snapshot: RwLock::new(None), reload: tokio::sync::Mutex::new(()) }
    }

    /// Forget everything (a plan was edited here): the next lookup reloads; announced.
    pub fn clear(&self) {
        self.drop_all();
        let _ = self.changed.send(());
    }

    /// Forget everything (a plan was edited elsewhere); not announced.
    pub fn drop_all(&self) {
        *self.snapshot.write().unwrap_or_else(PoisonError::into_inner) = None;
    }

    /// Local plan edits, as they happen.
    pub fn changes(&self) -> tokio::sync::broadcast::Receiver<()> {
        self.changed.subscribe()
    }

    /// The plan `name`: an unknown name falls back to `free` (then to the built-in `free`).
    pub async fn get(&self, store: &dyn Store, name: &PlanName, now: DateTime<Utc>) -> CoreResult<Arc<Plan>> {
        let snapshot = match self.fresh() {
            Some(s) => s,
            None => self.load(store).await?,
        };
        if let Some(plan) = snapshot.plans.get(name.as_str()) {
            return Ok(plan.clone());
        }
        if snapshot.warned.lock().unwrap_or_else(PoisonError::into_inner).insert(name.to_string()) {
            tracing::warn!(plan = %name, "accounts refer to an unknown plan; applying the free plan's limits");
        }
        if let Some(free) = snapshot.plans.get("free") {
            return Ok(free.clone());
        }
        Plan::defaults(now).into_iter().next().map(Arc::new).ok_or(CoreError::NotFound("plan"))
    }

    fn fresh(&self) -> Option<Arc<Snapshot>> {
        let guard = self.snapshot.read().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().filter(|s| s.loaded.elapsed() < self.ttl).cloned()
    }

    async fn load(&self, store: &dyn Store) -> CoreResult<Arc<Snapshot>> {
        let _one_at_a_time = self.reload.lock().await;
        if let Some(s) = self.fresh() {
            return Ok(s); // another request reloaded while this one waited
        }
        match store.list_plans().await {
            Ok(plans) => {
                let plans = plans.into_iter().map(|p| (p.name.to_string(), Arc::new(p))).collect();
                let snapshot = Arc::new(Snapshot { loaded: Instant::now(), plans, warned: Mutex::default() });
                *self.snapshot.write().unwrap_or_else(PoisonError::into_inner) = Some(snapshot.clone());
                Ok(snapshot)
            }
            Err(e) => {
                // Keep serving the plans we had rather than failing every request.
                let stale = self.snapshot.read().unwrap_or_else(PoisonError::into_inner).clone();
                let Some(stale) = stale else { return Err(e.into()) };
                tracing::warn!(error = %e, "reloading plans failed; keeping the cached ones");
                let kept =
                    Arc::new(Snapshot { loaded: Instant::now(), plans: stale.plans.clone(), warned: Mutex::default() });
                *self.snapshot.write().unwrap_or_else(PoisonError::into_inner) = Some(kept.clone());
                Ok(kept)
            }
        }
    }
}
