//! # dualtape: automatic differentiation written once
//!
//! Write a model once against one trait, [`Scalar`], and choose how it is
//! differentiated by choosing the type it runs on:
//!
//! | type | mode | one pass gives | use it for |
//! |---|---|---|---|
//! | `f64` | plain evaluation | the value | finite differences ([`finite_diff`]) |
//! | [`Dual<f64>`](Dual) | forward | one directional derivative | derivatives of few inputs, Jacobian-vector products |
//! | [`DualVec<f64, N>`](DualVec) | forward, chunked | `N` directional derivatives | gradients of up to a few dozen inputs |
//! | [`Var`] | reverse (a tape), `f64` only | the whole gradient, in one backward sweep | gradients of many inputs: neural networks |
//! | [`Dual<Var>`](Dual), [`Dual<Dual<f64>>`](Dual) | nested | second derivatives | Hessian-vector products, Hessians |
//!
//! Every mode applies the same table of derivatives ([`rules`]), so they
//! agree by construction, including at awkward points such as `abs` at 0 or
//! `max` at a tie, where one documented convention holds everywhere.
//!
//! ## A model, written once
//!
//! ```
//! use dualtape::{finite_diff, forward, reverse, DualVec, Scalar, Var};
//!
//! /// The loss of a tiny model: any scalar type works.
//! fn loss<S: Scalar<Real = f64>>(w: &[S]) -> S {
//!     let z = w[0] * 0.5 + w[1] * -1.5 + w[2];
//!     let y = (S::constant(1.0) + (-z).exp()).recip(); // sigmoid
//!     (y - 1.0) * (y - 1.0) * 0.5
//! }
//!
//! let w = [0.1, -0.2, 0.3];
//! let (l_rev, g_rev) = reverse::gradient(loss::<Var>, &w);
//! let (l_fwd, g_fwd) = forward::gradient(loss::<DualVec<f64, 4>>, &w);
//! let (l_fd, g_fd) = finite_diff::gradient(loss::<f64>, &w, finite_diff::Scheme::Richardson);
//!
//! assert_eq!(l_rev, l_fwd);
//! assert_eq!(l_rev, l_fd);
//! for i in 0..3 {
//!     assert!((g_rev[i] - g_fwd[i]).abs() < 1e-15);
//!     assert!((g_rev[i] - g_fd[i]).abs() < 1e-10);
//! }
//! ```
//!
//! Constants: with `S: Scalar<Real = f64>`, `x * 2.0`, `x + 1.0`,
//! `x / 3.0`, `x > 0.0` and `xs.iter().sum()` work as for `f64`, and
//! `x.max_real(0.0)`, `x.powf_real(2.5)` stand in for `RealField`'s methods
//! that take `Self`. On the left of an operator a bare float works for
//! concrete types (`1.0 - x` with `x: Var`); in generic code write
//! `S::constant(1.0) - x`. The full list, with what to write where the
//! language refuses, is in [`Scalar`]'s docs ("Constants in generic code").
//! Scalars are `Copy`: no `.clone()`.
//!
//! ## nalgebra
//!
//! `Scalar` builds on [`nalgebra::RealField`], so every scalar works in
//! nalgebra matrices, products and decompositions. dualtape re-exports the
//! nalgebra it uses ([`nalgebra`]), and [`Lift`]/[`LiftMul`] bring `f64`
//! data into a model's scalar type:
//!
//! ```
//! use dualtape::nalgebra::DMatrix;
//! use dualtape::{reverse, Scalar, Var};
//!
//! // log det(A) for A = [[x0, x1], [x1, x2]], through a Cholesky factorisation.
//! fn logdet<S: Scalar>(x: &[S]) -> S {
//!     let a = DMatrix::from_row_slice(2, 2, &[x[0], x[1], x[1], x[2]]);
//!     let l = a.cholesky().expect("positive definite").l();
//!     (l[(0, 0)] * l[(1, 1)]).ln() * S::constant(2.0)
//! }
//! let (v, g) = reverse::gradient(logdet::<Var>, &[2.0, 1.0, 3.0]);
//! // det = x0 x2 - x1², so ∂/∂x = (x2, -2 x1, x0) / det
//! assert!((v - 5f64.ln()).abs() < 1e-14);
//! assert!((g[0] - 0.6).abs() < 1e-14 && (g[1] + 0.4).abs() < 1e-14 && (g[2] - 0.4).abs() < 1e-14);
//! ```
//!
//! ## Models written once, checked everywhere
//!
//! Closures cannot be generic, so a model that should run in every mode is a
//! type implementing [`Differentiable`], whose `eval` is generic over the
//! scalar. [`check`] compares every mode on it at a point, with a report a
//! person can read, and [`testing`] turns that into a quickcheck property
//! (on failure the point is shrunk and the report shown):
//!
//! ```
//! use dualtape::{check, Differentiable, Scalar};
//!
//! struct Model {
//!     data: Vec<f64>,
//! }
//!
//! impl Differentiable for Model {
//!     fn dim(&self) -> usize {
//!         2
//!     }
//!     fn eval<S: Scalar<Real = f64>>(&self, w: &[S]) -> S {
//!         self.data
//!             .iter()
//!             .fold(S::constant(0.0), |acc, &t| acc + (w[0] * t + w[1]).tanh())
//!     }
//! }
//!
//! let model = Model { data: vec![0.5, -1.0, 2.0] };
//! check::gradient(&model, &[0.3, -0.1]).assert_ok(); // forward, reverse, finite differences
//! ```
//!
//! ## Sparse Jacobians and Hessians
//!
//! When each output touches a few inputs, the `sparse` module detects the
//! pattern from one recording, colours it, and computes the whole Jacobian
//! or Hessian in as many passes as colours, independent of `n`: 3 for a
//! tridiagonal Jacobian of any size. A plan is made once and evaluated at
//! every Newton step (with a `sparse::Workspace` kept alongside, its replays
//! allocate nothing); results are `nalgebra_sparse` matrices.
//!
//! It is behind the feature `sparse`, off by default (nalgebra-sparse turns
//! on nalgebra's default features, whose macros bring in five proc-macro
//! crates): `dualtape = { version = "0.1", features = ["sparse"] }`, or
//! `cargo add dualtape --features sparse`. The crate's own tests and doctests
//! always build with it.
//!
//! ```
//! # #[cfg(feature = "sparse")] {
//! use dualtape::sparse::{JacobianPlan, Side};
//! use dualtape::{Scalar, VectorFunction};
//!
//! /// r_i = x_{i-1} - 2 x_i + x_{i+1} + sin(x_i), x = 0 outside.
//! struct Stencil(usize);
//! impl VectorFunction for Stencil {
//!     fn dim(&self) -> usize { self.0 }
//!     fn outputs(&self) -> usize { self.0 }
//!     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
//!         let at = |i: usize| x.get(i).copied().unwrap_or(S::constant(0.0));
//!         (0..self.0)
//!             .map(|i| at(i.wrapping_sub(1)) - x[i] * 2.0 + at(i + 1) + x[i].sin())
//!             .collect()
//!     }
//! }
//!
//! let f = Stencil(10_000);
//! let plan = JacobianPlan::detect(&f, &vec![0.0; 10_000], Side::Auto);
//! assert_eq!((plan.colouring().count(), plan.passes()), (3, 1)); // one DualVec<f64, 4> pass
//! let (_, j) = plan.eval(&f, &vec![0.0; 10_000]);
//! assert_eq!(j.nnz(), 3 * 10_000 - 2);
//! assert_eq!(j.get_entry(5, 5).unwrap().into_value(), -2.0 + 1.0); // -2 + cos(0)
//! assert_eq!(j.get_entry(5, 6).unwrap().into_value(), 1.0);
//! # }
//! ```
//!
//! ## Where things are
//!
//! In `src/`, one job per file:
//!
//! - [`scalar`]: the [`Scalar`] trait.
//! - [`rules`]: each elementary function's derivative, once, and the
//!   conventions at non-differentiable points.
//! - [`ops`] (`src/ops/`): the trait surface every differentiable scalar
//!   shares, generated once from five functions per type, one file per trait
//!   family: operators and constants, comparisons, num-traits, simba.
//! - [`forward`]: [`Dual`], [`DualVec`] (`forward/dual.rs`,
//!   `forward/dual_vec.rs`) and the drivers `derivative`, `jvp`, `gradient`,
//!   `gradient_into`, `jacobian`, `hessian` (`forward/mod.rs`).
//! - [`reverse`]: [`Var`] (`reverse/var.rs`), the tape (`reverse/tape.rs`),
//!   and the drivers `gradient`, `gradient_into`, `vjp`, `jacobian`, `hvp`,
//!   `hessian`. The chain rule of reverse mode is one loop:
//!   [`reverse::tape`]'s sweep.
//! - [`finite_diff`]: forward, central and Richardson differences with
//!   documented step choices.
//! - [`model`]: [`Differentiable`] and [`VectorFunction`], models written
//!   once and run by every driver as `|x| model.eval(x)`. (`function`, its
//!   old name with a second copy of the drivers, is deprecated.)
//! - [`lift`] (`src/lift.rs`): `f64` data next to `S` parameters in
//!   nalgebra ([`Lift`], [`LiftMul`]).
//! - [`check`] (`src/check/`): every mode compared at a point
//!   (`check/mod.rs`: configuration and entry points), as a readable
//!   [`check::Report`] (`check/report.rs`: rows, comparisons, the table);
//!   [`check::first_nonfinite`] (`check/watch.rs`) names the operation that
//!   made a NaN.
//! - [`testing`] (feature `quickcheck`, on by default): generators and
//!   properties for your own `#[test]`s.
//! - [`parallel`]: the gradient of a sum of losses over a data set, in
//!   chunks on every core, bit-identical for any number of threads.
//! - `sparse` (`src/sparse/`; feature `sparse`, opt-in): sparsity
//!   detection, colouring, sparse Jacobians and Hessians as `nalgebra_sparse`
//!   matrices.
//! - [`rng`]: SplitMix64, the one small seeded generator for test inputs.
//!
//! Around the core crate, in the same workspace:
//!
//! - `nn/` (crate `dualtape-nn`): the backpropagation notebook's network,
//!   data sets, hand-derived gradient, training and its example
//!   (`cargo run --release --example backprop` from the repository root).
//!   Formerly `dualtape::nn`, with the same names: `dualtape_nn::Mlp`,
//!   `dualtape_nn::data`, `dualtape_nn::train`, ….
//! - `tests/suite/`: the integration tests, one binary with a module per
//!   area; `tests/suite/support/` holds what they share: the one table of
//!   elementary functions of one variable (`elementary.rs`) and of two
//!   (`binary.rs`) with closed-form derivatives, domains and awkward points,
//!   and one set of float comparisons (`compare.rs`).
//! - `benches/` (criterion) and `compare/` (peers side by side).
//!
//! ## Errors
//!
//! Misuse panics with a message that says what happened and what to do: a
//! [`Var`] used after its recording ended or on another thread, a reverse
//! driver called inside another recording, a direction of the wrong length.
//! These are documented under `# Panics` on each function.

#![warn(missing_docs)]

pub mod check;
pub mod finite_diff;
pub mod forward;
#[deprecated(
    since = "0.2.0",
    note = "the traits are in dualtape::model (and at the crate root); run a model with the crate's drivers: reverse::gradient(|x| model.eval(x), x)"
)]
pub mod function;
pub mod lift;
pub mod model;
pub mod ops;
pub mod parallel;
pub mod reverse;
pub mod rng;
pub mod rules;
pub mod scalar;
#[cfg(feature = "sparse")]
pub mod sparse;
#[cfg(feature = "quickcheck")]
pub mod testing;

pub use forward::{Dual, DualVec};
pub use lift::{Lift, LiftMul};
pub use model::{Differentiable, VectorFunction};
/// nalgebra, the version dualtape's scalars and drivers use (the Hessian and
/// Jacobian drivers return its `DMatrix`): `use dualtape::nalgebra::DMatrix;`
/// needs no separate dependency and can never mismatch.
pub use nalgebra;
pub use reverse::Var;
pub use scalar::Scalar;

/// The README's Rust examples, compiled and run as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
