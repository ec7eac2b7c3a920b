//! domain (being built)
