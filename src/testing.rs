//! Property tests of derivatives, for your own `#[test]`s (feature
//! `quickcheck`, on by default).
//!
//! [`check_gradients`] checks your model's gradient in every mode
//! ([`check::gradient`]) at 100 random points (`QUICKCHECK_TESTS` changes
//! the number) in the box `[-1, 1]ⁿ`. When a point fails, it shrinks it with
//! quickcheck's protocol (towards 0, whole numbers and short decimals,
//! keeping it in the box and failing) and panics with the report at the
//! shrunk point:
//!
//! ```
//! use dualtape::{testing, Differentiable, Scalar};
//!
//! struct Model;
//! impl Differentiable for Model {
//!     fn dim(&self) -> usize { 2 }
//!     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
//!         (x[0] * x[1]).tanh() + x[0].exp()
//!     }
//! }
//!
//! // in your tests: #[test] fn gradients() { testing::check_gradients(&Model); }
//! testing::check_gradients(&Model);
//! ```
//!
//! [`Property`] chooses the box, the number of points, the tolerances, a
//! seed, or a Hessian or Jacobian check instead:
//!
//! ```
//! use dualtape::{check, testing::Property, Differentiable, Scalar};
//!
//! struct LogModel;
//! impl Differentiable for LogModel {
//!     fn dim(&self) -> usize { 3 }
//!     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
//!         (x[0] * x[1]).ln() + x[2].sqrt() * x[0]
//!     }
//! }
//!
//! Property::hessians(&LogModel)
//!     .within(0.5, 4.0) // ln and sqrt need positive inputs
//!     .tests(20)
//!     .config(check::Config::default().with_fd(1e-6, 1e-5))
//!     .run();
//! ```
//!
//! The points come from a quickcheck [`Gen`] and shrink by quickcheck's
//! rule (try simpler candidates, keep the first that still fails, repeat),
//! but the loop is this module's own: quickcheck's runner takes only
//! `'static` function pointers, which would rule out a model that borrows
//! its data. A model that panics fails the property like a failed check,
//! with its panic message in the [`Failure`].
//!
//! For properties of your own, [`Points`] generates and shrinks points in a
//! box from a quickcheck [`Gen`], and [`Point`] is an [`Arbitrary`] point
//! whose dimension and (integer) box are in its type:
//!
//! ```
//! use dualtape::testing::Point;
//! use quickcheck::{QuickCheck, TestResult};
//!
//! fn in_box(p: Point<3, -2, 5>) -> TestResult {
//!     TestResult::from_bool(p.0.iter().all(|&v| (-2.0..=5.0).contains(&v)))
//! }
//! QuickCheck::new().tests(50).quickcheck(in_box as fn(Point<3, -2, 5>) -> TestResult);
//! ```

use std::fmt;
use std::panic::{catch_unwind, AssertUnwindSafe};

pub use quickcheck::{Arbitrary, Gen};

use crate::check::{self, Report};
use crate::model::{Differentiable, VectorFunction};
use crate::rng::SplitMix64;

/// Up to this many inputs, [`Property::gradients`] runs the full
/// [`check::gradient`]; above it, the directional [`check::gradient_fast`].
pub const FULL_CHECK_MAX_DIM: usize = 32;

/// A box of points `lo_i ≤ x_i ≤ hi_i`: generates finite points uniformly
/// inside it and shrinks them towards its simplest point.
///
/// ```
/// use dualtape::testing::{Gen, Points};
///
/// let points = Points::cube(4, -3.0, 3.0);
/// let mut g = Gen::new(100);
/// let x = points.generate(&mut g);
/// assert_eq!(x.len(), 4);
/// assert!(points.contains(&x));
/// // every shrink candidate stays in the box and is closer to 0
/// for s in points.shrink(&x) {
///     assert!(points.contains(&s));
/// }
/// assert_eq!(points.target(), vec![0.0; 4]);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Points {
    lo: Vec<f64>,
    hi: Vec<f64>,
}

impl Points {
    /// The cube `[lo, hi]^dim`.
    ///
    /// # Panics
    ///
    /// Unless `lo` and `hi` are finite with `lo <= hi`.
    pub fn cube(dim: usize, lo: f64, hi: f64) -> Self {
        Points::new(vec![lo; dim], vec![hi; dim])
    }

    /// The box `lo_i ≤ x_i ≤ hi_i`, one bound pair per coordinate.
    ///
    /// # Panics
    ///
    /// If `lo` and `hi` differ in length, or unless every bound is finite
    /// with `lo_i <= hi_i`.
    pub fn new(lo: Vec<f64>, hi: Vec<f64>) -> Self {
        assert!(
            lo.len() == hi.len(),
            "testing::Points: {} lower bounds but {} upper bounds; give one pair per coordinate",
            lo.len(),
            hi.len()
        );
        for (i, (&l, &h)) in lo.iter().zip(&hi).enumerate() {
            assert!(
                l.is_finite() && h.is_finite() && l <= h,
                "testing::Points: coordinate {i} has the box [{l}, {h}]; the bounds must be \
                 finite with lo <= hi"
            );
        }
        Points { lo, hi }
    }

    /// The number of coordinates.
    pub fn dim(&self) -> usize {
        self.lo.len()
    }

    /// The lower bounds.
    pub fn lower(&self) -> &[f64] {
        &self.lo
    }

    /// The upper bounds.
    pub fn upper(&self) -> &[f64] {
        &self.hi
    }

    /// Whether `x` has the right length and lies in the box.
    pub fn contains(&self, x: &[f64]) -> bool {
        x.len() == self.dim()
            && x.iter()
                .zip(self.lo.iter().zip(&self.hi))
                .all(|(&v, (&l, &h))| l <= v && v <= h)
    }

    /// The simplest point of the box, which shrinking aims at: 0 in each
    /// coordinate whose range contains it, else the bound nearest 0.
    pub fn target(&self) -> Vec<f64> {
        self.lo
            .iter()
            .zip(&self.hi)
            .map(|(&l, &h)| 0.0f64.clamp(l, h))
            .collect()
    }

    /// A point drawn uniformly from the box (finite, inside it).
    pub fn generate(&self, g: &mut Gen) -> Vec<f64> {
        let mut rng = splitmix_from(g);
        self.lo
            .iter()
            .zip(&self.hi)
            .map(|(&l, &h)| {
                let u = rng.uniform_closed();
                // (1 − u) l + u h neither overflows nor leaves [l, h] by more
                // than rounding, which the clamp removes.
                ((1.0 - u) * l + u * h).clamp(l, h)
            })
            .collect()
    }

    /// Simpler points to try when `x` fails, simplest first: the
    /// [`target`](Points::target), then each coordinate moved towards its
    /// target: to it, to a whole multiple of 1, 0.1, 0.01 or 0.001 times the
    /// box's scale (truncating towards the target), or a bisection step
    /// (`d/2`, `3d/4`, `7d/8`, `15d/16` of the way). Every candidate lies in
    /// the box and is strictly closer to the target in the coordinate it
    /// moves, so repeated shrinking ends.
    pub fn shrink(&self, x: &[f64]) -> Box<dyn Iterator<Item = Vec<f64>>> {
        if !self.contains(x) {
            return Box::new(std::iter::empty());
        }
        let target = self.target();
        let x = x.to_vec();
        let mut out: Vec<Vec<f64>> = Vec::new();
        let moved = x.iter().zip(&target).filter(|(a, b)| a != b).count();
        if moved > 1 {
            out.push(target.clone());
        }
        for i in 0..x.len() {
            let width = self.hi[i] - self.lo[i];
            for c in coordinate_candidates(x[i], target[i], width) {
                let mut y = x.clone();
                y[i] = c;
                out.push(y);
            }
        }
        Box::new(out.into_iter())
    }
}

/// Values closer to `t` than `v`, simplest first.
fn coordinate_candidates(v: f64, t: f64, width: f64) -> Vec<f64> {
    let d = v - t;
    if d == 0.0 {
        return Vec::new();
    }
    let mut out = vec![t];
    let e = if width > 0.0 {
        width.log10().floor()
    } else {
        0.0
    };
    for k in 0..=3 {
        let q = 10f64.powf(e - k as f64);
        let c = t + (d / q).trunc() * q;
        if (c - t).abs() < d.abs() && !out.contains(&c) {
            out.push(c);
        }
    }
    // Bisections towards v (t + d/2, t + 3d/4, ...) find failures closer
    // to t than any round number; not below a thousandth of the box, so
    // chains of them stay short.
    if d.abs() > width * 1e-3 {
        for k in 1..=4 {
            let c = t + d * (1.0 - 0.5f64.powi(k));
            if (c - t).abs() < d.abs() && !out.contains(&c) {
                out.push(c);
            }
        }
    }
    out
}

/// SplitMix64, seeded from a quickcheck `Gen`.
fn splitmix_from(g: &mut Gen) -> SplitMix64 {
    // Mixing two draws dilutes quickcheck's bias towards "problem values".
    SplitMix64::new(u64::arbitrary(g) ^ u64::arbitrary(g).rotate_left(29))
}

/// A point of dimension `N` in the box `[LO, HI]^N`, as a quickcheck
/// [`Arbitrary`]: for properties of your own.
///
/// Generated uniformly inside the box by [`Points::cube`] and shrunk by
/// [`Points::shrink`].
///
/// ```
/// use dualtape::testing::{Arbitrary, Gen, Point};
///
/// let p = Point::<2, 0, 10>::arbitrary(&mut Gen::new(100));
/// assert!(p.0.iter().all(|&v| (0.0..=10.0).contains(&v)));
/// let unit = Point::<5>::arbitrary(&mut Gen::new(100)); // [-1, 1]^5 by default
/// assert!(unit.as_slice().iter().all(|v| v.abs() <= 1.0));
/// ```
///
/// # Panics
///
/// Generating panics unless `LO <= HI`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Point<const N: usize, const LO: i32 = -1, const HI: i32 = 1>(pub [f64; N]);

impl<const N: usize, const LO: i32, const HI: i32> Point<N, LO, HI> {
    /// The box of this type, `[LO, HI]^N`.
    pub fn points() -> Points {
        Points::cube(N, LO as f64, HI as f64)
    }

    /// The coordinates.
    pub fn as_slice(&self) -> &[f64] {
        &self.0
    }
}

impl<const N: usize, const LO: i32, const HI: i32> Arbitrary for Point<N, LO, HI> {
    fn arbitrary(g: &mut Gen) -> Self {
        let v = Self::points().generate(g);
        Point(
            v.try_into()
                .expect("Points::generate returns N coordinates"),
        )
    }

    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(
            Self::points()
                .shrink(&self.0)
                .map(|v| Point(v.try_into().expect("Points::shrink keeps N coordinates"))),
        )
    }
}

/// How a property checks one point.
type CheckFn<'a> = Box<dyn Fn(&[f64], &check::Config) -> Report + 'a>;

/// A derivative check run as a property over random points, with
/// shrinking. Build one with [`gradients`](Property::gradients),
/// [`gradients_fast`](Property::gradients_fast),
/// [`hessians`](Property::hessians) or [`jacobians`](Property::jacobians),
/// adjust it, then [`run`](Property::run) it.
///
/// Defaults: 100 points (or `QUICKCHECK_TESTS`), the box `[-1, 1]ⁿ`,
/// [`check::Config::default`], a random seed, at most 1000 shrink
/// candidates tried.
pub struct Property<'a> {
    what: &'static str,
    check: CheckFn<'a>,
    points: Points,
    config: check::Config,
    tests: u64,
    seed: Option<u64>,
    max_shrinks: usize,
}

impl fmt::Debug for Property<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Property")
            .field("what", &self.what)
            .field("points", &self.points)
            .field("config", &self.config)
            .field("tests", &self.tests)
            .field("seed", &self.seed)
            .field("max_shrinks", &self.max_shrinks)
            .finish()
    }
}

fn default_tests() -> u64 {
    std::env::var("QUICKCHECK_TESTS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(100)
}

impl<'a> Property<'a> {
    fn new(what: &'static str, dim: usize, check: CheckFn<'a>) -> Self {
        Property {
            what,
            check,
            points: Points::cube(dim, -1.0, 1.0),
            config: check::Config::default(),
            tests: default_tests(),
            seed: None,
            max_shrinks: 1000,
        }
    }

    /// The gradient in every mode: [`check::gradient`] for up to
    /// [`FULL_CHECK_MAX_DIM`] inputs, [`check::gradient_fast`] above.
    pub fn gradients<M: Differentiable + ?Sized>(model: &'a M) -> Self {
        let n = model.dim();
        if n <= FULL_CHECK_MAX_DIM {
            Property::new(
                "gradient",
                n,
                Box::new(move |x, c| check::gradient_with(model, x, c)),
            )
        } else {
            Property::gradients_fast(model)
        }
    }

    /// The directional check [`check::gradient_fast`] at every point,
    /// whatever `n`.
    pub fn gradients_fast<M: Differentiable + ?Sized>(model: &'a M) -> Self {
        Property::new(
            "directional derivative",
            model.dim(),
            Box::new(move |x, c| check::gradient_fast_with(model, x, c)),
        )
    }

    /// The Hessian in every mode: [`check::hessian`].
    pub fn hessians<M: Differentiable + ?Sized>(model: &'a M) -> Self {
        Property::new(
            "Hessian",
            model.dim(),
            Box::new(move |x, c| check::hessian_with(model, x, c)),
        )
    }

    /// The Jacobian in every mode: [`check::jacobian`].
    pub fn jacobians<F: VectorFunction + ?Sized>(f: &'a F) -> Self {
        Property::new(
            "Jacobian",
            f.dim(),
            Box::new(move |x, c| check::jacobian_with(f, x, c)),
        )
    }

    /// Points in the cube `[lo, hi]ⁿ`.
    ///
    /// # Panics
    ///
    /// Unless `lo` and `hi` are finite with `lo <= hi`.
    pub fn within(self, lo: f64, hi: f64) -> Self {
        let n = self.points.dim();
        Property {
            points: Points::cube(n, lo, hi),
            ..self
        }
    }

    /// Points in a box of your choice.
    ///
    /// # Panics
    ///
    /// If the box's dimension is not the model's.
    pub fn points(self, points: Points) -> Self {
        assert!(
            points.dim() == self.points.dim(),
            "testing::Property::points: the box has {} coordinates but the model has {} inputs",
            points.dim(),
            self.points.dim()
        );
        Property { points, ..self }
    }

    /// The tolerances and finite-difference scheme of each check.
    pub fn config(self, config: check::Config) -> Self {
        Property { config, ..self }
    }

    /// How many points must pass.
    pub fn tests(self, tests: u64) -> Self {
        Property { tests, ..self }
    }

    /// A fixed seed, for a reproducible run.
    pub fn seed(self, seed: u64) -> Self {
        Property {
            seed: Some(seed),
            ..self
        }
    }

    /// At most this many shrink candidates are tried after a failure.
    pub fn max_shrinks(self, max_shrinks: usize) -> Self {
        Property {
            max_shrinks,
            ..self
        }
    }

    /// Checks one point: `Err` with the report (or the model's panic
    /// message) if it fails.
    fn try_point(&self, x: &[f64]) -> Result<(), (Option<Box<Report>>, Option<String>)> {
        match catch_unwind(AssertUnwindSafe(|| (self.check)(x, &self.config))) {
            Ok(r) if r.is_ok() => Ok(()),
            Ok(r) => Err((Some(Box::new(r)), None)),
            Err(payload) => {
                let msg = if let Some(s) = payload.downcast_ref::<&str>() {
                    s.to_string()
                } else if let Some(s) = payload.downcast_ref::<String>() {
                    s.clone()
                } else {
                    "(a panic without a message)".to_string()
                };
                Err((None, Some(msg)))
            }
        }
    }

    /// Runs the property: `Ok(number of points passed)`, or the shrunk
    /// failure.
    pub fn quicktest(&self) -> Result<u64, Failure> {
        let mut g = match self.seed {
            Some(s) => Gen::from_size_and_seed(100, s),
            None => Gen::new(100),
        };
        for passed in 0..self.tests {
            let x = self.points.generate(&mut g);
            let Err(mut err) = self.try_point(&x) else {
                continue;
            };
            // Shrink: take the first simpler candidate that still fails, and
            // start again from it (quickcheck's protocol).
            let original = x.clone();
            let mut current = x;
            let mut steps = 0;
            let mut tried = 0;
            'shrinking: loop {
                for candidate in self.points.shrink(&current) {
                    if tried >= self.max_shrinks {
                        break 'shrinking;
                    }
                    tried += 1;
                    if let Err(e) = self.try_point(&candidate) {
                        current = candidate;
                        err = e;
                        steps += 1;
                        continue 'shrinking;
                    }
                }
                break;
            }
            return Err(Failure {
                what: self.what,
                point: current,
                original,
                shrinks: steps,
                passed,
                report: err.0,
                panic: err.1,
            });
        }
        Ok(self.tests)
    }

    /// Runs the property and panics on failure.
    ///
    /// # Panics
    ///
    /// At the first failing point, after shrinking it, with the
    /// [`Failure`]: the point, the original point, and the check's report
    /// at the shrunk point (or the model's panic message there).
    #[track_caller]
    pub fn run(&self) {
        if let Err(f) = self.quicktest() {
            panic!("{f}");
        }
    }
}

/// A failed [`Property`]: where, and the report there.
#[derive(Clone, Debug)]
pub struct Failure {
    what: &'static str,
    /// The shrunk failing point.
    pub point: Vec<f64>,
    /// The first failing point found, before shrinking.
    pub original: Vec<f64>,
    /// How many shrink steps led from `original` to `point`.
    pub shrinks: usize,
    /// How many points passed before the failure.
    pub passed: u64,
    /// The check's report at `point`, unless the model panicked there.
    pub report: Option<Box<Report>>,
    /// The model's panic message at `point`, if it panicked.
    pub panic: Option<String>,
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "dualtape::testing: the {} property failed after {} passing points, at x = {:?} \
             (shrunk in {} steps from {:?})",
            self.what, self.passed, self.point, self.shrinks, self.original
        )?;
        if let Some(r) = &self.report {
            writeln!(f)?;
            write!(f, "{r:#}")?;
        }
        if let Some(p) = &self.panic {
            writeln!(f, "the model panicked there: {p}")?;
        }
        Ok(())
    }
}

/// Property-tests a model's gradient in every mode: [`Property::gradients`]
/// with the defaults (100 points in `[-1, 1]ⁿ`, [`check::Config::default`]).
/// Call it from your own `#[test]`.
///
/// ```
/// use dualtape::{testing, Differentiable, Scalar};
///
/// struct Softplus;
/// impl Differentiable for Softplus {
///     fn dim(&self) -> usize { 1 }
///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S { x[0].exp().ln_1p() }
/// }
/// testing::check_gradients(&Softplus);
/// ```
///
/// # Panics
///
/// At a failing point, after shrinking it, with the report there.
#[track_caller]
pub fn check_gradients<M: Differentiable + ?Sized>(model: &M) {
    Property::gradients(model).run();
}

/// Property-tests a model's Hessian in every mode: [`Property::hessians`]
/// with the defaults.
///
/// # Panics
///
/// At a failing point, after shrinking it, with the report there.
#[track_caller]
pub fn check_hessians<M: Differentiable + ?Sized>(model: &M) {
    Property::hessians(model).run();
}

/// Property-tests a vector function's Jacobian in every mode:
/// [`Property::jacobians`] with the defaults.
///
/// # Panics
///
/// At a failing point, after shrinking it, with the report there.
#[track_caller]
pub fn check_jacobians<F: VectorFunction + ?Sized>(f: &F) {
    Property::jacobians(f).run();
}
