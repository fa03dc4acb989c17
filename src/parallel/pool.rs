//! A rayon thread pool whose threads stay on their cores, for dedicated
//! machines: [`pinned_pool`].
//!
//! The drivers hand a chunk tree to the pool's threads many times a
//! second (a 10k-point gradient of a small network takes about a
//! millisecond). Between gradients, and in a gradient's tail, an idle
//! worker goes to sleep; the next gradient wakes it, and each wake-up is
//! a new placement decision by the OS scheduler. On a machine with no
//! other work that decision can still be wrong for a while: Linux may
//! queue the woken worker on the busy core of the thread that woke it
//! (wake-affine placement) and move it to the idle core only later. For a
//! one-millisecond gradient that is the difference between 1.9x and 1.4x
//! on 2 cores (issue 12: a 2-vCPU VM, where unpinned threads waited 0.67
//! ms per 1.38 ms gradient for a core while the other core was idle).
//! Pinned threads cannot be queued behind each other.
//!
//! **When to use it**: on a machine (or a container's cpuset) that runs
//! nothing else heavy, with at most one pinned pool thread per core, for
//! many short gradients (training loops). **When not to**: on a machine
//! shared with other work, or with several pinned pools at once, a pinned
//! thread cannot flee a core that something else occupies, and waits for
//! it instead; there the OS's free placement is the better bet. The
//! results are the same bits either way: pinning changes where chunks
//! run, never which chunks or how they are combined.

/// A rayon thread pool of `threads` threads in which thread `i` runs only
/// on the `i mod k`-th of the `k` cores this process may use (its
/// affinity mask, so `taskset` and container cpusets are respected), so
/// that the OS never queues two of its threads on one core while another
/// core idles. Use it through [`install`](rayon::ThreadPool::install), as
/// any pool; see the [module docs](self) for when it pays and when not.
///
/// Pinning is best effort: where the OS does not support it (or refuses
/// it), the threads run unpinned and everything else is the same.
///
/// ```
/// use dualtape::parallel;
///
/// let pool = parallel::pinned_pool(2).expect("a pool of 2 threads");
/// let sum = pool.install(|| {
///     parallel::reduce(1000, 100, |r| r.map(|i| i as f64).sum::<f64>(), |a, b| a + b)
/// });
/// assert_eq!(sum, Some(499_500.0));
/// ```
///
/// # Errors
///
/// As [`rayon::ThreadPoolBuilder::build`]: if the threads cannot be
/// started.
///
/// # Panics
///
/// If `threads == 0` (rayon would pick a number itself; give one).
pub fn pinned_pool(threads: usize) -> Result<rayon::ThreadPool, rayon::ThreadPoolBuildError> {
    assert!(
        threads > 0,
        "parallel::pinned_pool: 0 threads; give the number of threads, e.g. \
         std::thread::available_parallelism()"
    );
    let cores = core_affinity::get_core_ids().unwrap_or_default();
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("dualtape-pinned-{i}"))
        .start_handler(move |i| {
            if let Some(&core) = cores.get(i % cores.len().max(1)) {
                // Best effort: unpinned if the OS says no.
                let _ = core_affinity::set_for_current(core);
            }
        })
        .build()
}
