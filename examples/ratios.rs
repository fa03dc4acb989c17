//! The ratio table: gradient time as a multiple of one plain `f64`
//! evaluation, measured in the same process and the same rounds.
//!
//! ```text
//! cargo run --release --example ratios            # full table (a few minutes)
//! cargo run --release --example ratios -- --quick # fewer sizes and rounds (~1 minute)
//! cargo run --release --example ratios -- --only rosenbrock   # workloads whose key contains a word
//! cargo run --release --example ratios -- --wall  # wall-clock instead of thread CPU time
//! ```
//!
//! For each workload, every method (plain `f64` evaluation included) is
//! timed in interleaved rounds: round `r` runs one batch of each method in
//! turn, starting at a different method each round, so a burst of load on a
//! shared machine hits all methods alike. A batch repeats a call enough
//! times to last about 2 ms (0.5 ms with `--quick`); each round gives one
//! time per call. Times are the benchmark thread's CPU time on Linux (time
//! spent descheduled while other processes run is not counted), wall-clock
//! time elsewhere or with `--wall`.
//!
//! The table shows the median over rounds, less the harness's own cost per
//! call (an empty call timed in the same rounds, a few nanoseconds), and its
//! ratio to the `f64` evaluation's median from the same rounds. For reverse
//! mode it adds the tape: nodes (one per recorded operation, plus the inputs
//! and a sentinel), bytes per node, and the peak tape size, measured on a
//! fresh thread.
//!
//! Where a full forward or finite-difference gradient would take seconds
//! (the 2-64-64-1 network, 4417 inputs), one pass is timed and the gradient's
//! ratio is estimated as passes × that (marked "est.").
//!
//! The workloads and methods live in `benches/common/mod.rs`.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::{Duration, Instant};

use common::*;
use dualtape::reverse::TapeStats;

struct Config {
    quick: bool,
    clock: Clock,
    rounds: usize,
    batch: Duration,
    budget: Duration,
    only: Option<String>,
}

impl Config {
    fn from_args() -> Self {
        let args: Vec<String> = std::env::args().skip(1).collect();
        let quick = args.iter().any(|a| a == "--quick");
        let clock = Clock::choose(args.iter().any(|a| a == "--wall"));
        let only = args
            .iter()
            .position(|a| a == "--only")
            .and_then(|i| args.get(i + 1).cloned());
        if let Some(bad) = args.iter().find(|a| {
            a.starts_with("--")
                && !matches!(a.as_str(), "--quick" | "--wall" | "--only" | "--bench")
        }) {
            eprintln!("unknown flag {bad}; flags: --quick, --wall, --only WORD");
            std::process::exit(2);
        }
        if quick {
            Config {
                quick,
                clock,
                rounds: 7,
                batch: Duration::from_micros(500),
                budget: Duration::from_millis(400),
                only,
            }
        } else {
            Config {
                quick,
                clock,
                rounds: 21,
                batch: Duration::from_millis(2),
                budget: Duration::from_secs(3),
                only,
            }
        }
    }
}

/// One method of one workload, ready to time.
struct Item<'a> {
    method: String,
    run: Box<dyn FnMut() + 'a>,
    /// The gradient costs about `passes` calls of `run` (1 when `run` is the
    /// whole gradient).
    passes: f64,
}

impl<'a> Item<'a> {
    fn new(method: impl Into<String>, run: impl FnMut() + 'a) -> Self {
        Item {
            method: method.into(),
            run: Box::new(run),
            passes: 1.0,
        }
    }
    fn per_pass(mut self, passes: usize) -> Self {
        self.passes = passes as f64;
        self
    }
}

/// A measured row.
struct Row {
    workload: String,
    key: &'static str,
    method: String,
    median: f64,
    ratio: f64,
    passes: f64,
    rounds: usize,
}

/// The median of a sample (sorted in place).
fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// What a sample measures.
#[derive(Clone, Copy, PartialEq)]
enum Clock {
    /// CPU time of this thread (`CLOCK_THREAD_CPUTIME_ID`): time spent
    /// descheduled on a shared machine is not counted. The default on Linux.
    ThreadCpu,
    /// Wall-clock time (`--wall`; the only clock elsewhere).
    Wall,
}

#[cfg(all(target_os = "linux", target_pointer_width = "64"))]
mod cpu_clock {
    #[repr(C)]
    struct Timespec {
        tv_sec: i64,
        tv_nsec: i64,
    }
    extern "C" {
        // From the C library std already links.
        fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;

    /// This thread's CPU time in seconds.
    pub fn thread_seconds() -> Option<f64> {
        let mut ts = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        // SAFETY: `ts` is a valid, writable timespec of the platform's layout
        // (64-bit Linux: two 64-bit fields).
        let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
        (rc == 0).then_some(ts.tv_sec as f64 + ts.tv_nsec as f64 * 1e-9)
    }
}

#[cfg(not(all(target_os = "linux", target_pointer_width = "64")))]
mod cpu_clock {
    pub fn thread_seconds() -> Option<f64> {
        None
    }
}

impl Clock {
    /// The chosen clock, falling back to wall time where thread CPU time is
    /// not available.
    fn choose(wall: bool) -> Clock {
        if !wall && cpu_clock::thread_seconds().is_some() {
            Clock::ThreadCpu
        } else {
            Clock::Wall
        }
    }

    /// Seconds since an arbitrary origin.
    fn now(self) -> f64 {
        thread_local! {
            static ORIGIN: Instant = Instant::now();
        }
        match self {
            Clock::ThreadCpu => cpu_clock::thread_seconds().expect("thread CPU clock"),
            Clock::Wall => ORIGIN.with(|o| o.elapsed().as_secs_f64()),
        }
    }

    fn describe(self) -> &'static str {
        match self {
            Clock::ThreadCpu => {
                "CPU time of the benchmark thread (time descheduled is not counted)"
            }
            Clock::Wall => "wall-clock time",
        }
    }
}

/// Times the items in interleaved rounds; returns (median seconds per call,
/// rounds) per item.
fn measure(items: &mut [Item], cfg: &Config) -> Vec<(f64, usize)> {
    let clock = cfg.clock;
    // Calibrate: one warm-up call (which also grows the tape), then enough
    // calls to estimate the time of one.
    let mut plan = Vec::new();
    for it in items.iter_mut() {
        (it.run)();
        let start = clock.now();
        let mut calls = 0u64;
        while calls == 0 || (clock.now() - start < 5e-3 && calls < 1_000_000) {
            (it.run)();
            calls += 1;
        }
        let per_call = (clock.now() - start) / calls as f64;
        let batch = ((cfg.batch.as_secs_f64() / per_call).ceil() as u64).max(1);
        let per_round = per_call * batch as f64;
        let rounds = ((cfg.budget.as_secs_f64() / per_round) as usize).clamp(3, cfg.rounds);
        plan.push((batch, rounds));
    }
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); items.len()];
    let m = items.len();
    for r in 0..cfg.rounds {
        for k in 0..m {
            let i = (k + r) % m;
            let (batch, rounds) = plan[i];
            if samples[i].len() >= rounds {
                continue;
            }
            let run = &mut items[i].run;
            let start = clock.now();
            for _ in 0..batch {
                run();
            }
            samples[i].push((clock.now() - start) / batch as f64);
        }
    }
    samples.iter_mut().map(|s| (median(s), s.len())).collect()
}

/// Checks reverse mode against the hand-written gradient before timing, so
/// the table never times a wrong answer.
fn sanity<W: Workload>(w: &W) {
    let x = w.x0().to_vec();
    let (mut a, mut r) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    analytic(w, &x, &mut a);
    reverse_into(w, &x, &mut r);
    let scale = a.iter().fold(1.0f64, |m, v| m.max(v.abs()));
    let err = a
        .iter()
        .zip(&r)
        .fold(0.0f64, |m, (p, q)| m.max((p - q).abs()));
    assert!(
        err <= 1e-10 * scale,
        "{}: reverse and hand-written gradients differ by {err:e}",
        w.name()
    );
}

/// Which forward / finite-difference methods to time.
#[derive(Clone, Copy, PartialEq)]
enum Forward {
    /// Full gradients.
    Full,
    /// One pass each, scaled by the number of passes.
    OnePass,
    /// None.
    Skip,
}

struct Report {
    /// The largest per-call harness overhead seen (subtracted from medians).
    overhead: f64,
    rows: Vec<Row>,
    tapes: Vec<(String, &'static str, usize, TapeStats)>,
}

impl Report {
    fn run<W: Workload + Sync>(&mut self, cfg: &Config, key: &'static str, w: &W, fwd: Forward) {
        if let Some(only) = &cfg.only {
            if !key.contains(only.as_str()) {
                return;
            }
        }
        sanity(w);
        let x = w.x0().to_vec();
        let n = x.len();
        let mut items = Vec::new();
        {
            let x = &x;
            items.push(Item::new("f64 eval", move || {
                black_box(eval_f64(w, black_box(x)));
            }));
            let mut g = vec![0.0; n];
            items.push(Item::new("hand-written", move || {
                black_box(analytic(w, black_box(x), &mut g));
            }));
            let mut g = vec![0.0; n];
            items.push(Item::new("reverse", move || {
                black_box(reverse_into(w, black_box(x), &mut g));
            }));
            match fwd {
                Forward::Full => {
                    let mut g = vec![0.0; n];
                    items.push(Item::new(format!("Dual ({})", passes(n)), move || {
                        black_box(dual_passes(w, black_box(x), &mut g));
                    }));
                    items.push(Item::new(
                        format!("DualVec4 ({})", passes(n.div_ceil(4))),
                        move || {
                            black_box(dualvec::<W, 4>(w, black_box(x)));
                        },
                    ));
                    items.push(Item::new(
                        format!("DualVec8 ({})", passes(n.div_ceil(8))),
                        move || {
                            black_box(dualvec::<W, 8>(w, black_box(x)));
                        },
                    ));
                    items.push(Item::new(
                        format!("DualVec16 ({})", passes(n.div_ceil(16))),
                        move || {
                            black_box(dualvec::<W, 16>(w, black_box(x)));
                        },
                    ));
                    items.push(Item::new(
                        format!("central FD ({} evals)", 2 * n + 1),
                        move || {
                            black_box(central_fd(w, black_box(x)));
                        },
                    ));
                }
                Forward::OnePass => {
                    items.push(
                        Item::new(format!("Dual, 1 of {n} passes"), move || {
                            black_box(dual_one_pass(w, black_box(x)));
                        })
                        .per_pass(n),
                    );
                    for (name, per) in [
                        (4usize, n.div_ceil(4)),
                        (8, n.div_ceil(8)),
                        (16, n.div_ceil(16)),
                    ] {
                        let method = format!("DualVec{name}, 1 of {per} passes");
                        let item = match name {
                            4 => Item::new(method, move || {
                                black_box(dualvec_one_pass::<W, 4>(w, black_box(x)));
                            }),
                            8 => Item::new(method, move || {
                                black_box(dualvec_one_pass::<W, 8>(w, black_box(x)));
                            }),
                            _ => Item::new(method, move || {
                                black_box(dualvec_one_pass::<W, 16>(w, black_box(x)));
                            }),
                        };
                        items.push(item.per_pass(per));
                    }
                    let mut xm = x.clone();
                    items.push(
                        Item::new(format!("central FD, 1 of {n} pairs"), move || {
                            black_box(fd_one_pair(w, black_box(&mut xm)));
                        })
                        .per_pass(n),
                    );
                }
                Forward::Skip => {}
            }
        }
        let name = w.name();
        eprint!("  timing {name} ({} methods)...", items.len());
        let t0 = Instant::now();
        // The last item times an empty call: the harness's own cost per call
        // (a boxed closure call), subtracted from every median.
        items.push(Item::new("(empty call)", || {
            black_box(());
        }));
        let mut medians = measure(&mut items, cfg);
        let (overhead, _) = medians.pop().expect("the empty item");
        items.pop();
        self.overhead = self.overhead.max(overhead);
        for m in &mut medians {
            m.0 = (m.0 - overhead).max(f64::MIN_POSITIVE);
        }
        eprintln!(" {:.1} s", t0.elapsed().as_secs_f64());
        let base = medians[0].0;
        for (it, &(med, rounds)) in items.iter().zip(&medians) {
            self.rows.push(Row {
                workload: name.clone(),
                key,
                method: it.method.clone(),
                median: med,
                ratio: med / base,
                passes: it.passes,
                rounds,
            });
        }
        self.tapes.push((name, key, n, tape_of(w)));
    }

    fn ratio(&self, key: &str, method: &str) -> Option<f64> {
        self.rows
            .iter()
            .find(|r| r.key == key && r.method.starts_with(method))
            .map(|r| r.ratio * r.passes)
    }

    /// The best DualVec chunk's ratio.
    fn best_dualvec(&self, key: &str) -> Option<(f64, String)> {
        self.rows
            .iter()
            .filter(|r| r.key == key && r.method.starts_with("DualVec"))
            .map(|r| (r.ratio * r.passes, r.method.clone()))
            .min_by(|a, b| a.0.partial_cmp(&b.0).unwrap())
    }
}

/// "1 pass", "3 passes".
fn passes(k: usize) -> String {
    if k == 1 {
        "1 pass".into()
    } else {
        format!("{k} passes")
    }
}

fn fmt_time(s: f64) -> String {
    if s < 1e-6 {
        format!("{:.1} ns", s * 1e9)
    } else if s < 1e-3 {
        format!("{:.2} µs", s * 1e6)
    } else if s < 1.0 {
        format!("{:.2} ms", s * 1e3)
    } else {
        format!("{:.2} s", s)
    }
}

fn fmt_ratio(r: f64) -> String {
    if r < 10.0 {
        format!("{r:.2}")
    } else if r < 1000.0 {
        format!("{r:.1}")
    } else {
        format!("{r:.0}")
    }
}

fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|s| s.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "n/a".into())
}

fn main() {
    let cfg = Config::from_args();
    let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
    println!(
        "# dualtape ratio report{}\n",
        if cfg.quick { " (--quick)" } else { "" }
    );
    println!(
        "{cores} cores; load average at start {}; up to {} interleaved rounds per method, \
         batches of ~{} µs of {}; median per call; × f64 = median / median of the plain \
         f64 evaluation in the same rounds.\n",
        loadavg(),
        cfg.rounds,
        cfg.batch.as_micros(),
        cfg.clock.describe()
    );
    let t0 = Instant::now();
    let mut rep = Report {
        overhead: 0.0,
        rows: Vec::new(),
        tapes: Vec::new(),
    };

    let rosen_reverse: &[usize] = if cfg.quick {
        &[10, 1000, 100_000, 1_000_000]
    } else {
        &[10, 100, 1000, 10_000, 100_000, 1_000_000]
    };
    let forward_max = if cfg.quick { 1000 } else { 10_000 };
    const KEYS: [&str; 6] = [
        "rosenbrock 10",
        "rosenbrock 100",
        "rosenbrock 1000",
        "rosenbrock 10000",
        "rosenbrock 100000",
        "rosenbrock 1000000",
    ];
    for &n in rosen_reverse {
        let key = KEYS[n.ilog10() as usize - 1];
        let fwd = if n <= forward_max {
            Forward::Full
        } else {
            Forward::Skip
        };
        rep.run(&cfg, key, &Rosenbrock::new(n), fwd);
    }
    rep.run(&cfg, "notebook loops", &Notebook::new(1000), Forward::Full);
    rep.run(
        &cfg,
        "notebook nalgebra",
        &NotebookNalgebra::new(1000),
        Forward::Full,
    );
    rep.run(&cfg, "mlp", &Mlp::new(1000), Forward::OnePass);
    rep.run(&cfg, "logdet", &LogDet::new(20), Forward::Full);

    // ---------------------------------------------------------- the table
    println!("## Gradient time / f64 evaluation time\n");
    println!("| workload | method | median | × f64 | rounds |");
    println!("|---|---|---:|---:|---:|");
    for r in &rep.rows {
        let ratio = if r.passes > 1.0 {
            format!(
                "{} per pass; est. {} for the gradient",
                fmt_ratio(r.ratio),
                fmt_ratio(r.ratio * r.passes)
            )
        } else {
            fmt_ratio(r.ratio)
        };
        println!(
            "| {} | {} | {} | {} | {} |",
            r.workload,
            r.method,
            fmt_time(r.median),
            ratio,
            r.rounds
        );
    }

    println!("\n## Reverse-mode tape (one gradient, fresh thread)\n");
    println!(
        "| workload | inputs | nodes | nodes / input | bytes / node | peak tape | storage held (tape + adjoints) |"
    );
    println!("|---|---:|---:|---:|---:|---:|---:|");
    for (name, _, n, s) in &rep.tapes {
        println!(
            "| {} | {} | {} | {:.1} | {} | {:.2} MB | {:.2} MB |",
            name,
            n,
            s.peak_nodes,
            s.peak_nodes as f64 / *n as f64,
            s.bytes_per_node,
            (s.peak_nodes * s.bytes_per_node) as f64 / 1e6,
            s.capacity_bytes as f64 / 1e6
        );
    }

    // ---------------------------------------------------------- targets
    println!("\n## Targets (issues 3 and 5)\n");
    let check = |what: String, got: Option<f64>, limit: f64| match got {
        Some(v) => println!(
            "- [{}] {what}: {} (target ≤ {limit})",
            if v <= limit { "x" } else { " " },
            fmt_ratio(v)
        ),
        None => println!("- [?] {what}: not measured in this run"),
    };
    let mut rosen = Vec::new();
    for key in KEYS {
        if let Some(v) = rep.ratio(key, "reverse") {
            rosen.push(v);
            check(format!("reverse, {key}, × f64"), Some(v), 15.0);
        }
    }
    if rosen.len() > 1 {
        let (lo, hi) = rosen
            .iter()
            .fold((f64::MAX, 0.0f64), |(lo, hi), &v| (lo.min(v), hi.max(v)));
        check(
            "reverse Rosenbrock flat in n: max ratio / min ratio".into(),
            Some(hi / lo),
            1.5,
        );
    }
    check(
        "reverse, notebook 2-3-1 loops, × f64".into(),
        rep.ratio("notebook loops", "reverse"),
        2.5,
    );
    check(
        "reverse, notebook 2-3-1 nalgebra, × nalgebra f64".into(),
        rep.ratio("notebook nalgebra", "reverse"),
        5.0,
    );
    let bytes = rep.tapes.iter().map(|t| t.3.bytes_per_node).max();
    check(
        "tape bytes per recorded operation".into(),
        bytes.map(|b| b as f64),
        24.0,
    );
    for (key, limit, what) in [
        ("rosenbrock 10", 12.0, "Rosenbrock n = 10"),
        ("rosenbrock 1000", 600.0, "Rosenbrock n = 1000"),
        ("notebook loops", 2.5, "notebook 2-3-1 loops"),
        ("notebook nalgebra", 6.0, "notebook 2-3-1 nalgebra"),
    ] {
        let best = rep.best_dualvec(key);
        let label = match &best {
            Some((_, m)) => format!("forward, best DualVec chunk ({m}), {what}, × f64"),
            None => format!("forward DualVec, {what}"),
        };
        check(label, best.map(|b| b.0), limit);
    }
    println!(
        "\nTotal {:.0} s; load average at end {}; harness overhead per call (subtracted) \
         at most {}. The machine may be shared: compare ratios, not absolute times.",
        t0.elapsed().as_secs_f64(),
        loadavg(),
        fmt_time(rep.overhead)
    );
}
