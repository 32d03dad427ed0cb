//! tmp
#![warn(missing_docs)]
pub mod clock;
pub mod ratelimit;
pub mod retry;
pub mod skew;
