//! What a check found: the [`Report`], its rows and comparisons, and the
//! table its `Display` prints.

use std::fmt;

use super::Config;
#[cfg(doc)]
use super::{directional, gradient, gradient_fast, hessian, jacobian, Tolerance};
use crate::finite_diff::Step;
use crate::reverse::ReplayError;
#[cfg(doc)]
use crate::Differentiable;

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
    /// A [`Program`](crate::reverse::Program) recorded at `x` and replayed
    /// there (see [the replay column](super#the-replay-column)).
    Replay,
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
            Mode::Replay => "replay",
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
            Mode::Replay => "rep",
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
/// `Display` prints a table within 100 columns: the value rows, then one row
/// per derivative with the pair of modes that agrees worst there; past 40
/// rows only the failing ones and the worst. `{:#}` prints every row with
/// every mode and every pair. [`assert_ok`](Report::assert_ok) panics with
/// the full table.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub(super) kind: Kind,
    pub(super) point: Vec<f64>,
    pub(super) direction: Option<Vec<f64>>,
    pub(super) modes: Vec<Mode>,
    pub(super) entries: Vec<Entry>,
    pub(super) config: Config,
    pub(super) replay_error: Option<ReplayError>,
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

    /// Why the [`Mode::Replay`] column is empty, if the recorded program
    /// could not be replayed at `x` (the check then fails).
    pub fn replay_error(&self) -> Option<&ReplayError> {
        self.replay_error.as_ref()
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

    /// Whether every pair of modes agrees on every row, the recorded
    /// program replayed ([`replay_error`](Report::replay_error)) and, with
    /// [`Config::require_finite`], nothing is NaN or infinite.
    pub fn is_ok(&self) -> bool {
        self.entries.iter().all(Entry::agrees)
            && self.replay_error.is_none()
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
    /// If the modes disagree beyond the tolerances, the recorded program
    /// does not replay, or (with
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
        } else if self.replay_error.is_some() && self.entries.iter().all(Entry::agrees) {
            "FAILED (no replay)"
        } else if self.entries.iter().all(Entry::agrees) {
            "FAILED (non-finite values)"
        } else {
            "FAILED"
        }
    }

    /// A sentence on the likely cause of the failures.
    fn hint(&self) -> Option<String> {
        let value_nonfinite = self
            .entries
            .iter()
            .filter(|e| e.index.is_value())
            .find(|e| e.has_nonfinite());
        if let Some(e) = value_nonfinite {
            let what = e
                .values
                .iter()
                .flatten()
                .find(|v| !v.is_finite())
                .map_or("NaN".to_string(), |&v| fmt_num(Some(v)));
            return Some(format!(
                "{} is {what} here, so its derivatives mean nothing and finite differences are \
                 NaN: this is not a kink. check::first_nonfinite(|x| model.eval(x), x) names \
                 the operation that made it",
                e.index
            ));
        }
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
        if failing.iter().all(|c| involves(c, Mode::Replay)) {
            return Some(
                "only the replay of the program recorded at x disagrees with the other modes: \
                 eval computes differently from one call to the next (a cache or a counter kept \
                 between calls, randomness), or this is a dualtape bug in replay: please report \
                 it with this table"
                    .into(),
            );
        }
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
             within 2h, h = {h}), or badly scaled for the tolerances (Config::fd, \
             Config::normwise). At a kink of abs, max, min, ... the automatic modes give the \
             symmetric average of the two slopes, and at the switch point of your own \
             `if x > c` the derivative of the branch taken, a one-sided derivative (see \
             dualtape::rules)"
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

/// Columns the default (compact) report keeps within.
const WIDTH: usize = 100;

/// `x` as `fmt_point` would print it, with as many leading values as fit in
/// `width` characters.
fn fmt_point_within(x: &[f64], width: usize) -> String {
    let mut shown = x.len();
    while shown > 1 && fmt_point(x, shown).chars().count() > width {
        shown -= 1;
    }
    fmt_point(x, shown)
}

/// `text` broken at spaces into lines of at most `width` characters (a
/// longer word stays whole), continuation lines indented by `indent`.
fn wrap(text: &str, width: usize, indent: &str) -> String {
    let mut out = String::new();
    let mut line = String::new();
    for word in text.split(' ') {
        let len = line.chars().count();
        if len > 0 && len + 1 + word.chars().count() > width {
            out.push_str(&line);
            out.push('\n');
            line = format!("{indent}{word}");
        } else {
            if len > 0 {
                line.push(' ');
            }
            line.push_str(word);
        }
    }
    out.push_str(&line);
    out
}

impl fmt::Display for Report {
    /// The default form keeps within 100 columns: one row per value and
    /// derivative, with the pair of modes that agree worst there (their two
    /// values and the difference); past 40 rows only the value rows, the
    /// failing rows and the worst. The alternate form (`{:#}`) prints every
    /// row with every mode and every pair.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let alt = f.alternate();
        let n = self.point.len();
        let what = match self.kind {
            Kind::Gradient => "gradient check",
            Kind::Jacobian => "Jacobian check",
            Kind::Hessian => "Hessian check",
            Kind::Directional => "directional-derivative check",
        };
        let point = |x: &[f64]| {
            if alt {
                fmt_point(x, 12)
            } else {
                fmt_point_within(x, 56)
            }
        };
        writeln!(
            f,
            "{what} at x = {} (n = {n}): {}",
            point(&self.point),
            self.status()
        )?;
        if let Some(v) = &self.direction {
            writeln!(f, "direction v = {}", point(v))?;
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
            "agree when |a − b| ≤ abs + rel·max(|a|, |b|, {scale}): exact modes {:.0e} + {:.0e}·…,{}\
             against finite differences {:.0e} + {:.0e}·… ({:?}, step {:?})",
            c.exact.abs,
            c.exact.rel,
            if alt { " " } else { "\n  " },
            c.fd.abs,
            c.fd.rel,
            c.finite_diff.scheme,
            c.finite_diff.step
        )?;
        if alt {
            self.full_table(f)?;
        } else {
            self.compact_table(f)?;
        }
        self.footer(f, alt)
    }
}

impl Report {
    /// Every row, every mode, every pair (`{:#}`).
    fn full_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pairs: Vec<(usize, usize)> = (0..self.modes.len())
            .flat_map(|a| (a + 1..self.modes.len()).map(move |b| (a, b)))
            .collect();
        let label_w = self.label_width();
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
        for e in &self.entries {
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
                    Some(c) => fmt_error(c),
                };
                row.push_str(&pad(&cell, EW, true));
            }
            row.push_str(" | ");
            row.push_str(status_of(e, "ok, rechecked"));
            writeln!(f, "{row}")?;
        }
        Ok(())
    }

    /// One row per entry with its worst pair (the default).
    fn compact_table(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let legend: Vec<String> = self
            .modes
            .iter()
            .map(|m| format!("{} ({})", m.label(), m.short()))
            .collect();
        writeln!(
            f,
            "{}",
            wrap(
                &format!(
                    "modes: {}; each row shows the pair that agrees worst ({{:#}}: every pair)",
                    legend.join(", ")
                ),
                WIDTH,
                "  "
            )
        )?;
        let label_w = self.label_width();
        const VW: usize = 19;
        const PW: usize = 10;
        const EW: usize = 9;
        writeln!(
            f,
            "{} | {} | {} | {} | {} | status",
            pad("entry", label_w, false),
            pad("a", VW, true),
            pad("b", VW, true),
            pad("pair a~b", PW, true),
            pad("|a − b|", EW, true)
        )?;
        let worst = self.worst().map(|(e, _)| e.index);
        let full = self.entries.len() <= MAX_ROWS;
        let mut hidden = 0usize;
        for e in &self.entries {
            let show = full || e.index.is_value() || !e.agrees() || Some(e.index) == worst;
            if !show {
                hidden += 1;
                continue;
            }
            let col = |m: Mode| self.modes.iter().position(|&x| x == m);
            // The first pair with the largest ratio, as Report::worst picks.
            let mut pair: Option<&Comparison> = None;
            for c in &e.comparisons {
                if pair.is_none_or(|p| c.ratio() > p.ratio()) {
                    pair = Some(c);
                }
            }
            let (a, b, name, err) = match pair {
                Some(c) => (
                    col(c.a).and_then(|i| e.values[i]),
                    col(c.b).and_then(|i| e.values[i]),
                    format!("{}~{}", c.a.short(), c.b.short()),
                    fmt_error(c),
                ),
                None => (
                    e.values.iter().flatten().next().copied(),
                    None,
                    "—".to_string(),
                    "—".to_string(),
                ),
            };
            writeln!(
                f,
                "{} | {} | {} | {} | {} | {}",
                pad(&e.index.to_string(), label_w, false),
                pad(&fmt_num(a), VW, true),
                pad(&fmt_num(b), VW, true),
                pad(&name, PW, true),
                pad(&err, EW, true),
                status_of(e, "rechecked")
            )?;
        }
        if hidden > 0 {
            writeln!(
                f,
                "… {hidden} more rows agree (format with {{:#}} to print every row)"
            )?;
        }
        Ok(())
    }

    fn label_width(&self) -> usize {
        self.entries
            .iter()
            .map(|e| e.index.to_string().chars().count())
            .max()
            .unwrap_or(5)
            .max(5)
    }

    /// The lines after the table; wrapped to 100 columns unless `alt`.
    fn footer(&self, f: &mut fmt::Formatter<'_>, alt: bool) -> fmt::Result {
        let line = |f: &mut fmt::Formatter<'_>, text: String| {
            if alt {
                writeln!(f, "{text}")
            } else {
                writeln!(f, "{}", wrap(&text, WIDTH, "  "))
            }
        };
        let rechecked: Vec<String> = self
            .entries
            .iter()
            .filter_map(|e| {
                e.rechecked
                    .map(|v| format!("{} (first {})", e.index, fmt_num(Some(v))))
            })
            .collect();
        if !rechecked.is_empty() {
            line(
                f,
                format!(
                    "rechecked with central differences at their smaller step, which agree: {}; \
                     the first estimate's wider stencil probably crosses a kink or jump near x",
                    rechecked.join(", ")
                ),
            )?;
        }
        let failing = self.failures().count();
        if failing > 0 {
            line(
                f,
                format!(
                    "{failing} of {} rows disagree (✗: over the tolerance)",
                    self.entries.len()
                ),
            )?;
        }
        if let Some((e, c)) = self.worst() {
            line(
                f,
                format!(
                    "worst: {}, {} vs {}: |a − b| = {:.2e}, {:.2e} × the tolerance {:.2e}",
                    e.index,
                    c.a,
                    c.b,
                    c.error,
                    c.ratio(),
                    c.tolerance
                ),
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
            line(
                f,
                format!(
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
                ),
            )?;
        }
        if let Some(e) = &self.replay_error {
            line(
                f,
                format!("replay: the program recorded at x does not replay there: {e}"),
            )?;
        }
        if let Some(h) = self.hint() {
            line(f, format!("hint: {h}"))?;
        }
        Ok(())
    }
}

fn fmt_error(c: &Comparison) -> String {
    if c.ok {
        format!("{:.2e} ", c.error)
    } else {
        format!("{:.2e}✗", c.error)
    }
}

fn status_of(e: &Entry, rechecked: &'static str) -> &'static str {
    if !e.agrees() {
        "FAIL"
    } else if e.has_nonfinite() {
        "non-finite"
    } else if e.rechecked.is_some() {
        rechecked
    } else {
        "ok"
    }
}
