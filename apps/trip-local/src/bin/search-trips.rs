//! The `GET /trips?status=…&departure_from=…&departure_to=…` Lambda function behind API Gateway
//! (proxy integration): the local API's search ([`trip_local::api::lambda::search_trips`]), on
//! the deployment's search table.

use aws_lambda_events::apigw::ApiGatewayProxyRequest;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    kernel::init_tracing();
    let service = saga_runtime::initialise(std::future::ready(
        trip_local::api::search::search_service_from_env(),
    ))
    .await?;
    let service = &service;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ApiGatewayProxyRequest>| async move {
            let response = trip_local::api::lambda::search_trips(service, &event.payload).await;
            // Lambda freezes the process once it has answered: the spans go first.
            kernel::telemetry::flush().await;
            Ok::<_, lambda_runtime::Error>(response)
        },
    ))
    .await
}
