//! tc3-sign (skeleton).
