//! echidna (feature `bytecode`): three ways to a gradient.
//!
//! - `Reverse<f64>`, its eager Adept-style tape, through `echidna::grad`
//!   (a pooled thread-local tape, recorded afresh at every call).
//! - Bytecode replay: `echidna::record` once at the workload's point, then
//!   `optimize()` (common-subexpression and dead-code elimination) once, then
//!   `tape.gradient_with_buf` per call with an adjoint buffer kept across
//!   calls: record once, evaluate many (the workloads have no branches on
//!   the inputs, so one recording holds at every point).
//! - `DualVec<f64, N>`, forward mode with N tangent lanes: all n in one pass
//!   where N = n <= 16, else chunks of 8 (echidna has no gradient driver for
//!   `DualVec`; the chunk loop below seeds the lanes as `forward::gradient`
//!   of dualtape does).
//!
//! Scalar workloads are written once over `echidna::Scalar<Float = f64>`,
//! constants lifted with `T::from_f(c)` (echidna's own idiom: `Scalar` has no
//! `f64 op T`). `Reverse` and `DualVec` are nalgebra 0.35 `RealField`s (its
//! default `simba` feature), so the nalgebra workloads are `na_generic::na035`;
//! the bytecode variable `BReverse` implements no simba trait and cannot be a
//! nalgebra scalar.

use crate::harness::{Method, Peer};
use crate::workloads::na_generic::na035;
use crate::workloads::Dataset;
use crate::workloads::{consts, Workload, PASS_LANES};
use echidna::{BReverse, DualVec, Reverse, Scalar};

pub struct Echidna;

pub const REVERSE: &str = "echidna Reverse, grad";
pub const REPLAY: &str = "echidna bytecode replay (record + optimize once)";

fn rosenbrock<T: Scalar<Float = f64>>(x: &[T]) -> T {
    let (one, hundred) = (T::from_f(1.0), T::from_f(100.0));
    let mut s = T::zero();
    for p in x.chunks_exact(2) {
        let a = p[1] - p[0] * p[0];
        let b = one - p[0];
        s = s + hundred * a * a + b * b;
    }
    s
}

fn sigmoid<T: Scalar<Float = f64>>(z: T) -> T {
    let one = T::from_f(1.0);
    one / (one + (-z).exp())
}

fn net231<T: Scalar<Float = f64>>(p: &[T], data: &Dataset) -> T {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let one = T::from_f(1.0);
    let mut sum = T::zero();
    for (x, &t) in data.points.iter().zip(&data.labels) {
        let (x0, x1) = (T::from_f(x[0]), T::from_f(x[1]));
        let mut z2 = b2;
        for j in 0..3 {
            let a1 = sigmoid(w1[2 * j] * x0 + w1[2 * j + 1] * x1 + b1[j]);
            z2 = z2 + w2[j] * a1;
        }
        let y = sigmoid(z2);
        sum = sum + y.ln() * T::from_f(t) + (one - y).ln() * T::from_f(1.0 - t);
    }
    -sum / T::from_f(data.len() as f64)
}

/// The scalar workloads (no nalgebra), at any echidna scalar.
fn scalar_objective<T: Scalar<Float = f64>>(w: &Workload, x: &[T]) -> Option<T> {
    Some(match w {
        Workload::ConstDiv => T::from_f(consts::C) / x[0],
        Workload::ConstSub => T::from_f(consts::C) - x[0],
        Workload::Rosenbrock { .. } => rosenbrock(x),
        Workload::Net231 { data, .. } => net231(x, data),
        Workload::Mlp { .. } | Workload::LogDet { .. } => return None,
    })
}

/// Every workload, at an echidna scalar that is also a nalgebra 0.35 scalar.
fn objective<T>(w: &Workload, x: &[T]) -> T
where
    T: Scalar<Float = f64> + nalgebra::RealField,
{
    match w {
        Workload::Mlp {
            sizes,
            hidden,
            data,
            ..
        } => na035::mlp_loss(x, sizes, *hidden, data),
        Workload::LogDet { m, .. } => na035::logdet(x, *m),
        _ => scalar_objective(w, x).expect("scalar workload"),
    }
}

fn eager_reverse(w: &Workload) -> Method {
    let w = w.clone();
    Method::run_vec(REVERSE, move |x| {
        let mut value = f64::NAN;
        let g = echidna::grad(
            |v: &[Reverse<f64>]| {
                let y = objective(&w, v);
                value = y.value();
                y
            },
            x,
        );
        (value, g)
    })
}

fn replay(w: &Workload) -> Method {
    if matches!(w, Workload::Mlp { .. } | Workload::LogDet { .. }) {
        return Method::cannot(
            REPLAY,
            "BReverse (the bytecode tape's variable) implements no nalgebra RealField",
        );
    }
    let (mut tape, _) = echidna::record(
        |v: &[BReverse<f64>]| scalar_objective(w, v).expect("scalar workload"),
        &w.point(),
    );
    tape.optimize();
    let mut adjoints = Vec::new();
    Method::run(REPLAY, move |x, g| {
        let grad = tape.gradient_with_buf(x, &mut adjoints);
        g.copy_from_slice(&grad);
        tape.output_value()
    })
}

/// The gradient in ⌈n/N⌉ forward passes of `DualVec<f64, N>`, lane j of
/// pass k seeded on input kN + j.
fn dualvec_gradient<const N: usize>(w: &Workload, x: &[f64], g: &mut [f64]) -> f64 {
    let mut v: Vec<DualVec<f64, N>> = x.iter().map(|&xi| DualVec::constant(xi)).collect();
    let mut value = f64::NAN;
    for start in (0..x.len()).step_by(N) {
        let end = (start + N).min(x.len());
        for (lane, vi) in v[start..end].iter_mut().enumerate() {
            vi.eps[lane] = 1.0;
        }
        let y = objective(w, &v);
        value = y.re;
        g[start..end].copy_from_slice(&y.eps[..end - start]);
        for vi in &mut v[start..end] {
            vi.eps = [0.0; N];
        }
    }
    value
}

fn dualvec<const N: usize>(w: &Workload) -> Method {
    let n = w.dim();
    let name = if n == N {
        format!("echidna DualVec<f64, {N}>, 1 pass (N = n)")
    } else {
        let p = n.div_ceil(N);
        format!(
            "echidna DualVec<f64, {N}>, {p} pass{}",
            if p == 1 { "" } else { "es" }
        )
    };
    if n != N {
        if let Some(reason) = w.skip_n_passes() {
            return Method::skip(name, reason);
        }
    }
    let w = w.clone();
    Method::run(name, move |x, g| dualvec_gradient::<N>(&w, x, g))
}

/// One pass of `DualVec<f64, PASS_LANES>`, the first inputs seeded
/// (`Workload::one_pass_only`), as `dualvec_gradient` seeds them.
fn first_pass(w: &Workload) -> Method {
    const N: usize = PASS_LANES;
    let w = w.clone();
    let name = w.one_pass_name(&format!("echidna DualVec<f64, {N}>"));
    Method::run(name, move |x, g| {
        let mut v: Vec<DualVec<f64, N>> = x.iter().map(|&xi| DualVec::constant(xi)).collect();
        for (lane, vi) in v[..N].iter_mut().enumerate() {
            vi.eps[lane] = 1.0;
        }
        let y = objective(&w, &v);
        g[..N].copy_from_slice(&y.eps);
        y.re
    })
    .first_partials(N)
}

impl Peer for Echidna {
    fn name(&self) -> String {
        format!(
            "echidna {} (features bytecode, simba)",
            env!("VERSION_ECHIDNA")
        )
    }

    fn methods(&self, w: &Workload) -> Vec<Method> {
        let mut methods = vec![eager_reverse(w), replay(w)];
        match w.dim() {
            1 => methods.push(dualvec::<1>(w)),
            10 => methods.push(dualvec::<10>(w)),
            13 => methods.push(dualvec::<13>(w)),
            _ => {}
        }
        methods.push(dualvec::<8>(w));
        if w.one_pass_only() {
            methods.push(first_pass(w));
        }
        methods
    }
}
