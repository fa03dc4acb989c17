//! dualtape: automatic differentiation written once.

pub mod check;
pub mod finite_diff;
pub mod forward;
pub mod function;
pub mod ops;
pub mod reverse;
pub mod rules;
pub mod scalar;
#[cfg(feature = "quickcheck")]
pub mod testing;

pub use forward::{Dual, DualVec};
pub use function::Differentiable;
pub use reverse::Var;
pub use scalar::Scalar;
