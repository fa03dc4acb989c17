//! [`pinned_pool`]: a rayon thread pool whose threads stay on their cores.

/// A rayon thread pool of `threads` threads in which thread `i` runs only
/// on the `i mod k`-th of the `k` cores this process may use (its
/// affinity mask, so `taskset` and container cpusets are respected), so
/// that the OS never queues two of its threads on one core while another
/// core does something else. Use it through
/// [`install`](rayon::ThreadPool::install), as any pool. The results are
/// the same bits as on any other pool: pinning changes where chunks run,
/// never which chunks or how they are combined.
///
/// **Why**: the drivers hand a chunk tree to the pool many times a second
/// (a 10k-point gradient of a small network takes about a millisecond).
/// An unpinned worker can end up on the same core as the worker that woke
/// it; runnable in rayon's yield loop, it then steals chunks and takes
/// turns with the other on that one core, never sleeps, so it is never
/// placed again, and for whole stretches 2 threads run at 1 thread's speed
/// (issue 12, 2-vCPU VM: 0.8–1.2x instead of 1.8–2.0x in half the
/// unpinned measurements under load; 0.67 ms of run-queue wait per 1.38
/// ms gradient in one idle run). Pinned threads cannot share a core.
///
/// **When to use it**: on a machine (or a container's cpuset) that runs
/// nothing else heavy, with at most one pinned pool thread per core, for
/// many short gradients (training loops). **When not to**: on a machine
/// shared with other work, or with several pinned pools busy at once: a
/// pinned thread cannot flee a core that something else occupies, and
/// waits for it instead; there the OS's free placement is the better bet.
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
