//! `Var`: a recording scalar.

use std::fmt;

use super::program::{record as program, Code, Op, Test};
use super::tape::{with_tape, Node};
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
/// # Panics
///
/// Any operation on a `Var` panics, with a message saying what to do, if the
/// `Var` comes from a recording that has ended or from another thread: a
/// stale `Var` never silently corrupts a gradient.
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
    /// Recording id; 0 for a constant.
    rec: u32,
}

impl Var {
    /// The value.
    ///
    /// While a [program](crate::reverse::Program) is being recorded, reading
    /// the value of an active `Var` marks the program (see
    /// [`reverse::record`](crate::reverse::record)): compare `Var`s instead,
    /// comparisons are recorded.
    #[inline(always)]
    pub fn value(&self) -> f64 {
        if self.idx != 0 && with_tape(|t| t.program) {
            program::escape();
        }
        self.value
    }

    /// `self` compared with `other` by `test` (as [`Test::outcome`]): while a
    /// program is recorded and either is active, the test and its outcome
    /// are recorded.
    #[inline]
    pub(crate) fn test(&self, other: &Self, test: Test) -> u8 {
        let outcome = test.outcome(self.value, other.value);
        if (self.idx | other.idx) != 0 && with_tape(|t| t.program) {
            program::guard(
                test,
                (program::arg(self.idx, self.value), self.value),
                (program::arg(other.idx, other.value), other.value),
            );
        }
        outcome
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
    pub(crate) fn inputs(x: &[f64], rec: u32, out: &mut Vec<Var>) {
        let first = with_tape(|t| {
            if t.rec != rec {
                super::tape::misuse(rec, t.rec);
            }
            t.push_inputs(x.len())
        });
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

    /// Applies a unary rule: `code` names the operation (and a constant
    /// operand), for a program being recorded.
    #[inline(always)]
    pub(crate) fn chain1(self, code: Code, (v, d): Unary<f64>) -> Self {
        if self.idx == 0 {
            return Var::lift(v);
        }
        self.unary(code, d, v)
    }

    /// Applies a binary rule of the operation `op`.
    #[inline(always)]
    pub(crate) fn chain2(self, o: Self, op: Op, (v, dx, dy): Binary<f64>) -> Self {
        match (self.idx, o.idx) {
            (0, 0) => Var::lift(v),
            (_, 0) => self.unary(Code::Rhs(op, o.value), dx, v),
            (0, _) => o.unary(Code::Lhs(op, self.value), dy, v),
            (a, b) if a == b && self.rec == o.rec => {
                // `x * x`, `x + x`: one parent, partials summed.
                self.record(op, o, [self.rec, self.rec], [dx + dy, 0.0], [a, 0], v)
            }
            (a, b) => self.record(op, o, [self.rec, o.rec], [dx, dy], [a, b], v),
        }
    }

    /// Records a unary node, unless the operation is the identity (partial
    /// 1 and the value unchanged to the bit: `x * 1.0`, `x / 1.0`, `x + 0.0`,
    /// which nalgebra's generic matrix products do), where the result is
    /// `self` itself, or has a zero partial, where it is a constant. While a
    /// program is recorded there are no such shortcuts: the program's
    /// operations must not depend on the point.
    #[inline(always)]
    fn unary(self, code: Code, d: f64, v: f64) -> Self {
        let identity = d == 1.0 && v.to_bits() == self.value.to_bits();
        let rec = self.rec;
        if identity || d == 0.0 {
            // Not recorded, but still checked: a stale Var is caught here too.
            let program = with_tape(|t| {
                if t.rec != rec {
                    super::tape::misuse(rec, t.rec)
                }
                t.program
            });
            // The identity is `self`; a zero partial (floor, x * 0.0, ...)
            // means no dependence on `self`: a constant, which contributes
            // to no gradient, exactly as a zero partial would (rule 3).
            if !program {
                return if identity { self } else { Var::lift(v) };
            }
        }
        let parent = self.idx;
        let (idx, program) = with_tape(|t| {
            let i = if d == 0.0 {
                t.push([rec, rec], Node { partial: [0.0; 2], parent: [parent, 0] })
            } else {
                t.push_unary(rec, d, parent)
            };
            (i, t.program)
        });
        if program {
            program::push_code(code, parent, self.value);
        }
        Var { value: v, idx, rec }
    }

    /// Records a node (see [`Tape::push`](super::tape) for zero partials).
    #[inline(always)]
    fn record(
        self,
        op: Op,
        o: Self,
        recs: [u32; 2],
        partial: [f64; 2],
        parent: [u32; 2],
        value: f64,
    ) -> Self {
        let (idx, program) = with_tape(|t| (t.push(recs, Node { partial, parent }), t.program));
        if program {
            program::push(
                op,
                (program::arg(self.idx, self.value), self.value),
                (program::arg(o.idx, o.value), o.value),
            );
        }
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
pub(crate) fn rec_of(v: Var) -> u32 {
    v.rec
}
