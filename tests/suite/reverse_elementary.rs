//! Reverse mode on every elementary function and on random compositions of
//! them: reverse equals forward to 1e-12 relative, and both equal the
//! hand-derived derivative and central differences.

use crate::support::reverse as common_rev;

use crate::support::compare::{check_close, close, equal};
use common_rev::{central_diff, step, uniform, uniform_in};
use dualtape::{forward, reverse, DualVec};
use quickcheck::{Arbitrary, Gen, TestResult};

use crate::support::binary::{Binary as B, BINARY};
use crate::support::elementary::{Num, Unary as U, ELEMENTARY, WITH_CONSTANT};
use crate::support::seeded;

// ------------------------------------------------------------------ unary table

/// The table's functions, its operators with a constant, and two more
/// integer powers.
fn unary() -> Vec<U> {
    let mut all = ELEMENTARY.to_vec();
    all.extend_from_slice(WITH_CONSTANT);
    all.extend([U::Powi(-3), U::Powi(7)]);
    all
}

// ------------------------------------------------------------------ binary table

/// A random point of `op`'s domain, clear of its kinks.
fn sample(op: B, g: &mut Gen) -> (f64, f64) {
    let [da, db] = op.domain();
    loop {
        let (x, y) = (uniform_in(g, da), uniform_in(g, db));
        if op.clear_of_kinks(x, y) {
            return (x, y);
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
const FD_REL: f64 = 1e-9;

/// The absolute rounding noise of a five-point central difference of a
/// function of size `fx` with step `h`: 1.5 ε |f| / h, times 10 for the few
/// roundings inside each evaluation.
fn fd_noise(fx: f64, h: f64) -> f64 {
    15.0 * f64::EPSILON * fx.abs().max(1.0) / h
}

/// The value in a differentiable mode against plain `f64`: every elementary
/// function computes it with the `f64` function itself, so bit for bit
/// (`mul_add` is the exception, checked on its own).
fn check_value(what: &str, got: f64, want: f64) -> Result<(), String> {
    if equal(got, want) {
        Ok(())
    } else {
        Err(format!("{what}: value {got:e}, plain f64 gives {want:e}"))
    }
}

/// Reverse and forward mode compute the value with the same code: exactly
/// equal.
fn check_same_value(rv: f64, fv: f64) -> Result<(), String> {
    if equal(rv, fv) {
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
    let h = step(x);
    let cd = central_diff(|t| op.apply(t), x, h);
    check_partial(&format!("{ctx}:"), rg[0], fd, op.d1(x), cd, fd_noise(fx, h))
}

/// One partial derivative in reverse and in forward mode, against each
/// other, the hand-derived value `exact` and the central difference `cd`
/// (whose rounding is `noise`).
fn check_partial(
    what: &str,
    rev: f64,
    fwd: f64,
    exact: f64,
    cd: f64,
    noise: f64,
) -> Result<(), String> {
    check_close(
        &format!("{what} reverse vs forward"),
        rev,
        fwd,
        REV_FWD,
        0.0,
    )?;
    check_close(
        &format!("{what} reverse vs hand-derived"),
        rev,
        exact,
        EXACT,
        0.0,
    )?;
    check_close(
        &format!("{what} reverse vs central difference"),
        rev,
        cd,
        FD_REL,
        noise,
    )?;
    check_close(
        &format!("{what} forward vs central difference"),
        fwd,
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
    let (ex, ey) = op.partials(x, y);
    let noise = fd_noise(fxy, step(x).min(step(y)));
    let cdx = central_diff(|t| op.apply(t, y), x, step(x));
    let cdy = central_diff(|t| op.apply(x, t), y, step(y));
    for (i, (e, cd)) in [(ex, cdx), (ey, cdy)].into_iter().enumerate() {
        let d = ["∂/∂x", "∂/∂y"][i];
        check_partial(&format!("{ctx}: {d}"), rg[i], fg[i], e, cd, noise)?;
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
        let noise = fd_noise(f(&x), step(x[i]));
        check_partial(&format!("{ctx}: ∂{i}"), rg[i], fg[i], exact[i], cd, noise)?;
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
    for op in unary() {
        for (lo, hi) in op.domain() {
            for k in 0..=8 {
                ok(check_unary(op, lo + (hi - lo) * k as f64 / 8.0));
            }
        }
    }
}

/// Forty random smooth points of each binary function (the quickcheck
/// property below picks the function at random; this covers every one).
#[test]
fn every_binary_function_at_forty_points() {
    let mut g = Gen::new(10);
    for &op in BINARY {
        for _ in 0..40 {
            let (x, y) = sample(op, &mut g);
            ok(check_binary(op, x, y));
        }
    }
}

#[derive(Clone, Debug)]
struct UnaryCase(U, f64);

impl Arbitrary for UnaryCase {
    fn arbitrary(g: &mut Gen) -> Self {
        let op = *g.choose(&unary()).unwrap();
        let x = uniform_in(g, &op.domain());
        UnaryCase(op, x)
    }
}

#[derive(Clone, Debug)]
struct BinaryCase(B, f64, f64);

impl Arbitrary for BinaryCase {
    fn arbitrary(g: &mut Gen) -> Self {
        let op = *g.choose(BINARY).unwrap();
        let (x, y) = sample(op, g);
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
    seeded()
        .tests(2000)
        .quickcheck(prop as fn(UnaryCase) -> TestResult);
}

#[test]
fn random_binary_points() {
    fn prop(c: BinaryCase) -> TestResult {
        result(check_binary(c.0, c.1, c.2))
    }
    seeded()
        .tests(1000)
        .quickcheck(prop as fn(BinaryCase) -> TestResult);
}

#[test]
fn random_mul_add_points() {
    fn prop(a: Small, b: Small, c: Small) -> TestResult {
        result(check_mul_add(a.0, b.0, c.0))
    }
    seeded()
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

fn bx(e: Expr) -> Box<Expr> {
    Box::new(e)
}

/// `a·a + c`: maps any real into `[c, ∞)`.
fn square_plus(a: Expr, c: f64) -> Expr {
    Expr::Binary(B::Add, bx(Expr::Shared(B::Mul, bx(a))), bx(Expr::Const(c)))
}

/// `a·c`.
fn scaled(a: Expr, c: f64) -> Expr {
    Expr::Binary(B::Mul, bx(a), bx(Expr::Const(c)))
}

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
        let sub = |g: &mut Gen| Expr::gen(g, depth - 1);
        match r {
            20..=54 => guarded_unary(*g.choose(&unary()).unwrap(), sub(g)),
            55..=84 => {
                let op = *g.choose(BINARY).unwrap();
                let (a, b) = (sub(g), sub(g));
                guarded_binary(op, a, b)
            }
            85..=94 => Expr::Shared(*g.choose(BINARY).unwrap(), bx(sub(g))),
            _ => Expr::MulAdd(bx(sub(g)), bx(sub(g)), bx(sub(g))),
        }
    }

    fn eval<S: Num>(&self, x: &[S]) -> S {
        match self {
            Expr::Input(i) => x[*i],
            Expr::Const(c) => S::constant(*c),
            Expr::Unary(op, a) => op.apply(a.eval(x)),
            Expr::Binary(op, a, b) => op.apply(a.eval(x), b.eval(x)),
            Expr::Shared(op, a) => {
                let v = a.eval(x);
                op.apply(v, v)
            }
            Expr::MulAdd(a, b, c) => a.eval(x).mul_add(b.eval(x), c.eval(x)),
        }
    }

    /// The value and, per input, the sum over all paths from the input to
    /// the output of |product of partials along the path|, with the
    /// hand-derived partials. It bounds |∂f/∂x_i| and is the scale rounding
    /// errors of either mode are relative to when paths cancel.
    fn path_sum(&self, x: &[f64]) -> (f64, [f64; 3]) {
        let comb = |pa: f64, a: [f64; 3], pb: f64, b: [f64; 3]| {
            [0, 1, 2].map(|i| pa.abs() * a[i] + pb.abs() * b[i])
        };
        match self {
            Expr::Input(i) => {
                let mut e = [0.0; 3];
                e[*i] = 1.0;
                (x[*i], e)
            }
            Expr::Const(c) => (*c, [0.0; 3]),
            Expr::Unary(op, a) => {
                let (v, s) = a.path_sum(x);
                (op.apply(v), comb(op.d1(v), s, 0.0, s))
            }
            Expr::Binary(op, a, b) => {
                let ((va, sa), (vb, sb)) = (a.path_sum(x), b.path_sum(x));
                let (pa, pb) = op.partials(va, vb);
                (op.apply(va, vb), comb(pa, sa, pb, sb))
            }
            Expr::Shared(op, a) => {
                let (v, s) = a.path_sum(x);
                let (pa, pb) = op.partials(v, v);
                (op.apply(v, v), comb(pa, s, pb, s))
            }
            Expr::MulAdd(a, b, c) => {
                let ((va, sa), (vb, sb), (vc, sc)) = (a.path_sum(x), b.path_sum(x), c.path_sum(x));
                let ab = comb(vb, sa, va, sb);
                (va.mul_add(vb, vc), comb(1.0, ab, 1.0, sc))
            }
        }
    }

    /// The largest path sum of any subexpression: a bound on how fast any
    /// intermediate value changes with the inputs.
    fn max_slope(&self, x: &[f64]) -> f64 {
        let (_, s) = self.path_sum(x);
        self.children().into_iter().map(|c| c.max_slope(x)).fold(
            s[0].max(s[1]).max(s[2]),
            |m, v| {
                if v.is_nan() || m.is_nan() {
                    f64::NAN
                } else {
                    m.max(v)
                }
            },
        )
    }

    /// The largest magnitude of any subexpression's value at `x` (plain f64).
    fn max_intermediate(&self, x: &[f64]) -> f64 {
        self.children()
            .into_iter()
            .map(|c| c.max_intermediate(x))
            .fold(self.eval(x).abs(), |m, v| {
                if v.is_nan() || m.is_nan() {
                    f64::NAN
                } else {
                    m.max(v)
                }
            })
    }

    fn has_mul_add(&self) -> bool {
        matches!(self, Expr::MulAdd(..)) || self.children().iter().any(|c| c.has_mul_add())
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

/// A unary function applied to `a`, first mapped smoothly into the
/// function's domain (through more elementary functions, as part of the
/// program) where the domain is restricted.
fn guarded_unary(op: U, a: Expr) -> Expr {
    let arg = match op {
        U::Ln | U::Log2 | U::Log10 | U::LogBase3 | U::Sqrt | U::PowfConst => square_plus(a, 0.25),
        U::Asin | U::Acos | U::Atanh => scaled(Expr::Unary(U::Tanh, bx(a)), 0.9),
        U::Tan => Expr::Unary(U::Tanh, bx(a)),
        U::Acosh => square_plus(a, 1.1),
        U::Ln1p => Expr::Shared(B::Mul, bx(a)),
        // 5 % x with a tiny x is a sawtooth finer than any finite-difference
        // step: keep the divisor at least 0.5.
        U::CRem => square_plus(a, 0.5),
        _ => a,
    };
    Expr::Unary(op, bx(arg))
}

fn guarded_binary(op: B, a: Expr, b: Expr) -> Expr {
    let (a, b) = match op {
        B::Powf => (
            square_plus(a, 0.25),
            scaled(Expr::Unary(U::Sin, bx(b)), 2.0),
        ),
        B::Log => (square_plus(a, 0.25), square_plus(b, 1.5)),
        B::Rem => (a, square_plus(b, 0.5)),
        _ => (a, b),
    };
    Expr::Binary(op, bx(a), bx(b))
}

#[derive(Clone, Debug)]
struct Program {
    expr: Expr,
    x: [f64; 3],
}

impl Arbitrary for Program {
    fn arbitrary(g: &mut Gen) -> Self {
        let expr = Expr::gen(g, 5);
        loop {
            let x = [0, 1, 2].map(|_| uniform(g, -2.0, 2.0));
            // Equal inputs would put min/max at exact ties, where the
            // symmetric convention does not compose (min(max(a, b), a) = a,
            // but at a = b the convention gives slope 3/4).
            if x[0] != x[1] && x[1] != x[2] && x[0] != x[2] {
                return Program { expr, x };
            }
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

fn shifted(x: &[f64], i: usize, h: f64) -> Vec<f64> {
    let mut p = x.to_vec();
    p[i] += h;
    p
}

fn check_program(p: &Program) -> TestResult {
    let x = &p.x;
    let f = |v: &[f64]| p.expr.eval(v);
    let fx = f(x);
    // Overflowing or huge intermediate values make finite differences
    // meaningless (x % 2 of 1e17 is constant in f64 but has slope 1).
    let big = p.expr.max_intermediate(x);
    if big.is_nan() || big > 1e4 {
        return TestResult::discard();
    }
    let (rv, rg) = reverse::gradient(|v| p.expr.eval(v), x);
    let (fv, fg) = forward::gradient(|v: &[DualVec<f64, 3>]| p.expr.eval(v), x);
    if let Err(e) = check_same_value(rv, fv) {
        return TestResult::error(e);
    }
    let (_, paths) = p.expr.path_sum(x);
    let slope = p.expr.max_slope(x);
    if rg.iter().chain(&fg).chain(&paths).any(|g| !g.is_finite()) || !slope.is_finite() {
        // An infinite slope (finite values, so x sits exactly on a
        // singularity): finite differences say nothing there, and forward
        // and reverse may legitimately differ (rule 3 blocks an infinity
        // where a tangent, or an adjoint, is exactly 0, and paths can cancel
        // to an exact 0 in one mode only).
        return TestResult::discard();
    }
    for i in 0..3 {
        // 1e-12 relative to the sum of |path contributions| (= |∂f/∂x_i|
        // unless paths cancel: recip(x)·x sums -1/x·x and 1/x, to 0 in one
        // order and to 1e-16 in the other).
        let what = format!("∂{i} reverse vs forward (path sum {:e})", paths[i]);
        let tiny = 1e-300; // subnormal partials carry fewer digits
        if let Err(e) = check_close(&what, rg[i], fg[i], 0.0, REV_FWD * paths[i] + tiny) {
            return TestResult::error(e);
        }
    }
    if slope > 1e3 {
        // Some intermediate moves by more than 0.1 within a step of 1e-4: a
        // floor of it is a staircase that finite differences see as a slope.
        return TestResult::discard();
    }
    for (i, &gi) in rg.iter().enumerate() {
        // Three step sizes agreeing says the function is smooth around x (no
        // kink, jump or staircase within 2h) and the difference is accurate;
        // one-sided differences agreeing rules out a kink at x itself, where
        // symmetric stencils all agree on the average slope.
        let h = 1e-4;
        let d: Vec<f64> = [h, h / 2.0, h / 7.0]
            .iter()
            .map(|&s| common_rev::central_partial(&f, x, i, s))
            .collect();
        // rounding noise scales with the largest intermediate, not with f
        let noise = 10.0 * fd_noise(big, h / 7.0);
        let fwd = (f(&shifted(x, i, h)) - fx) / h;
        let bwd = (fx - f(&shifted(x, i, -h))) / h;
        if !close(d[0], d[1], 1e-6, noise)
            || !close(d[0], d[2], 1e-6, noise)
            || !close(fwd, bwd, 1e-2, 1e-2)
        {
            return TestResult::discard();
        }
        let what = format!("∂{i} reverse vs central difference");
        if let Err(e) = check_close(&what, gi, d[1], 1e-6, noise) {
            return TestResult::error(e);
        }
        let what = format!("∂{i} forward vs central difference");
        if let Err(e) = check_close(&what, fg[i], d[1], 1e-6, noise) {
            return TestResult::error(e);
        }
    }
    // Every elementary function computes its value with the f64 function
    // itself, so the value is plain f64's bit for bit, except that mul_add
    // rounds twice (a·b + c) where f64::mul_add rounds once: then allow for
    // that rounding amplified by the rest of the program.
    let (rel, abs) = if p.expr.has_mul_add() {
        (1e-9, 1e-15 * big)
    } else {
        (0.0, 0.0)
    };
    if let Err(e) = check_close("reverse value vs plain f64", rv, fx, rel, abs) {
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
    seeded()
        .tests(1500)
        .max_tests(6000)
        .min_tests_passed(1000)
        .quickcheck(prop as fn(Program) -> TestResult);
}

// ------------------------------------------------------------------ the num-traits surface

/// Written against `num_traits::Float` only, as num-traits generic code is.
fn float_generic<T: num_traits::Float>(x: T, y: T) -> T {
    let c = |v: f64| T::from(v).unwrap();
    x.sin() * y.exp()
        + x.powi(3)
        + x.powf(y)
        + x.mul_add(y, c(2.0))
        + x.hypot(y)
        + x.atan2(y)
        + x.to_degrees()
        + y.to_radians()
        + x.abs_sub(y)
        + x.max(y) * c(0.5)
        + (x * y).sqrt().ln()
        + x.recip()
}

/// The same by hand: (∂/∂x, ∂/∂y) at x > y > 0.
fn float_generic_closed(x: f64, y: f64) -> (f64, f64) {
    let r2 = x * x + y * y;
    let dx = x.cos() * y.exp()
        + 3.0 * x * x
        + y * x.powf(y - 1.0)
        + y
        + x / r2.sqrt()
        + y / r2
        + 180.0 / std::f64::consts::PI
        + 1.0 // abs_sub: x - y for x > y
        + 0.5 // max: x for x > y
        + 1.0 / (2.0 * x)
        - 1.0 / (x * x);
    let dy = x.sin() * y.exp() + x.powf(y) * x.ln() + x + y / r2.sqrt() - x / r2
        + std::f64::consts::PI / 180.0
        - 1.0
        + 1.0 / (2.0 * y);
    (dx, dy)
}

#[test]
fn num_traits_float_methods_give_the_same_gradients() {
    for (x, y) in [(1.5, 0.5), (2.0, 1.2), (0.9, 0.3)] {
        let (v, g) = reverse::gradient(|v| float_generic(v[0], v[1]), &[x, y]);
        assert!(
            close(v, float_generic(x, y), 1e-14, 0.0),
            "value {v} vs {}",
            float_generic(x, y)
        );
        let (dx, dy) = float_generic_closed(x, y);
        ok(check_close(
            "∂x via num_traits::Float",
            g[0],
            dx,
            1e-13,
            0.0,
        ));
        ok(check_close(
            "∂y via num_traits::Float",
            g[1],
            dy,
            1e-13,
            0.0,
        ));
    }
}
