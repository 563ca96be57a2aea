//! Memories: the model, tag rules, context packing, consolidation planning, export formats.
//!
//! Everything here is pure: storage and HTTP build on these types.

pub mod consolidation;
pub mod context;
pub mod export;
pub mod legacy;
pub mod model;
pub mod patch;
pub mod tags;
pub mod tokens;

#[cfg(test)]
mod tests;

pub use consolidation::{
    ConsolidateRequest, ConsolidationOptions, ConsolidationPlan, ConsolidationReport, Merge, Promotion, ReportItem,
    ReportMerge, plan_consolidation,
};
pub use context::{
    ContextCandidates, ContextPackage, ContextParams, ContextRequest, RenderMode, Tier, TierRules, pack_context,
};
pub use export::{Manifest, ManifestCounts, ManifestFile, export_path, parse_markdown, render_markdown};
pub use legacy::{LegacyMemory, parse_legacy_v2};
pub use model::{
    CreateMemoryRequest, DEFAULT_SEARCH_CANDIDATES, MIN_SEARCH_CANDIDATES, Memory, MemoryLimits, MemoryStatus,
    MemoryType, Metadata, NewMemory, content_hash,
};
pub use patch::{MemoryPatch, UpdateMemoryRequest};
pub use tags::{TagError, normalize_tag, normalize_tags};
pub use tokens::count_tokens;
