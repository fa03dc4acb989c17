//! dualtape's integration tests, in one binary (one link step instead of
//! thirty): one module per area, and `support` for what they share.
//!
//! Run one area with `cargo test --test suite forward_rules::`, one test by
//! its name as usual.

// Matrices read best with index loops.
#![allow(clippy::needless_range_loop)]

#[allow(dead_code)]
mod support;
/// The benchmark workloads (`benches/common`), for the tests that check them
/// and the allocation tests that run them.
#[path = "../../benches/common/mod.rs"]
mod workloads;

mod allocations;
mod awkward_points;
mod bench_workloads;
mod check_gradient;
mod check_hessian;
mod check_jacobian;
mod check_report;
mod check_testing;
mod ergonomics;
mod finite_diff;
mod forward_dualvec;
mod forward_edges;
mod forward_f32_constants;
mod forward_nalgebra;
mod forward_rules;
mod forward_traits;
mod parallel;
mod perturbation;
mod program;
#[cfg(feature = "jit")]
mod program_jit;
mod random_programs;
mod reverse_drivers;
mod reverse_elementary;
mod reverse_linalg;
mod reverse_misuse;
mod reverse_rules;
mod reverse_soundness;
mod reverse_tape;
mod sigmoid;
#[cfg(feature = "sparse")]
mod sparse;
