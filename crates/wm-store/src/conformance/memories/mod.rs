//! Conformance cases for `MemoryStore` (`memories_*`).

mod crud;
mod fixtures;
mod list;
mod search;
mod stats;

pub use crud::*;
pub use list::*;
pub use search::*;
pub use stats::*;
