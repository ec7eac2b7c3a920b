//! serve (being built)
