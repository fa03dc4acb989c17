//! Compressed Hessian-vector products from a recorded program in one pass:
//! forward over reverse with `N` tangent lanes and a scalar first-order
//! adjoint.
//!
//! With `N` directions `s_1..s_N` (one per colour), forward over reverse
//! needs, per slot, its value, its `N` tangents `ṫ`, its adjoint `ā` (the
//! same for every direction) and `N` second-order adjoints `ȧ`. For an
//! operation `v = φ(a, b)` with partials `φ_a, φ_b` and second partials
//! `φ_aa, φ_ab, φ_bb` (from [`rules`](crate::rules) evaluated on
//! `DualVec<f64, 2>`, once per operation):
//!
//! - forward: `ṫ_v = φ_a ṫ_a + φ_b ṫ_b`;
//! - reverse: `ā_a += φ_a ā_v`, `ȧ_a += φ_a ȧ_v + ā_v (φ_aa ṫ_a + φ_ab ṫ_b)`,
//!   and the same for `b`.
//!
//! At the inputs, `ā` is the gradient and lane `k` of `ȧ` is `H s_k`. Replaying
//! on `DualVec<f64, N>` computes the same numbers but carries `N` lanes
//! through every adjoint and partial (measured several times slower).

use crate::reverse::program::{eval, Arg, Op};
use crate::reverse::Program;
use crate::DualVec;

/// `out += d · t` lane by lane, where a zero `d` or a zero lane of `t`
/// contributes nothing (rule 3 of [`rules`](crate::rules)).
#[inline(always)]
fn axpy<const N: usize>(out: &mut [f64; N], d: f64, t: &[f64; N]) {
    if d == 0.0 {
        return;
    }
    if d.is_finite() {
        for (o, &v) in out.iter_mut().zip(t) {
            *o += d * v;
        }
    } else {
        for (o, &v) in out.iter_mut().zip(t) {
            if v != 0.0 {
                *o += d * v;
            }
        }
    }
}

/// Per operation: partials and second partials.
#[derive(Clone, Copy, Default)]
struct Partials {
    a: f64,
    b: f64,
    aa: f64,
    ab: f64,
    bb: f64,
}

/// Storage reused across calls on a thread (the tangents and second-order
/// adjoints as `N` consecutive lanes per slot).
#[derive(Default)]
pub(crate) struct Scratch {
    val: Vec<f64>,
    tan: Vec<f64>,
    part: Vec<Partials>,
    bar: Vec<f64>,
    dot: Vec<f64>,
    live: Vec<bool>,
}

thread_local! {
    static SCRATCH: std::cell::RefCell<Scratch> = std::cell::RefCell::default();
}

/// Runs `f` with this thread's scratch (a fresh one if it is in use).
pub(crate) fn with_scratch<R>(f: impl FnOnce(&mut Scratch) -> R) -> R {
    SCRATCH.with(|c| match c.try_borrow_mut() {
        Ok(mut s) => f(&mut s),
        Err(_) => f(&mut Scratch::default()),
    })
}

/// The slot of an operand (`None` for a constant).
#[inline(always)]
fn slot(a: Arg) -> Option<usize> {
    match a {
        Arg::Slot(s) => Some(s as usize),
        Arg::Const(_) => None,
    }
}

/// The value and the first and second partials of one operation.
#[inline(always)]
fn partials(op: Op, a: f64, b: f64) -> (f64, Partials) {
    let p = |a, b, ab| Partials {
        a,
        b,
        aa: 0.0,
        ab,
        bb: 0.0,
    };
    match op {
        // The common linear and bilinear operations, without the rule
        // table's generic path (their rules are these constants).
        Op::Add | Op::MulAddTail => (a + b, p(1.0, 1.0, 0.0)),
        Op::Sub => (a - b, p(1.0, -1.0, 0.0)),
        Op::Neg => (-a, p(-1.0, 0.0, 0.0)),
        Op::Mul => (a * b, p(b, a, 1.0)),
        _ => {
            let (v, da, db) = eval(op, DualVec::new(a, [1.0, 0.0]), DualVec::new(b, [0.0, 1.0]));
            (
                v.re,
                Partials {
                    a: da.re,
                    b: db.re,
                    aa: da.eps[0],
                    ab: da.eps[1],
                    bb: db.eps[1],
                },
            )
        }
    }
}

/// Forward mode through `p` at `x` with `N` tangent lanes, input `j`'s
/// tangent `seed(j)`: writes output `i`'s value into `y[i]` and its
/// tangents into `ty[i]`. The caller checks the program's guards at `x` first.
pub(crate) fn jvps<const N: usize>(
    p: &Program,
    x: &[f64],
    seed: impl Fn(usize) -> [f64; N],
    s: &mut Scratch,
    y: &mut [f64],
    ty: &mut [[f64; N]],
) {
    let n = x.len();
    let instrs = p.instructions();
    let total = n + instrs.len();
    s.val.clear();
    s.val.extend_from_slice(x);
    s.val.resize(total, 0.0);
    s.tan.clear();
    s.tan.resize(total * N, 0.0);
    let (tan, _) = s.tan.as_chunks_mut::<N>();
    for (j, t) in tan[..n].iter_mut().enumerate() {
        *t = seed(j);
    }
    let value = |val: &[f64], a: Arg| match a {
        Arg::Slot(i) => val[i as usize],
        Arg::Const(c) => c,
    };
    for (k, ins) in instrs.iter().enumerate() {
        let (a, b) = (value(&s.val, ins.a), value(&s.val, ins.b));
        let (mut v, da, db) = eval(ins.op, a, b);
        if ins.op == Op::MulAddTail {
            if let Arg::Slot(m) = ins.a {
                let mul = &instrs[m as usize - n];
                v = value(&s.val, mul.a).mul_add(value(&s.val, mul.b), b);
            }
        }
        let (done, rest) = tan.split_at_mut(n + k);
        let t = &mut rest[0];
        if let Some(i) = slot(ins.a) {
            axpy(t, da, &done[i]);
        }
        if ins.op.is_binary() {
            if let Some(i) = slot(ins.b) {
                axpy(t, db, &done[i]);
            }
        }
        s.val[n + k] = v;
    }
    for (i, &o) in p.output_args().iter().enumerate() {
        (y[i], ty[i]) = match o {
            Arg::Slot(s_) => (s.val[s_ as usize], tan[s_ as usize]),
            Arg::Const(c) => (c, [0.0; N]),
        };
    }
}

/// Forward over reverse through `p` (one output) at `x`, with input `j`'s
/// tangent `seed(j)`: writes the gradient into `grad` and `H s_k` into lane
/// `k` of `hs`. The caller checks the program's guards at `x` first.
pub(crate) fn hvps<const N: usize>(
    p: &Program,
    x: &[f64],
    seed: impl Fn(usize) -> [f64; N],
    s: &mut Scratch,
    grad: &mut [f64],
    hs: &mut [[f64; N]],
) {
    let n = x.len();
    let instrs = p.instructions();
    let total = n + instrs.len();
    s.val.clear();
    s.val.extend_from_slice(x);
    s.val.resize(total, 0.0);
    s.tan.clear();
    s.tan.resize(total * N, 0.0);
    s.part.clear();
    s.part.resize(instrs.len(), Partials::default());
    let (tan, _) = s.tan.as_chunks_mut::<N>();
    for (j, t) in tan[..n].iter_mut().enumerate() {
        *t = seed(j);
    }
    let value = |val: &[f64], a: Arg| match a {
        Arg::Slot(i) => val[i as usize],
        Arg::Const(c) => c,
    };
    for (k, ins) in instrs.iter().enumerate() {
        let (a, b) = (value(&s.val, ins.a), value(&s.val, ins.b));
        let (mut v, pt) = partials(ins.op, a, b);
        if ins.op == Op::MulAddTail {
            // The value of `a.mul_add(b, c)`, rounded once as recorded.
            if let Arg::Slot(m) = ins.a {
                let mul = &instrs[m as usize - n];
                v = value(&s.val, mul.a).mul_add(value(&s.val, mul.b), b);
            }
        }
        let (done, rest) = tan.split_at_mut(n + k);
        let t = &mut rest[0];
        if let Some(i) = slot(ins.a) {
            axpy(t, pt.a, &done[i]);
        }
        if ins.op.is_binary() {
            if let Some(i) = slot(ins.b) {
                axpy(t, pt.b, &done[i]);
            }
        }
        s.val[n + k] = v;
        s.part[k] = pt;
    }
    s.bar.clear();
    s.bar.resize(total, 0.0);
    s.dot.clear();
    s.dot.resize(total * N, 0.0);
    s.live.clear();
    s.live.resize(total, false);
    if let Some(&Arg::Slot(o)) = p.output_args().first() {
        s.bar[o as usize] = 1.0;
        s.live[o as usize] = true;
    }
    let (dots, _) = s.dot.as_chunks_mut::<N>();
    for (k, ins) in instrs.iter().enumerate().rev() {
        let i = n + k;
        if !s.live[i] {
            continue;
        }
        let bar = s.bar[i];
        let pt = s.part[k];
        let sa = slot(ins.a);
        let sb = if ins.op.is_binary() {
            slot(ins.b)
        } else {
            None
        };
        let (lo, hi) = dots.split_at_mut(i);
        let dot = &hi[0];
        // operand j gets φ_j ȧ_v + ā_v (φ_ja ṫ_a + φ_jb ṫ_b)
        for (sj, d, da, db) in [(sa, pt.a, pt.aa, pt.ab), (sb, pt.b, pt.ab, pt.bb)] {
            let Some(j) = sj else { continue };
            s.live[j] = true;
            if d != 0.0 && bar != 0.0 {
                s.bar[j] += d * bar;
            }
            let out = &mut lo[j];
            axpy(out, d, dot);
            if bar != 0.0 {
                if let Some(a) = sa {
                    axpy(out, da * bar, &tan[a]);
                }
                if let Some(b) = sb {
                    axpy(out, db * bar, &tan[b]);
                }
            }
        }
    }
    grad.copy_from_slice(&s.bar[..n]);
    hs.copy_from_slice(&dots[..n]);
}
