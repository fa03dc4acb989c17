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
//! # Non-finite numbers
//!
//! Two NaNs agree, as do two infinities of the same sign; a NaN or an
//! infinity against a finite number disagrees. With
//! [`Config::require_finite`] (the default) any non-finite value or
//! derivative fails the check even where all modes agree, and the report
//! says in which mode it first appears ([`Report::first_nonfinite`]).

use std::fmt;

use crate::finite_diff::{self as fd, Scheme, Step};
use crate::model::{check_dim, eval_vector, Differentiable, VectorFunction};
use crate::{forward, reverse, DualVec};

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

/// A way of computing derivatives: one column of a [`Report`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Mode {
    /// Forward mode: `DualVec` for gradients, `Dual` for Jacobians and
    /// directional derivatives.
    Forward,
    /// Reverse mode: `Var` and one backward sweep per output.
    Reverse,
    /// Finite differences of `f64` evaluations.
    FiniteDiff,
    /// The model's [`analytic_gradient`](Differentiable::analytic_gradient).
    Analytic,
    /// Forward over reverse, `Dual<Var>`: the Hessian of [`hessian`].
    ForwardOverReverse,
    /// Forward over forward, `Dual<Dual<f64>>`.
    ForwardOverForward,
    /// Finite differences of the reverse-mode gradient.
    FiniteDiffOfGradient,
}

impl Mode {
    /// The column title.
    pub fn label(self) -> &'static str {
        match self {
            Mode::Forward => "forward",
            Mode::Reverse => "reverse",
            Mode::FiniteDiff => "finite diff",
            Mode::Analytic => "analytic",
            Mode::ForwardOverReverse => "fwd over rev",
            Mode::ForwardOverForward => "fwd over fwd",
            Mode::FiniteDiffOfGradient => "fd of gradient",
        }
    }

    /// A short name for the error columns.
    pub fn short(self) -> &'static str {
        match self {
            Mode::Forward => "fwd",
            Mode::Reverse => "rev",
            Mode::FiniteDiff => "fd",
            Mode::Analytic => "hand",
            Mode::ForwardOverReverse => "fof_r",
            Mode::ForwardOverForward => "fof_f",
            Mode::FiniteDiffOfGradient => "fd_g",
        }
    }

    /// Whether this mode's derivatives are exact up to rounding (all but the
    /// finite differences).
    pub fn is_exact(self) -> bool {
        !matches!(self, Mode::FiniteDiff | Mode::FiniteDiffOfGradient)
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.label())
    }
}

/// What a row of a [`Report`] holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Index {
    /// The value `f(x)` of a scalar function.
    Value,
    /// Output `i` of a vector function, `f_i(x)`.
    Output(usize),
    /// `∂f/∂x_i`.
    Gradient(usize),
    /// `∂f_i/∂x_j`.
    Jacobian(usize, usize),
    /// `∂²f/∂x_i∂x_j`.
    Hessian(usize, usize),
    /// The directional derivative `∇f(x)·v` of [`gradient_fast`].
    Directional,
}

impl Index {
    /// Whether this row is a value of `f` rather than a derivative.
    pub fn is_value(self) -> bool {
        matches!(self, Index::Value | Index::Output(_))
    }
}

impl fmt::Display for Index {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Index::Value => f.write_str("f(x)"),
            Index::Output(i) => write!(f, "f[{i}](x)"),
            Index::Gradient(i) => write!(f, "∂f/∂x[{i}]"),
            Index::Jacobian(i, j) => write!(f, "∂f[{i}]/∂x[{j}]"),
            Index::Hessian(i, j) => write!(f, "∂²f/∂x[{i}]∂x[{j}]"),
            Index::Directional => f.write_str("∇f·v"),
        }
    }
}

/// One pair of modes compared on one row.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Comparison {
    /// The first mode.
    pub a: Mode,
    /// The second mode.
    pub b: Mode,
    /// `|a − b|`: 0 for two NaNs or equal infinities, `+∞` when exactly one
    /// is not finite or the infinities differ.
    pub error: f64,
    /// The largest error allowed here (see [`Tolerance::bound`]).
    pub tolerance: f64,
    /// `error <= tolerance`.
    pub ok: bool,
}

impl Comparison {
    /// `error / tolerance`: how close to failing (above 1 fails).
    pub fn ratio(&self) -> f64 {
        if self.error == 0.0 {
            0.0
        } else {
            self.error / self.tolerance
        }
    }
}

/// One row of a [`Report`]: a value or a derivative in every mode.
#[derive(Clone, Debug, PartialEq)]
pub struct Entry {
    /// Which value or derivative.
    pub index: Index,
    /// One per mode, in the order of [`Report::modes`]; `None` where a mode
    /// does not compute it (an analytic gradient has no value).
    pub values: Vec<Option<f64>>,
    /// Every pair of modes that both computed this row.
    pub comparisons: Vec<Comparison>,
    /// If the finite difference on this row was rechecked (see
    /// [`Config::recheck`]), the first estimate, which the recheck replaced
    /// in [`values`](Entry::values).
    pub rechecked: Option<f64>,
}

impl Entry {
    /// Whether every pair agrees.
    pub fn agrees(&self) -> bool {
        self.comparisons.iter().all(|c| c.ok)
    }

    /// Whether any mode gave NaN or an infinity here.
    pub fn has_nonfinite(&self) -> bool {
        self.values.iter().flatten().any(|v| !v.is_finite())
    }
}

/// A NaN or an infinity in a report: where, and in which mode.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct NonFinite {
    /// The row.
    pub index: Index,
    /// The mode.
    pub mode: Mode,
    /// The NaN or infinity.
    pub value: f64,
}

/// What a [`Report`] checked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// [`gradient`].
    Gradient,
    /// [`jacobian`].
    Jacobian,
    /// [`hessian`].
    Hessian,
    /// [`gradient_fast`] or [`directional`].
    Directional,
}

/// The result of a check: every mode's values and derivatives, the error of
/// every pair, the worst one, and any NaN or infinity.
///
/// `Display` prints a table (the value rows, then one row per derivative;
/// past 40 rows only the failing ones and the worst: use `{:#}` for all).
/// [`assert_ok`](Report::assert_ok) panics with that table.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    kind: Kind,
    point: Vec<f64>,
    direction: Option<Vec<f64>>,
    modes: Vec<Mode>,
    entries: Vec<Entry>,
    config: Config,
}

impl Report {
    /// What was checked.
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// The point `x`.
    pub fn point(&self) -> &[f64] {
        &self.point
    }

    /// The direction `v` of a directional check.
    pub fn direction(&self) -> Option<&[f64]> {
        self.direction.as_deref()
    }

    /// The modes compared, in column order.
    pub fn modes(&self) -> &[Mode] {
        &self.modes
    }

    /// Every row: values first, then derivatives.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The configuration the check ran with.
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The value of row `index` in `mode`, if that mode computed it.
    ///
    /// ```
    /// use dualtape::check::{self, Index, Mode};
    /// use dualtape::{Differentiable, Scalar};
    ///
    /// struct Cube;
    /// impl Differentiable for Cube {
    ///     fn dim(&self) -> usize { 1 }
    ///     fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S { x[0] * x[0] * x[0] }
    /// }
    /// let r = check::gradient(&Cube, &[2.0]);
    /// assert_eq!(r.get(Index::Value, Mode::Reverse), Some(8.0));
    /// assert_eq!(r.get(Index::Gradient(0), Mode::Forward), Some(12.0));
    /// assert!((r.get(Index::Gradient(0), Mode::FiniteDiff).unwrap() - 12.0).abs() < 1e-9);
    /// ```
    pub fn get(&self, index: Index, mode: Mode) -> Option<f64> {
        let col = self.modes.iter().position(|&m| m == mode)?;
        let entry = self.entries.iter().find(|e| e.index == index)?;
        entry.values[col]
    }

    /// Whether every pair of modes agrees on every row and, with
    /// [`Config::require_finite`], nothing is NaN or infinite.
    pub fn is_ok(&self) -> bool {
        self.entries.iter().all(Entry::agrees)
            && !(self.config.require_finite && self.first_nonfinite().is_some())
    }

    /// The rows where some pair of modes disagrees.
    pub fn failures(&self) -> impl Iterator<Item = &Entry> {
        self.entries.iter().filter(|e| !e.agrees())
    }

    /// The row and the pair closest to failing (or failing worst): the
    /// largest [`Comparison::ratio`]. `None` only for a report without
    /// comparisons.
    pub fn worst(&self) -> Option<(&Entry, &Comparison)> {
        let mut best: Option<(&Entry, &Comparison)> = None;
        for e in &self.entries {
            for c in &e.comparisons {
                let r = c.ratio();
                if best.is_none_or(|(_, b)| r > b.ratio()) {
                    best = Some((e, c));
                }
            }
        }
        best
    }

    /// Every NaN and infinity, mode by mode in column order and row by row
    /// within a mode.
    pub fn nonfinite(&self) -> Vec<NonFinite> {
        let mut out = Vec::new();
        for (col, &mode) in self.modes.iter().enumerate() {
            for e in &self.entries {
                if let Some(v) = e.values[col] {
                    if !v.is_finite() {
                        out.push(NonFinite {
                            index: e.index,
                            mode,
                            value: v,
                        });
                    }
                }
            }
        }
        out
    }

    /// Where a NaN or an infinity first appears: the first mode (in column
    /// order) that has one, and its first row.
    pub fn first_nonfinite(&self) -> Option<NonFinite> {
        self.nonfinite().into_iter().next()
    }

    /// Panics with the report's table unless [`is_ok`](Report::is_ok).
    ///
    /// # Panics
    ///
    /// If the modes disagree beyond the tolerances, or (with
    /// [`Config::require_finite`]) anything is NaN or infinite. The message
    /// is the table, with a hint at the likely cause.
    #[track_caller]
    pub fn assert_ok(&self) {
        if !self.is_ok() {
            panic!("{self:#}");
        }
    }

    fn status(&self) -> &'static str {
        if self.is_ok() {
            "ok"
        } else if self.entries.iter().all(Entry::agrees) {
            "FAILED (non-finite values)"
        } else {
            "FAILED"
        }
    }

    /// A sentence on the likely cause of the failures.
    fn hint(&self) -> Option<String> {
        let failing: Vec<&Comparison> = self
            .entries
            .iter()
            .flat_map(|e| e.comparisons.iter())
            .filter(|c| !c.ok)
            .collect();
        if failing.is_empty() {
            return None;
        }
        let exact_pair = |c: &&Comparison| c.a.is_exact() && c.b.is_exact();
        let involves = |c: &&Comparison, m: Mode| c.a == m || c.b == m;
        if failing.iter().all(|c| involves(c, Mode::Analytic)) {
            return Some(
                "only the analytic gradient disagrees with the other modes, which agree: the \
                 analytic gradient is likely wrong"
                    .into(),
            );
        }
        if failing.iter().any(exact_pair) {
            return Some(
                "two automatic modes disagree: eval computes differently for different scalar \
                 types (f64::mul_add or a method that exists only for f64, code that inspects the \
                 type, a cache kept between calls), or this is a dualtape bug: please report it \
                 with this table"
                    .into(),
            );
        }
        let h = match self.config.finite_diff.step {
            Step::Auto => format!(
                "{:.1e}·max(1, |x_i|)",
                self.config.finite_diff.scheme.base_step()
            ),
            Step::Relative(r) => format!("{r:.1e}·max(1, |x_i|)"),
            Step::Absolute(h) => format!("{h:.1e}"),
        };
        Some(format!(
            "the automatic modes agree with each other and finite differences disagree: f is \
             probably not smooth within the finite-difference stencil (a kink, branch or jump \
             within 2h, h = {h}, where the automatic modes follow dualtape's documented \
             conventions), or badly scaled for the tolerances (Config::fd, Config::normwise)"
        ))
    }
}

fn fmt_num(v: Option<f64>) -> String {
    match v {
        None => "—".into(),
        Some(v) if v.is_nan() => "NaN".into(),
        Some(v) if v.is_infinite() => {
            if v > 0.0 {
                "+inf".into()
            } else {
                "-inf".into()
            }
        }
        Some(v) => format!("{v:.12e}"),
    }
}

fn fmt_point(x: &[f64], max: usize) -> String {
    let mut s = String::from("[");
    for (i, v) in x.iter().take(max).enumerate() {
        if i > 0 {
            s.push_str(", ");
        }
        s.push_str(&format!("{v:?}"));
    }
    if x.len() > max {
        s.push_str(&format!(", … {} more", x.len() - max));
    }
    s.push(']');
    s
}

fn pad(s: &str, width: usize, right: bool) -> String {
    let n = s.chars().count();
    let fill = " ".repeat(width.saturating_sub(n));
    if right {
        format!("{fill}{s}")
    } else {
        format!("{s}{fill}")
    }
}

/// Rows shown in full before a table is shortened.
const MAX_ROWS: usize = 40;

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.point.len();
        let what = match self.kind {
            Kind::Gradient => "gradient check",
            Kind::Jacobian => "Jacobian check",
            Kind::Hessian => "Hessian check",
            Kind::Directional => "directional-derivative check",
        };
        writeln!(
            f,
            "{what} at x = {} (n = {n}): {}",
            fmt_point(&self.point, 12),
            self.status()
        )?;
        if let Some(v) = &self.direction {
            writeln!(f, "direction v = {}", fmt_point(v, 12))?;
        }
        let c = &self.config;
        let scale = if self.kind == Kind::Directional {
            "Σ|∂f/∂x_i·v_i|"
        } else if c.normwise {
            "largest derivative"
        } else {
            "0"
        };
        writeln!(
            f,
            "agree when |a − b| ≤ abs + rel·max(|a|, |b|, {scale}): exact modes {:.0e} + {:.0e}·…, \
             against finite differences {:.0e} + {:.0e}·… ({:?}, step {:?})",
            c.exact.abs, c.exact.rel, c.fd.abs, c.fd.rel, c.finite_diff.scheme, c.finite_diff.step
        )?;

        // Columns.
        let pairs: Vec<(usize, usize)> = (0..self.modes.len())
            .flat_map(|a| (a + 1..self.modes.len()).map(move |b| (a, b)))
            .collect();
        let label_w = self
            .entries
            .iter()
            .map(|e| e.index.to_string().chars().count())
            .max()
            .unwrap_or(5)
            .max(5);
        const VW: usize = 20;
        const EW: usize = 10;
        let mut header = pad("entry", label_w, false);
        for m in &self.modes {
            header.push_str(" | ");
            header.push_str(&pad(m.label(), VW, true));
        }
        for &(a, b) in &pairs {
            header.push_str(" | ");
            let t = format!("{}~{}", self.modes[a].short(), self.modes[b].short());
            header.push_str(&pad(&t, EW, true));
        }
        header.push_str(" | status");
        writeln!(f, "{header}")?;

        let worst = self.worst().map(|(e, _)| e.index);
        let full = f.alternate() || self.entries.len() <= MAX_ROWS;
        let mut hidden = 0usize;
        for e in &self.entries {
            let show = full || e.index.is_value() || !e.agrees() || Some(e.index) == worst;
            if !show {
                hidden += 1;
                continue;
            }
            let mut row = pad(&e.index.to_string(), label_w, false);
            for v in &e.values {
                row.push_str(" | ");
                row.push_str(&pad(&fmt_num(*v), VW, true));
            }
            for &(a, b) in &pairs {
                row.push_str(" | ");
                let (ma, mb) = (self.modes[a], self.modes[b]);
                let cell = match e.comparisons.iter().find(|c| c.a == ma && c.b == mb) {
                    None => "—".to_string(),
                    Some(c) if c.ok => format!("{:.2e} ", c.error),
                    Some(c) => format!("{:.2e}✗", c.error),
                };
                row.push_str(&pad(&cell, EW, true));
            }
            row.push_str(" | ");
            row.push_str(if !e.agrees() {
                "FAIL"
            } else if e.has_nonfinite() {
                "non-finite"
            } else if e.rechecked.is_some() {
                "ok, rechecked"
            } else {
                "ok"
            });
            writeln!(f, "{row}")?;
        }
        if hidden > 0 {
            writeln!(
                f,
                "… {hidden} more rows agree (format with {{:#}} to print every row)"
            )?;
        }
        let rechecked: Vec<String> = self
            .entries
            .iter()
            .filter_map(|e| {
                e.rechecked
                    .map(|v| format!("{} (first {})", e.index, fmt_num(Some(v))))
            })
            .collect();
        if !rechecked.is_empty() {
            writeln!(
                f,
                "rechecked with central differences at their smaller step, which agree: {}; the \
                 first estimate's wider stencil probably crosses a kink or jump near x",
                rechecked.join(", ")
            )?;
        }
        let failing = self.failures().count();
        if failing > 0 {
            writeln!(
                f,
                "{failing} of {} rows disagree (✗: over the tolerance)",
                self.entries.len()
            )?;
        }
        if let Some((e, c)) = self.worst() {
            writeln!(
                f,
                "worst: {}, {} vs {}: |a − b| = {:.2e}, {:.2e} × the tolerance {:.2e}",
                e.index,
                c.a,
                c.b,
                c.error,
                c.ratio(),
                c.tolerance
            )?;
        }
        let nonfinite = self.nonfinite();
        if let Some(first) = nonfinite.first() {
            let others: Vec<String> = self
                .modes
                .iter()
                .filter(|&&m| m != first.mode)
                .filter_map(|&m| {
                    self.get(first.index, m)
                        .map(|v| format!("{m}: {}", fmt_num(Some(v))))
                })
                .collect();
            writeln!(
                f,
                "non-finite: first in {} mode, at {} = {} ({}); {} non-finite numbers in all",
                first.mode,
                first.index,
                fmt_num(Some(first.value)),
                if others.is_empty() {
                    "no other mode".to_string()
                } else {
                    others.join(", ")
                },
                nonfinite.len()
            )?;
        }
        if let Some(h) = self.hint() {
            writeln!(f, "hint: {h}")?;
        }
        Ok(())
    }
}

/// Builds the rows and their comparisons.
struct Builder<'a> {
    config: &'a Config,
    modes: Vec<Mode>,
    entries: Vec<Entry>,
}

impl<'a> Builder<'a> {
    fn new(config: &'a Config, modes: Vec<Mode>) -> Self {
        Builder {
            config,
            modes,
            entries: Vec::new(),
        }
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
                let tol = if Self::exact(ma, e.index) && Self::exact(mb, e.index) {
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
/// assert!(report.to_string().contains("analytic gradient is likely wrong"));
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
    let mut modes = vec![Mode::Forward, Mode::Reverse, Mode::FiniteDiff];
    if hand.is_some() {
        modes.push(Mode::Analytic);
    }
    let mut b = Builder::new(config, modes);
    let with_hand = |mut v: Vec<Option<f64>>, h: Option<f64>| {
        if hand.is_some() {
            v.push(h);
        }
        v
    };
    b.row(
        Index::Value,
        with_hand(vec![Some(vf), Some(vr), Some(vd)], None),
    );
    for i in 0..n {
        let h = hand.as_ref().map(|h| h[i]);
        b.row(
            Index::Gradient(i),
            with_hand(vec![Some(gf[i]), Some(gr[i]), Some(gd[i])], h),
        );
    }
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
    let m = f.outputs();
    let mut b = Builder::new(config, vec![Mode::Forward, Mode::Reverse, Mode::FiniteDiff]);
    for i in 0..m {
        b.row(
            Index::Output(i),
            vec![Some(yf[i]), Some(yr[i]), Some(yd[i])],
        );
    }
    for i in 0..m {
        for j in 0..n {
            b.row(
                Index::Jacobian(i, j),
                vec![Some(jf[(i, j)]), Some(jr[(i, j)]), Some(jd[(i, j)])],
            );
        }
    }
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
    let mut b = Builder::new(
        config,
        vec![
            Mode::ForwardOverReverse,
            Mode::ForwardOverForward,
            Mode::FiniteDiffOfGradient,
        ],
    );
    b.row(Index::Value, vec![Some(vr), Some(vf), Some(vd)]);
    for i in 0..n {
        b.row(
            Index::Gradient(i),
            vec![Some(gr[i]), Some(gf[i]), Some(gd[i])],
        );
    }
    for i in 0..n {
        for j in 0..n {
            b.row(
                Index::Hessian(i, j),
                vec![Some(hr[(i, j)]), Some(hf[(i, j)]), Some(hd[(i, j)])],
            );
        }
    }
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
    let mut b = Builder::new(config, vec![Mode::Forward, Mode::Reverse, Mode::FiniteDiff]);
    b.row(Index::Value, vec![Some(vf), Some(vr), Some(vd)]);
    b.row(Index::Directional, vec![Some(df), Some(dr), Some(dd)]);
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

/// `n` numbers uniform in `[-1, 1)` from SplitMix64 seeded with `seed`.
pub(crate) fn random_direction(n: usize, seed: u64) -> Vec<f64> {
    let mut rng = crate::rng::SplitMix64::new(seed);
    (0..n).map(|_| rng.uniform() * 2.0 - 1.0).collect()
}
