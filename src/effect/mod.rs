//! From observations to effect estimates, intervals, p-values and verdicts. No I/O.

mod types;

pub use types::*;
