//! The two use cases: keep the search table in step with the stream, and search it.

mod project;
mod search;

pub use project::{BatchOutcome, Projector, projection};
pub use search::{Page, SearchService};
