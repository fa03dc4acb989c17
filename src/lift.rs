//! `f64` data next to `S` parameters: [`Lift`].
//!
//! Model code computes in its scalar type `S`, but data (a design matrix,
//! observations, fixed weights) is plain `f64`. nalgebra only multiplies
//! matrices of one element type, and Rust's orphan rule forbids dualtape from
//! adding `DMatrix<f64> * DMatrix<S>` or `DMatrix<S> * 0.5` (both types are
//! nalgebra's). So:
//!
//! - `x.lift::<S>()` turns `f64` data (any nalgebra matrix or vector, a slice)
//!   into constants of `S`: one copy, no derivative, after which every
//!   nalgebra operation works. Lift once per evaluation, outside loops.
//! - `x.lift_mul(&w)` is `x.lift::<S>() * w` without the copy, multiplying
//!   each entry of `w` by a plain `f64` (`S * f64`), which for
//!   [`DualVec`](crate::DualVec) skips the tangent arithmetic on the constant's
//!   zero lanes: 4 to 7 times faster there for a 200 × 371 data matrix
//!   (`cargo run --release --example lift_mul`).
//! - A matrix of `S` times a constant: `m * S::constant(0.5)` (or
//!   `m.map(|v| v * 0.5)`); `m * 0.5` cannot compile for `S` other than `f64`.
//!
//! ```
//! use dualtape::nalgebra::{DMatrix, DVector};
//! use dualtape::{reverse, Lift, LiftMul, Scalar};
//!
//! // Least squares ½‖X w - y‖² with f64 data X, y and parameters w.
//! fn loss<S: Scalar<Real = f64>>(x: &DMatrix<f64>, y: &DVector<f64>, w: &[S]) -> S {
//!     let w = DVector::from_column_slice(w);
//!     let r = x.lift_mul(&w) - y.lift::<S>(); // or x.lift::<S>() * &w
//!     r.norm_squared() * 0.5
//! }
//!
//! let x = DMatrix::from_row_slice(3, 2, &[1.0, 2.0, 3.0, 4.0, 5.0, 6.0]);
//! let y = DVector::from_column_slice(&[1.0, 0.0, 2.0]);
//! let (v, g) = reverse::gradient(|w| loss(&x, &y, w), &[0.5, -0.25]);
//! // closed form: r = X w - y = (-1, 0.5, -1), gradient Xᵀ r = (-4.5, -6)
//! assert_eq!(v, 0.5 * (1.0 + 0.25 + 1.0));
//! assert_eq!(g, vec![-4.5, -6.0]);
//! ```

use nalgebra::allocator::Allocator;
use nalgebra::{DefaultAllocator, Dim, Matrix, OMatrix, RawStorage};

use crate::Scalar;

/// `f64` data lifted to constants of a scalar type `S` (see the
/// [module docs](self)): implemented for nalgebra matrices and vectors of
/// `f64`, slices and arrays of `f64`.
pub trait Lift {
    /// The same shape with elements of `S`.
    type Output<S: Scalar<Real = f64>>;

    /// Each element as `S::constant(v)`: the data, carrying no derivative.
    ///
    /// ```
    /// use dualtape::nalgebra::DMatrix;
    /// use dualtape::{Dual, Lift, Scalar};
    ///
    /// let x = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    /// let xs: DMatrix<Dual<f64>> = x.lift();
    /// assert_eq!((xs[(1, 0)].re, xs[(1, 0)].eps), (3.0, 0.0));
    /// let v: [Dual<f64>; 2] = [0.5, 1.5].lift();
    /// let s: Vec<Dual<f64>> = v.map(|d| d.re)[..].lift(); // slices give a Vec
    /// assert_eq!(v[1].value(), 1.5);
    /// ```
    fn lift<S: Scalar<Real = f64>>(&self) -> Self::Output<S>;
}

impl<R: Dim, C: Dim, St: RawStorage<f64, R, C>> Lift for Matrix<f64, R, C, St>
where
    DefaultAllocator: Allocator<R, C>,
{
    type Output<S: Scalar<Real = f64>> = OMatrix<S, R, C>;

    fn lift<S: Scalar<Real = f64>>(&self) -> OMatrix<S, R, C> {
        self.map(S::constant)
    }
}

impl Lift for [f64] {
    type Output<S: Scalar<Real = f64>> = Vec<S>;

    fn lift<S: Scalar<Real = f64>>(&self) -> Vec<S> {
        self.iter().map(|&v| S::constant(v)).collect()
    }
}

impl<const N: usize> Lift for [f64; N] {
    type Output<S: Scalar<Real = f64>> = [S; N];

    fn lift<S: Scalar<Real = f64>>(&self) -> [S; N] {
        self.map(S::constant)
    }
}

/// The product of an `f64` matrix and a matrix of `S` (see the
/// [module docs](self)).
pub trait LiftMul<S: Scalar<Real = f64>, R2: Dim, C2: Dim, SB: RawStorage<S, R2, C2>> {
    /// The product's type.
    type Output;

    /// `self.lift::<S>() * rhs`, computed without lifting `self`: each term
    /// is `rhs[(k, j)] * self[(i, k)]` with a plain `f64` factor, summed in
    /// order of `k`.
    ///
    /// # Panics
    ///
    /// If `self` has a different number of columns than `rhs` has rows.
    ///
    /// ```
    /// use dualtape::nalgebra::{DMatrix, DVector};
    /// use dualtape::{Dual, LiftMul};
    ///
    /// let x = DMatrix::from_row_slice(2, 2, &[1.0, 2.0, 3.0, 4.0]);
    /// let w = DVector::from_column_slice(&[Dual::variable(1.0), Dual::new(2.0, 0.0)]);
    /// let y = x.lift_mul(&w);
    /// assert_eq!((y[0].re, y[0].eps, y[1].re, y[1].eps), (5.0, 1.0, 11.0, 3.0));
    /// ```
    fn lift_mul(&self, rhs: &Matrix<S, R2, C2, SB>) -> Self::Output;
}

impl<S, R1, C1, SA, R2, C2, SB> LiftMul<S, R2, C2, SB> for Matrix<f64, R1, C1, SA>
where
    S: Scalar<Real = f64>,
    R1: Dim,
    C1: Dim,
    SA: RawStorage<f64, R1, C1>,
    R2: Dim,
    C2: Dim,
    SB: RawStorage<S, R2, C2>,
    DefaultAllocator: Allocator<R1, C2>,
{
    type Output = OMatrix<S, R1, C2>;

    fn lift_mul(&self, rhs: &Matrix<S, R2, C2, SB>) -> OMatrix<S, R1, C2> {
        let (n, inner) = self.shape_generic();
        let (inner2, m) = rhs.shape_generic();
        assert!(
            inner.value() == inner2.value(),
            "lift_mul: the f64 matrix is {}x{} but the right-hand side is {}x{}: the columns of the left must match the rows of the right",
            n.value(),
            inner.value(),
            inner2.value(),
            m.value()
        );
        OMatrix::from_fn_generic(n, m, |i, j| {
            let mut acc = S::constant(0.0);
            for k in 0..inner.value() {
                acc += rhs[(k, j)] * self[(i, k)];
            }
            acc
        })
    }
}
