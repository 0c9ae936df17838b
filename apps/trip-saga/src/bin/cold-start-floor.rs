//! Not a function of the saga: the floor of the cold-start benchmark (`examples/cold_start.rs`).
//! A Lambda function that only echoes its payload, on the same `lambda_runtime`, tokio flavour
//! and release profile as the saga's binaries, so that the bench shows how much of a function's
//! start is the runtime's own and how much is ours. Never deployed (`infra/` deploys the
//! functions of `generated/*.functions.json` by name).

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(lambda_runtime::service_fn(
        |event: lambda_runtime::LambdaEvent<serde_json::Value>| async move {
            Ok::<_, lambda_runtime::Error>(event.payload)
        },
    ))
    .await
}
