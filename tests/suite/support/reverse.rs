//! Helpers of the reverse-mode tests (`reverse_*`); the comparisons are in
//! [`super::compare`].
//!
//! Everything here is independent of dualtape's differentiation code: the
//! finite differences evaluate plain `f64` functions, and the comparisons are
//! plain arithmetic.

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};

use dualtape::rng::mix;
use dualtape::{reverse, Var};
use quickcheck::{Arbitrary, Gen};

/// A uniform draw from `[lo, hi]`.
///
/// quickcheck's integers favour edge values (0, MAX), which would land points
/// exactly on interval ends such as -2.0 or on kinks; scrambling the bits
/// (SplitMix64 steps, `dualtape::rng::mix`) makes every point a generic real.
pub fn uniform(g: &mut Gen, lo: f64, hi: f64) -> f64 {
    // One draw in ten is an edge value; three draws all edge values (and
    // the same ones as another coordinate's) is rare enough.
    let z = mix(u64::arbitrary(g))
        ^ mix(u64::arbitrary(g)).rotate_left(21)
        ^ mix(u64::arbitrary(g)).rotate_left(42);
    let u = (z >> 11) as f64 / (1u64 << 53) as f64;
    lo + (hi - lo) * u
}

/// A uniform draw from a union of intervals, each interval equally likely.
pub fn uniform_in(g: &mut Gen, intervals: &[(f64, f64)]) -> f64 {
    let &(lo, hi) = g.choose(intervals).expect("no intervals");
    uniform(g, lo, hi)
}

/// Five-point central difference `f'(x)` with step `h`:
/// `(f(x-2h) - 8 f(x-h) + 8 f(x+h) - f(x+2h)) / 12h`, truncation error
/// `h⁴ f⁽⁵⁾/30`, rounding error about `1.5 ε max|f| / h`.
pub fn central_diff(mut f: impl FnMut(f64) -> f64, x: f64, h: f64) -> f64 {
    (f(x - 2.0 * h) - 8.0 * f(x - h) + 8.0 * f(x + h) - f(x + 2.0 * h)) / (12.0 * h)
}

/// The `i`-th partial derivative of `f` at `x` by [`central_diff`].
pub fn central_partial(f: &impl Fn(&[f64]) -> f64, x: &[f64], i: usize, h: f64) -> f64 {
    let mut p = x.to_vec();
    central_diff(
        |t| {
            p[i] = t;
            f(&p)
        },
        x[i],
        h,
    )
}

/// The default step for a point: `1e-4` scaled by the coordinate's size.
///
/// Small enough that the five-point truncation error `h⁴ f⁽⁵⁾/30` stays below
/// `1e-10` of `f'` for every test point here (all at least 0.05 from a
/// singularity), large enough that rounding stays near `1e-11 |f|`.
pub fn step(xi: f64) -> f64 {
    1e-4 * xi.abs().max(1.0)
}

/// The central-difference gradient with [`step`].
pub fn central_gradient(f: impl Fn(&[f64]) -> f64, x: &[f64]) -> Vec<f64> {
    (0..x.len())
        .map(|i| central_partial(&f, x, i, step(x[i])))
        .collect()
}

/// The message of a caught panic.
pub fn panic_message(p: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        String::from("<non-string panic payload>")
    }
}

/// The panic message of `f`, which must panic.
pub fn message_of(f: impl FnOnce()) -> String {
    let p = catch_unwind(AssertUnwindSafe(f)).expect_err("expected a panic");
    panic_message(&*p)
}

/// Runs a gradient at `x0` whose closure smuggles its input out; returns
/// that now stale `Var`.
pub fn leak_a_var(x0: f64) -> Var {
    let leaked = Cell::new(None);
    let (_, g) = reverse::gradient(
        |x| {
            leaked.set(Some(x[0]));
            x[0] * 2.0
        },
        &[x0],
    );
    assert_eq!(g, vec![2.0]);
    leaked.get().unwrap()
}
