//! The one table of elementary functions of one variable: for each, the
//! function written once for every scalar ([`Unary::apply`]), a reference
//! value in plain `f64` ([`Unary::value`]: the standard library's function,
//! or a closed form where there is none), closed-form first and second
//! derivatives ([`Unary::d1`], [`Unary::d2`]), where it is twice
//! differentiable ([`Unary::smooth_at`]), and intervals of its domain away
//! from singularities, kinks and jumps ([`Unary::domain`]). The awkward
//! points every function is tried at are [`AWKWARD`].
//!
//! The derivatives are written independently of `dualtape::rules`, in IEEE
//! arithmetic with its conventions: kinks take the symmetric average
//! (`abs'(0) = 0`), infinite slopes are infinite (`sqrt'(0) = +∞`, `ln'(±0)
//! = +∞`), step functions have derivative 0 and `fract` 1 everywhere, and
//! outside the domain the formula gives what IEEE arithmetic gives.
//!
//! The forward-rule, reverse-elementary, awkward-point and random-program
//! tests all read this table; each picks the entries it covers (the
//! operators with a constant operand are not tried at awkward points).

use std::f64::consts::{FRAC_PI_2, LN_10, LN_2, PI};
use std::ops::{Add, Div, Mul, Rem, Sub};

use dualtape::{Dual, DualVec, Scalar, Var};

const EPS: f64 = f64::EPSILON;

/// A scalar with constants usable on both sides of an operator (`1.0 - x`):
/// every type the tests run the table at.
pub trait Num:
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
num!(
    f64,
    Dual<f64>,
    DualVec<f64, 2>,
    DualVec<f64, 3>,
    Var,
    Dual<Dual<f64>>,
    Dual<Var>
);

/// Every awkward point the unary functions see: zeros of both signs, domain
/// edges and the floats next to them, tiny, subnormal, huge and overflowing
/// magnitudes, π/2 and π, infinities and NaN.
pub const AWKWARD: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    -0.5,
    1.5,
    2.5,
    -2.5,
    3.0,
    1.0 - EPS / 2.0,
    1.0 + EPS,
    -1.0 + EPS / 2.0,
    -1.0 - EPS,
    1e-8,
    -1e-8,
    1e-300,
    -1e-300,
    5e-324,
    f64::MIN_POSITIVE,
    1e10,
    700.0,
    710.0,
    -745.0,
    1e300,
    -1e300,
    f64::MAX,
    -f64::MAX,
    FRAC_PI_2,
    PI,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// One function of one variable.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Unary {
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
    Sqrt,
    Cbrt,
    Recip,
    Abs,
    Signum,
    Floor,
    Ceil,
    Round,
    Trunc,
    Fract,
    Neg,
    Powi(i32),
    /// `1 / (1 + e^-x)`: `Scalar::sigmoid`.
    Sigmoid,
    /// `ln(1 + e^x)`: `Scalar::softplus`.
    Softplus,
    /// `x.log(3)`: a constant base.
    LogBase3,
    /// `x.powf(2.5)`: a constant exponent.
    PowfConst,
    /// `2.5.powf(x)`: a constant base.
    ConstPowf,
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

use Unary as U;

/// The elementary functions (no operators with a constant), with integer
/// powers of every sign: what the awkward points are tried on.
pub const ELEMENTARY: &[Unary] = &[
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
    U::Sqrt,
    U::Cbrt,
    U::Recip,
    U::Abs,
    U::Signum,
    U::Floor,
    U::Ceil,
    U::Round,
    U::Trunc,
    U::Fract,
    U::Neg,
    U::Sigmoid,
    U::Softplus,
    U::Powi(-2),
    U::Powi(-1),
    U::Powi(0),
    U::Powi(1),
    U::Powi(2),
    U::Powi(3),
    U::Powi(4),
];

/// The operators with one constant operand, and functions with a constant
/// second argument.
pub const WITH_CONSTANT: &[Unary] = &[
    U::LogBase3,
    U::PowfConst,
    U::ConstPowf,
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

/// The logistic function in the branch that never overflows, written here
/// independently of the crate.
fn logistic(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

impl Unary {
    /// The function, written once for every scalar, with a literal `f64` on
    /// the left of the operators that have one (`2.5 + x`, `5.0 % x`).
    pub fn apply<S: Num>(self, x: S) -> S {
        match self {
            U::CAdd => S::lhs_add(2.5, x),
            U::CSub => S::lhs_sub(1.0, x),
            U::CMul => S::lhs_mul(-3.0, x),
            U::CDiv => S::lhs_div(2.0, x),
            U::CRem => S::lhs_rem(5.0, x),
            _ => self.apply_generic(x),
        }
    }

    /// The function in generic code, where a constant on the left is
    /// `S::constant(c)`.
    pub fn apply_generic<S: Scalar<Real = f64>>(self, x: S) -> S {
        let c = S::constant;
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
            U::Sqrt => x.sqrt(),
            U::Cbrt => x.cbrt(),
            U::Recip => x.recip(),
            U::Abs => x.abs(),
            U::Signum => x.signum(),
            U::Floor => x.floor(),
            U::Ceil => x.ceil(),
            U::Round => x.round(),
            U::Trunc => x.trunc(),
            U::Fract => x.fract(),
            U::Neg => -x,
            U::Powi(n) => x.powi(n),
            U::Sigmoid => x.sigmoid(),
            U::Softplus => x.softplus(),
            U::LogBase3 => x.log(c(3.0)),
            U::PowfConst => x.powf(c(2.5)),
            U::ConstPowf => c(2.5).powf(x),
            U::AddC => x + 2.5,
            U::CAdd => c(2.5) + x,
            U::SubC => x - 2.5,
            U::CSub => c(1.0) - x,
            U::MulC => x * 2.0,
            U::CMul => c(-3.0) * x,
            U::DivC => x / 4.0,
            U::CDiv => c(2.0) / x,
            U::RemC => x % c(2.0),
            U::CRem => c(5.0) % x,
        }
    }

    /// The reference value: the standard library's `f64` function, or (for
    /// the sigmoid and softplus, which it lacks) a closed form.
    pub fn value(self, x: f64) -> f64 {
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
            U::Sqrt => x.sqrt(),
            U::Cbrt => x.cbrt(),
            U::Recip => x.recip(),
            U::Abs => x.abs(),
            // ±1 at ±0, as std (and simba, which the trait uses) computes it.
            U::Signum => x.signum(),
            U::Floor => x.floor(),
            U::Ceil => x.ceil(),
            U::Round => x.round(),
            U::Trunc => x.trunc(),
            U::Fract => x.fract(),
            U::Neg => -x,
            U::Powi(n) => x.powi(n),
            U::Sigmoid => logistic(x),
            // max(x, 0) + ln(1 + e^-|x|); NaN stays NaN
            U::Softplus => {
                if x.is_nan() {
                    x
                } else {
                    x.max(0.0) + (-x.abs()).exp().ln_1p()
                }
            }
            U::LogBase3 => x.log(3.0),
            U::PowfConst => x.powf(2.5),
            U::ConstPowf => 2.5f64.powf(x),
            U::AddC => x + 2.5,
            U::CAdd => 2.5 + x,
            U::SubC => x - 2.5,
            U::CSub => 1.0 - x,
            U::MulC => x * 2.0,
            U::CMul => -3.0 * x,
            U::DivC => x / 4.0,
            U::CDiv => 2.0 / x,
            U::RemC => x % 2.0,
            U::CRem => 5.0 % x,
        }
    }

    /// The first derivative: a closed form in IEEE arithmetic, with the
    /// conventions of the module docs.
    pub fn d1(self, x: f64) -> f64 {
        let one_minus_sq = (1.0 - x) * (1.0 + x); // 1 − x², without cancellation
        match self {
            U::Sin => x.cos(),
            U::Cos => -x.sin(),
            U::Tan => 1.0 + x.tan() * x.tan(),
            U::Asin => 1.0 / one_minus_sq.sqrt(),
            U::Acos => -1.0 / one_minus_sq.sqrt(),
            U::Atan => 1.0 / (1.0 + x * x),
            U::Sinh => x.cosh(),
            U::Cosh => x.sinh(),
            U::Tanh => 1.0 - x.tanh() * x.tanh(),
            // 1/√(x² + 1), without overflowing x²
            U::Asinh => 1.0 / x.hypot(1.0),
            U::Acosh => 1.0 / ((x - 1.0).sqrt() * (x + 1.0).sqrt()),
            U::Atanh => 1.0 / one_minus_sq,
            U::Exp | U::ExpM1 => x.exp(),
            U::Exp2 => x.exp2() * LN_2,
            // rule 2: -0 is the same point as +0, where the slope is +∞
            U::Ln => 1.0 / (x + 0.0),
            U::Ln1p => 1.0 / (1.0 + x),
            U::Log2 => 1.0 / ((x + 0.0) * LN_2),
            U::Log10 => 1.0 / ((x + 0.0) * LN_10),
            // +∞ at ±0: sqrt is increasing, its slope is never negative.
            U::Sqrt => {
                if x == 0.0 {
                    f64::INFINITY
                } else {
                    0.5 / x.sqrt()
                }
            }
            U::Cbrt => 1.0 / (3.0 * x.cbrt() * x.cbrt()),
            U::Recip => -(1.0 / x) * (1.0 / x),
            U::Abs => {
                if x.is_nan() {
                    f64::NAN
                } else if x > 0.0 {
                    1.0
                } else if x < 0.0 {
                    -1.0
                } else {
                    0.0
                }
            }
            U::Signum | U::Floor | U::Ceil | U::Round | U::Trunc => 0.0,
            U::Fract => 1.0,
            U::Neg => -1.0,
            U::Powi(n) => match n {
                0 => 0.0,
                1 => 1.0,
                _ => n as f64 * x.powi(n - 1),
            },
            // σ' = σ(x) σ(-x): both factors without cancellation
            U::Sigmoid => logistic(x) * logistic(-x),
            U::Softplus => logistic(x),
            U::LogBase3 => 1.0 / (x * 3f64.ln()),
            U::PowfConst => 2.5 * x.powf(1.5),
            U::ConstPowf => 2.5f64.powf(x) * 2.5f64.ln(),
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

    /// The second derivative, a closed form, at points where
    /// [`smooth_at`](Unary::smooth_at) holds.
    pub fn d2(self, x: f64) -> f64 {
        let one_minus_sq = (1.0 - x) * (1.0 + x);
        match self {
            U::Sin => -x.sin(),
            U::Cos => -x.cos(),
            U::Tan => 2.0 * x.tan() * (1.0 + x.tan() * x.tan()),
            U::Asin => x / one_minus_sq.powf(1.5),
            U::Acos => -x / one_minus_sq.powf(1.5),
            U::Atan => -2.0 * x / (1.0 + x * x).powi(2),
            U::Sinh => x.sinh(),
            U::Cosh => x.cosh(),
            U::Tanh => -2.0 * x.tanh() * (1.0 - x.tanh() * x.tanh()),
            U::Asinh => -x / (x * x + 1.0).powf(1.5),
            U::Acosh => -x / (x * x - 1.0).powf(1.5),
            U::Atanh => 2.0 * x / one_minus_sq.powi(2),
            U::Exp | U::ExpM1 => x.exp(),
            U::Exp2 => x.exp2() * LN_2 * LN_2,
            U::Ln => -1.0 / (x * x),
            U::Ln1p => -1.0 / ((1.0 + x) * (1.0 + x)),
            U::Log2 => -1.0 / (x * x * LN_2),
            U::Log10 => -1.0 / (x * x * LN_10),
            U::Sqrt => -0.25 / x.powf(1.5),
            U::Cbrt => -2.0 / (9.0 * x.cbrt().powi(5)),
            U::Recip => 2.0 / (x * x * x),
            U::Abs | U::Signum | U::Floor | U::Ceil | U::Round | U::Trunc | U::Fract | U::Neg => {
                0.0
            }
            U::Powi(0 | 1) => 0.0,
            U::Powi(n) => (n * (n - 1)) as f64 * x.powi(n - 2),
            // σ'' = σ' (1 - 2σ) = σ(x) σ(-x) (σ(-x) - σ(x))
            U::Sigmoid => logistic(x) * logistic(-x) * (logistic(-x) - logistic(x)),
            U::Softplus => logistic(x) * logistic(-x),
            U::LogBase3 => -1.0 / (x * x * 3f64.ln()),
            U::PowfConst => 3.75 * x.sqrt(),
            U::ConstPowf => 2.5f64.powf(x) * 2.5f64.ln() * 2.5f64.ln(),
            U::AddC | U::CAdd | U::SubC | U::CSub | U::MulC | U::CMul | U::DivC => 0.0,
            U::CDiv => 4.0 / (x * x * x),
            U::RemC | U::CRem => 0.0,
        }
    }

    /// Twice differentiable at `x`, in the open domain.
    pub fn smooth_at(self, x: f64) -> bool {
        match self {
            U::Asin | U::Acos | U::Atanh => x.abs() < 1.0,
            U::Acosh => x > 1.0,
            U::Ln | U::Log2 | U::Log10 | U::Sqrt | U::LogBase3 | U::PowfConst => x > 0.0,
            U::Ln1p => x > -1.0,
            U::Cbrt | U::Recip | U::Abs | U::CDiv => x != 0.0,
            U::Powi(n) => n >= 0 || x != 0.0,
            _ => true,
        }
    }

    /// Where to sample: intervals inside the domain, at least 0.05 away from
    /// singularities, kinks and jumps.
    pub fn domain(self) -> Vec<(f64, f64)> {
        match self {
            U::Sin | U::Cos | U::Atan | U::Sinh | U::Cosh | U::Tanh | U::Asinh => vec![(-3.0, 3.0)],
            U::Exp | U::Exp2 | U::ExpM1 | U::ConstPowf | U::Sigmoid | U::Softplus => {
                vec![(-3.0, 3.0)]
            }
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
