//! The search side's model: the trip document, what a change record does to it, the query and
//! its page token, and the ports. No AWS types here but the change record, which is the stream's
//! published form.

mod dead_letter;
mod document;
mod query;
mod repository;

pub use dead_letter::{
    BatchLocation, DeadLetter, DeadLetterQueue, DeadLetters, Letter, Received, StreamArchive,
};
pub use document::{FlightSummary, Projection, StaySummary, Stored, TripDocument};
pub(crate) use query::PageToken;
pub use query::{
    DEFAULT_LIMIT, DepartureKey, InvalidParameter, MAX_LIMIT, MAX_RANGE_DAYS, PARAMETERS,
    SearchQuery, SearchRequest, bucket,
};
pub use repository::{Applied, BucketPage, SearchRepository};
