//! The `ms` command (skeleton).
fn main() {}
