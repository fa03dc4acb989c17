//! How `dualtape::parallel` scales with threads: the gradient of the
//! notebook's loss (2-3-1 sigmoid network, cross-entropy, disk/ring data)
//! at 1k, 10k and 100k points, and of a 2-64-64-1 tanh network at 10k
//! points, three ways: reverse mode recording every chunk on the tape
//! (`tape`), reverse mode replaying one recorded program per chunk length
//! (`replay`), and forward mode in `DualVec<f64, 16>` passes (`forward`,
//! the notebook's network only).
//!
//! ```text
//! cargo run --release --example scaling -- --threads 1,2,4,8,16
//!     [--rounds 7] [--chunk N] [--csv PATH] [--sizes 1000,10000,100000] [--wide-points 10000]
//!     [--modes tape,replay,forward] [--pin] [--install-per-call]
//! ```
//!
//! Chunks: `parallel::DEFAULT_CHUNK` (128) points for the notebook's network, 8 for the 2-64-64-1 one
//! (`--chunk` sets both).
//!
//! For every workload, mode and thread count it prints the median gradient
//! time, the speedup over one thread and the parallel efficiency (speedup /
//! threads), the best time and its speedup, next to serial baselines on the
//! calling thread: the same chunks one after another with no thread pool
//! (the mode's serial loop), and for the tape one recording of the whole
//! data set (`reverse::gradient` of the full loss). The pool's gradients
//! are called one after another inside one `install`, as a training loop
//! run inside the pool calls them, timed after as many untimed calls in the
//! same `install` (the threads' placement by the OS settles; a training
//! loop pays that once) (`--install-per-call`: each gradient
//! called from this thread through its own `install`, as a loop outside
//! the pool calls them, paying the hand-over to the pool and back every
//! time). It also reports the CPU time the pool's
//! threads spent, a "CPU speedup" (one thread's CPU time over the busiest
//! thread's: what the work and its balance allow if every thread has a
//! core) and how long the threads waited for a core (from
//! `/proc/thread-self/schedstat`; Linux only), so a busy machine shows as
//! run-queue wait rather than as poor scaling.
//! Then it runs the same gradients again under
//! `dualtape::parallel::timeline` (chunk start and end times; not in the
//! timed rounds) and prints where a gradient's time goes: the serial part
//! before the first chunk starts and after the last one ends, the time
//! until every thread had started a chunk (the fork: waking a sleeping
//! worker) and from the first thread running out of chunks to the end (the
//! tail), the threads' idle share, and the time per chunk (and its growth
//! over one thread: cores slowing each other down).
//! Every thread count must give the same bits, and replay the tape's bits;
//! the example stops if not.
//! `--pin` adds, for every thread count, a pool built by
//! `dualtape::parallel::pinned_pool` (thread i on core i mod cores; rows
//! "2 pin"), timed in the same interleaved rounds as the unpinned pools,
//! its speedup over the pinned 1-thread pool. Columns `sleeps` and `moves`
//! count, per gradient and over the pool's threads, how often a thread
//! went to sleep (voluntary context switches) and was moved to another
//! core (Linux's `/proc/self/task/TID/sched`); `steal` is the VM's steal
//! time (`/proc/stat`: the hypervisor running something else on the
//! vCPUs' cores) over wall time × cores in the pool's timed rounds;
//! `shared` is the share of rounds after which two of the pool's threads
//! were last seen on the same core (`/proc/self/task/TID/stat`): with
//! `wait ms` near the gradient's time, the second worker queued behind the
//! first on one core while the other core did something else.
//!
//! Rounds are interleaved (one measurement of every configuration per
//! round) so that other work on the machine affects all alike. The CSV
//! (default `target/scaling.csv`) has one row per workload, mode and thread
//! count.
//!
//! Needs nothing but this repository: no network, no data files.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use dualtape::parallel::timeline::{timeline, Call};
use dualtape::parallel::{self, program::ChunkData, program::Replayer, SumOfLosses};
use dualtape::reverse::{self, Program, Workspace};
use dualtape::{forward, DualVec};
use dualtape_nn::data::disk_ring;
use dualtape_nn::{Activation, Mlp, Objective};
use rayon::{ThreadPool, ThreadPoolBuilder};

/// Points per chunk for the 2-64-64-1 network (the notebook's uses
/// `parallel::DEFAULT_CHUNK`).
const WIDE_CHUNK: usize = 8;

struct Args {
    threads: Vec<usize>,
    rounds: usize,
    chunk: Option<usize>,
    csv: PathBuf,
    sizes: Vec<usize>,
    wide_points: usize,
    modes: Vec<Mode>,
    pin: bool,
    install_per_call: bool,
}

fn parse_list(s: &str, what: &str) -> Result<Vec<usize>, String> {
    s.split(',')
        .map(|p| {
            p.trim()
                .parse::<usize>()
                .ok()
                .filter(|&n| n > 0)
                .ok_or_else(|| format!("{what}: '{p}' is not a positive whole number"))
        })
        .collect()
}

fn parse_args() -> Result<Args, String> {
    use lexopt::prelude::*;
    let mut args = Args {
        threads: vec![1, 2, 4, 8, 16],
        rounds: 7,
        chunk: None,
        csv: PathBuf::from("target/scaling.csv"),
        sizes: vec![1_000, 10_000, 100_000],
        wide_points: 10_000,
        modes: vec![Mode::Tape, Mode::Replay, Mode::Forward],
        pin: false,
        install_per_call: false,
    };
    let mut p = lexopt::Parser::from_env();
    let err = |e: lexopt::Error| e.to_string();
    while let Some(arg) = p.next().map_err(err)? {
        match arg {
            Long("threads") => {
                args.threads =
                    parse_list(&p.value().map_err(err)?.string().map_err(err)?, "--threads")?
            }
            Long("rounds") => args.rounds = p.value().map_err(err)?.parse().map_err(err)?,
            Long("chunk") => args.chunk = Some(p.value().map_err(err)?.parse().map_err(err)?),
            Long("csv") => args.csv = p.value().map_err(err)?.into(),
            Long("sizes") => {
                args.sizes = parse_list(&p.value().map_err(err)?.string().map_err(err)?, "--sizes")?
            }
            Long("wide-points") => {
                args.wide_points = p.value().map_err(err)?.parse().map_err(err)?
            }
            Long("modes") => {
                args.modes = p
                    .value()
                    .map_err(err)?
                    .string()
                    .map_err(err)?
                    .split(',')
                    .map(Mode::parse)
                    .collect::<Result<_, _>>()?
            }
            Long("pin") => args.pin = true,
            Long("install-per-call") => args.install_per_call = true,
            Long("help") | Short('h') => {
                println!(
                    "cargo run --release --example scaling -- [--threads 1,2,4,8,16] \
                     [--rounds 7] [--chunk N] [--csv target/scaling.csv] \
                     [--sizes 1000,10000,100000] [--wide-points 10000] \
                     [--modes tape,replay,forward] [--pin] [--install-per-call]"
                );
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected().to_string()),
        }
    }
    if !args.threads.contains(&1) {
        args.threads.insert(0, 1); // the speedup's reference
    }
    if args.rounds == 0 || args.chunk == Some(0) {
        return Err("--rounds and --chunk must be at least 1".into());
    }
    Ok(args)
}

/// What Linux counts for one thread (`/proc/.../schedstat` and `sched`):
/// CPU time and run-queue wait in seconds, times it went to sleep
/// (voluntary context switches), times it moved to another core.
#[derive(Clone, Copy, Default)]
struct ThreadStat {
    cpu: f64,
    wait: f64,
    sleeps: f64,
    migrations: f64,
    /// The core it last ran on (`stat` field 39).
    core: Option<usize>,
}

/// `ThreadStat` of the thread whose /proc directory is `dir`
/// (`/proc/thread-self` or `/proc/self/task/TID`); `None` off Linux.
fn thread_stat(dir: &str) -> Option<ThreadStat> {
    let s = std::fs::read_to_string(format!("{dir}/schedstat")).ok()?;
    let mut it = s.split_whitespace().map(|v| v.parse::<f64>().ok());
    let (cpu, wait) = (it.next()?? * 1e-9, it.next()?? * 1e-9);
    // `sched` needs CONFIG_SCHED_DEBUG; without it the counts stay 0.
    let sched = std::fs::read_to_string(format!("{dir}/sched")).unwrap_or_default();
    let count = |key: &str| {
        sched
            .lines()
            .find(|l| l.split(':').next().map(str::trim) == Some(key))
            .and_then(|l| l.split(':').nth(1)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // `stat`: after the command's closing parenthesis, field 3 is the
    // state; the last core is field 39.
    let stat = std::fs::read_to_string(format!("{dir}/stat")).unwrap_or_default();
    let core = stat
        .rsplit_once(')')
        .and_then(|(_, rest)| rest.split_whitespace().nth(39 - 3)?.parse().ok());
    Some(ThreadStat {
        cpu,
        wait,
        sleeps: count("nr_voluntary_switches"),
        migrations: count("se.nr_migrations"),
        core,
    })
}

/// The Linux thread ids of `pool`'s threads, in thread-index order (empty
/// where there is no `/proc/thread-self`).
fn thread_ids(pool: &ThreadPool) -> Vec<String> {
    pool.broadcast(|_| {
        let link = std::fs::read_link("/proc/thread-self").ok()?;
        Some(link.file_name()?.to_str()?.to_string())
    })
    .into_iter()
    .collect::<Option<Vec<String>>>()
    .unwrap_or_default()
}

/// `ThreadStat` of the threads `tids` of this process, read from
/// `/proc/self/task/TID/`: from any thread, without waking a pool's
/// threads (which would let the OS place them anew).
fn pool_stat(tids: &[String]) -> Option<Vec<ThreadStat>> {
    if tids.is_empty() {
        return None;
    }
    tids.iter()
        .map(|tid| thread_stat(&format!("/proc/self/task/{tid}")))
        .collect()
}

/// The machine's steal time so far, in seconds (`/proc/stat`, in clock
/// ticks of 10 ms): time the hypervisor gave this VM's vCPUs' physical
/// cores to something else while they had work. `None` off Linux.
fn steal_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let cpu = stat.lines().next()?.strip_prefix("cpu ")?;
    Some(cpu.split_whitespace().nth(7)?.parse::<f64>().ok()? / 100.0)
}

/// A row's name in the tables: the thread count, " pin" for a pinned pool.
fn label(threads: usize, pinned: bool) -> String {
    format!("{threads}{}", if pinned { " pin" } else { "" })
}

fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

/// How each chunk's gradient is computed.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Recorded on the worker's tape and swept, at every gradient
    /// (`parallel::reverse::gradient`).
    Tape,
    /// One recorded program per chunk length, replayed for every chunk
    /// (`parallel::program::Replayer`).
    Replay,
    /// `DualVec<f64, 16>` passes (`parallel::forward::gradient`): one pass
    /// for the notebook's 13 parameters.
    Forward,
}

impl Mode {
    fn parse(s: &str) -> Result<Mode, String> {
        match s.trim() {
            "tape" => Ok(Mode::Tape),
            "replay" => Ok(Mode::Replay),
            "forward" => Ok(Mode::Forward),
            m => Err(format!("--modes: '{m}' is not tape, replay or forward")),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Mode::Tape => "tape",
            Mode::Replay => "replay",
            Mode::Forward => "forward",
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Mode::Tape => "reverse mode, every chunk recorded on its worker's tape and swept (parallel::reverse)",
            Mode::Replay => "reverse mode, one program per chunk length recorded once and replayed (parallel::program::Replayer)",
            Mode::Forward => "forward mode, DualVec<f64, 16> passes (parallel::forward)",
        }
    }
}

/// Tangents per forward pass.
const LANES: usize = 16;

/// A thread pool of the benchmark, pinned (`dualtape::parallel::pinned_pool`)
/// or not, and its threads' Linux ids.
struct Pool {
    threads: usize,
    pinned: bool,
    pool: ThreadPool,
    tids: Vec<String>,
}

impl Pool {
    fn label(&self) -> String {
        label(self.threads, self.pinned)
    }
}

/// One way of computing the gradient, timed.
enum Config<'p> {
    /// The chunks one after another on this thread, summed left to right.
    SerialChunks,
    /// One recording of the whole data set on this thread.
    Whole,
    /// The driver on a pool (with its threads' ids), called `reps` times
    /// inside one `install` (as a training loop inside the pool calls it),
    /// after `reps` untimed calls in the same `install`.
    Pool(&'p ThreadPool, &'p [String]),
}

#[derive(Default, Clone)]
struct Samples {
    seconds: Vec<f64>,
    /// CPU time of all the threads that worked.
    cpu: Vec<f64>,
    /// CPU time of the busiest of them: the wall time the work would take
    /// if every thread had a core to itself.
    max_cpu: Vec<f64>,
    wait: Vec<f64>,
    /// Per gradient, summed over the pool's threads: sleeps (voluntary
    /// context switches) and moves to another core.
    sleeps: Vec<f64>,
    migrations: Vec<f64>,
    /// Per round: whether the pool's threads were last seen on fewer
    /// distinct cores than they could use (two workers sharing a core).
    shared: Vec<f64>,
    /// Steal time of the whole VM and wall time, summed over the rounds.
    steal: f64,
    wall: f64,
}

fn median(v: &[f64]) -> f64 {
    if v.is_empty() {
        return f64::NAN;
    }
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

struct Workload {
    name: String,
    mlp: Mlp,
    points: usize,
    chunk: usize,
    /// Also time one recording of the whole data set (its tape holds every
    /// point: 2 GB for the 2-64-64-1 network at 10k points, so not there).
    whole: bool,
}

struct Row {
    threads: usize,
    pinned: bool,
    /// Where a traced gradient's time goes.
    place: Where,
    /// Median and best wall time of one gradient.
    seconds: f64,
    best: f64,
    /// CPU time of all the pool's threads, and of the busiest one (medians).
    cpu: f64,
    max_cpu: f64,
    wait: f64,
    sleeps: f64,
    migrations: f64,
    /// Share of rounds that ended with two of the pool's threads on one core.
    shared: f64,
    /// The VM's steal time over the wall time × cores of the rounds.
    steal: f64,
}

type Gradient<'a> = Box<dyn Fn() -> (f64, Vec<f64>) + Sync + 'a>;

fn add_into(total: &mut (f64, Vec<f64>), (v, g): (f64, Vec<f64>)) {
    total.0 += v;
    for (a, b) in total.1.iter_mut().zip(&g) {
        *a += b;
    }
}

/// The serial chunk loop of `mode` (no pool, left-to-right sum) and the
/// parallel driver of `mode`.
fn gradients<'a>(
    mode: Mode,
    m: &'a Objective<'a>,
    replayer: &'a Replayer<'a, Objective<'a>>,
    w: &'a [f64],
    chunk: usize,
) -> (Gradient<'a>, Gradient<'a>) {
    let points = m.len();
    match mode {
        Mode::Tape => (
            Box::new(move || {
                let mut total = (0.0, vec![0.0; w.len()]);
                for r in parallel::chunks(points, chunk) {
                    add_into(
                        &mut total,
                        reverse::gradient(|x| m.eval_chunk(r.clone(), x), w),
                    );
                }
                total
            }),
            Box::new(move || parallel::reverse::gradient(m, w, chunk)),
        ),
        Mode::Replay => {
            // The serial loop: the same programs (one per chunk length,
            // points as inputs), replayed one chunk after another with one
            // workspace.
            let n = w.len();
            let programs: Vec<(usize, Program)> = {
                let mut lens: Vec<usize> =
                    parallel::chunks(points, chunk).map(|r| r.len()).collect();
                lens.dedup();
                lens.into_iter()
                    .map(|len| {
                        let mut x = Vec::new();
                        inputs_into(m, w, 0..len, &mut x);
                        let p = reverse::record(|v| m.eval_examples(&v[n..], &v[..n]), &x);
                        (len, p)
                    })
                    .collect()
            };
            let scratch = std::sync::Mutex::new((Vec::new(), Vec::new(), Workspace::default()));
            (
                Box::new(move || {
                    let mut total = (0.0, vec![0.0; n]);
                    let mut s = scratch.lock().expect("one caller at a time");
                    let (x, g, ws) = &mut *s;
                    for r in parallel::chunks(points, chunk) {
                        let p = &programs
                            .iter()
                            .find(|(l, _)| *l == r.len())
                            .expect("recorded")
                            .1;
                        inputs_into(m, w, r, x);
                        g.resize(x.len(), 0.0);
                        let v = p
                            .gradient_into(ws, x, g)
                            .expect("the notebook's programs replay at every chunk");
                        add_into(&mut total, (v, g[..n].to_vec()));
                    }
                    total
                }),
                Box::new(move || replayer.gradient(w)),
            )
        }
        Mode::Forward => (
            Box::new(move || {
                let mut total = (0.0, vec![0.0; w.len()]);
                for r in parallel::chunks(points, chunk) {
                    add_into(
                        &mut total,
                        forward::gradient(
                            |x: &[DualVec<f64, LANES>]| m.eval_chunk(r.clone(), x),
                            w,
                        ),
                    );
                }
                total
            }),
            Box::new(move || parallel::forward::gradient::<LANES, _>(m, w, chunk)),
        ),
    }
}

/// A chunk's program inputs into `x`: the parameters, then its points.
fn inputs_into(m: &Objective<'_>, w: &[f64], range: std::ops::Range<usize>, x: &mut Vec<f64>) {
    let width = m.width();
    x.clear();
    x.extend_from_slice(w);
    x.resize(w.len() + range.len() * width, 0.0);
    for (k, i) in range.enumerate() {
        let at = w.len() + k * width;
        m.example(i, &mut x[at..at + width]);
    }
}

fn same_bits(a: &(f64, Vec<f64>), b: &(f64, Vec<f64>)) -> bool {
    a.0.to_bits() == b.0.to_bits()
        && a.1
            .iter()
            .zip(&b.1)
            .all(|(x, y)| x.to_bits() == y.to_bits())
}

fn run(wl: &Workload, args: &Args, pools: &[Pool], csv: &mut String) {
    let data = disk_ring(wl.points, 1);
    let w = wl.mlp.init_params_lecun(0);
    // The mean loss as a sum over chunks (nn's Objective is a SumOfLosses).
    let m = wl.mlp.objective(&data);
    let n_chunks = parallel::chunks(wl.points, wl.chunk).len();
    println!(
        "\n{} {:#}, {} points, {} parameters, chunk {} ({} chunks)",
        wl.name,
        wl.mlp,
        wl.points,
        wl.mlp.n_params(),
        wl.chunk,
        n_chunks
    );
    let replayer = Replayer::new(&m, wl.chunk);
    let mut tape_result = None;
    for &mode in &args.modes {
        println!("  {}:", mode.describe());
        if mode == Mode::Forward && wl.mlp.n_params() > 4 * LANES {
            println!(
                "    skipped: {} parameters would take {} passes per chunk",
                wl.mlp.n_params(),
                wl.mlp.n_params().div_ceil(LANES)
            );
            continue;
        }
        let (serial_chunks, on_pool) = gradients(mode, &m, &replayer, &w, wl.chunk);
        let whole = || reverse::gradient(|x| m.eval_chunk(0..wl.points, x), &w);
        let whole_too = wl.whole && mode == Mode::Tape;
        let mut configs = vec![Config::SerialChunks];
        if whole_too {
            configs.push(Config::Whole);
        }
        configs.extend(pools.iter().map(|p| Config::Pool(&p.pool, &p.tids)));

        // Warm every tape and workspace, check the bits, and calibrate:
        // repeat the gradient so that one measurement takes at least 50 ms.
        let reference = pools[0].pool.install(&on_pool);
        for p in pools {
            assert!(
                same_bits(&p.pool.install(&on_pool), &reference),
                "{}: {} threads gave other bits than 1 thread",
                mode.name(),
                p.label()
            );
        }
        match (mode, &tape_result) {
            (Mode::Tape, _) => tape_result = Some(reference.clone()),
            (Mode::Replay, Some(t)) => {
                assert!(
                    same_bits(&reference, t),
                    "replay gave other bits than the tape"
                )
            }
            _ => {}
        }
        let start = Instant::now();
        std::hint::black_box(serial_chunks());
        let single = start.elapsed().as_secs_f64();
        let reps = ((0.05 / single).ceil() as usize).max(1);

        let mut samples = vec![Samples::default(); configs.len()];
        for _ in 0..args.rounds {
            for (c, s) in configs.iter().zip(samples.iter_mut()) {
                let repeat = |f: &dyn Fn() -> (f64, Vec<f64>)| {
                    for _ in 0..reps {
                        std::hint::black_box(f());
                    }
                };
                let timed = |f: &dyn Fn()| {
                    let before = thread_stat("/proc/thread-self").map(|s| vec![s]);
                    let start = Instant::now();
                    f();
                    let after = thread_stat("/proc/thread-self").map(|s| vec![s]);
                    (start.elapsed(), before, after)
                };
                let steal_before = steal_seconds();
                let (elapsed, before, after) = match c {
                    Config::SerialChunks => timed(&|| repeat(&serial_chunks)),
                    Config::Whole => timed(&|| repeat(&whole)),
                    Config::Pool(p, t) if args.install_per_call => {
                        let before = pool_stat(t);
                        let start = Instant::now();
                        repeat(&|| p.install(&on_pool));
                        (start.elapsed(), before, pool_stat(t))
                    }
                    Config::Pool(p, t) => p.install(|| {
                        // Untimed first: the OS places threads woken by
                        // `install` and by the first gradients (on an
                        // idle VM it may put a woken worker next to its
                        // waker and move it only milliseconds later); a
                        // training loop inside one `install` pays that
                        // once, not per gradient.
                        repeat(&on_pool);
                        let before = pool_stat(t);
                        let start = Instant::now();
                        repeat(&on_pool);
                        (start.elapsed(), before, pool_stat(t))
                    }),
                };
                s.seconds.push(elapsed.as_secs_f64() / reps as f64);
                if let (Some(b), Some(a)) = (steal_before, steal_seconds()) {
                    s.steal += a - b;
                    s.wall += elapsed.as_secs_f64();
                }
                if let (Some(b), Some(a)) = (before, after) {
                    let per = |f: fn(&ThreadStat) -> f64| -> Vec<f64> {
                        a.iter()
                            .zip(&b)
                            .map(|(a, b)| (f(a) - f(b)) / reps as f64)
                            .collect()
                    };
                    let cpu = per(|t| t.cpu);
                    s.cpu.push(cpu.iter().sum());
                    s.max_cpu.push(cpu.iter().copied().fold(0.0, f64::max));
                    s.wait.push(per(|t| t.wait).iter().sum());
                    s.sleeps.push(per(|t| t.sleeps).iter().sum());
                    s.migrations.push(per(|t| t.migrations).iter().sum());
                    let cores_seen: std::collections::BTreeSet<usize> =
                        a.iter().filter_map(|t| t.core).collect();
                    let could = a.len().min(cores());
                    s.shared
                        .push(f64::from(u8::from(a.len() > 1 && cores_seen.len() < could)));
                }
            }
        }
        // Where the time goes: the same gradients again, traced (chunk
        // start and end times; kept out of the timed rounds above).
        let traces: Vec<Vec<Call>> = pools
            .iter()
            .map(|p| {
                p.pool.install(|| {
                    for _ in 0..reps {
                        std::hint::black_box(on_pool());
                    }
                    (0..reps * args.rounds.min(9))
                        .flat_map(|_| timeline(&on_pool).1)
                        .collect()
                })
            })
            .collect();
        report(wl, args, mode, pools, &samples, &traces, whole_too, csv);
    }
}

/// Medians over traced calls, in microseconds: the call, the serial parts
/// and the idle share (see `dualtape::parallel::timeline::Call`).
struct Where {
    call: f64,
    before_first: f64,
    all_started: f64,
    first_done: f64,
    after_last: f64,
    idle_share: f64,
    per_chunk: f64,
}

fn where_time_goes(calls: &[Call]) -> Where {
    let us = |f: &dyn Fn(&Call) -> std::time::Duration| {
        median(
            &calls
                .iter()
                .map(|c| f(c).as_secs_f64() * 1e6)
                .collect::<Vec<_>>(),
        )
    };
    Where {
        call: us(&|c| c.duration),
        before_first: us(&|c| c.before_first_chunk()),
        all_started: us(&|c| c.all_started()),
        first_done: us(&|c| c.first_done()),
        after_last: us(&|c| c.after_last_chunk()),
        idle_share: median(
            &calls
                .iter()
                .map(|c| c.idle().as_secs_f64() / (c.duration.as_secs_f64() * c.threads as f64))
                .collect::<Vec<_>>(),
        ),
        per_chunk: median(
            &calls
                .iter()
                .map(|c| c.busy().as_secs_f64() * 1e6 / c.chunks.len() as f64)
                .collect::<Vec<_>>(),
        ),
    }
}

#[allow(clippy::too_many_arguments)]
fn report(
    wl: &Workload,
    args: &Args,
    mode: Mode,
    pools: &[Pool],
    samples: &[Samples],
    traces: &[Vec<Call>],
    whole_too: bool,
    csv: &mut String,
) {
    let med = |s: &Samples| (median(&s.seconds), median(&s.cpu), median(&s.wait));
    let (serial, serial_cpu, _) = med(&samples[0]);
    println!(
        "    serial, chunk after chunk, no pool:  {:>10.3} ms  (CPU {:.3} ms)",
        serial * 1e3,
        serial_cpu * 1e3
    );
    let whole_s = if whole_too {
        let (s, _, _) = med(&samples[1]);
        println!(
            "    serial, one recording of all points: {:>8.3} ms",
            s * 1e3
        );
        s
    } else {
        f64::NAN
    };
    let first_pool = samples.len() - pools.len();
    let rows: Vec<Row> = pools
        .iter()
        .zip(&samples[first_pool..])
        .zip(traces)
        .map(|((p, s), t)| {
            let (seconds, cpu, wait) = med(s);
            Row {
                place: where_time_goes(t),
                threads: p.threads,
                pinned: p.pinned,
                sleeps: median(&s.sleeps),
                migrations: median(&s.migrations),
                shared: s.shared.iter().sum::<f64>() / s.shared.len().max(1) as f64,
                steal: if s.wall > 0.0 {
                    s.steal / (s.wall * cores() as f64)
                } else {
                    f64::NAN
                },
                seconds,
                best: s.seconds.iter().copied().fold(f64::INFINITY, f64::min),
                cpu,
                max_cpu: median(&s.max_cpu),
                wait,
            }
        })
        .collect();
    // Each row's speedup is over 1 thread of the same kind (pinned or not).
    let one_of = |r: &Row| {
        rows.iter()
            .find(|o| o.threads == 1 && o.pinned == r.pinned)
            .expect("1 thread is always measured")
    };
    let one = rows
        .iter()
        .find(|r| r.threads == 1 && !r.pinned)
        .expect("1 thread is always measured");
    let one_s = one.seconds;
    println!(
        "    {:>7} {:>9} {:>8} {:>10} {:>8} {:>9} {:>8} {:>12} {:>10} {:>7} {:>6} {:>6} {:>7}",
        "threads",
        "median ms",
        "speedup",
        "efficiency",
        "best ms",
        "speedup",
        "CPU ms",
        "CPU speedup",
        "wait ms",
        "sleeps",
        "moves",
        "steal",
        "shared"
    );
    for r in &rows {
        let one = one_of(r);
        let speedup = one.seconds / r.seconds;
        let efficiency = speedup / r.threads as f64;
        let best_speedup = one.best / r.best;
        // One thread's CPU time over the busiest thread's: the speedup if
        // every thread had a core, from the work and its balance alone.
        let cpu_speedup = one.cpu / r.max_cpu;
        println!(
            "    {:>7} {:>9.3} {:>8.2} {:>9.0}% {:>8.3} {:>9.2} {:>8.3} {:>12.2} {:>10.3} {:>7.2} {:>6.2} {:>5.1}% {:>6.0}%",
            label(r.threads, r.pinned),
            r.seconds * 1e3,
            speedup,
            100.0 * efficiency,
            r.best * 1e3,
            best_speedup,
            r.cpu * 1e3,
            cpu_speedup,
            r.wait * 1e3,
            r.sleeps,
            r.migrations,
            100.0 * r.steal,
            100.0 * r.shared
        );
        writeln!(
            csv,
            "{},{},{},{},{},{},{},{:.9},{:.4},{:.4},{:.9},{:.4},{:.9},{:.9},{:.4},{:.9},{:.9},{:.9},{},{:.2},{:.2},{:.2},{:.2},{:.2},{:.4},{:.2},{},{:.3},{:.3},{:.4},{:.3}",
            wl.name,
            mode.name(),
            wl.mlp,
            wl.points,
            wl.mlp.n_params(),
            wl.chunk,
            r.threads,
            r.seconds,
            speedup,
            efficiency,
            r.best,
            best_speedup,
            r.cpu,
            r.max_cpu,
            cpu_speedup,
            r.wait,
            serial,
            whole_s,
            args.rounds,
            r.place.call,
            r.place.before_first,
            r.place.all_started,
            r.place.first_done,
            r.place.after_last,
            r.place.idle_share,
            r.place.per_chunk,
            r.pinned,
            r.sleeps,
            r.migrations,
            r.steal,
            r.shared
        )
        .expect("writing to a String");
    }
    println!(
        "    where a gradient's time goes (traced gradients, medians; µs):\n    {:>7} {:>8} {:>12} {:>13} {:>16} {:>11} {:>7} {:>10}",
        "threads",
        "call",
        "before 1st",
        "all started",
        "1st thread done",
        "after last",
        "idle",
        "per chunk"
    );
    for r in &rows {
        let p = &r.place;
        println!(
            "    {:>7} {:>8.1} {:>12.1} {:>13.1} {:>16.1} {:>11.1} {:>6.1}% {:>7.1} {:+.0}%",
            label(r.threads, r.pinned),
            p.call,
            p.before_first,
            p.all_started,
            p.first_done,
            p.after_last,
            100.0 * p.idle_share,
            p.per_chunk,
            100.0 * (p.per_chunk / one_of(r).place.per_chunk - 1.0)
        );
    }
    println!(
        "    1 thread vs the serial chunk loop: {:+.1} %{}",
        100.0 * (one_s / serial - 1.0),
        if whole_too {
            format!(
                "; vs one recording of all points: {:+.1} %",
                100.0 * (one_s / whole_s - 1.0)
            )
        } else {
            String::new()
        }
    );
}

fn main() {
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("scaling: {e} (try --help)");
        std::process::exit(2)
    });
    // Unpinned pools, and with `--pin` pinned ones next to them (timed in
    // the same interleaved rounds).
    let pools: Vec<Pool> = [false, true]
        .into_iter()
        .filter(|&pinned| !pinned || args.pin)
        .flat_map(|pinned| args.threads.iter().map(move |&t| (t, pinned)))
        .map(|(threads, pinned)| {
            let pool = if pinned {
                parallel::pinned_pool(threads)
            } else {
                ThreadPoolBuilder::new().num_threads(threads).build()
            }
            .unwrap_or_else(|e| panic!("cannot start a pool of {threads} threads: {e}"));
            let tids = thread_ids(&pool);
            Pool {
                threads,
                pinned,
                pool,
                tids,
            }
        })
        .collect();
    let cores = cores();
    println!(
        "dualtape::parallel scaling: the gradient by {}, {} rounds (median), {cores} cores{}{}, \
         load average {} at the start",
        args.modes
            .iter()
            .map(|m| m.name())
            .collect::<Vec<_>>()
            .join(", "),
        args.rounds,
        if args.pin {
            ", unpinned and pinned pools (parallel::pinned_pool)"
        } else {
            ""
        },
        if args.install_per_call {
            ", one install per gradient"
        } else {
            ", gradients inside one install"
        },
        load_average()
    );
    let mut workloads: Vec<Workload> = args
        .sizes
        .iter()
        .map(|&points| Workload {
            name: "notebook".into(),
            mlp: Mlp::notebook(),
            points,
            chunk: args.chunk.unwrap_or(parallel::DEFAULT_CHUNK),
            whole: true,
        })
        .collect();
    // `--wide-points 0` leaves the wide network out.
    workloads.extend((args.wide_points > 0).then(|| Workload {
        name: "wide".into(),
        mlp: Mlp::new(&[2, 64, 64, 1], Activation::Tanh, Activation::Sigmoid),
        points: args.wide_points,
        // Each point records ~8400 operations (24 bytes each on the tape):
        // 8 points make a chunk's tape 1.6 MB, inside a core's 2 MB L2
        // cache. With 32 points (6.4 MB) each chunk streams through the
        // shared L3 and two threads slow each other down: +14-16 % per
        // chunk at 2 threads, replay 1.80x instead of 2.0x (issue 12).
        chunk: args.chunk.unwrap_or(WIDE_CHUNK),
        whole: false,
    }));
    let mut csv = String::from(
        "workload,mode,network,points,parameters,chunk,threads,median_seconds,speedup,efficiency,\
         best_seconds,best_speedup,pool_cpu_seconds,busiest_thread_cpu_seconds,cpu_speedup,\
         run_queue_wait_seconds,serial_chunks_seconds,whole_recording_seconds,rounds,\
         traced_call_us,before_first_chunk_us,all_started_us,first_thread_done_us,\
         after_last_chunk_us,idle_share,per_chunk_us,pinned,sleeps_per_gradient,\
         migrations_per_gradient,steal_share,shared_core_rounds\n",
    );
    for wl in &workloads {
        run(wl, &args, &pools, &mut csv);
    }
    println!("\nload average {} at the end", load_average());
    if let Some(dir) = args.csv.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir)
            .unwrap_or_else(|e| panic!("cannot create {}: {e}", dir.display()));
    }
    std::fs::write(&args.csv, csv)
        .unwrap_or_else(|e| panic!("cannot write {}: {e}", args.csv.display()));
    println!("wrote {}", args.csv.display());
}
