//! The use cases: keep the search table in step with the stream, re-drive what it set aside,
//! and search it.

mod project;
mod replay;
mod search;

pub use project::{BatchOutcome, Projected, Projector, Unprojectable, projection};
pub use replay::{Kept, Replay, ReplayReport, VISIBILITY_SECONDS};
pub use search::{Page, SearchService};
