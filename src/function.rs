//! Deprecated: the model traits now live in [`model`](crate::model), and a
//! model runs through any mode by the crate's own drivers with a closure,
//! `reverse::gradient(|x| model.eval(x), x)`. The driver copies here (which
//! shadowed the crate's `forward`, `reverse` and `finite_diff` modules when
//! imported) remain for one release, each a one-line call of that spelling.

#![allow(deprecated)]

pub use crate::model::{Differentiable, VectorFunction};

use crate::model::{check_dim, eval_vector};
use nalgebra::DMatrix;

/// Deprecated: forward mode for models. Use [`crate::forward`]'s drivers with
/// `|x| model.eval(x)`.
#[deprecated(
    since = "0.2.0",
    note = "use dualtape::forward's drivers with |x| model.eval(x)"
)]
pub mod forward {
    use super::*;
    use crate::{Dual, DualVec};

    /// How many tangents [`gradient`] carries per pass.
    pub const CHUNK: usize = 8;

    /// `forward::gradient(|x: &[DualVec<f64, 8>]| model.eval(x), x)`.
    pub fn gradient<M: Differentiable + ?Sized>(model: &M, x: &[f64]) -> (f64, Vec<f64>) {
        check_dim("function::forward::gradient", "x", x.len(), model.dim());
        crate::forward::gradient(|x: &[DualVec<f64, CHUNK>]| model.eval(x), x)
    }

    /// `forward::jvp(|x| model.eval(x), x, v)`.
    pub fn jvp<M: Differentiable + ?Sized>(model: &M, x: &[f64], v: &[f64]) -> (f64, f64) {
        check_dim("function::forward::jvp", "x", x.len(), model.dim());
        check_dim(
            "function::forward::jvp",
            "the direction v",
            v.len(),
            model.dim(),
        );
        crate::forward::jvp(|x| model.eval(x), x, v)
    }

    /// `forward::hessian(|x| model.eval(x), x)`.
    pub fn hessian<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
    ) -> (f64, Vec<f64>, DMatrix<f64>) {
        check_dim("function::forward::hessian", "x", x.len(), model.dim());
        crate::forward::hessian(|x| model.eval(x), x)
    }

    /// `forward::jacobian(|x| f.eval(x), x)`.
    pub fn jacobian<F: VectorFunction + ?Sized>(f: &F, x: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
        check_dim("function::forward::jacobian", "x", x.len(), f.dim());
        crate::forward::jacobian(|x| eval_vector("function::forward::jacobian", f, x), x)
    }

    /// `J(x) v` in one pass of [`Dual<f64>`]: evaluate `f` at
    /// `Dual::new(x_i, v_i)` and split values and tangents.
    pub fn jvp_vector<F: VectorFunction + ?Sized>(
        f: &F,
        x: &[f64],
        v: &[f64],
    ) -> (Vec<f64>, Vec<f64>) {
        let who = "function::forward::jvp_vector";
        check_dim(who, "x", x.len(), f.dim());
        check_dim(who, "the direction v", v.len(), f.dim());
        let xs: Vec<Dual<f64>> = x.iter().zip(v).map(|(&a, &b)| Dual::new(a, b)).collect();
        let y = eval_vector(who, f, &xs);
        (
            y.iter().map(|d| d.re).collect(),
            y.iter().map(|d| d.eps).collect(),
        )
    }
}

/// Deprecated: reverse mode for models. Use [`crate::reverse`]'s drivers with
/// `|x| model.eval(x)`.
#[deprecated(
    since = "0.2.0",
    note = "use dualtape::reverse's drivers with |x| model.eval(x)"
)]
pub mod reverse {
    use super::*;

    /// `reverse::gradient(|x| model.eval(x), x)`.
    pub fn gradient<M: Differentiable + ?Sized>(model: &M, x: &[f64]) -> (f64, Vec<f64>) {
        check_dim("function::reverse::gradient", "x", x.len(), model.dim());
        crate::reverse::gradient(|x| model.eval(x), x)
    }

    /// `reverse::gradient_into(|x| model.eval(x), x, grad)`.
    pub fn gradient_into<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        grad: &mut [f64],
    ) -> f64 {
        check_dim(
            "function::reverse::gradient_into",
            "x",
            x.len(),
            model.dim(),
        );
        crate::reverse::gradient_into(|x| model.eval(x), x, grad)
    }

    /// `reverse::hvp(|x| model.eval(x), x, v)`.
    pub fn hvp<M: Differentiable + ?Sized>(model: &M, x: &[f64], v: &[f64]) -> (f64, Vec<f64>) {
        check_dim("function::reverse::hvp", "x", x.len(), model.dim());
        check_dim(
            "function::reverse::hvp",
            "the direction v",
            v.len(),
            model.dim(),
        );
        crate::reverse::hvp(|x| model.eval(x), x, v)
    }

    /// `reverse::hessian(|x| model.eval(x), x)`.
    pub fn hessian<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
    ) -> (f64, Vec<f64>, DMatrix<f64>) {
        check_dim("function::reverse::hessian", "x", x.len(), model.dim());
        crate::reverse::hessian(|x| model.eval(x), x)
    }

    /// `reverse::jacobian(|x| f.eval(x), x)`.
    pub fn jacobian<F: VectorFunction + ?Sized>(f: &F, x: &[f64]) -> (Vec<f64>, DMatrix<f64>) {
        check_dim("function::reverse::jacobian", "x", x.len(), f.dim());
        crate::reverse::jacobian(|x| eval_vector("function::reverse::jacobian", f, x), x)
    }

    /// `reverse::vjp(|x| f.eval(x), x, w)`.
    pub fn vjp<F: VectorFunction + ?Sized>(f: &F, x: &[f64], w: &[f64]) -> (Vec<f64>, Vec<f64>) {
        check_dim("function::reverse::vjp", "x", x.len(), f.dim());
        crate::reverse::vjp(|x| eval_vector("function::reverse::vjp", f, x), x, w)
    }
}

/// Deprecated: finite differences for models. Use [`crate::finite_diff`]'s
/// functions with `|x| model.eval(x)`.
#[deprecated(
    since = "0.2.0",
    note = "use dualtape::finite_diff's functions with |x| model.eval(x)"
)]
pub mod finite_diff {
    use super::*;
    /// The scheme and step settings these take, so that this module is
    /// usable without importing `dualtape::finite_diff` too.
    pub use crate::finite_diff::{Config, Scheme, Step};

    /// `finite_diff::gradient(|x| model.eval(x), x, scheme)`.
    pub fn gradient<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        scheme: Scheme,
    ) -> (f64, Vec<f64>) {
        gradient_with(model, x, &Config::new(scheme))
    }

    /// `finite_diff::gradient_with(|x| model.eval(x), x, config)`.
    pub fn gradient_with<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        config: &Config,
    ) -> (f64, Vec<f64>) {
        check_dim("function::finite_diff::gradient", "x", x.len(), model.dim());
        crate::finite_diff::gradient_with(|x: &[f64]| model.eval(x), x, config)
    }

    /// `finite_diff::directional(|x| model.eval(x), x, v, scheme)`.
    pub fn directional<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        v: &[f64],
        scheme: Scheme,
    ) -> (f64, f64) {
        directional_with(model, x, v, &Config::new(scheme))
    }

    /// `finite_diff::directional_with(|x| model.eval(x), x, v, config)`.
    pub fn directional_with<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        v: &[f64],
        config: &Config,
    ) -> (f64, f64) {
        check_dim(
            "function::finite_diff::directional",
            "x",
            x.len(),
            model.dim(),
        );
        crate::finite_diff::directional_with(|x: &[f64]| model.eval(x), x, v, config)
    }

    /// The Hessian as finite differences of the reverse gradient:
    /// `finite_diff::jacobian(|x| reverse::gradient(|x| model.eval(x), x).1, x, scheme)`.
    pub fn hessian<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        scheme: Scheme,
    ) -> (f64, Vec<f64>, DMatrix<f64>) {
        hessian_with(model, x, &Config::new(scheme))
    }

    /// [`hessian`] with a chosen step rule.
    pub fn hessian_with<M: Differentiable + ?Sized>(
        model: &M,
        x: &[f64],
        config: &Config,
    ) -> (f64, Vec<f64>, DMatrix<f64>) {
        check_dim("function::finite_diff::hessian", "x", x.len(), model.dim());
        let gradient = |x: &[f64]| crate::reverse::gradient(|x| model.eval(x), x).1;
        let (g, h) = crate::finite_diff::jacobian_with(gradient, x, config);
        (model.eval(x), g, h)
    }

    /// `finite_diff::jacobian(|x| f.eval(x), x, scheme)`.
    pub fn jacobian<F: VectorFunction + ?Sized>(
        f: &F,
        x: &[f64],
        scheme: Scheme,
    ) -> (Vec<f64>, DMatrix<f64>) {
        jacobian_with(f, x, &Config::new(scheme))
    }

    /// `finite_diff::jacobian_with(|x| f.eval(x), x, config)`.
    pub fn jacobian_with<F: VectorFunction + ?Sized>(
        f: &F,
        x: &[f64],
        config: &Config,
    ) -> (Vec<f64>, DMatrix<f64>) {
        let who = "function::finite_diff::jacobian";
        check_dim(who, "x", x.len(), f.dim());
        crate::finite_diff::jacobian_with(|x: &[f64]| eval_vector(who, f, x), x, config)
    }
}
