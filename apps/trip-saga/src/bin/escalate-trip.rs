//! The `EscalateTrip` Lambda function of the trip booking saga.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    trip_saga::serve(trip_saga::trip_booking::entrypoints::escalate_trip).await
}
