//! Sparse Jacobians and Hessians, dualtape against echidna 0.15 (issue 13).
//!
//! Workloads (Bratu problems, u = 0 on the boundary, h = 1/(k+1)):
//!
//! - `tridiagonal` residual `r_i = 2u_i − u_{i−1} − u_{i+1} − h² e^{u_i}` (Jacobian)
//!   and the energy whose gradient it is (Hessian), n = 10³ and 10⁴;
//! - `laplacian-2d`: the 5-point residual `4u_p − Σ neighbours − h² e^{u_p}` on
//!   a k × k grid (Jacobian) and `Σ_edges (u_p − u_q)²/2 − h² Σ e^{u_p}`
//!   (Hessian), k = 32 (n = 1024) and k = 100 (n = 10⁴).
//!
//! Each function is written once per crate (dualtape's `Scalar`, echidna's
//! `Scalar`). First every sparse result is checked: dualtape's entries
//! against echidna's and against closed forms. Then, in interleaved rounds
//! (one call of each method per round, median of the rounds, the thread's
//! CPU time):
//!
//! - dualtape `plan` — a `JacobianPlan`/`HessianPlan` made once, evaluated on
//!   the model (Jacobian: forward `DualVec` passes over the model; Hessian:
//!   the model recorded as a `Program` at each point, then replayed forward
//!   over reverse on `DualVec`, up to 8 colours per pass, `values_with` and a
//!   `sparse::Workspace` kept between calls);
//! - dualtape `plan, replay` — the same plan replaying a `Program` recorded
//!   once (`values_program_with`, a workspace kept between calls: the
//!   counterpart of echidna's `with pattern`, which replays a tape it holds);
//! - dualtape `one-shot` — `sparse::jacobian` / `sparse::hessian`: record,
//!   detect, colour, evaluate;
//! - echidna `with pattern` — `sparse_jacobian_with_pattern` /
//!   `sparse_hessian_with_pattern` on a tape recorded once, pattern and
//!   colouring computed once;
//! - echidna `one-shot` — `echidna::sparse_jacobian` / `sparse_hessian`;
//! - dualtape `dense` — `forward::jacobian` / `reverse::hessian`, at n ≈ 10³.
//!
//! ```sh
//! cargo run --release -p dualtape-compare --example sparse            # ~2 minutes
//! cargo run --release -p dualtape-compare --example sparse -- --quick
//! ```
//!
//! Writes the table to stdout and to `compare/sparse-results.md`.

use std::fmt::Write as _;
use std::hint::black_box;

use dualtape::sparse::{self, HessianPlan, JacobianPlan, Side};
use dualtape::{Differentiable, Scalar, VectorFunction};
use echidna::{BReverse, Scalar as EScalar};

// ------------------------------------------------------------ workloads

#[derive(Clone, Copy)]
enum Shape {
    /// n points on a line.
    Line(usize),
    /// k × k grid.
    Grid(usize),
}

impl Shape {
    fn n(self) -> usize {
        match self {
            Shape::Line(n) => n,
            Shape::Grid(k) => k * k,
        }
    }
    fn h2(self) -> f64 {
        let m = match self {
            Shape::Line(n) => n,
            Shape::Grid(k) => k,
        };
        let h = 1.0 / (m + 1) as f64;
        h * h
    }
    fn name(self) -> &'static str {
        match self {
            Shape::Line(_) => "tridiagonal",
            Shape::Grid(_) => "laplacian-2d",
        }
    }
    /// The neighbours of point p (inside the domain).
    fn neighbours(self, p: usize) -> Vec<usize> {
        match self {
            Shape::Line(n) => [p.wrapping_sub(1), p + 1]
                .into_iter()
                .filter(|&q| q < n)
                .collect(),
            Shape::Grid(k) => {
                let (i, j) = (p / k, p % k);
                let mut v = Vec::new();
                if i > 0 {
                    v.push(p - k);
                }
                if i + 1 < k {
                    v.push(p + k);
                }
                if j > 0 {
                    v.push(p - 1);
                }
                if j + 1 < k {
                    v.push(p + 1);
                }
                v
            }
        }
    }
    /// The diagonal of the discrete Laplacian: 2 on a line, 4 on a grid.
    fn degree(self) -> f64 {
        match self {
            Shape::Line(_) => 2.0,
            Shape::Grid(_) => 4.0,
        }
    }
}

/// The residual (a vector function) and the energy (a scalar function).
struct Bratu(Shape);

impl Bratu {
    fn residual<T: Copy>(
        &self,
        u: &[T],
        lin: impl Fn(T, f64) -> T,
        sub: impl Fn(T, T) -> T,
        exp_h2: impl Fn(T) -> T,
    ) -> Vec<T> {
        let s = self.0;
        (0..s.n())
            .map(|p| {
                let mut r = sub(lin(u[p], s.degree()), exp_h2(u[p]));
                for q in s.neighbours(p) {
                    r = sub(r, u[q]);
                }
                r
            })
            .collect()
    }
}

impl VectorFunction for Bratu {
    fn dim(&self) -> usize {
        self.0.n()
    }
    fn outputs(&self) -> usize {
        self.0.n()
    }
    fn eval<S: Scalar<Real = f64>>(&self, u: &[S]) -> Vec<S> {
        let h2 = self.0.h2();
        self.residual(u, |a, c| a * c, |a, b| a - b, |a| a.exp() * h2)
    }
}

impl Differentiable for Bratu {
    fn dim(&self) -> usize {
        self.0.n()
    }
    fn eval<S: Scalar<Real = f64>>(&self, u: &[S]) -> S {
        energy(self.0, u, S::constant(0.0), |a, c| a * c, |a| a.exp())
    }
}

/// `Σ_edges (u_p − u_q)²/2 − h² Σ e^{u_p}`, the boundary edges (to u = 0)
/// included: its gradient is the residual.
fn energy<
    T: Copy + std::ops::Add<Output = T> + std::ops::Sub<Output = T> + std::ops::Mul<Output = T>,
>(
    s: Shape,
    u: &[T],
    zero: T,
    scale: impl Fn(T, f64) -> T,
    exp: impl Fn(T) -> T,
) -> T {
    let h2 = s.h2();
    let mut e = zero;
    for p in 0..s.n() {
        e = e - scale(exp(u[p]), h2);
        let nb = s.neighbours(p);
        // each inner edge once (to the larger neighbour), boundary edges once per missing neighbour
        for &q in nb.iter().filter(|&&q| q > p) {
            let d = u[p] - u[q];
            e = e + scale(d * d, 0.5);
        }
        let missing = s.degree() as usize - nb.len();
        for _ in 0..missing {
            e = e + scale(u[p] * u[p], 0.5);
        }
    }
    e
}

fn echidna_residual<T: EScalar<Float = f64>>(s: Shape, u: &[T]) -> Vec<T> {
    let h2 = T::from_f(s.h2());
    Bratu(s).residual(u, |a, c| a * T::from_f(c), |a, b| a - b, |a| a.exp() * h2)
}

fn echidna_energy<T: EScalar<Float = f64>>(s: Shape, u: &[T]) -> T {
    energy(s, u, T::zero(), |a, c| a * T::from_f(c), |a| a.exp())
}

// ------------------------------------------------------------ timing

/// The calling thread's CPU time in seconds.
fn cpu_time() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime writes one timespec through a valid pointer.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9
}

/// One timed method: a label and a closure doing one call.
struct Method<'a> {
    label: &'static str,
    run: Box<dyn FnMut() + 'a>,
    samples: Vec<f64>,
}

impl<'a> Method<'a> {
    fn new(label: &'static str, run: impl FnMut() + 'a) -> Self {
        Method {
            label,
            run: Box::new(run),
            samples: Vec::new(),
        }
    }
}

/// Interleaved rounds: each round calls every method `reps` times (reps
/// chosen so a sample takes ~`target` seconds), keeps the per-call time.
fn measure(methods: &mut [Method], rounds: usize, target: f64) -> Vec<f64> {
    let reps: Vec<usize> = methods
        .iter_mut()
        .map(|m| {
            let t = cpu_time();
            (m.run)();
            let once = (cpu_time() - t).max(1e-7);
            ((target / once).ceil() as usize).clamp(1, 10_000)
        })
        .collect();
    for _ in 0..rounds {
        for (m, &r) in methods.iter_mut().zip(&reps) {
            let t = cpu_time();
            for _ in 0..r {
                (m.run)();
            }
            m.samples.push((cpu_time() - t) / r as f64);
        }
    }
    methods
        .iter_mut()
        .map(|m| {
            m.samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
            m.samples[m.samples.len() / 2]
        })
        .collect()
}

fn fmt_time(t: f64) -> String {
    if t >= 1e-3 {
        format!("{:.2} ms", t * 1e3)
    } else {
        format!("{:.1} µs", t * 1e6)
    }
}

fn point(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.1 + 0.3 * ((i as f64) * 0.37).sin())
        .collect()
}

fn close(a: f64, b: f64) -> bool {
    (a - b).abs() <= 1e-11 * (1.0 + a.abs().max(b.abs()))
}

// ------------------------------------------------------------ cases

/// Checks a sparse result (the residual's Jacobian or the energy's Hessian:
/// the same matrix) entry by entry against the closed form (diagonal
/// degree − h² e^u, −1 off the diagonal) and against echidna's `(rows,
/// cols, values)`.
fn check_values(
    s: Shape,
    x: &[f64],
    p: &dualtape::sparse::Sparsity,
    values: &[f64],
    echidna: (&[u32], &[u32], &[f64]),
) {
    for (k, (i, j)) in p.entries().enumerate() {
        let want = if i == j {
            s.degree() - s.h2() * x[i].exp()
        } else {
            -1.0
        };
        assert!(close(values[k], want), "{} ({i}, {j})", s.name());
    }
    let (rows, cols, theirs) = echidna;
    for ((&i, &j), &theirs) in rows.iter().zip(cols).zip(theirs) {
        let (i, j) = (i as usize, j as usize);
        let ours = values[p.position(i, j).expect("same pattern")];
        assert!(close(ours, theirs), "echidna ({i}, {j})");
    }
}

struct Row {
    case: String,
    n: usize,
    nnz: usize,
    colours: String,
    passes: String,
    times: Vec<(&'static str, f64)>,
}

fn jacobian_case(s: Shape, rounds: usize, target: f64) -> Row {
    let f = Bratu(s);
    let n = s.n();
    let x = point(n);
    let plan = JacobianPlan::detect(&f, &x, Side::Auto);
    let program = dualtape::reverse::record_vector(|v| VectorFunction::eval(&f, v), &x);
    // Check: closed form, and echidna.
    let (_, values) = plan.values(&f, &x);
    let (mut tape, _) = echidna::record_multi(|u: &[BReverse<f64>]| echidna_residual(s, u), &x);
    let (_, epat, evals) = tape.sparse_jacobian(&x);
    assert_eq!(epat.nnz(), plan.sparsity().nnz());
    check_values(
        s,
        &x,
        plan.sparsity(),
        &values,
        (&epat.rows, &epat.cols, &evals),
    );
    let (ecolours, ecount) = echidna::sparse::column_coloring(&epat);
    let mut buf = vec![0.0; plan.sparsity().nnz()];
    let mut buf2 = vec![0.0; plan.sparsity().nnz()];
    let mut y = vec![0.0; n];
    let mut ws = sparse::Workspace::default();
    let mut methods = vec![
        Method::new("dualtape plan", || {
            black_box(plan.values_into(&f, black_box(&x), &mut buf));
        }),
        Method::new("dualtape plan, replay", || {
            plan.values_program_with(&mut ws, &program, black_box(&x), &mut buf2, &mut y)
                .unwrap();
            black_box((&buf2, &y));
        }),
        Method::new("dualtape one-shot", || {
            black_box(sparse::jacobian(&f, black_box(&x)));
        }),
        Method::new("echidna with pattern", || {
            black_box(tape.sparse_jacobian_with_pattern(&x, &epat, &ecolours, ecount, true));
        }),
        Method::new("echidna one-shot", || {
            black_box(echidna::sparse_jacobian(
                |u: &[BReverse<f64>]| echidna_residual(s, u),
                black_box(&x),
            ));
        }),
    ];
    if n <= 1024 {
        methods.push(Method::new("dualtape dense", || {
            black_box(dualtape::forward::jacobian(
                |v| VectorFunction::eval(&f, v),
                black_box(&x),
            ));
        }));
    }
    let t = measure(&mut methods, rounds, target);
    Row {
        case: format!("Jacobian, {} residual", s.name()),
        n,
        nnz: plan.sparsity().nnz(),
        colours: format!(
            "{} ({:?}); echidna {ecount}",
            plan.colouring().count(),
            plan.side()
        ),
        passes: format!("{}", plan.passes()),
        times: methods.iter().map(|m| m.label).zip(t).collect(),
    }
}

fn hessian_case(s: Shape, rounds: usize, target: f64) -> Row {
    let f = Bratu(s);
    let n = s.n();
    let x = point(n);
    let plan = HessianPlan::detect(&f, &x);
    let program = dualtape::reverse::record(|v| Differentiable::eval(&f, v), &x);
    // Check: the Hessian of the energy is the Jacobian of the residual.
    let mut values = vec![0.0; plan.sparsity().nnz()];
    let (_, grad) = plan.values_into(&f, &x, &mut values);
    let r = VectorFunction::eval(&f, &x);
    for i in 0..n {
        assert!(close(grad[i], r[i]), "gradient {i}");
    }
    let (tape, _) = echidna::record(|u: &[BReverse<f64>]| echidna_energy(s, u), &x);
    let (_, _, epat, evals) = tape.sparse_hessian(&x);
    check_values(
        s,
        &x,
        plan.sparsity(),
        &values,
        (&epat.rows, &epat.cols, &evals),
    );
    let (ecolours, ecount) = echidna::sparse::greedy_coloring(&epat);
    let mut buf = vec![0.0; plan.sparsity().nnz()];
    let mut buf2 = vec![0.0; plan.sparsity().nnz()];
    let (mut g, mut g2) = (vec![0.0; n], vec![0.0; n]);
    let (mut ws, mut ws2) = (sparse::Workspace::default(), sparse::Workspace::default());
    let mut methods = vec![
        Method::new("dualtape plan", || {
            black_box(plan.values_with(&mut ws, &f, black_box(&x), &mut buf, &mut g));
            black_box((&buf, &g));
        }),
        Method::new("dualtape plan, replay", || {
            let v = plan
                .values_program_with(&mut ws2, &program, black_box(&x), &mut buf2, &mut g2)
                .unwrap();
            black_box((v, &buf2, &g2));
        }),
        Method::new("dualtape one-shot", || {
            black_box(sparse::hessian(&f, black_box(&x)));
        }),
        Method::new("echidna with pattern", || {
            black_box(tape.sparse_hessian_with_pattern(&x, &epat, &ecolours, ecount));
        }),
        Method::new("echidna one-shot", || {
            black_box(echidna::sparse_hessian(
                |u: &[BReverse<f64>]| echidna_energy(s, u),
                black_box(&x),
            ));
        }),
    ];
    if n <= 1024 {
        methods.push(Method::new("dualtape dense", || {
            black_box(dualtape::reverse::hessian(
                |v| Differentiable::eval(&f, v),
                black_box(&x),
            ));
        }));
    }
    let t = measure(&mut methods, rounds, target);
    Row {
        case: format!("Hessian, {} energy", s.name()),
        n,
        nnz: plan.sparsity().nnz(),
        colours: format!(
            "{} (star); echidna {ecount} (distance-2)",
            plan.colouring().count()
        ),
        passes: format!("{}", plan.passes()),
        times: methods.iter().map(|m| m.label).zip(t).collect(),
    }
}

fn main() {
    let quick = std::env::args().any(|a| a == "--quick");
    let (rounds, target) = if quick { (5, 0.005) } else { (11, 0.02) };
    let load = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut rows = Vec::new();
    for s in [
        Shape::Line(1000),
        Shape::Line(10_000),
        Shape::Grid(32),
        Shape::Grid(100),
    ] {
        eprintln!("{} n = {} ...", s.name(), s.n());
        rows.push(jacobian_case(s, rounds, target));
        rows.push(hessian_case(s, rounds, target));
    }
    let load_end = std::fs::read_to_string("/proc/loadavg").unwrap_or_default();
    let mut out = String::new();
    writeln!(
        out,
        "# Sparse Jacobians and Hessians: dualtape and echidna 0.15\n\n\
         `cargo run --release -p dualtape-compare --example sparse{}` — medians of {rounds} \
         interleaved rounds, thread CPU time per call; load average {} at the start, {} at the end.\n\
         Every sparse result was checked against closed forms and against echidna's before timing.\n",
        if quick { " -- --quick" } else { "" },
        load.split_whitespace().next().unwrap_or("?"),
        load_end.split_whitespace().next().unwrap_or("?"),
    )
    .unwrap();
    writeln!(
        out,
        "| case | n | nnz | colours | passes | dualtape plan | plan, replay | one-shot | echidna with pattern | echidna one-shot | dense | best plan / echidna with pattern | one-shot / echidna one-shot |\n|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
    )
    .unwrap();
    for r in &rows {
        let get = |l: &str| r.times.iter().find(|(k, _)| *k == l).map(|&(_, t)| t);
        let plan = get("dualtape plan").unwrap();
        let replay = get("dualtape plan, replay").unwrap();
        let one = get("dualtape one-shot").unwrap();
        let ewp = get("echidna with pattern").unwrap();
        let eone = get("echidna one-shot").unwrap();
        let dense = get("dualtape dense").map_or("—".to_string(), fmt_time);
        writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {:.2} | {:.2} |",
            r.case,
            r.n,
            r.nnz,
            r.colours,
            r.passes,
            fmt_time(plan),
            fmt_time(replay),
            fmt_time(one),
            fmt_time(ewp),
            fmt_time(eone),
            dense,
            plan.min(replay) / ewp,
            one / eone,
        )
        .unwrap();
    }
    print!("{out}");
    if !quick {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/sparse-results.md");
        std::fs::write(path, &out).expect("write compare/sparse-results.md");
        eprintln!("wrote {path}");
    }
}
