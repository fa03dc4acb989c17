//! `Var`: a recording scalar.

use std::fmt;

use super::tape::{self, Node};
use crate::rules::{Binary, Unary};

/// A scalar that records every operation on it onto this thread's tape, so
/// that one backward sweep gives the derivative of the result with respect
/// to every input.
///
/// `Var` is `Copy` and `'static` (it holds its value, its node index and the
/// id of its recording, not a borrow of the tape), so it works inside
/// nalgebra matrices and decompositions like `f64` does. You get `Var`s from
/// a reverse driver such as [`reverse::gradient`](crate::reverse::gradient),
/// which starts a recording, hands your closure one `Var` per input, and ends
/// the recording when the closure returns. Constants (`Var::from(2.0)`,
/// `x * 2.0`) are never recorded.
///
/// `Var` is `f64`-only: its value and the tape's partials are `f64`, and
/// its [`Scalar::Real`](crate::Scalar::Real) is `f64` (forward mode's `Dual`
/// and `DualVec` also run on `f32`).
///
/// # Panics
///
/// Any operation on a `Var` panics, with a message saying what to do, if the
/// `Var` comes from a recording that has ended or from another thread: a
/// stale `Var` never silently corrupts a gradient. Recording ids are 64-bit
/// and never reused, so this holds for the whole life of the process, for
/// any number of recordings and threads (see the README's "Errors").
///
/// ```
/// use dualtape::reverse;
///
/// let (v, g) = reverse::gradient(|x| x[0] * x[1].exp(), &[2.0, 0.0]);
/// assert_eq!(v, 2.0);
/// assert_eq!(g, vec![1.0, 2.0]);
/// ```
#[derive(Clone, Copy)]
pub struct Var {
    value: f64,
    /// Node index on the tape; 0 for a constant.
    idx: u32,
    /// Recording id; 0 for a constant. 64 bits: ids are never reused, so a
    /// stale `Var` can never match a later recording.
    rec: u64,
}

impl Var {
    /// The value.
    #[inline(always)]
    pub fn value(&self) -> f64 {
        self.value
    }

    /// Whether this `Var` is a constant (it depends on no input).
    #[inline(always)]
    pub fn is_constant(&self) -> bool {
        self.idx == 0
    }

    /// The node index on the tape (0 for a constant).
    #[inline(always)]
    pub fn index(&self) -> usize {
        self.idx as usize
    }

    /// The inputs of the active recording `rec` (used by the drivers): one
    /// node each, appended in one go.
    pub(crate) fn inputs(x: &[f64], rec: u64, out: &mut Vec<Var>) {
        let first = tape::push_inputs(rec, x.len());
        out.extend(x.iter().enumerate().map(|(i, &value)| Var {
            value,
            idx: first + i as u32,
            rec,
        }));
    }

    #[inline(always)]
    pub(crate) fn lift(value: f64) -> Self {
        Var {
            value,
            idx: 0,
            rec: 0,
        }
    }

    #[inline(always)]
    pub(crate) fn primal(self) -> f64 {
        self.value
    }

    #[inline(always)]
    pub(crate) fn is_exact_zero(&self) -> bool {
        self.idx == 0 && self.value == 0.0
    }

    #[inline(always)]
    pub(crate) fn chain1(self, (v, d): Unary<f64>) -> Self {
        if self.idx == 0 {
            return Var::lift(v);
        }
        self.unary(d, v)
    }

    #[inline(always)]
    pub(crate) fn chain2(self, o: Self, (v, dx, dy): Binary<f64>) -> Self {
        match (self.idx, o.idx) {
            (0, 0) => Var::lift(v),
            (_, 0) => self.unary(dx, v),
            (0, _) => o.unary(dy, v),
            (a, b) if a == b && self.rec == o.rec => {
                // `x * x`, `x + x`: one parent, partials summed.
                self.record([self.rec, self.rec], [dx + dy, 0.0], [a, 0], v)
            }
            (a, b) => self.record([self.rec, o.rec], [dx, dy], [a, b], v),
        }
    }

    /// Records a unary node, unless the operation is the identity (partial
    /// 1 and the value unchanged to the bit: `x * 1.0`, `x / 1.0`, `x + 0.0`,
    /// which nalgebra's generic matrix products do), where the result is
    /// `self` itself, or has a zero partial, where it is a constant.
    #[inline(always)]
    fn unary(self, d: f64, v: f64) -> Self {
        let identity = d == 1.0 && v.to_bits() == self.value.to_bits();
        if identity || d == 0.0 {
            // Not recorded, but still checked: a stale Var is caught here too.
            tape::check(self.rec);
            // The identity is `self`; a zero partial (floor, x * 0.0, ...)
            // means no dependence on `self`: a constant, which contributes
            // to no gradient, exactly as a zero partial would (rule 3).
            return if identity { self } else { Var::lift(v) };
        }
        let (rec, parent) = (self.rec, self.idx);
        let idx = tape::push_unary(rec, d, parent);
        Var { value: v, idx, rec }
    }

    /// Records a node (see [`Tape::push`](super::tape) for zero partials).
    #[inline(always)]
    fn record(self, recs: [u64; 2], partial: [f64; 2], parent: [u32; 2], value: f64) -> Self {
        let idx = tape::push(recs, Node { partial, parent });
        Var {
            value,
            idx,
            rec: recs[0],
        }
    }
}

crate::ops::impl_scalar! {
    impl [] for Var;
    inner f64;
    reals [f64];
}

impl Default for Var {
    /// The constant 0.
    fn default() -> Self {
        Var::lift(0.0)
    }
}

impl From<f64> for Var {
    /// A constant: never recorded, no derivative.
    fn from(v: f64) -> Self {
        Var::lift(v)
    }
}

impl fmt::Display for Var {
    /// The value, as `f64` displays it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.value, f)
    }
}

impl fmt::Debug for Var {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.idx == 0 {
            write!(f, "Var({:?}, constant)", self.value)
        } else {
            write!(
                f,
                "Var({:?}, node {} of recording #{})",
                self.value, self.idx, self.rec
            )
        }
    }
}

/// The recording id of a `Var` (0 for a constant).
#[inline(always)]
pub(crate) fn rec_of(v: Var) -> u64 {
    v.rec
}
