//! Consolidation (`POST /consolidate`) and its log (`GET /consolidations`).
//!
//! One planner ([`plan_consolidation`]) decides; a dry run logs and returns its report, a real
//! run applies exactly that plan's writes in one transaction and returns the same report. So a
//! dry run and a real run over the same data at the same time agree exactly.

use super::{Memories, QuotaDelta};
use crate::{CoreError, CoreResult};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;
use wm_domain::ids::UserId;
use wm_domain::memory::{ConsolidateRequest, ConsolidationReport, plan_consolidation};
use wm_store::{ConsolidationRun, ConsolidationWrite, MemoryQuery, SortField, SortOrder, StatusFilter, StoreError};

/// Most runs `GET /consolidations` returns.
pub const MAX_RUNS: u32 = 100;
/// Page size when loading an account's memories for planning.
const LOAD_PAGE: u32 = 1_000;

/// One consolidation run (dry or real) and what it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ConsolidationRunView {
    /// Run id.
    pub id: Uuid,
    /// When it ran.
    pub ran_at: DateTime<Utc>,
    /// True when nothing was changed.
    pub dry_run: bool,
    /// What it did (or would do).
    pub report: ConsolidationReport,
}

impl ConsolidationRunView {
    fn from_run(run: ConsolidationRun) -> CoreResult<Self> {
        let report = serde_json::from_value(run.report)
            .map_err(|e| CoreError::Store(StoreError::Corrupt(format!("consolidation report {}: {e}", run.id))))?;
        Ok(Self { id: run.id, ran_at: run.ran_at, dry_run: run.dry_run, report })
    }
}

impl Memories {
    /// Plan a consolidation of the account's active memories and either log it (dry run, the
    /// default) or apply and log it atomically.
    pub async fn consolidate(&self, owner: UserId, req: &ConsolidateRequest) -> CoreResult<ConsolidationRunView> {
        let options = req.validate(&self.limits)?;
        let now = self.now();
        let active = self
            .list_all(
                owner,
                MemoryQuery {
                    status: StatusFilter::Active,
                    sort: SortField::Created,
                    order: SortOrder::Asc,
                    limit: LOAD_PAGE,
                    ..MemoryQuery::default()
                },
            )
            .await?;
        let plan = plan_consolidation(&active, &options, &self.limits, now);
        let report = plan.report();
        let run = ConsolidationRun {
            id: Uuid::now_v7(),
            ran_at: now,
            dry_run: options.dry_run,
            report: serde_json::to_value(&report).map_err(|e| CoreError::Store(StoreError::Database(e.to_string())))?,
        };
        if options.dry_run {
            self.store.log_consolidation(owner, &run).await?;
        } else {
            let insert: Vec<_> = plan
                .promote
                .iter()
                .map(|p| p.memory.clone())
                .chain(plan.digests.iter().cloned())
                .map(|n| n.into_memory(Uuid::now_v7(), now))
                .collect();
            let delta = QuotaDelta::of(&insert);
            let write = ConsolidationWrite {
                retag: plan.merges.iter().map(|m| (m.keep, m.tags_union.clone())).collect(),
                archive: plan.archived_ids(),
                insert,
                at: now,
                log: run.clone(),
            };
            self.with_quota(owner, delta, |quota| self.store.apply_consolidation(owner, &write, quota)).await?;
            tracing::info!(
                user.id = %owner,
                consolidation.archived = report.archived_count,
                consolidation.promoted = report.promoted_count,
                consolidation.merged = report.merged_groups,
                "consolidation applied"
            );
        }
        Ok(ConsolidationRunView { id: run.id, ran_at: run.ran_at, dry_run: run.dry_run, report })
    }

    /// Logged runs, newest first (`limit` 1–100, default 20).
    pub async fn list_consolidations(
        &self,
        owner: UserId,
        limit: Option<u32>,
    ) -> CoreResult<Vec<ConsolidationRunView>> {
        let limit = super::list::check_limit(limit, 20, MAX_RUNS)?;
        self.store.list_consolidations(owner, limit).await?.into_iter().map(ConsolidationRunView::from_run).collect()
    }
}
