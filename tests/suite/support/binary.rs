//! The one table of elementary functions of two variables, next to the
//! one-variable table ([`super::elementary`]): for each, the function written
//! once for every scalar ([`Binary::apply`], and [`Binary::apply_real`] with an
//! `f64` on the right), a reference value in plain `f64` ([`Binary::value`]:
//! the standard library's function), closed-form first partials
//! ([`Binary::partials`], with the conventions of `dualtape::rules` at the
//! awkward points) and second partials ([`Binary::second_partials`], where
//! [`Binary::smooth_at`] holds), a domain to sample ([`Binary::domain`],
//! [`Binary::clear_of_kinks`]), and the awkward points every pair of
//! arguments is drawn from ([`AWKWARD_PAIRS`]).
//!
//! The partials are written independently of `dualtape::rules`, in IEEE
//! arithmetic: a `max`/`min` tie gives ½ to each argument and a NaN argument
//! passes the other's derivative; `hypot` and `atan2` at the origin give 0;
//! `copysign(a, s)` has `∂/∂a = 0` at `a = ±0` and `∂/∂s = 0`; `powf` has
//! `∂/∂a = 0` at `b = 0`, `∂/∂b = 0` where `a^b = 0` and NaN at a negative
//! base; everywhere else the formula as IEEE arithmetic gives it.
//!
//! The forward-rule, forward-edge, reverse-elementary, awkward-point and
//! random-program tests all read this table.

use dualtape::Scalar;

use super::elementary::Unary;

/// The awkward points of binary functions: both arguments from this list.
pub const AWKWARD_PAIRS: &[f64] = &[
    0.0,
    -0.0,
    1.0,
    -1.0,
    0.5,
    2.0,
    -3.0,
    1e-300,
    1e300,
    f64::MAX,
    f64::INFINITY,
    f64::NEG_INFINITY,
    f64::NAN,
];

/// One function of two variables, `f(a, b)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Binary {
    Add,
    Sub,
    Mul,
    Div,
    Rem,
    /// `a.powf(b)`
    Powf,
    /// `a.atan2(b)`: the angle of the point `(b, a)`.
    Atan2,
    Hypot,
    /// `a.log(b)`: the logarithm of `a` in base `b`.
    Log,
    Max,
    Min,
    /// `a.copysign(b)`: `|a|` with the sign of `b`.
    Copysign,
}

use Binary as B;

/// Every function of two variables.
pub const BINARY: &[Binary] = &[
    B::Add,
    B::Sub,
    B::Mul,
    B::Div,
    B::Rem,
    B::Powf,
    B::Atan2,
    B::Hypot,
    B::Log,
    B::Max,
    B::Min,
    B::Copysign,
];

const PM: &[(f64, f64)] = &[(-3.0, -0.1), (0.1, 3.0)];
const ALL: &[(f64, f64)] = &[(-3.0, 3.0)];

/// `(∂/∂a, ∂/∂b)` of `max(a, b)`: the larger argument's, ½ each at a tie,
/// the other's where one is NaN.
fn max_partials(a: f64, b: f64) -> (f64, f64) {
    if a > b || b.is_nan() {
        (1.0, 0.0)
    } else if b > a || a.is_nan() {
        (0.0, 1.0)
    } else {
        (0.5, 0.5)
    }
}

impl Binary {
    /// The function, written once for every scalar.
    pub fn apply<S: Scalar<Real = f64>>(self, a: S, b: S) -> S {
        match self {
            B::Add => a + b,
            B::Sub => a - b,
            B::Mul => a * b,
            B::Div => a / b,
            B::Rem => a % b,
            B::Powf => a.powf(b),
            B::Atan2 => a.atan2(b),
            B::Hypot => a.hypot(b),
            B::Log => a.log(b),
            B::Max => a.max(b),
            B::Min => a.min(b),
            B::Copysign => a.copysign(b),
        }
    }

    /// `a op c` with `c: f64` on the right, for the operators that take one.
    pub fn apply_real<S: Scalar<Real = f64>>(self, a: S, c: f64) -> Option<S> {
        Some(match self {
            B::Add => a + c,
            B::Sub => a - c,
            B::Mul => a * c,
            B::Div => a / c,
            // `Scalar` has no `Rem<Self::Real>` bound: `x % c` needs a concrete type.
            _ => return None,
        })
    }

    /// The reference value: the function at plain `f64`, which is the
    /// standard library's (through simba's `RealField` for `f64`, which
    /// forwards to it; dualtape implements none of these for `f64`).
    pub fn value(self, a: f64, b: f64) -> f64 {
        self.apply(a, b)
    }

    /// `(∂/∂a, ∂/∂b)`: closed forms in IEEE arithmetic, with the
    /// conventions of the module docs.
    pub fn partials(self, a: f64, b: f64) -> (f64, f64) {
        match self {
            B::Add => (1.0, 1.0),
            B::Sub => (1.0, -1.0),
            B::Mul => (b, a),
            // −a/b², as −(a/b)/b so that it does not overflow early
            B::Div => (1.0 / b, -(a / b) / b),
            // a % b = a − b·trunc(a/b), and trunc(a/b) is locally constant.
            B::Rem => (1.0, -(a / b).trunc()),
            B::Powf => {
                let v = a.powf(b);
                let da = if b == 0.0 { 0.0 } else { b * a.powf(b - 1.0) };
                let db = if v == 0.0 {
                    0.0
                } else if a < 0.0 {
                    f64::NAN
                } else {
                    v * a.ln()
                };
                (da, db)
            }
            // atan2(a, b) is the angle of (b, a): ∂/∂a = b/r², ∂/∂b = −a/r²
            // r² = h² with h = hypot(a, b), divided out one h at a time so that
            // r² neither underflows (atan2(0, 1e-300): ∂/∂a = 1e300) nor
            // overflows; partials beyond f64's range are ±∞.
            B::Atan2 => {
                let h = a.hypot(b);
                if h == 0.0 {
                    (0.0, 0.0)
                } else {
                    (b / h / h, -a / h / h)
                }
            }
            B::Hypot => {
                let h = a.hypot(b);
                if h == 0.0 {
                    (0.0, 0.0)
                } else {
                    (a / h, b / h)
                }
            }
            // log_b a = ln a / ln b; -0 is the same point as +0
            B::Log => {
                let lb = b.ln();
                (1.0 / ((a + 0.0) * lb), -(a.ln() / lb) / (b * lb))
            }
            B::Max => max_partials(a, b),
            // min(a, b) = −max(−a, −b)
            B::Min => max_partials(-a, -b),
            B::Copysign => {
                let s = if b.is_sign_negative() { -1.0 } else { 1.0 };
                (Unary::Abs.d1(a) * s, 0.0)
            }
        }
    }

    /// `(∂²/∂a², ∂²/∂a∂b, ∂²/∂b²)`: closed forms, at points where
    /// [`smooth_at`](Binary::smooth_at) holds.
    pub fn second_partials(self, a: f64, b: f64) -> (f64, f64, f64) {
        let r2 = a * a + b * b;
        match self {
            B::Add | B::Sub | B::Rem | B::Max | B::Min | B::Copysign => (0.0, 0.0, 0.0),
            B::Mul => (0.0, 1.0, 0.0),
            B::Div => (0.0, -1.0 / (b * b), 2.0 * a / (b * b * b)),
            B::Powf => (
                b * (b - 1.0) * a.powf(b - 2.0),
                a.powf(b - 1.0) * (1.0 + b * a.ln()),
                a.powf(b) * a.ln() * a.ln(),
            ),
            B::Atan2 => (
                -2.0 * a * b / r2.powi(2),
                (a * a - b * b) / r2.powi(2),
                2.0 * a * b / r2.powi(2),
            ),
            B::Hypot => (
                b * b / r2.powf(1.5),
                -a * b / r2.powf(1.5),
                a * a / r2.powf(1.5),
            ),
            B::Log => {
                let lb = b.ln();
                (
                    -1.0 / (a * a * lb),
                    -1.0 / (a * b * lb * lb),
                    a.ln() * (lb + 2.0) / (b * b * lb.powi(3)),
                )
            }
        }
    }

    /// Twice differentiable at `(a, b)`, in the open domain.
    pub fn smooth_at(self, a: f64, b: f64) -> bool {
        match self {
            B::Div => b != 0.0,
            B::Rem => b != 0.0 && (a / b).fract() != 0.0,
            B::Powf => a > 0.0,
            B::Log => a > 0.0 && b > 0.0 && b != 1.0,
            B::Atan2 | B::Hypot => a != 0.0 || b != 0.0,
            B::Max | B::Min => a != b,
            B::Copysign => a != 0.0 && b != 0.0,
            B::Add | B::Sub | B::Mul => true,
        }
    }

    /// Where to sample: intervals for `a` and for `b` inside the domain;
    /// keep the pairs that are [`clear_of_kinks`](Binary::clear_of_kinks).
    pub fn domain(self) -> [&'static [(f64, f64)]; 2] {
        match self {
            B::Add | B::Sub | B::Mul | B::Min | B::Max => [ALL, ALL],
            B::Div => [ALL, PM],
            B::Rem => [&[(-6.0, 6.0)], &[(-3.0, -0.5), (0.5, 3.0)]],
            B::Atan2 | B::Hypot => [&[(-2.0, 2.0)], &[(-2.0, 2.0)]],
            B::Powf => [&[(0.2, 3.0)], &[(-2.0, 2.0)]],
            B::Log => [&[(0.1, 5.0)], &[(0.1, 0.7), (1.3, 10.0)]],
            B::Copysign => [PM, PM],
        }
    }

    /// Whether `(a, b)` is at least a little away from every kink, jump and
    /// singularity (and inside the domain).
    pub fn clear_of_kinks(self, a: f64, b: f64) -> bool {
        match self {
            B::Add | B::Sub | B::Mul => true,
            B::Div => b.abs() >= 0.2,
            B::Rem => {
                let q = (a / b).abs().fract();
                b.abs() >= 0.5 && q > 0.03 && q < 0.97
            }
            // away from the origin and from the jump on the negative b axis
            B::Atan2 => a.hypot(b) >= 0.3 && !(b < 0.0 && a.abs() < 0.1),
            B::Powf => a >= 0.2,
            B::Hypot => a.hypot(b) >= 0.3,
            B::Log => a >= 0.1 && (b - 1.0).abs() >= 0.3 && b >= 0.1,
            B::Min | B::Max => (a - b).abs() >= 0.05,
            B::Copysign => a.abs() >= 0.1 && b.abs() >= 0.1,
        }
    }
}
