//! dualtape: automatic differentiation written once.

pub mod forward;
pub mod ops;
pub mod rules;
pub mod scalar;

pub use forward::{Dual, DualVec};
pub use scalar::Scalar;
