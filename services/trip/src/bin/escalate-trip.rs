//! The `EscalateTrip` Lambda function of the trip booking saga.

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    trip::serve(trip::trip_booking::Function::EscalateTrip).await
}
