//! The notebook's network in plain f64, as the reference: its data sets
//! ([`data`]) and its hand-derived forward and backward pass ([`notebook`]).
//!
//! The network code written once over dualtape's `Scalar` types comes later
//! and is checked against [`notebook`]; it uses the same flat parameter order.

pub mod data;
pub mod notebook;
