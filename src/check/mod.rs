//! Gradient checks: every mode against every other, in a report a person
//! can read.
//!
//! [`gradient`] evaluates a [`Differentiable`] model's gradient in forward
//! mode (`DualVec`), reverse mode (`Var`) and by finite differences
//! (Richardson extrapolation), plus the model's
//! [`analytic_gradient`](Differentiable::analytic_gradient) if it has one,
//! and compares every pair of them, component by component. [`jacobian`]
//! does the same for a [`VectorFunction`], [`hessian`] for second
//! derivatives (forward over reverse, forward over forward, finite
//! differences of the gradient), and [`gradient_fast`] checks one random
//! directional derivative at a cost independent of `n` (the idea of
//! PyTorch's fast gradcheck).
//!
//! ```
//! use dualtape::{check, Differentiable, Scalar};
//!
//! struct Model;
//! impl Differentiable for Model {
//!     fn dim(&self) -> usize { 3 }
//!     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
//!         (x[0] * x[1]).sin() + x[2].exp() * x[0]
//!     }
//! }
//!
//! let report = check::gradient(&Model, &[0.5, -1.0, 0.25]);
//! println!("{report}");
//! report.assert_ok();
//! ```
//!
//! prints
//!
//! ```text
//! gradient check at x = [0.5, -1.0, 0.25] (n = 3): ok
//! agree when |a − b| ≤ abs + rel·max(|a|, |b|, 0): exact modes 1e-12 + 1e-10·…, against finite differences 1e-7 + 1e-6·… (Richardson, step Auto)
//! entry    |              forward |              reverse |          finite diff |    fwd~rev |     fwd~fd |     rev~fd | status
//! f(x)     |    1.625871697397e-1 |    1.625871697397e-1 |    1.625871697397e-1 |    0.00e0  |    0.00e0  |    0.00e0  | ok
//! ∂f/∂x[0] |    4.064428547974e-1 |    4.064428547974e-1 |    4.064428547974e-1 |    0.00e0  |  1.96e-14  |  1.96e-14  | ok
//! ∂f/∂x[1] |    4.387912809452e-1 |    4.387912809452e-1 |    4.387912809452e-1 |    0.00e0  |  2.98e-14  |  2.98e-14  | ok
//! ∂f/∂x[2] |    6.420127083439e-1 |    6.420127083439e-1 |    6.420127083439e-1 |    0.00e0  |  3.75e-14  |  3.75e-14  | ok
//! worst: ∂f/∂x[1], forward vs finite diff: |a − b| = 2.98e-14, 5.53e-8 × the tolerance 5.39e-7
//! ```
//!
//! A failing report adds the rows that disagree (marked ✗), where a NaN or
//! an infinity first appears, and a hint at the likely cause.
//!
//! # Tolerances
//!
//! Two values `a` and `b` agree when
//!
//! ```text
//! |a − b| ≤ abs + rel · max(|a|, |b|, scale)
//! ```
//!
//! with [`Config::exact`] between two exact modes (forward, reverse, nested,
//! analytic, and every mode's value `f(x)`) and [`Config::fd`] between an
//! exact mode and finite differences. `scale` is 0 (componentwise, the
//! default) or, with [`Config::normwise`], the largest finite derivative in
//! the report, so that a tiny component next to large ones is held to the
//! large ones' absolute accuracy. For [`gradient_fast`] it is always
//! `Σ |∂f/∂x_i · v_i|`, the size of the terms of the dot product.
//!
//! The defaults (exact: `1e-12 + 1e-10·max`, finite differences:
//! `1e-7 + 1e-6·max`) hold for well-scaled functions: inputs, values and
//! derivatives of order 1 to about 10³, smooth at the scale of the
//! finite-difference step (`ε^(1/5)·max(1, |x_i|) ≈ 7e-4` for Richardson).
//! Automatic modes differ only by rounding (a different summation order);
//! Richardson differences are good to about `1e-10` relative on such
//! functions. A badly scaled function, or one evaluated near a kink, needs
//! looser tolerances ([`Config::with_fd`]) or [`Config::normwise`].
//!
//! # Kinks and the recheck
//!
//! Richardson's stencil reaches `±2h ≈ ±1.5e-3·max(1, |x_i|)` around `x`. A
//! kink or a jump that far away (a ReLU, `abs`, `max`, `floor` of something
//! near its switching point) spoils it, though `f` is smooth at `x` itself
//! and the automatic modes are right. So, with [`Config::recheck`] (the
//! default), a finite difference that disagrees with automatic modes that
//! agree with each other is computed once more, by central differences at
//! their smaller step (`ε^(1/3)·max(1, |x_i|) ≈ 6e-6`); if that agrees, the
//! row passes and is marked "rechecked", with the first estimate kept in
//! [`Entry::rechecked`]. A kink closer than that to `x`, or a real error,
//! still fails.
//!
//! # The replay column
//!
//! With [`Config::replay`] (the default) every check also records the
//! function once as a [`Program`](reverse::Program) at `x`
//! ([`reverse::record`], [`reverse::record_vector`]) and replays it there:
//! the [`Mode::Replay`] column. A replay at the recording point must equal a
//! fresh reverse-mode recording ([`Mode::Reverse`]) bit for bit, so that pair
//! is compared with tolerance 0 (two zeros of either sign agree: the one
//! place the rules let a replay differ). Where the program cannot be replayed
//! at all, the check fails with the [`ReplayError`]
//! ([`Report::replay_error`]): typically the recording read a value
//! (`.value()`, `to_f64`) that may have become a branch or a constant the
//! program cannot check, so replays at other points could silently be wrong.
//! For [`hessian`] the replay column is [`Program::hessian`](reverse::Program::hessian),
//! held to the exact-modes tolerance.
//!
//! ```
//! use dualtape::{check, Differentiable, Scalar};
//!
//! /// Branches on a value read out of the active variable: the branch is not
//! /// recorded, so a program recorded at x = 1 would be wrong at x = -1.
//! struct Escapes;
//! impl Differentiable for Escapes {
//!     fn dim(&self) -> usize { 1 }
//!     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
//!         if x[0].value() > 0.0 { x[0] * 2.0 } else { x[0] * 3.0 }
//!     }
//! }
//! let report = check::gradient(&Escapes, &[1.0]);
//! assert!(!report.is_ok());
//! assert!(report.replay_error().is_some());
//! // The same function comparing the Var itself is recorded and replays.
//! struct Compares;
//! impl Differentiable for Compares {
//!     fn dim(&self) -> usize { 1 }
//!     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
//!         if x[0] > 0.0 { x[0] * 2.0 } else { x[0] * 3.0 }
//!     }
//! }
//! check::gradient(&Compares, &[1.0]).assert_ok();
//! ```
//!
//! # Non-finite numbers
//!
//! Two NaNs agree, as do two infinities of the same sign; a NaN or an
//! infinity against a finite number disagrees. With
//! [`Config::require_finite`] (the default) any non-finite value or
//! derivative fails the check even where all modes agree, and the report
//! says in which mode it first appears ([`Report::first_nonfinite`]).

use crate::finite_diff::{self as fd, Scheme, Step};
use crate::model::{check_dim, eval_vector, Differentiable, VectorFunction};
use crate::reverse::ReplayError;
use crate::{forward, reverse, DualVec};

mod report;
mod watch;

pub use report::{Comparison, Entry, Index, Kind, Mode, NonFinite, Report};
pub use watch::{first_nonfinite, NonFiniteOp, Watch};

/// An absolute and a relative tolerance: `a` and `b` agree when
/// `|a − b| ≤ abs + rel · max(|a|, |b|, scale)`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Tolerance {
    /// The absolute part.
    pub abs: f64,
    /// The relative part.
    pub rel: f64,
}

impl Tolerance {
    /// A tolerance from its absolute and relative parts.
    pub const fn new(abs: f64, rel: f64) -> Self {
        Tolerance { abs, rel }
    }

    /// The largest `|a − b|` allowed: `abs + rel · max(|a|, |b|, scale)`.
    pub fn bound(&self, a: f64, b: f64, scale: f64) -> f64 {
        let m = a.abs().max(b.abs());
        let m = if m.is_finite() { m.max(scale) } else { scale };
        self.abs + self.rel * m
    }
}

/// How [`gradient`], [`jacobian`], [`hessian`] and [`gradient_fast`]
/// compare. See the [module docs](self#tolerances).
///
/// ```
/// use dualtape::check::{Config, Tolerance};
///
/// let strict = Config::default().with_fd(1e-9, 1e-8);
/// assert_eq!(strict.fd, Tolerance::new(1e-9, 1e-8));
/// assert_eq!(strict.exact, Config::default().exact);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Config {
    /// Between two exact modes (automatic, nested, analytic) and for values
    /// `f(x)`. Default `Tolerance::new(1e-12, 1e-10)`.
    pub exact: Tolerance,
    /// Between an exact mode and finite differences. Default
    /// `Tolerance::new(1e-7, 1e-6)`.
    pub fd: Tolerance,
    /// The finite-difference scheme and step. Default: Richardson with
    /// its automatic step.
    pub finite_diff: fd::Config,
    /// Compare derivatives relative to the largest one in the report rather
    /// than to each other. Default `false`.
    pub normwise: bool,
    /// Fail on any NaN or infinity, even where all modes agree. Default
    /// `true`.
    pub require_finite: bool,
    /// Seed of the random direction of [`gradient_fast`].
    pub seed: u64,
    /// Recheck a finite difference that disagrees with automatic modes that
    /// agree with each other, with central differences at their smaller
    /// step; see [the module docs](self#kinks-and-the-recheck). Default
    /// `true`.
    pub recheck: bool,
    /// Add the [`Mode::Replay`] column: record the function as a
    /// [`Program`](reverse::Program) at `x` and replay it there; see [the
    /// module docs](self#the-replay-column). Default `true`.
    pub replay: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            exact: Tolerance::new(1e-12, 1e-10),
            fd: Tolerance::new(1e-7, 1e-6),
            finite_diff: fd::Config::new(Scheme::Richardson),
            normwise: false,
            require_finite: true,
            seed: 0x5EED_D1FF,
            recheck: true,
            replay: true,
        }
    }
}

impl Config {
    /// The same with the exact-modes tolerance `abs + rel·max(...)`.
    pub fn with_exact(self, abs: f64, rel: f64) -> Self {
        Config {
            exact: Tolerance::new(abs, rel),
            ..self
        }
    }

    /// The same with the finite-difference tolerance `abs + rel·max(...)`.
    pub fn with_fd(self, abs: f64, rel: f64) -> Self {
        Config {
            fd: Tolerance::new(abs, rel),
            ..self
        }
    }
}

/// Builds the rows and their comparisons.
struct Builder<'a> {
    config: &'a Config,
    modes: Vec<Mode>,
    entries: Vec<Entry>,
    replay_error: Option<ReplayError>,
}

impl<'a> Builder<'a> {
    fn new(config: &'a Config, modes: Vec<Mode>) -> Self {
        Builder {
            config,
            modes,
            entries: Vec::new(),
            replay_error: None,
        }
    }

    /// The column list `fixed`, with [`Mode::Replay`] after
    /// [`Mode::Reverse`] (or after the first mode) if `replay`.
    fn with_replay(config: &'a Config, mut modes: Vec<Mode>, replay: bool) -> Self {
        if replay {
            let at = modes.iter().position(|&m| m == Mode::Reverse).unwrap_or(0);
            modes.insert(at + 1, Mode::Replay);
        }
        Self::new(config, modes)
    }

    /// A row's values, given in the order of the modes without
    /// [`Mode::Replay`], with `replay` inserted at its column.
    fn row_with(&mut self, index: Index, mut values: Vec<Option<f64>>, replay: Option<f64>) {
        if let Some(at) = self.modes.iter().position(|&m| m == Mode::Replay) {
            values.insert(at, replay);
        }
        self.row(index, values);
    }

    fn row(&mut self, index: Index, values: Vec<Option<f64>>) {
        debug_assert_eq!(values.len(), self.modes.len());
        self.entries.push(Entry {
            index,
            values,
            comparisons: Vec::new(),
            rechecked: None,
        });
    }

    /// Whether `mode`'s number on row `index` is exact up to rounding.
    fn exact(mode: Mode, index: Index) -> bool {
        match mode {
            Mode::FiniteDiff => index.is_value(),
            // Its gradient rows are the reverse gradient itself.
            Mode::FiniteDiffOfGradient => !matches!(index, Index::Hessian(..)),
            _ => true,
        }
    }

    /// Compares every pair of modes on one row.
    fn compare(&self, e: &Entry, scale: f64) -> Vec<Comparison> {
        let c = self.config;
        let mut out = Vec::new();
        for a in 0..self.modes.len() {
            for b in a + 1..self.modes.len() {
                let (Some(va), Some(vb)) = (e.values[a], e.values[b]) else {
                    continue;
                };
                let (ma, mb) = (self.modes[a], self.modes[b]);
                let replay_pair = matches!(
                    (ma, mb),
                    (Mode::Reverse, Mode::Replay) | (Mode::Replay, Mode::Reverse)
                );
                let tol = if replay_pair {
                    // Bit for bit, but for the sign of a zero.
                    Tolerance::new(0.0, 0.0)
                } else if Self::exact(ma, e.index) && Self::exact(mb, e.index) {
                    c.exact
                } else {
                    c.fd
                };
                let error = if va.is_finite() && vb.is_finite() {
                    (va - vb).abs()
                } else if (va.is_nan() && vb.is_nan()) || va == vb {
                    0.0
                } else {
                    f64::INFINITY
                };
                let tolerance = tol.bound(va, vb, scale);
                out.push(Comparison {
                    a: ma,
                    b: mb,
                    error,
                    tolerance,
                    ok: error <= tolerance,
                });
            }
        }
        out
    }

    /// Fills in the comparisons. `ds` is the scale of the directional row;
    /// derivative rows otherwise use 0 or, normwise, the largest finite
    /// derivative. `recheck` recomputes the finite difference of a row with
    /// central differences at their smaller step.
    fn finish(
        mut self,
        kind: Kind,
        point: &[f64],
        direction: Option<Vec<f64>>,
        ds: f64,
        recheck: &dyn Fn(Index) -> Option<f64>,
    ) -> Report {
        let c = self.config;
        let largest = self
            .entries
            .iter()
            .filter(|e| !e.index.is_value())
            .flat_map(|e| e.values.iter().flatten())
            .filter(|v| v.is_finite())
            .fold(0.0f64, |m, v| m.max(v.abs()));
        let fd_col = self.modes.iter().position(|m| !m.is_exact());
        let mut entries = std::mem::take(&mut self.entries);
        for e in &mut entries {
            let scale = match e.index {
                Index::Directional => ds,
                i if i.is_value() => 0.0,
                _ if c.normwise => largest,
                _ => 0.0,
            };
            e.comparisons = self.compare(e, scale);
            let exact_agree = e
                .comparisons
                .iter()
                .filter(|p| Self::exact(p.a, e.index) && Self::exact(p.b, e.index))
                .all(|p| p.ok);
            let Some(col) = fd_col else { continue };
            if e.agrees() || !c.recheck || !exact_agree || Self::exact(self.modes[col], e.index) {
                continue;
            }
            let Some(alt) = recheck(e.index) else {
                continue;
            };
            let first = e.values[col];
            e.values[col] = Some(alt);
            let again = self.compare(e, scale);
            if again.iter().all(|p| p.ok) {
                e.comparisons = again;
                e.rechecked = first;
            } else {
                e.values[col] = first;
            }
        }
        Report {
            kind,
            point: point.to_vec(),
            direction,
            modes: self.modes,
            entries,
            config: c.clone(),
            replay_error: self.replay_error,
        }
    }
}

/// The central-difference recheck of one partial derivative: `d/dt f(x + t e_i)`.
fn recheck_partial(f: impl Fn(&[f64]) -> f64, x: &[f64], i: usize) -> f64 {
    let w = std::cell::RefCell::new(x.to_vec());
    let (_, d) = fd::derivative_with(
        |t| {
            w.borrow_mut()[i] = t;
            f(&w.borrow())
        },
        x[i],
        &fd::Config::new(Scheme::Central),
    );
    d
}

/// Checks a gradient with the default [`Config`]: forward (`DualVec`),
/// reverse (`Var`) and finite differences (Richardson), and the model's
/// analytic gradient if it has one.
///
/// Costs `ceil(n/8)` forward passes, one reverse pass and `4n + 1` plain
/// evaluations; for large `n` see [`gradient_fast`].
///
/// ```
/// use dualtape::{check, Differentiable, Scalar};
///
/// struct Wrong; // claims d/dx sin(x) = -cos(x): only the analytic column is off
/// impl Differentiable for Wrong {
///     fn dim(&self) -> usize { 1 }
///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S { x[0].sin() }
///     fn analytic_gradient(&self, x: &[f64]) -> Option<Vec<f64>> { Some(vec![-x[0].cos()]) }
/// }
/// let report = check::gradient(&Wrong, &[0.5]);
/// assert!(!report.is_ok());
/// // the default form wraps at 100 columns: `{:#}` keeps each sentence on one line
/// assert!(format!("{report:#}").contains("analytic gradient is likely wrong"));
/// ```
///
/// # Panics
///
/// If `x.len() != model.dim()`, or if the analytic gradient does not have
/// `model.dim()` entries; and if the model panics.
pub fn gradient<M: Differentiable + ?Sized>(model: &M, x: &[f64]) -> Report {
    gradient_with(model, x, &Config::default())
}

/// [`gradient`] with a chosen [`Config`].
///
/// # Panics
///
/// As [`gradient`], and if `config.finite_diff` has an invalid step.
pub fn gradient_with<M: Differentiable + ?Sized>(model: &M, x: &[f64], config: &Config) -> Report {
    let n = model.dim();
    check_dim("check::gradient", "x", x.len(), n);
    let (vf, gf) = forward::gradient(|x: &[DualVec<f64, 8>]| model.eval(x), x);
    let (vr, gr) = reverse::gradient(|x| model.eval(x), x);
    let (vd, gd) = fd::gradient_with(|x: &[f64]| model.eval(x), x, &config.finite_diff);
    let hand = model.analytic_gradient(x);
    if let Some(h) = &hand {
        assert!(
            h.len() == n,
            "check::gradient: analytic_gradient returned {} entries but the model's dim() is \
             {n}; return one partial derivative per input",
            h.len()
        );
    }
    let replay = config
        .replay
        .then(|| reverse::record(|x| model.eval(x), x).gradient(x));
    let mut modes = vec![Mode::Forward, Mode::Reverse, Mode::FiniteDiff];
    if hand.is_some() {
        modes.push(Mode::Analytic);
    }
    let mut b = Builder::with_replay(config, modes, replay.is_some());
    let with_hand = |mut v: Vec<Option<f64>>, h: Option<f64>| {
        if hand.is_some() {
            v.push(h);
        }
        v
    };
    let rep = replayed(&replay);
    b.row_with(
        Index::Value,
        with_hand(vec![Some(vf), Some(vr), Some(vd)], None),
        rep.map(|r| r.0),
    );
    for i in 0..n {
        let h = hand.as_ref().map(|h| h[i]);
        b.row_with(
            Index::Gradient(i),
            with_hand(vec![Some(gf[i]), Some(gr[i]), Some(gd[i])], h),
            rep.map(|r| r.1[i]),
        );
    }
    b.replay_error = replay.and_then(Result::err);
    let recheck = |index: Index| match index {
        Index::Gradient(i) => Some(recheck_partial(|w| model.eval(w), x, i)),
        _ => None,
    };
    b.finish(Kind::Gradient, x, None, 0.0, &recheck)
}

/// Checks a Jacobian with the default [`Config`]: forward (`Dual`, one
/// pass per input), reverse (`Var`, one sweep per output) and finite
/// differences (Richardson).
///
/// ```
/// use dualtape::{check, Scalar, VectorFunction};
///
/// struct Spherical; // (r, θ, φ) ↦ Cartesian
/// impl VectorFunction for Spherical {
///     fn dim(&self) -> usize { 3 }
///     fn outputs(&self) -> usize { 3 }
///     fn eval<S: Scalar<Real = f64>>(&self, p: &[S]) -> Vec<S> {
///         let (r, t, f) = (p[0], p[1], p[2]);
///         vec![r * t.sin() * f.cos(), r * t.sin() * f.sin(), r * t.cos()]
///     }
/// }
/// check::jacobian(&Spherical, &[1.5, 0.7, -0.3]).assert_ok();
/// ```
///
/// # Panics
///
/// If `x.len() != f.dim()`, or if `f.eval` does not return `f.outputs()`
/// values; and if `f` panics.
pub fn jacobian<F: VectorFunction + ?Sized>(f: &F, x: &[f64]) -> Report {
    jacobian_with(f, x, &Config::default())
}

/// [`jacobian`] with a chosen [`Config`].
///
/// # Panics
///
/// As [`jacobian`], and if `config.finite_diff` has an invalid step.
pub fn jacobian_with<F: VectorFunction + ?Sized>(f: &F, x: &[f64], config: &Config) -> Report {
    let n = f.dim();
    check_dim("check::jacobian", "x", x.len(), n);
    let (yf, jf) = forward::jacobian(|x| eval_vector("check::jacobian", f, x), x);
    let (yr, jr) = reverse::jacobian(|x| eval_vector("check::jacobian", f, x), x);
    let (yd, jd) = fd::jacobian_with(
        |x: &[f64]| eval_vector("check::jacobian", f, x),
        x,
        &config.finite_diff,
    );
    let replay = config
        .replay
        .then(|| reverse::record_vector(|x| eval_vector("check::jacobian", f, x), x).jacobian(x));
    let m = f.outputs();
    let mut b = Builder::with_replay(
        config,
        vec![Mode::Forward, Mode::Reverse, Mode::FiniteDiff],
        replay.is_some(),
    );
    let rep = replayed(&replay);
    for i in 0..m {
        b.row_with(
            Index::Output(i),
            vec![Some(yf[i]), Some(yr[i]), Some(yd[i])],
            rep.map(|r| r.0[i]),
        );
    }
    for i in 0..m {
        for j in 0..n {
            b.row_with(
                Index::Jacobian(i, j),
                vec![Some(jf[(i, j)]), Some(jr[(i, j)]), Some(jd[(i, j)])],
                rep.map(|r| r.1[(i, j)]),
            );
        }
    }
    b.replay_error = replay.and_then(Result::err);
    let recheck = |index: Index| match index {
        Index::Jacobian(i, j) => Some(recheck_partial(
            |w| eval_vector("check::jacobian", f, w)[i],
            x,
            j,
        )),
        _ => None,
    };
    b.finish(Kind::Jacobian, x, None, 0.0, &recheck)
}

/// Checks a Hessian with the default [`Config`]: forward over reverse
/// (`Dual<Var>`, `n` passes), forward over forward (`Dual<Dual<f64>>`,
/// `n(n+1)/2` passes) and finite differences of the reverse gradient
/// (Richardson, `4n + 1` gradients). The report also compares the values
/// and the gradients each computes on the way.
///
/// ```
/// use dualtape::{check, Differentiable, Scalar};
///
/// struct Model;
/// impl Differentiable for Model {
///     fn dim(&self) -> usize { 2 }
///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S { (x[0] * x[1]).exp() + x[1].atan() }
/// }
/// let report = check::hessian(&Model, &[0.3, -0.8]);
/// report.assert_ok();
/// assert_eq!(report.entries().len(), 1 + 2 + 4);
/// ```
///
/// # Panics
///
/// If `x.len() != model.dim()`; and if the model panics.
pub fn hessian<M: Differentiable + ?Sized>(model: &M, x: &[f64]) -> Report {
    hessian_with(model, x, &Config::default())
}

/// [`hessian`] with a chosen [`Config`].
///
/// # Panics
///
/// As [`hessian`], and if `config.finite_diff` has an invalid step.
pub fn hessian_with<M: Differentiable + ?Sized>(model: &M, x: &[f64], config: &Config) -> Report {
    let n = model.dim();
    check_dim("check::hessian", "x", x.len(), n);
    let (vr, gr, hr) = reverse::hessian(|x| model.eval(x), x);
    let (vf, gf, hf) = forward::hessian(|x| model.eval(x), x);
    let (vd, gd, hd) = fd_hessian(model, x, &config.finite_diff);
    let replay = config
        .replay
        .then(|| reverse::record(|x| model.eval(x), x).hessian(x));
    let mut b = Builder::with_replay(
        config,
        vec![
            Mode::ForwardOverReverse,
            Mode::ForwardOverForward,
            Mode::FiniteDiffOfGradient,
        ],
        replay.is_some(),
    );
    let rep = replayed(&replay);
    b.row_with(
        Index::Value,
        vec![Some(vr), Some(vf), Some(vd)],
        rep.map(|r| r.0),
    );
    for i in 0..n {
        b.row_with(
            Index::Gradient(i),
            vec![Some(gr[i]), Some(gf[i]), Some(gd[i])],
            rep.map(|r| r.1[i]),
        );
    }
    for i in 0..n {
        for j in 0..n {
            b.row_with(
                Index::Hessian(i, j),
                vec![Some(hr[(i, j)]), Some(hf[(i, j)]), Some(hd[(i, j)])],
                rep.map(|r| r.2[(i, j)]),
            );
        }
    }
    b.replay_error = replay.and_then(Result::err);
    let recheck = |index: Index| match index {
        Index::Hessian(i, j) => Some(recheck_partial(
            |w| reverse::gradient(|w| model.eval(w), w).1[i],
            x,
            j,
        )),
        _ => None,
    };
    b.finish(Kind::Hessian, x, None, 0.0, &recheck)
}

/// A cheap check for large `n`: one random direction `v` (entries uniform
/// in `[-1, 1]`, from [`Config::seed`]), comparing `∇f(x)·v` from a forward
/// `Dual` pass (jvp), from the reverse gradient (vjp, then `· v`) and from
/// a directional finite difference along `v`.
///
/// Costs one forward pass, one reverse pass and 5 plain evaluations,
/// whatever `n`; a wrong partial derivative shows up unless it happens to
/// cancel along `v`, which a random `v` makes unlikely. This is the idea
/// of PyTorch's fast gradcheck. With the automatic step, the finite
/// difference moves a distance `ε^(1/5)·max(1, max_i |x_i|)` along `v/‖v‖`.
///
/// ```
/// use dualtape::{check, Differentiable, Scalar};
///
/// struct Big; // Σ sin(x_i) x_{i+1}, n = 1000
/// impl Differentiable for Big {
///     fn dim(&self) -> usize { 1000 }
///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
///         x.windows(2).fold(S::constant(0.0), |acc, w| acc + w[0].sin() * w[1])
///     }
/// }
/// let x: Vec<f64> = (0..1000).map(|i| (i as f64 * 0.37).sin()).collect();
/// check::gradient_fast(&Big, &x).assert_ok();
/// ```
///
/// # Panics
///
/// If `x.len() != model.dim()`; and if the model panics.
pub fn gradient_fast<M: Differentiable + ?Sized>(model: &M, x: &[f64]) -> Report {
    gradient_fast_with(model, x, &Config::default())
}

/// [`gradient_fast`] with a chosen [`Config`] (its `seed` picks the
/// direction).
///
/// # Panics
///
/// As [`gradient_fast`], and if `config.finite_diff` has an invalid step.
pub fn gradient_fast_with<M: Differentiable + ?Sized>(
    model: &M,
    x: &[f64],
    config: &Config,
) -> Report {
    let v = random_direction(x.len(), config.seed);
    directional_with(model, x, &v, config)
}

/// [`gradient_fast`] along a direction of your choice, with the default
/// [`Config`].
///
/// # Panics
///
/// If `x.len() != model.dim()` or `v.len() != x.len()`; and if the model
/// panics.
pub fn directional<M: Differentiable + ?Sized>(model: &M, x: &[f64], v: &[f64]) -> Report {
    directional_with(model, x, v, &Config::default())
}

/// [`directional`] with a chosen [`Config`].
///
/// # Panics
///
/// As [`directional`], and if `config.finite_diff` has an invalid step.
pub fn directional_with<M: Differentiable + ?Sized>(
    model: &M,
    x: &[f64],
    v: &[f64],
    config: &Config,
) -> Report {
    let n = model.dim();
    check_dim("check::directional", "x", x.len(), n);
    check_dim("check::directional", "the direction v", v.len(), n);
    let (vf, df) = forward::jvp(|x| model.eval(x), x, v);
    let (vr, gr) = reverse::gradient(|x| model.eval(x), x);
    let dr: f64 = gr.iter().zip(v).map(|(g, v)| g * v).sum();
    let scale: f64 = gr.iter().zip(v).map(|(g, v)| (g * v).abs()).sum();
    let mut fdc = config.finite_diff;
    if fdc.step == Step::Auto {
        let size = x.iter().fold(1.0f64, |m, xi| m.max(xi.abs()));
        fdc.step = Step::Absolute(fdc.scheme.base_step() * size);
    }
    let (vd, dd) = fd::directional_with(|x: &[f64]| model.eval(x), x, v, &fdc);
    let replay = config.replay.then(|| {
        reverse::record(|x| model.eval(x), x)
            .gradient(x)
            .map(|(value, g)| (value, g.iter().zip(v).map(|(g, v)| g * v).sum::<f64>()))
    });
    let mut b = Builder::with_replay(
        config,
        vec![Mode::Forward, Mode::Reverse, Mode::FiniteDiff],
        replay.is_some(),
    );
    let rep = replayed(&replay);
    b.row_with(
        Index::Value,
        vec![Some(vf), Some(vr), Some(vd)],
        rep.map(|r| r.0),
    );
    b.row_with(
        Index::Directional,
        vec![Some(df), Some(dr), Some(dd)],
        rep.map(|r| r.1),
    );
    b.replay_error = replay.and_then(Result::err);
    let scale = if scale.is_finite() { scale } else { 0.0 };
    let recheck = |index: Index| match index {
        Index::Directional => {
            let size = x.iter().fold(1.0f64, |m, xi| m.max(xi.abs()));
            let central = fd::Config::new(Scheme::Central)
                .with_step(Step::Absolute(Scheme::Central.base_step() * size));
            Some(fd::directional_with(|x: &[f64]| model.eval(x), x, v, &central).1)
        }
        _ => None,
    };
    b.finish(Kind::Directional, x, Some(v.to_vec()), scale, &recheck)
}

/// The Hessian as finite differences of the reverse gradient (the Jacobian
/// of the gradient): `(f(x), ∇f(x), H)`, `H` symmetric only up to the
/// differencing error.
fn fd_hessian<M: Differentiable + ?Sized>(
    model: &M,
    x: &[f64],
    config: &fd::Config,
) -> (f64, Vec<f64>, nalgebra::DMatrix<f64>) {
    let gradient = |x: &[f64]| reverse::gradient(|x| model.eval(x), x).1;
    let (g, h) = fd::jacobian_with(gradient, x, config);
    (model.eval(x), g, h)
}

/// The replay's result, if the column is on and the replay succeeded.
fn replayed<T>(r: &Option<Result<T, ReplayError>>) -> Option<&T> {
    r.as_ref().and_then(|r| r.as_ref().ok())
}

/// `n` numbers uniform in `[-1, 1)` from SplitMix64 seeded with `seed`.
pub(crate) fn random_direction(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = crate::rng::SplitMix64::new(seed);
    (0..n).map(|_| rng.uniform() * 2.0 - 1.0).collect()
}
