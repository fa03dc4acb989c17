//! Runs one method on one workload in a loop, for a profiler:
//!
//! ```text
//! cargo build --release --example profile
//! perf record -e cpu-clock -g target/release/examples/profile reverse rosenbrock 1000 3
//! valgrind --tool=callgrind target/release/examples/profile reverse notebook 1000 0 20
//! ```
//!
//! Arguments: METHOD WORKLOAD SIZE SECONDS [CALLS]: METHOD is one of f64,
//! hand, reverse, replay (a recorded program's gradient: compiled where the
//! `jit` feature compiles it), interp (the same, always interpreted), jit
//! (the same, compiled whatever its size), hvp (its
//! Hessian-vector product: compiled where the `jit` feature compiles it),
//! hvp-interp (the same, always interpreted), hvp-jit (compiled whatever
//! its size), record (`reverse::record`: recording, optimising
//! and compiling a program), dual, dv4, dv8, dv16, fd; WORKLOAD one of rosenbrock (SIZE =
//! n), notebook, nalgebra, mlp (SIZE = points), logdet (SIZE = matrix order).
//! With CALLS given, runs exactly that many calls (for callgrind) instead of
//! SECONDS of them. Prints the calls made and the time per call.

#[path = "../benches/common/mod.rs"]
mod common;

use std::hint::black_box;
use std::time::Instant;

use common::*;

fn drive<W: Workload>(w: &W, method: &str, seconds: f64, calls: Option<u64>) {
    let x = w.x0().to_vec();
    let mut g = vec![0.0; x.len()];
    let mut program = dualtape::reverse::record(|v: &[dualtape::Var]| w.eval(v), &x);
    match method {
        "interp" | "hvp-interp" => program.set_jit(dualtape::reverse::program::Jit::Off),
        "jit" | "hvp-jit" => program.set_jit(dualtape::reverse::program::Jit::Now),
        _ => &mut program,
    };
    let program = program;
    let mut ws = program.workspace();
    let mut hws = dualtape::reverse::Workspace::default();
    let (mut hg, mut hv) = (vec![0.0; x.len()], vec![0.0; x.len()]);
    let dir = vec![1.0; x.len()];
    let mut call = || match method {
        "replay" | "interp" | "jit" => {
            black_box(
                program
                    .gradient_into(&mut ws, black_box(&x), &mut g)
                    .unwrap(),
            );
        }
        "hvp" | "hvp-interp" | "hvp-jit" => {
            black_box(
                program
                    .hvp_into(&mut hws, black_box(&x), &dir, &mut hg, &mut hv)
                    .unwrap(),
            );
        }
        "record" => {
            black_box(dualtape::reverse::record(
                |v: &[dualtape::Var]| w.eval(v),
                black_box(&x),
            ));
        }
        "f64" => {
            black_box(eval_f64(w, black_box(&x)));
        }
        "hand" => {
            black_box(analytic(w, black_box(&x), &mut g));
        }
        "reverse" => {
            black_box(reverse_into(w, black_box(&x), &mut g));
        }
        "dual" => {
            black_box(dual_passes(w, black_box(&x), &mut g));
        }
        "dv4" => {
            black_box(dualvec::<W, 4>(w, black_box(&x)));
        }
        "dv8" => {
            black_box(dualvec::<W, 8>(w, black_box(&x)));
        }
        "dv16" => {
            black_box(dualvec::<W, 16>(w, black_box(&x)));
        }
        "fd" => {
            black_box(central_fd(w, black_box(&x)));
        }
        other => panic!(
            "unknown method {other}: f64, hand, reverse, replay, interp, jit, hvp, hvp-interp, \
             hvp-jit, record, dual, dv4, dv8, dv16, fd"
        ),
    };
    // warm: grows the tape; a replay's program is compiled at its
    // `tier`-th gradient (HVP) where it is small enough
    // (feature `jit`)
    let len = program.instructions().len();
    let tier = match method {
        "replay" | "hvp" => dualtape::reverse::program::tier(len),
        _ => None,
    };
    let warm = tier.map_or(1, |t| t as usize + 1);
    for _ in 0..warm {
        call();
    }
    let start = Instant::now();
    let mut n = 0u64;
    match calls {
        Some(c) => {
            for _ in 0..c {
                call();
            }
            n = c;
        }
        None => {
            while start.elapsed().as_secs_f64() < seconds {
                call();
                n += 1;
            }
        }
    }
    let per = start.elapsed().as_secs_f64() / n.max(1) as f64;
    println!(
        "{} / {method}: {n} calls, {:.3} µs per call",
        w.name(),
        per * 1e6
    );
}

/// The positional arguments, by `lexopt`.
fn parse_args() -> Result<(String, String, usize, f64, Option<u64>), lexopt::Error> {
    use lexopt::prelude::*;
    let mut parser = lexopt::Parser::from_env();
    let mut words = Vec::new();
    while let Some(arg) = parser.next()? {
        match arg {
            Value(v) => words.push(v.string()?),
            _ => return Err(arg.unexpected()),
        }
    }
    if !(4..=5).contains(&words.len()) {
        return Err("expected METHOD WORKLOAD SIZE SECONDS [CALLS]".into());
    }
    let number = |i: usize, what: &str| -> Result<f64, lexopt::Error> {
        words[i]
            .parse()
            .map_err(|e| format!("{what} {:?}: {e}", words[i]).into())
    };
    Ok((
        words[0].clone(),
        words[1].clone(),
        number(2, "SIZE")? as usize,
        number(3, "SECONDS")?,
        words
            .get(4)
            .map(|_| number(4, "CALLS"))
            .transpose()?
            .map(|c| c as u64),
    ))
}

fn main() {
    let (m, workload, size, seconds, calls) = parse_args().unwrap_or_else(|e| {
        eprintln!("{e}\nusage: profile METHOD WORKLOAD SIZE SECONDS [CALLS]");
        std::process::exit(2);
    });
    let m = m.as_str();
    match workload.as_str() {
        "rosenbrock" => drive(&Rosenbrock::new(size), m, seconds, calls),
        "notebook" => drive(&Notebook::new(size), m, seconds, calls),
        "nalgebra" => drive(&NotebookNalgebra::new(size), m, seconds, calls),
        "mlp" => drive(&Mlp::new(size), m, seconds, calls),
        "logdet" => drive(&LogDet::new(size), m, seconds, calls),
        other => panic!("unknown workload {other}: rosenbrock, notebook, nalgebra, mlp, logdet"),
    }
}
