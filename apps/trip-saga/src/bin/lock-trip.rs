//! The `LockTrip` Lambda function of the trip booking saga: the guard of its pivot.

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    trip_saga::serve(trip_saga::trip_booking::entrypoints::lock_trip).await
}
