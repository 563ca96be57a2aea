//! Unit tests for the memory module.

mod consolidation;
mod context;
mod export;
mod fixtures;
mod legacy;
mod model;
mod tags;
