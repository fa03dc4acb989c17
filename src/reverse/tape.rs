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
//! nothing ([`release_tape`](super::release_tape) gives the storage back).
//!
//! # Why a stale `Var` can never corrupt anything
//!
//! * A recording has a 64-bit id, unique in the process for its whole life:
//!   threads take disjoint blocks of ids from one global counter, which
//!   refuses (panics) rather than wraps, after 2⁶⁴ ids, i.e. never in
//!   practice (centuries at one recording per nanosecond). Every `Var`
//!   carries its recording's id, and every operation compares it with the
//!   active recording's id, so a `Var` used after its recording ended or on
//!   another thread panics.
//! * Independently of the ids, every parent index is checked against the
//!   tape's length when a node is pushed (`parent < index of the new node`,
//!   one compare each), so every node's parents lie at or below the node by
//!   construction, and the unchecked indexing of the sweep stays in bounds
//!   even if an id check were somehow passed.
//! * No panic is ever raised while a `&mut Tape` or `&mut Cold` is live:
//!   the closures given to `with_tape` and `with_cold` decide and return
//!   a `Fault`; the caller raises it after the closure returned. So a
//!   panic hook that calls back into dualtape never sees a live `&mut`.
//!   Nor is memory allocated or freed inside those closures (a global
//!   allocator is user code too): buffers are taken out, grown or dropped
//!   outside, and put back.

use std::cell::UnsafeCell;
use std::mem::ManuallyDrop;
use std::sync::atomic::{AtomicU64, Ordering};

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

/// The smallest node buffer allocated.
const MIN_NODES: usize = 1024;

/// How many recently ended recordings a thread remembers, to tell "your
/// recording has ended" from "this Var came from another thread".
const ENDED_MEMORY: usize = 8;

/// Recording ids are handed to threads in blocks, so starting a recording
/// costs no atomic operation; blocks are disjoint, so ids are unique across
/// threads. With 64-bit ids the global counter lasts 2⁵² blocks.
const ID_BLOCK: u64 = 1 << 12;

/// The source of id blocks of every thread.
static NEXT_ID_BLOCK: AtomicU64 = AtomicU64::new(0);

/// The tape of one thread.
///
/// The nodes live in a hand-held buffer (pointer, length, capacity) inside a
/// thread-local that has no destructor: such a thread-local is reached with a
/// single thread-pointer offset, where one with a destructor costs a call and
/// a state check on every access, i.e. on every recorded operation. The
/// buffer is freed at thread exit by [`Cold`]'s destructor.
///
/// Invariants (every method keeps them, including on its error paths):
/// * `nodes_cap == 0` (no buffer; `nodes_ptr` is unused) or
///   `(nodes_ptr, nodes_cap)` are the pointer and true capacity of a
///   `Vec<Node>` this tape owns, and the first `nodes_len` slots are
///   initialised;
/// * `nodes_len <= nodes_cap` and `nodes_end == min(nodes_cap, limit)`;
/// * every initialised node `j` has `parent[k] <= j` (checked at push);
/// * a buffer is held only while [`COLD`] is alive, so its destructor frees
///   it;
/// * `rec != 0` exactly while a recording is active, and then
///   `nodes_len >= 1` (the sentinel).
pub(crate) struct Tape {
    nodes_ptr: *mut Node,
    nodes_len: usize,
    /// Where pushing stops and asks for room: `min(nodes_cap, limit)`.
    nodes_end: usize,
    /// The buffer's true capacity, which it is freed with.
    nodes_cap: usize,
    /// The most nodes a recording on this thread may hold.
    limit: usize,
    /// The active recording's id; 0 when none is active.
    pub(crate) rec: u64,
    /// Whether the active recording also records a program
    /// ([`reverse::record`](crate::reverse::record)).
    pub(crate) program: bool,
    /// The next recording id of this thread's block, and the block's end.
    next_id: u64,
    id_end: u64,
}

/// The parts of a thread's tape that are not touched per operation.
pub(crate) struct Cold {
    pub(crate) adjoints: Vec<f64>,
    ended: [u64; ENDED_MEMORY],
    ended_next: usize,
    /// The largest number of nodes any recording on this thread has held.
    pub(crate) peak: usize,
}

impl Drop for Cold {
    fn drop(&mut self) {
        // Taken out inside, freed outside (see the module docs).
        let nodes = with_tape(|t| t.take_buffer());
        drop(nodes);
    }
}

thread_local! {
    static TAPE: UnsafeCell<Tape> = const {
        UnsafeCell::new(Tape {
            nodes_ptr: std::ptr::null_mut(),
            nodes_len: 0,
            nodes_end: 0,
            nodes_cap: 0,
            limit: MAX_NODES,
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

/// Runs `f` with this thread's tape.
///
/// Every closure given here is crate code that returns without panicking
/// (failures are returned as a [`Fault`] and raised by the caller after this
/// function returned), allocates and frees nothing, calls no user code, and
/// does not call `with_tape` again; so the `&mut` is the only reference to
/// the tape for its whole life, whatever panic hooks or other thread-locals'
/// destructors do.
#[inline(always)]
pub(crate) fn with_tape<R>(f: impl FnOnce(&mut Tape) -> R) -> R {
    // The closure given to `LocalKey::with` only takes the address, so it is
    // inlined everywhere (for a const thread-local without destructor that
    // is one thread-pointer offset, and `with` cannot fail); the work
    // happens at the call site, where the compiler sees the constants (e.g.
    // a unary node's zero partial).
    let tape: *mut Tape = TAPE.with(|t| t.get());
    // SAFETY: the tape is thread-local, so only this thread reaches it. No
    // other reference to it is live: every `with_tape` closure ends before
    // any code that could re-enter dualtape runs (it neither panics, nor
    // allocates, nor calls user code, nor nests `with_tape`; see above), so
    // neither a panic hook nor a destructor nor an allocator can observe
    // this `&mut`, also while unwinding.
    f(unsafe { &mut *tape })
}

/// Runs `f` with this thread's cold tape state (same rules as
/// [`with_tape`]; the two may nest, they are distinct objects), or returns
/// [`Fault::Destroyed`] during thread-local destruction, once the cold state
/// has been dropped.
#[inline]
pub(crate) fn with_cold<R>(f: impl FnOnce(&mut Cold) -> R) -> Result<R, Fault> {
    let cold: *mut Cold = COLD.try_with(|c| c.get()).map_err(|_| Fault::Destroyed)?;
    // SAFETY: as in `with_tape`: thread-local, and every closure given here
    // returns without panicking, allocating, freeing, calling user code or
    // nesting `with_cold`, so this `&mut` is unique for its life. `try_with`
    // succeeded, so the value is alive and stays alive until this thread's
    // destructors run it, which cannot happen during `f`.
    Ok(f(unsafe { &mut *cold }))
}

/// A failure detected while the tape was borrowed, raised (as a panic with
/// advice) by [`Fault::raise`] after the borrow ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fault {
    /// The buffer is full: the caller makes room and retries.
    Room,
    /// A `Var` of recording `bad` was used while `active` (0: none) is.
    Misuse { bad: u64, active: u64 },
    /// A parent index lies at or beyond the new node although its recording
    /// matched: impossible while ids are unique, refused all the same.
    Corrupt,
    /// A recording was started inside recording `active`.
    Nested { active: u64 },
    /// A recording reached the node limit.
    Full { limit: usize },
    /// Allocating a buffer of `nodes` nodes failed.
    NoMemory { nodes: usize },
    /// Called during thread-local destruction, after the tape was freed.
    Destroyed,
    /// The 64-bit recording ids are used up.
    IdsExhausted,
    /// `what` needs no active recording, but `active` is.
    Busy { what: &'static str, active: u64 },
}

/// The value, or the fault raised as a panic (outside any borrow).
#[inline(always)]
pub(crate) fn raise_err<T>(r: Result<T, Fault>) -> T {
    match r {
        Ok(v) => v,
        Err(f) => f.raise(),
    }
}

impl Fault {
    /// Panics with a message that says what happened and what to do. Never
    /// called while a `&mut Tape` or `&mut Cold` is live.
    #[cold]
    #[inline(never)]
    pub(crate) fn raise(self) -> ! {
        match self {
            Fault::Misuse { bad, active } => misuse(bad, active),
            Fault::Nested { active } => nested("a reverse driver", active),
            Fault::Full { limit } => panic!(
                "dualtape: the reverse-mode tape is full ({limit} nodes{}). Split the \
                 computation into smaller gradients, or use forward mode for this function.",
                if limit == MAX_NODES {
                    ", the most a u32 index can address"
                } else {
                    ", the limit set for this thread"
                }
            ),
            Fault::NoMemory { nodes } => panic!(
                "dualtape: out of memory growing the reverse-mode tape to {nodes} nodes ({} \
                 bytes at {} bytes per recorded operation). Split the computation into smaller \
                 gradients, use forward mode for this function, or free other threads' tapes \
                 with reverse::release_tape.",
                nodes.saturating_mul(std::mem::size_of::<Node>()),
                std::mem::size_of::<Node>()
            ),
            Fault::Destroyed => panic!(
                "dualtape: reverse mode was used during thread-local destruction, after this \
                 thread's tape was freed (from another thread-local's destructor, as the thread \
                 exits). Compute the gradient before the thread exits, or on another thread."
            ),
            Fault::IdsExhausted => panic!(
                "dualtape: all 2^64 reverse-mode recording ids of this process are used up; \
                 dualtape refuses to reuse one, since a reused id could let a stale Var pass \
                 its check"
            ),
            Fault::Busy { what, active } => panic!(
                "dualtape: {what} was called while a reverse-mode recording is active on this \
                 thread (recording #{active}). Call it outside the closures given to the \
                 reverse drivers."
            ),
            Fault::Room | Fault::Corrupt => panic!(
                "dualtape: internal error ({self:?}): a Var's node index lies beyond the tape \
                 although its recording id matched. The operation was refused before touching \
                 memory. Please report this at dualtape's issue tracker."
            ),
        }
    }
}

/// Takes the next block of recording ids from `source`, or `None` once the
/// 64-bit space is used up (it never wraps).
fn claim_block(source: &AtomicU64) -> Option<u64> {
    source
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
            b.checked_add(ID_BLOCK)
        })
        .ok()
}

impl Tape {
    /// Appends a node and returns its index, after checking that every parent
    /// belongs to the active recording and lies below the new node.
    #[inline(always)]
    pub(crate) fn try_push(&mut self, recs: [u64; 2], node: Node) -> Result<u32, Fault> {
        let i = self.nodes_len;
        // One branch for all four checks. The index checks cannot fail once
        // the ids matched (a recording's Vars index its own nodes); they make
        // the sweep's unchecked indexing safe by construction.
        let other_rec = (recs[0] ^ self.rec) | (recs[1] ^ self.rec);
        let top_parent = node.parent[0].max(node.parent[1]) as usize;
        if (other_rec != 0) | (top_parent >= i) {
            return Err(self.bad_operands(recs));
        }
        if i >= self.nodes_end {
            return Err(Fault::Room);
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
        // SAFETY: i < nodes_end <= nodes_cap, the buffer's capacity, and
        // i < nodes_end <= limit <= MAX_NODES, so `i as u32` is exact.
        unsafe { self.nodes_ptr.add(i).write(node) };
        self.nodes_len = i + 1;
        Ok(i as u32)
    }

    /// Appends a unary node with a nonzero partial `d` on `parent`: the same
    /// checks as [`try_push`](Self::try_push) without the zero tests.
    #[inline(always)]
    pub(crate) fn try_push_unary(&mut self, rec: u64, d: f64, parent: u32) -> Result<u32, Fault> {
        let i = self.nodes_len;
        if (rec != self.rec) | (parent as usize >= i) {
            return Err(self.bad_operands([rec, rec]));
        }
        if i >= self.nodes_end {
            return Err(Fault::Room);
        }
        // SAFETY: as in `try_push`; parent < i was checked above.
        unsafe {
            self.nodes_ptr.add(i).write(Node {
                partial: [d, 0.0],
                parent: [parent, i as u32],
            })
        };
        self.nodes_len = i + 1;
        Ok(i as u32)
    }

    #[cold]
    #[inline(never)]
    fn bad_operands(&self, recs: [u64; 2]) -> Fault {
        match recs.into_iter().find(|&r| r != self.rec) {
            Some(bad) => Fault::Misuse {
                bad,
                active: self.rec,
            },
            None => Fault::Corrupt,
        }
    }

    /// Appends `n` input nodes (no parents) to recording `rec` and returns
    /// the index of the first: one check and a plain fill.
    fn try_push_inputs(&mut self, rec: u64, n: usize) -> Result<u32, Fault> {
        if rec != self.rec {
            return Err(Fault::Misuse {
                bad: rec,
                active: self.rec,
            });
        }
        let first = self.nodes_len;
        if n > self.nodes_end.saturating_sub(first) {
            return Err(Fault::Room);
        }
        for i in first..first + n {
            // SAFETY: i < first + n <= nodes_end <= nodes_cap, and
            // i < limit <= MAX_NODES, so `i as u32` is exact.
            unsafe {
                self.nodes_ptr.add(i).write(Node {
                    partial: [0.0; 2],
                    parent: [i as u32; 2],
                })
            };
        }
        self.nodes_len = first + n;
        Ok(first as u32)
    }

    /// Starts a recording with an id from this thread's block (a new block
    /// from `source` when it is used up): clears the tape, keeping its
    /// storage, and pushes the sentinel.
    fn try_start(&mut self, source: &AtomicU64) -> Result<u64, Fault> {
        if self.rec != 0 {
            return Err(Fault::Nested { active: self.rec });
        }
        if self.nodes_end == 0 {
            return Err(Fault::Room);
        }
        if self.next_id == self.id_end {
            let base = claim_block(source).ok_or(Fault::IdsExhausted)?;
            // Id 0 means "constant", so a block starting at 0 skips it.
            self.next_id = base.max(1);
            self.id_end = base + ID_BLOCK;
        }
        let id = self.next_id;
        self.next_id = id + 1;
        self.rec = id;
        // SAFETY: 0 < nodes_end <= nodes_cap.
        unsafe { self.nodes_ptr.write(SENTINEL) };
        self.nodes_len = 1;
        Ok(id)
    }

    /// Ends recording `rec` if it is the active one; returns its length.
    fn end(&mut self, rec: u64) -> Option<usize> {
        if self.rec != rec {
            return None;
        }
        self.rec = 0;
        self.program = false;
        Some(self.nodes_len)
    }

    /// Takes the node buffer out of the tape (which is left without one), to
    /// be grown or freed outside [`with_tape`].
    fn take_buffer(&mut self) -> Vec<Node> {
        if self.nodes_cap == 0 {
            return Vec::new();
        }
        // SAFETY: by the invariants, ptr/cap are a Vec<Node>'s own and the
        // first nodes_len <= nodes_cap slots are initialised; the tape gives
        // up ownership right here (cap 0), so the buffer has one owner.
        let v = unsafe { Vec::from_raw_parts(self.nodes_ptr, self.nodes_len, self.nodes_cap) };
        self.nodes_ptr = std::ptr::null_mut();
        self.nodes_len = 0;
        self.nodes_cap = 0;
        self.nodes_end = 0;
        v
    }

    /// Installs `v` as the node buffer; returns whatever buffer the tape held
    /// meanwhile (normally none), to be freed outside [`with_tape`].
    fn put_buffer(&mut self, v: Vec<Node>) -> Vec<Node> {
        let old = self.take_buffer();
        let mut v = ManuallyDrop::new(v);
        self.nodes_ptr = v.as_mut_ptr();
        self.nodes_len = v.len();
        self.nodes_cap = v.capacity();
        self.nodes_end = self.nodes_cap.min(self.limit);
        old
    }

    /// The recorded nodes.
    #[inline(always)]
    pub(crate) fn nodes(&self) -> &[Node] {
        if self.nodes_cap == 0 {
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
    fn sweep(&self, adj: &mut [f64], from: usize, n: usize) -> Result<(), Fault> {
        let nodes = self.nodes();
        if from >= nodes.len() || from >= adj.len() {
            return Err(Fault::Corrupt);
        }
        let mut i = from;
        while i > n {
            // SAFETY: n < i <= from < nodes.len() and adj.len() (checked
            // above); every node's parents are <= its own index, an
            // invariant established at push time by a bounds check (not by
            // the recording ids), so both parent indices are in bounds too.
            unsafe {
                let a = *adj.get_unchecked(i);
                if a != 0.0 {
                    let node = *nodes.get_unchecked(i);
                    *adj.get_unchecked_mut(node.parent[0] as usize) += node.partial[0] * a;
                    *adj.get_unchecked_mut(node.parent[1] as usize) += node.partial[1] * a;
                    *adj.get_unchecked_mut(i) = 0.0;
                }
            }
            i -= 1;
        }
        Ok(())
    }
}

/// Makes room for `extra` more nodes: grows the buffer (doubling, at least
/// [`MIN_NODES`], never past the limit) with `try_reserve`, outside any
/// borrow of the tape.
#[cold]
#[inline(never)]
fn make_room(extra: usize) -> Result<(), Fault> {
    // The destructor that frees the buffer must be registered first (and
    // must not have run already).
    with_cold(|_| ())?;
    let grow = with_tape(|t| {
        let need = match t.nodes_len.checked_add(extra) {
            Some(need) if need <= t.limit => need,
            _ => return Err(Fault::Full { limit: t.limit }),
        };
        if need <= t.nodes_cap {
            // Room already (the limit was raised): just move the end.
            t.nodes_end = t.nodes_cap.min(t.limit);
            return Ok(None);
        }
        Ok(Some((need, t.limit, t.take_buffer())))
    })?;
    let Some((need, limit, mut nodes)) = grow else {
        return Ok(());
    };
    // Double; if that much memory is not there, grow by a half, a quarter,
    // an eighth, a sixteenth (still amortised O(1) per node), then give up.
    let cap = nodes.capacity();
    let len = nodes.len();
    let grown = [cap, cap / 2, cap / 4, cap / 8, cap / 16]
        .into_iter()
        .map(|more| need.max(cap + more).max(MIN_NODES).min(limit))
        .any(|target| nodes.try_reserve_exact(target - len).is_ok());
    let grown = if grown {
        Ok(())
    } else {
        Err(Fault::NoMemory { nodes: need })
    };
    let stray = with_tape(|t| t.put_buffer(nodes));
    drop(stray);
    grown
}

/// Appends a node (see [`Tape::try_push`]); panics, with advice, for a
/// `Var` from another recording or a full tape.
#[inline(always)]
pub(crate) fn push(recs: [u64; 2], node: Node) -> u32 {
    match with_tape(|t| t.try_push(recs, node)) {
        Ok(i) => i,
        Err(f) => push_slow(f, recs, node),
    }
}

/// Appends a unary node with nonzero partial `d` (see [`push`]).
#[inline(always)]
pub(crate) fn push_unary(rec: u64, d: f64, parent: u32) -> u32 {
    match with_tape(|t| t.try_push_unary(rec, d, parent)) {
        Ok(i) => i,
        Err(f) => push_slow(
            f,
            [rec, rec],
            Node {
                partial: [d, 0.0],
                parent: [parent, 0],
            },
        ),
    }
}

#[cold]
#[inline(never)]
fn push_slow(f: Fault, recs: [u64; 2], node: Node) -> u32 {
    if f != Fault::Room {
        f.raise()
    }
    raise_err(make_room(1));
    raise_err(with_tape(|t| t.try_push(recs, node)))
}

/// Checks that a `Var` of recording `rec` may be used now (the active
/// recording is `rec`); panics with advice otherwise.
#[inline(always)]
pub(crate) fn check(rec: u64) {
    let active = with_tape(|t| t.rec);
    if active != rec {
        misuse(rec, active)
    }
}

/// Appends `n` input nodes to recording `rec`; returns the first's index.
pub(crate) fn push_inputs(rec: u64, n: usize) -> u32 {
    match with_tape(|t| t.try_push_inputs(rec, n)) {
        Ok(i) => i,
        Err(Fault::Room) => {
            raise_err(make_room(n));
            raise_err(with_tape(|t| t.try_push_inputs(rec, n)))
        }
        Err(f) => f.raise(),
    }
}

/// Starts a recording for driver `who`; returns its id.
pub(crate) fn start(who: &str) -> u64 {
    start_with(who, &NEXT_ID_BLOCK)
}

fn start_with(who: &str, source: &AtomicU64) -> u64 {
    let mut r = with_tape(|t| t.try_start(source));
    if r == Err(Fault::Room) {
        raise_err(make_room(1));
        r = with_tape(|t| t.try_start(source));
    }
    match r {
        Ok(id) => id,
        Err(Fault::Nested { active }) => nested(who, active),
        Err(f) => f.raise(),
    }
}

/// Ends recording `rec` if it is still the active one (used by the
/// drivers' guards, also while unwinding: never panics).
pub(crate) fn end(rec: u64) {
    if let Some(len) = with_tape(|t| t.end(rec)) {
        // During thread-local destruction there is nothing left to update.
        let _ = with_cold(|c| {
            c.peak = c.peak.max(len);
            let k = c.ended_next % ENDED_MEMORY;
            c.ended[k] = rec;
            c.ended_next = (k + 1) % ENDED_MEMORY;
        });
    }
}

/// Seeds the adjoints with `(index, weight)` pairs (indices at most `from`),
/// sweeps from node `from` down to the `out.len()` inputs, and moves the
/// inputs' adjoints into `out`, leaving the adjoint buffer all zeros.
pub(crate) fn sweep(from: usize, seeds: impl IntoIterator<Item = (usize, f64)>, out: &mut [f64]) {
    let n = out.len();
    raise_err(adjoints_ready(from + 1));
    raise_err(
        with_cold(|c| {
            let adj = c.adjoints.get_mut(..=from).ok_or(Fault::Corrupt)?;
            for (i, w) in seeds {
                if let Some(a) = adj.get_mut(i).filter(|_| i != 0) {
                    *a += w;
                }
            }
            with_tape(|t| t.sweep(adj, from, n))?;
            let inputs = adj.get_mut(1..=n).ok_or(Fault::Corrupt)?;
            out.copy_from_slice(inputs);
            inputs.fill(0.0);
            Ok(())
        })
        .and_then(|r| r),
    );
}

/// Makes the adjoint buffer at least `len` long (all zeros), allocating
/// outside the borrow.
fn adjoints_ready(len: usize) -> Result<(), Fault> {
    if with_cold(|c| c.adjoints.len() >= len)? {
        return Ok(());
    }
    let mut adj = with_cold(|c| std::mem::take(&mut c.adjoints))?;
    let grown = adj
        .try_reserve(len - adj.len())
        .map_err(|_| Fault::NoMemory { nodes: len });
    if grown.is_ok() {
        adj.resize(len, 0.0);
    }
    let stray = with_cold(|c| std::mem::replace(&mut c.adjoints, adj))?;
    drop(stray);
    grown
}

/// Frees this thread's node and adjoint storage (see
/// [`reverse::release_tape`](super::release_tape)).
pub(crate) fn release() {
    let nodes = raise_err(with_tape(|t| {
        if t.rec != 0 {
            return Err(Fault::Busy {
                what: "reverse::release_tape",
                active: t.rec,
            });
        }
        Ok(t.take_buffer())
    }));
    drop(nodes);
    let adj = with_cold(|c| std::mem::take(&mut c.adjoints));
    drop(adj);
}

/// Sets this thread's node limit (at most [`MAX_NODES`], the default): a
/// recording that would hold more nodes panics as a full tape. Meant for
/// tests of the tape-full path.
///
/// # Panics
///
/// While a recording is active on this thread, or if `limit` is 0 or above
/// [`MAX_NODES`].
#[doc(hidden)]
pub fn set_node_limit(limit: usize) {
    assert!(
        (1..=MAX_NODES).contains(&limit),
        "dualtape: set_node_limit({limit}): the limit must be between 1 and {MAX_NODES}"
    );
    raise_err(with_tape(|t| {
        if t.rec != 0 {
            return Err(Fault::Busy {
                what: "reverse::tape::set_node_limit",
                active: t.rec,
            });
        }
        t.limit = limit;
        t.nodes_end = t.nodes_cap.min(limit);
        Ok(())
    }));
}

/// Panics for a `Var` of recording `bad` used while `active` (0: none) is
/// the active recording.
#[cold]
#[inline(never)]
pub(crate) fn misuse(bad: u64, active: u64) -> ! {
    let ended_here = with_cold(|c| c.ended.contains(&bad)).unwrap_or(false);
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
fn nested(who: &str, active: u64) -> ! {
    panic!(
        "dualtape: {who} was called while another reverse-mode recording is active on this \
         thread (recording #{active}). Reverse mode does not nest: the inner call would \
         overwrite the outer tape. For second derivatives use forward over reverse \
         (reverse::hvp, reverse::hessian with Dual<Var>); otherwise finish the outer gradient \
         first and pass plain f64 values into the inner one."
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
/// Safe to call anywhere, also from a panic hook or during thread-local
/// destruction (where the freed parts count as empty).
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
    let (peak, adj_bytes) =
        with_cold(|c| (c.peak, c.adjoints.capacity() * std::mem::size_of::<f64>()))
            .unwrap_or((0, 0));
    TapeStats {
        nodes,
        peak_nodes: peak.max(nodes),
        bytes_per_node: std::mem::size_of::<Node>(),
        capacity_bytes: node_bytes + adj_bytes,
    }
}

#[cfg(test)]
mod tests {
    //! The id machinery near its limits, without 2³² recordings: the id
    //! source is injected, or this thread's block is set directly.

    use super::*;
    use crate::reverse;
    use crate::reverse::Var;
    use std::cell::Cell;
    use std::panic::{catch_unwind, AssertUnwindSafe};
    use std::thread;

    /// Gives this thread the id block `[next, next + len)`. The ids must be
    /// ones the global counter never reaches in a test run (above 2⁴⁰).
    fn set_block(next: u64, len: u64) {
        assert!(next > 1 << 40);
        with_tape(|t| {
            t.next_id = next;
            t.id_end = next + len;
        });
    }

    fn message(p: Box<dyn std::any::Any + Send>) -> String {
        match p.downcast::<String>() {
            Ok(s) => *s,
            Err(p) => p.downcast::<&str>().map(|s| s.to_string()).unwrap(),
        }
    }

    /// A gradient whose closure smuggles its input out; returns it (stale).
    fn leak(x0: f64) -> Var {
        let leaked = Cell::new(None);
        let (_, g) = reverse::gradient(
            |x| {
                leaked.set(Some(x[0]));
                x[0] * 2.0
            },
            &[x0],
        );
        assert_eq!(g, vec![2.0]);
        leaked.get().unwrap()
    }

    #[test]
    fn the_block_source_refuses_rather_than_wraps() {
        let src = AtomicU64::new(u64::MAX - 2 * ID_BLOCK);
        assert_eq!(claim_block(&src), Some(u64::MAX - 2 * ID_BLOCK));
        assert_eq!(claim_block(&src), Some(u64::MAX - ID_BLOCK));
        for _ in 0..3 {
            assert_eq!(claim_block(&src), None);
        }
        // The counter stays at the end: a later claim cannot start over.
        assert_eq!(src.load(Ordering::Relaxed), u64::MAX);
    }

    #[test]
    fn the_last_ids_are_handed_out_then_recording_refuses() {
        // Thread-block path: a fresh thread takes its block from a source
        // with one block left, uses every id of it, then cannot start.
        thread::spawn(|| {
            let src = AtomicU64::new(u64::MAX - ID_BLOCK);
            let mut last = 0;
            for _ in 0..ID_BLOCK {
                let id = start_with("test", &src);
                assert!(id > last, "ids must increase: {id} after {last}");
                last = id;
                end(id);
            }
            assert_eq!(last, u64::MAX - 1);
            let p = catch_unwind(|| start_with("test", &src)).unwrap_err();
            let msg = message(p);
            assert!(
                msg.contains("recording ids of this process are used up"),
                "{msg}"
            );
            // The failed start left no recording active.
            assert_eq!(with_tape(|t| t.rec), 0);
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_stale_var_whose_id_matches_in_the_low_32_bits_is_caught() {
        // Single-thread path: with 32-bit ids, recording R + 2³² was
        // recording R again and accepted R's stale Vars.
        thread::spawn(|| {
            let r = (1u64 << 40) + 5;
            set_block(r, 1);
            let stale = leak(1.0);
            assert_eq!(rec_of_var(stale), r);
            let later = r + (1 << 32);
            assert_eq!(later as u32, r as u32);
            set_block(later, 1);
            let p = catch_unwind(AssertUnwindSafe(|| {
                reverse::gradient(|x| x[0] * stale, &[3.0]);
            }))
            .unwrap_err();
            let msg = message(p);
            assert!(msg.contains(&format!("recording #{r}")), "{msg}");
            assert!(msg.contains(&format!("active recording on this thread is #{later}")));
            // The recording that refused the Var was `later`.
            assert_eq!(with_tape(|t| (t.rec, t.next_id)), (0, later + 1));
        })
        .join()
        .unwrap();
    }

    #[test]
    fn a_foreign_var_whose_id_matches_in_the_low_32_bits_is_caught() {
        // Thread-block path: another thread's block 2³² ids later (what 2²⁰
        // threads did to 32-bit ids) does not accept this thread's Vars.
        let r = (1u64 << 41) + 7;
        let stale = thread::spawn(move || {
            set_block(r, 1);
            leak(1.0)
        })
        .join()
        .unwrap();
        let msg = thread::spawn(move || {
            set_block(r + (1 << 32), ID_BLOCK);
            let p = catch_unwind(|| reverse::gradient(|x| x[0] * stale, &[3.0])).unwrap_err();
            message(p)
        })
        .join()
        .unwrap();
        assert!(msg.contains("belongs to another thread"), "{msg}");
    }

    #[test]
    fn a_node_cannot_point_at_or_past_itself_even_with_a_matching_id() {
        // What a forged Var (right id, index beyond the tape) would do: the
        // push refuses it before any memory is touched.
        thread::spawn(|| {
            let id = start("test");
            let len = with_tape(|t| t.nodes_len) as u32;
            let forged = Node {
                partial: [1.0, 1.0],
                parent: [len + 100, 0],
            };
            assert_eq!(
                with_tape(|t| t.try_push([id, id], forged)),
                Err(Fault::Corrupt)
            );
            assert_eq!(
                with_tape(|t| t.try_push_unary(id, 1.0, len)),
                Err(Fault::Corrupt)
            );
            assert_eq!(with_tape(|t| t.nodes_len) as u32, len);
            end(id);
        })
        .join()
        .unwrap();
    }

    fn rec_of_var(v: Var) -> u64 {
        crate::reverse::var::rec_of(v)
    }
}
