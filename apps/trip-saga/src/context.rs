//! What every function of the saga borrows, built once per Lambda instance (or per local run).

use std::sync::Arc;

use flight::{DynamoFlightRepository, FlightService, InMemoryFlightRepository};
use hotel::{DynamoHotelRepository, HotelService, InMemoryHotelRepository};
use payment::{DynamoLedger, InMemoryLedger, PaymentService};

use trip::application::TripService;
use trip::infrastructure::{DynamoTripRepository, InMemoryTripRepository};

/// The services the saga's steps call.
#[derive(Clone)]
pub struct TripContext {
    /// Trips.
    pub trips: TripService,
    /// Seats.
    pub flights: FlightService,
    /// Rooms.
    pub hotels: HotelService,
    /// Payments.
    pub payments: PaymentService,
}

/// The environment variable naming the single table.
pub const TABLE_NAME_VAR: &str = kernel::dynamo::table::TABLE.name_variable;

impl TripContext {
    /// Every service on its in-memory adapter: the embedded default store, nothing to install.
    pub fn in_memory() -> Self {
        Self {
            trips: TripService::new(Arc::new(InMemoryTripRepository::new())),
            flights: FlightService::new(Arc::new(InMemoryFlightRepository::new())),
            hotels: HotelService::new(Arc::new(InMemoryHotelRepository::new())),
            payments: PaymentService::new(Arc::new(InMemoryLedger::new())),
        }
    }

    /// As [`TripContext::in_memory`], with the trips publishing their items' changes to `stream`
    /// as DynamoDB Streams would: what the local search projection consumes.
    pub fn in_memory_streaming(stream: kernel::stream::ChangeFeed) -> Self {
        Self {
            trips: TripService::new(Arc::new(InMemoryTripRepository::streaming_to(stream))),
            ..Self::in_memory()
        }
    }

    /// Every service on its DynamoDB adapter, all in `table`.
    pub fn dynamodb(client: &aws_sdk_dynamodb::Client, table: &str) -> Self {
        Self {
            trips: TripService::new(Arc::new(DynamoTripRepository::new(client.clone(), table))),
            flights: FlightService::new(Arc::new(DynamoFlightRepository::new(
                client.clone(),
                table,
            ))),
            hotels: HotelService::new(Arc::new(DynamoHotelRepository::new(client.clone(), table))),
            payments: PaymentService::new(Arc::new(DynamoLedger::new(client.clone(), table))),
        }
    }

    /// What a Lambda function uses: DynamoDB with the configuration Lambda's environment gives
    /// ([`kernel::dynamo::lambda_sdk_config`]: region, credentials, an endpoint override) and
    /// the table named by `TABLE_NAME`.
    ///
    /// # Errors
    /// When `TABLE_NAME`, the region or the credentials are not set.
    pub fn from_env() -> Result<Self, String> {
        let table =
            std::env::var(TABLE_NAME_VAR).map_err(|_| format!("{TABLE_NAME_VAR} is not set"))?;
        let config = kernel::dynamo::lambda_sdk_config()?;
        Ok(Self::dynamodb(
            &aws_sdk_dynamodb::Client::new(&config),
            &table,
        ))
    }
}

/// The SDK configuration of code run by hand against AWS (`trip-local --aws-table`): aws-config's
/// default chain (profiles, SSO, IMDS…), the kernel's HTTP client. The Lambda functions take
/// [`kernel::dynamo::lambda_sdk_config`] instead, which reads only what Lambda sets and builds no
/// fallback provider (a quarter of their init, `docs/benchmarks.md`).
pub async fn environment_sdk_config() -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(kernel::dynamo::https_client())
        .load()
        .await
}
