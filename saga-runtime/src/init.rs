//! A Lambda function's initialisation failing the way Lambda can show: the reason goes to the
//! Runtime API's init-error endpoint, not only to stderr, so the console, `INIT_REPORT` and the
//! caller's error say why (e.g. `TABLE_NAME is not set`) instead of `Runtime.ExitError`.

use std::fmt::Display;
use std::future::Future;

use lambda_runtime_api_client::body::Body;
use lambda_runtime_api_client::{PooledClient, build_request};

/// The `errorType` Lambda shows for a function that could not start.
pub const INIT_ERROR_TYPE: &str = "Runtime.InitError";

/// `init`'s value; or, when it fails, its error reported to the Runtime API (when there is one:
/// `AWS_LAMBDA_RUNTIME_API` is set) and returned, so that `main` exits with it.
///
/// # Errors
/// `init`'s error, as a Lambda error.
pub async fn initialise<T, E: Display>(
    init: impl Future<Output = Result<T, E>>,
) -> Result<T, lambda_runtime::Error> {
    match init.await {
        Ok(value) => Ok(value),
        Err(error) => {
            let message = error.to_string();
            if let Ok(api) = std::env::var("AWS_LAMBDA_RUNTIME_API")
                && let Err(report) = report_init_error(&api, &message).await
            {
                eprintln!("reporting the init error to the Runtime API failed: {report}");
            }
            Err(message.into())
        }
    }
}

/// Posts `message` to `http://{api}/2018-06-01/runtime/init/error`, as the Runtime API expects
/// it (a JSON diagnostic and the `Lambda-Runtime-Function-Error-Type` header).
async fn report_init_error(api: &str, message: &str) -> Result<(), lambda_runtime::Error> {
    let client = PooledClient::builder()
        .with_endpoint(format!("http://{api}").parse()?)
        .build();
    let body = serde_json::to_vec(&serde_json::json!({
        "errorType": INIT_ERROR_TYPE,
        "errorMessage": message,
    }))?;
    let request = build_request()
        .method("POST")
        .uri("/2018-06-01/runtime/init/error")
        .header("lambda-runtime-function-error-type", INIT_ERROR_TYPE)
        .header("content-type", "application/json")
        .body(Body::from(body))?;
    let response = client.call(request).await?;
    if response.status().is_success() {
        Ok(())
    } else {
        Err(format!("the Runtime API answered {}", response.status()).into())
    }
}
