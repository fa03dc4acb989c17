//! num-dual: forward mode. `Dual64` with one pass per input (through
//! num-dual's own `Gradients` driver for dynamic sizes), and the static
//! `DualSVec64<N>` carrying all N tangents in one pass (`num_dual::gradient`),
//! where N = n is a compile-time constant.
//!
//! Scalar workloads are written once over `DualNum<Primitive = f64> + Copy`; the nalgebra
//! ones come from `na_generic::na035` (num-dual implements nalgebra 0.35's
//! `RealField`). num-dual has no `f64 - D` or `f64 / D`: constants on the left
//! are lifted with `D::from(c)` (or `D::one()`).

use crate::harness::{Method, Peer};
use crate::workloads::na_generic::na035;
use crate::workloads::Dataset;
use crate::workloads::{consts, Workload, PASS_LANES};
use nalgebra::{Const, DVector, Dyn, SVector, U1};
use num_dual::{gradient, Dual64, DualNum, DualSVec64, Gradients};

pub struct NumDual;

fn rosenbrock<D: DualNum<Primitive = f64> + Copy>(x: &[D]) -> D {
    let mut s = D::zero();
    for p in x.chunks_exact(2) {
        let a = p[1] - p[0] * p[0];
        let b = D::one() - p[0];
        s += a * a * 100.0 + b * b;
    }
    s
}

fn sigmoid<D: DualNum<Primitive = f64> + Copy>(z: D) -> D {
    D::one() / (D::one() + (-z).exp())
}

fn net231<D: DualNum<Primitive = f64> + Copy>(p: &[D], data: &Dataset) -> D {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let mut sum = D::zero();
    for (x, &t) in data.points.iter().zip(&data.labels) {
        let mut z2 = b2;
        for j in 0..3 {
            let a1 = sigmoid(w1[2 * j] * x[0] + w1[2 * j + 1] * x[1] + b1[j]);
            z2 += w2[j] * a1;
        }
        let y = sigmoid(z2);
        sum += y.ln() * t + (D::one() - y).ln() * (1.0 - t);
    }
    -sum / data.len() as f64
}

/// The workload as one function of the inputs, for any num-dual number type
/// that is also a nalgebra 0.35 scalar.
fn objective<D>(w: &Workload) -> impl Fn(&[D]) -> D
where
    D: DualNum<Primitive = f64> + nalgebra::RealField + Copy,
{
    let w = w.clone();
    move |x: &[D]| match &w {
        Workload::ConstDiv => D::from(consts::C) / x[0],
        Workload::ConstSub => D::from(consts::C) - x[0],
        Workload::Rosenbrock { .. } => rosenbrock(x),
        Workload::Net231 { data, .. } => net231(x, data),
        Workload::Mlp {
            sizes,
            hidden,
            data,
            ..
        } => na035::mlp_loss(x, sizes, *hidden, data),
        Workload::LogDet { m, .. } => na035::logdet(x, *m),
    }
}

/// One pass per input, through `Gradients` for `Dyn` (num-dual's driver for
/// dynamically sized inputs: a `Dual64` vector per pass).
fn n_passes(w: &Workload) -> impl FnMut(&[f64]) -> (f64, Vec<f64>) {
    let f = objective::<Dual64>(w);
    move |x: &[f64]| {
        let x = DVector::from_column_slice(x);
        let (v, g) =
            <Dyn as Gradients>::gradient(|v: DVector<Dual64>, _: &()| f(v.as_slice()), &x, &());
        (v, g.as_slice().to_vec())
    }
}

/// All N tangents in one pass with `num_dual::gradient` on an `SVector`.
fn one_pass<const N: usize>(w: &Workload) -> impl FnMut(&[f64]) -> (f64, Vec<f64>) {
    let f = objective::<DualSVec64<N>>(w);
    move |x: &[f64]| {
        let x = SVector::<f64, N>::from_column_slice(x);
        let (v, g) = gradient(|v: SVector<DualSVec64<N>, N>| f(v.as_slice()), &x);
        (v, g.as_slice().to_vec())
    }
}

/// The const N instantiated: the sizes the workloads use, up to 400.
fn static_method(name: &str, w: &Workload) -> Method {
    macro_rules! sizes {
        ($($n:literal),*) => {
            match w.dim() {
                $($n => return Method::run_vec(name, one_pass::<$n>(w)),)*
                n => return Method::skip(name, format!("skipped: static N = {n} not instantiated (N <= 400 only: N^2 f64 per input vector)")),
            }
        };
    }
    sizes!(1, 10, 13, 100, 400)
}

/// One pass of `DualSVec64<PASS_LANES>`, the first inputs seeded with
/// `derivative(i)`, the others `from_re` (`Workload::one_pass_only`).
fn first_pass(w: &Workload) -> Method {
    const N: usize = PASS_LANES;
    let f = objective::<DualSVec64<N>>(w);
    let name = w.one_pass_name(&format!("num-dual DualSVec64<{N}>"));
    Method::run(name, move |x, g| {
        let v: Vec<DualSVec64<N>> = x
            .iter()
            .enumerate()
            .map(|(i, &xi)| {
                let d = DualSVec64::<N>::from_re(xi);
                if i < N {
                    d.derivative(i)
                } else {
                    d
                }
            })
            .collect();
        let y = f(&v);
        let eps = y.eps.unwrap_generic(Const::<N>, U1);
        g[..N].copy_from_slice(eps.as_slice());
        y.re
    })
    .first_partials(N)
}

impl Peer for NumDual {
    fn name(&self) -> String {
        format!("num-dual {}", env!("VERSION_NUM_DUAL"))
    }

    fn methods(&self, w: &Workload) -> Vec<Method> {
        let dyn_name = "num-dual Dual64, n passes";
        let static_name = format!("num-dual DualSVec64<{}>, 1 pass", w.dim());
        let dynamic = match w.skip_n_passes() {
            Some(reason) => Method::skip(dyn_name, reason),
            None => Method::run_vec(dyn_name, n_passes(w)),
        };
        let mut methods = vec![dynamic, static_method(&static_name, w)];
        if w.one_pass_only() {
            methods.push(first_pass(w));
        }
        methods
    }
}
