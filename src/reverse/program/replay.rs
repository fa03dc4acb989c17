//! The executable form of a program and its interpreter.
//!
//! # Batches
//!
//! A program's [`Instr`](super::Instr) list stays the source of truth; from
//! it, once per program ([`Exec::compile`], when the program is built or
//! deserialised), comes an executable form in which the instructions are
//! *reordered into batches*: runs of instructions with the same operation
//! and the same operand shape (a slot, two slots, the same slot twice, a
//! slot and a constant, ...). The forward pass runs each batch as one tight
//! loop over its instructions, with the operation and the shape chosen once
//! per batch instead of once per instruction; the adjoint sweep runs the
//! batches backwards, each as a loop that only knows which operands receive
//! an adjoint. A program that repeats a computation (a sum over data
//! points, the pairs of Rosenbrock, a matrix product) thus pays the
//! interpreter's dispatch once per batch of up to [`BATCH`] instructions
//! instead of once per instruction. Where a batch's operand slots advance
//! by a fixed stride (the same computation on the next pair of inputs, on
//! the next data point), the loops compute them ([`Affine`]) instead of
//! loading them from the operand table.
//!
//! There are no fused instructions: every instruction of the program is
//! one element of one batch, so the chain rule is applied per instruction
//! and in one place, the sweep.
//!
//! Each instruction is still evaluated by its own rule of
//! [`rules`](crate::rules) ([`eval`], or the rule itself for `+`, `-`, `*`,
//! `/`), with the same operands, so every value and partial is the one a
//! fresh recording computes. For the operations whose partials are
//! constants or operands (`+`, `-`, `*`, negation: [`rederives`]) the
//! forward pass stores the value only, and the sweep evaluates the rule
//! again on the operand values for the partials (the same rule on the same
//! operands: the same partials), so no partial is written and read back. The chain rule is applied in [`Exec::sweep`]
//! only, per instruction, as the tape does: a zero adjoint or a zero partial
//! adds nothing (rule 3 of [`rules`](crate::rules)), and an operation whose
//! two operands are one slot (`x * x`) adds the sum of its two partials
//! once, that sum being formed in the forward pass instead of the sweep (the
//! same addition of the same values).
//!
//! # Why the reordering changes no bit
//!
//! The order is a topological order of the instructions (each after the
//! instructions whose results it reads), so the forward pass computes the
//! same values. In the sweep, each slot's adjoint is final when its
//! instruction is swept (its users are all later in the order), and each
//! slot receives its adjoint contributions in the same order as in the
//! program, because the order also keeps, for every slot, the instructions
//! that add into its adjoint in their program order (an edge from each such
//! instruction to the next). Floating-point addition is not associative, so
//! this second condition is what keeps the sums identical to the tape's.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use super::op::{eval, Op, Test};
use super::{Arg, Program, ReplayError};
use crate::{rules, Scalar};

/// The most instructions in one batch: enough to amortise the dispatch,
/// few enough that a batch's operands (written by the batches just before)
/// are still in cache.
pub(crate) const BATCH: usize = 256;

/// An operand in the compiler: `Ok(program slot)` or `Err(constant index)`.
type Operand = Result<u32, u32>;

/// How an instruction reads its operands and where its adjoint goes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) enum Shape {
    /// A unary operation of a slot: one partial, into `a`.
    Unary,
    /// A binary operation whose operands are one slot: the summed partials,
    /// into `a`.
    Same,
    /// `a op c`: the partial for `a`.
    SlotConst,
    /// `c op b`: the partial for `b` (kept in `da`).
    ConstSlot,
    /// `a op b`, two distinct slots: both partials.
    Both,
    /// Only constant operands: no adjoint.
    Consts,
}

impl Shape {
    fn of(op: Op, a: Result<u32, u32>, b: Result<u32, u32>) -> Shape {
        match (a, b) {
            (Ok(_), _) if !op.is_binary() => Shape::Unary,
            (Ok(x), Ok(y)) if x == y => Shape::Same,
            (Ok(_), Ok(_)) => Shape::Both,
            (Ok(_), Err(_)) => Shape::SlotConst,
            (Err(_), Ok(_)) if op.is_binary() => Shape::ConstSlot,
            _ => Shape::Consts,
        }
    }

    /// The sweep's kind of loop for an operation `op` of this shape.
    fn sweep(self, op: Op) -> Sweep {
        match self {
            Shape::Consts => Sweep::Nothing,
            _ if rederives(op) => Sweep::Rule(op, self),
            Shape::Unary | Shape::Same | Shape::SlotConst => Sweep::A,
            Shape::ConstSlot => Sweep::B,
            Shape::Both => Sweep::Both,
            Shape::Consts => Sweep::Nothing,
        }
    }
}

/// What the sweep does for a run of instructions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Sweep {
    /// Adds `da · g` into slot `a`.
    A,
    /// Adds `da · g` into slot `b`.
    B,
    /// Adds `da · g` into `a`, then `db · g` into `b`.
    Both,
    /// Clears the adjoint only.
    Nothing,
    /// Evaluates the rule of the operation (one of [`rederives`]) again on
    /// the operand values and adds its partials as the shape says: `pa`
    /// into `a` (`Unary`, `SlotConst`), `pa + pb` into `a` (`Same`), `pb`
    /// into `b` (`ConstSlot`), `pa` into `a` then `pb` into `b` (`Both`).
    Rule(Op, Shape),
}

/// Whether the forward pass stores only the value of `op`, and the sweep
/// re-derives its partials by evaluating its rule again on the operand
/// values: the operations whose partials are constants or operands (`+`,
/// `-`, `*`, negation). The same rule on the same operands gives the same
/// partials, so nothing changes but the bytes moved: no partials written
/// in the forward pass and read back in the sweep.
#[inline(always)]
pub(crate) fn rederives(op: Op) -> bool {
    matches!(op, Op::Add | Op::Sub | Op::Mul | Op::Neg)
}

/// Instructions `start..end` (executable positions), all of one operation
/// and one shape.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Batch {
    pub(crate) op: Op,
    pub(crate) shape: Shape,
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// Operand slots in arithmetic progression (a repeated computation):
    /// `a[start + i] == a0 + i * sa`, `b[start + i] == b0 + i * sb`, so the
    /// loops compute them instead of loading them.
    pub(crate) affine: Option<Affine>,
}

/// Operand slots `a0 + i * sa`, `b0 + i * sb` for the `i`-th instruction of
/// a batch or run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Affine {
    pub(crate) a0: u32,
    pub(crate) sa: u32,
    pub(crate) b0: u32,
    pub(crate) sb: u32,
}

impl Affine {
    /// The progression `v[s..e]` follows, if any (non-negative steps).
    fn of(a: &[u32], b: &[u32], s: usize, e: usize) -> Option<Affine> {
        let step = |v: &[u32]| -> Option<(u32, u32)> {
            let d = if e - s >= 2 {
                v[s + 1].checked_sub(v[s])?
            } else {
                0
            };
            (s..e)
                .all(|k| v[k] as u64 == v[s] as u64 + (k - s) as u64 * d as u64)
                .then_some((v[s], d))
        };
        let ((a0, sa), (b0, sb)) = (step(a)?, step(b)?);
        Some(Affine { a0, sa, b0, sb })
    }

    /// The operand slots of instruction `k` of a span starting at `s`.
    #[inline(always)]
    fn at(self, s: usize, k: usize) -> (usize, usize) {
        let i = k - s;
        (
            self.a0 as usize + i * self.sa as usize,
            self.b0 as usize + i * self.sb as usize,
        )
    }
}

/// Instructions `start..end` swept by one loop.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Run {
    pub(crate) kind: Sweep,
    pub(crate) start: u32,
    pub(crate) end: u32,
    /// As [`Batch::affine`].
    pub(crate) affine: Option<Affine>,
}

/// One comparison to re-check, in slots of the executable form.
#[derive(Clone, Copy, Debug)]
pub(crate) struct XGuard {
    pub(crate) test: Test,
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) outcome: u8,
}

/// A program compiled for replay. Slots: the `n` inputs, then the constants,
/// then one per instruction in executable order (instruction `k` of the
/// executable form writes slot `base() + k`).
#[derive(Clone, Debug, Default)]
pub(crate) struct Exec {
    pub(crate) n: usize,
    pub(crate) consts: Vec<f64>,
    /// Operand slots of each instruction (for a unary operation or one slot
    /// used twice, `b == a`; a constant operand reads its constant's slot).
    pub(crate) a: Vec<u32>,
    pub(crate) b: Vec<u32>,
    pub(crate) batches: Vec<Batch>,
    pub(crate) runs: Vec<Run>,
    pub(crate) outputs: Vec<u32>,
    pub(crate) guards: Vec<XGuard>,
}

impl Exec {
    /// The first instruction's slot.
    #[inline(always)]
    pub(crate) fn base(&self) -> usize {
        self.n + self.consts.len()
    }

    /// The number of instructions.
    #[inline(always)]
    pub(crate) fn len(&self) -> usize {
        self.a.len()
    }

    pub(crate) fn slots(&self) -> usize {
        self.base() + self.len()
    }

    /// Compiles the instructions of `p` (already validated: every operand
    /// refers to an input or an earlier instruction, `MulAddTail`'s first
    /// operand is a `Mul`).
    pub(crate) fn compile(p: &Program) -> Exec {
        let n = p.inputs;
        let len = p.instrs.len();
        // constants, deduplicated by bit pattern
        let mut consts: Vec<f64> = Vec::new();
        let mut const_slot = HashMap::<u64, u32>::new();
        let mut resolve = |a: Arg, consts: &mut Vec<f64>| -> Result<u32, u32> {
            match a {
                Arg::Slot(s) => Ok(s),
                Arg::Const(c) => Err(*const_slot.entry(c.to_bits()).or_insert_with(|| {
                    consts.push(c);
                    (consts.len() - 1) as u32
                })),
            }
        };
        let mut args = Vec::with_capacity(len);
        for ins in &p.instrs {
            let a = resolve(ins.a, &mut consts);
            let b = if ins.op.is_binary() {
                resolve(ins.b, &mut consts)
            } else {
                a
            };
            args.push((a, b));
        }
        let outs: Vec<Result<u32, u32>> =
            p.outputs.iter().map(|&o| resolve(o, &mut consts)).collect();
        let guards: Vec<(Result<u32, u32>, Result<u32, u32>)> = p
            .guards
            .iter()
            .map(|g| (resolve(g.a, &mut consts), resolve(g.b, &mut consts)))
            .collect();
        let shapes: Vec<Shape> = p
            .instrs
            .iter()
            .zip(&args)
            .map(|(ins, &(a, b))| Shape::of(ins.op, a, b))
            .collect();

        let order = schedule(n, p, &args, &shapes);

        // program slot -> executable slot
        let nc = consts.len();
        let base = n + nc;
        let mut pos = vec![0u32; len];
        for (e, &k) in order.iter().enumerate() {
            pos[k as usize] = e as u32;
        }
        let slot = |s: u32| -> u32 {
            if (s as usize) < n {
                s
            } else {
                (base as u32) + pos[s as usize - n]
            }
        };
        let place = |r: Result<u32, u32>| -> u32 {
            match r {
                Ok(s) => slot(s),
                Err(c) => (n as u32) + c,
            }
        };
        let mut a = Vec::with_capacity(len);
        let mut b = Vec::with_capacity(len);
        let mut batches: Vec<Batch> = Vec::new();
        for (e, &k) in order.iter().enumerate() {
            let k = k as usize;
            let (ra, rb) = args[k];
            a.push(place(ra));
            b.push(place(rb));
            let (op, shape) = (p.instrs[k].op, shapes[k]);
            match batches.last_mut() {
                Some(last)
                    if last.op == op
                        && last.shape == shape
                        && (last.end - last.start) < BATCH as u32 =>
                {
                    last.end += 1
                }
                _ => batches.push(Batch {
                    op,
                    shape,
                    start: e as u32,
                    end: e as u32 + 1,
                    affine: None,
                }),
            }
        }
        for bt in &mut batches {
            if bt.end - bt.start >= 4 && bt.op != Op::MulAddTail {
                bt.affine = Affine::of(&a, &b, bt.start as usize, bt.end as usize);
            }
        }
        let mut runs: Vec<Run> = Vec::new();
        for bt in &batches {
            let kind = bt.shape.sweep(bt.op);
            match runs.last_mut() {
                Some(last) if last.kind == kind && last.affine.is_none() && bt.affine.is_none() => {
                    last.end = bt.end
                }
                _ => runs.push(Run {
                    kind,
                    start: bt.start,
                    end: bt.end,
                    affine: bt.affine,
                }),
            }
        }
        let exec = Exec {
            n,
            consts,
            a,
            b,
            batches,
            runs,
            outputs: outs.into_iter().map(place).collect(),
            guards: p
                .guards
                .iter()
                .zip(guards)
                .map(|(g, (a, b))| XGuard {
                    test: g.test,
                    a: place(a),
                    b: place(b),
                    outcome: g.outcome,
                })
                .collect(),
        };
        exec.validate();
        exec
    }

    /// The structural facts the interpreter's unchecked indexing relies on,
    /// checked once: every operand slot is below its instruction's own slot,
    /// the batches and the runs each cover `0..len()` in order, and where a
    /// batch or run computes its operand slots by [`Affine`], they are the
    /// ones in `a` and `b`.
    fn validate(&self) {
        let base = self.base();
        for k in 0..self.len() {
            assert!(
                (self.a[k] as usize) < base + k && (self.b[k] as usize) < base + k,
                "dualtape: internal error: instruction {k} of a compiled program reads a later slot"
            );
        }
        let covers = |spans: &mut dyn Iterator<Item = (u32, u32)>| {
            let mut at = 0;
            for (s, e) in spans {
                assert!(
                    s == at && s < e,
                    "dualtape: internal error: malformed batches"
                );
                at = e;
            }
            assert!(
                at as usize == self.len(),
                "dualtape: internal error: malformed batches"
            );
        };
        covers(&mut self.batches.iter().map(|b| (b.start, b.end)));
        covers(&mut self.runs.iter().map(|r| (r.start, r.end)));
        let spans = self.batches.iter().map(|b| (b.start, b.end, b.affine));
        for (s, e, affine) in spans.chain(self.runs.iter().map(|r| (r.start, r.end, r.affine))) {
            if let Some(af) = affine {
                for k in s as usize..e as usize {
                    assert!(
                        af.at(s as usize, k) == (self.a[k] as usize, self.b[k] as usize),
                        "dualtape: internal error: a batch's operands are not in progression"
                    );
                }
            }
        }
        for bt in &self.batches {
            if bt.op == Op::MulAddTail {
                for k in bt.start as usize..bt.end as usize {
                    assert!(
                        self.a[k] as usize >= base,
                        "dualtape: internal error: MulAddTail without its Mul"
                    );
                }
            }
        }
    }
}

/// The executable order: a topological order of the instructions that keeps
/// the adjoint contributions into every slot in program order, grouping
/// instructions of one class (operation and shape) into batches. Greedy:
/// take the earliest ready instruction, then as many ready instructions of
/// its class as there are (up to [`BATCH`]), in program order.
fn schedule(n: usize, p: &Program, args: &[(Operand, Operand)], shapes: &[Shape]) -> Vec<u32> {
    let len = args.len();
    // predecessors: producers of slot operands, and the previous instruction
    // adding into the same adjoint
    let mut last_user = vec![u32::MAX; n + len];
    let mut preds: Vec<[u32; 4]> = Vec::with_capacity(len);
    let mut npred = vec![0u8; len];
    for (k, &(a, b)) in args.iter().enumerate() {
        let mut ps = [u32::MAX; 4];
        let mut np = 0usize;
        let add = |q: u32, ps: &mut [u32; 4], np: &mut usize| {
            if q != u32::MAX && !ps[..*np].contains(&q) {
                ps[*np] = q;
                *np += 1;
            }
        };
        for s in [a, b].into_iter().flatten() {
            if s as usize >= n {
                add(s - n as u32, &mut ps, &mut np);
            }
        }
        let targets: [Option<u32>; 2] = match shapes[k] {
            Shape::Unary | Shape::Same | Shape::SlotConst => [a.ok(), None],
            Shape::ConstSlot => [b.ok(), None],
            Shape::Both => [a.ok(), b.ok()],
            Shape::Consts => [None, None],
        };
        for s in targets.into_iter().flatten() {
            add(last_user[s as usize], &mut ps, &mut np);
            last_user[s as usize] = k as u32;
        }
        preds.push(ps);
        npred[k] = np as u8;
    }
    // successors (CSR)
    let mut start = vec![0u32; len + 1];
    for (k, ps) in preds.iter().enumerate() {
        for &q in &ps[..npred[k] as usize] {
            start[q as usize + 1] += 1;
        }
    }
    for k in 0..len {
        start[k + 1] += start[k];
    }
    let mut fill = start.clone();
    let mut succ = vec![0u32; start[len] as usize];
    for (k, ps) in preds.iter().enumerate() {
        for &q in &ps[..npred[k] as usize] {
            succ[fill[q as usize] as usize] = k as u32;
            fill[q as usize] += 1;
        }
    }
    // classes
    let mut class_of = HashMap::<(Op, Shape), u32>::new();
    let class: Vec<u32> = p
        .instrs
        .iter()
        .zip(shapes)
        .map(|(ins, &s)| {
            let next = class_of.len() as u32;
            *class_of.entry((ins.op, s)).or_insert(next)
        })
        .collect();
    let mut ready: Vec<BinaryHeap<Reverse<u32>>> = vec![BinaryHeap::new(); class_of.len()];
    let mut earliest = BinaryHeap::new();
    let mut indeg = npred;
    for k in 0..len {
        if indeg[k] == 0 {
            ready[class[k] as usize].push(Reverse(k as u32));
            earliest.push(Reverse(k as u32));
        }
    }
    let mut done = vec![false; len];
    let mut order = Vec::with_capacity(len);
    while let Some(Reverse(k)) = earliest.pop() {
        if done[k as usize] {
            continue;
        }
        let c = class[k as usize] as usize;
        let mut taken = 0;
        while taken < BATCH {
            let Some(Reverse(j)) = ready[c].pop() else {
                break;
            };
            done[j as usize] = true;
            order.push(j);
            taken += 1;
            for &s in &succ[start[j as usize] as usize..start[j as usize + 1] as usize] {
                indeg[s as usize] -= 1;
                if indeg[s as usize] == 0 {
                    ready[class[s as usize] as usize].push(Reverse(s));
                    earliest.push(Reverse(s));
                }
            }
        }
    }
    assert!(
        order.len() == len,
        "dualtape: internal error: a program's instructions do not form a DAG"
    );
    order
}

/// Reusable storage for replays on values of type `T`: with one kept
/// between calls, [`Program::gradient_into`] and friends allocate nothing.
///
/// Make one with [`Program::workspace`] (or `Workspace::default()`, which
/// grows on first use). A workspace is not tied to one program.
#[derive(Clone, Debug)]
pub struct Workspace<T = f64> {
    pub(crate) vals: Vec<T>,
    pub(crate) da: Vec<T>,
    pub(crate) db: Vec<T>,
    pub(crate) adj: Vec<T>,
    pub(crate) out: Vec<T>,
}

impl<T> Default for Workspace<T> {
    fn default() -> Self {
        Workspace {
            vals: Vec::new(),
            da: Vec::new(),
            db: Vec::new(),
            adj: Vec::new(),
            out: Vec::new(),
        }
    }
}

impl<T: Scalar<Real = f64>> Workspace<T> {
    /// Sizes the buffers for `e` (allocating only when they are too small).
    pub(crate) fn fit(&mut self, e: &Exec) {
        let (slots, ops) = (e.slots(), e.len());
        if self.vals.len() < slots {
            self.vals.resize(slots, T::zero());
        }
        if self.adj.len() < slots {
            self.adj.resize(slots, T::zero());
        }
        if self.da.len() < ops {
            self.da.resize(ops, T::zero());
            self.db.resize(ops, T::zero());
        }
    }
}

/// Runs `body(k)` for `k` in `s..e`, in order, four at a time: the loop's
/// counter, operand slots and exit test are paid once per four
/// instructions (the compiler does not unroll these loops by itself).
#[inline(always)]
fn up(s: usize, e: usize, mut body: impl FnMut(usize)) {
    let mut k = s;
    while k + 4 <= e {
        body(k);
        body(k + 1);
        body(k + 2);
        body(k + 3);
        k += 4;
    }
    while k < e {
        body(k);
        k += 1;
    }
}

/// Runs `body(k)` for `k` in `s..e` in reverse order, four at a time (see
/// [`up`]).
#[inline(always)]
fn down(s: usize, e: usize, mut body: impl FnMut(usize)) {
    let mut k = e;
    while k >= s + 4 {
        body(k - 1);
        body(k - 2);
        body(k - 3);
        body(k - 4);
        k -= 4;
    }
    while k > s {
        k -= 1;
        body(k);
    }
}

/// [`eval`] out of line: one copy per scalar type for the operations
/// without a loop of their own.
#[inline(never)]
fn eval_outlined<T: Scalar>(op: Op, a: T, b: T) -> rules::Binary<T> {
    eval(op, a, b)
}

impl Exec {
    /// The forward pass: `ws.vals[..n]` holds the inputs on entry; on return
    /// every slot holds its value, and `da`/`db` every instruction's
    /// partials. Then checks the recorded comparisons.
    #[inline(never)]
    pub(crate) fn forward<T: Scalar<Real = f64>>(
        &self,
        ws: &mut Workspace<T>,
        kinks: bool,
    ) -> Result<(), ReplayError> {
        let (base, len) = (self.base(), self.len());
        let vals = &mut ws.vals[..base + len];
        let (da, db) = (&mut ws.da[..len], &mut ws.db[..len]);
        for (c, v) in self.consts.iter().zip(&mut vals[self.n..base]) {
            *v = T::constant(*c);
        }
        for bt in &self.batches {
            let (s, e) = (bt.start as usize, bt.end as usize);
            // SAFETY: `validate` checked, once per compiled program, that
            // the batches cover `0..len` (so `s <= e <= len == da.len() ==
            // db.len() == ai.len() == bi.len()`), that every operand slot
            // `a[k]`, `b[k]` is below `base + k < base + len == vals.len()`,
            // and that an affine batch's slots are those; a `MulAddTail`'s
            // `a[k]` is an instruction slot `base + m` with `m < k`, whose
            // operands are below `base + m` in turn.
            unsafe {
                let (ai, bi) = (&self.a[..], &self.b[..]);
                macro_rules! go {
                    ($f:expr) => {
                        match bt.affine {
                            Some(af) => {
                                self.batch(bt.shape, s, e, vals, da, db, $f, |k| af.at(s, k))
                            }
                            None => self.batch(bt.shape, s, e, vals, da, db, $f, |k| {
                                (*ai.get_unchecked(k) as usize, *bi.get_unchecked(k) as usize)
                            }),
                        }
                    };
                }
                // the operations of `rederives`: the value only
                macro_rules! value {
                    ($f:expr) => {
                        match bt.affine {
                            Some(af) => self.values(s, e, vals, $f, |k| af.at(s, k)),
                            None => self.values(s, e, vals, $f, |k| {
                                (*ai.get_unchecked(k) as usize, *bi.get_unchecked(k) as usize)
                            }),
                        }
                    };
                }
                match bt.op {
                    Op::Add => value!(rules::add),
                    Op::Sub => value!(rules::sub),
                    Op::Mul => value!(rules::mul),
                    Op::Neg => value!(|x, y| eval(Op::Neg, x, y)),
                    Op::Div => go!(rules::div),
                    Op::MulAddTail => self.mul_add_tail(bt.shape, s, e, vals, da, db),
                    op => go!(|x, y| eval_outlined(op, x, y)),
                }
            }
        }
        for (index, g) in self.guards.iter().enumerate() {
            if !kinks && g.test.is_kink() {
                continue;
            }
            let (a, b) = (vals[g.a as usize].value(), vals[g.b as usize].value());
            let now = g.test.outcome(a, b);
            if now != g.outcome {
                return Err(ReplayError::ComparisonChanged {
                    index,
                    test: g.test,
                    a,
                    b,
                    recorded: g.outcome,
                    now,
                });
            }
        }
        Ok(())
    }

    /// Evaluates instructions `s..e`, all of shape `shape`, by `f` (a rule):
    /// the value into the instruction's slot, the partials the sweep needs
    /// into `da` (and `db`).
    ///
    /// # Safety
    ///
    /// `s <= e <= da.len(), db.len()`, and for every `k` in `s..e` the
    /// operand slots `ix(k)` below `base() + k`, which is below `vals.len()`.
    #[allow(clippy::too_many_arguments)]
    #[inline(always)]
    unsafe fn batch<T: Scalar<Real = f64>>(
        &self,
        shape: Shape,
        s: usize,
        e: usize,
        vals: &mut [T],
        da: &mut [T],
        db: &mut [T],
        f: impl Fn(T, T) -> rules::Binary<T>,
        ix: impl Fn(usize) -> (usize, usize),
    ) {
        let base = self.base();
        // SAFETY (every access below): the caller's contract.
        match shape {
            Shape::Unary => {
                up(s, e, |k| {
                    let x = *vals.get_unchecked(ix(k).0);
                    let (v, pa, _) = f(x, x);
                    *vals.get_unchecked_mut(base + k) = v;
                    *da.get_unchecked_mut(k) = pa;
                });
            }
            Shape::Same => {
                up(s, e, |k| {
                    let x = *vals.get_unchecked(ix(k).0);
                    let (v, pa, pb) = f(x, x);
                    *vals.get_unchecked_mut(base + k) = v;
                    *da.get_unchecked_mut(k) = pa + pb;
                });
            }
            Shape::SlotConst => {
                up(s, e, |k| {
                    let (ia, ib) = ix(k);
                    let (x, y) = (*vals.get_unchecked(ia), *vals.get_unchecked(ib));
                    let (v, pa, _) = f(x, y);
                    *vals.get_unchecked_mut(base + k) = v;
                    *da.get_unchecked_mut(k) = pa;
                });
            }
            Shape::ConstSlot => {
                up(s, e, |k| {
                    let (ia, ib) = ix(k);
                    let (x, y) = (*vals.get_unchecked(ia), *vals.get_unchecked(ib));
                    let (v, _, pb) = f(x, y);
                    *vals.get_unchecked_mut(base + k) = v;
                    *da.get_unchecked_mut(k) = pb;
                });
            }
            Shape::Both => {
                up(s, e, |k| {
                    let (ia, ib) = ix(k);
                    let (x, y) = (*vals.get_unchecked(ia), *vals.get_unchecked(ib));
                    let (v, pa, pb) = f(x, y);
                    *vals.get_unchecked_mut(base + k) = v;
                    *da.get_unchecked_mut(k) = pa;
                    *db.get_unchecked_mut(k) = pb;
                });
            }
            Shape::Consts => {
                up(s, e, |k| {
                    let (ia, ib) = ix(k);
                    let (x, y) = (*vals.get_unchecked(ia), *vals.get_unchecked(ib));
                    *vals.get_unchecked_mut(base + k) = f(x, y).0;
                });
            }
        }
    }

    /// Evaluates instructions `s..e` by `f` (a rule), keeping only the
    /// value: the operations of [`rederives`].
    ///
    /// # Safety
    ///
    /// As [`batch`](Self::batch).
    #[inline(always)]
    unsafe fn values<T: Scalar<Real = f64>>(
        &self,
        s: usize,
        e: usize,
        vals: &mut [T],
        f: impl Fn(T, T) -> rules::Binary<T>,
        ix: impl Fn(usize) -> (usize, usize),
    ) {
        let base = self.base();
        up(s, e, |k| {
            let (ia, ib) = ix(k);
            // SAFETY: the caller's contract.
            let (x, y) = (*vals.get_unchecked(ia), *vals.get_unchecked(ib));
            *vals.get_unchecked_mut(base + k) = f(x, y).0;
        });
    }

    /// A batch of `MulAddTail`: `a.mul_add(b, c)` where `a[k]` is the slot
    /// of the program's `a * b`, with the partials `(1, 1)` as the tape
    /// records them.
    ///
    /// # Safety
    ///
    /// As [`batch`](Self::batch), and every `a[k]` is an instruction's slot
    /// `base() + m` (so `m < k`).
    #[allow(clippy::too_many_arguments)]
    #[cold]
    unsafe fn mul_add_tail<T: Scalar<Real = f64>>(
        &self,
        shape: Shape,
        s: usize,
        e: usize,
        vals: &mut [T],
        da: &mut [T],
        db: &mut [T],
    ) {
        let base = self.base();
        for k in s..e {
            let m = *self.a.get_unchecked(k) as usize - base;
            let x = *vals.get_unchecked(*self.a.get_unchecked(m) as usize);
            let y = *vals.get_unchecked(*self.b.get_unchecked(m) as usize);
            let c = *vals.get_unchecked(*self.b.get_unchecked(k) as usize);
            let (v, _, _, _) = rules::mul_add(x, y, c);
            *vals.get_unchecked_mut(base + k) = v;
            match shape {
                Shape::Same => *da.get_unchecked_mut(k) = T::one() + T::one(),
                _ => {
                    *da.get_unchecked_mut(k) = T::one();
                    *db.get_unchecked_mut(k) = T::one();
                }
            }
        }
    }

    /// The value of output `i` after a forward pass.
    #[inline]
    pub(crate) fn output<T: Copy>(&self, ws: &Workspace<T>, i: usize) -> T {
        ws.vals[self.outputs[i] as usize]
    }

    /// The adjoint sweep: seeds `w[j]` on output `j`, sweeps every
    /// instruction in reverse executable order (the tape's loop: a zero
    /// adjoint or a zero partial contributes nothing, rule 3), writes the
    /// inputs' adjoints into `out` and leaves `ws.adj` all zeros.
    #[inline(never)]
    pub(crate) fn sweep<T: Scalar<Real = f64>>(
        &self,
        ws: &mut Workspace<T>,
        seeds: impl IntoIterator<Item = (usize, T)>,
        out: &mut [T],
    ) {
        let (base, len) = (self.base(), self.len());
        let adj = &mut ws.adj[..base + len];
        for (j, w) in seeds {
            let s = self.outputs[j] as usize;
            if s < self.n || s >= base {
                adj[s] += w;
            }
        }
        let (da, db) = (&ws.da[..len], &ws.db[..len]);
        let vals = &ws.vals[..base + len];
        let (ai, bi) = (&self.a[..], &self.b[..]);
        for run in self.runs.iter().rev() {
            let (s, e) = (run.start as usize, run.end as usize);
            // SAFETY: `validate` checked that the runs cover `0..len`, so
            // `k < len == da.len() == db.len() == ai.len() == bi.len()`, that
            // `a[k]`, `b[k] < base + k < adj.len()`, and that an affine run's
            // slots are those.
            unsafe {
                // one loop per kind: `$t(k)` is the slot that receives
                // `da[k] · g` (A, B), `$ta`/`$tb` those of `da`/`db` (Both)
                macro_rules! one {
                    ($t:expr) => {
                        down(s, e, |k| {
                            let i = base + k;
                            let g = *adj.get_unchecked(i);
                            if !g.is_zero() {
                                *adj.get_unchecked_mut(i) = T::zero();
                                let p = *da.get_unchecked(k);
                                if !p.is_zero() {
                                    *adj.get_unchecked_mut($t(k)) += p * g;
                                }
                            }
                        })
                    };
                }
                macro_rules! two {
                    ($ta:expr, $tb:expr) => {
                        down(s, e, |k| {
                            let i = base + k;
                            let g = *adj.get_unchecked(i);
                            if !g.is_zero() {
                                *adj.get_unchecked_mut(i) = T::zero();
                                let (pa, pb) = (*da.get_unchecked(k), *db.get_unchecked(k));
                                if !pa.is_zero() {
                                    *adj.get_unchecked_mut($ta(k)) += pa * g;
                                }
                                if !pb.is_zero() {
                                    *adj.get_unchecked_mut($tb(k)) += pb * g;
                                }
                            }
                        })
                    };
                }
                let ta = |k: usize| *ai.get_unchecked(k) as usize;
                let tb = |k: usize| *bi.get_unchecked(k) as usize;
                match (run.kind, run.affine) {
                    (Sweep::A, Some(af)) => one!(|k: usize| af.at(s, k).0),
                    (Sweep::A, None) => one!(ta),
                    (Sweep::B, Some(af)) => one!(|k: usize| af.at(s, k).1),
                    (Sweep::B, None) => one!(tb),
                    (Sweep::Both, Some(af)) => {
                        two!(|k: usize| af.at(s, k).0, |k: usize| af.at(s, k).1)
                    }
                    (Sweep::Both, None) => two!(ta, tb),
                    (Sweep::Nothing, _) => {
                        for k in s..e {
                            *adj.get_unchecked_mut(base + k) = T::zero();
                        }
                    }
                    (Sweep::Rule(op, shape), affine) => {
                        macro_rules! rule {
                            ($f:expr, $fixed:expr) => {
                                match affine {
                                    Some(af) => {
                                        rule_run(shape, s, e, base, vals, adj, $f, $fixed, |k| {
                                            af.at(s, k)
                                        })
                                    }
                                    None => {
                                        rule_run(shape, s, e, base, vals, adj, $f, $fixed, |k| {
                                            (ta(k), tb(k))
                                        })
                                    }
                                }
                            };
                        }
                        match op {
                            Op::Add => rule!(rules::add, true),
                            Op::Sub => rule!(rules::sub, true),
                            Op::Mul => rule!(rules::mul, false),
                            Op::Neg => rule!(|x, y| eval(Op::Neg, x, y), true),
                            _ => unreachable!("dualtape: internal error: {op:?} is not re-derived"),
                        }
                    }
                }
            }
        }
        out.copy_from_slice(&adj[..self.n]);
        adj[..self.n].fill(T::zero());
    }
}

/// The sweep of instructions `s..e` of one operation of [`rederives`] and
/// one shape: the partials are `f` (the operation's rule) evaluated again
/// on the operand values, added as [`Sweep::Rule`] says, with the tape's
/// rule 3 (a zero adjoint or a zero partial adds nothing).
///
/// `fixed` says that the partials are nonzero constants (`±1`: `+`, `-`,
/// negation), whatever the operands. Then rule 3's tests are left out,
/// which changes no bit: a zero adjoint `g` gives the contribution `±1 · g`,
/// a zero, and adding a zero to an adjoint leaves it as it is, since an
/// adjoint is never `-0` (it starts at `+0` and `x + y` is `-0` only when
/// both are); clearing a zero adjoint stores the `+0` it holds. (For a
/// dual number the same holds per component.)
///
/// # Safety
///
/// `s <= e`, `base + e <= adj.len(), vals.len()`, and for every `k` in
/// `s..e` the operand slots `ix(k)` below `base + k`.
#[allow(clippy::too_many_arguments)]
#[inline(always)]
unsafe fn rule_run<T: Scalar<Real = f64>>(
    shape: Shape,
    s: usize,
    e: usize,
    base: usize,
    vals: &[T],
    adj: &mut [T],
    f: impl Fn(T, T) -> rules::Binary<T>,
    fixed: bool,
    ix: impl Fn(usize) -> (usize, usize),
) {
    // one loop per shape; `$p` the partial(s) from `(pa, pb)`
    macro_rules! each {
        ($fixed:expr, |$ia:ident, $ib:ident, $pa:ident, $pb:ident, $g:ident| $body:block) => {
            down(s, e, |k| {
                let i = base + k;
                // SAFETY (every access): the caller's contract.
                let $g = *adj.get_unchecked(i);
                if $fixed || !$g.is_zero() {
                    *adj.get_unchecked_mut(i) = T::zero();
                    let ($ia, $ib) = ix(k);
                    let (_, $pa, $pb) = f(*vals.get_unchecked($ia), *vals.get_unchecked($ib));
                    $body
                }
            })
        };
    }
    macro_rules! add {
        ($fixed:expr, $t:expr, $p:expr, $g:expr) => {
            let p = $p;
            if $fixed || !p.is_zero() {
                *adj.get_unchecked_mut($t) += p * $g;
            }
        };
    }
    match shape {
        Shape::Unary | Shape::SlotConst => {
            each!(fixed, |ia, _ib, pa, _pb, g| { add!(fixed, ia, pa, g) })
        }
        // `x - x`: the summed partial is 0, so keep the tests
        Shape::Same => each!(false, |ia, _ib, pa, pb, g| { add!(false, ia, pa + pb, g) }),
        Shape::ConstSlot => each!(fixed, |_ia, ib, _pa, pb, g| { add!(fixed, ib, pb, g) }),
        Shape::Both => each!(fixed, |ia, ib, pa, pb, g| {
            add!(fixed, ia, pa, g);
            add!(fixed, ib, pb, g);
        }),
        Shape::Consts => {
            for k in s..e {
                *adj.get_unchecked_mut(base + k) = T::zero();
            }
        }
    }
}
