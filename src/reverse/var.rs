//! `Var`: a recording scalar.

use std::fmt;

use super::program::{record as program, Code, Op, Test};
use super::tape::{self, with_tape, Node};
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
    ///
    /// While a [program](crate::reverse::Program) is being recorded, reading
    /// the value of an active `Var` marks the program (see
    /// [`reverse::program`](crate::reverse::program)): compare `Var`s instead,
    /// comparisons are recorded.
    #[inline(always)]
    pub fn value(&self) -> f64 {
        if self.idx != 0 && recording_program() {
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
        if (self.idx | other.idx) != 0 && recording_program() {
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

    /// `self.mul_add(a, b)`: `(self·a) + b` with the value rounded once. A
    /// program being recorded needs the product as an instruction even
    /// when both factors are constants, to fuse it again at every replay.
    #[inline(always)]
    pub(crate) fn fused_mul_add(self, a: Self, b: Self) -> Self {
        let (v, _, _, dc) = crate::rules::mul_add(self.value, a.value, b.value);
        let mut product = self * a;
        if product.idx == 0 && b.idx != 0 && recording_program() {
            let rec = b.rec;
            product.idx = tape::push(
                [rec, rec],
                Node {
                    partial: [0.0; 2],
                    parent: [0, 0],
                },
            );
            product.rec = rec;
            program::push(
                Op::Mul,
                (program::arg(0, self.value), self.value),
                (program::arg(0, a.value), a.value),
            );
        }
        product.chain2(b, Op::MulAddTail, (v, dc, dc))
    }

    /// Records a unary node, unless the operation is an identity at every
    /// point (`x * 1.0`, `x / 1.0`, `x - 0.0`, `x + (-0.0)`: see
    /// [`Code::is_identity`]; not `x + 0.0`, which is `+0` at `x = -0`) and
    /// the value is unchanged to the bit, where the result is `self` itself.
    ///
    /// Nothing else is skipped: an operation that merely happens to return
    /// its argument at this point (`max(x, 0)` for `x > 0`, `sin` of a tiny
    /// `x`) or to have a zero partial (`floor`, `max(x, 0)` for `x < 0`) is
    /// recorded, so that the tape's structure, and the order in which the
    /// sweep adds adjoints, does not depend on the point: a recorded
    /// [`Program`](crate::reverse::Program) then replays bit for bit like a
    /// fresh recording. (A zero partial costs a node but adds nothing: the
    /// sweep skips it, rule 3.) While a program is recorded there are no
    /// shortcuts at all; the program removes the identities itself.
    #[inline(always)]
    fn unary(self, code: Code, d: f64, v: f64) -> Self {
        let rec = self.rec;
        if code.is_identity() && d == 1.0 && v.to_bits() == self.value.to_bits() {
            // Not recorded, but still checked: a stale Var is caught here too.
            tape::check(rec);
            if !recording_program() {
                return self;
            }
        }
        let parent = self.idx;
        let idx = if d == 0.0 {
            tape::push(
                [rec, rec],
                Node {
                    partial: [0.0; 2],
                    parent: [parent, 0],
                },
            )
        } else {
            tape::push_unary(rec, d, parent)
        };
        if recording_program() {
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
        recs: [u64; 2],
        partial: [f64; 2],
        parent: [u32; 2],
        value: f64,
    ) -> Self {
        let idx = tape::push(recs, Node { partial, parent });
        if recording_program() {
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

/// Whether the active recording also records a program.
#[inline(always)]
fn recording_program() -> bool {
    with_tape(|t| t.program)
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
