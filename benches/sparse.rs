//! Sparse Jacobians and Hessians (issue 13): a tridiagonal residual and a
//! 2-D Laplacian energy at n ≈ 10³ and 10⁴, the sparse drivers against the
//! dense ones.
//!
//! - `jacobian/tridiagonal`: the 1-D Bratu residual
//!   `r_i = 2u_i − u_{i−1} − u_{i+1} − h² e^{u_i}` (3 colours, 1 forward pass
//!   of `DualVec<f64, 4>`);
//! - `jacobian/laplacian-2d`: the 5-point residual `−Δu − h² e^u` on a k × k
//!   grid (5 colours, 1 pass of `DualVec<f64, 8>`);
//! - `hessian/tridiagonal`: the 1-D energy whose gradient is that residual
//!   (3 colours);
//! - `hessian/laplacian-2d`: `Σ_edges (u_p − u_q)²/2 − h² Σ e^{u_p}` on the grid.
//!
//! Methods: `plan` (a plan made once, evaluated per iteration: the Newton
//! loop case; Hessians with a `sparse::Workspace` kept between calls),
//! `plan-replay` (the same plan replaying a `Program` recorded once, with a
//! workspace), `one-shot` (detect, colour and evaluate every call), `dense`
//! (`forward::jacobian` / `reverse::hessian`, at n ≈ 10³
//! only: at 10⁴ the dense matrix alone is 800 MB).
//!
//! ```sh
//! cargo bench --bench sparse -- --warm-up-time 1 --measurement-time 3
//! ```

use std::hint::black_box;
use std::time::Duration;

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use dualtape::sparse::{self, HessianPlan, JacobianPlan, Side};
use dualtape::{forward, reverse, Differentiable, Scalar, VectorFunction};

/// The 1-D Bratu problem on n interior points, u = 0 at both ends.
struct Tridiagonal(usize);

impl Tridiagonal {
    fn h2(&self) -> f64 {
        let h = 1.0 / (self.0 + 1) as f64;
        h * h
    }
}

impl VectorFunction for Tridiagonal {
    fn dim(&self) -> usize {
        self.0
    }
    fn outputs(&self) -> usize {
        self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, u: &[S]) -> Vec<S> {
        let n = self.0;
        let h2 = self.h2();
        (0..n)
            .map(|i| {
                let mut r = u[i] * 2.0 - u[i].exp() * h2;
                if i > 0 {
                    r -= u[i - 1];
                }
                if i + 1 < n {
                    r -= u[i + 1];
                }
                r
            })
            .collect()
    }
}

impl Differentiable for Tridiagonal {
    fn dim(&self) -> usize {
        self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, u: &[S]) -> S {
        let n = self.0;
        let h2 = self.h2();
        let mut e = u[0] * u[0] * 0.5 + u[n - 1] * u[n - 1] * 0.5;
        for i in 0..n {
            e -= u[i].exp() * h2;
            if i + 1 < n {
                let d = u[i + 1] - u[i];
                e += d * d * 0.5;
            }
        }
        e
    }
}

/// The 2-D Bratu problem on a k × k grid of interior points.
struct Laplacian2d(usize);

impl Laplacian2d {
    fn h2(&self) -> f64 {
        let h = 1.0 / (self.0 + 1) as f64;
        h * h
    }
}

impl VectorFunction for Laplacian2d {
    fn dim(&self) -> usize {
        self.0 * self.0
    }
    fn outputs(&self) -> usize {
        self.0 * self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, u: &[S]) -> Vec<S> {
        let k = self.0;
        let h2 = self.h2();
        let mut r = Vec::with_capacity(k * k);
        for i in 0..k {
            for j in 0..k {
                let p = i * k + j;
                let mut v = u[p] * 4.0 - u[p].exp() * h2;
                if i > 0 {
                    v -= u[p - k];
                }
                if i + 1 < k {
                    v -= u[p + k];
                }
                if j > 0 {
                    v -= u[p - 1];
                }
                if j + 1 < k {
                    v -= u[p + 1];
                }
                r.push(v);
            }
        }
        r
    }
}

impl Differentiable for Laplacian2d {
    fn dim(&self) -> usize {
        self.0 * self.0
    }
    fn eval<S: Scalar<Real = f64>>(&self, u: &[S]) -> S {
        let k = self.0;
        let h2 = self.h2();
        let mut e = S::constant(0.0);
        for i in 0..k {
            for j in 0..k {
                let p = i * k + j;
                e -= u[p].exp() * h2;
                // Edges to the right and down; the boundary (u = 0) edges too.
                let right = if j + 1 < k { u[p] - u[p + 1] } else { u[p] };
                let down = if i + 1 < k { u[p] - u[p + k] } else { u[p] };
                e += (right * right + down * down) * 0.5;
                if i == 0 {
                    e += u[p] * u[p] * 0.5;
                }
                if j == 0 {
                    e += u[p] * u[p] * 0.5;
                }
            }
        }
        e
    }
}

fn point(n: usize) -> Vec<f64> {
    (0..n)
        .map(|i| 0.1 + 0.3 * ((i as f64) * 0.37).sin())
        .collect()
}

/// Sparse (plan reused, and one-shot) and, at n ≈ 10³, dense Jacobians.
fn jacobian_group<F: VectorFunction>(c: &mut Criterion, name: &str, f: &F) {
    let n = VectorFunction::dim(f);
    let x = point(n);
    let plan = JacobianPlan::detect(f, &x, Side::Auto);
    eprintln!(
        "jacobian/{name}/{n}: {} entries, {:?}, {} colours, {} passes",
        plan.sparsity().nnz(),
        plan.side(),
        plan.colouring().count(),
        plan.passes()
    );
    let mut g = c.benchmark_group(format!("jacobian/{name}"));
    let mut values = vec![0.0; plan.sparsity().nnz()];
    g.bench_with_input(BenchmarkId::new("plan", n), &x, |b, x| {
        b.iter(|| black_box(plan.values_into(f, black_box(x), &mut values)))
    });
    let program = reverse::record_vector(|v| VectorFunction::eval(f, v), &x);
    let (mut ws, mut y) = (sparse::Workspace::default(), vec![0.0; n]);
    g.bench_with_input(BenchmarkId::new("plan-replay", n), &x, |b, x| {
        b.iter(|| {
            plan.values_program_with(&mut ws, &program, black_box(x), &mut values, &mut y)
                .unwrap();
            black_box(values[0] + y[0])
        })
    });
    g.bench_with_input(BenchmarkId::new("one-shot", n), &x, |b, x| {
        b.iter(|| black_box(sparse::jacobian(f, black_box(x))))
    });
    if n <= 1024 {
        g.bench_with_input(BenchmarkId::new("dense", n), &x, |b, x| {
            b.iter(|| black_box(forward::jacobian(|v| f.eval(v), black_box(x))))
        });
    }
    g.finish();
}

/// Sparse (plan reused, and one-shot) and, at n ≈ 10³, dense Hessians.
fn hessian_group<M: Differentiable>(c: &mut Criterion, name: &str, f: &M) {
    let n = Differentiable::dim(f);
    let x = point(n);
    let plan = HessianPlan::detect(f, &x);
    eprintln!(
        "hessian/{name}/{n}: {} entries, {} colours, {} passes",
        plan.sparsity().nnz(),
        plan.colouring().count(),
        plan.passes()
    );
    let mut g = c.benchmark_group(format!("hessian/{name}"));
    let mut values = vec![0.0; plan.sparsity().nnz()];
    let (mut ws, mut grad) = (sparse::Workspace::default(), vec![0.0; n]);
    g.bench_with_input(BenchmarkId::new("plan", n), &x, |b, x| {
        b.iter(|| black_box(plan.values_with(&mut ws, f, black_box(x), &mut values, &mut grad)))
    });
    let program = reverse::record(|v| Differentiable::eval(f, v), &x);
    g.bench_with_input(BenchmarkId::new("plan-replay", n), &x, |b, x| {
        b.iter(|| {
            let v = plan
                .values_program_with(&mut ws, &program, black_box(x), &mut values, &mut grad)
                .unwrap();
            black_box(v + values[0] + grad[0])
        })
    });
    g.bench_with_input(BenchmarkId::new("one-shot", n), &x, |b, x| {
        b.iter(|| black_box(sparse::hessian(f, black_box(x))))
    });
    if n <= 1024 {
        g.bench_with_input(BenchmarkId::new("dense", n), &x, |b, x| {
            b.iter(|| black_box(reverse::hessian(|v| f.eval(v), black_box(x))))
        });
    }
    g.finish();
}

fn jacobians(c: &mut Criterion) {
    jacobian_group(c, "tridiagonal", &Tridiagonal(1000));
    jacobian_group(c, "tridiagonal", &Tridiagonal(10_000));
    jacobian_group(c, "laplacian-2d", &Laplacian2d(32));
    jacobian_group(c, "laplacian-2d", &Laplacian2d(100));
}

fn hessians(c: &mut Criterion) {
    hessian_group(c, "tridiagonal", &Tridiagonal(1000));
    hessian_group(c, "tridiagonal", &Tridiagonal(10_000));
    hessian_group(c, "laplacian-2d", &Laplacian2d(32));
    hessian_group(c, "laplacian-2d", &Laplacian2d(100));
}

criterion_group! {
    name = benches;
    config = Criterion::default()
        .warm_up_time(Duration::from_millis(500))
        .measurement_time(Duration::from_secs(2))
        .sample_size(10);
    targets = jacobians, hessians
}
criterion_main!(benches);
