//! ms-emulator (skeleton).
