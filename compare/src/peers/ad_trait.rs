//! ad_trait: reverse mode with `adr` (a thread-local global graph) and
//! forward mode with `adfn<K>` (K tangents per pass), both driven the way its
//! documentation shows: a `DifferentiableFunctionTrait` implementation handed
//! to a `FunctionEngine` with `ReverseAD` or `ForwardADMulti`.
//!
//! Scalar workloads are written once over `T: AD`; constants are written
//! `F64(c)` (ad_trait's wrapper; `f64 op T` does not exist for generic T).
//! The nalgebra workloads come from `na_generic::na034`: ad_trait implements
//! the traits of its own nalgebra, 0.34.

use crate::harness::{Method, Peer};
use crate::workloads::na_generic::na034;
use crate::workloads::Dataset;
use crate::workloads::{consts, Workload};
use ad_trait::differentiable_function::{
    DerivativeMethodTrait, DifferentiableFunctionTrait, ForwardADMulti, ReverseAD,
};
use ad_trait::forward_ad::adfn::adfn;
use ad_trait::function_engine::FunctionEngine;
use ad_trait::{AD, F64};

pub struct AdTrait;

fn rosenbrock<T: AD>(x: &[T]) -> T {
    let mut s = T::zero();
    for p in x.chunks_exact(2) {
        let a = p[1] - p[0] * p[0];
        let b = F64(1.0) - p[0];
        s += a * a * F64(100.0) + b * b;
    }
    s
}

fn sigmoid<T: AD>(z: T) -> T {
    F64(1.0) / (F64(1.0) + (-z).exp())
}

fn net231<T: AD>(p: &[T], data: &Dataset) -> T {
    let (w1, b1, w2, b2) = (&p[0..6], &p[6..9], &p[9..12], p[12]);
    let mut sum = T::zero();
    for (x, &t) in data.points.iter().zip(&data.labels) {
        let mut z2 = b2;
        for j in 0..3 {
            let a1 = sigmoid(w1[2 * j] * F64(x[0]) + w1[2 * j + 1] * F64(x[1]) + b1[j]);
            z2 += w2[j] * a1;
        }
        let y = sigmoid(z2);
        sum += y.ln() * F64(t) + (F64(1.0) - y).ln() * F64(1.0 - t);
    }
    -sum / F64(data.len() as f64)
}

/// A workload as ad_trait wants it: one struct, differentiable at any `T: AD`.
#[derive(Clone)]
struct Function(Workload);

impl<T: AD> DifferentiableFunctionTrait<T> for Function {
    const NAME: &'static str = "dualtape-compare workload";

    fn call(&self, x: &[T], _freeze: bool) -> Vec<T> {
        let y = match &self.0 {
            Workload::ConstDiv => F64(consts::C) / x[0],
            Workload::ConstSub => F64(consts::C) - x[0],
            Workload::Rosenbrock { .. } => rosenbrock(x),
            Workload::Net231 { data, .. } => net231(x, data),
            Workload::Mlp {
                sizes,
                hidden,
                data,
                ..
            } => na034::mlp_loss(x, sizes, *hidden, data),
            Workload::LogDet { m, .. } => na034::logdet(x, *m),
        };
        vec![y]
    }

    fn num_inputs(&self) -> usize {
        self.0.dim()
    }

    fn num_outputs(&self) -> usize {
        1
    }
}

fn engine<E>(w: &Workload, method: E) -> impl FnMut(&[f64]) -> (f64, Vec<f64>)
where
    E: DerivativeMethodTrait,
    Function: DifferentiableFunctionTrait<E::T>,
{
    let engine = FunctionEngine::new(Function(w.clone()), Function(w.clone()), method);
    move |x: &[f64]| {
        let (value, jacobian) = engine.derivative(x);
        (value[0], jacobian.row(0).iter().copied().collect())
    }
}

fn forward<const K: usize>(w: &Workload) -> Method {
    let n = w.dim();
    let passes = n.div_ceil(K);
    let name = format!(
        "ad_trait adfn<{K}>, {passes} pass{}",
        if passes == 1 { "" } else { "es" }
    );
    match w.skip_n_passes() {
        Some(reason) => Method::skip(name, reason),
        None => Method::run_vec(name, engine(w, ForwardADMulti::<adfn<K>>::new())),
    }
}

impl Peer for AdTrait {
    fn name(&self) -> String {
        format!("ad_trait {}", env!("VERSION_AD_TRAIT"))
    }

    fn methods(&self, w: &Workload) -> Vec<Method> {
        let reverse = Method::run_vec("ad_trait adr, reverse", engine(w, ReverseAD::new()));
        // Forward: all tangents in one pass where n is small, else chunks of 16.
        let forward = match w.dim() {
            1 => forward::<1>(w),
            10 => forward::<10>(w),
            13 => forward::<13>(w),
            _ => forward::<16>(w),
        };
        vec![reverse, forward]
    }
}
