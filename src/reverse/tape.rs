//! The tape: where reverse mode records partials and applies the chain rule.
//!
//! Every operation on a [`Var`](super::Var) appends one [`Node`]: the indices
//! of its (at most two) parents and the partial derivatives with respect to
//! them, computed at record time from [`rules`](crate::rules). That is 24
//! bytes per recorded operation. Constants are never recorded: a `Var` with
//! index 0 is a constant, and index 0 is a sentinel node that absorbs the
//! unused second parent of a unary node (with partial 0).
//!
//! The backward sweep ([`Tape::sweep`]) walks the nodes once in reverse and
//! adds `partial × adjoint` into each parent: the whole chain rule of reverse
//! mode is the loop in that function.
//!
//! The tape lives in a thread-local and its storage is reused: once it has
//! grown to the size of a computation, recording and sweeping allocate
//! nothing. A recording has a process-unique id, stored in every `Var` it
//! creates, so a `Var` used after its recording ended or on another thread is
//! caught before it could corrupt a gradient.

use std::cell::UnsafeCell;
use std::sync::atomic::{AtomicU32, Ordering};

/// One recorded operation: `partial[k] = ∂(this node)/∂(parent[k])`.
#[derive(Clone, Copy, Debug)]
#[repr(C)]
pub(crate) struct Node {
    pub(crate) partial: [f64; 2],
    pub(crate) parent: [u32; 2],
}

const SENTINEL: Node = Node {
    partial: [0.0; 2],
    parent: [0; 2],
};

/// The largest number of nodes a recording may hold (indices are `u32`).
pub const MAX_NODES: usize = u32::MAX as usize;

/// How many recently ended recordings a thread remembers, to tell "your
/// recording has ended" from "this Var came from another thread".
const ENDED_MEMORY: usize = 8;

pub(crate) struct Tape {
    pub(crate) nodes: Vec<Node>,
    pub(crate) adjoints: Vec<f64>,
    /// The active recording's id; 0 when none is active.
    pub(crate) rec: u32,
    ended: [u32; ENDED_MEMORY],
    ended_next: usize,
    /// The largest number of nodes any recording on this thread has held.
    pub(crate) peak: usize,
}

thread_local! {
    static TAPE: UnsafeCell<Tape> = const {
        UnsafeCell::new(Tape {
            nodes: Vec::new(),
            adjoints: Vec::new(),
            rec: 0,
            ended: [0; ENDED_MEMORY],
            ended_next: 0,
            peak: 0,
        })
    };
}

static NEXT_RECORDING: AtomicU32 = AtomicU32::new(1);

/// Runs `f` with this thread's tape.
///
/// The closures passed here never call user code and never re-enter
/// `with_tape`, so the `&mut` is unique for its lifetime.
#[inline(always)]
pub(crate) fn with_tape<R>(f: impl FnOnce(&mut Tape) -> R) -> R {
    TAPE.with(|t| {
        // SAFETY: the tape is thread-local, and every closure given to
        // `with_tape` is crate code that neither calls back into user code
        // nor calls `with_tape` again, so no other reference exists meanwhile.
        let tape = unsafe { &mut *t.get() };
        f(tape)
    })
}

impl Tape {
    /// Appends a node and returns its index, after checking that every parent
    /// belongs to the active recording.
    #[inline(always)]
    pub(crate) fn push(&mut self, recs: [u32; 2], node: Node) -> u32 {
        if (recs[0] != self.rec) | (recs[1] != self.rec) {
            let bad = if recs[0] != self.rec {
                recs[0]
            } else {
                recs[1]
            };
            self.misuse(bad);
        }
        let i = self.nodes.len();
        if i >= MAX_NODES {
            overflow();
        }
        self.nodes.push(node);
        i as u32
    }

    /// Starts a recording: clears the tape (keeping its storage) and returns
    /// the new recording's id.
    pub(crate) fn start(&mut self, who: &str) -> u32 {
        if self.rec != 0 {
            panic!(
                "dualtape: {who} was called while another reverse-mode recording is active on \
                 this thread (recording #{}). Reverse mode does not nest: the inner call would \
                 overwrite the outer tape. For second derivatives use forward over reverse \
                 (reverse::hvp, reverse::hessian with Dual<Var>); otherwise finish the outer \
                 gradient first and pass plain f64 values into the inner one.",
                self.rec
            );
        }
        let mut id = NEXT_RECORDING.fetch_add(1, Ordering::Relaxed);
        if id == 0 {
            // The counter wrapped after 2^32 recordings; 0 means "constant".
            id = NEXT_RECORDING.fetch_add(1, Ordering::Relaxed);
        }
        self.rec = id;
        self.nodes.clear();
        self.nodes.push(SENTINEL);
        id
    }

    /// Ends the active recording.
    pub(crate) fn end(&mut self) {
        self.peak = self.peak.max(self.nodes.len());
        self.ended[self.ended_next] = self.rec;
        self.ended_next = (self.ended_next + 1) % ENDED_MEMORY;
        self.rec = 0;
    }

    /// Prepares the adjoints for a sweep from node `from` down: zeroes
    /// `adjoints[..=from]`, growing the storage only if needed.
    pub(crate) fn clear_adjoints(&mut self, from: usize) {
        if self.adjoints.len() <= from {
            self.adjoints.resize(from + 1, 0.0);
        }
        self.adjoints[..=from].fill(0.0);
    }

    /// The backward sweep: for every node from `from` down to 1, in reverse
    /// order, add `partial × adjoint` into each parent's adjoint. This loop is
    /// the chain rule of reverse mode. A zero adjoint contributes nothing
    /// (rule 3 of [`rules`](crate::rules)); zero partials were pointed at the
    /// sentinel at record time.
    pub(crate) fn sweep(&mut self, from: usize) {
        let nodes = &self.nodes[..=from];
        let adj = &mut self.adjoints[..=from];
        for i in (1..=from).rev() {
            let a = adj[i];
            if a == 0.0 {
                continue;
            }
            let n = nodes[i];
            debug_assert!((n.parent[0] as usize) < i && (n.parent[1] as usize) < i);
            // SAFETY: a node's parents were recorded before it in the same
            // recording (checked by `push` through the recording id), so both
            // indices are < i <= from < adj.len().
            unsafe {
                *adj.get_unchecked_mut(n.parent[0] as usize) += n.partial[0] * a;
                *adj.get_unchecked_mut(n.parent[1] as usize) += n.partial[1] * a;
            }
        }
    }

    #[cold]
    #[inline(never)]
    pub(crate) fn misuse(&self, bad: u32) -> ! {
        let ended_here = self.ended.contains(&bad);
        let what = if ended_here {
            format!("it was created in recording #{bad}, which has already ended on this thread")
        } else {
            format!(
                "it was created in recording #{bad}, which belongs to another thread (or ended \
                 long ago)"
            )
        };
        let now = if self.rec == 0 {
            "no recording is active on this thread".to_string()
        } else {
            format!("the active recording on this thread is #{}", self.rec)
        };
        panic!(
            "dualtape: a Var was used outside the recording that made it: {what}, and {now}. \
             A Var is only valid inside the closure given to the reverse driver that created \
             it (reverse::gradient, vjp, jacobian, hvp, ...), on that thread. Do not keep Vars \
             after the closure returns or send them to other threads: keep plain f64 values \
             (Var::value) and start a new gradient."
        );
    }
}

#[cold]
#[inline(never)]
fn overflow() -> ! {
    panic!(
        "dualtape: the reverse-mode tape is full ({MAX_NODES} nodes, the most a u32 index can \
         address). Split the computation into smaller gradients, or use forward mode for this \
         function."
    );
}

/// Statistics of this thread's tape, for benchmarks and tuning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TapeStats {
    /// Nodes in the last (or active) recording, including the sentinel.
    pub nodes: usize,
    /// The most nodes any recording on this thread has held.
    pub peak_nodes: usize,
    /// Bytes of one recorded operation.
    pub bytes_per_node: usize,
    /// Bytes of storage the tape holds now (nodes and adjoints), reused by the
    /// next recording.
    pub capacity_bytes: usize,
}

/// This thread's tape statistics.
///
/// ```
/// use dualtape::reverse;
///
/// let (_, _) = reverse::gradient(|x| x[0] * x[1] + x[0].sin(), &[1.0, 2.0]);
/// let s = reverse::tape_stats();
/// assert_eq!(s.bytes_per_node, 24);
/// // sentinel + 2 inputs + mul + sin + add
/// assert_eq!(s.nodes, 6);
/// ```
pub fn tape_stats() -> TapeStats {
    with_tape(|t| TapeStats {
        nodes: t.nodes.len(),
        peak_nodes: t.peak.max(t.nodes.len()),
        bytes_per_node: std::mem::size_of::<Node>(),
        capacity_bytes: t.nodes.capacity() * std::mem::size_of::<Node>()
            + t.adjoints.capacity() * std::mem::size_of::<f64>(),
    })
}
