//! dualtape-compare: is it right, and is it fast?
//!
//! Checks every crate's gradient against a reference, then times the ones
//! that are right against the plain f64 evaluation, interleaved in one
//! process. See README.md for the command and how to read the table.
//!
//! Layout: `workloads/` (the functions, their f64 baselines and hand-written
//! gradients), `peers/` (one module per crate: the workloads written in its
//! terms, as a list of `Method`s), `harness.rs` (checking and timing),
//! `report.rs` (Markdown and CSV).

mod harness;
mod peers;
mod plot;
mod profile;
mod report;
#[cfg(test)]
mod tests;
mod workloads;

use harness::{Clock, Config, Row};
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;
use workloads::Workload;

struct Args {
    quick: bool,
    check: bool,
    wall: bool,
    only: Option<String>,
    out: Option<PathBuf>,
    plot: Option<PathBuf>,
    plot_from: Option<PathBuf>,
}

const USAGE: &str =
    "usage: dualtape-compare [--quick] [--only SUBSTRING] [--out PATH_PREFIX] [--plot SVG]
  --quick        fewer sizes, rounds and shorter samples (about a minute)
  --check        check every gradient, time nothing (all sizes of --quick)
  --wall         time with the wall clock (default: the thread's CPU time)
  --only S       only workloads whose name contains S (case-insensitive)
  --out P        write P.md and P.csv (default: compare/results, or compare/results-quick)
  --plot SVG     write the gradient-cost plot there (a full run writes docs/gradient_cost.svg)
  --plot-from C  measure nothing: draw the plot from the CSV C of an earlier run
       dualtape-compare profile WORKLOAD METHOD [CALLS]
                 one method alone, for callgrind and perf (`profile --help`)";

fn parse_args() -> Result<Args, lexopt::Error> {
    use lexopt::prelude::*;
    let mut args = Args {
        quick: false,
        check: false,
        wall: false,
        only: None,
        out: None,
        plot: None,
        plot_from: None,
    };
    let mut parser = lexopt::Parser::from_env();
    while let Some(arg) = parser.next()? {
        match arg {
            Long("quick") => args.quick = true,
            Long("check") => args.check = true,
            Long("wall") => args.wall = true,
            Long("only") => args.only = Some(parser.value()?.string()?.to_lowercase()),
            Long("out") => args.out = Some(parser.value()?.into()),
            Long("plot") => args.plot = Some(parser.value()?.into()),
            Long("plot-from") => args.plot_from = Some(parser.value()?.into()),
            Short('h') | Long("help") => {
                println!("{USAGE}");
                std::process::exit(0);
            }
            _ => return Err(arg.unexpected()),
        }
    }
    Ok(args)
}

fn workloads(quick: bool) -> Vec<Workload> {
    let rosenbrock_sizes: &[usize] = if quick {
        &[10, 1_000, 10_000, 100_000]
    } else {
        &[10, 100, 1_000, 10_000, 100_000, 1_000_000]
    };
    let mut w = vec![Workload::ConstDiv, Workload::ConstSub];
    w.extend(rosenbrock_sizes.iter().map(|&n| Workload::rosenbrock(n)));
    w.push(Workload::net231(1000));
    w.push(Workload::net231_nalgebra(1000));
    w.push(Workload::mlp(1000));
    w.push(Workload::logdet(workloads::LOGDET_M));
    w
}

/// The CPU model, from /proc/cpuinfo (Linux), else "unknown CPU".
fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|m| m.trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into())
}

/// The 1-minute load average, from /proc/loadavg (Linux).
fn load_average() -> Option<String> {
    let s = std::fs::read_to_string("/proc/loadavg").ok()?;
    s.split_whitespace().next().map(String::from)
}

fn header(
    args: &Args,
    peers: &[Box<dyn harness::Peer>],
    cfg: &Config,
    elapsed: f64,
    load: (Option<String>, Option<String>),
) -> String {
    let cores = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(0);
    let crates: Vec<String> = peers.iter().skip(1).map(|p| p.name()).collect();
    let mode = match (args.check, args.quick) {
        (true, _) => "--check",
        (false, true) => "--quick",
        (false, false) => "full",
    };
    let build = if cfg!(debug_assertions) {
        "DEBUG build (times meaningless; use --release)"
    } else {
        "release build"
    };
    let load = match load {
        (Some(a), Some(b)) => format!(", load average {a} at the start and {b} at the end"),
        _ => String::new(),
    };
    let mut h = format!(
        "Run: {mode} ({} s), {}, {}, {cores} cores{load}, {build}. Crates: {}.\n",
        elapsed.round(),
        env!("RUSTC_VERSION"),
        cpu_model(),
        crates.join(", "),
    );
    if !args.check {
        let clock = if args.wall {
            "wall-clock time"
        } else {
            "the benchmark thread's CPU time"
        };
        h += &format!(
            "Each time is the median over up to {} interleaved rounds (f64 evaluation, then each \
             method) of samples of ~{} ms of {clock}; the ratio divides it by the median plain f64 \
             evaluation of the same run. ",
            cfg.rounds,
            cfg.target_sample.as_millis(),
        );
    }
    h += "Every gradient is checked first, a wrong one is not timed: dualtape's reverse gradient \
          against the hand-written one, then every other method against dualtape's reverse \
          gradient (relative error <= 1e-8, max-norm; finite differences <= 1e-6).\n";
    h
}

fn run(args: Args) {
    let cfg = if args.check {
        Config::check_only()
    } else if args.quick {
        Config::quick()
    } else {
        Config::full()
    };
    harness::set_clock(if args.wall {
        Clock::Wall
    } else {
        Clock::ThreadCpu
    });
    peers::dualtape::set_wide_rosenbrock(!args.quick && !args.check);
    let peers = peers::all();
    let load_start = load_average();
    let start = Instant::now();
    let mut rows: Vec<Row> = Vec::new();
    let mut tapes = Vec::new();
    for w in workloads(args.quick || args.check) {
        if let Some(only) = &args.only {
            if !w.name().to_lowercase().contains(only) {
                continue;
            }
        }
        eprintln!(
            "[{:>5.0} s] {}, n = {}",
            start.elapsed().as_secs_f64(),
            w.name(),
            w.dim()
        );
        let mut log = |s: &str| eprintln!("{s}");
        rows.extend(harness::run_workload(&w, &peers, &cfg, &mut log));
        if !args.check {
            if let Some(t) = w.tape() {
                tapes.push((w.name(), w.dim(), t));
            }
        }
    }
    let elapsed = start.elapsed().as_secs_f64();

    let mut md = format!(
        "# dualtape-compare results\n\n{}\n{}",
        header(&args, &peers, &cfg, elapsed, (load_start, load_average())),
        report::markdown(&rows)
    );
    if !args.check {
        md += &format!(
            "\n## Compact: ratio to one f64 evaluation\n\n\
             Cells: the ratio; `WRONG` (gradient disagrees, not timed), `skip` (n passes, too \
             costly here), `n/a` (the crate cannot express the workload), empty (not offered at \
             this n).\n\nHand-written and dualtape:\n\n{}\nPeers:\n\n{}\n{}\n## Targets\n\n{}",
            report::compact(&rows, |m| !m
                .starts_with("finite differences (central, f64)")
                && (m.starts_with("dualtape ") || m.starts_with("hand-written"))),
            report::compact(&rows, |m| !m.starts_with("dualtape ")
                && !m.starts_with("hand-written")
                && !m.starts_with("finite differences (central, f64)")),
            report::tapes(&tapes),
            report::targets(&rows),
        );
    }
    println!("\n{md}");

    // The plot: where asked, and always on a full run.
    let plot_path = args.plot.clone().or_else(|| {
        (!args.check && !args.quick)
            .then(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/gradient_cost.svg"))
    });
    if let Some(path) = plot_path {
        draw_plot(&plot::points_from_rows(&rows), &path);
    }

    // --check writes files only when asked to (--out).
    let prefix = match (args.out, args.check) {
        (Some(p), _) => p,
        (None, true) => return,
        (None, false) => {
            let name = if args.quick {
                "results-quick"
            } else {
                "results"
            };
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(name)
        }
    };
    let write = |ext: &str, text: &str| {
        let path = prefix.with_extension(ext);
        let mut f =
            std::fs::File::create(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        f.write_all(text.as_bytes()).unwrap();
        eprintln!("wrote {}", path.display());
    };
    write("md", &md);
    write("csv", &report::csv(&rows));
}

fn draw_plot(points: &[plot::Point], path: &std::path::Path) {
    match plot::draw(points, path) {
        Ok(true) => eprintln!("wrote {}", path.display()),
        Ok(false) => eprintln!("no plot: no timed dualtape reverse gradient of Rosenbrock"),
        Err(e) => panic!("{}: {e}", path.display()),
    }
}

fn main() {
    let argv: Vec<String> = std::env::args().skip(1).collect();
    if argv.first().map(String::as_str) == Some("profile") {
        let rest = &argv[1..];
        if rest.iter().any(|a| a == "-h" || a == "--help") {
            println!("{}", profile::USAGE);
            return;
        }
        let rest = rest.to_vec();
        // The same big stack as a full run (num-dual's static vectors).
        let r = std::thread::Builder::new()
            .stack_size(1 << 30)
            .spawn(move || profile::run(&rest))
            .expect("spawn the profiling thread")
            .join()
            .expect("the profiling thread panicked");
        if let Err(e) = r {
            eprintln!("{e}");
            std::process::exit(2);
        }
        return;
    }
    let args = parse_args().unwrap_or_else(|e| {
        eprintln!("{e}\n{USAGE}");
        std::process::exit(2);
    });
    if let Some(csv) = &args.plot_from {
        let text =
            std::fs::read_to_string(csv).unwrap_or_else(|e| panic!("{}: {e}", csv.display()));
        let path = args.plot.clone().unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../docs/gradient_cost.svg")
        });
        draw_plot(&plot::points_from_csv(&text), &path);
        return;
    }
    // Static num-dual vectors (N^2 numbers for N = 400) live on the stack.
    std::thread::Builder::new()
        .stack_size(1 << 30)
        .spawn(move || run(args))
        .expect("spawn the benchmark thread")
        .join()
        .expect("the benchmark thread panicked");
}
