//! Reports of a suite run: text, markdown and HTML. Per probe cell and arm, rates with
//! intervals; per effect, estimate, interval, p, adjusted p and verdict.

mod html;
mod json;
mod markdown;
mod tables;
mod text;

pub use html::html;
pub use json::json;
pub use markdown::markdown;
pub use tables::{CellRate, cell_name, cell_rates, effect_table};
pub use text::text;

/// Report formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Text,
    Markdown,
    Html,
    Json,
}
