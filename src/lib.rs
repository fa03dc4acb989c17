//! dualtape: automatic differentiation written once.
