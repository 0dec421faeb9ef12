//! Leaderboards: suites × models from run bundles, as a static site with tie groups, figures
//! and exports, and the comparison of two models that the tie groups are built on.

mod board;
pub mod compare;
pub mod every_eval_ever;
mod export;
mod site;
mod spec;
mod svg;

pub use board::{Board, BoardCell, Column, Row, Run, build, page_name};
pub use export::{csv, markdown};
pub use site::{SHOWN_SAMPLES, write};
pub use spec::Spec;
