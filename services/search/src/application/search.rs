//! Answering a search, a page at a time.

use std::sync::Arc;

use kernel::{InfraError, TripId};
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::domain::{DepartureKey, PageToken, SearchRepository, SearchRequest, TripDocument};

/// One page of results.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Page {
    /// The trips, by departure date, then trip id.
    pub trips: Vec<TripDocument>,
    /// Pass it as `page_token`, with the same search, for the next page; absent on the last.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_page_token: Option<String>,
}

/// Searches the search table.
#[derive(Clone)]
pub struct SearchService {
    repository: Arc<dyn SearchRepository>,
}

impl SearchService {
    /// Searches `repository`.
    pub fn new(repository: Arc<dyn SearchRepository>) -> Self {
        Self { repository }
    }

    /// The page of `request`: reads the index partitions of its range in order until the page
    /// is full, asking for one document more than the page holds, so that a next page token is
    /// given exactly when more trips follow.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn search(&self, request: &SearchRequest) -> Result<Page, InfraError> {
        let query = &request.query;
        let limit = usize::from(query.limit);
        let (first, last) = (query.first_key(), query.last_key());
        let resume = request.after.map(|after| after.to_string());
        let mut trips = Vec::with_capacity(limit + 1);
        'buckets: for (n, bucket) in query.buckets(request.after.as_ref()).iter().enumerate() {
            let mut after = if n == 0 { resume.clone() } else { None };
            loop {
                let page = self
                    .repository
                    .query(
                        bucket,
                        &first,
                        &last,
                        after.as_deref(),
                        limit + 1 - trips.len(),
                    )
                    .await?;
                trips.extend(page.documents);
                if trips.len() > limit {
                    break 'buckets;
                }
                match page.last_key {
                    Some(key) => after = Some(key),
                    None => break,
                }
            }
        }
        let next_page_token = if trips.len() > limit {
            trips.truncate(limit);
            let last = trips.last().and_then(|t| {
                Some(DepartureKey {
                    date: t.departure_date()?,
                    trip_id: t.trip_id,
                })
            });
            last.map(|key| PageToken::encode(query, &key))
        } else {
            None
        };
        Ok(Page {
            trips,
            next_page_token,
        })
    }

    /// The document of one trip.
    ///
    /// # Errors
    /// When the store fails.
    pub async fn get(&self, trip_id: TripId) -> Result<Option<TripDocument>, InfraError> {
        self.repository.get(trip_id).await
    }
}
