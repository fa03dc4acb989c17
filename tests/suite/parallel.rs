//! `dualtape::parallel`: chunked gradients of a sum of losses, the same
//! bits for every number of threads (and without the `parallel` feature),
//! right against closed forms, and panics that propagate and leave every
//! worker's tape usable.
//!
//! Run also without the feature (CI does):
//! `cargo test -p dualtape --no-default-features --features quickcheck --test suite parallel`
//! checks that the serial path gives the same bits as the reference tree.

use std::ops::Range;

use dualtape::finite_diff::Scheme;
use dualtape::parallel::{self, SumOfLosses};
use dualtape::{reverse, Scalar};

use crate::support::reverse::panic_message;

/// Logistic regression: Σᵢ softplus(zᵢ) − yᵢ zᵢ with zᵢ = w₀ + w₁ aᵢ + w₂ bᵢ.
struct Logistic {
    a: Vec<f64>,
    b: Vec<f64>,
    y: Vec<f64>,
}

impl Logistic {
    fn new(n: usize) -> Logistic {
        Logistic {
            a: (0..n).map(|i| (i as f64 * 0.7).sin() * 2.0).collect(),
            b: (0..n).map(|i| (i as f64 * 1.3).cos()).collect(),
            y: (0..n).map(|i| f64::from(i * 7 % 3 == 0)).collect(),
        }
    }

    /// The gradient by hand: Σᵢ (σ(zᵢ) − yᵢ) (1, aᵢ, bᵢ), and the loss.
    fn closed_form(&self, w: &[f64]) -> (f64, Vec<f64>) {
        let mut l = 0.0;
        let mut g = vec![0.0; 3];
        for i in 0..self.a.len() {
            let z = w[0] + w[1] * self.a[i] + w[2] * self.b[i];
            l += z.max(0.0) + (-z.abs()).exp().ln_1p() - self.y[i] * z;
            let r = 1.0 / (1.0 + (-z).exp()) - self.y[i];
            g[0] += r;
            g[1] += r * self.a[i];
            g[2] += r * self.b[i];
        }
        (l, g)
    }
}

impl SumOfLosses for Logistic {
    fn len(&self) -> usize {
        self.a.len()
    }
    fn dim(&self) -> usize {
        3
    }
    fn eval_chunk<S: Scalar<Real = f64>>(&self, range: Range<usize>, w: &[S]) -> S {
        let mut sum = S::constant(0.0);
        for i in range {
            let z = w[0] + w[1] * self.a[i] + w[2] * self.b[i];
            sum += z.softplus() - z * self.y[i];
        }
        sum
    }
}

const W: [f64; 3] = [0.3, -0.8, 1.1];
const N: usize = 10_007; // not a multiple of the chunk size
const CHUNK: usize = 64;

/// The reference the drivers must equal bit for bit, computed here without
/// `dualtape::parallel`: each chunk's gradient by the crate's serial
/// `reverse::gradient`, the chunks summed in the documented tree (split
/// the chunk indices in the middle, left + right).
fn reference(m: &Logistic, w: &[f64], chunk: usize) -> (f64, Vec<f64>) {
    let ranges: Vec<Range<usize>> = (0..m.len().div_ceil(chunk))
        .map(|k| k * chunk..((k + 1) * chunk).min(m.len()))
        .collect();
    fn tree(parts: &[(f64, Vec<f64>)]) -> (f64, Vec<f64>) {
        if parts.len() == 1 {
            return parts[0].clone();
        }
        let mid = parts.len() / 2;
        let (a, b) = (tree(&parts[..mid]), tree(&parts[mid..]));
        (
            a.0 + b.0,
            a.1.iter().zip(&b.1).map(|(x, y)| x + y).collect(),
        )
    }
    let parts: Vec<_> = ranges
        .into_iter()
        .map(|r| reverse::gradient(|x| m.eval_chunk(r.clone(), x), w))
        .collect();
    tree(&parts)
}

fn bits(v: f64, g: &[f64]) -> Vec<u64> {
    std::iter::once(v)
        .chain(g.iter().copied())
        .map(f64::to_bits)
        .collect()
}

#[test]
fn reverse_equals_the_reference_tree_bit_for_bit() {
    // With the `parallel` feature on the global pool, without it serially:
    // the same bits either way.
    let m = Logistic::new(N);
    let (v, g) = parallel::reverse::gradient(&m, &W, CHUNK);
    let (rv, rg) = reference(&m, &W, CHUNK);
    assert_eq!(bits(v, &g), bits(rv, &rg));
    // and every driver reports the same value, with the bits of `value`
    assert_eq!(v.to_bits(), parallel::value(&m, &W, CHUNK).to_bits());
    let (vf, _) = parallel::forward::gradient::<4, _>(&m, &W, CHUNK);
    let (vd, _) = parallel::finite_diff::gradient(&m, &W, CHUNK, Scheme::Central);
    assert_eq!(v.to_bits(), vf.to_bits());
    assert_eq!(v.to_bits(), vd.to_bits());
}

#[test]
fn every_driver_is_right_against_the_closed_form() {
    let m = Logistic::new(N);
    let (l, g) = m.closed_form(&W);
    let close = |a: f64, b: f64, tol: f64| (a - b).abs() <= tol * b.abs().max(1.0);
    let (lr, gr) = parallel::reverse::gradient(&m, &W, CHUNK);
    let (lf, gf) = parallel::forward::gradient::<2, _>(&m, &W, CHUNK);
    let (ld, gd) = parallel::finite_diff::gradient(&m, &W, CHUNK, Scheme::Richardson);
    for v in [lr, lf, ld] {
        assert!(close(v, l, 1e-12), "{v} vs {l}");
    }
    for k in 0..3 {
        assert!(
            close(gr[k], g[k], 1e-11),
            "reverse {k}: {} vs {}",
            gr[k],
            g[k]
        );
        assert!(
            close(gf[k], g[k], 1e-11),
            "forward {k}: {} vs {}",
            gf[k],
            g[k]
        );
        assert!(
            close(gd[k], g[k], 1e-7),
            "finite diff {k}: {} vs {}",
            gd[k],
            g[k]
        );
    }
}

#[test]
fn one_chunk_is_the_serial_gradient_and_no_examples_give_zero() {
    let m = Logistic::new(300);
    // A chunk as large as the data: one recording, exactly reverse::gradient.
    let (v, g) = parallel::reverse::gradient(&m, &W, 1000);
    let (sv, sg) = reverse::gradient(|x| m.eval_chunk(0..300, x), &W);
    assert_eq!(bits(v, &g), bits(sv, &sg));
    let empty = Logistic::new(0);
    assert!(empty.is_empty());
    assert_eq!(
        parallel::reverse::gradient(&empty, &W, 8),
        (0.0, vec![0.0; 3])
    );
    assert_eq!(parallel::value(&empty, &W, 8), 0.0);
    let mut buf = [7.0; 3];
    assert_eq!(
        parallel::forward::gradient_into::<3, _>(&empty, &W, 8, &mut buf),
        0.0
    );
    assert_eq!(buf, [0.0; 3]);
}

#[test]
#[should_panic(expected = "the chunk size is 0")]
fn a_zero_chunk_size_says_what_to_do() {
    parallel::reverse::gradient(&Logistic::new(10), &W, 0);
}

#[test]
#[should_panic(expected = "the model has 3 parameters (SumOfLosses::dim) but w has 2")]
fn a_wrong_parameter_count_says_so() {
    parallel::value(&Logistic::new(10), &[1.0, 2.0], 4);
}

#[test]
fn reduce_sums_in_the_documented_tree() {
    // Strings show the order: chunks of 3 over 0..10 are 4 chunks, ((0 1) (2 3)).
    let s = parallel::reduce(
        10,
        3,
        |r| format!("{}..{}", r.start, r.end),
        |a, b| format!("({a} {b})"),
    );
    assert_eq!(s.as_deref(), Some("((0..3 3..6) (6..9 9..10))"));
    // 5 chunks split 2 | 3, the right half 1 | 2.
    let s = parallel::reduce(5, 1, |r| r.start.to_string(), |a, b| format!("({a} {b})"));
    assert_eq!(s.as_deref(), Some("((0 1) (2 (3 4)))"));
    assert_eq!(parallel::reduce(0, 3, |_| 1, |a, b| a + b), None);
}

/// A model whose chunks from example `from` on record half their
/// examples and then panic, naming the chunk: a worker that runs one is
/// cut off in the middle of a recording.
struct Poisoned(Logistic, usize);

impl SumOfLosses for Poisoned {
    fn len(&self) -> usize {
        self.0.len()
    }
    fn dim(&self) -> usize {
        3
    }
    fn eval_chunk<S: Scalar<Real = f64>>(&self, range: Range<usize>, w: &[S]) -> S {
        let half = range.start + range.len() / 2;
        let partial = self.0.eval_chunk(range.start..half, w);
        if range.start >= self.1 && partial.value().is_finite() {
            panic!("poisoned chunk starting at example {}", range.start);
        }
        partial
    }
}

#[test]
fn a_panic_in_a_chunk_reaches_the_caller_and_the_tapes_work_afterwards() {
    // On the global pool with the `parallel` feature, on this thread without.
    let bad = Poisoned(Logistic::new(1000), 300);
    let err = std::panic::catch_unwind(|| parallel::reverse::gradient(&bad, &W, 100))
        .expect_err("the chunk's panic reaches the caller");
    assert_eq!(
        panic_message(&*err),
        "poisoned chunk starting at example 300"
    );
    let good = Logistic::new(1000);
    let (l, g) = parallel::reverse::gradient(&good, &W, 100);
    let (rl, rg) = good.closed_form(&W);
    assert!((l - rl).abs() < 1e-11 * rl);
    for k in 0..3 {
        assert!((g[k] - rg[k]).abs() < 1e-11 * rg[k].abs().max(1.0));
    }
    // This thread's own tape too (it ran the chunks without the feature).
    let (l1, _) = reverse::gradient(|x| good.eval_chunk(0..1000, x), &W);
    assert!((l1 - rl).abs() < 1e-11 * rl);
}

#[cfg(feature = "parallel")]
mod threads {
    use super::*;
    use rayon::{ThreadPool, ThreadPoolBuilder};
    use std::panic::{catch_unwind, AssertUnwindSafe};

    fn pool(threads: usize) -> ThreadPool {
        ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .expect("a thread pool")
    }

    const THREADS: [usize; 5] = [1, 2, 3, 8, 64];

    #[test]
    fn every_driver_gives_the_same_bits_on_1_2_3_8_and_64_threads() {
        let m = Logistic::new(N);
        let (rv, rg) = reference(&m, &W, CHUNK);
        let mut forward = None;
        let mut finite = None;
        let mut value = None;
        for t in THREADS {
            let p = pool(t);
            assert_eq!(p.install(parallel::threads), t);
            let (v, g) = p.install(|| parallel::reverse::gradient(&m, &W, CHUNK));
            assert_eq!(bits(v, &g), bits(rv, &rg), "reverse on {t} threads");
            let f = p.install(|| parallel::forward::gradient::<2, _>(&m, &W, CHUNK));
            let d = p.install(|| parallel::finite_diff::gradient(&m, &W, CHUNK, Scheme::Central));
            let l = p.install(|| parallel::value(&m, &W, CHUNK));
            assert_eq!(
                *forward.get_or_insert(bits(f.0, &f.1)),
                bits(f.0, &f.1),
                "forward, {t}"
            );
            assert_eq!(
                *finite.get_or_insert(bits(d.0, &d.1)),
                bits(d.0, &d.1),
                "FD, {t}"
            );
            assert_eq!(*value.get_or_insert(l.to_bits()), l.to_bits(), "value, {t}");
        }
    }

    #[test]
    fn a_panic_in_a_chunk_reaches_the_caller_and_every_tape_works_afterwards() {
        let good = Logistic::new(2000);
        let (l, g) = good.closed_form(&W);
        for t in [1, 2, 8] {
            let p = pool(t);
            // Every chunk panics (so every worker that runs one is cut off
            // mid-recording), or only those from example 700 on: the caller
            // gets the message of the first panicking chunk in chunk order,
            // whatever the thread count.
            for from in [0, 700, 0, 700] {
                let bad = Poisoned(Logistic::new(2000), from);
                let err = catch_unwind(AssertUnwindSafe(|| {
                    p.install(|| parallel::reverse::gradient(&bad, &W, 100))
                }))
                .expect_err("the chunk's panic reaches the caller");
                assert_eq!(
                    panic_message(&*err),
                    format!("poisoned chunk starting at example {from}")
                );
                let err = catch_unwind(AssertUnwindSafe(|| {
                    p.install(|| parallel::forward::gradient::<3, _>(&bad, &W, 100))
                }))
                .expect_err("also in forward mode");
                assert_eq!(
                    panic_message(&*err),
                    format!("poisoned chunk starting at example {from}")
                );
            }
            // Every thread of the pool records and sweeps again, right.
            let per_thread =
                p.broadcast(|_| reverse::gradient(|x| good.eval_chunk(0..good.len(), x), &W));
            assert_eq!(per_thread.len(), t);
            for (lv, gv) in per_thread {
                assert!((lv - l).abs() < 1e-11 * l.abs());
                for k in 0..3 {
                    assert!((gv[k] - g[k]).abs() < 1e-11 * g[k].abs().max(1.0));
                }
            }
            // And the parallel driver on the same pool gives the reference bits.
            let (v, gp) = p.install(|| parallel::reverse::gradient(&good, &W, 100));
            let (rv, rg) = reference(&good, &W, 100);
            assert_eq!(bits(v, &gp), bits(rv, &rg), "{t} threads after the panics");
        }
    }

    /// The cores this thread's affinity allows, as Linux lists them
    /// (`Cpus_allowed_list` in /proc/thread-self/status).
    #[cfg(target_os = "linux")]
    fn allowed_cpus() -> String {
        let status = std::fs::read_to_string("/proc/thread-self/status").expect("Linux /proc");
        status
            .lines()
            .find_map(|l| l.strip_prefix("Cpus_allowed_list:"))
            .expect("Cpus_allowed_list in /proc/thread-self/status")
            .trim()
            .to_string()
    }

    #[test]
    fn a_pinned_pool_gives_the_same_bits_and_keeps_each_thread_on_one_core() {
        let m = Logistic::new(N);
        let (rv, rg) = reference(&m, &W, CHUNK);
        for t in [1, 2, 3] {
            let p = parallel::pinned_pool(t).expect("a pinned pool");
            assert_eq!(p.install(parallel::threads), t);
            let (v, g) = p.install(|| parallel::reverse::gradient(&m, &W, CHUNK));
            assert_eq!(bits(v, &g), bits(rv, &rg), "reverse on {t} pinned threads");
            #[cfg(target_os = "linux")]
            {
                // Thread i on the (i mod k)-th allowed core: a single core
                // each, different cores while there are enough of them.
                let cores = core_count();
                let allowed: Vec<String> = p.broadcast(|_| allowed_cpus());
                for (i, a) in allowed.iter().enumerate() {
                    assert!(
                        a.parse::<usize>().is_ok(),
                        "thread {i} of {t} may run on {a}"
                    );
                    if i >= cores {
                        assert_eq!(*a, allowed[i % cores], "thread {i} of {t}");
                    }
                }
                let distinct: std::collections::BTreeSet<&String> = allowed.iter().collect();
                assert_eq!(distinct.len(), t.min(cores), "{t} threads on {allowed:?}");
            }
        }
    }

    /// The number of cores this process may use (its affinity mask).
    #[cfg(target_os = "linux")]
    fn core_count() -> usize {
        core_affinity::get_core_ids()
            .expect("the affinity mask")
            .len()
    }

    #[test]
    #[should_panic(expected = "parallel::pinned_pool: 0 threads")]
    fn a_pinned_pool_of_no_threads_says_what_to_do() {
        let _ = parallel::pinned_pool(0);
    }

    #[test]
    fn a_timeline_sees_every_chunk_of_every_call_once() {
        use dualtape::parallel::timeline::timeline;
        let m = Logistic::new(1000);
        let p = pool(2);
        let ((a, b), calls) = p.install(|| {
            timeline(|| {
                // A timeline inside a timeline keeps its own calls.
                let (inner, inner_calls) = timeline(|| parallel::value(&m, &W, 100));
                assert_eq!(inner_calls.len(), 1);
                (inner, parallel::reverse::gradient(&m, &W, 64).0)
            })
        });
        // The traced calls compute what untraced ones do.
        assert_eq!(a.to_bits(), parallel::value(&m, &W, 100).to_bits());
        assert_eq!(b.to_bits(), parallel::value(&m, &W, 64).to_bits());
        assert_eq!(
            calls.len(),
            1,
            "only the gradient: the inner call went to its own timeline"
        );
        let call = &calls[0];
        assert_eq!(call.threads, 2);
        assert_eq!(
            call.chunks.iter().map(|s| s.chunk).collect::<Vec<_>>(),
            (0..16).collect::<Vec<_>>()
        );
        for s in &call.chunks {
            assert!(s.thread < 2 && s.start <= s.end && s.end <= call.duration);
        }
        // The parts of the call are parts of it.
        assert!(call.before_first_chunk() + call.after_last_chunk() <= call.duration);
        assert!(call.all_started() <= call.duration && call.first_done() <= call.duration);
        assert!(call.busy() <= call.duration * 2);
        // Outside a timeline nothing is kept.
        assert!(timeline(|| ()).1.is_empty());
    }

    #[test]
    fn a_caller_inside_a_recording_is_not_disturbed() {
        // The chunks record on the pool's threads, not on the caller's, so a
        // caller that is itself recording (on a thread outside the pool) can
        // use the parallel gradient as a plain f64 computation.
        let m = Logistic::new(1000);
        let p = pool(2);
        let (outer, og) = reverse::gradient(
            |x| {
                let (v, _) = p.install(|| parallel::reverse::gradient(&m, &W, 128));
                x[0] * v
            },
            &[2.0],
        );
        let (l, _) = m.closed_form(&W);
        assert!((outer - 2.0 * l).abs() < 1e-11 * l);
        assert!((og[0] - l).abs() < 1e-11 * l);
    }
}

/// `parallel::program`: one recorded program per chunk length, replayed.
mod replay {
    use super::*;
    use dualtape::parallel::program::{ChunkData, Replayer};
    use std::sync::atomic::Ordering;

    impl ChunkData for Logistic {
        fn width(&self) -> usize {
            3
        }
        fn example(&self, i: usize, out: &mut [f64]) {
            out.copy_from_slice(&[self.a[i], self.b[i], self.y[i]]);
        }
        fn eval_examples<S: Scalar<Real = f64>>(&self, data: &[S], w: &[S]) -> S {
            let mut sum = S::constant(0.0);
            for e in data.chunks(3) {
                let z = w[0] + w[1] * e[0] + w[2] * e[1];
                sum += z.softplus() - z * e[2];
            }
            sum
        }
    }

    #[test]
    fn replay_gives_the_tape_drivers_bits_with_two_recordings() {
        let m = Logistic::new(N);
        let r = Replayer::new(&m, CHUNK);
        for w in [W, [0.0, 0.0, 0.0], [-1.5, 0.25, 3.0]] {
            let (v, g) = r.gradient(&w);
            let (rv, rg) = reference(&m, &w, CHUNK);
            assert_eq!(bits(v, &g), bits(rv, &rg), "at {w:?}");
        }
        // 10007 = 156 × 64 + 23: two chunk lengths, recorded once each,
        // however the chunks meet on the threads (see the next test).
        assert_eq!(r.recordings(), 2);
        assert_eq!(r.tape_chunks(), 0);
    }

    /// [`Logistic`] whose recording (`eval_examples` runs only inside the
    /// replayer's `record`) waits until another thread has started on a
    /// full-length chunk of its own: the moment two threads want the program
    /// of one chunk length at once, made certain instead of left to timing.
    struct Meeting {
        m: Logistic,
        /// Set once a chunk other than the first, of full length, has
        /// begun gathering its data (`example` of its first point).
        second_started: std::sync::atomic::AtomicBool,
    }

    impl SumOfLosses for Meeting {
        fn len(&self) -> usize {
            self.m.len()
        }
        fn dim(&self) -> usize {
            3
        }
        fn eval_chunk<S: Scalar<Real = f64>>(&self, r: Range<usize>, w: &[S]) -> S {
            self.m.eval_chunk(r, w)
        }
    }

    impl ChunkData for Meeting {
        fn width(&self) -> usize {
            3
        }
        fn example(&self, i: usize, out: &mut [f64]) {
            let full_chunks = self.m.len() / CHUNK;
            if i.is_multiple_of(CHUNK) && (1..full_chunks).contains(&(i / CHUNK)) {
                self.second_started.store(true, Ordering::SeqCst);
            }
            self.m.example(i, out)
        }
        fn eval_examples<S: Scalar<Real = f64>>(&self, data: &[S], w: &[S]) -> S {
            if data.len() == 3 * CHUNK {
                // At most 10 s, so that a driver that never runs a second
                // chunk at the same time fails the count, not the clock.
                let start = std::time::Instant::now();
                while !self.second_started.load(Ordering::SeqCst)
                    && start.elapsed() < std::time::Duration::from_secs(10)
                {
                    std::thread::yield_now();
                }
            }
            self.m.eval_examples(data, w)
        }
    }

    /// Regression: the replayer looked up its length's shared program, and
    /// recorded and shared one if there was none, in two steps under two
    /// locks. Two threads starting chunks of one length together both found
    /// none and both recorded: 3 recordings for 2 lengths, only when a
    /// second worker was awake early enough (under the full test suite, not
    /// alone). The lookup and the recording are now one step under the lock.
    #[cfg(feature = "parallel")]
    #[test]
    fn two_threads_starting_chunks_of_one_length_record_it_once() {
        let m = Meeting {
            m: Logistic::new(N),
            second_started: std::sync::atomic::AtomicBool::new(false),
        };
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(2)
            .build()
            .expect("a thread pool");
        let r = Replayer::new(&m, CHUNK);
        let (v, g) = pool.install(|| r.gradient(&W));
        assert!(
            m.second_started.load(Ordering::SeqCst),
            "the second thread took no full chunk while the first recorded"
        );
        let (rv, rg) = reference(&m.m, &W, CHUNK);
        assert_eq!(bits(v, &g), bits(rv, &rg));
        assert_eq!(r.recordings(), 2);
        assert_eq!(r.tape_chunks(), 0);
    }

    /// A leaky hinge on the margin: `max(m, m / 10)` written as a branch on
    /// a comparison, so chunks whose signs differ take other branches.
    struct Leaky(Logistic);

    impl SumOfLosses for Leaky {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn dim(&self) -> usize {
            3
        }
        fn eval_chunk<S: Scalar<Real = f64>>(&self, r: Range<usize>, w: &[S]) -> S {
            let data: Vec<S> = r
                .flat_map(|i| [self.0.a[i], self.0.b[i], self.0.y[i]])
                .map(S::constant)
                .collect();
            self.eval_examples(&data, w)
        }
    }

    impl ChunkData for Leaky {
        fn width(&self) -> usize {
            3
        }
        fn example(&self, i: usize, out: &mut [f64]) {
            self.0.example(i, out)
        }
        fn eval_examples<S: Scalar<Real = f64>>(&self, data: &[S], w: &[S]) -> S {
            let mut sum = S::constant(0.0);
            for e in data.chunks(3) {
                let m = (w[0] + w[1] * e[0] + w[2] * e[1]) * (e[2] * 2.0 - 1.0);
                sum += if m > S::constant(0.0) { m * 0.1 } else { m };
            }
            sum
        }
    }

    #[test]
    fn a_changed_comparison_is_recorded_again_and_the_bits_stay_put() {
        let m = Leaky(Logistic::new(2000));
        let expected = parallel::reverse::gradient(&m, &W, 10);
        // The closed form: Σ over the examples of (0.1 or 1) · s · (1, a, b).
        let mut g = [0.0; 3];
        for i in 0..2000 {
            let s = m.0.y[i] * 2.0 - 1.0;
            let marg = (W[0] + W[1] * m.0.a[i] + W[2] * m.0.b[i]) * s;
            let k = if marg > 0.0 { 0.1 } else { 1.0 } * s;
            g[0] += k;
            g[1] += k * m.0.a[i];
            g[2] += k * m.0.b[i];
        }
        for k in 0..3 {
            assert!((expected.1[k] - g[k]).abs() < 1e-10 * g[k].abs().max(1.0));
        }
        #[cfg(feature = "parallel")]
        let runs: Vec<(f64, Vec<f64>, usize)> = [1, 2, 3, 8]
            .into_iter()
            .map(|t| {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(t)
                    .build()
                    .unwrap();
                let r = Replayer::new(&m, 10);
                let (v, g) = pool.install(|| r.gradient(&W));
                (v, g, r.recordings())
            })
            .collect();
        #[cfg(not(feature = "parallel"))]
        let runs: Vec<(f64, Vec<f64>, usize)> = {
            let r = Replayer::new(&m, 10);
            let (v, g) = r.gradient(&W);
            vec![(v, g, r.recordings())]
        };
        for (v, g, recordings) in runs {
            assert_eq!(bits(v, &g), bits(expected.0, &expected.1));
            // 200 chunks of 10, with all sorts of sign patterns: recorded again.
            assert!(recordings > 2, "{recordings}");
        }
    }

    /// Reads a value while recording: such a program cannot be replayed
    /// elsewhere, so those chunks go on the tape.
    struct Peeking(Logistic);

    impl SumOfLosses for Peeking {
        fn len(&self) -> usize {
            self.0.len()
        }
        fn dim(&self) -> usize {
            3
        }
        fn eval_chunk<S: Scalar<Real = f64>>(&self, r: Range<usize>, w: &[S]) -> S {
            self.0.eval_chunk(r, w) * w[0].value()
        }
    }

    impl ChunkData for Peeking {
        fn width(&self) -> usize {
            3
        }
        fn example(&self, i: usize, out: &mut [f64]) {
            self.0.example(i, out)
        }
        fn eval_examples<S: Scalar<Real = f64>>(&self, data: &[S], w: &[S]) -> S {
            self.0.eval_examples(data, w) * w[0].value()
        }
    }

    #[test]
    fn a_recording_that_read_a_value_falls_back_to_the_tape() {
        let m = Peeking(Logistic::new(500));
        let r = Replayer::new(&m, 100);
        let (v, g) = r.gradient(&W);
        let (rv, rg) = parallel::reverse::gradient(&m, &W, 100);
        assert_eq!(bits(v, &g), bits(rv, &rg));
        assert_eq!(r.tape_chunks(), 5);
    }
}
