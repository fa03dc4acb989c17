//! Two repetitions of a loop's sweep at a time, in the two lanes of
//! `f64x2` values: which loops qualify ([`pairs`]), and what the
//! gradient's and the HVP's paired sweeps share ([`Lanes`]: the loop over
//! the pairs, reading an operand of both repetitions, storing both
//! repetitions' input adjoints).
//!
//! Repetition `r − 1` runs in lane 0 and `r` in lane 1, so that an input
//! of stride 1 is one 16-byte load and one store. Two inputs of stride 2
//! side by side (`x[2r]`, `x[2r + 1]`: extended Rosenbrock's pairs) are
//! two 16-byte loads of both repetitions' pairs, interleaved
//! (`punpcklqdq`, `punpckhqdq`), and stored the same way.
//!
//! Why the bits are the one-repetition sweep's: each lane performs its
//! repetition's operations (IEEE, the lanes of a vector operation rounded
//! apart) on its repetition's operands in the one-repetition sweep's
//! order, and where [`pairs`] holds, a repetition's contributions reach
//! only its own locals and its own inputs' entries (no other repetition,
//! no other operand, reads them), and the adjoint entering a repetition
//! is the same in all of them, so the order between the repetitions
//! changes no sum.

use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{
    types, BlockArg, ConstantData, Endianness, InstBuilder, MemFlags, Type, Value,
};
use cranelift_frontend::FunctionBuilder;

use super::loops::{Loop, Src};
use super::stride;
use crate::reverse::program::op::Op;

/// `[x₀, y₀]` (or `[x₁, y₁]` if `hi`) of two `f64x2` values.
fn interleave(b: &mut FunctionBuilder, x: Value, y: Value, hi: bool) -> Value {
    let le = MemFlags::new().with_endianness(Endianness::Little);
    let (xb, yb) = (
        b.ins().bitcast(types::I8X16, le, x),
        b.ins().bitcast(types::I8X16, le, y),
    );
    // (the bytes of lane `h` of `x`, then of `y`, which is byte 16 on)
    let h = if hi { 8 } else { 0 };
    let bytes: Vec<u8> = (h..h + 8).chain(16 + h..24 + h).collect();
    let mask = b.func.dfg.immediates.push(ConstantData::from(bytes));
    let v = b.ins().shuffle(xb, yb, mask);
    b.ins().bitcast(types::F64X2, le, v)
}

/// Whether body instruction `j` of `l` passes its adjoint on unchanged to
/// the previous repetition's: a running sum or difference (`s + t`,
/// `t + s`, `s - t` of the previous repetition's `s`, [`Src::Carried`]`(j)`)
/// whose `s` and `j` nothing else in the body reads. The sweep then adds
/// `1 · g` as the first contribution to `s`'s adjoint: it is `g` (an
/// adjoint is never `-0`, so `+0 + g` is `g`; for a dual, per component),
/// the same in every repetition.
fn passes_through(l: &Loop, j: usize) -> bool {
    let me = Src::Carried(j);
    let [a, bb] = l.body[j];
    let side = match l.ops[j] {
        Op::Add => (a == me) != (bb == me),
        Op::Sub => a == me && bb != me,
        _ => false,
    };
    let reads = |s: Src| -> usize {
        (l.body.iter().zip(&l.ops))
            .map(|(o, op)| {
                o[..1 + usize::from(op.is_binary())]
                    .iter()
                    .filter(|&&x| x == s)
                    .count()
            })
            .sum()
    };
    side && reads(me) == 1 && reads(Src::Local(j)) == 0
}

/// Whether the sweep of `l` can run two repetitions at a time: every
/// operation emitted `inline` (no shim, no stored results), every value
/// carried from one repetition to the next a running sum
/// ([`passes_through`]), every input strided and owned (`own`,
/// [`owned`](super::owned)), no fixed operand and nothing kept in memory
/// for later loops. The repetitions' sweeps then share nothing but the
/// carried adjoints, which are the same in all of them.
pub(super) fn pairs(l: &Loop, own: &[(usize, usize)], inline: impl Fn(Op) -> bool) -> bool {
    l.reps >= 4
        && l.ops.iter().all(|&op| inline(op))
        && !l.kept.iter().any(|&k| k)
        && l.carried().iter().all(|&j| passes_through(l, j))
        && (l.body.iter().flatten()).all(|s| match *s {
            Src::Const(_) | Src::Table(_) | Src::Local(_) | Src::Carried(_) => true,
            Src::Input(i, d) => d > 0 && own.contains(&(i, d)),
            Src::Fixed(_) | Src::Strided { .. } => false,
        })
}

/// The repetitions a paired sweep's body runs: `r − 1` in lane 0, `r` in
/// lane 1 (`r` the counter, from `reps − 1` down by two).
pub(super) struct Lanes<'a> {
    l: &'a Loop,
    own: &'a [(usize, usize)],
    ptr: Type,
    /// The counter.
    pub(super) r: Value,
    /// The NaN flag (`i64x2`) carried through the loop.
    pub(super) flag: Value,
    /// The paired sweep's loop block.
    body: cranelift_codegen::ir::Block,
    /// What [`input`](Self::input) emitted, by array, `i` and `d` (the
    /// body loads an operand once, however many instructions read it:
    /// nothing stores before the body's end).
    read: Vec<((Value, usize, usize), Value)>,
}

impl<'a> Lanes<'a> {
    /// Starts the loop over the pairs of `l`'s repetitions (where
    /// [`pairs`] holds for `own`): jumps to its block and switches to it.
    pub(super) fn open(
        b: &mut FunctionBuilder,
        ptr: Type,
        l: &'a Loop,
        own: &'a [(usize, usize)],
    ) -> Lanes<'a> {
        let z = b.ins().iconst(types::I64, 0);
        let clean = b.ins().splat(types::I64X2, z);
        let body = b.create_block();
        let r = b.append_block_param(body, ptr);
        let flag = b.append_block_param(body, types::I64X2);
        let r0 = b.ins().iconst(ptr, (l.reps - 1) as i64);
        b.ins()
            .jump(body, &[BlockArg::Value(r0), BlockArg::Value(clean)]);
        b.switch_to_block(body);
        Lanes {
            l,
            own,
            ptr,
            r,
            flag,
            body,
            read: Vec::new(),
        }
    }

    /// Ends the body (`flag`: the NaN flag with its checks merged): loops
    /// while the counter stays above `last` (`≥ 1`; `reps − last` even), and
    /// switches to the block after it. Returns whether a NaN was seen
    /// (`i8`).
    pub(super) fn close(self, b: &mut FunctionBuilder, flag: Value, last: usize) -> Value {
        let next = b.ins().iadd_imm(self.r, -2);
        let more = b
            .ins()
            .icmp_imm(IntCC::UnsignedGreaterThan, next, last as i64);
        let exit = b.create_block();
        b.ins().brif(
            more,
            self.body,
            &[BlockArg::Value(next), BlockArg::Value(flag)],
            exit,
            &[],
        );
        b.switch_to_block(exit);
        b.ins().vany_true(flag)
    }

    /// Both repetitions' entries of table `t`.
    pub(super) fn table(&self, b: &mut FunctionBuilder, t: usize) -> Value {
        let base = b.ins().iconst(self.ptr, self.l.tables[t].as_ptr() as i64);
        let at = stride(b, base, self.r, 1);
        b.ins().load(types::F64X2, vmem(), at, -8)
    }

    /// For an input `(i, 2)` the body reads with `(i ± 1, 2)`: the lower
    /// one's `i`, and whether `i` is the higher. (All of them owned, as
    /// [`pairs`] checked, so at most two: `(i, 2)` and `(i + 2, 2)` would
    /// share entries.)
    fn partner(&self, i: usize) -> Option<(usize, bool)> {
        let has = |k: usize| self.own.contains(&(k, 2));
        if has(i + 1) {
            Some((i, false))
        } else if i > 0 && has(i - 1) {
            Some((i - 1, true))
        } else {
            None
        }
    }

    /// Both repetitions' entries `i + (r − 1)·d`, `i + r·d` of the array at
    /// `base` (the inputs, or a direction).
    pub(super) fn input(
        &mut self,
        b: &mut FunctionBuilder,
        base: Value,
        i: usize,
        d: usize,
    ) -> Value {
        if let Some(&(_, v)) = self.read.iter().find(|e| e.0 == (base, i, d)) {
            return v;
        }
        let v = self.emit_input(b, base, i, d);
        self.read.push(((base, i, d), v));
        v
    }

    /// [`input`](Self::input), emitted.
    fn emit_input(&self, b: &mut FunctionBuilder, base: Value, i: usize, d: usize) -> Value {
        let at = stride(b, base, self.r, d);
        let (off, step) = ((8 * i) as i32, (8 * d) as i32);
        if d == 1 {
            return b.ins().load(types::F64X2, vmem(), at, off - 8);
        }
        if let (2, Some((k, hi))) = (d, self.partner(i)) {
            // (two loads of both repetitions' pairs, interleaved)
            let v0 = b.ins().load(types::F64X2, vmem(), at, 8 * k as i32 - 16);
            let v1 = b.ins().load(types::F64X2, vmem(), at, 8 * k as i32);
            return interleave(b, v0, v1, hi);
        }
        let mem = MemFlags::trusted();
        let r1 = b.ins().load(types::F64, mem, at, off - step);
        let r = b.ins().load(types::F64, mem, at, off);
        let v = b.ins().splat(types::F64X2, r1);
        b.ins().insertlane(v, r, 1)
    }

    /// Stores both repetitions' sums `sums[e]` of the owned inputs
    /// (`own[e]`) into the array at `base` (the gradient, or the HVP's
    /// product), as [`input`](Self::input) reads them.
    pub(super) fn store(&self, b: &mut FunctionBuilder, base: Value, sums: &[Value]) {
        let mem = MemFlags::trusted();
        for (&(i, d), &sum) in self.own.iter().zip(sums) {
            let at = stride(b, base, self.r, d);
            let (off, step) = ((8 * i) as i32, (8 * d) as i32);
            if d == 1 {
                b.ins().store(vmem(), sum, at, off - 8);
                continue;
            }
            if let (2, Some((k, hi))) = (d, self.partner(i)) {
                // (both repetitions' pairs, stored by the lower one)
                if !hi {
                    let up = self.own.iter().position(|&u| u == (k + 1, 2));
                    let up = sums[up.expect("the partner")];
                    let w0 = interleave(b, sum, up, false);
                    let w1 = interleave(b, sum, up, true);
                    b.ins().store(vmem(), w0, at, off - 16);
                    b.ins().store(vmem(), w1, at, off);
                }
                continue;
            }
            let s0 = b.ins().extractlane(sum, 0);
            b.ins().store(mem, s0, at, off - step);
            let s1 = b.ins().extractlane(sum, 1);
            b.ins().store(mem, s1, at, off);
        }
    }
}

/// A vector in memory, maybe unaligned.
fn vmem() -> MemFlags {
    MemFlags::new().with_notrap()
}
