//! One module per compared crate; each implements `Peer`. To add a crate,
//! add a module here and a line in `all()`.

pub mod ad_trait;
pub mod autodiff;
pub mod baseline;
pub mod dualtape;
pub mod echidna;
pub mod num_dual;
pub mod reverse;
#[cfg(feature = "xad")]
pub mod xad;

use crate::harness::Peer;

/// The crates compared, in the order their methods appear in the table.
/// dualtape comes right after the hand-written baselines: its reverse
/// gradient, once checked against the hand-written one, is the reference
/// for every method after it.
pub fn all() -> Vec<Box<dyn Peer>> {
    vec![
        Box::new(baseline::Baseline),
        Box::new(dualtape::Dualtape),
        Box::new(num_dual::NumDual),
        Box::new(ad_trait::AdTrait),
        Box::new(autodiff::Autodiff),
        Box::new(reverse::Reverse),
        Box::new(echidna::Echidna),
        #[cfg(feature = "xad")]
        Box::new(xad::Xad),
    ]
}
