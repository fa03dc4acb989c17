//! Checking and timing.
//!
//! For one workload: every method's gradient is first compared with the
//! reference gradient (a wrong or panicking method is reported and not
//! timed). Then rounds are interleaved: the plain f64 evaluation, then each
//! method, one sample each, repeated; each sample runs enough calls to last
//! about `target_sample`. The median sample of each is reported, and its
//! ratio to the median f64 evaluation of the same run.

use crate::workloads::Workload;
use std::hint::black_box;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::time::{Duration, Instant};

/// A gradient method: writes the gradient at `x` into `grad` (of length n)
/// and returns the value. The caller owns the output buffer, so a method that
/// needs no allocation is not charged for one.
pub type GradFn = Box<dyn FnMut(&[f64], &mut [f64]) -> f64>;

pub enum Plan {
    Run(GradFn),
    /// Expressible but not run here (too costly), with the reason.
    Skip(String),
    /// The crate cannot express this workload, with the reason.
    Cannot(String),
}

/// One way of getting the gradient of a workload.
pub struct Method {
    pub name: String,
    pub plan: Plan,
    /// Relative tolerance against the reference gradient.
    pub tol: f64,
    /// `Some(k)`: the method computes only the first k partials (one forward
    /// pass of k lanes, where all ⌈n/k⌉ would take too long); only those and
    /// the value are checked, and the time is that of the one pass.
    pub first_partials: Option<usize>,
}

/// Default relative tolerance for exact (AD or hand-written) gradients.
pub const TOL: f64 = 1e-8;

impl Method {
    /// A method that writes into the caller's gradient buffer.
    pub fn run(
        name: impl Into<String>,
        f: impl FnMut(&[f64], &mut [f64]) -> f64 + 'static,
    ) -> Self {
        Method {
            name: name.into(),
            plan: Plan::Run(Box::new(f)),
            tol: TOL,
            first_partials: None,
        }
    }

    /// A method that returns its gradient as a new vector (as most crates'
    /// drivers do); it is copied into the caller's buffer.
    pub fn run_vec(
        name: impl Into<String>,
        mut f: impl FnMut(&[f64]) -> (f64, Vec<f64>) + 'static,
    ) -> Self {
        Self::run(name, move |x, g| {
            let (value, grad) = f(x);
            g.copy_from_slice(&grad);
            value
        })
    }

    pub fn skip(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Method {
            name: name.into(),
            plan: Plan::Skip(reason.into()),
            tol: TOL,
            first_partials: None,
        }
    }

    pub fn cannot(name: impl Into<String>, reason: impl Into<String>) -> Self {
        Method {
            name: name.into(),
            plan: Plan::Cannot(reason.into()),
            tol: TOL,
            first_partials: None,
        }
    }

    pub fn with_tol(mut self, tol: f64) -> Self {
        self.tol = tol;
        self
    }

    /// The method writes only the first `k` partials (see `first_partials`).
    pub fn first_partials(mut self, k: usize) -> Self {
        self.first_partials = Some(k);
        self
    }
}

/// A crate (or the hand-written baselines) offering methods per workload.
/// Adding a crate to the comparison is one implementation of this trait.
pub trait Peer {
    /// Shown in the report's list of crates, e.g. "num-dual 0.15.1".
    fn name(&self) -> String;
    /// The methods this crate offers for `w`, in the order they are shown.
    /// Workloads it cannot express get `Method::cannot`, so the table says so.
    fn methods(&self, w: &Workload) -> Vec<Method>;
    /// A reference crate's first method that passes the check against the
    /// hand-written gradient becomes the reference for the methods after it
    /// (dualtape's reverse gradient, once dualtape is plugged in).
    fn is_reference(&self) -> bool {
        false
    }
}

pub struct Config {
    /// Rounds of interleaved samples, at most.
    pub rounds: usize,
    /// Rounds at least, even past the budget.
    pub min_rounds: usize,
    /// Each sample runs enough calls to last about this long.
    pub target_sample: Duration,
    /// Rough time allowed for the timed rounds of one workload.
    pub budget: Duration,
}

impl Config {
    pub fn full() -> Self {
        Config {
            rounds: 21,
            min_rounds: 3,
            target_sample: Duration::from_millis(10),
            budget: Duration::from_secs(30),
        }
    }

    /// Checks only, no timing (for tests).
    pub fn check_only() -> Self {
        Config {
            rounds: 0,
            min_rounds: 0,
            target_sample: Duration::ZERO,
            budget: Duration::ZERO,
        }
    }

    pub fn quick() -> Self {
        Config {
            rounds: 9,
            min_rounds: 3,
            target_sample: Duration::from_millis(5),
            budget: Duration::from_secs(4),
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// Gradient agrees with the reference; timed.
    Ok,
    /// The plain f64 evaluation, the baseline.
    Baseline,
    /// Gradient disagrees with the reference; not timed.
    Wrong(String),
    /// The method panicked; not timed.
    Panicked(String),
    Skipped(String),
    Cannot(String),
}

impl Status {
    pub fn text(&self) -> String {
        match self {
            Status::Ok => "ok".into(),
            Status::Baseline => "baseline".into(),
            Status::Wrong(d) => format!("WRONG: {d}"),
            Status::Panicked(m) => format!("PANICKED: {m}"),
            Status::Skipped(r) => r.clone(),
            Status::Cannot(r) => format!("cannot express: {r}"),
        }
    }
}

/// One line of the results table.
#[derive(Clone, Debug)]
pub struct Row {
    pub workload: String,
    pub n: usize,
    pub method: String,
    /// Median seconds per call.
    pub median: Option<f64>,
    pub ratio: Option<f64>,
    pub status: Status,
    pub rounds: usize,
    pub iters: u64,
    /// For one-operation workloads: the value and derivative the method gives.
    pub note: Option<String>,
    /// Fastest and slowest sample (seconds per call), to judge the noise.
    pub min_max: Option<(f64, f64)>,
}

/// max_i |got_i - want_i| / max_i |want_i| (NaN-safe: NaN counts as infinite).
pub fn rel_err(got: &[f64], want: &[f64]) -> f64 {
    if got.len() != want.len() {
        return f64::INFINITY;
    }
    let scale = want
        .iter()
        .fold(0.0f64, |m, w| m.max(w.abs()))
        .max(f64::MIN_POSITIVE);
    let mut worst = 0.0f64;
    for (g, w) in got.iter().zip(want) {
        let e = (g - w).abs() / scale;
        if e.is_nan() {
            return f64::INFINITY;
        }
        worst = worst.max(e);
    }
    worst
}

/// `first`: compare only the first that many partials (one pass's).
fn check(got: &(f64, Vec<f64>), want: &(f64, Vec<f64>), tol: f64, first: Option<usize>) -> Status {
    let value_err = (got.0 - want.0).abs() / want.0.abs().max(1.0);
    let k = first.unwrap_or(want.1.len()).min(want.1.len());
    let grad_err = rel_err(&got.1[..k.min(got.1.len())], &want.1[..k]);
    if value_err.is_nan() || value_err > tol {
        return Status::Wrong(format!("value {:e}, want {:e}", got.0, want.0));
    }
    if grad_err > tol {
        if k <= 4 {
            return Status::Wrong(format!(
                "gradient {:?}, want {:?}",
                &got.1[..k],
                &want.1[..k]
            ));
        }
        return Status::Wrong(format!("gradient rel. error {grad_err:.1e} > {tol:.0e}"));
    }
    Status::Ok
}

fn panic_message(p: Box<dyn std::any::Any + Send>) -> String {
    let msg = if let Some(s) = p.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic)".into()
    };
    msg.lines().next().unwrap_or("").chars().take(120).collect()
}

/// Something timed: the f64 evaluation or a method that passed its check.
struct Timed<'a> {
    row: usize,
    call: Box<dyn FnMut() + 'a>,
    iters: u64,
    /// Seconds per call, one per round.
    samples: Vec<f64>,
}

/// What a sample measures.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Clock {
    /// CPU time of the benchmark thread (`CLOCK_THREAD_CPUTIME_ID`): time
    /// spent descheduled on a shared machine is not counted. The default.
    ThreadCpu,
    /// Wall-clock time.
    Wall,
}

fn thread_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_THREAD_CPUTIME_ID)");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

thread_local! {
    static CLOCK: std::cell::Cell<Clock> = const { std::cell::Cell::new(Clock::ThreadCpu) };
}

/// Chooses the clock for samples taken on this thread.
pub fn set_clock(clock: Clock) {
    CLOCK.with(|c| c.set(clock));
}

pub fn time_calls(call: &mut dyn FnMut(), iters: u64) -> Duration {
    match CLOCK.with(|c| c.get()) {
        Clock::ThreadCpu => {
            let t = thread_cpu_time();
            for _ in 0..iters {
                call();
            }
            thread_cpu_time().saturating_sub(t)
        }
        Clock::Wall => {
            let t = Instant::now();
            for _ in 0..iters {
                call();
            }
            t.elapsed()
        }
    }
}

/// How many calls make one sample last about `target`, and how long such a
/// sample took if calibration already timed one (a single call longer than
/// the target: not worth timing again).
pub fn calibrate(call: &mut dyn FnMut(), target: Duration) -> (u64, Option<Duration>) {
    let mut iters = 1u64;
    loop {
        let t = time_calls(call, iters).max(Duration::from_nanos(1));
        if t >= target / 2 || iters >= 1 << 30 {
            // Aim at the target from this measurement.
            let per = t.as_secs_f64() / iters as f64;
            let aim = ((target.as_secs_f64() / per).round() as u64).clamp(1, 1 << 30);
            return (aim, (aim == iters).then_some(t));
        }
        let grow = (target.as_secs_f64() / t.as_secs_f64()).clamp(2.0, 100.0);
        iters = (iters as f64 * grow).ceil() as u64;
    }
}

pub fn median(xs: &mut [f64]) -> f64 {
    xs.sort_by(f64::total_cmp);
    let m = xs.len() / 2;
    if xs.len() % 2 == 1 {
        xs[m]
    } else {
        0.5 * (xs[m - 1] + xs[m])
    }
}

/// Checks and times every method of every peer on one workload.
///
/// The reference gradient is the hand-written one, until a peer marked
/// `is_reference` (dualtape) passes the check: its gradient is then the
/// reference for the methods after it.
pub fn run_workload(
    w: &Workload,
    peers: &[Box<dyn Peer>],
    cfg: &Config,
    log: &mut dyn FnMut(&str),
) -> Vec<Row> {
    let x = w.point();
    let n = w.dim();
    let name = w.name();
    let mut reference = w.analytic(&x);
    let mut reference_is_analytic = true;
    let f64_value = w.eval(&x);
    assert!(
        (f64_value - reference.0).abs() <= 1e-10 * reference.0.abs().max(1.0),
        "{name}: the f64 evaluation and the hand-written gradient disagree on the value"
    );

    let row = |method: &str, status: Status| Row {
        workload: name.clone(),
        n,
        method: method.to_string(),
        median: None,
        ratio: None,
        status,
        rounds: 0,
        iters: 0,
        note: None,
        min_max: None,
    };

    let mut rows = vec![row("f64 evaluation", Status::Baseline)];
    let mut runnable: Vec<(usize, GradFn)> = Vec::new();
    for peer in peers {
        for m in peer.methods(w) {
            match m.plan {
                Plan::Skip(r) => rows.push(row(&m.name, Status::Skipped(r))),
                Plan::Cannot(r) => rows.push(row(&m.name, Status::Cannot(r))),
                Plan::Run(mut f) => {
                    log(&format!("  check {}", m.name));
                    // The panic message goes into the table, not to stderr.
                    let hook = std::panic::take_hook();
                    std::panic::set_hook(Box::new(|_| {}));
                    let result = catch_unwind(AssertUnwindSafe(|| {
                        let mut g = vec![f64::NAN; n];
                        let value = f(&x, &mut g);
                        (value, g)
                    }));
                    std::panic::set_hook(hook);
                    let r = match result {
                        Ok(got) => {
                            let status = check(&got, &reference, m.tol, m.first_partials);
                            let mut r = row(&m.name, status);
                            if !w.timed() {
                                r.note = Some(format!("value {}, derivative {:?}", got.0, got.1));
                            }
                            if peer.is_reference()
                                && m.first_partials.is_none()
                                && reference_is_analytic
                                && r.status == Status::Ok
                            {
                                log(&format!("  reference from now on: {}", m.name));
                                reference = got;
                                reference_is_analytic = false;
                            }
                            r
                        }
                        Err(p) => row(&m.name, Status::Panicked(panic_message(p))),
                    };
                    let ok = r.status == Status::Ok;
                    rows.push(r);
                    if ok {
                        runnable.push((rows.len() - 1, f));
                    }
                }
            }
        }
    }
    if !w.timed() || cfg.rounds == 0 {
        return rows;
    }

    // Everything timed, the f64 evaluation first.
    let xs = x.as_slice();
    let mut buffers: Vec<Vec<f64>> = runnable.iter().map(|_| vec![0.0; n]).collect();
    let mut timed: Vec<Timed> = Vec::new();
    timed.push(Timed {
        row: 0,
        call: Box::new(|| {
            black_box(w.eval(black_box(xs)));
        }),
        iters: 0,
        samples: Vec::new(),
    });
    for ((row_idx, f), g) in runnable.iter_mut().zip(buffers.iter_mut()) {
        timed.push(Timed {
            row: *row_idx,
            call: Box::new(move || {
                black_box(f(black_box(xs), black_box(g.as_mut_slice())));
            }),
            iters: 0,
            samples: Vec::new(),
        });
    }

    log(&format!("  calibrate {} timed entries", timed.len()));
    let mut round_cost = Duration::ZERO;
    for t in timed.iter_mut() {
        let (iters, timed_once) = calibrate(&mut t.call, cfg.target_sample);
        t.iters = iters;
        // One sample's expected length (a single call may exceed the target).
        round_cost += timed_once.unwrap_or_else(|| time_calls(&mut t.call, iters));
    }
    let rounds = ((cfg.budget.as_secs_f64() / round_cost.as_secs_f64().max(1e-9)) as usize)
        .clamp(cfg.min_rounds, cfg.rounds);
    log(&format!("  {rounds} rounds of ~{:.0?}", round_cost));

    for _ in 0..rounds {
        for t in timed.iter_mut() {
            let d = time_calls(&mut t.call, t.iters);
            t.samples.push(d.as_secs_f64() / t.iters as f64);
        }
    }

    let base = median(&mut timed[0].samples.clone());
    for t in timed.iter_mut() {
        let med = median(&mut t.samples);
        let r = &mut rows[t.row];
        r.min_max = Some((t.samples[0], t.samples[t.samples.len() - 1]));
        r.median = Some(med);
        r.ratio = Some(med / base);
        r.rounds = rounds;
        r.iters = t.iters;
    }
    rows
}
