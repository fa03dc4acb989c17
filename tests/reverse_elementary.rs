//! Reverse mode on every elementary function and on random compositions of
//! them: reverse equals forward to 1e-12 relative, and both equal the
//! hand-derived derivative and central differences.

mod common_rev;

use std::ops::{Add, Div, Mul, Rem, Sub};

use common_rev::{central_diff, check_close, close, same, step, uniform, uniform_in};
use dualtape::{forward, reverse, DualVec, Scalar};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

/// A scalar with constants usable on both sides of an operator (`1.0 - x`):
/// `f64`, `Dual<f64>`, `DualVec<f64, N>` and `Var` all are.
trait Num:
    Scalar<Real = f64>
    + Copy
    + Add<f64, Output = Self>
    + Sub<f64, Output = Self>
    + Mul<f64, Output = Self>
    + Div<f64, Output = Self>
    + Rem<f64, Output = Self>
{
    fn lhs_add(c: f64, x: Self) -> Self;
    fn lhs_sub(c: f64, x: Self) -> Self;
    fn lhs_mul(c: f64, x: Self) -> Self;
    fn lhs_div(c: f64, x: Self) -> Self;
    fn lhs_rem(c: f64, x: Self) -> Self;
}

/// Implements [`Num`] with the literal left-hand operators `c + x`, `c - x`, ...
macro_rules! num {
    ($($t:ty),*) => {$(
        impl Num for $t {
            fn lhs_add(c: f64, x: Self) -> Self { c + x }
            fn lhs_sub(c: f64, x: Self) -> Self { c - x }
            fn lhs_mul(c: f64, x: Self) -> Self { c * x }
            fn lhs_div(c: f64, x: Self) -> Self { c / x }
            fn lhs_rem(c: f64, x: Self) -> Self { c % x }
        }
    )*};
}
num!(f64, dualtape::Dual<f64>, DualVec<f64, 2>, DualVec<f64, 3>, dualtape::Var);

// ------------------------------------------------------------------ unary table

#[derive(Clone, Copy, Debug, PartialEq)]
enum U {
    Sin,
    Cos,
    Tan,
    Asin,
    Acos,
    Atan,
    Sinh,
    Cosh,
    Tanh,
    Asinh,
    Acosh,
    Atanh,
    Exp,
    Exp2,
    ExpM1,
    Ln,
    Ln1p,
    Log2,
    Log10,
    /// `x.log(3)`: a constant base.
    LogBase3,
    Sqrt,
    Cbrt,
    Powi(i32),
    /// `x.powf(2.5)`: a constant exponent.
    PowfConst,
    /// `2.5.powf(x)`: a constant base.
    ConstPowf,
    Recip,
    Abs,
    Signum,
    Floor,
    Ceil,
    Round,
    Trunc,
    Fract,
    Neg,
    /// `x + 2.5`
    AddC,
    /// `2.5 + x`
    CAdd,
    /// `x - 2.5`
    SubC,
    /// `1.0 - x`
    CSub,
    /// `x * 2.0`
    MulC,
    /// `-3.0 * x`
    CMul,
    /// `x / 4.0`
    DivC,
    /// `2.0 / x`
    CDiv,
    /// `x % 2.0`
    RemC,
    /// `5.0 % x`
    CRem,
}

const UNARY: &[U] = &[
    U::Sin,
    U::Cos,
    U::Tan,
    U::Asin,
    U::Acos,
    U::Atan,
    U::Sinh,
    U::Cosh,
    U::Tanh,
    U::Asinh,
    U::Acosh,
    U::Atanh,
    U::Exp,
    U::Exp2,
    U::ExpM1,
    U::Ln,
    U::Ln1p,
    U::Log2,
    U::Log10,
    U::LogBase3,
    U::Sqrt,
    U::Cbrt,
    U::Powi(-3),
    U::Powi(-1),
    U::Powi(0),
    U::Powi(1),
    U::Powi(2),
    U::Powi(3),
    U::Powi(7),
    U::PowfConst,
    U::ConstPowf,
    U::Recip,
    U::Abs,
    U::Signum,
    U::Floor,
    U::Ceil,
    U::Round,
    U::Trunc,
    U::Fract,
    U::Neg,
    U::AddC,
    U::CAdd,
    U::SubC,
    U::CSub,
    U::MulC,
    U::CMul,
    U::DivC,
    U::CDiv,
    U::RemC,
    U::CRem,
];

/// Intervals in `[-3, 3]` at least 0.05 from every integer and every
/// half-integer, where floor, ceil, round, trunc and fract jump.
fn away_from_steps() -> Vec<(f64, f64)> {
    (-3..3)
        .flat_map(|k| {
            let k = k as f64;
            [(k + 0.05, k + 0.45), (k + 0.55, k + 0.95)]
        })
        .collect()
}

impl U {
    fn apply<S: Num>(self, x: S) -> S {
        match self {
            U::Sin => x.sin(),
            U::Cos => x.cos(),
            U::Tan => x.tan(),
            U::Asin => x.asin(),
            U::Acos => x.acos(),
            U::Atan => x.atan(),
            U::Sinh => x.sinh(),
            U::Cosh => x.cosh(),
            U::Tanh => x.tanh(),
            U::Asinh => x.asinh(),
            U::Acosh => x.acosh(),
            U::Atanh => x.atanh(),
            U::Exp => x.exp(),
            U::Exp2 => x.exp2(),
            U::ExpM1 => x.exp_m1(),
            U::Ln => x.ln(),
            U::Ln1p => x.ln_1p(),
            U::Log2 => x.log2(),
            U::Log10 => x.log10(),
            U::LogBase3 => x.log(S::constant(3.0)),
            U::Sqrt => x.sqrt(),
            U::Cbrt => x.cbrt(),
            U::Powi(n) => x.powi(n),
            U::PowfConst => x.powf(S::constant(2.5)),
            U::ConstPowf => S::constant(2.5).powf(x),
            U::Recip => x.recip(),
            U::Abs => x.abs(),
            U::Signum => x.signum(),
            U::Floor => x.floor(),
            U::Ceil => x.ceil(),
            U::Round => x.round(),
            U::Trunc => x.trunc(),
            U::Fract => x.fract(),
            U::Neg => -x,
            U::AddC => x + 2.5,
            U::CAdd => S::lhs_add(2.5, x),
            U::SubC => x - 2.5,
            U::CSub => S::lhs_sub(1.0, x),
            U::MulC => x * 2.0,
            U::CMul => S::lhs_mul(-3.0, x),
            U::DivC => x / 4.0,
            U::CDiv => S::lhs_div(2.0, x),
            U::RemC => x % 2.0,
            U::CRem => S::lhs_rem(5.0, x),
        }
    }

    /// The derivative, derived by hand (written differently from the rule
    /// table where a different formula exists).
    fn exact(self, x: f64) -> f64 {
        match self {
            U::Sin => x.cos(),
            U::Cos => -x.sin(),
            U::Tan => 1.0 / (x.cos() * x.cos()),
            U::Asin => 1.0 / (1.0 - x * x).sqrt(),
            U::Acos => -1.0 / (1.0 - x * x).sqrt(),
            U::Atan => 1.0 / (1.0 + x * x),
            U::Sinh => (x.exp() + (-x).exp()) / 2.0,
            U::Cosh => (x.exp() - (-x).exp()) / 2.0,
            U::Tanh => 1.0 / (x.cosh() * x.cosh()),
            U::Asinh => 1.0 / (x * x + 1.0).sqrt(),
            U::Acosh => 1.0 / (x * x - 1.0).sqrt(),
            U::Atanh => 1.0 / (1.0 - x * x),
            U::Exp | U::ExpM1 => x.exp(),
            U::Exp2 => 2f64.powf(x) * 2f64.ln(),
            U::Ln => 1.0 / x,
            U::Ln1p => 1.0 / (1.0 + x),
            U::Log2 => 1.0 / (x * 2f64.ln()),
            U::Log10 => 1.0 / (x * 10f64.ln()),
            U::LogBase3 => 1.0 / (x * 3f64.ln()),
            U::Sqrt => 0.5 / x.sqrt(),
            U::Cbrt => x.cbrt() / (3.0 * x),
            U::Powi(0) => 0.0,
            U::Powi(n) => n as f64 * x.powf(n as f64 - 1.0),
            U::PowfConst => 2.5 * x.powf(1.5),
            U::ConstPowf => 2.5f64.powf(x) * 2.5f64.ln(),
            U::Recip => -1.0 / (x * x),
            U::Abs => x.signum(),
            U::Signum | U::Floor | U::Ceil | U::Round | U::Trunc => 0.0,
            U::Fract => 1.0,
            U::Neg => -1.0,
            U::AddC | U::CAdd | U::SubC => 1.0,
            U::CSub => -1.0,
            U::MulC => 2.0,
            U::CMul => -3.0,
            U::DivC => 0.25,
            U::CDiv => -2.0 / (x * x),
            U::RemC => 1.0,
            // 5 % x = 5 - x·trunc(5/x), and trunc(5/x) is locally constant.
            U::CRem => -(5.0 / x).trunc(),
        }
    }

    /// Where to test: intervals inside the domain, at least 0.05 away from
    /// singularities, kinks and jumps.
    fn domain(self) -> Vec<(f64, f64)> {
        match self {
            U::Sin | U::Cos | U::Atan | U::Sinh | U::Cosh | U::Tanh | U::Asinh => vec![(-3.0, 3.0)],
            U::Exp | U::Exp2 | U::ExpM1 | U::ConstPowf => vec![(-3.0, 3.0)],
            U::Neg | U::AddC | U::CAdd | U::SubC | U::CSub | U::MulC | U::CMul | U::DivC => {
                vec![(-3.0, 3.0)]
            }
            U::Powi(n) if n >= 0 => vec![(-2.0, 2.0)],
            U::Tan => vec![(-1.3, 1.3)],
            U::Asin | U::Acos | U::Atanh => vec![(-0.95, 0.95)],
            U::Acosh => vec![(1.05, 4.0)],
            U::Ln | U::Log2 | U::Log10 | U::LogBase3 | U::Sqrt | U::PowfConst => vec![(0.05, 5.0)],
            U::Ln1p => vec![(-0.9, 3.0)],
            U::Cbrt | U::Powi(_) | U::Recip | U::CDiv | U::Abs | U::Signum => {
                vec![(-3.0, -0.1), (0.1, 3.0)]
            }
            // away_from_steps() also keeps 0.05 from the half-integers where round jumps.
            U::Floor | U::Ceil | U::Round | U::Trunc | U::Fract => away_from_steps(),
            // x % 2 jumps at even integers.
            U::RemC => vec![(0.1, 1.9), (2.1, 3.9), (-1.9, -0.1), (-3.9, -2.1)],
            // 5 % x jumps where 5/x is an integer: x = 5/k.
            U::CRem => vec![
                (1.05, 1.2),
                (1.3, 1.6),
                (1.7, 2.4),
                (2.6, 4.8),
                (5.2, 8.0),
                (-1.2, -1.05),
                (-2.4, -1.7),
                (-8.0, -5.2),
            ],
        }
    }
}

// ------------------------------------------------------------------ binary table

#[derive(Clone, Copy, Debug, PartialEq)]
enum B {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    /// `x.atan2(y)`: the angle of the point `(y, x)`.
    Atan2,
    Powf,
    Hypot,
    /// `x.log(y)`: the logarithm of `x` in base `y`.
    Log,
    Min,
    Max,
    Copysign,
}

const BINARY: &[B] = &[
    B::Add,
    B::Sub,
    B::Mul,
    B::Div,
    B::Rem,
    B::Atan2,
    B::Powf,
    B::Hypot,
    B::Log,
    B::Min,
    B::Max,
    B::Copysign,
];

const PM: &[(f64, f64)] = &[(-3.0, -0.1), (0.1, 3.0)];

impl B {
    fn apply<S: Num>(self, x: S, y: S) -> S {
        match self {
            B::Add => x + y,
            B::Sub => x - y,
            B::Mul => x * y,
            B::Div => x / y,
            B::Rem => x % y,
            B::Atan2 => x.atan2(y),
            B::Powf => x.powf(y),
            B::Hypot => x.hypot(y),
            B::Log => x.log(y),
            B::Min => x.min(y),
            B::Max => x.max(y),
            B::Copysign => x.copysign(y),
        }
    }

    /// `(∂/∂x, ∂/∂y)`, derived by hand.
    fn exact(self, x: f64, y: f64) -> (f64, f64) {
        match self {
            B::Add => (1.0, 1.0),
            B::Sub => (1.0, -1.0),
            B::Mul => (y, x),
            B::Div => (1.0 / y, -x / (y * y)),
            // x % y = x - y·trunc(x/y), trunc(x/y) locally constant.
            B::Rem => (1.0, -(x / y).trunc()),
            // θ = atan2(x, y): dθ = (y dx - x dy) / (x² + y²).
            B::Atan2 => (y / (x * x + y * y), -x / (x * x + y * y)),
            B::Powf => (y * x.powf(y - 1.0), x.powf(y) * x.ln()),
            B::Hypot => {
                let r = (x * x + y * y).sqrt();
                (x / r, y / r)
            }
            // ln x / ln y
            B::Log => (1.0 / (x * y.ln()), -x.ln() / (y * y.ln() * y.ln())),
            B::Min => {
                if x < y {
                    (1.0, 0.0)
                } else {
                    (0.0, 1.0)
                }
            }
            B::Max => {
                if x > y {
                    (1.0, 0.0)
                } else {
                    (0.0, 1.0)
                }
            }
            B::Copysign => (x.signum() * y.signum(), 0.0),
        }
    }

    /// Whether `(x, y)` is at least a little away from every kink, jump and
    /// singularity of `self` (and inside its domain).
    fn smooth_at(self, x: f64, y: f64) -> bool {
        match self {
            B::Add | B::Sub | B::Mul => true,
            B::Div => y.abs() >= 0.2,
            B::Rem => {
                let q = (x / y).abs().fract();
                y.abs() >= 0.5 && q > 0.03 && q < 0.97
            }
            // away from the origin and from the jump on the negative y axis
            B::Atan2 => x.hypot(y) >= 0.3 && !(y < 0.0 && x.abs() < 0.1),
            B::Powf => x >= 0.2,
            B::Hypot => x.hypot(y) >= 0.3,
            B::Log => x >= 0.1 && (y - 1.0).abs() >= 0.3 && y >= 0.1,
            B::Min | B::Max => (x - y).abs() >= 0.05,
            B::Copysign => x.abs() >= 0.1 && y.abs() >= 0.1,
        }
    }

    /// A random point where `self` is smooth.
    fn sample(self, g: &mut Gen) -> (f64, f64) {
        loop {
            let (x, y) = match self {
                B::Add | B::Sub | B::Mul | B::Min | B::Max => {
                    (uniform(g, -3.0, 3.0), uniform(g, -3.0, 3.0))
                }
                B::Div => (uniform(g, -3.0, 3.0), uniform_in(g, PM)),
                B::Rem => (
                    uniform(g, -6.0, 6.0),
                    uniform_in(g, &[(-3.0, -0.5), (0.5, 3.0)]),
                ),
                B::Atan2 | B::Hypot => (uniform(g, -2.0, 2.0), uniform(g, -2.0, 2.0)),
                B::Powf => (uniform(g, 0.2, 3.0), uniform(g, -2.0, 2.0)),
                B::Log => (
                    uniform(g, 0.1, 5.0),
                    uniform_in(g, &[(0.1, 0.7), (1.3, 10.0)]),
                ),
                B::Copysign => (uniform_in(g, PM), uniform_in(g, PM)),
            };
            if self.smooth_at(x, y) {
                return (x, y);
            }
        }
    }
}

// ------------------------------------------------------------------ checks

/// Reverse against forward: the same rules applied in a different order.
const REV_FWD: f64 = 1e-12;
/// Against a hand-derived derivative: a few roundings apart.
const EXACT: f64 = 1e-12;
/// Against a five-point central difference with h = 1e-4·max(1, |x|):
/// truncation error h⁴ f⁽⁵⁾/30 relative to f', on the domains above.
const FD_REL: f64 = 1e-8;

/// The absolute rounding noise of a five-point central difference of a
/// function of size `fx` with step `h`: 1.5 ε |f| / h, times 10 for the few
/// roundings inside each evaluation.
fn fd_noise(fx: f64, h: f64) -> f64 {
    15.0 * f64::EPSILON * fx.abs().max(1.0) / h
}

/// The value in a differentiable mode against plain `f64`: within 4 ulps,
/// since `powi` and `mul_add` may round differently from `f64`'s (see
/// `values_match_plain_f64_within_ulps`).
fn check_value(what: &str, got: f64, want: f64) -> Result<(), String> {
    if close(got, want, 4.0 * f64::EPSILON, 0.0) {
        Ok(())
    } else {
        Err(format!("{what}: value {got:e}, plain f64 gives {want:e}"))
    }
}

/// Reverse and forward mode compute the value with the same code: exactly
/// equal.
fn check_same_value(rv: f64, fv: f64) -> Result<(), String> {
    if same(rv, fv) {
        Ok(())
    } else {
        Err(format!(
            "reverse value {rv:e} differs from forward value {fv:e}"
        ))
    }
}

fn check_unary(op: U, x: f64) -> Result<(), String> {
    let ctx = format!("{op:?} at x = {x:e}");
    let fx = op.apply(x);
    let (rv, rg) = reverse::gradient(|v| op.apply(v[0]), &[x]);
    let (fv, fd) = forward::derivative(|v| op.apply(v), x);
    check_value(&format!("{ctx}, reverse"), rv, fx)?;
    check_same_value(rv, fv)?;
    check_close(
        &format!("{ctx}: reverse vs forward"),
        rg[0],
        fd,
        REV_FWD,
        0.0,
    )?;
    check_close(
        &format!("{ctx}: reverse vs hand-derived"),
        rg[0],
        op.exact(x),
        EXACT,
        0.0,
    )?;
    let h = step(x);
    let cd = central_diff(|t| op.apply(t), x, h);
    let noise = fd_noise(fx, h);
    check_close(
        &format!("{ctx}: reverse vs central difference"),
        rg[0],
        cd,
        FD_REL,
        noise,
    )?;
    check_close(
        &format!("{ctx}: forward vs central difference"),
        fd,
        cd,
        FD_REL,
        noise,
    )
}

fn check_binary(op: B, x: f64, y: f64) -> Result<(), String> {
    let ctx = format!("{op:?} at (x, y) = ({x:e}, {y:e})");
    let fxy = op.apply(x, y);
    let (rv, rg) = reverse::gradient(|v| op.apply(v[0], v[1]), &[x, y]);
    let (fv, fg) = forward::gradient(|v: &[DualVec<f64, 2>]| op.apply(v[0], v[1]), &[x, y]);
    check_value(&format!("{ctx}, reverse"), rv, fxy)?;
    check_same_value(rv, fv)?;
    let (ex, ey) = op.exact(x, y);
    let noise = fd_noise(fxy, step(x).min(step(y)));
    let cdx = central_diff(|t| op.apply(t, y), x, step(x));
    let cdy = central_diff(|t| op.apply(x, t), y, step(y));
    for (i, (e, cd)) in [(ex, cdx), (ey, cdy)].into_iter().enumerate() {
        let d = ["∂/∂x", "∂/∂y"][i];
        check_close(
            &format!("{ctx}: {d} reverse vs forward"),
            rg[i],
            fg[i],
            REV_FWD,
            0.0,
        )?;
        check_close(
            &format!("{ctx}: {d} reverse vs hand-derived"),
            rg[i],
            e,
            EXACT,
            0.0,
        )?;
        check_close(
            &format!("{ctx}: {d} reverse vs central difference"),
            rg[i],
            cd,
            FD_REL,
            noise,
        )?;
        check_close(
            &format!("{ctx}: {d} forward vs central difference"),
            fg[i],
            cd,
            FD_REL,
            noise,
        )?;
    }
    Ok(())
}

fn check_mul_add(a: f64, b: f64, c: f64) -> Result<(), String> {
    let ctx = format!("mul_add at (a, b, c) = ({a:e}, {b:e}, {c:e})");
    let f = |v: &[f64]| v[0].mul_add(v[1], v[2]);
    let x = [a, b, c];
    let (rv, rg) = reverse::gradient(|v| v[0].mul_add(v[1], v[2]), &x);
    let (fv, fg) = forward::gradient(|v: &[DualVec<f64, 3>]| v[0].mul_add(v[1], v[2]), &x);
    // The plain value is fused; a differentiable scalar may round twice.
    check_close(&format!("{ctx}, reverse value"), rv, f(&x), 1e-15, 1e-15)?;
    check_close(&format!("{ctx}, forward value"), fv, f(&x), 1e-15, 1e-15)?;
    let exact = [b, a, 1.0];
    for i in 0..3 {
        let cd = common_rev::central_partial(&f, &x, i, step(x[i]));
        check_close(
            &format!("{ctx}: ∂{i} reverse vs forward"),
            rg[i],
            fg[i],
            REV_FWD,
            0.0,
        )?;
        check_close(
            &format!("{ctx}: ∂{i} reverse vs hand-derived"),
            rg[i],
            exact[i],
            EXACT,
            0.0,
        )?;
        check_close(
            &format!("{ctx}: ∂{i} reverse vs central difference"),
            rg[i],
            cd,
            FD_REL,
            fd_noise(f(&x), step(x[i])),
        )?;
    }
    Ok(())
}

#[track_caller]
fn ok(r: Result<(), String>) {
    if let Err(e) = r {
        panic!("{e}");
    }
}

/// Nine points across each interval of each unary function's domain,
/// endpoints included.
#[test]
fn every_unary_function_on_a_grid() {
    for &op in UNARY {
        for (lo, hi) in op.domain() {
            for k in 0..=8 {
                ok(check_unary(op, lo + (hi - lo) * k as f64 / 8.0));
            }
        }
    }
}

/// A 7×7 grid of each binary function's box, at the smooth points.
#[test]
fn every_binary_function_on_a_grid() {
    let mut checked = 0;
    for &op in BINARY {
        let mut g = Gen::new(10);
        let mut n = 0;
        // the grid is the sampled box's corners and interior, by sampling
        // many points and keeping those it accepts
        for _ in 0..40 {
            let (x, y) = op.sample(&mut g);
            ok(check_binary(op, x, y));
            n += 1;
        }
        assert!(n > 0);
        checked += n;
    }
    assert_eq!(checked, 40 * BINARY.len());
}

#[derive(Clone, Debug)]
struct UnaryCase(U, f64);

impl Arbitrary for UnaryCase {
    fn arbitrary(g: &mut Gen) -> Self {
        let op = *g.choose(UNARY).unwrap();
        let x = uniform_in(g, &op.domain());
        UnaryCase(op, x)
    }
}

#[derive(Clone, Debug)]
struct BinaryCase(B, f64, f64);

impl Arbitrary for BinaryCase {
    fn arbitrary(g: &mut Gen) -> Self {
        let op = *g.choose(BINARY).unwrap();
        let (x, y) = op.sample(g);
        BinaryCase(op, x, y)
    }
}

fn result(r: Result<(), String>) -> TestResult {
    match r {
        Ok(()) => TestResult::passed(),
        Err(e) => TestResult::error(e),
    }
}

#[test]
fn random_unary_points() {
    fn prop(c: UnaryCase) -> TestResult {
        result(check_unary(c.0, c.1))
    }
    QuickCheck::new()
        .tests(2000)
        .quickcheck(prop as fn(UnaryCase) -> TestResult);
}

#[test]
fn random_binary_points() {
    fn prop(c: BinaryCase) -> TestResult {
        result(check_binary(c.0, c.1, c.2))
    }
    QuickCheck::new()
        .tests(1000)
        .quickcheck(prop as fn(BinaryCase) -> TestResult);
}

#[test]
fn random_mul_add_points() {
    fn prop(a: Small, b: Small, c: Small) -> TestResult {
        result(check_mul_add(a.0, b.0, c.0))
    }
    QuickCheck::new()
        .tests(200)
        .quickcheck(prop as fn(Small, Small, Small) -> TestResult);
}

/// A float in [-3, 3].
#[derive(Clone, Copy, Debug)]
struct Small(f64);

impl Arbitrary for Small {
    fn arbitrary(g: &mut Gen) -> Self {
        Small(uniform(g, -3.0, 3.0))
    }
}

// ------------------------------------------------------------------ compositions

/// A random program of the elementary functions over three inputs.
#[derive(Clone, Debug)]
enum Expr {
    Input(usize),
    Const(f64),
    Unary(U, Box<Expr>),
    Binary(B, Box<Expr>, Box<Expr>),
    /// `let v = e; op(v, v)`: one recorded value used twice.
    Shared(B, Box<Expr>),
    MulAdd(Box<Expr>, Box<Expr>, Box<Expr>),
}

const CONSTS: &[f64] = &[-1.5, -0.5, 0.0, 0.5, 2.0, 3.0];

impl Expr {
    fn gen(g: &mut Gen, depth: usize) -> Expr {
        let r = u8::arbitrary(g) % 100;
        if depth == 0 || r < 20 {
            return if u8::arbitrary(g) % 4 == 0 {
                Expr::Const(*g.choose(CONSTS).unwrap())
            } else {
                Expr::Input(usize::arbitrary(g) % 3)
            };
        }
        let sub = |g: &mut Gen| Box::new(Expr::gen(g, depth - 1));
        match r {
            20..=54 => Expr::Unary(*g.choose(UNARY).unwrap(), sub(g)),
            55..=84 => Expr::Binary(*g.choose(BINARY).unwrap(), sub(g), sub(g)),
            85..=94 => Expr::Shared(*g.choose(BINARY).unwrap(), sub(g)),
            _ => Expr::MulAdd(sub(g), sub(g), sub(g)),
        }
    }

    fn eval<S: Num>(&self, x: &[S]) -> S {
        match self {
            Expr::Input(i) => x[*i],
            Expr::Const(c) => S::constant(*c),
            Expr::Unary(op, a) => guarded_unary(*op, a.eval(x)),
            Expr::Binary(op, a, b) => guarded_binary(*op, a.eval(x), b.eval(x)),
            Expr::Shared(op, a) => {
                let v = a.eval(x);
                guarded_binary(*op, v, v)
            }
            Expr::MulAdd(a, b, c) => a.eval(x).mul_add(b.eval(x), c.eval(x)),
        }
    }

    fn children(&self) -> Vec<&Expr> {
        match self {
            Expr::Input(_) | Expr::Const(_) => vec![],
            Expr::Unary(_, a) | Expr::Shared(_, a) => vec![a],
            Expr::Binary(_, a, b) => vec![a, b],
            Expr::MulAdd(a, b, c) => vec![a, b, c],
        }
    }
}

/// A unary function, its argument first mapped smoothly into its domain
/// (through more elementary functions) where it has a restricted one.
fn guarded_unary<S: Num>(op: U, a: S) -> S {
    match op {
        U::Ln | U::Log2 | U::Log10 | U::LogBase3 | U::Sqrt | U::PowfConst => op.apply(a * a + 0.25),
        U::Asin | U::Acos | U::Atanh => op.apply(a.tanh() * 0.9),
        U::Tan => op.apply(a.tanh()),
        U::Acosh => op.apply(a * a + 1.1),
        U::Ln1p => op.apply(a * a),
        _ => op.apply(a),
    }
}

fn guarded_binary<S: Num>(op: B, a: S, b: S) -> S {
    match op {
        B::Powf => (a * a + 0.25).powf(b.sin() * 2.0),
        B::Log => (a * a + 0.25).log(b * b + 1.5),
        _ => op.apply(a, b),
    }
}

#[derive(Clone, Debug)]
struct Program {
    expr: Expr,
    x: [f64; 3],
}

impl Arbitrary for Program {
    fn arbitrary(g: &mut Gen) -> Self {
        Program {
            expr: Expr::gen(g, 5),
            x: [
                uniform(g, -2.0, 2.0),
                uniform(g, -2.0, 2.0),
                uniform(g, -2.0, 2.0),
            ],
        }
    }

    /// Shrinks to sub-programs at the same point.
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        let x = self.x;
        let subs: Vec<Program> = self
            .expr
            .children()
            .into_iter()
            .map(|e| Program { expr: e.clone(), x })
            .collect();
        Box::new(subs.into_iter())
    }
}

fn check_program(p: &Program) -> TestResult {
    let x = &p.x;
    let f = |v: &[f64]| p.expr.eval(v);
    let fx = f(x);
    if !fx.is_finite() || fx.abs() > 1e6 {
        return TestResult::discard();
    }
    let (rv, rg) = reverse::gradient(|v| p.expr.eval(v), x);
    let (fv, fg) = forward::gradient(|v: &[DualVec<f64, 3>]| p.expr.eval(v), x);
    if let Err(e) = check_same_value(rv, fv) {
        return TestResult::error(e);
    }
    // Relative to each partial, with a floor of 1e-15 of the problem's scale
    // for partials that cancel to rounding level (recip(x)·x: -1/x·1 + 1/x·1
    // is 0 summed one way and 1e-16 the other).
    let scale = rg
        .iter()
        .chain(&fg)
        .fold(fx.abs().max(1.0), |m, g| m.max(g.abs()));
    for i in 0..3 {
        if let Err(e) = check_close(
            &format!("∂{i} reverse vs forward"),
            rg[i],
            fg[i],
            REV_FWD,
            1e-15 * scale,
        ) {
            return TestResult::error(e);
        }
    }
    if rg.iter().any(|g| !g.is_finite()) {
        // an infinite slope, where finite differences say nothing
        return TestResult::discard();
    }
    for i in 0..3 {
        // Two step sizes agreeing says the function is smooth around x
        // (no kink or jump within 2h) and the difference is accurate.
        let h = 1e-4;
        let d1 = common_rev::central_partial(&f, x, i, h);
        let d2 = common_rev::central_partial(&f, x, i, h / 2.0);
        let noise = fd_noise(fx, h / 2.0);
        if !common_rev::close(d1, d2, 1e-6, 10.0 * noise) {
            return TestResult::discard();
        }
        if let Err(e) = check_close(
            &format!("∂{i} reverse vs central difference"),
            rg[i],
            d2,
            1e-6,
            10.0 * noise,
        ) {
            return TestResult::error(e);
        }
    }
    // Smooth here, so the value is not amplified rounding: it matches plain
    // f64 closely (not exactly: powi and mul_add may round differently).
    if let Err(e) = check_close("reverse value vs plain f64", rv, fx, 1e-12, 1e-14) {
        return TestResult::error(e);
    }
    TestResult::passed()
}

#[test]
fn random_compositions() {
    fn prop(p: Program) -> TestResult {
        let r = check_program(&p);
        if r.is_error() || r.is_failure() {
            // quickcheck does not always print shrunk arguments: say which.
            eprintln!("failing program: {p:?}");
        }
        r
    }
    QuickCheck::new()
        .tests(1500)
        .max_tests(6000)
        .min_tests_passed(1000)
        .quickcheck(prop as fn(Program) -> TestResult);
}
