//! dualtape: automatic differentiation written once.
pub mod nn;
