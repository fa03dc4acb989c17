//! Random programs: quickcheck generates expression graphs over every
//! elementary function (with shared subexpressions, constants on either
//! side, `f64` operands on the right), guarded to their domains; each is
//! evaluated through `Differentiable` (and `VectorFunction`) and every mode
//! must agree: forward (`DualVec`, `Dual`), reverse (`Var`), finite
//! differences, and for second derivatives forward over forward
//! (`Dual<Dual<f64>>`), forward over reverse (`Dual<Var>`) and finite
//! differences of the gradient — with `check`'s default tolerances against
//! finite differences, and `1e-10 + 1e-8·max(|a|, |b|)` between automatic
//! modes instead of the default `1e-12 + 1e-10·max`: random programs are
//! not all well scaled, and about one in 10⁵ second derivatives is a
//! difference of terms 10⁶ times larger than itself, where two automatic
//! modes, summing in different orders, differ by more than the default.
//! A real error is off by far more than either.
//!
//! A program is discarded (not failed) when finite differences cannot be a
//! reference at its point: a kink or jump of `abs`, `floor`, `max`,
//! `copysign`, `%`, `atan2`'s branch cut, ... lies inside the
//! finite-difference stencil (the branches taken differ between the point
//! and a stencil point), or the value or a derivative is not finite or
//! larger than 10⁶ (products can grow without bound).
//!
//! How many programs: `DUALTAPE_RANDOM_PROGRAMS` (default 4000) for each of
//! the gradient and Hessian properties, a quarter of that for Jacobians
//! and for the fast directional check.
//!
//! Which programs: generated from a fixed seed, so `cargo test` (and CI)
//! tries the same programs every time and a failure reproduces.
//! `DUALTAPE_RANDOM_SEED=N` picks another seed; `DUALTAPE_RANDOM_SEED=random`
//! a fresh one per run, for exploring. Exploring found, about once in 10⁵
//! Hessian programs, a point where the exact modes differ by rounding:
//! terms of size 10⁵ or more that cancel to 0 (`atan2(x, x)`, constant in
//! x), which forward over forward and forward over reverse round
//! differently; the Hessian property discards `atan2` of one slot with
//! itself since. And a dip narrower than the finite-difference step, which
//! central differences cannot see (`fd_usable` discards it).

use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::LazyLock;

use dualtape::check::{self, Kind};
use dualtape::finite_diff;
use dualtape::finite_diff::{Config as FdConfig, Step};
use dualtape::testing::Points;
use dualtape::{reverse, Differentiable, Scalar, VectorFunction};
use quickcheck::{Arbitrary, Gen, QuickCheck, TestResult};

use crate::support::binary::{Binary as B, BINARY};
use crate::support::compare::equal;
use crate::support::elementary::{Unary as U, ELEMENTARY};
use dualtape::rng::SplitMix64;

// ------------------------------------------------------------------ programs

/// The unary functions of the table the programs use: the elementary ones
/// without the integer powers 1 (the identity) and 4 (which overflows soonest).
static UNARY: LazyLock<Vec<U>> = LazyLock::new(|| {
    let skip = |u: &U| matches!(u, U::Powi(1 | 4));
    ELEMENTARY.iter().copied().filter(|u| !skip(u)).collect()
});

/// One operation; operands are indices of earlier slots (inputs first).
#[derive(Clone, Debug, PartialEq)]
enum Op {
    Unary(U, usize),
    Binary(B, usize, usize),
    /// `a.mul_add(b, c)`.
    MulAdd(usize, usize, usize),
    /// `a op c`, `c: f64` on the right (`+`, `-`, `*`, `/`).
    Real(B, usize, f64),
    /// `S::constant(c) op a`: a constant on the left of a binary function.
    ConstLeft(B, f64, usize),
    /// `a.powf(S::constant(k))` for an integer `k`: any sign of base.
    PowConst(usize, f64),
    /// A constant.
    Const(f64),
}

impl Op {
    fn args(&self) -> Vec<usize> {
        match *self {
            Op::Unary(_, a) | Op::Real(_, a, _) | Op::ConstLeft(_, _, a) | Op::PowConst(a, _) => {
                vec![a]
            }
            Op::Binary(_, a, b) => vec![a, b],
            Op::MulAdd(a, b, c) => vec![a, b, c],
            Op::Const(_) => vec![],
        }
    }

    fn map_args(&mut self, f: impl Fn(usize) -> usize) {
        match self {
            Op::Unary(_, a) | Op::Real(_, a, _) | Op::ConstLeft(_, _, a) | Op::PowConst(a, _) => {
                *a = f(*a)
            }
            Op::Binary(_, a, b) => {
                *a = f(*a);
                *b = f(*b);
            }
            Op::MulAdd(a, b, c) => {
                *a = f(*a);
                *b = f(*b);
                *c = f(*c);
            }
            Op::Const(_) => {}
        }
    }
}

/// A random program: `n` inputs, then one slot per operation.
#[derive(Clone, PartialEq)]
struct Program {
    n: usize,
    ops: Vec<Op>,
    /// The slots returned (the last one is the scalar output).
    outputs: Vec<usize>,
}

impl fmt::Debug for Program {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Program with {} inputs:", self.n)?;
        for (k, op) in self.ops.iter().enumerate() {
            writeln!(f, "  v{} = {op:?}", self.n + k)?;
        }
        write!(f, "  outputs {:?}", self.outputs)
    }
}

/// Records which branch each piecewise operation took, so that a point and
/// the finite-difference stencil around it can be compared.
type Signature = Vec<i64>;

/// Marked when an intermediate value is infinite or NaN (`ln(x - x)`):
/// after that, branches read NaNs and the signs of NaNs, which finite
/// differences cannot serve as a reference for. Such a program is discarded.
const NON_FINITE: i64 = i64::MIN + 1;

/// Marked when `atan2` meets two zeros: its value (0 or ±π) then depends on
/// the signs of the zeros, and those can differ between plain `f64` and
/// the differentiable modes where a `max`/`min` tie of +0 and −0 produced
/// them. Marked too at such a tie itself: every differentiable mode gives
/// `+0` for `max` and `-0` for `min` there (the one convention of
/// `rules::max`/`min`, tested in awkward_points), but plain `f64::max`,
/// the finite-difference reference's, may return either zero, so a
/// `copysign`, `1/x` or `atan2` after it may read another sign in `f64`
/// than in the mode it checks. Such a program is discarded.
const ZERO_SIGNS_DECIDE: i64 = i64::MIN;

/// Whether `a` and `b` are zeros of opposite signs (a `max`/`min` tie whose
/// value's sign plain `f64::max`/`min` leave unspecified).
fn mixed_zeros(a: f64, b: f64) -> bool {
    a == 0.0 && b == 0.0 && a.is_sign_negative() != b.is_sign_negative()
}

fn sign(v: f64) -> i64 {
    if v > 0.0 {
        1
    } else if v < 0.0 {
        -1
    } else if v == 0.0 {
        0
    } else {
        2 // NaN
    }
}

/// Bounded, smooth and odd: keeps `exp` and friends away from overflow.
fn squash<S: Scalar<Real = f64>>(a: S) -> S {
    (a / 4.0).tanh() * 4.0
}

/// Positive and smooth: `a² + c`.
fn positive<S: Scalar<Real = f64>>(a: S, c: f64) -> S {
    a * a + c
}

impl Program {
    /// Evaluates every slot; `sig` collects the branches taken.
    fn run<S: Scalar<Real = f64>>(&self, x: &[S], mut sig: Option<&mut Signature>) -> Vec<S> {
        let mut v: Vec<S> = x.to_vec();
        // Values are read only to mark the branches taken: without a
        // signature the evaluation reads none (so a recorded program of it
        // replays, as check's replay column requires).
        let tracking = sig.is_some();
        let val = |s: S| if tracking { s.value() } else { 0.0 };
        let mut mark = |s: i64| {
            if let Some(sig) = sig.as_deref_mut() {
                sig.push(s);
            }
        };
        for op in &self.ops {
            let y = match *op {
                Op::Unary(f, a) => {
                    let a = v[a];
                    let av = val(a);
                    // Into the function's domain, smoothly; piecewise
                    // functions mark the piece they are on.
                    let arg = match f {
                        U::Tan => a.tanh() * 1.4,
                        U::Asin | U::Acos | U::Atanh => a.sin() * 0.9,
                        U::Sinh | U::Cosh | U::Exp | U::Exp2 | U::ExpM1 => squash(a),
                        U::Acosh => positive(a, 1.05),
                        // cbrt has an infinite slope at 0: keep away from it
                        U::Ln | U::Log2 | U::Log10 | U::Sqrt | U::Cbrt => positive(a, 0.2),
                        U::Ln1p => a * a,
                        U::Recip => positive(a, 0.5),
                        U::Powi(k) if k < 0 => positive(a, 0.5),
                        U::Powi(_) => squash(a),
                        U::Abs | U::Signum => {
                            mark(sign(av));
                            a
                        }
                        U::Floor => {
                            mark(av.floor() as i64);
                            a
                        }
                        U::Ceil => {
                            mark(av.ceil() as i64);
                            a
                        }
                        U::Round => {
                            mark(av.round() as i64);
                            a
                        }
                        U::Trunc => {
                            mark(av.trunc() as i64);
                            a
                        }
                        U::Fract => {
                            mark(av.trunc() as i64);
                            mark(sign(av));
                            a
                        }
                        _ => a,
                    };
                    f.apply_generic(arg)
                }
                Op::Binary(f, a, b) => {
                    let (a, b) = (v[a], v[b]);
                    let (av, bv) = (val(a), val(b));
                    // Into the function's domain, smoothly; piecewise
                    // functions mark the piece they are on.
                    let (a, b) = match f {
                        B::Div => (a, positive(b, 0.5)),
                        B::Rem => {
                            let d = positive(b, 0.5);
                            mark((av / val(d)).trunc() as i64);
                            mark(sign(av));
                            (a, d)
                        }
                        B::Powf => (positive(a, 0.3), squash(b)),
                        B::Atan2 => {
                            if av == 0.0 && bv == 0.0 {
                                mark(ZERO_SIGNS_DECIDE);
                            }
                            if bv < 0.0 {
                                mark(sign(av));
                            }
                            mark(sign(bv));
                            (a, b)
                        }
                        B::Log => (positive(a, 0.2), positive(b, 1.5)),
                        B::Max | B::Min => {
                            mark(sign(av - bv));
                            if mixed_zeros(av, bv) {
                                mark(ZERO_SIGNS_DECIDE);
                            }
                            (a, b)
                        }
                        B::Copysign => {
                            mark(sign(av));
                            mark(sign(bv));
                            (a, b)
                        }
                        B::Add | B::Sub | B::Mul | B::Hypot => (a, b),
                    };
                    f.apply(a, b)
                }
                Op::MulAdd(a, b, c) => v[a].mul_add(v[b], v[c]),
                Op::Real(f, a, c) => f.apply_real(v[a], c).expect("an operator with an f64"),
                Op::ConstLeft(f, c, a) => {
                    let (k, a) = (S::constant(c), v[a]);
                    let av = val(a);
                    let (k, a) = match f {
                        B::Div => (k, positive(a, 0.5)),
                        B::Powf => (S::constant(c.abs() + 0.5), squash(a)),
                        B::Atan2 => {
                            if c == 0.0 && av == 0.0 {
                                mark(ZERO_SIGNS_DECIDE);
                            }
                            mark(sign(av));
                            (k, a)
                        }
                        B::Log => (S::constant(c.abs() + 0.2), positive(a, 1.5)),
                        B::Max | B::Min => {
                            mark(sign(c - av));
                            if mixed_zeros(c, av) {
                                mark(ZERO_SIGNS_DECIDE);
                            }
                            (k, a)
                        }
                        B::Copysign => {
                            mark(sign(av));
                            (k, a)
                        }
                        B::Rem => {
                            let d = positive(a, 0.5);
                            mark((c / val(d)).trunc() as i64);
                            (k, d)
                        }
                        B::Add | B::Sub | B::Mul | B::Hypot => (k, a),
                    };
                    f.apply(k, a)
                }
                // a negative base with an integer exponent: rule 3 keeps the
                // NaN of ∂/∂y out; a negative exponent needs a base away from 0
                Op::PowConst(a, k) if k < 0.0 => positive(v[a], 0.5).powf(S::constant(k)),
                Op::PowConst(a, k) => v[a].powf(S::constant(k)),
                Op::Const(c) => S::constant(c),
            };
            if !val(y).is_finite() {
                mark(NON_FINITE);
            }
            v.push(y);
        }
        self.outputs.iter().map(|&o| v[o]).collect()
    }

    /// The branches taken at `x`, and the outputs there.
    fn signature(&self, x: &[f64]) -> (Signature, Vec<f64>) {
        let mut sig = Signature::new();
        let ys = self.run(x, Some(&mut sig));
        (sig, ys)
    }

    /// Removes operation `k`: references to its slot go to its first
    /// operand (or input 0), later slots move down by one.
    fn without(&self, k: usize) -> Program {
        let slot = self.n + k;
        let repl = self.ops[k].args().first().copied().unwrap_or(0);
        let remap = |s: usize| {
            if s == slot {
                repl
            } else if s > slot {
                s - 1
            } else {
                s
            }
        };
        let mut ops = self.ops.clone();
        ops.remove(k);
        for op in &mut ops[k..] {
            op.map_args(remap);
        }
        let mut outputs: Vec<usize> = self.outputs.iter().map(|&o| remap(o)).collect();
        outputs.dedup();
        Program {
            n: self.n,
            ops,
            outputs,
        }
    }
}

impl Differentiable for Program {
    fn dim(&self) -> usize {
        self.n
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> S {
        *self.run(x, None).last().expect("a program has an output")
    }
}

/// The same program with all its outputs, for Jacobians.
struct Vector<'a>(&'a Program);

impl VectorFunction for Vector<'_> {
    fn dim(&self) -> usize {
        self.0.n
    }
    fn outputs(&self) -> usize {
        self.0.outputs.len()
    }
    fn eval<S: Scalar<Real = f64>>(&self, x: &[S]) -> Vec<S> {
        self.0.run(x, None)
    }
}

// ------------------------------------------------------------------ generation

/// SplitMix64 (`dualtape::rng`), seeded from quickcheck.
struct Rng(SplitMix64);

impl Rng {
    fn new(g: &mut Gen) -> Self {
        Rng(SplitMix64::new(
            u64::arbitrary(g) ^ u64::arbitrary(g).rotate_left(17),
        ))
    }
    fn next(&mut self) -> u64 {
        self.0.next_u64()
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[self.below(xs.len())]
    }
    /// An operand: the newest slot half of the time (depth), else any
    /// earlier slot (sharing).
    fn slot(&mut self, len: usize) -> usize {
        if self.below(2) == 0 {
            len - 1
        } else {
            self.below(len)
        }
    }
}

const CONSTANTS: &[f64] = &[0.0, 0.5, -0.5, 1.0, -1.0, 2.0, -1.5, 3.0, 0.25];

fn random_program(rng: &mut Rng, outputs: usize) -> Program {
    let n = 1 + rng.below(4);
    let len = 3 + rng.below(18);
    let mut ops = Vec::with_capacity(len);
    for _ in 0..len {
        let slots = n + ops.len();
        let op = match rng.below(20) {
            0..=8 => Op::Unary(rng.pick(&UNARY), rng.slot(slots)),
            9..=14 => Op::Binary(rng.pick(BINARY), rng.slot(slots), rng.slot(slots)),
            15 => Op::MulAdd(rng.slot(slots), rng.slot(slots), rng.slot(slots)),
            16 => {
                let r = rng.pick(&[B::Add, B::Sub, B::Mul, B::Div]);
                let mut c = rng.pick(CONSTANTS);
                if r == B::Div && c == 0.0 {
                    c = 2.0;
                }
                Op::Real(r, rng.slot(slots), c)
            }
            17 => Op::ConstLeft(rng.pick(BINARY), rng.pick(CONSTANTS), rng.slot(slots)),
            18 => Op::PowConst(rng.slot(slots), rng.pick(&[2.0, 3.0, -1.0])),
            _ => Op::Const(rng.pick(CONSTANTS)),
        };
        ops.push(op);
    }
    let last = n + len - 1;
    let mut outs: Vec<usize> = (0..outputs.saturating_sub(1))
        .map(|_| rng.below(last))
        .collect();
    outs.push(last);
    Program {
        n,
        ops,
        outputs: outs,
    }
}

/// A program and a point in `[-2, 2]ⁿ`.
#[derive(Clone, Debug)]
struct Case {
    program: Program,
    x: Vec<f64>,
}

fn random_case(g: &mut Gen, outputs: usize) -> Case {
    let mut rng = Rng::new(g);
    let program = random_program(&mut rng, outputs);
    let x = Points::cube(program.n, -2.0, 2.0).generate(g);
    Case { program, x }
}

fn shrink_case(c: &Case) -> Box<dyn Iterator<Item = Case>> {
    let mut out = Vec::new();
    // Shorter programs first, then simpler points.
    for k in (0..c.program.ops.len()).rev() {
        if c.program.ops.len() > 1 {
            out.push(Case {
                program: c.program.without(k),
                x: c.x.clone(),
            });
        }
    }
    let points = Points::cube(c.program.n, -2.0, 2.0);
    for x in points.shrink(&c.x) {
        out.push(Case {
            program: c.program.clone(),
            x,
        });
    }
    Box::new(out.into_iter())
}

/// A scalar program.
#[derive(Clone, Debug)]
struct Scalar1(Case);

impl Arbitrary for Scalar1 {
    fn arbitrary(g: &mut Gen) -> Self {
        Scalar1(random_case(g, 1))
    }
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(shrink_case(&self.0).map(Scalar1))
    }
}

/// A program with one to three outputs.
#[derive(Clone, Debug)]
struct Multi(Case);

impl Arbitrary for Multi {
    fn arbitrary(g: &mut Gen) -> Self {
        let outputs = 1 + (u8::arbitrary(g) % 3) as usize;
        Multi(random_case(g, outputs))
    }
    fn shrink(&self) -> Box<dyn Iterator<Item = Self>> {
        Box::new(shrink_case(&self.0).map(Multi))
    }
}

// ------------------------------------------------------------------ discarding

/// Whether finite differences can serve as a reference for `p` at `x`: the
/// same branches everywhere on the stencil, moderate numbers, and
/// one-sided differences that roughly agree (within half their size, plus
/// 1). A central difference never evaluates `f(x)` itself, so a dip or
/// spike narrower than the step (`sin` of a steep argument under a
/// saturating `tanh`, seen in random-seed runs: `f` is 0.68 at the point
/// and 16 on the whole stencil, where the automatic modes' -5.5e4 is right)
/// fools it, however small the step: its estimates at a step and at half
/// of it agree.
fn fd_usable(p: &Program, x: &[f64]) -> bool {
    let (here, ys) = p.signature(x);
    if here.contains(&ZERO_SIGNS_DECIDE) || here.contains(&NON_FINITE) {
        return false;
    }
    let config = check::Config::default().finite_diff;
    let mut w = x.to_vec();
    for i in 0..x.len() {
        let h = dualtape::finite_diff::step_size_with(&config, x[i]);
        // the outputs at x - h and x + h
        let mut near = [Vec::new(), Vec::new()];
        for k in [-2.0, -1.0, 1.0, 2.0] {
            w[i] = x[i] + k * h;
            let (sig, out) = p.signature(&w);
            if sig != here {
                return false;
            }
            if k == -1.0 {
                near[0] = out;
            } else if k == 1.0 {
                near[1] = out;
            }
        }
        w[i] = x[i];
        let [down, up] = &near;
        for ((y, u), d) in ys.iter().zip(up).zip(down) {
            let (fwd, bwd) = ((u - y) / h, (y - d) / h);
            // (NaN: not usable either)
            let agree = (fwd - bwd).abs() <= 1.0 + 0.5 * fwd.abs().max(bwd.abs());
            if !agree {
                return false;
            }
        }
    }
    let (_, g) = reverse::gradient(|x| p.eval(x), x);
    ys.iter().chain(&g).all(|v| v.is_finite() && v.abs() < 1e6)
}

/// The finite-difference configs of the checks, and the same at half the
/// step.
fn steps() -> (FdConfig, FdConfig) {
    let full = check::Config::default().finite_diff;
    let half = full.with_step(Step::Relative(full.scheme.base_step() / 2.0));
    (full, half)
}

/// Whether two finite-difference estimates (at the step of the checks and
/// at half of it) agree to a tenth of the tolerance: if not, the truncation
/// error is too large for finite differences to be a reference here (a
/// pole or a steep oscillation near the point), and the case is discarded.
fn converged(a: &[f64], b: &[f64]) -> bool {
    let tol = check::Config::default().fd;
    a.iter()
        .zip(b)
        .all(|(&u, &v)| (u - v).abs() <= 0.1 * tol.bound(u, v, 0.0))
}

fn gradient_converged(p: &Program, x: &[f64]) -> bool {
    let (full, half) = steps();
    let (_, a) = finite_diff::gradient_with(|x: &[f64]| p.eval(x), x, &full);
    let (_, b) = finite_diff::gradient_with(|x: &[f64]| p.eval(x), x, &half);
    converged(&a, &b)
}

fn tests() -> u64 {
    std::env::var("DUALTAPE_RANDOM_PROGRAMS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4000)
}

/// Programs checked and discarded, per property, for the summary line.
static CHECKED: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];
static DISCARDED: [AtomicU64; 7] = [const { AtomicU64::new(0) }; 7];

/// Counts a case; `None` is a discard.
fn count(property: usize, result: Option<TestResult>) -> TestResult {
    match result {
        Some(r) => {
            CHECKED[property].fetch_add(1, Ordering::Relaxed);
            r
        }
        None => {
            DISCARDED[property].fetch_add(1, Ordering::Relaxed);
            TestResult::discard()
        }
    }
}

fn summary(property: usize, name: &str) {
    eprintln!(
        "{name}: {} random programs checked, {} discarded",
        CHECKED[property].load(Ordering::Relaxed),
        DISCARDED[property].load(Ordering::Relaxed)
    );
}

fn quickcheck(tests: u64) -> QuickCheck {
    crate::support::seeded_with(0x5eed_da7a_7a9e)
        .tests(tests)
        .max_tests(20 * tests)
        .min_tests_passed(tests / 2)
}

/// The tolerances of the properties (see the module docs).
fn config() -> check::Config {
    check::Config::default().with_exact(1e-10, 1e-8)
}

/// Turns a report into a quickcheck result whose message is the table.
fn verdict(report: check::Report) -> TestResult {
    if report.is_ok() {
        TestResult::passed()
    } else {
        TestResult::error(format!("{report:#}"))
    }
}

// ------------------------------------------------------------------ properties

fn gradients_agree(c: Scalar1) -> TestResult {
    count(0, gradients_agree_inner(c))
}

fn gradients_agree_inner(c: Scalar1) -> Option<TestResult> {
    let Case { program, x } = &c.0;
    if !fd_usable(program, x) || !gradient_converged(program, x) {
        return None;
    }
    Some(verdict(check::gradient_with(program, x, &config())))
}

fn hessians_agree(c: Scalar1) -> TestResult {
    count(1, hessians_agree_inner(c))
}

fn hessians_agree_inner(c: Scalar1) -> Option<TestResult> {
    let Case { program, x } = &c.0;
    // `atan2(a, a)` is constant in `a`: its second derivatives are terms of
    // size 1/a³ that cancel exactly, which forward over forward and forward
    // over reverse round differently (by 1e-10 to 1e-8 near a = 0.003, in
    // random-seed runs), past the exact modes' tolerance
    let same_atan2 = |op: &Op| matches!(op, Op::Binary(B::Atan2, a, b) if a == b);
    if !fd_usable(program, x) || program.ops.iter().any(same_atan2) {
        return None;
    }
    let (_, _, h) = reverse::hessian(|x| program.eval(x), x);
    if h.iter().any(|v| !v.is_finite() || v.abs() >= 1e6) {
        return None;
    }
    let (full, half) = steps();
    // The Hessian as finite differences of the reverse gradient.
    let gradient = |x: &[f64]| reverse::gradient(|x| program.eval(x), x).1;
    let (_, a) = finite_diff::jacobian_with(gradient, x, &full);
    let (_, b) = finite_diff::jacobian_with(gradient, x, &half);
    if !converged(a.as_slice(), b.as_slice()) {
        return None;
    }
    Some(verdict(check::hessian_with(program, x, &config())))
}

fn jacobians_agree(c: Multi) -> TestResult {
    count(2, jacobians_agree_inner(c))
}

fn jacobians_agree_inner(c: Multi) -> Option<TestResult> {
    let Case { program, x } = &c.0;
    if !fd_usable(program, x) {
        return None;
    }
    let f = Vector(program);
    let (y, j) = reverse::jacobian(|x| f.eval(x), x);
    if y.iter()
        .chain(j.iter())
        .any(|v| !v.is_finite() || v.abs() >= 1e6)
    {
        return None;
    }
    let (full, half) = steps();
    let (_, a) = finite_diff::jacobian_with(|x: &[f64]| f.eval(x), x, &full);
    let (_, b) = finite_diff::jacobian_with(|x: &[f64]| f.eval(x), x, &half);
    if !converged(a.as_slice(), b.as_slice()) {
        return None;
    }
    Some(verdict(check::jacobian_with(&f, x, &config())))
}

fn directional_derivatives_agree(c: Scalar1) -> TestResult {
    count(3, directional_derivatives_agree_inner(c))
}

fn directional_derivatives_agree_inner(c: Scalar1) -> Option<TestResult> {
    let Case { program, x } = &c.0;
    if !fd_usable(program, x) || !gradient_converged(program, x) {
        return None;
    }
    let report = check::gradient_fast_with(program, x, &config());
    assert_eq!(report.kind(), Kind::Directional);
    Some(verdict(report))
}

#[test]
fn random_programs_gradients_agree_in_every_mode() {
    quickcheck(tests()).quickcheck(gradients_agree as fn(Scalar1) -> TestResult);
    summary(0, "gradients");
}

#[test]
fn random_programs_hessians_agree_in_every_mode() {
    quickcheck(tests()).quickcheck(hessians_agree as fn(Scalar1) -> TestResult);
    summary(1, "Hessians");
}

#[test]
fn random_programs_jacobians_agree_in_every_mode() {
    quickcheck(tests() / 4).quickcheck(jacobians_agree as fn(Multi) -> TestResult);
    summary(2, "Jacobians");
}

#[test]
fn random_programs_directional_derivatives_agree() {
    quickcheck(tests() / 4).quickcheck(directional_derivatives_agree as fn(Scalar1) -> TestResult);
    summary(3, "directional derivatives");
}

/// Replaying a program recorded at `x` at other points: where it returns a
/// result, that result equals a fresh recording's at that point bit for bit
/// (up to the sign of a zero); at `x` itself it always returns one; its
/// Hessian equals forward over reverse's.
fn replay_agrees(c: Multi) -> TestResult {
    count(4, replay_agrees_inner(c))
}

fn replay_agrees_inner(c: Multi) -> Option<TestResult> {
    let Case { program, x } = &c.0;
    let f = |v: &[dualtape::Var]| program.run(v, None);
    let mut recorded = reverse::record_vector(f, x);
    // the generator reads values for its branch signature, which the
    // program sees as escaped values: they never reach the result
    recorded.accept_value_escape();
    let n = x.len();
    // the recording point, a nearby point and a far one
    let near: Vec<f64> = x
        .iter()
        .enumerate()
        .map(|(i, v)| v + 1e-3 * (i as f64 + 1.0))
        .collect();
    let far: Vec<f64> = x.iter().map(|v| 0.5 - v * 0.75).collect();
    let mut replayed = 0;
    for (k, y) in [x.clone(), near, far].iter().enumerate() {
        let fresh = reverse::jacobian(f, y);
        match recorded.jacobian(y) {
            Ok(replay) => {
                replayed += 1;
                let ok = replay.0.iter().zip(&fresh.0).all(|(&a, &b)| equal(a, b))
                    && replay
                        .1
                        .iter()
                        .zip(fresh.1.iter())
                        .all(|(&a, &b)| equal(a, b));
                if !ok {
                    return Some(TestResult::error(format!(
                        "at point {k} {y:?}: replay {replay:?} but a fresh recording {fresh:?}"
                    )));
                }
            }
            Err(e) if k == 0 => {
                return Some(TestResult::error(format!(
                    "replay at the recording point: {e}"
                )))
            }
            Err(_) => {}
        }
    }
    // second order: replay on DualVec against forward over reverse
    if program.outputs.len() == 1 {
        let (_, _, h) = recorded.hessian(x).ok()?;
        let (_, _, want) = reverse::hessian(|v| program.eval(v), x);
        if h.iter()
            .chain(want.iter())
            .any(|v| !v.is_finite() || v.abs() >= 1e6)
        {
            return None;
        }
        let tol = config().exact;
        for (a, b) in h.iter().zip(want.iter()) {
            if (a - b).abs() > tol.bound(*a, *b, 0.0) {
                return Some(TestResult::error(format!(
                    "Hessian by replay {h} but forward over reverse {want}"
                )));
            }
        }
        let v: Vec<f64> = (0..n).map(|i| 1.0 - 0.3 * i as f64).collect();
        let (_, hv) = recorded.hvp(x, &v).ok()?;
        let want = &want * nalgebra::DVector::from_vec(v);
        for (a, b) in hv.iter().zip(want.iter()) {
            if (a - b).abs() > tol.bound(*a, *b, 0.0) {
                return Some(TestResult::error(format!(
                    "HVP by replay {hv:?} but {want}"
                )));
            }
        }
    }
    let _ = replayed;
    Some(TestResult::passed())
}

#[test]
fn random_programs_replay_like_a_fresh_recording() {
    quickcheck(tests() / 4).quickcheck(replay_agrees as fn(Multi) -> TestResult);
    summary(4, "replays");
}

/// Points at which the compiled gradient ran, and at which it returned a
/// result (compiled or, after a NaN, by the interpreter), over all programs.
#[cfg(all(feature = "jit", not(miri)))]
static GRADIENT_RUNS: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// The compiled gradient (feature `jit`) of a program recorded at `x`, at
/// `x`, a nearby point, a far one and points with awkward entries: where the
/// interpreter returns a result, the compiled gradient returns it too, bit
/// for bit (up to NaN payloads), whether its code ran or, after a NaN, the
/// interpreter replayed, and it is a fresh recording's (up to the sign of a
/// zero, as `replay_agrees`); where the interpreter returns an error, the
/// same error, and nothing written.
#[cfg(all(feature = "jit", not(miri)))]
fn compiled_agrees(c: Scalar1) -> TestResult {
    use crate::support::compare::identical;
    use dualtape::reverse::program::Jit;
    let Case { program, x } = &c.0;
    let f = |v: &[dualtape::Var]| program.eval(v);
    let mut interp = reverse::record(f, x);
    interp.accept_value_escape().set_jit(Jit::Off);
    let mut jit = interp.clone();
    jit.set_jit(Jit::Now);
    let n = x.len();
    let awkward = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e300,
        -1e-300,
    ];
    let mut points = vec![
        x.clone(),
        x.iter()
            .enumerate()
            .map(|(i, v)| v + 1e-3 * (i as f64 + 1.0))
            .collect(),
        x.iter().map(|v| 0.5 - v * 0.75).collect(),
    ];
    for (k, a) in awkward.iter().enumerate() {
        let mut y = x.clone();
        y[k % n] = *a;
        points.push(y);
    }
    let (mut wi, mut wj) = (interp.workspace(), jit.workspace());
    let (mut ran, mut results) = (0u64, 0u64);
    for y in &points {
        let (mut gi, mut gj) = (vec![7.0; n], vec![7.0; n]);
        let before = wj.jit_runs();
        let ri = interp.gradient_into(&mut wi, y, &mut gi);
        let rj = jit.gradient_into(&mut wj, y, &mut gj);
        ran += wj.jit_runs() - before;
        match (ri, rj) {
            (Ok(vi), Ok(vj)) => {
                results += 1;
                let fresh = reverse::gradient(f, y);
                let exact = identical(vi, vj) && gi.iter().zip(&gj).all(|(a, b)| identical(*a, *b));
                let fresh_ok =
                    equal(vj, fresh.0) && gj.iter().zip(&fresh.1).all(|(a, b)| equal(*a, *b));
                if !exact || !fresh_ok {
                    return TestResult::error(format!(
                        "at {y:?}: compiled ({vj}, {gj:?}), interpreted ({vi}, {gi:?}), fresh {fresh:?}"
                    ));
                }
            }
            (Err(ei), Err(ej))
                if format!("{ei:?}") == format!("{ej:?}") && gj.iter().all(|&a| a == 7.0) => {}
            (ri, rj) => {
                return TestResult::error(format!(
                    "at {y:?}: compiled {rj:?} ({gj:?}) but interpreted {ri:?} ({gi:?})"
                ))
            }
        }
    }
    if wi.jit_runs() != 0 || !jit.jit_compiled() || ran > results {
        return TestResult::error(format!(
            "{ran} compiled runs of {results} results, {} interpreted ones compiled",
            wi.jit_runs()
        ));
    }
    GRADIENT_RUNS[0].fetch_add(ran, Ordering::Relaxed);
    GRADIENT_RUNS[1].fetch_add(results, Ordering::Relaxed);
    count(5, Some(TestResult::passed()))
}

#[cfg(all(feature = "jit", not(miri)))]
#[test]
fn random_programs_compiled_gradient_is_the_interpreters() {
    quickcheck(tests() / 4).quickcheck(compiled_agrees as fn(Scalar1) -> TestResult);
    summary(5, "compiled gradients");
    let (ran, results) = (
        GRADIENT_RUNS[0].load(Ordering::Relaxed),
        GRADIENT_RUNS[1].load(Ordering::Relaxed),
    );
    eprintln!("compiled gradients: {ran} of {results} results by compiled code");
    // the NaN checks let most ordinary points through (the awkward ones,
    // about half of the points, mostly replay)
    assert!(
        ran * 4 > results,
        "only {ran} of {results} gradients ran compiled"
    );
}

/// Points at which the compiled HVP ran, and at which it returned a result
/// (compiled or, after a NaN, by the interpreter), over all programs.
#[cfg(all(feature = "jit", not(miri)))]
static HVP_RUNS: [AtomicU64; 2] = [const { AtomicU64::new(0) }; 2];

/// The compiled Hessian-vector product (feature `jit`) of a program
/// recorded at `x`, at the points of `compiled_agrees`, along an ordinary
/// direction and one with an awkward entry: where the interpreter returns
/// a result, the compiled HVP returns it too, bit for bit (value, gradient,
/// product; up to NaN payloads), whether its code ran or, after a NaN, the
/// interpreter replayed; where the interpreter returns an error, the same
/// error, and nothing written.
#[cfg(all(feature = "jit", not(miri)))]
fn compiled_hvp_agrees(c: Scalar1) -> TestResult {
    use crate::support::compare::identical;
    use dualtape::reverse::program::Jit;
    let Case { program, x } = &c.0;
    let f = |v: &[dualtape::Var]| program.eval(v);
    let mut interp = reverse::record(f, x);
    interp.accept_value_escape().set_jit(Jit::Off);
    let mut jit = interp.clone();
    jit.set_jit(Jit::Now);
    let n = x.len();
    let awkward = [
        0.0,
        -0.0,
        f64::INFINITY,
        f64::NEG_INFINITY,
        f64::NAN,
        1e300,
        -1e-300,
    ];
    let mut points = vec![
        x.clone(),
        x.iter()
            .enumerate()
            .map(|(i, v)| v + 1e-3 * (i as f64 + 1.0))
            .collect(),
        x.iter().map(|v| 0.5 - v * 0.75).collect(),
    ];
    for (k, a) in awkward.iter().enumerate() {
        let mut y = x.clone();
        y[k % n] = *a;
        points.push(y);
    }
    let plain: Vec<f64> = (0..n).map(|i| 1.0 - 0.3 * i as f64).collect();
    let mut wi: reverse::Workspace<dualtape::Dual<f64>> = Default::default();
    let mut wj: reverse::Workspace<dualtape::Dual<f64>> = Default::default();
    let (mut ran, mut results) = (0u64, 0u64);
    for (k, y) in points.iter().enumerate() {
        let mut odd = plain.clone();
        odd[(k + 1) % n] = awkward[k % awkward.len()];
        for v in [&plain, &odd] {
            let (mut gi, mut hi) = (vec![7.0; n], vec![7.0; n]);
            let (mut gj, mut hj) = (vec![7.0; n], vec![7.0; n]);
            let before = wj.jit_runs();
            let ri = interp.hvp_into(&mut wi, y, v, &mut gi, &mut hi);
            let rj = jit.hvp_into(&mut wj, y, v, &mut gj, &mut hj);
            ran += wj.jit_runs() - before;
            let same = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(a, b)| identical(*a, *b));
            match (ri, rj) {
                (Ok(vi), Ok(vj)) if identical(vi, vj) && same(&gi, &gj) && same(&hi, &hj) => {
                    results += 1
                }
                (Err(ei), Err(ej))
                    if format!("{ei:?}") == format!("{ej:?}")
                        && gj.iter().chain(&hj).all(|&a| a == 7.0) => {}
                (ri, rj) => {
                    return TestResult::error(format!(
                        "at {y:?} along {v:?}: compiled {rj:?} ({gj:?}, {hj:?}) but \
                         interpreted {ri:?} ({gi:?}, {hi:?})"
                    ))
                }
            }
        }
    }
    if wi.jit_runs() != 0 || !jit.jit_hvp_compiled() || ran > results {
        return TestResult::error(format!(
            "{ran} compiled runs of {results} results, {} interpreted ones compiled",
            wi.jit_runs()
        ));
    }
    HVP_RUNS[0].fetch_add(ran, Ordering::Relaxed);
    HVP_RUNS[1].fetch_add(results, Ordering::Relaxed);
    count(6, Some(TestResult::passed()))
}

#[cfg(all(feature = "jit", not(miri)))]
#[test]
fn random_programs_compiled_hvp_is_the_interpreters() {
    quickcheck(tests() / 4).quickcheck(compiled_hvp_agrees as fn(Scalar1) -> TestResult);
    summary(6, "compiled HVPs");
    let (ran, results) = (
        HVP_RUNS[0].load(Ordering::Relaxed),
        HVP_RUNS[1].load(Ordering::Relaxed),
    );
    eprintln!("compiled HVPs: {ran} of {results} results by compiled code");
    // the NaN checks let most ordinary points through (the awkward ones,
    // about half of the points, mostly replay)
    assert!(
        ran * 4 > results,
        "only {ran} of {results} HVPs ran compiled"
    );
}

// ------------------------------------------------------------------ the generator itself

#[test]
fn the_generator_covers_every_function_and_shares_subexpressions() {
    let mut g = Gen::new(100);
    let mut unary = vec![false; UNARY.len()];
    let mut binary = vec![false; BINARY.len()];
    let mut shared = 0;
    let mut usable = 0;
    for _ in 0..2000 {
        let c = random_case(&mut g, 1);
        let p = &c.program;
        let mut uses = vec![0usize; p.n + p.ops.len()];
        for op in &p.ops {
            match op {
                Op::Unary(f, _) => unary[UNARY.iter().position(|u| u == f).unwrap()] = true,
                Op::Binary(f, _, _) => binary[BINARY.iter().position(|b| b == f).unwrap()] = true,
                _ => {}
            }
            for a in op.args() {
                uses[a] += 1;
            }
        }
        if uses.iter().any(|&u| u > 1) {
            shared += 1;
        }
        if fd_usable(p, &c.x) {
            usable += 1;
        }
    }
    assert!(
        unary.iter().all(|&b| b),
        "unused unary functions: {unary:?}"
    );
    assert!(
        binary.iter().all(|&b| b),
        "unused binary functions: {binary:?}"
    );
    assert!(
        shared > 1000,
        "only {shared} of 2000 programs share a subexpression"
    );
    assert!(usable > 1000, "only {usable} of 2000 programs are usable");
}

#[test]
fn shrinking_keeps_programs_valid() {
    let mut g = Gen::new(100);
    for _ in 0..200 {
        let c = random_case(&mut g, 3);
        for s in shrink_case(&c).take(50) {
            let p = &s.program;
            for (k, op) in p.ops.iter().enumerate() {
                assert!(op.args().iter().all(|&a| a < p.n + k), "{p:?}");
            }
            assert!(p.outputs.iter().all(|&o| o < p.n + p.ops.len()));
            let _ = p.run(&s.x, None);
        }
    }
}
