//! temp
#![warn(missing_docs)]
pub mod apk;
pub mod error;
pub mod manifest;
pub mod output;
pub mod report;
