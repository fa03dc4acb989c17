//! Helpers of the forward-mode tests (`forward_*`): mapping quickcheck's
//! integers into a function's domain, a small finite-difference helper written
//! independently of the crate, and seeding nested duals (the comparisons are
//! in [`super::compare`]).
//!
//! Every expected value in these tests comes from a closed form written in the
//! test, from `f64`'s own functions, or from finite differences of plain `f64`
//! code, never from the code under test.

use super::seeded;
use dualtape::Dual;

/// A property over quickcheck's integers: `Ok` or a message saying what failed.
pub type Prop1 = fn(u64) -> Result<(), String>;
pub type Prop2 = fn(u64, u64) -> Result<(), String>;
pub type Prop3 = fn(u64, u64, u64) -> Result<(), String>;

/// The number of cases each property runs (the suite stays fast in debug).
pub const CASES: u64 = 200;

pub fn qc1(p: Prop1) {
    seeded().tests(CASES).quickcheck(p);
}
pub fn qc2(p: Prop2) {
    seeded().tests(CASES).quickcheck(p);
}
pub fn qc3(p: Prop3) {
    seeded().tests(CASES).quickcheck(p);
}

// ------------------------------------------------------------------ domains

/// A uniform number in `[0, 1)` from the top 53 bits of `u`.
pub fn unit(u: u64) -> f64 {
    (u >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform number in `[a, b)`.
pub fn uniform(u: u64, a: f64, b: f64) -> f64 {
    a + (b - a) * unit(u)
}

/// A log-uniform magnitude in `[10^lo, 10^hi)`.
pub fn log_uniform(u: u64, lo: f64, hi: f64) -> f64 {
    10f64.powf(uniform(u, lo, hi))
}

/// A log-uniform magnitude in `[10^lo, 10^hi)` with a sign taken from the
/// lowest bit of `u`.
pub fn signed_log_uniform(u: u64, lo: f64, hi: f64) -> f64 {
    let m = log_uniform(u, lo, hi);
    if u & 1 == 0 {
        m
    } else {
        -m
    }
}

// ------------------------------------------------------------------ finite differences

/// The central difference `(f(x + h) - f(x - h)) / (2h)`, dividing by the
/// step actually taken (x ± h are rounded).
pub fn central(f: &dyn Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    let (xp, xm) = (x + h, x - h);
    (f(xp) - f(xm)) / (xp - xm)
}

/// Central differences at `h`, `h/2`, `h/4`, extrapolated twice (Richardson):
/// the truncation error is `O(h^6)`, the rounding error about
/// `4 ε |f| / h`.
pub fn richardson(f: &dyn Fn(f64) -> f64, x: f64, h: f64) -> f64 {
    let d1 = central(f, x, h);
    let d2 = central(f, x, h / 2.0);
    let d3 = central(f, x, h / 4.0);
    let r1 = (4.0 * d2 - d1) / 3.0;
    let r2 = (4.0 * d3 - d2) / 3.0;
    (16.0 * r2 - r1) / 15.0
}

/// Checks a derivative against Richardson differences of `f` at `x`, where
/// `len` is the length over which `f` is smooth around `x` (the distance to
/// the nearest singularity or jump, capped at a size where the function is
/// tame). The step is `len / 8`; the tolerance is `1e-7` relative to the
/// derivative plus the rounding floor `1e-7 |f(x)| / len`.
pub fn check_fd(
    what: &str,
    f: &dyn Fn(f64) -> f64,
    x: f64,
    len: f64,
    got: f64,
) -> Result<(), String> {
    let fd = richardson(f, x, len / 8.0);
    let tol = 1e-7 * (got.abs() + f(x).abs() / len);
    if (got - fd).abs() <= tol {
        Ok(())
    } else {
        Err(format!(
            "{what} at x = {x:e}: forward {got:e}, finite differences {fd:e} \
             (difference {:e}, tolerance {tol:e})",
            (got - fd).abs()
        ))
    }
}

// ------------------------------------------------------------------ seeding

/// A second-order dual: value `x`, inner tangent `a`, outer tangent `b`.
/// For `f` applied to such inputs, `re.eps` is the derivative along the inner
/// seeds, `eps.re` along the outer ones, and `eps.eps` the second derivative
/// along (inner, outer).
pub fn d2(x: f64, a: f64, b: f64) -> Dual<Dual<f64>> {
    Dual::new(Dual::new(x, a), Dual::new(b, 0.0))
}
