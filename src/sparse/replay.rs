//! Sparse Jacobians and Hessians by replaying a recorded [`Program`].

use super::{check_values, seed, HessianPlan, JacobianPlan, Side, Sparsity};
use crate::reverse::{self, Program, ReplayError};
use crate::DualVec;
use nalgebra_sparse::CsrMatrix;

/// Buffers a plan's replays reuse from one evaluation to the next: keep one
/// next to the plan (one per thread) and pass it to
/// [`HessianPlan::values_program_with`],
/// [`JacobianPlan::values_program_with`] or [`HessianPlan::values_with`].
/// After the first call with a given program the first two allocate
/// nothing (the third still records the function); without a workspace
/// every evaluation allocates, and the operating system zeroes, 100 to 300
/// bytes per recorded operation.
///
/// One workspace serves any number of plans and programs; it grows to the
/// largest it has seen (drop it to free the memory).
///
/// ```
/// use dualtape::{reverse, sparse, Scalar};
/// use dualtape::sparse::HessianPlan;
///
/// fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
///     (1..x.len()).fold(S::constant(0.0), |e, i| e + (x[i] - x[i - 1]).powi(2) + x[i].sin())
/// }
/// let program = reverse::record(f, &[0.5; 100]);
/// let plan = HessianPlan::new(sparse::hessian_sparsity_of(&program));
/// let mut ws = sparse::Workspace::default();
/// let (mut h, mut g) = (vec![0.0; plan.sparsity().nnz()], vec![0.0; 100]);
/// for step in 0..3 {
///     let x = vec![0.1 * step as f64; 100];
///     let value = plan.values_program_with(&mut ws, &program, &x, &mut h, &mut g).unwrap();
///     assert!((value - f(&x)).abs() < 1e-12);
///     assert_eq!(h[plan.sparsity().position(7, 8).unwrap()], -2.0);
/// }
/// ```
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    /// The reverse-side Jacobian's replay on `f64`, its output weights and
    /// input adjoints.
    real: reverse::Workspace<f64>,
    w: Vec<f64>,
    xbar: Vec<f64>,
    l1: Lanes<1>,
    l2: Lanes<2>,
    l3: Lanes<3>,
    l4: Lanes<4>,
    l5: Lanes<5>,
    l6: Lanes<6>,
    l7: Lanes<7>,
    l8: Lanes<8>,
}

/// The lanes of `DualVec` a replay carries for `colours` colours: one per
/// colour, up to 8 (more colours take several passes). A replay runs the
/// crate's own interpreter, so every lane count costs one copy of it, not
/// one of your function; lanes left empty would cost as much as used ones.
pub(super) fn replay_lanes(colours: usize) -> usize {
    colours.clamp(1, 8)
}

/// Calls `$plan.$method(&mut $ws.lN, args...)` for `N = replay_lanes($colours)`.
macro_rules! with_lanes {
    ($colours:expr, $plan:ident.$method:ident(&mut $ws:ident, $($arg:expr),*)) => {
        match replay_lanes($colours) {
            1 => $plan.$method(&mut $ws.l1, $($arg),*),
            2 => $plan.$method(&mut $ws.l2, $($arg),*),
            3 => $plan.$method(&mut $ws.l3, $($arg),*),
            4 => $plan.$method(&mut $ws.l4, $($arg),*),
            5 => $plan.$method(&mut $ws.l5, $($arg),*),
            6 => $plan.$method(&mut $ws.l6, $($arg),*),
            7 => $plan.$method(&mut $ws.l7, $($arg),*),
            _ => $plan.$method(&mut $ws.l8, $($arg),*),
        }
    };
}

/// The buffers of replays on `DualVec<f64, N>`.
#[derive(Clone, Debug, Default)]
struct Lanes<const N: usize> {
    ws: reverse::Workspace<DualVec<f64, N>>,
    /// The seeded inputs.
    xs: Vec<DualVec<f64, N>>,
    /// The outputs (Jacobian) or the inputs' adjoints (Hessian).
    out: Vec<DualVec<f64, N>>,
}

impl<const N: usize> Lanes<N> {
    /// Sizes the buffers for `n` inputs and `m` outputs (allocating only
    /// when they are too small).
    fn fit(&mut self, n: usize, m: usize) {
        let zero = DualVec::new(0.0, [0.0; N]);
        self.xs.resize(n, zero);
        self.out.resize(m, zero);
    }
}

/// The Jacobian pattern of a recorded program (one row per output).
///
/// ```
/// use dualtape::{reverse, sparse};
///
/// let p = reverse::record_vector(|x| vec![x[0] * x[2], x[1].exp()], &[1.0, 2.0, 3.0]);
/// assert_eq!(sparse::jacobian_sparsity_of(&p).to_string(), "*.*\n.*.\n");
/// ```
pub fn jacobian_sparsity_of(p: &Program) -> Sparsity {
    super::detect::jacobian(&super::record::graph(p))
}

/// The Hessian pattern of a recorded program with one output.
///
/// # Panics
///
/// If the program does not have exactly one output.
pub fn hessian_sparsity_of(p: &Program) -> Sparsity {
    assert!(
        p.outputs() == 1,
        "sparse::hessian_sparsity_of: the program has {} outputs; a Hessian needs a program \
         recorded with reverse::record (one output)",
        p.outputs()
    );
    super::detect::hessian(&super::record::graph(p))
}

impl JacobianPlan {
    /// `(f(x), J)` by replaying a program recorded from `f`
    /// ([`reverse::record_vector`]) with
    /// [`Program::evaluate`] and [`Program::pullback`]: forward,
    /// `ceil(colours / lanes)` replays on `DualVec<f64, lanes>`, one tangent
    /// lane per colour; in reverse, one replay on `f64` and one adjoint sweep
    /// per colour. The (first) replay checks the recorded comparisons at `x`.
    ///
    /// ```
    /// use dualtape::{reverse, sparse};
    /// use dualtape::sparse::{JacobianPlan, Side};
    ///
    /// let f = |x: &[dualtape::Var]| (0..x.len()).map(|i| x[i] * x[(i + 1) % x.len()]).collect();
    /// let program = reverse::record_vector(f, &[1.0; 6]);
    /// let plan = JacobianPlan::new(sparse::jacobian_sparsity_of(&program), Side::Auto);
    /// let (y, j) = plan.eval_program(&program, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]).unwrap();
    /// assert_eq!(y[5], 6.0);
    /// assert_eq!(j.get_entry(5, 0).unwrap().into_value(), 6.0);
    /// ```
    ///
    /// # Errors
    ///
    /// A [`ReplayError`] where the program's recorded comparisons come out
    /// differently at `x` (the control flow, and so possibly the pattern,
    /// changed), or where the recording read values.
    ///
    /// # Panics
    ///
    /// If the plan's pattern does not have the program's shape, or `x` the
    /// program's number of inputs.
    pub fn eval_program(
        &self,
        p: &Program,
        x: &[f64],
    ) -> Result<(Vec<f64>, CsrMatrix<f64>), ReplayError> {
        let mut v = vec![0.0; self.sparsity.nnz()];
        let y = self.values_program_into(p, x, &mut v)?;
        Ok((y, self.sparsity.csr(v)))
    }

    /// [`eval_program`](Self::eval_program) into a values buffer (pattern
    /// order); returns `f(x)`.
    ///
    /// # Errors
    ///
    /// As [`eval_program`](Self::eval_program).
    ///
    /// # Panics
    ///
    /// As [`eval_program`](Self::eval_program), and if `values.len()` is not
    /// the pattern's `nnz()`.
    pub fn values_program_into(
        &self,
        p: &Program,
        x: &[f64],
        values: &mut [f64],
    ) -> Result<Vec<f64>, ReplayError> {
        let mut y = vec![0.0; p.outputs()];
        self.values_program_with(&mut Workspace::default(), p, x, values, &mut y)?;
        Ok(y)
    }

    /// [`values_program_into`](Self::values_program_into) with buffers kept
    /// by the caller: the Jacobian's entries into `values` (pattern order),
    /// `f(x)` into `y`. After the first call with `p`, allocates nothing.
    ///
    /// ```
    /// use dualtape::{reverse, sparse};
    /// use dualtape::sparse::{JacobianPlan, Side};
    ///
    /// let f = |x: &[dualtape::Var]| (0..x.len()).map(|i| x[i] * x[(i + 1) % x.len()]).collect();
    /// let program = reverse::record_vector(f, &[1.0; 6]);
    /// let plan = JacobianPlan::new(sparse::jacobian_sparsity_of(&program), Side::Auto);
    /// let mut ws = sparse::Workspace::default();
    /// let (mut j, mut y) = (vec![0.0; plan.sparsity().nnz()], vec![0.0; 6]);
    /// plan.values_program_with(&mut ws, &program, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &mut j, &mut y)
    ///     .unwrap();
    /// assert_eq!(y[5], 6.0);
    /// assert_eq!(j[plan.sparsity().position(5, 0).unwrap()], 6.0);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`eval_program`](Self::eval_program).
    ///
    /// # Panics
    ///
    /// As [`values_program_into`](Self::values_program_into), and if `y`
    /// does not have one entry per output.
    pub fn values_program_with(
        &self,
        ws: &mut Workspace,
        p: &Program,
        x: &[f64],
        values: &mut [f64],
        y: &mut [f64],
    ) -> Result<(), ReplayError> {
        self.check_program(p, x, values);
        assert_eq!(
            y.len(),
            p.outputs(),
            "sparse::JacobianPlan::values_program_with: y has {} entries but the program {} \
             outputs",
            y.len(),
            p.outputs()
        );
        match self.side {
            Side::Reverse => self.reverse_replay(ws, p, x, values, y),
            _ => with_lanes!(
                self.colouring.count(),
                self.forward_replay(&mut ws, p, x, values, y)
            ),
        }
    }

    fn check_program(&self, p: &Program, x: &[f64], values: &[f64]) {
        const WHO: &str = "sparse::JacobianPlan::eval_program";
        assert!(
            self.sparsity.nrows() == p.outputs() && self.sparsity.ncols() == p.inputs(),
            "{WHO}: the plan's pattern is {} × {} but the program has {} outputs and {} \
             inputs; make the plan from this program",
            self.sparsity.nrows(),
            self.sparsity.ncols(),
            p.outputs(),
            p.inputs()
        );
        assert_eq!(
            x.len(),
            p.inputs(),
            "{WHO}: x has {} entries but the program {} inputs",
            x.len(),
            p.inputs()
        );
        check_values(WHO, &self.sparsity, values);
    }

    /// Column compression: `ceil(colours / N)` replays on `DualVec<f64, N>`
    /// (the first one also checks the recorded comparisons at `x`).
    fn forward_replay<const N: usize>(
        &self,
        l: &mut Lanes<N>,
        p: &Program,
        x: &[f64],
        values: &mut [f64],
        y: &mut [f64],
    ) -> Result<(), ReplayError> {
        let colours = self.colouring.colours();
        l.fit(x.len(), p.outputs());
        for pass in 0..self.colouring.count().div_ceil(N).max(1) {
            let base = pass * N;
            seed(&mut l.xs, x, colours, base);
            p.evaluate(&mut l.ws, &l.xs, &mut l.out)?;
            if pass == 0 {
                for (yi, d) in y.iter_mut().zip(&l.out) {
                    *yi = d.re;
                }
            }
            self.scatter(&l.out, base, values);
        }
        Ok(())
    }

    /// Row compression: one replay on `f64`, one adjoint sweep per colour.
    fn reverse_replay(
        &self,
        ws: &mut Workspace,
        p: &Program,
        x: &[f64],
        values: &mut [f64],
        y: &mut [f64],
    ) -> Result<(), ReplayError> {
        p.evaluate(&mut ws.real, x, y)?;
        ws.w.clear();
        ws.w.resize(p.outputs(), 0.0);
        ws.xbar.resize(x.len(), 0.0);
        let offsets = self.sparsity.row_offsets();
        let cols = self.sparsity.col_indices();
        for group in &self.groups {
            for &i in group {
                ws.w[i] = 1.0;
            }
            p.pullback(&mut ws.real, &ws.w, &mut ws.xbar);
            for &i in group {
                ws.w[i] = 0.0;
                for k in offsets[i]..offsets[i + 1] {
                    values[k] = ws.xbar[cols[k]];
                }
            }
        }
        Ok(())
    }
}

impl HessianPlan {
    /// `(f(x), ∇f(x), ∇²f(x))` by replaying a program recorded from `f`
    /// ([`reverse::record`]), forward over reverse
    /// with up to 8 colours at once: `ceil(colours / lanes)` passes, each a
    /// replay on `DualVec<f64, lanes>` ([`Program::evaluate`], one tangent
    /// lane per colour) and an adjoint sweep on the same type
    /// ([`Program::pullback`]). The first replay checks the recorded
    /// comparisons at `x`.
    ///
    /// ```
    /// use dualtape::{reverse, sparse, Scalar};
    /// use dualtape::sparse::HessianPlan;
    ///
    /// fn f<S: Scalar<Real = f64>>(x: &[S]) -> S {
    ///     (1..x.len()).fold(S::constant(0.0), |e, i| e + (x[i] - x[i - 1]).powi(2) + x[i].sin())
    /// }
    /// let program = reverse::record(f, &[0.5; 100]);
    /// let plan = HessianPlan::new(sparse::hessian_sparsity_of(&program));
    /// assert_eq!(plan.colouring().count(), 3);
    /// let (_, _, h) = plan.eval_program(&program, &[0.0; 100]).unwrap();
    /// assert_eq!(h.get_entry(7, 7).unwrap().into_value(), 4.0);
    /// assert_eq!(h.get_entry(7, 8).unwrap().into_value(), -2.0);
    /// ```
    ///
    /// # Errors
    ///
    /// As [`JacobianPlan::eval_program`].
    ///
    /// # Panics
    ///
    /// If the program does not have one output, or the plan's pattern and
    /// `x` do not have its number of inputs.
    pub fn eval_program(
        &self,
        p: &Program,
        x: &[f64],
    ) -> Result<(f64, Vec<f64>, CsrMatrix<f64>), ReplayError> {
        let mut v = vec![0.0; self.sparsity.nnz()];
        let (value, grad) = self.values_program_into(p, x, &mut v)?;
        Ok((value, grad, self.sparsity.csr(v)))
    }

    /// [`eval_program`](Self::eval_program) into a values buffer (pattern
    /// order); returns `(f(x), ∇f(x))`.
    ///
    /// # Errors
    ///
    /// As [`eval_program`](Self::eval_program).
    ///
    /// # Panics
    ///
    /// As [`eval_program`](Self::eval_program), and if `values.len()` is not
    /// the pattern's `nnz()`.
    pub fn values_program_into(
        &self,
        p: &Program,
        x: &[f64],
        values: &mut [f64],
    ) -> Result<(f64, Vec<f64>), ReplayError> {
        let mut grad = vec![0.0; x.len()];
        let value = self.values_program_with(&mut Workspace::default(), p, x, values, &mut grad)?;
        Ok((value, grad))
    }

    /// [`values_program_into`](Self::values_program_into) with buffers kept
    /// by the caller (the Newton loop's case, see [`Workspace`]): the
    /// Hessian's entries into `values` (pattern order), `∇f(x)` into `grad`;
    /// returns `f(x)`. After the first call with `p`, allocates nothing.
    ///
    /// # Errors
    ///
    /// As [`eval_program`](Self::eval_program).
    ///
    /// # Panics
    ///
    /// As [`values_program_into`](Self::values_program_into), and if
    /// `grad` does not have one entry per input.
    pub fn values_program_with(
        &self,
        ws: &mut Workspace,
        p: &Program,
        x: &[f64],
        values: &mut [f64],
        grad: &mut [f64],
    ) -> Result<f64, ReplayError> {
        self.replay_as("sparse::HessianPlan::eval_program", ws, p, x, values, grad)
    }

    /// [`values_program_with`](Self::values_program_with) with panic
    /// messages naming `who`, the public method the caller called.
    pub(super) fn replay_as(
        &self,
        who: &str,
        ws: &mut Workspace,
        p: &Program,
        x: &[f64],
        values: &mut [f64],
        grad: &mut [f64],
    ) -> Result<f64, ReplayError> {
        assert_eq!(
            p.outputs(),
            1,
            "{who}: the program has {} outputs; a Hessian needs one",
            p.outputs()
        );
        assert!(
            self.sparsity.nrows() == p.inputs() && x.len() == p.inputs(),
            "{who}: the plan is for {} inputs and x has {}, but the program has {}; make the plan \
             from this program",
            self.sparsity.nrows(),
            x.len(),
            p.inputs()
        );
        check_values(who, &self.sparsity, values);
        assert_eq!(
            grad.len(),
            x.len(),
            "{who}: the gradient buffer has {} entries but x has {}; give one entry per input",
            grad.len(),
            x.len()
        );
        with_lanes!(
            self.colouring.count(),
            self.hvps(&mut ws, p, x, values, grad)
        )
    }

    /// Forward over reverse, `N` colours per pass: `ceil(colours / N)`
    /// replays on `DualVec<f64, N>` (input `j`'s tangent lane `c - base` set
    /// where `j` has colour `c` of this pass), each followed by an adjoint
    /// sweep on `DualVec<f64, N>` from the output seeded with 1. Lane `l` of
    /// the inputs' adjoints is then `H s_l` and their real parts the gradient.
    fn hvps<const N: usize>(
        &self,
        l: &mut Lanes<N>,
        p: &Program,
        x: &[f64],
        values: &mut [f64],
        grad: &mut [f64],
    ) -> Result<f64, ReplayError> {
        let colours = self.colouring.colours();
        l.fit(x.len(), x.len());
        let zero = DualVec::new(0.0, [0.0; N]);
        let mut y = [zero];
        let one = [DualVec::new(1.0, [0.0; N])];
        for pass in 0..self.colouring.count().div_ceil(N).max(1) {
            let base = pass * N;
            seed(&mut l.xs, x, colours, base);
            p.evaluate(&mut l.ws, &l.xs, &mut y)?;
            p.pullback(&mut l.ws, &one, &mut l.out);
            for (k, &(c, row)) in self.from.iter().enumerate() {
                if (base..base + N).contains(&c) {
                    values[k] = l.out[row].eps[c - base];
                }
            }
        }
        for (g, d) in grad.iter_mut().zip(&l.out) {
            *g = d.re;
        }
        Ok(y[0].re)
    }
}
