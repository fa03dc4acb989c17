//! Where a driver call's time goes: [`timeline`] runs a closure and
//! returns, for every chunked call ([`reduce`](super::reduce) and so every
//! driver of [`parallel`](super)) it made on this thread, when each chunk
//! started and ended and on which thread. From that the serial parts of a
//! call (before the first chunk starts, after the last one ends), the time
//! until every thread has work, and the threads' idle time can be read off,
//! which wall-clock speedups alone do not separate.
//!
//! Without a surrounding [`timeline`] the drivers check one thread-local
//! flag per call and record nothing.

use std::cell::RefCell;
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// One chunk's evaluation in a traced call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Span {
    /// The chunk's index (chunk `k` is examples `k·c .. min((k+1)·c, len)`).
    pub chunk: usize,
    /// The pool thread that ran it (`rayon::current_thread_index`); 0 on a
    /// thread outside a pool and without the `parallel` feature.
    pub thread: usize,
    /// When the chunk's evaluation started, from the start of the call.
    pub start: Duration,
    /// When it ended (its result ready), from the start of the call.
    pub end: Duration,
}

/// One traced call: its length and its chunks.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Call {
    /// From entering the chunk tree to having the combined result.
    pub duration: Duration,
    /// The number of threads the call could use ([`threads`](super::threads)).
    pub threads: usize,
    /// The chunks, in chunk order.
    pub chunks: Vec<Span>,
}

impl Call {
    /// Time from the call's start until the first chunk started: serial
    /// set-up before any work.
    pub fn before_first_chunk(&self) -> Duration {
        self.chunks
            .iter()
            .map(|s| s.start)
            .min()
            .unwrap_or(self.duration)
    }

    /// Time from the end of the last chunk to the end of the call: the
    /// serial tail (the last combinations of the tree, the hand-back).
    pub fn after_last_chunk(&self) -> Duration {
        let last = self.chunks.iter().map(|s| s.end).max().unwrap_or_default();
        self.duration.saturating_sub(last)
    }

    /// Time until every thread of the pool had started a chunk (the whole
    /// call for a thread that ran none): the fork's latency, e.g. waking
    /// a sleeping worker.
    pub fn all_started(&self) -> Duration {
        (0..self.threads)
            .map(|t| {
                self.chunks
                    .iter()
                    .filter(|s| s.thread == t)
                    .map(|s| s.start)
                    .min()
                    .unwrap_or(self.duration)
            })
            .max()
            .unwrap_or_default()
    }

    /// Time from the moment the first thread ran out of chunks to the end
    /// of the call (the whole call for a thread that ran none): the tail
    /// where not every thread has work.
    pub fn first_done(&self) -> Duration {
        let done = (0..self.threads)
            .map(|t| {
                self.chunks
                    .iter()
                    .filter(|s| s.thread == t)
                    .map(|s| s.end)
                    .max()
                    .unwrap_or_default()
            })
            .min()
            .unwrap_or_default();
        self.duration.saturating_sub(done)
    }

    /// The time spent in chunks, summed over the threads.
    pub fn busy(&self) -> Duration {
        self.chunks
            .iter()
            .map(|s| s.end.saturating_sub(s.start))
            .sum()
    }

    /// `threads × duration − busy`: the thread time not spent in a chunk
    /// (waiting for work, scheduling, combining results).
    pub fn idle(&self) -> Duration {
        (self.duration * self.threads as u32).saturating_sub(self.busy())
    }
}

thread_local! {
    /// The calls traced so far by the innermost [`timeline`] on this
    /// thread; `None` outside one.
    static TRACE: RefCell<Option<Vec<Call>>> = const { RefCell::new(None) };
}

/// Runs `f` and returns its result and a [`Call`] for every chunked call
/// it made on this thread (in order). Call it on the thread that calls the
/// driver: inside `pool.install(..)` for a pool other than the global one.
///
/// ```
/// use dualtape::parallel::{self, timeline};
///
/// let (s, calls) = timeline::timeline(|| {
///     parallel::reduce(1000, 100, |r| r.map(|i| i as f64).sum::<f64>(), |a, b| a + b)
/// });
/// assert_eq!(s, Some(499_500.0));
/// assert_eq!(calls.len(), 1);
/// let call = &calls[0];
/// assert_eq!(call.chunks.len(), 10);
/// assert!(call.chunks.iter().enumerate().all(|(k, s)| s.chunk == k && s.start <= s.end));
/// assert!(call.before_first_chunk() + call.after_last_chunk() <= call.duration);
/// ```
pub fn timeline<R>(f: impl FnOnce() -> R) -> (R, Vec<Call>) {
    /// Puts back an outer timeline's calls, also if `f` panics.
    struct Restore(Option<Vec<Call>>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let outer = self.0.take();
            let _ = TRACE.try_with(|t| *t.borrow_mut() = outer);
        }
    }
    let _restore = Restore(TRACE.with(|t| t.borrow_mut().replace(Vec::new())));
    let r = f();
    let calls = TRACE.with(|t| t.borrow_mut().take()).unwrap_or_default();
    (r, calls)
}

/// Whether a [`timeline`] is active on this thread.
pub(super) fn tracing() -> bool {
    TRACE.with(|t| t.borrow().is_some())
}

/// The clock of one traced chunked call: times each chunk, then appends
/// the [`Call`] to this thread's timeline.
pub(super) struct Clock {
    start: Instant,
    spans: Mutex<Vec<Span>>,
}

impl Clock {
    /// Starts the clock of a call of `chunks` chunks.
    pub(super) fn start(chunks: usize) -> Clock {
        Clock {
            start: Instant::now(),
            spans: Mutex::new(Vec::with_capacity(chunks)),
        }
    }

    /// Runs chunk `k`'s evaluation `f`, timed.
    pub(super) fn time<T>(&self, k: usize, f: impl FnOnce() -> T) -> T {
        let start = self.start.elapsed();
        let r = f();
        let end = self.start.elapsed();
        self.spans
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(Span {
                chunk: k,
                thread: thread_index(),
                start,
                end,
            });
        r
    }

    /// Ends the call and appends it to this thread's timeline.
    pub(super) fn finish(self) {
        let duration = self.start.elapsed();
        let mut chunks = self
            .spans
            .into_inner()
            .unwrap_or_else(PoisonError::into_inner);
        chunks.sort_by_key(|s| s.chunk);
        let call = Call {
            duration,
            threads: super::threads(),
            chunks,
        };
        TRACE.with(|t| {
            if let Some(calls) = t.borrow_mut().as_mut() {
                calls.push(call);
            }
        });
    }
}

fn thread_index() -> usize {
    #[cfg(feature = "parallel")]
    {
        rayon::current_thread_index().unwrap_or(0)
    }
    #[cfg(not(feature = "parallel"))]
    {
        0
    }
}
