//! ms-transport (skeleton).
