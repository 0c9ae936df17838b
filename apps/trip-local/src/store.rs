//! Where the data lives (in memory, or a DynamoDB endpoint), the demo catalogue, and the
//! inventory read back from the store.

use aws_sdk_dynamodb::Client;
use flight::ReservationStatus as SeatStatus;
use hotel::{HotelCode, ReservationStatus as RoomStatus};
use kernel::{CalendarDate, FlightNumber, InfraError, Money, TripId};
use trip_saga::TripContext;

use crate::journal::ExecutionLog;
use crate::search::LocalSearch;

/// The region used against a local endpoint: emulators keep each region's tables apart, so it
/// must be the same on every run to find the same table again.
pub const LOCAL_REGION: &str = "us-east-1";

/// The first day on sale: the day the demo's seven scenarios fly and check in.
pub const DAY: &str = "2026-12-01";
/// How many days from [`DAY`] the flights fly (one flight of each number a day), so that a
/// search by departure date has a range to cover.
pub const FLIGHT_DAYS: u32 = 14;
/// How many nights from [`DAY`] the hotels sell: a stay of up to three nights can start on any
/// flight day.
pub const HOTEL_NIGHTS: u32 = FLIGHT_DAYS + 3;
/// The nights of the demo stay (check-out on 2026-12-04).
pub const NIGHTS: [&str; 3] = ["2026-12-01", "2026-12-02", "2026-12-03"];
/// The day after the last night.
pub const CHECK_OUT: &str = "2026-12-04";

/// A flight with plenty of seats.
pub const ROOMY_FLIGHT: &str = "NH106";
/// A flight with one seat: any party of two finds it sold out.
pub const ONE_SEAT_FLIGHT: &str = "NH108";
/// A hotel with rooms.
pub const HOTEL: &str = "TOKYO01";
/// A hotel with no room left.
pub const FULL_HOTEL: &str = "FULL01";

/// Which store the services use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Store {
    /// The in-memory adapters: nothing to install, gone when the process exits.
    InMemory,
    /// The DynamoDB adapters against an endpoint (DynamoDB Local, moto, LocalStack …).
    DynamoDb {
        /// e.g. `http://localhost:8000`.
        endpoint: String,
        /// The single table; created when missing.
        table: String,
    },
    /// The DynamoDB adapters on a table of an AWS account, with the environment's credentials
    /// and region (what the Lambda functions use).
    Aws {
        /// The deployed single table; never created here (its stack owns it).
        table: String,
    },
}

impl std::fmt::Display for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Store::InMemory => f.write_str("in-memory"),
            Store::DynamoDb { endpoint, table } => write!(f, "DynamoDB {endpoint}, table {table}"),
            Store::Aws { table } => write!(f, "DynamoDB on AWS, table {table}"),
        }
    }
}

/// Connects every service to `store`, creating the DynamoDB table when it does not exist.
///
/// # Errors
/// When the endpoint cannot be reached or the table cannot be created.
pub async fn connect(store: &Store) -> Result<TripContext, InfraError> {
    match store {
        Store::InMemory => Ok(TripContext::in_memory()),
        Store::DynamoDb { endpoint, table } => {
            let client = local_client(endpoint);
            ensure_table(&client, table).await?;
            Ok(TripContext::dynamodb(&client, table))
        }
        Store::Aws { table } => {
            let config = trip_saga::environment_sdk_config().await;
            let client = Client::new(&config);
            // A table that is not there is a wrong name or region: say so now, not mid-saga.
            client
                .describe_table()
                .table_name(table)
                .send()
                .await
                .map_err(|e| InfraError::from_sdk("DescribeTable", e))?;
            Ok(TripContext::dynamodb(&client, table))
        }
    }
}

/// Where `serve` records the executions it accepts ([`ExecutionLog`]): in memory beside the
/// in-memory store, `<table>-executions` beside a DynamoDB endpoint's table.
///
/// # Errors
/// On AWS (Step Functions keeps executions there; `serve` runs on a local store only), or when
/// the executions table can be neither found nor created.
pub async fn execution_log(store: &Store) -> Result<ExecutionLog, InfraError> {
    match store {
        Store::InMemory => Ok(ExecutionLog::in_memory()),
        Store::DynamoDb { endpoint, table } => {
            ExecutionLog::on_dynamodb(local_client(endpoint), table).await
        }
        Store::Aws { .. } => Err(InfraError::failed(
            "executions on AWS are Step Functions': the local runtime keeps none there",
        )),
    }
}

/// A client for a local endpoint: dummy credentials (emulators accept any) and a fixed region,
/// so that nothing is read from the user's AWS configuration and no real account is touched.
pub fn local_client(endpoint: &str) -> Client {
    kernel::dynamo::local_client(endpoint, LOCAL_REGION, "trip-local")
}

/// Creates the single table unless it exists already (a second run reuses it and its data).
///
/// # Errors
/// DescribeTable's error other than "not found", or `create_table`'s.
pub async fn ensure_table(client: &Client, table: &str) -> Result<(), InfraError> {
    ensure_table_as(client, &kernel::dynamo::table::TABLE, table).await
}

/// Creates `table` as `definition` says unless it exists already.
///
/// # Errors
/// As [`ensure_table`].
pub async fn ensure_table_as(
    client: &Client,
    definition: &kernel::dynamo::table::TableDefinition,
    table: &str,
) -> Result<(), InfraError> {
    match client.describe_table().table_name(table).send().await {
        Ok(_) => Ok(()),
        Err(e)
            if e.as_service_error()
                .is_some_and(aws_sdk_dynamodb::operation::describe_table::DescribeTableError::is_resource_not_found_exception) =>
        {
            kernel::dynamo::create_table_as(client, definition, table).await
        }
        Err(e) => Err(InfraError::from_sdk("DescribeTable", e)),
    }
}

/// The SDK configuration for every client of a local endpoint (DynamoDB, its Streams API, SQS):
/// dummy credentials and [`LOCAL_REGION`], as [`local_client`].
pub async fn local_sdk_config(endpoint: &str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(LOCAL_REGION))
        .credentials_provider(aws_sdk_dynamodb::config::Credentials::new(
            "local",
            "local",
            None,
            None,
            "trip-local",
        ))
        .endpoint_url(endpoint)
        .http_client(kernel::dynamo::https_client())
        .load()
        .await
}

/// Connects every service to `store`, with the search side beside it: on a local store, the
/// search table and the stream consumer that feeds it ([`LocalSearch`]); on AWS, none (the
/// deployed stack's consumer and `GET /trips` do that job).
///
/// # Errors
/// As [`connect`], and the search table's creation.
pub async fn connect_with_search(
    store: &Store,
) -> Result<(TripContext, Option<LocalSearch>), InfraError> {
    match store {
        Store::InMemory => {
            let feed = kernel::stream::ChangeFeed::new("trips");
            let search = LocalSearch::in_memory(feed.clone());
            Ok((TripContext::in_memory_streaming(feed), Some(search)))
        }
        Store::DynamoDb { endpoint, table } => {
            let context = connect(store).await?;
            let search = LocalSearch::on_endpoint(endpoint, table).await?;
            Ok((context, Some(search)))
        }
        Store::Aws { .. } => Ok((connect(store).await?, None)),
    }
}

fn date(text: &str) -> CalendarDate {
    CalendarDate::parse(text).expect("the demo dates are valid")
}

fn flight_number(text: &str) -> FlightNumber {
    FlightNumber::parse(text).expect("the demo flight numbers are valid")
}

fn hotel_code(text: &str) -> HotelCode {
    HotelCode::parse(text).expect("the demo hotel codes are valid")
}

/// The days of [`FLIGHT_DAYS`], from [`DAY`].
pub fn flight_days() -> Vec<CalendarDate> {
    std::iter::successors(Some(date(DAY)), |d| d.next_day())
        .take(FLIGHT_DAYS as usize)
        .collect()
}

/// What is on sale: one line per flight and hotel, for `serve` to list.
pub fn catalogue_lines() -> Vec<String> {
    let days = flight_days();
    let (first, last) = (days[0], days[days.len() - 1]);
    let last_night = std::iter::successors(Some(first), |d| d.next_day())
        .nth(HOTEL_NIGHTS as usize - 1)
        .expect("the demo nights are in range");
    vec![
        format!(
            "flight {ROOMY_FLIGHT}: 200 seats a day, 300.00 USD a seat, every day from {first} to {last}"
        ),
        format!(
            "flight {ONE_SEAT_FLIGHT}: 1 seat a day, 300.00 USD, every day from {first} to {last}"
        ),
        format!(
            "hotel {HOTEL}: 50 rooms a night, 150.00 USD a night, nights from {first} to {last_night}"
        ),
        format!("hotel {FULL_HOTEL}: no room left, nights from {first} to {last_night}"),
    ]
}

/// Puts the demo catalogue on sale: a roomy and a one-seat flight every day of
/// [`flight_days`], a hotel with rooms and a full one for [`HOTEL_NIGHTS`] nights. Idempotent:
/// on a store that has them already, their stock is kept as it is.
///
/// # Errors
/// The store's failure.
pub async fn seed(context: &TripContext) -> Result<(), InfraError> {
    let usd = |text: &str| Money::parse(text).expect("the demo prices are valid");
    let flights = &context.flights;
    for day in flight_days() {
        for (flight, seats) in [(ROOMY_FLIGHT, 200), (ONE_SEAT_FLIGHT, 1)] {
            flights
                .add_flight(flight_number(flight), day, seats, usd("300.00 USD"))
                .await
                .map_err(|e| only_the_store_fails(e.into_store_error()))?;
        }
    }
    let hotels = &context.hotels;
    for (hotel, rooms) in [(HOTEL, 50), (FULL_HOTEL, 0)] {
        hotels
            .add_hotel(
                hotel_code(hotel),
                date(DAY),
                HOTEL_NIGHTS,
                rooms,
                usd("150.00 USD"),
            )
            .await
            .map_err(|e| only_the_store_fails(e.into_store_error()))?;
    }
    Ok(())
}

/// The store's failure while seeding: the demo catalogue is constants (seeded by every scenario
/// test), so a value the services refuse is a bug in this file.
fn only_the_store_fails(error: Result<InfraError, impl std::fmt::Display>) -> InfraError {
    error.unwrap_or_else(|invalid| panic!("the demo catalogue is invalid: {invalid}"))
}

/// What is left for sale in the demo catalogue.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Inventory {
    /// Seats left on [`ROOMY_FLIGHT`].
    pub roomy_flight_seats: u32,
    /// Seats left on [`ONE_SEAT_FLIGHT`].
    pub one_seat_flight_seats: u32,
    /// Rooms left at [`HOTEL`] on each of [`NIGHTS`].
    pub hotel_rooms: [u32; 3],
    /// Rooms left at [`FULL_HOTEL`] on each of [`NIGHTS`].
    pub full_hotel_rooms: [u32; 3],
}

/// Reads the catalogue's stock from the store.
///
/// # Errors
/// The store's failure, or `StoreFailed` when the catalogue was not seeded.
pub async fn inventory(context: &TripContext) -> Result<Inventory, InfraError> {
    let seats = async |flight: &str| {
        context
            .flights
            .seats_left(&flight_number(flight), date(DAY))
            .await?
            .ok_or_else(|| InfraError::failed(format!("flight {flight} is not on sale")))
    };
    let rooms = async |hotel: &str| {
        let mut left = [0; 3];
        for (slot, night) in left.iter_mut().zip(NIGHTS) {
            *slot = context
                .hotels
                .rooms_left(&hotel_code(hotel), date(night))
                .await?
                .ok_or_else(|| InfraError::failed(format!("{hotel} is not on sale on {night}")))?;
        }
        Ok::<_, InfraError>(left)
    };
    Ok(Inventory {
        roomy_flight_seats: seats(ROOMY_FLIGHT).await?,
        one_seat_flight_seats: seats(ONE_SEAT_FLIGHT).await?,
        hotel_rooms: rooms(HOTEL).await?,
        full_hotel_rooms: rooms(FULL_HOTEL).await?,
    })
}

/// What a trip still holds in the store: seats and rooms whose reservation is not cancelled.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Holdings {
    /// Seats held, and on which flight.
    pub seats: u32,
    /// Rooms held on each night of the stay.
    pub rooms: u32,
}

/// Reads the seats and rooms `trip_id` still holds.
///
/// # Errors
/// The store's failure.
pub async fn holdings(context: &TripContext, trip_id: TripId) -> Result<Holdings, InfraError> {
    let seats = context
        .flights
        .reservation(trip_id)
        .await?
        .filter(|r| r.status == SeatStatus::Reserved)
        .map_or(0, |r| u32::from(r.passengers.get()));
    let rooms = context
        .hotels
        .reservation(trip_id)
        .await?
        .filter(|r| r.status == RoomStatus::Reserved)
        .map_or(0, |r| r.rooms);
    Ok(Holdings { seats, rooms })
}
