//! Trip search, the read side of the system (CQRS): the single table's stream keeps one
//! document per trip in the search table, and a query finds trips by status and departure date
//! without a scan.
//!
//! - [`domain`]: the document, what a change record does to it ([`domain::Projection`], and the
//!   one ordering rule every store applies), the search and its page token, the ports.
//! - [`application`]: [`application::Projector`] (a batch of change records in, the batch item
//!   failures out, poison records to the dead-letter queue), [`application::Replay`] (the
//!   dead-letter queue re-driven once the cause is fixed) and [`application::SearchService`].
//! - [`infrastructure`]: the search table in DynamoDB ([`infrastructure::SEARCH_TABLE`] is its
//!   definition, which `infra/` reads from `generated/`) and in memory; the dead-letter queue
//!   on SQS and in memory; the Streams API, read where no event source mapping reads it.
//!
//! The projector reads change records, wherever they come from: a Lambda invocation, the
//! Streams API of a DynamoDB-compatible server, or the in-memory store's feed:
//!
//! ```
//! use std::sync::Arc;
//!
//! use kernel::dynamo::IdempotencyKey;
//! use kernel::stream::ChangeFeed;
//! use search::application::{Projector, SearchService};
//! use search::domain::SearchRequest;
//! use search::infrastructure::{InMemoryDeadLetters, InMemorySearchRepository};
//! use trip::application::TripService;
//! use trip::infrastructure::InMemoryTripRepository;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! // A trip is booked on the in-memory store, which publishes its stream.
//! let feed = ChangeFeed::new("trips");
//! let trips = TripService::new(Arc::new(InMemoryTripRepository::streaming_to(feed.clone())));
//! let request = serde_json::from_value(serde_json::json!({
//!     "trip_id": "0192f0c4-9c7e-7d3a-8f51-2f4b1c9e3a10",
//!     "flight": { "flight_number": "NH106", "date": "2026-12-01", "passengers": 2 },
//!     "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
//!     "payment": { "card": "tok_visa_4242" }
//! }))?;
//! trips.create(request, &IdempotencyKey::parse("trip-1:CreateTrip")?).await?;
//!
//! // The projector applies the stream to the search table …
//! let table = Arc::new(InMemorySearchRepository::new());
//! let projector = Projector::new(table.clone(), Arc::new(InMemoryDeadLetters::new()));
//! let outcome = projector.handle(&feed.read(None, 100)?).await;
//! assert_eq!((outcome.written, outcome.retry_from), (1, None));
//!
//! // … and the search finds the trip.
//! let search = SearchRequest::from_pairs([
//!     ("status", "PENDING"),
//!     ("departure_from", "2026-12-01"),
//!     ("departure_to", "2026-12-31"),
//! ])?;
//! let page = SearchService::new(table).search(&search).await?;
//! assert_eq!(page.trips.len(), 1);
//! assert_eq!(page.trips[0].flight.as_ref().unwrap().flight_number.to_string(), "NH106");
//! assert_eq!(page.next_page_token, None);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # })?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod application;
pub mod domain;
pub mod infrastructure;
