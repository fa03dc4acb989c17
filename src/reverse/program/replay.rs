//! The executable form of a program and its interpreter: a forward pass that
//! evaluates every operation through [`rules`](crate::rules) on any
//! [`Scalar`], then the adjoint sweep, the same loop as the tape's.

use super::op::{eval, Op, Test};
use super::{Arg, Program, ReplayError};
use crate::Scalar;

/// One executable instruction: operation, operand slots (constants live in
/// slots of their own), and the slots the sweep adds into (`sa`, `sb`; a
/// constant operand's or a unary operation's second slot is the
/// instruction's own slot, whose adjoint is cleared right after, as the
/// tape does with a zero partial).
#[derive(Clone, Copy, Debug)]
pub(crate) struct XInstr {
    pub(crate) op: Op,
    pub(crate) a: u32,
    pub(crate) b: u32,
    pub(crate) sa: u32,
    pub(crate) sb: u32,
    /// Both operands are the same slot: the sweep adds the sum of the
    /// partials once (as the tape records `x * x`).
    pub(crate) same: bool,
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
/// then one per instruction.
#[derive(Clone, Debug, Default)]
pub(crate) struct Exec {
    pub(crate) n: usize,
    pub(crate) consts: Vec<f64>,
    pub(crate) code: Vec<XInstr>,
    pub(crate) outputs: Vec<u32>,
    pub(crate) guards: Vec<XGuard>,
}

impl Exec {
    /// The first instruction's slot.
    #[inline(always)]
    pub(crate) fn base(&self) -> usize {
        self.n + self.consts.len()
    }

    pub(crate) fn slots(&self) -> usize {
        self.base() + self.code.len()
    }

    /// Compiles the instructions of `p` (already validated: every operand
    /// refers to an input or an earlier instruction).
    pub(crate) fn compile(p: &Program) -> Exec {
        let n = p.inputs;
        let mut consts: Vec<f64> = Vec::new();
        let mut const_slot = std::collections::HashMap::<u64, u32>::new();
        // first pass: collect the constants (deduplicated by bit pattern)
        let mut intern = |c: f64, consts: &mut Vec<f64>| -> u32 {
            *const_slot.entry(c.to_bits()).or_insert_with(|| {
                consts.push(c);
                (consts.len() - 1) as u32
            })
        };
        let mut args = Vec::with_capacity(p.instrs.len());
        let mut resolve = |a: Arg, consts: &mut Vec<f64>| -> Result<u32, u32> {
            match a {
                Arg::Slot(s) => Ok(s),
                Arg::Const(c) => Err(intern(c, consts)),
            }
        };
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
        let nc = consts.len();
        let base = n + nc;
        // program slot s (input s < n, or instruction s - n) → executable slot
        let slot = |s: u32| -> u32 {
            if (s as usize) < n {
                s
            } else {
                s + nc as u32
            }
        };
        let place = |r: Result<u32, u32>| -> u32 {
            match r {
                Ok(s) => slot(s),
                Err(c) => (n as u32) + c,
            }
        };
        let code = p
            .instrs
            .iter()
            .zip(&args)
            .enumerate()
            .map(|(k, (ins, &(a, b)))| {
                let own = (base + k) as u32;
                let sweep = |r: Result<u32, u32>| match r {
                    Ok(s) => slot(s),
                    Err(_) => own,
                };
                let binary = ins.op.is_binary();
                let (sa, mut sb) = (sweep(a), if binary { sweep(b) } else { own });
                let same = binary && a.is_ok() && a == b;
                if same {
                    sb = own;
                }
                XInstr {
                    op: ins.op,
                    a: place(a),
                    b: place(b),
                    sa,
                    sb,
                    same,
                }
            })
            .collect();
        Exec {
            n,
            consts,
            code,
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
        }
    }
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
        let (slots, ops) = (e.slots(), e.code.len());
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
        let base = self.base();
        let (vals, da, db) = (&mut ws.vals[..self.slots()], &mut ws.da[..], &mut ws.db[..]);
        for (c, v) in self.consts.iter().zip(&mut vals[self.n..base]) {
            *v = T::constant(*c);
        }
        let code = &self.code[..];
        assert!(da.len() >= code.len() && db.len() >= code.len());
        for (k, ins) in code.iter().enumerate() {
            // SAFETY: `compile` gives every instruction operands below its
            // own slot `base + k`, which is below `slots() == vals.len()`
            // (checked when the program was built or deserialised), and
            // `k < code.len() <= da.len(), db.len()` (asserted above).
            unsafe {
                let a = *vals.get_unchecked(ins.a as usize);
                let b = *vals.get_unchecked(ins.b as usize);
                let (v, pa, pb) = if let Op::MulAddTail = ins.op {
                    mul_add_tail(self, vals, ins, b)
                } else {
                    eval(ins.op, a, b)
                };
                *vals.get_unchecked_mut(base + k) = v;
                *da.get_unchecked_mut(k) = pa;
                *db.get_unchecked_mut(k) = pb;
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

    /// The value of output `i` after a forward pass.
    #[inline]
    pub(crate) fn output<T: Copy>(&self, ws: &Workspace<T>, i: usize) -> T {
        ws.vals[self.outputs[i] as usize]
    }

    /// The adjoint sweep: seeds `w[j]` on output `j`, sweeps every
    /// instruction in reverse (the tape's loop: a zero adjoint or a zero
    /// partial contributes nothing, rule 3), writes the inputs' adjoints into
    /// `out` and leaves `ws.adj` all zeros.
    #[inline(never)]
    pub(crate) fn sweep<T: Scalar<Real = f64>>(
        &self,
        ws: &mut Workspace<T>,
        seeds: impl IntoIterator<Item = (usize, T)>,
        out: &mut [T],
    ) {
        let base = self.base();
        let slots = self.slots();
        let adj = &mut ws.adj[..slots];
        for (j, w) in seeds {
            let s = self.outputs[j] as usize;
            if s < self.n || s >= base {
                adj[s] += w;
            }
        }
        let (da, db) = (&ws.da[..self.code.len()], &ws.db[..self.code.len()]);
        for k in (0..self.code.len()).rev() {
            // SAFETY: k < code.len() == da.len() == db.len(); `compile`
            // makes sa, sb <= base + k < slots == adj.len().
            unsafe {
                let i = base + k;
                let g = *adj.get_unchecked(i);
                if !g.is_zero() {
                    let ins = self.code.get_unchecked(k);
                    let (mut pa, mut pb) = (*da.get_unchecked(k), *db.get_unchecked(k));
                    if ins.same {
                        pa += pb;
                        pb = T::zero();
                    }
                    if !pa.is_zero() {
                        *adj.get_unchecked_mut(ins.sa as usize) += pa * g;
                    }
                    if !pb.is_zero() {
                        *adj.get_unchecked_mut(ins.sb as usize) += pb * g;
                    }
                    *adj.get_unchecked_mut(i) = T::zero();
                }
            }
        }
        out.copy_from_slice(&adj[..self.n]);
        adj[..self.n].fill(T::zero());
    }
}

/// `a.mul_add(b, c)` where `ins.a` is the slot of the program's `a * b`.
#[cold]
fn mul_add_tail<T: Scalar<Real = f64>>(e: &Exec, vals: &[T], ins: &XInstr, c: T) -> (T, T, T) {
    let k = ins.a as usize - e.base();
    let m = e.code[k];
    let (v, _, _, _) = crate::rules::mul_add(vals[m.a as usize], vals[m.b as usize], c);
    (v, T::one(), T::one())
}
