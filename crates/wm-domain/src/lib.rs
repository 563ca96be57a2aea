//! WhiteMagic domain: newtypes that parse, enums, and pure logic. No IO here.

pub mod account;
pub mod api_key;
pub mod clock;
pub mod email;
pub mod error;
pub mod ids;
pub mod memory;
pub mod plan;
pub mod usage;

pub use clock::{Clock, FixedClock, SystemClock};
pub use error::ValidationError;
