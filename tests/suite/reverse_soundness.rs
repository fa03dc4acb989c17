//! The tape stays sound and says what to do at its limits: panic hooks that
//! call back into dualtape during its own panics, a full tape (with the
//! node limit lowered for this thread), releasing the tape's storage, and
//! reverse mode from a thread-local destructor. Also run under Miri
//! (`scripts/miri.sh`), which checks that none of it is undefined behaviour.

use std::cell::{Cell, RefCell};
use std::panic::{self, catch_unwind, AssertUnwindSafe};
use std::sync::mpsc;
use std::sync::{Mutex, Once};
use std::thread;

use dualtape::reverse::{self, tape::set_node_limit};
use dualtape::Var;

use crate::support::reverse::{leak_a_var, message_of, panic_message};

/// `x0 * 1.5^k` recorded as `k` nodes (one per multiplication).
fn chain(x: &[Var], k: usize) -> Var {
    (0..k).fold(x[0], |a, _| a * 1.5)
}

// ------------------------------------------------------------------ panic hooks

type Hook = Box<dyn Fn() + 'static>;

thread_local! {
    /// What the panic hook does on this thread (other threads' panics go to
    /// the previous hook), and what it saw.
    static ON_PANIC: RefCell<Option<Hook>> = const { RefCell::new(None) };
    static HOOK_RAN: Cell<usize> = const { Cell::new(0) };
}

/// Installs (once per process) a panic hook that runs this thread's
/// `ON_PANIC` action, if any, and otherwise the previous hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = Mutex::new(panic::take_hook());
        panic::set_hook(Box::new(move |info| {
            let ran = ON_PANIC.with(|h| match &*h.borrow() {
                Some(action) => {
                    action();
                    true
                }
                None => false,
            });
            if ran {
                HOOK_RAN.with(|c| c.set(c.get() + 1));
            } else {
                (previous.lock().unwrap_or_else(|e| e.into_inner()))(info);
            }
        }));
    });
}

/// Runs `f`, which must panic, with `action` as this thread's panic hook;
/// returns the panic message and checks the hook ran once.
fn panics_with_hook(action: impl Fn() + 'static, f: impl FnOnce()) -> String {
    install_hook();
    ON_PANIC.with(|h| *h.borrow_mut() = Some(Box::new(action)));
    HOOK_RAN.with(|c| c.set(0));
    let p = catch_unwind(AssertUnwindSafe(f));
    ON_PANIC.with(|h| *h.borrow_mut() = None);
    assert_eq!(HOOK_RAN.with(|c| c.get()), 1, "the hook should run once");
    panic_message(&*p.expect_err("expected a panic"))
}

/// A gradient with a known answer, for hooks to compute: d/dx (x² sin x).
fn check_a_gradient() {
    let x = 0.7f64;
    let (v, g) = reverse::gradient(|x| x[0] * x[0] * x[0].sin(), &[x]);
    assert_eq!(v, x * x * x.sin());
    let exact = 2.0 * x * x.sin() + x * x * x.cos();
    assert!((g[0] - exact).abs() <= 1e-15, "{} vs {exact}", g[0]);
}

#[test]
fn a_hook_may_record_a_gradient_during_a_misuse_panic() {
    // No recording is active when the stale Var is used: the hook can run a
    // whole gradient while dualtape's panic is in flight.
    let stale = leak_a_var(1.0);
    let msg = panics_with_hook(
        || {
            let _ = reverse::tape_stats();
            check_a_gradient();
        },
        || {
            let _ = stale.sin();
        },
    );
    assert!(
        msg.contains("no recording is active on this thread"),
        "{msg}"
    );
    check_a_gradient();
}

#[test]
fn a_hook_may_read_the_tape_during_a_misuse_panic_inside_a_recording() {
    let stale = leak_a_var(1.0);
    let nodes = Cell::new(0);
    let seen = std::rc::Rc::new(Cell::new(0));
    let seen_in_hook = seen.clone();
    let msg = panics_with_hook(
        move || seen_in_hook.set(reverse::tape_stats().nodes),
        || {
            reverse::gradient(
                |x| {
                    let y = x[0] * x[1] + x[0].exp();
                    nodes.set(reverse::tape_stats().nodes);
                    y * stale
                },
                &[1.0, 2.0],
            );
        },
    );
    assert!(
        msg.contains("which has already ended on this thread"),
        "{msg}"
    );
    // The hook saw the active recording, untouched by the refused operation.
    assert_eq!(seen.get(), nodes.get());
    check_a_gradient();
}

#[test]
fn a_hook_may_read_the_tape_during_a_nested_recording_panic() {
    let msg = panics_with_hook(
        || {
            let _ = reverse::tape_stats();
        },
        || {
            reverse::gradient(
                |x| {
                    reverse::gradient(|y| y[0], &[1.0]);
                    x[0]
                },
                &[1.0],
            );
        },
    );
    assert!(msg.contains("Reverse mode does not nest"), "{msg}");
    check_a_gradient();
}

#[test]
fn a_hook_may_read_the_tape_during_a_tape_full_panic() {
    thread::spawn(|| {
        set_node_limit(100);
        let seen = std::rc::Rc::new(Cell::new(0));
        let seen_in_hook = seen.clone();
        let msg = panics_with_hook(
            move || seen_in_hook.set(reverse::tape_stats().nodes),
            || {
                reverse::gradient(|x| chain(x, 200), &[1.0]);
            },
        );
        assert!(
            msg.contains("the reverse-mode tape is full (100 nodes"),
            "{msg}"
        );
        assert_eq!(seen.get(), 100);
        // After the panic, the tape works again within the limit.
        check_a_gradient();
    })
    .join()
    .unwrap();
}

// ------------------------------------------------------------------ the node limit

#[test]
fn the_node_limit_is_exact() {
    thread::spawn(|| {
        set_node_limit(10);
        // sentinel + 1 input + 8 multiplications = 10 nodes: fits.
        let (v, g) = reverse::gradient(|x| chain(x, 8), &[2.0]);
        assert_eq!((v, g), (2.0 * 1.5f64.powi(8), vec![1.5f64.powi(8)]));
        assert_eq!(reverse::tape_stats().nodes, 10);
        // One more does not.
        let msg = message_of(|| {
            reverse::gradient(|x| chain(x, 9), &[2.0]);
        });
        assert!(
            msg.contains("tape is full (10 nodes, the limit set for this thread)"),
            "{msg}"
        );
        assert!(msg.contains("Split the computation"), "{msg}");
        // The inputs count against the limit too.
        let msg = message_of(|| {
            reverse::gradient(|x| x[0], &[1.0; 10]);
        });
        assert!(msg.contains("tape is full"), "{msg}");
    })
    .join()
    .unwrap();
}

#[test]
fn a_lower_limit_holds_below_the_capacity_already_allocated() {
    // The limit is checked on its own: the buffer's true capacity (kept for
    // freeing it) may exceed it.
    thread::spawn(|| {
        reverse::gradient(|x| chain(x, 5000), &[1.0]);
        let capacity = reverse::tape_stats().capacity_bytes;
        assert!(capacity >= 5002 * 24);
        set_node_limit(3000);
        let msg = message_of(|| {
            reverse::gradient(|x| chain(x, 4000), &[1.0]);
        });
        assert!(msg.contains("tape is full (3000 nodes"), "{msg}");
        let (_, g) = reverse::gradient(|x| chain(x, 2000), &[1.0]);
        assert_eq!(g, vec![1.5f64.powi(2000)]);
        set_node_limit(dualtape::reverse::tape::MAX_NODES);
        let (_, g) = reverse::gradient(|x| chain(x, 4000), &[1.0]);
        assert_eq!(g, vec![1.5f64.powi(4000)]);
        // Raising the limit again reused the buffer: nothing was allocated.
        assert_eq!(reverse::tape_stats().capacity_bytes, capacity);
    })
    .join()
    .unwrap();
}

#[test]
fn a_limit_between_growth_steps_is_reached_exactly() {
    // 3000 lies between the buffer's doublings (1024, 2048, 4096): growth
    // stops at the limit, and the thread's exit frees the buffer with its
    // true capacity (checked by Miri).
    thread::spawn(|| {
        set_node_limit(3000);
        let (_, g) = reverse::gradient(|x| chain(x, 2998), &[1.0]);
        assert_eq!(g, vec![1.5f64.powi(2998)]);
        assert_eq!(reverse::tape_stats().nodes, 3000);
        let msg = message_of(|| {
            reverse::gradient(|x| chain(x, 2999), &[1.0]);
        });
        assert!(msg.contains("tape is full (3000 nodes"), "{msg}");
    })
    .join()
    .unwrap();
}

#[test]
fn the_limit_cannot_change_during_a_recording() {
    let msg = message_of(|| {
        reverse::gradient(
            |x| {
                set_node_limit(10);
                x[0]
            },
            &[1.0],
        );
    });
    assert!(
        msg.contains("set_node_limit was called while a reverse-mode recording is active"),
        "{msg}"
    );
}

// ------------------------------------------------------------------ release_tape

#[test]
fn release_tape_frees_the_storage_and_the_tape_still_works() {
    thread::spawn(|| {
        reverse::gradient(|x| chain(x, 3000), &[1.0]);
        assert!(reverse::tape_stats().capacity_bytes >= 3002 * (24 + 8));
        reverse::release_tape();
        assert_eq!(reverse::tape_stats().capacity_bytes, 0);
        assert_eq!(reverse::tape_stats().nodes, 0);
        reverse::release_tape(); // twice is fine
        check_a_gradient();
        assert!(reverse::tape_stats().capacity_bytes > 0);
    })
    .join()
    .unwrap();
}

#[test]
fn release_tape_refuses_during_a_recording() {
    let msg = message_of(|| {
        reverse::gradient(
            |x| {
                reverse::release_tape();
                x[0]
            },
            &[1.0],
        );
    });
    assert!(
        msg.contains("reverse::release_tape was called while a reverse-mode recording is active"),
        "{msg}"
    );
    check_a_gradient();
}

// ------------------------------------------------------------------ thread-local destruction

/// On drop, computes a gradient and sends what happened: the gradient, or
/// the panic message.
struct GradientOnDrop(mpsc::Sender<Result<Vec<f64>, String>>);

impl Drop for GradientOnDrop {
    fn drop(&mut self) {
        let r = catch_unwind(|| reverse::gradient(|x| x[0] * x[0], &[3.0]).1)
            .map_err(|p| panic_message(&*p));
        let _ = self.0.send(r);
    }
}

thread_local! {
    static ON_EXIT: RefCell<Option<GradientOnDrop>> = const { RefCell::new(None) };
}

#[test]
fn reverse_mode_from_a_thread_local_destructor_works_or_says_why_not() {
    // Registered before and after dualtape's own thread-locals: whichever
    // order the platform destroys them in, the gradient is right or the
    // panic says what happened, and nothing leaks (Miri checks).
    for first in [true, false] {
        let (tx, rx) = mpsc::channel();
        thread::spawn(move || {
            if first {
                ON_EXIT.with(|d| *d.borrow_mut() = Some(GradientOnDrop(tx)));
                check_a_gradient();
            } else {
                check_a_gradient();
                ON_EXIT.with(|d| *d.borrow_mut() = Some(GradientOnDrop(tx)));
            }
        })
        .join()
        .unwrap();
        let got = rx.recv().unwrap();
        match got {
            Ok(g) => assert_eq!(g, vec![6.0]),
            Err(msg) => assert!(
                msg.contains("during thread-local destruction, after this thread's tape was freed"),
                "{msg}"
            ),
        }
    }
}

#[test]
fn reverse_mode_in_a_thread_that_first_uses_it_while_exiting() {
    let (tx, rx) = mpsc::channel();
    thread::spawn(move || {
        ON_EXIT.with(|d| *d.borrow_mut() = Some(GradientOnDrop(tx)));
    })
    .join()
    .unwrap();
    match rx.recv().unwrap() {
        Ok(g) => assert_eq!(g, vec![6.0]),
        Err(msg) => assert!(msg.contains("during thread-local destruction"), "{msg}"),
    }
}
