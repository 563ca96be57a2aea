//! Conformance cases for `MemoryStore` (`memories_*`).

mod crud;
mod fixtures;
mod list;
mod quota;
mod search;
mod stats;

pub use crud::*;
pub use list::*;
pub use quota::*;
pub use search::*;
pub use stats::*;
