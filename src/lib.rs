//! dualtape: automatic differentiation written once.

pub mod finite_diff;
pub mod forward;
pub mod ops;
pub mod reverse;
pub mod rules;
pub mod scalar;

pub use forward::{Dual, DualVec};
pub use reverse::Var;
pub use scalar::Scalar;
