//! The stream consumer: a Lambda function on the single table's DynamoDB stream (an event
//! source mapping with `ReportBatchItemFailures`) that keeps the search table in step
//! ([`search::application::Projector`]). A record it can never project goes to the dead-letter
//! queue; a failure to write is reported as the batch item to retry from.

use kernel::stream::ChangeBatch;
use lambda_runtime::{LambdaEvent, service_fn};

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    kernel::init_tracing();
    let projector = saga_runtime::initialise(std::future::ready(
        trip_local::api::search::projector_from_env(),
    ))
    .await?;
    let projector = &projector;
    lambda_runtime::run(service_fn(
        move |event: LambdaEvent<ChangeBatch>| async move {
            let outcome = projector.handle(&event.payload.records).await;
            // Lambda freezes the process once it has answered: the spans go first.
            kernel::telemetry::flush().await;
            Ok::<_, lambda_runtime::Error>(outcome.response())
        },
    ))
    .await
}
