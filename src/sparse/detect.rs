//! Sparsity detection: index sets propagated through a recorded computation.
//!
//! The computation is seen through a small interface, [`Graph`]: a sequence
//! of operations, each with at most two operand slots and a [`Kind`] that
//! says how the result depends on them. Slots `0..n` are the inputs, slot
//! `n + k` the result of operation `k`. Any recording (the tape, a recorded
//! program) is turned into a `Graph` by a short adapter, and detection is the
//! same for all of them.
//!
//! - **Jacobian**: the index set of a slot is the set of inputs it depends
//!   on; an operation's set is the union of its dependent operands' sets.
//!   Output `i`'s set is row `i` of the pattern.
//! - **Hessian** (nonlinear interaction domains, as in Walther, *Computing
//!   sparse Hessians with automatic differentiation*, ACM TOMS 34(1), 2008):
//!   an operation that is nonlinear in operand `u` adds every pair of `u`'s
//!   index set; one with a mixed second derivative in `u` and `w` (a product)
//!   adds every pair across their sets. Only operations the output depends
//!   on count. Linear operations (`+`, `-`, scaling, `abs`, `max`, ...) add
//!   no pairs, so `Σ (x_i - x_{i+1})²` has a tridiagonal Hessian pattern, not
//!   a dense one.
//!
//! Index sets are computed only for slots that need them (an output, or an
//! operand of a nonlinear operation, and what those depend on), and shared
//! rather than copied through operations with one dependent operand, so a
//! long linear accumulation (a sum of `n` terms) costs no `O(n²)` sets.

use super::Sparsity;

/// No operand: a constant, or the unused second operand of a unary operation.
pub(crate) const NONE: u32 = u32::MAX;

/// How an operation's result depends on its operands `a` and `b`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Kind {
    /// Linear (or piecewise linear) in each operand: `a + b`, `a - b`, `-a`,
    /// `a · c`, `abs`, `max`, `min`, `rem`, `fract`, `mul_add`'s sum.
    Linear,
    /// Linear in `a`, independent of `b`: `copysign(a, b)`.
    LinearFirst,
    /// `a · b`: linear in each, with a mixed second derivative.
    Product,
    /// `a / b`: linear in `a`, nonlinear in `b`, mixed.
    Quotient,
    /// Nonlinear in every operand: `sin`, `exp`, `powf`, `atan2`, ...
    Nonlinear,
    /// Independent of every operand (zero derivative): `floor`, `signum`, ...
    Constant,
}

/// One operation: its kind and operand slots ([`NONE`] for a constant).
#[derive(Clone, Copy, Debug)]
pub(crate) struct GraphOp {
    pub(crate) kind: Kind,
    pub(crate) args: [u32; 2],
}

/// A recorded computation as detection sees it.
#[derive(Clone, Debug, Default)]
pub(crate) struct Graph {
    /// The number of inputs `n` (slots `0..n`).
    pub(crate) inputs: usize,
    /// The operations, in recording order; operation `k` writes slot `n + k`.
    pub(crate) ops: Vec<GraphOp>,
    /// The output slots ([`NONE`] for a constant output).
    pub(crate) outputs: Vec<u32>,
}

impl Graph {
    /// The operands of slot `s` that its result depends on.
    fn deps(&self, s: usize) -> impl Iterator<Item = usize> + '_ {
        let (kind, args) = if s < self.inputs {
            (Kind::Constant, [NONE; 2])
        } else {
            let op = &self.ops[s - self.inputs];
            (op.kind, op.args)
        };
        let take = match kind {
            Kind::Constant => [false, false],
            Kind::LinearFirst => [true, false],
            _ => [true, true],
        };
        (0..2)
            .filter(move |&k| take[k] && args[k] != NONE)
            .map(move |k| args[k] as usize)
    }

    /// Checks that every operand precedes its operation.
    fn validate(&self) {
        let n = self.inputs;
        for (k, op) in self.ops.iter().enumerate() {
            for &a in &op.args {
                assert!(
                    a == NONE || (a as usize) < n + k,
                    "sparse: operation {k} reads slot {a}, which is not computed before it"
                );
            }
        }
        for &o in &self.outputs {
            assert!(o == NONE || (o as usize) < n + self.ops.len());
        }
    }
}

/// Index sets for the slots that need them, stored in one arena: slot `s`'s
/// set is `arena[span[s].0 .. span[s].0 + span[s].1]`, sorted.
struct Sets {
    arena: Vec<u32>,
    span: Vec<(usize, usize)>,
}

impl Sets {
    fn get(&self, s: usize) -> &[u32] {
        let (a, l) = self.span[s];
        &self.arena[a..a + l]
    }

    /// Computes the sets of the slots marked in `need` (whose dependencies
    /// must be marked too).
    fn compute(g: &Graph, need: &[bool]) -> Sets {
        let n = g.inputs;
        let mut sets = Sets {
            arena: (0..n as u32).collect(),
            span: (0..n).map(|i| (i, 1)).collect(),
        };
        sets.span.resize(n + g.ops.len(), (0, 0));
        for s in n..n + g.ops.len() {
            if !need[s] {
                continue;
            }
            let mut d = g.deps(s);
            let (a, b) = (d.next(), d.next());
            sets.span[s] = match (a, b) {
                (None, _) => (0, 0),
                (Some(a), None) => sets.span[a],
                (Some(a), Some(b)) if sets.span[a] == sets.span[b] => sets.span[a],
                (Some(a), Some(b)) => {
                    let start = sets.arena.len();
                    let (sa, la) = sets.span[a];
                    let (sb, lb) = sets.span[b];
                    // Sorted merge of two arena ranges onto the arena's end.
                    let (mut i, mut j) = (sa, sb);
                    while i < sa + la && j < sb + lb {
                        let (x, y) = (sets.arena[i], sets.arena[j]);
                        let v = x.min(y);
                        sets.arena.push(v);
                        i += usize::from(x == v);
                        j += usize::from(y == v);
                    }
                    sets.arena.extend_from_within(i..sa + la);
                    sets.arena.extend_from_within(j..sb + lb);
                    (start, sets.arena.len() - start)
                }
            };
        }
        sets
    }
}

/// Marks `need` backwards: a needed slot needs the slots it depends on.
fn close_need(g: &Graph, need: &mut [bool]) {
    for s in (g.inputs..need.len()).rev() {
        if need[s] {
            for a in g.deps(s) {
                need[a] = true;
            }
        }
    }
}

/// The Jacobian pattern of a graph: row `i` is the set of inputs output `i`
/// depends on.
pub(crate) fn jacobian(g: &Graph) -> Sparsity {
    g.validate();
    let total = g.inputs + g.ops.len();
    let mut need = vec![false; total];
    for &o in &g.outputs {
        if o != NONE {
            need[o as usize] = true;
        }
    }
    close_need(g, &mut need);
    let sets = Sets::compute(g, &need);
    Sparsity::from_rows(
        g.inputs,
        g.outputs.iter().map(|&o| {
            if o == NONE {
                Vec::new()
            } else {
                sets.get(o as usize).iter().map(|&j| j as usize).collect()
            }
        }),
    )
}

/// Unordered pairs `(i, j)`, `i >= j`, deduplicated now and then so a
/// repeated interaction does not grow memory without bound.
struct Pairs {
    v: Vec<(u32, u32)>,
    clean: usize,
}

impl Pairs {
    fn push(&mut self, a: u32, b: u32) {
        self.v.push(if a >= b { (a, b) } else { (b, a) });
    }
    fn all(&mut self, s: &[u32]) {
        for (k, &a) in s.iter().enumerate() {
            for &b in &s[..=k] {
                self.v.push((a, b)); // s is sorted: a >= b
            }
        }
        self.tidy();
    }
    fn cross(&mut self, s: &[u32], t: &[u32]) {
        for &a in s {
            for &b in t {
                self.push(a, b);
            }
        }
        self.tidy();
    }
    fn tidy(&mut self) {
        if self.v.len() > 2 * self.clean + (1 << 20) {
            self.finish();
        }
    }
    fn finish(&mut self) {
        self.v.sort_unstable();
        self.v.dedup();
        self.clean = self.v.len();
    }
}

/// The (symmetric) Hessian pattern of a graph with one output: the pairs of
/// inputs that interact nonlinearly in an operation the output depends on.
pub(crate) fn hessian(g: &Graph) -> Sparsity {
    g.validate();
    assert_eq!(g.outputs.len(), 1, "a Hessian needs one output");
    let n = g.inputs;
    let total = n + g.ops.len();
    // Live: the output depends on the slot.
    let mut live = vec![false; total];
    if g.outputs[0] != NONE {
        live[g.outputs[0] as usize] = true;
    }
    close_need(g, &mut live);
    // Need: an operand of a live operation that is nonlinear in it.
    let mut need = vec![false; total];
    for (k, op) in g.ops.iter().enumerate() {
        if !live[n + k] {
            continue;
        }
        let [a, b] = op.args;
        let mark = match op.kind {
            Kind::Product | Kind::Quotient | Kind::Nonlinear => [true, true],
            Kind::Linear | Kind::LinearFirst | Kind::Constant => [false, false],
        };
        for (s, m) in [a, b].into_iter().zip(mark) {
            if m && s != NONE {
                need[s as usize] = true;
            }
        }
    }
    close_need(g, &mut need);
    let sets = Sets::compute(g, &need);
    let mut pairs = Pairs {
        v: Vec::new(),
        clean: 0,
    };
    let empty: &[u32] = &[];
    for (k, op) in g.ops.iter().enumerate() {
        if !live[n + k] {
            continue;
        }
        let [a, b] = op.args;
        let set = |s: u32| {
            if s == NONE {
                empty
            } else {
                sets.get(s as usize)
            }
        };
        let (sa, sb) = (set(a), set(b));
        match op.kind {
            Kind::Linear | Kind::LinearFirst | Kind::Constant => {}
            Kind::Product => pairs.cross(sa, sb),
            Kind::Quotient => {
                pairs.cross(sa, sb);
                pairs.all(sb);
            }
            Kind::Nonlinear => {
                if b == NONE || a == b {
                    pairs.all(sa);
                } else {
                    pairs.all(sa);
                    pairs.all(sb);
                    pairs.cross(sa, sb);
                }
            }
        }
    }
    pairs.finish();
    let mut e: Vec<(usize, usize)> = pairs
        .v
        .iter()
        .flat_map(|&(i, j)| [(i as usize, j as usize), (j as usize, i as usize)])
        .collect();
    e.sort_unstable();
    e.dedup();
    Sparsity::from_sorted(n, n, &e)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(kind: Kind, a: u32, b: u32) -> GraphOp {
        GraphOp { kind, args: [a, b] }
    }

    #[test]
    fn sum_of_squared_differences_is_tridiagonal() {
        // f = Σ (x_i - x_{i+1})², n = 4: 0..4 inputs.
        let mut g = Graph {
            inputs: 4,
            ..Graph::default()
        };
        let mut acc = NONE;
        for i in 0..3u32 {
            let base = 4 + g.ops.len() as u32;
            g.ops.push(op(Kind::Linear, i, i + 1)); // d = x_i - x_{i+1}
            g.ops.push(op(Kind::Product, base, base)); // d · d
            if acc == NONE {
                acc = base + 1;
            } else {
                g.ops.push(op(Kind::Linear, acc, base + 1));
                acc = base + 2;
            }
        }
        g.outputs = vec![acc];
        let h = hessian(&g);
        assert_eq!(h.to_string(), "**..\n***.\n.***\n..**\n");
        let j = jacobian(&g);
        assert_eq!(j.to_string(), "****\n");
    }

    #[test]
    fn dead_and_constant_operations_add_nothing() {
        // y0 = floor(x0) + x1 (depends on x1 only); a dead exp(x2); y1 = x0 / x2.
        let g = Graph {
            inputs: 3,
            ops: vec![
                op(Kind::Constant, 0, NONE),  // 3: floor(x0)
                op(Kind::Linear, 3, 1),       // 4: floor(x0) + x1
                op(Kind::Nonlinear, 2, NONE), // 5: exp(x2), unused
                op(Kind::Quotient, 0, 2),     // 6: x0 / x2
            ],
            outputs: vec![4, 6, NONE],
        };
        assert_eq!(jacobian(&g).to_string(), ".*.\n*.*\n...\n");
        let h = Graph {
            outputs: vec![6],
            ..g.clone()
        };
        // x0 / x2: mixed (0, 2) and (2, 2), nothing for (0, 0).
        assert_eq!(hessian(&h).to_string(), "..*\n...\n*.*\n");
        let h = Graph {
            outputs: vec![4],
            ..g
        };
        assert_eq!(hessian(&h).nnz(), 0);
    }

    #[test]
    fn nonlinear_of_a_sum_is_dense_on_its_inputs() {
        // exp(x0 + x2) · x1
        let g = Graph {
            inputs: 3,
            ops: vec![
                op(Kind::Linear, 0, 2),
                op(Kind::Nonlinear, 3, NONE),
                op(Kind::Product, 4, 1),
            ],
            outputs: vec![5],
        };
        assert_eq!(hessian(&g).to_string(), "***\n*.*\n***\n");
    }
}
