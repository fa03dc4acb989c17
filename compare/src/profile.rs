//! `dualtape-compare profile WORKLOAD METHOD [CALLS]`: one method of the
//! comparison, alone in the process, for callgrind and perf.
//!
//! The method is the one the full run times (the same closure from the same
//! peer module), found by a case-insensitive substring of its name; `f64` is
//! the plain evaluation. Its first call is checked against the hand-written
//! gradient. With CALLS it then makes exactly that many calls (for
//! `compare/forward_instructions.sh`, which counts instructions at two call
//! counts and divides the difference, free of start-up); without, it prints
//! the median time per call over about a second, on the clock of the run
//! (`--wall` or the thread's CPU time).

use crate::harness::{self, Plan};
use crate::peers;
use crate::workloads::{self, Workload};
use std::hint::black_box;
use std::time::{Duration, Instant};

pub const USAGE: &str = "usage: dualtape-compare profile WORKLOAD METHOD [CALLS]
  WORKLOAD  ros10, ros100, ros1000, ros10000 (extended Rosenbrock, any n), net (2-3-1, loops),
            na (2-3-1, nalgebra), mlp (2-64-64-1, nalgebra), logdet (20x20)
  METHOD    f64, or a case-insensitive part of one method's name in the results table,
            e.g. 'dualtape DualVec<f64, 10>', 'echidna DualVec<f64, 13>', 'num-dual DualSVec64'
  CALLS     make exactly CALLS calls after the checked first one (callgrind); without it,
            print the median time per call over about a second";

/// The workload a short name stands for.
pub fn workload(key: &str) -> Result<Workload, String> {
    if let Some(n) = key.strip_prefix("ros") {
        let n: usize = n
            .parse()
            .map_err(|_| format!("`{key}`: write the size after `ros`, e.g. ros10"))?;
        if n < 2 || !n.is_multiple_of(2) {
            return Err(format!("`{key}`: Rosenbrock takes an even n >= 2"));
        }
        return Ok(Workload::rosenbrock(n));
    }
    Ok(match key {
        "net" => Workload::net231(1000),
        "na" => Workload::net231_nalgebra(1000),
        "mlp" => Workload::mlp(1000),
        "logdet" => Workload::logdet(workloads::LOGDET_M),
        _ => return Err(format!("unknown workload `{key}`\n{USAGE}")),
    })
}

/// Runs the profile subcommand on its arguments (after `profile`).
pub fn run(args: &[String]) -> Result<(), String> {
    let (key, pattern) = match args {
        [w, m] | [w, m, _] => (w, m.to_lowercase()),
        _ => return Err(USAGE.into()),
    };
    let calls: Option<u64> = match args.get(2) {
        Some(c) => Some(
            c.parse()
                .map_err(|_| format!("CALLS must be a whole number, got `{c}`"))?,
        ),
        None => None,
    };
    let w = workload(key)?;
    let x = w.point();
    let n = w.dim();
    let mut g = vec![0.0; n];

    let (name, mut call): (String, harness::GradFn) = if pattern == "f64" {
        let w = w.clone();
        ("f64 evaluation".into(), Box::new(move |x, _| w.eval(x)))
    } else {
        // Only the crate the pattern names, where it names one: the others'
        // methods are not built (echidna's replay records a tape, etc.).
        let all_peers = peers::all();
        let crate_of = |p: &dyn harness::Peer| {
            let name = p.name().to_lowercase();
            name.split(' ').next().unwrap_or("").to_string()
        };
        let named: Vec<_> = all_peers
            .iter()
            .filter(|p| pattern.starts_with(&format!("{} ", crate_of(p.as_ref()))))
            .collect();
        let searched = if named.is_empty() {
            all_peers.iter().collect()
        } else {
            named
        };
        let mut found = Vec::new();
        for peer in searched {
            for m in peer.methods(&w) {
                if m.name.to_lowercase().contains(&pattern) {
                    found.push(m);
                }
            }
        }
        // An exact name wins over names that merely contain it.
        if let Some(i) = found.iter().position(|m| m.name.to_lowercase() == pattern) {
            found = vec![found.swap_remove(i)];
        }
        let names = |ms: &[harness::Method]| {
            ms.iter()
                .map(|m| format!("  {}", m.name))
                .collect::<Vec<_>>()
                .join("\n")
        };
        if found.len() != 1 {
            let all: Vec<harness::Method> =
                peers::all().iter().flat_map(|p| p.methods(&w)).collect();
            return Err(format!(
                "`{pattern}` matches {} methods of {}; the methods are:\n{}",
                found.len(),
                w.name(),
                names(&all)
            ));
        }
        let m = found.pop().unwrap();
        match m.plan {
            Plan::Run(f) => {
                let first = m.first_partials.unwrap_or(n);
                let (want_value, want) = w.analytic(&x);
                let mut f = f;
                let value = f(&x, &mut g);
                let err = harness::rel_err(&g[..first], &want[..first]);
                eprintln!(
                    "{}: value {value:e} (hand-written {want_value:e}), partials 0..{first}: \
                     relative error {err:.1e} against the hand-written gradient",
                    m.name
                );
                (m.name, f)
            }
            Plan::Skip(r) | Plan::Cannot(r) => {
                return Err(format!("{} is not run on {}: {r}", m.name, w.name()))
            }
        }
    };

    match calls {
        Some(c) => {
            for _ in 0..c {
                black_box(call(black_box(&x), black_box(&mut g)));
            }
            println!("{}, {name}: {c} calls", w.name());
        }
        None => {
            let mut once = || {
                black_box(call(black_box(&x), black_box(&mut g)));
            };
            let (iters, _) = harness::calibrate(&mut once, Duration::from_millis(20));
            let mut per = Vec::new();
            let start = Instant::now();
            while start.elapsed() < Duration::from_secs(1) || per.len() < 5 {
                let t = harness::time_calls(&mut once, iters);
                per.push(t.as_secs_f64() / iters as f64);
            }
            println!(
                "{}, {name}: median {} per call ({} samples of {iters} calls)",
                w.name(),
                crate::report::format_time(harness::median(&mut per)),
                per.len()
            );
        }
    }
    Ok(())
}
