//! Replay over chunks: one recorded [`Program`] per chunk length, shared
//! by every thread, replayed at each chunk's data.
//!
//! A program records the *structure* of a computation, so one recording
//! can serve every chunk of the same length, if the chunk's data are inputs
//! of the program rather than constants baked into it. A model says how,
//! with [`ChunkData`]: the numbers that describe one example, and the loss
//! of a chunk as a function of the parameters *and* those numbers.
//! [`Replayer`] then records one program per distinct chunk length (at most
//! two: the full chunks and a shorter last one) and replays it for every
//! chunk on the threads of the current rayon pool, summing the chunk
//! results in the same fixed tree as the other drivers (see
//! [`parallel`](super)).
//!
//! Where a chunk's control flow differs from the recording (a comparison on
//! a parameter or a data value comes out differently), the replay refuses
//! ([`ReplayError::ComparisonChanged`]) and the chunk is recorded again at
//! its own data; that program becomes the chunk's own, which it replays
//! from then on (again until a comparison changes), so chunks that take
//! different branches do not record each other's programs over and over. A
//! recording that read a value ([`ReplayError::ValueEscaped`]) cannot be
//! replayed anywhere else, so such chunks are differentiated on the tape
//! instead (as [`reverse::gradient`](super::reverse::gradient) does).
//!
//! The result does not depend on the number of threads, nor on which chunk
//! a shared program was recorded at: programs recorded where the control
//! flow is the same are the same program, and a replay is bit for bit the
//! recording at its point.

use std::cell::RefCell;
use std::ops::Range;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::{check_args, gradient_tree, reverse::check_grad, SumOfLosses};
use crate::reverse::{self, Program, ReplayError, Workspace};
use crate::Scalar;

/// A [`SumOfLosses`] whose chunk losses can be written with the data as
/// scalars too, so one recorded program serves all chunks of a length.
///
/// Implement [`eval_chunk`](SumOfLosses::eval_chunk) by lifting the
/// chunk's numbers with [`Scalar::constant`] and calling
/// [`eval_examples`](ChunkData::eval_examples), so the two agree:
///
/// ```
/// use std::ops::Range;
/// use dualtape::parallel::{self, program::{ChunkData, Replayer}, SumOfLosses};
/// use dualtape::Scalar;
///
/// /// Least squares: Σ (w₀ tᵢ + w₁ − yᵢ)².
/// struct Line { t: Vec<f64>, y: Vec<f64> }
///
/// impl ChunkData for Line {
///     fn width(&self) -> usize { 2 }
///     fn example(&self, i: usize, out: &mut [f64]) {
///         out.copy_from_slice(&[self.t[i], self.y[i]]);
///     }
///     fn eval_examples<S: Scalar<Real = f64>>(&self, data: &[S], w: &[S]) -> S {
///         data.chunks(2).fold(S::constant(0.0), |acc, e| {
///             let r = w[0] * e[0] + w[1] - e[1];
///             acc + r * r
///         })
///     }
/// }
///
/// impl SumOfLosses for Line {
///     fn len(&self) -> usize { self.t.len() }
///     fn dim(&self) -> usize { 2 }
///     fn eval_chunk<S: Scalar<Real = f64>>(&self, r: Range<usize>, w: &[S]) -> S {
///         let data: Vec<S> = r.flat_map(|i| [self.t[i], self.y[i]]).map(S::constant).collect();
///         self.eval_examples(&data, w)
///     }
/// }
///
/// let t: Vec<f64> = (0..1000).map(|i| i as f64 / 1000.0).collect();
/// let line = Line { y: t.iter().map(|t| 3.0 * t - 1.0).collect(), t };
/// let replayer = Replayer::new(&line, 64);
/// for w in [[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]] {
///     let (l, g) = replayer.gradient(&w);
///     // the same bits as recording every chunk on the tape
///     assert_eq!((l, g), parallel::reverse::gradient(&line, &w, 64));
/// }
/// // 1000 = 15 × 64 + 40: two chunk lengths, two recordings, replayed 48 times.
/// assert_eq!(replayer.recordings(), 2);
/// ```
pub trait ChunkData: SumOfLosses {
    /// How many numbers describe one example (its features and target).
    fn width(&self) -> usize;

    /// Writes example `i`'s [`width`](ChunkData::width) numbers into `out`.
    fn example(&self, i: usize, out: &mut [f64]);

    /// The sum of the losses of the examples described by `data`
    /// (`data.len() / width()` examples, one after another, as
    /// [`example`](ChunkData::example) writes them) at parameters `w`. It
    /// must compute what [`eval_chunk`](SumOfLosses::eval_chunk) computes
    /// for the same examples, and decide branches on data values only by
    /// comparing scalars (which a program records and checks), never by
    /// reading their values.
    fn eval_examples<S: Scalar<Real = f64>>(&self, data: &[S], w: &[S]) -> S;
}

/// Per-thread storage of the replays: the program's inputs (parameters,
/// then the chunk's data), its gradient, and the replay workspace.
#[derive(Default)]
struct Scratch {
    x: Vec<f64>,
    g: Vec<f64>,
    ws: Workspace<f64>,
}

thread_local! {
    static SCRATCH: RefCell<Scratch> = RefCell::new(Scratch::default());
}

/// The data-parallel gradient by replay: records one [`Program`] per chunk
/// length of `model` (lazily, at the first gradient) and replays it for
/// every chunk, on the threads of the current rayon pool. Keep one
/// `Replayer` across the gradients of a training run: the programs are
/// recorded once.
///
/// `Replayer` is `Sync`: its programs are plain data shared by the threads,
/// each of which replays with its own workspace.
pub struct Replayer<'m, M> {
    model: &'m M,
    chunk_size: usize,
    /// The shared program of each chunk length seen so far.
    programs: Mutex<Vec<(usize, Arc<Program>)>>,
    /// The program each chunk replays: its length's shared one, or its own
    /// where its control flow differed from that one. Each chunk's lock is
    /// taken by the one thread that runs the chunk.
    chunk_programs: Vec<Mutex<Option<Arc<Program>>>>,
    recordings: AtomicUsize,
    tape_chunks: AtomicUsize,
}

impl<'m, M: ChunkData> Replayer<'m, M> {
    /// A replayer for `model` in chunks of `chunk_size` examples (the
    /// chunking of [`parallel::chunks`](super::chunks)). Records nothing
    /// yet.
    ///
    /// # Panics
    ///
    /// If `chunk_size == 0`.
    pub fn new(model: &'m M, chunk_size: usize) -> Self {
        super::check_chunk_size("parallel::program::Replayer::new", chunk_size);
        Replayer {
            model,
            chunk_size,
            programs: Mutex::new(Vec::new()),
            chunk_programs: (0..model.len().div_ceil(chunk_size))
                .map(|_| Mutex::new(None))
                .collect(),
            recordings: AtomicUsize::new(0),
            tape_chunks: AtomicUsize::new(0),
        }
    }

    /// `(L(w), ∇L(w))`: every chunk's program replayed at `w` and the
    /// chunk's data, the chunk results summed in the fixed tree. The same
    /// bits on any number of threads, and as
    /// [`reverse::gradient`](super::reverse::gradient) with the same chunk
    /// size where each chunk's [`eval_chunk`](SumOfLosses::eval_chunk)
    /// computes what [`eval_examples`](ChunkData::eval_examples) does.
    ///
    /// # Panics
    ///
    /// If `w.len() != model.dim()`, and with the payload of a panic in a
    /// chunk's evaluation.
    pub fn gradient(&self, w: &[f64]) -> (f64, Vec<f64>) {
        let mut g = vec![0.0; w.len()];
        let v = self.gradient_into(w, &mut g);
        (v, g)
    }

    /// [`gradient`](Replayer::gradient) into a buffer you own; returns `L(w)`.
    ///
    /// # Panics
    ///
    /// If `grad.len() != w.len()`, and as [`gradient`](Replayer::gradient).
    pub fn gradient_into(&self, w: &[f64], grad: &mut [f64]) -> f64 {
        check_args(
            "parallel::program::Replayer::gradient",
            self.model,
            w,
            self.chunk_size,
        );
        check_grad("parallel::program::Replayer::gradient", w, grad);
        gradient_tree(self.model, self.chunk_size, grad, |range| {
            self.chunk_gradient(range, w)
        })
    }

    /// How many programs have been recorded so far (one per chunk length,
    /// plus one per chunk whose control flow differed from its length's
    /// program).
    pub fn recordings(&self) -> usize {
        self.recordings.load(Ordering::Relaxed)
    }

    /// How many chunk gradients were taken on the tape because their
    /// recording read a value ([`ReplayError::ValueEscaped`]).
    pub fn tape_chunks(&self) -> usize {
        self.tape_chunks.load(Ordering::Relaxed)
    }

    /// The shared program of chunk length `len`, recorded at `x` if there
    /// is none yet. The lookup and the recording are one step under the
    /// lock: two threads starting chunks of one length at once must not
    /// both find none and both record (a silent extra recording; the
    /// suite's `two_threads_starting_chunks_of_one_length_record_it_once`).
    fn shared(&self, len: usize, x: &[f64]) -> Arc<Program> {
        let mut programs = self.programs.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some((_, p)) = programs.iter().find(|(l, _)| *l == len) {
            return Arc::clone(p);
        }
        let p = self.record(x);
        programs.push((len, Arc::clone(&p)));
        p
    }

    /// Records the chunk whose program inputs (`w`, then its data) are `x`.
    fn record(&self, x: &[f64]) -> Arc<Program> {
        let n = self.model.dim();
        self.recordings.fetch_add(1, Ordering::Relaxed);
        Arc::new(reverse::record(
            |v| self.model.eval_examples(&v[n..], &v[..n]),
            x,
        ))
    }

    /// Replays `program` at `x` with this thread's scratch: `Ok((value,
    /// gradient with respect to w))`.
    fn replay(program: &Program, x: &[f64], n: usize) -> Result<(f64, Vec<f64>), ReplayError> {
        SCRATCH.with(|s| {
            let s = &mut *s.borrow_mut();
            s.g.resize(x.len(), 0.0);
            let v = program.gradient_into(&mut s.ws, x, &mut s.g)?;
            Ok((v, s.g[..n].to_vec()))
        })
    }

    fn chunk_gradient(&self, range: Range<usize>, w: &[f64]) -> (f64, Vec<f64>) {
        let (n, width, len) = (w.len(), self.model.width(), range.len());
        // The program's inputs: the parameters, then the chunk's data.
        let mut x = SCRATCH.with(|s| std::mem::take(&mut s.borrow_mut().x));
        x.clear();
        x.extend_from_slice(w);
        x.resize(n + len * width, 0.0);
        for (k, i) in range.clone().enumerate() {
            let at = n + k * width;
            self.model.example(i, &mut x[at..at + width]);
        }
        let slot = &self.chunk_programs[range.start / self.chunk_size];
        let mut slot = slot.lock().unwrap_or_else(PoisonError::into_inner);
        let program = slot.get_or_insert_with(|| self.shared(len, &x));
        let result = match Self::replay(program, &x, n) {
            Ok(r) => Some(r),
            Err(ReplayError::ComparisonChanged { .. }) => {
                // Another branch here: record this chunk's own program.
                *program = self.record(&x);
                Self::replay(program, &x, n).ok()
            }
            Err(_) => None,
        };
        drop(slot);
        SCRATCH.with(|s| s.borrow_mut().x = x);
        result.unwrap_or_else(|| {
            // The recording read a value: this chunk on the tape.
            self.tape_chunks.fetch_add(1, Ordering::Relaxed);
            reverse::gradient(|v| self.model.eval_chunk(range.clone(), v), w)
        })
    }
}
