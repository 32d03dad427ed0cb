//! ms-model (skeleton).
