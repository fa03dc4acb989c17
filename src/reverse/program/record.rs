//! The recording side: while [`record`](super::record) runs, every operation
//! on a `Var` also appends an instruction here (one per tape node, in the
//! same order), and every test on an active value appends a guard.

use std::cell::RefCell;

use super::op::{branch, Code, Op, Test};
use super::{Arg, Guard, Instr};

/// The program being recorded on this thread.
#[derive(Default)]
pub(crate) struct Builder {
    pub(crate) instrs: Vec<Instr>,
    pub(crate) guards: Vec<Guard>,
    /// How many times the value of an active `Var` was read.
    pub(crate) escapes: usize,
}

thread_local! {
    static BUILDER: RefCell<Builder> = RefCell::new(Builder::default());
}

/// A tape index as a program slot (the tape's node 0 is a sentinel).
#[inline]
fn slot(idx: u32) -> Arg {
    debug_assert!(idx > 0);
    Arg::Slot(idx - 1)
}

/// An operand as the program sees it: a slot (`idx > 0`) or a constant.
#[inline]
pub(crate) fn arg(idx: u32, value: f64) -> Arg {
    if idx == 0 {
        Arg::Const(value)
    } else {
        slot(idx)
    }
}

/// Clears the builder for a new recording.
pub(crate) fn start() {
    BUILDER.with(|b| {
        let mut b = b.borrow_mut();
        b.instrs.clear();
        b.guards.clear();
        b.escapes = 0;
    });
}

/// Takes the recorded instructions and guards.
pub(crate) fn take() -> Builder {
    BUILDER.with(|b| std::mem::take(&mut *b.borrow_mut()))
}

/// Appends an instruction (and, for a kinked operation, the guard of its
/// branch). `a` and `b` are the operands with their values.
pub(crate) fn push(op: Op, a: (Arg, f64), b: (Arg, f64)) {
    BUILDER.with(|bl| {
        let mut bl = bl.borrow_mut();
        bl.instrs.push(Instr { op, a: a.0, b: b.0 });
        if let Some(outcome) = branch(op, a.1, b.1) {
            bl.guards.push(Guard {
                test: Test::Kink(op),
                a: a.0,
                b: b.0,
                outcome,
            });
        }
    });
}

/// Appends the instruction of a unary application (`code`) to the active
/// `Var` at tape index `idx` with value `x`.
pub(crate) fn push_code(code: Code, idx: u32, x: f64) {
    match code {
        Code::Unary(op) => push(op, (slot(idx), x), (Arg::Const(0.0), 0.0)),
        Code::Rhs(op, c) => push(op, (slot(idx), x), (Arg::Const(c), c)),
        Code::Lhs(op, c) => push(op, (Arg::Const(c), c), (slot(idx), x)),
    }
}

/// Records a test on values, at least one of them active.
pub(crate) fn guard(test: Test, a: (Arg, f64), b: (Arg, f64)) {
    let outcome = test.outcome(a.1, b.1);
    BUILDER.with(|bl| {
        bl.borrow_mut().guards.push(Guard {
            test,
            a: a.0,
            b: b.0,
            outcome,
        })
    });
}

/// Notes that the value of an active `Var` was read.
pub(crate) fn escape() {
    BUILDER.with(|bl| bl.borrow_mut().escapes += 1);
}
