//! dualtape: automatic differentiation written once.

pub mod finite_diff;
