//! The tape: where reverse mode records partials and applies the chain rule.
//!
//! Every operation on a [`Var`](super::Var) appends one `Node`: the indices
//! of its (at most two) parents and the partial derivatives with respect to
//! them, computed at record time from [`rules`](crate::rules). That is 24
//! bytes per recorded operation. Constants are never recorded: a `Var` with
//! index 0 is a constant (index 0 is a sentinel node that is never swept). A
//! unary node's unused second slot has partial 0 and points at the node
//! itself.
//!
//! The backward sweep (`Tape::sweep`) walks the nodes once in reverse and
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

/// The tape of one thread.
///
/// The nodes live in a hand-held buffer (pointer, length, capacity) inside a
/// thread-local that has no destructor: such a thread-local is reached with a
/// single thread-pointer offset, where one with a destructor costs a call and
/// a state check on every access, i.e. on every recorded operation. The
/// buffer is freed at thread exit by [`Cold`]'s destructor.
pub(crate) struct Tape {
    nodes_ptr: *mut Node,
    nodes_len: usize,
    nodes_cap: usize,
    /// The active recording's id; 0 when none is active.
    pub(crate) rec: u32,
    /// Whether the active recording also records a program
    /// ([`reverse::record`](crate::reverse::record)).
    pub(crate) program: bool,
    /// The next recording id of this thread's block, and the block's end.
    next_id: u32,
    id_end: u32,
}

/// Recording ids are handed to threads in blocks, so starting a recording
/// costs no atomic operation; blocks are disjoint, so ids are unique across
/// threads (until the 32-bit space wraps after 2^32 recordings).
const ID_BLOCK: u32 = 1 << 12;

/// The parts of a thread's tape that are not touched per operation.
pub(crate) struct Cold {
    pub(crate) adjoints: Vec<f64>,
    ended: [u32; ENDED_MEMORY],
    ended_next: usize,
    /// The largest number of nodes any recording on this thread has held.
    pub(crate) peak: usize,
}

impl Drop for Cold {
    fn drop(&mut self) {
        with_tape(|t| {
            if !t.nodes_ptr.is_null() {
                // SAFETY: ptr/len/cap came from a Vec<Node> (see `grow`).
                drop(unsafe { Vec::from_raw_parts(t.nodes_ptr, t.nodes_len, t.nodes_cap) });
                t.nodes_ptr = std::ptr::null_mut();
                t.nodes_len = 0;
                t.nodes_cap = 0;
            }
        });
    }
}

thread_local! {
    static TAPE: UnsafeCell<Tape> = const {
        UnsafeCell::new(Tape {
            nodes_ptr: std::ptr::null_mut(),
            nodes_len: 0,
            nodes_cap: 0,
            rec: 0,
            program: false,
            next_id: 0,
            id_end: 0,
        })
    };
    static COLD: UnsafeCell<Cold> = const {
        UnsafeCell::new(Cold {
            adjoints: Vec::new(),
            ended: [0; ENDED_MEMORY],
            ended_next: 0,
            peak: 0,
        })
    };
}

static NEXT_ID_BLOCK: AtomicU32 = AtomicU32::new(0);

/// Runs `f` with this thread's tape.
///
/// The closures passed here never call user code and never re-enter
/// `with_tape`/`with_cold`, so the `&mut` is unique for its lifetime.
#[inline(always)]
pub(crate) fn with_tape<R>(f: impl FnOnce(&mut Tape) -> R) -> R {
    // The closure given to `LocalKey::with` only takes the address, so it is
    // inlined everywhere (for a const thread-local without destructor that
    // is one thread-pointer offset); the work happens at the call site,
    // where the compiler sees the constants (e.g. a unary node's zero
    // partial).
    let tape: *mut Tape = TAPE.with(|t| t.get());
    // SAFETY: the tape is thread-local, and every closure given to
    // `with_tape` is crate code that neither calls back into user code nor
    // calls `with_tape` again, so no other reference exists meanwhile.
    f(unsafe { &mut *tape })
}

/// Runs `f` with this thread's cold tape state (same rules as [`with_tape`]).
#[inline]
pub(crate) fn with_cold<R>(f: impl FnOnce(&mut Cold) -> R) -> R {
    COLD.with(|c| {
        // SAFETY: as in `with_tape`.
        let cold = unsafe { &mut *c.get() };
        f(cold)
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
            misuse(bad, self.rec);
        }
        let i = self.nodes_len;
        if i == self.nodes_cap {
            self.grow();
        }
        // A zero partial (a unary node's unused second slot, or a partial
        // that is exactly 0) points at the node itself: the sweep then adds
        // `0 × adjoint` into a slot it never reads again. That keeps a zero
        // partial from spreading an infinite or NaN adjoint (rule 3), and
        // unlike a shared dummy slot it creates no dependency between nodes,
        // so the sweep's additions do not serialise.
        let mut node = node;
        for k in 0..2 {
            if node.partial[k] == 0.0 {
                node.parent[k] = i as u32;
            }
        }
        // SAFETY: i < nodes_cap after `grow`, and the buffer holds nodes_cap
        // slots.
        unsafe { self.nodes_ptr.add(i).write(node) };
        self.nodes_len = i + 1;
        i as u32
    }

    /// Appends a unary node with a nonzero partial `d` on `parent`, after
    /// checking the recording: [`push`](Self::push) without the zero tests.
    #[inline(always)]
    pub(crate) fn push_unary(&mut self, rec: u32, d: f64, parent: u32) -> u32 {
        if rec != self.rec {
            misuse(rec, self.rec);
        }
        let i = self.nodes_len;
        if i == self.nodes_cap {
            self.grow();
        }
        // SAFETY: i < nodes_cap after `grow`.
        unsafe {
            self.nodes_ptr.add(i).write(Node {
                partial: [d, 0.0],
                parent: [parent, i as u32],
            })
        };
        self.nodes_len = i + 1;
        i as u32
    }

    /// Appends `n` input nodes (no parents) and returns the index of the
    /// first: one capacity check and a plain fill, instead of `n` pushes.
    pub(crate) fn push_inputs(&mut self, n: usize) -> u32 {
        let first = self.nodes_len;
        if first + n > MAX_NODES {
            overflow();
        }
        while self.nodes_cap < first + n {
            self.grow();
        }
        for i in first..first + n {
            // SAFETY: i < first + n <= nodes_cap.
            unsafe {
                self.nodes_ptr.add(i).write(Node {
                    partial: [0.0; 2],
                    parent: [i as u32; 2],
                })
            };
        }
        self.nodes_len = first + n;
        first as u32
    }

    /// Doubles the node buffer (at least 1024 nodes).
    #[cold]
    #[inline(never)]
    fn grow(&mut self) {
        if self.nodes_len >= MAX_NODES {
            overflow();
        }
        let mut v = if self.nodes_ptr.is_null() {
            Vec::new()
        } else {
            // SAFETY: ptr/len/cap came from a Vec<Node> below.
            unsafe { Vec::from_raw_parts(self.nodes_ptr, self.nodes_len, self.nodes_cap) }
        };
        v.reserve(v.capacity().max(1024));
        let mut v = std::mem::ManuallyDrop::new(v);
        self.nodes_ptr = v.as_mut_ptr();
        self.nodes_cap = v.capacity().min(MAX_NODES);
        // Make sure the buffer is freed when the thread exits.
        with_cold(|_| ());
    }

    /// The recorded nodes.
    #[inline(always)]
    pub(crate) fn nodes(&self) -> &[Node] {
        if self.nodes_ptr.is_null() {
            &[]
        } else {
            // SAFETY: the first nodes_len slots are initialised.
            unsafe { std::slice::from_raw_parts(self.nodes_ptr, self.nodes_len) }
        }
    }

    /// Bytes of node storage held.
    pub(crate) fn capacity_bytes(&self) -> usize {
        self.nodes_cap * std::mem::size_of::<Node>()
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
        if self.next_id == self.id_end {
            let base = NEXT_ID_BLOCK.fetch_add(ID_BLOCK, Ordering::Relaxed);
            // Id 0 means "constant", so a block starting at 0 skips it.
            self.next_id = base.max(1);
            self.id_end = base.wrapping_add(ID_BLOCK);
        }
        let id = self.next_id;
        self.next_id = id.wrapping_add(1);
        self.rec = id;
        self.nodes_len = 0;
        self.push([id, id], SENTINEL);
        id
    }

    /// Ends the active recording.
    pub(crate) fn end(&mut self) {
        let (rec, len) = (self.rec, self.nodes_len);
        with_cold(|c| {
            c.peak = c.peak.max(len);
            c.ended[c.ended_next] = rec;
            c.ended_next = (c.ended_next + 1) % ENDED_MEMORY;
        });
        self.rec = 0;
        self.program = false;
    }

    /// The backward sweep: the chain rule of reverse mode.
    ///
    /// `adj` holds the seeds on entry and is zero elsewhere. For every node
    /// from `from` down to `n + 1` (the nodes above the `n` inputs), in
    /// reverse order, add `partial × adjoint` into each parent's adjoint,
    /// then zero the node's own slot. On return `adj[1..=n]` holds the
    /// inputs' adjoints and every other slot is zero again, so the next
    /// sweep needs no clearing pass. A zero adjoint contributes nothing (rule
    /// 3 of [`rules`](crate::rules)); zero partials were pointed at their own
    /// node at record time, whose slot is zeroed right after.
    pub(crate) fn sweep(&self, adj: &mut [f64], from: usize, n: usize) {
        let nodes = &self.nodes()[..=from];
        let adj = &mut adj[..=from];
        let mut i = from;
        while i > n {
            // SAFETY: n < i <= from < nodes.len() == adj.len(); a node's
            // parents were recorded before it in the same recording (checked
            // by `push` through the recording id) or are the node itself (a
            // zero partial), so both parent indices are <= i.
            unsafe {
                let a = *adj.get_unchecked(i);
                if a != 0.0 {
                    let node = *nodes.get_unchecked(i);
                    debug_assert!(node.parent[0] as usize <= i && node.parent[1] as usize <= i);
                    *adj.get_unchecked_mut(node.parent[0] as usize) += node.partial[0] * a;
                    *adj.get_unchecked_mut(node.parent[1] as usize) += node.partial[1] * a;
                    *adj.get_unchecked_mut(i) = 0.0;
                }
            }
            i -= 1;
        }
    }
}

impl Cold {
    /// The adjoint buffer, all zeros, with at least `from + 1` slots. Every
    /// user leaves it all zeros again (see [`Tape::sweep`]).
    pub(crate) fn adjoints(&mut self, from: usize) -> &mut [f64] {
        if self.adjoints.len() <= from {
            self.adjoints.resize(from + 1, 0.0);
        }
        &mut self.adjoints[..=from]
    }
}

/// Panics for a `Var` used outside its recording.
#[cold]
#[inline(never)]
pub(crate) fn misuse(bad: u32, active: u32) -> ! {
    let ended_here = with_cold(|c| c.ended.contains(&bad));
    let what = if ended_here {
        format!("it was created in recording #{bad}, which has already ended on this thread")
    } else {
        format!(
            "it was created in recording #{bad}, which belongs to another thread (or ended long \
             ago)"
        )
    };
    let now = if active == 0 {
        "no recording is active on this thread".to_string()
    } else {
        format!("the active recording on this thread is #{active}")
    };
    panic!(
        "dualtape: a Var was used outside the recording that made it: {what}, and {now}. A Var \
         is only valid inside the closure given to the reverse driver that created it \
         (reverse::gradient, vjp, jacobian, hvp, ...), on that thread. Do not keep Vars after \
         the closure returns or send them to other threads: keep plain f64 values (Var::value) \
         and start a new gradient."
    );
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
    let (nodes, node_bytes) = with_tape(|t| (t.nodes().len(), t.capacity_bytes()));
    let (peak, adj_bytes) = with_cold(|c| (c.peak, c.adjoints.capacity() * 8));
    TapeStats {
        nodes,
        peak_nodes: peak.max(nodes),
        bytes_per_node: std::mem::size_of::<Node>(),
        capacity_bytes: node_bytes + adj_bytes,
    }
}
