//! What the test modules share: one seeded quickcheck, one allocation
//! counter, and the helpers of the forward-mode and reverse-mode tests.
//!
//! Every expected value in the suite comes from a closed form written in a
//! test, from `f64`'s own functions, or from finite differences of plain
//! `f64` code, never from the code under test.

pub mod alloc;
pub mod binary;
pub mod compare;
pub mod elementary;
pub mod forward;
pub mod reverse;

use quickcheck::{Gen, QuickCheck};

/// quickcheck from a fixed seed: the same cases on every run, so CI is
/// reproducible and a failure can be replayed.
pub fn seeded() -> QuickCheck {
    seeded_with(0x00d0_a17a_9e5e)
}

/// quickcheck from `seed`, unless the environment variable
/// `DUALTAPE_RANDOM_SEED` says otherwise: a `u64` seed, or `random` for
/// fresh cases on every run.
pub fn seeded_with(seed: u64) -> QuickCheck {
    let gen = match std::env::var("DUALTAPE_RANDOM_SEED").ok().as_deref() {
        Some("random") => Gen::new(100),
        Some(s) => Gen::from_size_and_seed(
            100,
            s.parse().expect("DUALTAPE_RANDOM_SEED: a u64 or `random`"),
        ),
        None => Gen::from_size_and_seed(100, seed),
    };
    QuickCheck::new().rng(gen)
}
