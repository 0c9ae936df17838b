//! The `GET /trips/{id}` Lambda function behind API Gateway (proxy integration): the local API's
//! view of a trip ([`trip_local::api::trip_view`]), on the deployment's table.

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    kernel::init_tracing();
    let context =
        saga_runtime::initialise(std::future::ready(trip_saga::TripContext::from_env())).await?;
    let context = &context;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| async move {
            let response = trip_local::api::lambda::get_trip(context, &event.payload).await;
            // Lambda freezes the process once it has answered: the spans go first.
            kernel::telemetry::flush().await;
            Ok::<_, lambda_runtime::Error>(response)
        },
    ))
    .await
}
