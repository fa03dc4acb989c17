//! Misuse of reverse mode is caught with a panic that says what happened and
//! what to do, never a silent wrong gradient; and gradients on several
//! threads at once do not interfere.

use crate::support::reverse as common_rev;

use std::cell::Cell;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{mpsc, Barrier};
use std::thread;

use common_rev::{leak_a_var, message_of, panic_message};
use dualtape::{reverse, Dual, Scalar, Var};

// ------------------------------------------------------------------ a Var from an ended recording

#[test]
#[should_panic(expected = "which has already ended on this thread")]
fn ended_var_in_a_new_gradient_panics() {
    let stale = leak_a_var(1.0);
    reverse::gradient(|x| x[0] * stale, &[2.0]);
}

#[test]
#[should_panic(expected = "which has already ended on this thread")]
fn ended_var_returned_from_a_new_gradient_panics() {
    let stale = leak_a_var(1.0);
    reverse::gradient(|_| stale, &[2.0]);
}

#[test]
#[should_panic(expected = "no recording is active on this thread")]
fn ended_var_used_outside_any_recording_panics() {
    let stale = leak_a_var(1.0);
    let _ = stale.sin();
}

#[test]
#[should_panic(expected = "which has already ended on this thread")]
fn ended_var_with_a_constant_panics() {
    // Even an operation whose partial is 0 (so it records nothing that a
    // sweep would follow) checks its operand.
    let stale = leak_a_var(1.0);
    reverse::gradient(|x| stale * 0.0 + x[0], &[2.0]);
}

#[test]
#[should_panic(expected = "which has already ended on this thread")]
fn ended_var_in_vjp_output_panics() {
    let stale = leak_a_var(1.0);
    reverse::vjp(|x| vec![x[0], stale], &[2.0], &[1.0, 1.0]);
}

#[test]
#[should_panic(expected = "which has already ended on this thread")]
fn ended_var_in_jacobian_output_panics() {
    let stale = leak_a_var(1.0);
    reverse::jacobian(|x| vec![x[0], stale], &[2.0]);
}

#[test]
fn ended_var_message_says_what_happened_and_what_to_do() {
    let stale = leak_a_var(1.0);
    let msg = message_of(|| {
        reverse::gradient(|x| x[0] + stale, &[2.0]);
    });
    for part in [
        "a Var was used outside the recording that made it",
        "which has already ended on this thread",
        "the active recording on this thread is #",
        // what to do
        "Do not keep Vars after the closure returns",
        "keep plain f64 values (Var::value)",
    ] {
        assert!(msg.contains(part), "message lacks {part:?}: {msg}");
    }
}

#[test]
fn a_var_from_the_same_recording_index_but_an_earlier_recording_is_caught() {
    // The stale Var has node index 1, which is also the index of the new
    // recording's first input: only the recording id tells them apart.
    let stale = leak_a_var(1.0);
    assert_eq!(stale.index(), 1);
    let msg = message_of(|| {
        reverse::gradient(|x| x[0] * stale, &[5.0]);
    });
    assert!(msg.contains("already ended"), "{msg}");
}

#[test]
fn a_stale_var_long_ago_is_still_caught() {
    // After many recordings the thread no longer remembers the stale one as
    // its own: the message hedges, but it still panics.
    let stale = leak_a_var(1.0);
    for k in 0..20 {
        let (_, g) = reverse::gradient(|x| x[0] * x[0], &[k as f64]);
        assert_eq!(g, vec![2.0 * k as f64]);
    }
    let msg = message_of(|| {
        reverse::gradient(|x| x[0] * stale, &[5.0]);
    });
    assert!(
        msg.contains("a Var was used outside the recording that made it"),
        "{msg}"
    );
    assert!(msg.contains("or ended long ago"), "{msg}");
}

#[test]
#[should_panic(expected = "which has already ended on this thread")]
fn a_var_cached_across_the_recordings_of_a_hessian_panics() {
    // reverse::hessian records f once per input; a Var memoised in the first
    // recording is stale in the second.
    let cache: Cell<Option<Dual<Var>>> = Cell::new(None);
    reverse::hessian(
        |x: &[Dual<Var>]| {
            let c = match cache.get() {
                Some(c) => c,
                None => {
                    let c = x[0] * x[1];
                    cache.set(Some(c));
                    c
                }
            };
            c * x[0]
        },
        &[1.0, 2.0],
    );
}

#[test]
fn the_value_of_a_stale_var_is_still_readable() {
    // Reading a value is not a gradient: it is allowed and correct.
    let stale = leak_a_var(1.5);
    assert_eq!(stale.value(), 1.5);
    let (v, g) = reverse::gradient(|x| x[0] * stale.value(), &[2.0]);
    assert_eq!((v, g), (3.0, vec![1.5]));
}

// ------------------------------------------------------------------ a Var from another thread

#[test]
#[should_panic(expected = "which belongs to another thread")]
fn var_from_another_threads_active_recording_panics() {
    // Thread A records and, while its recording is active, hands a Var to
    // this thread, which uses it in its own gradient.
    let (to_main, from_a) = mpsc::channel::<Var>();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    thread::scope(|s| {
        s.spawn(move || {
            reverse::gradient(
                |x| {
                    to_main.send(x[0]).unwrap();
                    // Keep the recording alive until the main thread is done
                    // (or has panicked and dropped the sender).
                    let _ = done_rx.recv();
                    x[0] * 2.0
                },
                &[1.0],
            )
        });
        let foreign = from_a.recv().unwrap();
        let _done = done_tx; // dropped when this closure ends or unwinds
        reverse::gradient(|x| x[0] * foreign, &[3.0]);
    });
}

#[test]
#[should_panic(expected = "which belongs to another thread")]
fn var_from_a_finished_thread_panics() {
    let foreign = thread::spawn(|| leak_a_var(1.0)).join().unwrap();
    reverse::gradient(|x| x[0] + foreign, &[3.0]);
}

#[test]
fn foreign_var_message_says_what_to_do() {
    let foreign = thread::spawn(|| leak_a_var(1.0)).join().unwrap();
    let msg = message_of(|| {
        reverse::gradient(|x| x[0] + foreign, &[3.0]);
    });
    for part in [
        "a Var was used outside the recording that made it",
        "belongs to another thread",
        "on that thread",
        "send them to other threads",
    ] {
        assert!(msg.contains(part), "message lacks {part:?}: {msg}");
    }
}

// ------------------------------------------------------------------ nested recordings

#[test]
#[should_panic(
    expected = "reverse::gradient was called while another reverse-mode recording is active on this thread"
)]
fn gradient_inside_gradient_panics() {
    reverse::gradient(
        |x| {
            let (_, inner) = reverse::gradient(|y| y[0] * y[0], &[x[0].value()]);
            x[0] * inner[0]
        },
        &[1.0],
    );
}

#[test]
#[should_panic(
    expected = "reverse::jacobian was called while another reverse-mode recording is active"
)]
fn jacobian_inside_gradient_panics() {
    reverse::gradient(
        |x| {
            reverse::jacobian(|y| vec![y[0]], &[1.0]);
            x[0]
        },
        &[1.0],
    );
}

#[test]
#[should_panic(expected = "reverse::vjp was called while another reverse-mode recording is active")]
fn vjp_inside_jacobian_panics() {
    reverse::jacobian(
        |x| {
            reverse::vjp(|y| vec![y[0]], &[1.0], &[1.0]);
            vec![x[0]]
        },
        &[1.0],
    );
}

fn square<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0] * x[0]
}

#[test]
#[should_panic(expected = "reverse::hvp was called while another reverse-mode recording is active")]
fn hvp_inside_gradient_panics() {
    reverse::gradient(
        |x| {
            reverse::hvp(square, &[1.0], &[1.0]);
            x[0]
        },
        &[1.0],
    );
}

#[test]
#[should_panic(
    expected = "reverse::gradient was called while another reverse-mode recording is active"
)]
fn gradient_inside_hessian_panics() {
    reverse::hessian(
        |x: &[Dual<Var>]| {
            reverse::gradient(square, &[1.0]);
            x[0] * x[0]
        },
        &[1.0],
    );
}

#[test]
fn nested_message_says_what_to_do() {
    let msg = message_of(|| {
        reverse::gradient(
            |x| {
                reverse::gradient(square, &[1.0]);
                x[0]
            },
            &[1.0],
        );
    });
    for part in [
        "Reverse mode does not nest",
        "the inner call would overwrite the outer tape",
        "use forward over reverse (reverse::hvp, reverse::hessian with Dual<Var>)",
        "finish the outer gradient first and pass plain f64 values into the inner one",
    ] {
        assert!(msg.contains(part), "message lacks {part:?}: {msg}");
    }
}

// ------------------------------------------------------------------ recovery after a panic

fn cube_plus<S: Scalar<Real = f64>>(x: &[S]) -> S {
    x[0] * x[0] * x[0] + x[1].sin()
}

/// After a caught misuse panic, the next gradient on the same thread is
/// correct (the panicked recording was ended while unwinding).
#[test]
fn the_tape_recovers_after_a_caught_panic() {
    let want = |a: f64, b: f64| vec![3.0 * a * a, b.cos()];
    // a panic in the user's closure
    let r = catch_unwind(|| reverse::gradient(|_| panic!("user code failed"), &[1.0]));
    assert!(r.is_err());
    assert_eq!(reverse::gradient(cube_plus, &[2.0, 0.5]).1, want(2.0, 0.5));
    // a nested gradient
    let r = catch_unwind(|| {
        reverse::gradient(
            |x| {
                reverse::gradient(square, &[1.0]);
                x[0]
            },
            &[1.0],
        )
    });
    assert!(r.is_err());
    assert_eq!(
        reverse::gradient(cube_plus, &[-1.0, 2.0]).1,
        want(-1.0, 2.0)
    );
    // a stale Var
    let stale = leak_a_var(3.0);
    let r = catch_unwind(|| reverse::gradient(|x| x[0] * stale, &[1.0]));
    assert!(r.is_err());
    assert_eq!(reverse::gradient(cube_plus, &[0.5, 1.0]).1, want(0.5, 1.0));
}

#[test]
fn a_leaked_var_from_a_panicked_recording_is_stale() {
    let leaked = Cell::new(None);
    let r = catch_unwind(AssertUnwindSafe(|| {
        reverse::gradient(
            |x| {
                leaked.set(Some(x[0]));
                panic!("user code failed")
            },
            &[1.0],
        )
    }));
    assert!(r.is_err());
    let stale = leaked.get().unwrap();
    let msg = message_of(|| {
        reverse::gradient(|x| x[0] * stale, &[1.0]);
    });
    assert!(msg.contains("already ended"), "{msg}");
}

#[test]
fn catching_a_nested_panic_inside_leaves_the_outer_gradient_correct() {
    // The inner call panics before touching the tape, so the outer
    // recording goes on undisturbed.
    let (v, g) = reverse::gradient(
        |x| {
            let y = x[0] * x[1];
            let r = catch_unwind(|| reverse::gradient(square, &[1.0]));
            assert!(r.is_err());
            y * x[0]
        },
        &[3.0, 2.0],
    );
    // f = x0² x1: ∇f = (2 x0 x1, x0²)
    assert_eq!(v, 18.0);
    assert_eq!(g, vec![12.0, 9.0]);
}

// ------------------------------------------------------------------ several threads at once

/// A function of n inputs with a known gradient:
/// f = Σ_i (k + 1) x_i² + sin(x_0 x_{n-1}),
/// ∂f/∂x_i = 2 (k + 1) x_i + [i = 0] x_{n-1} cos(x_0 x_{n-1}) + [i = n-1] x_0 cos(x_0 x_{n-1}).
fn family(k: usize, x: &[Var]) -> Var {
    let n = x.len();
    let mut s = (x[0] * x[n - 1]).sin();
    for &xi in x {
        s += xi * xi * (k + 1) as f64;
    }
    s
}

fn family_grad(k: usize, x: &[f64]) -> Vec<f64> {
    let n = x.len();
    let c = (x[0] * x[n - 1]).cos();
    let mut g: Vec<f64> = x.iter().map(|&xi| 2.0 * (k + 1) as f64 * xi).collect();
    g[0] += x[n - 1] * c;
    g[n - 1] += x[0] * c;
    g
}

#[test]
fn gradients_on_several_threads_at_once_do_not_interfere() {
    const THREADS: usize = 4;
    const ROUNDS: usize = 200;
    let start = Barrier::new(THREADS);
    thread::scope(|s| {
        for k in 0..THREADS {
            let start = &start;
            s.spawn(move || {
                start.wait();
                for r in 0..ROUNDS {
                    // different sizes and points on every thread and round,
                    // so that tapes of different lengths interleave
                    let n = 2 + (k * 7 + r) % 40;
                    let x: Vec<f64> = (0..n)
                        .map(|i| ((i + 1) as f64 * 0.37 + k as f64 - r as f64 * 0.01).sin())
                        .collect();
                    let (v, g) = reverse::gradient(|v| family(k, v), &x);
                    let want_v = x.iter().map(|xi| (k + 1) as f64 * xi * xi).sum::<f64>()
                        + (x[0] * x[n - 1]).sin();
                    assert!((v - want_v).abs() <= 1e-12 * want_v.abs().max(1.0));
                    for (i, (gi, wi)) in g.iter().zip(family_grad(k, &x)).enumerate() {
                        assert!(
                            (gi - wi).abs() <= 1e-12 * wi.abs().max(1.0),
                            "thread {k}, round {r}, ∂{i}: {gi} vs {wi}"
                        );
                    }
                    // the tape stats are this thread's own
                    assert_eq!(reverse::tape_stats().nodes, family_nodes(k, &x));
                }
            });
        }
    });
}

/// Nodes `family` records at x: sentinel, n inputs, mul and sin, then per
/// input x·x (1), ·(k+1) (1) and += (1). Only an operation that is the
/// identity at every point (·1, for k = 0) records nothing; sin is recorded
/// even where it returns its argument to the bit (see `Var`'s docs).
fn family_nodes(k: usize, x: &[f64]) -> usize {
    let n = x.len();
    let scale = usize::from(k != 0);
    1 + n + 1 + 1 + (2 + scale) * n
}

#[test]
fn a_var_sent_between_running_gradients_on_two_threads_is_caught_on_both_sides() {
    // Two threads each in their own recording swap a Var; each one's use of
    // the other's Var panics, and each thread's own gradient is unaffected.
    let barrier = Barrier::new(2);
    let (tx_a, rx_a) = mpsc::channel::<Var>();
    let (tx_b, rx_b) = mpsc::channel::<Var>();
    thread::scope(|s| {
        let run = |me: mpsc::Sender<Var>, other: mpsc::Receiver<Var>, x0: f64| {
            let barrier = &barrier;
            move || {
                let (v, g) = reverse::gradient(
                    |x| {
                        me.send(x[0]).unwrap();
                        let theirs = other.recv().unwrap();
                        let r = catch_unwind(AssertUnwindSafe(|| x[0] * theirs));
                        let msg = panic_message(&*r.expect_err("foreign Var not caught"));
                        assert!(msg.contains("belongs to another thread"), "{msg}");
                        barrier.wait(); // neither recording ends before both checked
                        x[0] * x[0] * 3.0
                    },
                    &[x0],
                );
                assert_eq!((v, g), (3.0 * x0 * x0, vec![6.0 * x0]));
            }
        };
        s.spawn(run(tx_a, rx_b, 2.0));
        s.spawn(run(tx_b, rx_a, -1.0));
    });
}

// ------------------------------------------------------------------ Var's auto traits

/// `Var` is `Send + Sync + Copy + 'static` (checked at compile time): it can
/// live in nalgebra matrices and cross threads, where misuse is caught at
/// run time instead.
const _: () = {
    const fn assert_traits<T: Send + Sync + Copy + 'static>() {}
    assert_traits::<Var>();
    assert_traits::<Dual<Var>>();
};
