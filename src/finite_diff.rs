//! Finite differences: derivatives of plain `f64` functions by evaluating
//! them at nearby points.
//!
//! Finite differences need nothing from the function but its values, so they
//! are the reference that the forward (dual) and reverse (tape) modes of this
//! crate are checked against, and the fallback for code that cannot be
//! written generically over the crate's `Scalar` trait. They are also the
//! slowest and least accurate of the three: a gradient of `n` inputs costs
//! `n + 1` to `4n + 1` evaluations of `f`, and even at the best step the
//! result carries an error of order `ε^(1/2)` to `ε^(4/5)`
//! (`ε = f64::EPSILON ≈ 2.2e-16`), where automatic differentiation is exact
//! to rounding.
//!
//! When `f` is NaN or infinite at `x` or at a stencil point, the estimate is
//! NaN or infinite (no panic, no check): a NaN partial here next to finite
//! automatic partials usually means `f(x)` itself is not finite, not a kink
//! ([`check::first_nonfinite`](crate::check::first_nonfinite) finds the
//! operation).
//!
//! ```
//! use dualtape::finite_diff::{gradient, Scheme};
//!
//! // f(x, y) = x² y, ∇f = (2xy, x²)
//! let f = |x: &[f64]| x[0] * x[0] * x[1];
//! let (value, grad) = gradient(f, &[3.0, 2.0], Scheme::Central);
//! assert_eq!(value, 18.0);
//! assert!((grad[0] - 12.0).abs() < 1e-8);
//! assert!((grad[1] - 9.0).abs() < 1e-8);
//! ```
//!
//! # Schemes: when each is right
//!
//! For one input and a step `h` (the stencils are applied to each input in
//! turn for a gradient or a Jacobian):
//!
//! | [`Scheme`] | formula | truncation error | step `h` (at `|x| ≤ 1`) | typical relative error | evaluations for `n` inputs |
//! |---|---|---|---|---|---|
//! | [`Forward`](Scheme::Forward) | `(f(x+h) − f(x)) / h` | `h f''/2`, order 1 | `√ε ≈ 1.5e-8` | `~1e-8` | `n + 1` |
//! | [`Central`](Scheme::Central) (default) | `(f(x+h) − f(x−h)) / 2h` | `h² f'''/6`, order 2 | `∛ε ≈ 6.1e-6` | `~1e-10` | `2n + 1` |
//! | [`Richardson`](Scheme::Richardson) | `(8(f(x+h) − f(x−h)) − (f(x+2h) − f(x−2h))) / 12h` | `h⁴ f⁽⁵⁾/30`, order 4 | `ε^(1/5) ≈ 7.4e-4` | `~1e-13` | `4n + 1` |
//!
//! - **Forward** is the cheapest: one extra evaluation per input, since
//!   `f(x)` is needed anyway. Use it when evaluations are expensive and seven
//!   or eight correct digits are enough, e.g. for a rough gradient check or
//!   a quasi-Newton optimiser far from convergence. It is also the only one
//!   that evaluates `f` on one side of `x` only, which matters when `f` is
//!   undefined on the other side (`x = 0` for `sqrt`).
//! - **Central** costs twice as much and gains two to three digits. It is
//!   the default: the right choice for checking a gradient against automatic
//!   differentiation.
//! - **Richardson** extrapolation cancels the `h²` error of the central
//!   difference by combining steps `h` and `2h`, at twice the cost of
//!   Central again. Use it when a reference derivative must be good to about
//!   twelve digits and `f` is smooth (five times differentiable near `x`)
//!   and cheap. On a function that is not smooth at the scale of its larger
//!   step (a kink within `2h ≈ 1.5e-3`), it is *worse* than Central.
//!
//! Every scheme also returns `f(x)`, evaluated exactly once: Forward needs
//! it for its difference; Central and Richardson evaluate it once extra
//! (their stencils skip `x`), which is why their counts end in `+ 1`.
//!
//! # Step size: truncation against rounding
//!
//! A smaller step shrinks the truncation error (`C hᵖ` for a scheme of order
//! `p`) but magnifies rounding: the values of `f` near `x` are each wrong by
//! about `ε |f|`, and the difference of them is divided by `h`, giving an
//! error of about `ε |f| / h`. The total `C hᵖ + ε |f| / h` is smallest at
//! `h ~ ε^(1/(p+1))`, where the error is `~ ε^(p/(p+1))`:
//!
//! - Forward, `p = 1`: `h = √ε · max(1, |x|)`, error `~ √ε ≈ 1.5e-8`;
//! - Central, `p = 2`: `h = ∛ε · max(1, |x|)`, error `~ ε^(2/3) ≈ 3.7e-11`;
//! - Richardson, `p = 4`: `h = ε^(1/5) · max(1, |x|)`, error `~ ε^(4/5) ≈ 3e-13`.
//!
//! The factor `max(1, |x|)` makes the step relative for large `|x|` (a step
//! of `1e-8` added to `1e9` would be lost to rounding entirely) and absolute
//! near zero (a step relative to `|x| = 1e-300` would be absurdly small).
//! These are the steps of [`Step::Auto`], and [`step_size`] returns them;
//! [`Config`] chooses another with [`Step::Relative`] or [`Step::Absolute`].
//! The constants `C` and `|f|` are taken as `1`: a function whose derivatives
//! are much larger or smaller than its values at the scale of `x` (such as
//! `sin(1000 x)`) may want a step of its own.
//!
//! ## The step is made exactly representable
//!
//! `x + h` is rounded to a float, so the distance between the two points
//! that `f` really sees is not `h`, and the error of that (up to
//! `ε |x| / h`, far above the scheme's error once `|x|` is large) would
//! be divided by `h` too. So the step is replaced by `h = (x + h) − x`,
//! which is computed exactly (Sterbenz) whenever `h ≤ |x| / 2`, and so is the
//! exact distance from `x` to the point evaluated; [`step_size`] returns this
//! step. For the points on the other side (`x − h`, `x ± 2h`), each
//! difference quotient is divided by the distance between the two points it
//! actually uses (`(x + h) − (x − h)` as computed), never by a nominal `2h`.
//! What is left is a rounding of relative size `ε` in a denominator, which
//! is negligible.
//!
//! # Directional derivatives
//!
//! [`directional`] computes `∇f(x) · v` from the same stencils applied to
//! `t ↦ f(x + t u)` along the unit vector `u = v / ‖v‖`, then multiplies by
//! `‖v‖` (Euclidean norms). The step along `u` is the scheme's step for the
//! scalar `‖x‖`: `h = base · max(1, ‖x‖)`, so a displacement of the size a
//! one-input step would use for an input of size `‖x‖`, independent of how
//! `v` is scaled. It costs 2, 3 or 5 evaluations for any `n`, against `n + 1`
//! to `4n + 1` for the full gradient. The points `x + h u` are rounded in
//! every component and the step cannot be made representable in all of them
//! at once, so expect an error some small factor larger than a one-input
//! derivative's, of the same order.
//!
//! # Non-finite inputs and overflow
//!
//! An input `x_i` that is infinite or NaN, or a step that overflows (`|x_i|`
//! near `f64::MAX`) or rounds to zero (a tiny [`Step::Absolute`] at a large
//! `|x_i|`), gives `NaN` for that component of the gradient (or column of the
//! Jacobian), never a finite wrong number, and no panic. `f` is not
//! evaluated at the points of such a component, so it then sees fewer than
//! the counts above. Values of `f` that are not finite propagate as usual.
//!
//! # Memory
//!
//! The functions copy `x` once into a working vector, perturb one component
//! of it at a time and restore that component exactly (bit for bit) before
//! moving to the next one: each call of `f` sees `x` with at most one
//! component changed. No allocation happens per component, apart from the
//! vectors that a Jacobian's `f` itself returns. Forward evaluates `f(x)`
//! first; Central and Richardson evaluate it last, on the restored copy.

use nalgebra::DMatrix;

/// Which difference formula to use. See the [module docs](self) for the
/// error and the cost of each.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Scheme {
    /// One-sided `(f(x+h) − f(x)) / h`: first order, `n + 1` evaluations.
    Forward,
    /// Symmetric `(f(x+h) − f(x−h)) / 2h`: second order, `2n + 1`
    /// evaluations. The default.
    #[default]
    Central,
    /// Richardson extrapolation of two central differences (steps `h` and
    /// `2h`): `(8(f(x+h) − f(x−h)) − (f(x+2h) − f(x−2h))) / 12h`, fourth
    /// order, `4n + 1` evaluations.
    Richardson,
}

/// `√ε` for `f64` (exactly 2⁻²⁶).
const SQRT_EPS: f64 = 1.4901161193847656e-8;
/// `∛ε` for `f64`, as `f64::EPSILON.cbrt()` rounds it.
const CBRT_EPS: f64 = 6.0554544523933395e-6;
/// `ε^(1/5)` for `f64`, as `f64::EPSILON.powf(0.2)` rounds it.
const FIFTH_ROOT_EPS: f64 = 0.000740095979741405;

impl Scheme {
    /// The relative step of [`Step::Auto`] for this scheme: `√ε` for
    /// Forward, `∛ε` for Central, `ε^(1/5)` for Richardson, with
    /// `ε = f64::EPSILON`. The step at `x` is this times `max(1, |x|)`.
    ///
    /// ```
    /// use dualtape::finite_diff::Scheme;
    /// assert_eq!(Scheme::Forward.base_step(), f64::EPSILON.sqrt());
    /// assert!(Scheme::Forward.base_step() < Scheme::Central.base_step());
    /// assert!(Scheme::Central.base_step() < Scheme::Richardson.base_step());
    /// ```
    pub fn base_step(self) -> f64 {
        // The roots of ε as constants: computing `cbrt`/`powf` per input
        // cost more than the difference itself for cheap functions. A unit
        // test checks them against the runtime roots.
        match self {
            Scheme::Forward => SQRT_EPS,
            Scheme::Central => CBRT_EPS,
            Scheme::Richardson => FIFTH_ROOT_EPS,
        }
    }

    /// The order `p` of the truncation error `O(hᵖ)`: 1, 2 or 4.
    pub fn order(self) -> u32 {
        match self {
            Scheme::Forward => 1,
            Scheme::Central => 2,
            Scheme::Richardson => 4,
        }
    }

    /// How many times a gradient or a Jacobian of `n` inputs evaluates `f`
    /// (all inputs finite): `n + 1`, `2n + 1` or `4n + 1`, the `1` being
    /// `f(x)` itself. [`derivative`] is the case `n = 1`, and so is
    /// [`directional`] whatever the length of `x`.
    ///
    /// ```
    /// use dualtape::finite_diff::Scheme;
    /// assert_eq!(Scheme::Richardson.evaluations(10), 41);
    /// ```
    pub fn evaluations(self, n: usize) -> usize {
        self.points_per_input() * n + 1
    }

    /// Evaluations per input, not counting `f(x)`.
    fn points_per_input(self) -> usize {
        match self {
            Scheme::Forward => 1,
            Scheme::Central => 2,
            Scheme::Richardson => 4,
        }
    }
}

/// How the step is chosen for each input `x_i`. In every case it is then
/// made exactly representable, `h = (x_i + h) − x_i` (see the
/// [module docs](self#the-step-is-made-exactly-representable)).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub enum Step {
    /// The scheme's own choice, balancing truncation against rounding:
    /// `h = base · max(1, |x_i|)` with `base` = [`Scheme::base_step`]
    /// (`√ε`, `∛ε` or `ε^(1/5)`). The same as
    /// `Step::Relative(scheme.base_step())`.
    #[default]
    Auto,
    /// `h = r · max(1, |x_i|)`: relative to `|x_i|`, but never below `r`.
    /// `r` must be finite and positive.
    Relative(f64),
    /// `h` itself, the same for every input whatever its size. Must be
    /// finite and positive. For [`directional`] it is the length of the
    /// displacement `h · v / ‖v‖`.
    Absolute(f64),
}

impl Step {
    /// Panics unless the step is usable.
    fn validate(self) {
        match self {
            Step::Auto => {}
            Step::Relative(r) => assert!(
                r.is_finite() && r > 0.0,
                "finite_diff: Step::Relative({r}) is not a valid relative step; \
                 use a finite factor > 0, such as 1e-6, or Step::Auto"
            ),
            Step::Absolute(h) => assert!(
                h.is_finite() && h > 0.0,
                "finite_diff: Step::Absolute({h}) is not a valid step; \
                 use a finite step > 0, such as 1e-6, or Step::Auto"
            ),
        }
    }

    /// The nominal (not yet representable) step for a point of size `size`.
    fn nominal(self, scheme: Scheme, size: f64) -> f64 {
        match self {
            Step::Auto => scheme.base_step() * size.max(1.0),
            Step::Relative(r) => r * size.max(1.0),
            Step::Absolute(h) => h,
        }
    }
}

/// A scheme and a step rule, for the `_with` functions.
///
/// ```
/// use dualtape::finite_diff::{gradient_with, Config, Scheme, Step};
///
/// let config = Config { scheme: Scheme::Forward, step: Step::Absolute(1e-7) };
/// let (_, g) = gradient_with(|x: &[f64]| x[0].exp(), &[0.0], &config);
/// assert!((g[0] - 1.0).abs() < 1e-6);
/// assert_eq!(Config::default(), Config { scheme: Scheme::Central, step: Step::Auto });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Config {
    /// The difference formula. Default: [`Scheme::Central`].
    pub scheme: Scheme,
    /// The step rule. Default: [`Step::Auto`].
    pub step: Step,
}

impl Config {
    /// `scheme` with its own step ([`Step::Auto`]).
    pub fn new(scheme: Scheme) -> Self {
        Config {
            scheme,
            step: Step::Auto,
        }
    }

    /// The same scheme with the step rule `step`.
    pub fn with_step(self, step: Step) -> Self {
        Config { step, ..self }
    }
}

impl From<Scheme> for Config {
    fn from(scheme: Scheme) -> Self {
        Config::new(scheme)
    }
}

/// The step that `scheme` uses at `x` with [`Step::Auto`]:
/// `base · max(1, |x|)` with `base` = `√ε`, `∛ε` or `ε^(1/5)`
/// ([`Scheme::base_step`]), made exactly representable as `(x + h) − x`.
///
/// Returns NaN when `x` is not finite or `x + h` overflows: the derivative
/// is NaN there.
///
/// ```
/// use dualtape::finite_diff::{step_size, Scheme};
///
/// let x = 3.7;
/// let h = step_size(Scheme::Central, x);
/// assert_eq!((x + h) - x, h); // the points are exactly h apart
/// assert!((h / (3.7 * f64::EPSILON.cbrt()) - 1.0).abs() < 1e-9);
/// ```
pub fn step_size(scheme: Scheme, x: f64) -> f64 {
    step_size_with(&Config::new(scheme), x)
}

/// The step that `config` uses at `x`, made exactly representable as
/// `(x + h) − x`. See [`step_size`].
///
/// # Panics
///
/// If `config.step` is a [`Step::Absolute`] or [`Step::Relative`] that is not
/// finite and positive.
pub fn step_size_with(config: &Config, x: f64) -> f64 {
    config.step.validate();
    representable_step(config, x)
}

/// [`step_size_with`] without the validation.
fn representable_step(config: &Config, x: f64) -> f64 {
    if !x.is_finite() {
        return f64::NAN;
    }
    let h = config.step.nominal(config.scheme, x.abs());
    let xp = x + h;
    if !xp.is_finite() {
        return f64::NAN;
    }
    xp - x
}

/// Where to evaluate `f` for one input and how to combine the values.
#[derive(Debug, Clone, Copy)]
struct Plan {
    scheme: Scheme,
    /// Forward: `[x+h]`; Central: `[x+h, x−h]`;
    /// Richardson: `[x+h, x−h, x+2h, x−2h]`.
    points: [f64; 4],
    /// The true distances the differences are divided by: Forward `[h]`;
    /// Central `[(x+h) − (x−h)]`; Richardson that and `[(x+2h) − (x−2h)]`.
    denominators: [f64; 2],
    /// False when no finite, nonzero step exists: the result is NaN.
    valid: bool,
}

impl Plan {
    fn new(config: &Config, x: f64) -> Plan {
        let scheme = config.scheme;
        let h = representable_step(config, x);
        let invalid = Plan {
            scheme,
            points: [f64::NAN; 4],
            denominators: [f64::NAN; 2],
            valid: false,
        };
        // NaN (non-finite x, overflow) or zero (a step lost to rounding).
        if h.is_nan() || h <= 0.0 {
            return invalid;
        }
        let (points, denominators) = match scheme {
            Scheme::Forward => {
                let xp = x + h;
                ([xp, f64::NAN, f64::NAN, f64::NAN], [xp - x, f64::NAN])
            }
            Scheme::Central => {
                let (xp, xm) = (x + h, x - h);
                ([xp, xm, f64::NAN, f64::NAN], [xp - xm, f64::NAN])
            }
            Scheme::Richardson => {
                let (p1, m1) = (x + h, x - h);
                let (p2, m2) = (x + 2.0 * h, x - 2.0 * h);
                ([p1, m1, p2, m2], [p1 - m1, p2 - m2])
            }
        };
        let k = scheme.points_per_input();
        if points[..k].iter().all(|p| p.is_finite()) {
            Plan {
                scheme,
                points,
                denominators,
                valid: true,
            }
        } else {
            invalid
        }
    }

    /// The points at which to evaluate `f`, in order; empty when invalid.
    fn points(&self) -> &[f64] {
        if self.valid {
            &self.points[..self.scheme.points_per_input()]
        } else {
            &[]
        }
    }

    /// The derivative from `f(x)` (used by Forward only) and the values at
    /// [`Plan::points`], in the same order.
    fn combine(&self, f0: f64, values: &[f64]) -> f64 {
        if !self.valid {
            return f64::NAN;
        }
        let d = self.denominators;
        match self.scheme {
            Scheme::Forward => (values[0] - f0) / d[0],
            Scheme::Central => (values[0] - values[1]) / d[0],
            Scheme::Richardson => {
                // (4 D(h) − D(2h)) / 3 with D the central difference: with
                // exact points this is (8(f₁ − f₋₁) − (f₂ − f₋₂)) / 12h, and
                // each D divides by the distance its own points really are
                // apart.
                let d1 = (values[0] - values[1]) / d[0];
                let d2 = (values[2] - values[3]) / d[1];
                (4.0 * d1 - d2) / 3.0
            }
        }
    }
}

/// The derivative of a function of one variable: `(f(x), f'(x))`.
///
/// Evaluates `f` 2 (Forward), 3 (Central) or 5 (Richardson) times; see the
/// [module docs](self) for the step and the error. If `x` is not finite the
/// derivative is NaN (and `f` is evaluated only at `x`).
///
/// ```
/// use dualtape::finite_diff::{derivative, Scheme};
///
/// let (value, d) = derivative(f64::sin, 1.0, Scheme::Richardson);
/// assert_eq!(value, 1f64.sin());
/// assert!((d - 1f64.cos()).abs() < 1e-12);
/// ```
pub fn derivative(f: impl Fn(f64) -> f64, x: f64, scheme: Scheme) -> (f64, f64) {
    derivative_with(f, x, &Config::new(scheme))
}

/// [`derivative`] with a chosen step rule.
///
/// # Panics
///
/// If `config.step` is a [`Step::Absolute`] or [`Step::Relative`] that is not
/// finite and positive.
pub fn derivative_with(f: impl Fn(f64) -> f64, x: f64, config: &Config) -> (f64, f64) {
    config.step.validate();
    let forward = config.scheme == Scheme::Forward;
    let first = if forward { f(x) } else { f64::NAN };
    let plan = Plan::new(config, x);
    let mut values = [0.0; 4];
    let points = plan.points();
    for (value, &p) in values.iter_mut().zip(points) {
        *value = f(p);
    }
    let d = plan.combine(first, &values[..points.len()]);
    let f0 = if forward { first } else { f(x) };
    (f0, d)
}

/// The gradient of `f: ℝⁿ → ℝ` at `x`: `(f(x), ∇f(x))`.
///
/// Evaluates `f` `n + 1` (Forward), `2n + 1` (Central) or `4n + 1`
/// (Richardson) times, with `x` changed in one component at a time from a
/// single working copy. An empty `x` gives `(f(x), vec![])`. A component
/// whose `x_i` is not finite is NaN; see the [module docs](self) for the
/// step and the error of each scheme.
///
/// ```
/// use dualtape::finite_diff::{gradient, Scheme};
///
/// // Rosenbrock: f = (1 − x)² + 100 (y − x²)²
/// let f = |p: &[f64]| (1.0 - p[0]).powi(2) + 100.0 * (p[1] - p[0] * p[0]).powi(2);
/// let (x, y) = (-1.2, 1.0);
/// let exact = [
///     -2.0 * (1.0 - x) - 400.0 * x * (y - x * x),
///     200.0 * (y - x * x),
/// ];
/// let (value, g) = gradient(f, &[x, y], Scheme::Central);
/// assert!((value - 24.2).abs() < 1e-12);
/// for i in 0..2 {
///     assert!((g[i] - exact[i]).abs() < 1e-7 * exact[i].abs());
/// }
/// ```
pub fn gradient(f: impl Fn(&[f64]) -> f64, x: &[f64], scheme: Scheme) -> (f64, Vec<f64>) {
    gradient_with(f, x, &Config::new(scheme))
}

/// [`gradient`] with a chosen step rule.
///
/// ```
/// use dualtape::finite_diff::{gradient_with, Config, Scheme, Step};
///
/// let config = Config::new(Scheme::Richardson).with_step(Step::Relative(1e-3));
/// let (_, g) = gradient_with(|x: &[f64]| x[0].exp() * x[1], &[0.5, 2.0], &config);
/// assert!((g[0] - 2.0 * 0.5f64.exp()).abs() < 1e-10);
/// assert!((g[1] - 0.5f64.exp()).abs() < 1e-10);
/// ```
///
/// # Panics
///
/// If `config.step` is a [`Step::Absolute`] or [`Step::Relative`] that is not
/// finite and positive.
pub fn gradient_with(f: impl Fn(&[f64]) -> f64, x: &[f64], config: &Config) -> (f64, Vec<f64>) {
    config.step.validate();
    let forward = config.scheme == Scheme::Forward;
    let mut work = x.to_vec();
    let mut grad = Vec::with_capacity(x.len());
    // Forward needs f(x) first; Central and Richardson evaluate it last, on
    // the restored working copy.
    let first = if forward { f(&work) } else { f64::NAN };
    let mut values = [0.0; 4];
    for (i, &xi) in x.iter().enumerate() {
        let plan = Plan::new(config, xi);
        let points = plan.points();
        for (value, &p) in values.iter_mut().zip(points) {
            work[i] = p;
            *value = f(&work);
        }
        work[i] = xi;
        grad.push(plan.combine(first, &values[..points.len()]));
    }
    let f0 = if forward { first } else { f(&work) };
    (f0, grad)
}

/// The directional derivative of `f: ℝⁿ → ℝ` at `x` along `v`:
/// `(f(x), ∇f(x) · v)`, without computing the gradient.
///
/// Evaluates `f` 2 (Forward), 3 (Central) or 5 (Richardson) times whatever
/// `n`. The stencil is applied along the unit vector `v / ‖v‖` with the step
/// the scheme would use for a number of size `‖x‖`, and the result is
/// scaled by `‖v‖`; see the
/// [module docs](self#directional-derivatives). A zero `v` gives exactly 0
/// (one evaluation); a non-finite entry in `x` or `v` gives NaN.
///
/// ```
/// use dualtape::finite_diff::{directional, Scheme};
///
/// // f = x y z, ∇f = (yz, xz, xy); at (1, 2, 3) along (1, −1, 2): 6 − 3 + 4 = 7
/// let f = |p: &[f64]| p[0] * p[1] * p[2];
/// let (value, d) = directional(f, &[1.0, 2.0, 3.0], &[1.0, -1.0, 2.0], Scheme::Central);
/// assert_eq!(value, 6.0);
/// assert!((d - 7.0).abs() < 1e-8);
/// ```
///
/// # Panics
///
/// If `v.len() != x.len()`: the direction needs one entry per input.
pub fn directional(f: impl Fn(&[f64]) -> f64, x: &[f64], v: &[f64], scheme: Scheme) -> (f64, f64) {
    directional_with(f, x, v, &Config::new(scheme))
}

/// [`directional`] with a chosen step rule. The step rule is applied to the
/// scalar `‖x‖`: [`Step::Absolute`]`(h)` is the length of the displacement
/// along `v / ‖v‖`, [`Step::Relative`]`(r)` makes it `r · max(1, ‖x‖)`.
///
/// # Panics
///
/// If `v.len() != x.len()`, or if `config.step` is a [`Step::Absolute`] or
/// [`Step::Relative`] that is not finite and positive.
pub fn directional_with(
    f: impl Fn(&[f64]) -> f64,
    x: &[f64],
    v: &[f64],
    config: &Config,
) -> (f64, f64) {
    assert!(
        v.len() == x.len(),
        "finite_diff::directional: the direction v has {} entries but x has {}; \
         pass a v with one entry per input of f",
        v.len(),
        x.len()
    );
    config.step.validate();
    let scheme = config.scheme;
    let mut work = x.to_vec();
    let x_norm = norm(x);
    let v_norm = norm(v);
    if !x_norm.is_finite() || !v_norm.is_finite() {
        return (f(&work), f64::NAN);
    }
    if v_norm == 0.0 {
        return (f(&work), 0.0);
    }
    let h = config.step.nominal(scheme, x_norm);
    let offsets: &[f64] = match scheme {
        Scheme::Forward => &[1.0],
        Scheme::Central => &[1.0, -1.0],
        Scheme::Richardson => &[1.0, -1.0, 2.0, -2.0],
    };
    let forward = scheme == Scheme::Forward;
    let first = if forward { f(&work) } else { f64::NAN };
    let mut values = [0.0; 4];
    for (value, &s) in values.iter_mut().zip(offsets) {
        let t = s * h; // exact: s is ±1 or ±2
        let mut finite = true;
        for ((w, &xi), &vi) in work.iter_mut().zip(x).zip(v) {
            *w = xi + t * (vi / v_norm);
            finite &= w.is_finite();
        }
        if !finite {
            work.copy_from_slice(x);
            return (f(&work), f64::NAN);
        }
        *value = f(&work);
    }
    work.copy_from_slice(x);
    let along_unit = match scheme {
        Scheme::Forward => (values[0] - first) / h,
        Scheme::Central => (values[0] - values[1]) / (2.0 * h),
        Scheme::Richardson => {
            (8.0 * (values[0] - values[1]) - (values[2] - values[3])) / (12.0 * h)
        }
    };
    let f0 = if forward { first } else { f(&work) };
    (f0, along_unit * v_norm)
}

/// The Jacobian of `f: ℝⁿ → ℝᵐ` at `x`: `(f(x), J)` with `J` an `m × n`
/// matrix, `J[(i, j)] = ∂f_i/∂x_j` (one row per output, one column per
/// input).
///
/// Evaluates `f` `n + 1` (Forward), `2n + 1` (Central) or `4n + 1`
/// (Richardson) times, like [`gradient`]. A column whose `x_j` is not finite
/// is NaN. An empty `x` gives an `m × 0` matrix.
///
/// ```
/// use dualtape::finite_diff::{jacobian, Scheme};
///
/// // polar to Cartesian: (r cos θ, r sin θ)
/// let f = |p: &[f64]| vec![p[0] * p[1].cos(), p[0] * p[1].sin()];
/// let (r, th) = (2.0, 0.5_f64);
/// let (value, j) = jacobian(f, &[r, th], Scheme::Central);
/// assert_eq!(value, vec![r * th.cos(), r * th.sin()]);
/// assert_eq!(j.shape(), (2, 2));
/// assert!((j[(0, 1)] + r * th.sin()).abs() < 1e-9); // ∂x/∂θ = −r sin θ
/// assert!((j[(1, 0)] - th.sin()).abs() < 1e-9);     // ∂y/∂r = sin θ
/// ```
///
/// # Panics
///
/// If `f` returns vectors of different lengths at different points: it must
/// return the same number of outputs `m` at every point.
pub fn jacobian(
    f: impl Fn(&[f64]) -> Vec<f64>,
    x: &[f64],
    scheme: Scheme,
) -> (Vec<f64>, DMatrix<f64>) {
    jacobian_with(f, x, &Config::new(scheme))
}

/// [`jacobian`] with a chosen step rule.
///
/// # Panics
///
/// If `f` returns vectors of different lengths at different points, or if
/// `config.step` is a [`Step::Absolute`] or [`Step::Relative`] that is not
/// finite and positive.
pub fn jacobian_with(
    f: impl Fn(&[f64]) -> Vec<f64>,
    x: &[f64],
    config: &Config,
) -> (Vec<f64>, DMatrix<f64>) {
    config.step.validate();
    let n = x.len();
    let forward = config.scheme == Scheme::Forward;
    let mut work = x.to_vec();
    // The number of outputs, fixed by the first evaluation.
    let mut m: Option<usize> = None;
    let call = |work: &[f64], m: &mut Option<usize>| -> Vec<f64> {
        let out = f(work);
        match *m {
            None => *m = Some(out.len()),
            Some(expected) => assert!(
                out.len() == expected,
                "finite_diff::jacobian: f returned {} outputs but {} at an earlier \
                 evaluation; f must return a vector of the same length at every point",
                out.len(),
                expected
            ),
        }
        out
    };
    let first = if forward {
        call(&work, &mut m)
    } else {
        Vec::new()
    };
    // Column-major m × n, filled one column per input. Columns whose input
    // is not finite evaluate nothing; while `m` is still unknown (Central and
    // Richardson evaluate f(x) last) they are counted in `pending` and
    // written as NaN once `m` is known.
    let mut data: Vec<f64> = Vec::new();
    let mut pending = 0;
    let mut outputs: Vec<Vec<f64>> = Vec::with_capacity(4);
    let mut values = [0.0; 4];
    for (j, &xj) in x.iter().enumerate() {
        let plan = Plan::new(config, xj);
        outputs.clear();
        for &p in plan.points() {
            work[j] = p;
            outputs.push(call(&work, &mut m));
        }
        work[j] = xj;
        let Some(rows) = m else {
            pending += 1;
            continue;
        };
        if data.capacity() == 0 {
            data.reserve_exact(rows * n);
        }
        data.extend(std::iter::repeat_n(f64::NAN, pending * rows));
        pending = 0;
        for r in 0..rows {
            for (value, out) in values.iter_mut().zip(&outputs) {
                *value = out[r];
            }
            let f0 = first.get(r).copied().unwrap_or(f64::NAN);
            data.push(plan.combine(f0, &values[..outputs.len()]));
        }
    }
    let f0 = if forward { first } else { call(&work, &mut m) };
    let rows = f0.len();
    data.extend(std::iter::repeat_n(f64::NAN, pending * rows));
    (f0, DMatrix::from_vec(rows, n, data))
}

/// Euclidean norm, scaled so that it neither overflows nor underflows; not
/// finite if any entry is not finite.
fn norm(v: &[f64]) -> f64 {
    let mut scale = 0.0_f64;
    for &a in v {
        if !a.is_finite() {
            return f64::NAN;
        }
        scale = scale.max(a.abs());
    }
    if scale == 0.0 {
        return 0.0;
    }
    v.iter()
        .map(|&a| (a / scale) * (a / scale))
        .sum::<f64>()
        .sqrt()
        * scale
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_constants_are_the_roots_of_epsilon() {
        assert_eq!(SQRT_EPS, f64::EPSILON.sqrt());
        assert_eq!(CBRT_EPS, f64::EPSILON.cbrt());
        assert_eq!(FIFTH_ROOT_EPS, f64::EPSILON.powf(0.2));
    }
}
