//! The recording side: while [`record`](super::record) runs, every operation
//! on a `Var` also appends an instruction here (one per tape node, in the
//! same order), and every test on an active value appends a guard.

use std::cell::RefCell;

use super::op::{branch, Code, Op, Test};
use super::{Arg, Guard, Instr, Program};

/// The program being recorded on this thread, and the scratch that turns
/// it into a [`Program`]: kept from one recording to the next, so a warm
/// recording allocates only the program it returns.
pub(crate) struct Builder {
    pub(crate) instrs: Vec<Instr>,
    pub(crate) guards: Vec<Guard>,
    /// How many times the value of an active `Var` was read.
    pub(crate) escapes: usize,
    /// The optimiser's slot map and flags (one entry per slot).
    pub(crate) map: Vec<u32>,
    pub(crate) flags: Vec<u8>,
    /// The recorded constants' bit patterns, to count them.
    pub(crate) constants: Vec<u64>,
}

impl Builder {
    const EMPTY: Builder = Builder {
        instrs: Vec::new(),
        guards: Vec::new(),
        escapes: 0,
        map: Vec::new(),
        flags: Vec::new(),
        constants: Vec::new(),
    };
}

thread_local! {
    static BUILDER: RefCell<Builder> = const { RefCell::new(Builder::EMPTY) };
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

/// The program recorded since [`start`], with `n` inputs and these outputs
/// (optimised and compiled); the builder keeps its buffers.
pub(crate) fn finish(n: usize, outputs: Vec<Arg>) -> Program {
    BUILDER.with(|b| super::finish(n, &mut b.borrow_mut(), outputs))
}

/// Frees the builder's buffers (see
/// [`release_tape`](crate::reverse::release_tape)).
pub(crate) fn release() {
    let _ = BUILDER.try_with(|b| *b.borrow_mut() = Builder::EMPTY);
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
