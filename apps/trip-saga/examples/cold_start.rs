//! Cold start and size of every Lambda function, as deployed: the release binaries
//! (`opt-level = "z"`, LTO, stripped: what cargo-lambda builds) in `target/release/`, each
//! started `STARTS` times under a local Lambda Runtime API with a DynamoDB-compatible server on
//! loopback (moto).
//!
//! - init: exec → the first `GET …/invocation/next` (Lambda's `Init Duration`);
//! - first response: exec → the answer to the first invocation. `create-trip` gets a real
//!   `CreateTrip` request (one conditional write to the table); the other functions an empty
//!   payload, which they refuse without touching the store (the runtime path alone);
//! - binary and zip sizes (the zip holds `bootstrap`, deflated, as cargo-lambda packages it).
//!
//! ```sh
//! make bench   # builds the release binaries first; or:
//! cargo build --release -p trip-saga -p trip-local --bins && cargo run -p trip-saga --example cold_start
//! ```
//!
//! An example, not a `cargo bench` target: the harness only starts processes and waits on
//! sockets, and the bench profile would rebuild the whole SDK at `opt-level = 3` for nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use saga_runtime::testing::RuntimeApi;
use serde_json::{Value, json};

const STARTS: usize = 20;
const WAIT: Duration = Duration::from_secs(30);
/// Every Lambda function of the system: the saga's ten (`generated/trip_booking.functions.json`)
/// and the API's and search's three (`generated/trip_search_functions.json`, `get-trip`).
const SEARCH_AND_API: [&str; 3] = ["get-trip", "search-trips", "project-trips"];

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(bench());
}

async fn bench() {
    let release = release_dir();
    let table = kernel::testing::test_table().await;
    let endpoint = kernel::testing::shared_server().endpoint().to_owned();
    let binaries: Vec<String> = trip_saga::trip_booking::Function::ALL
        .iter()
        .map(|f| f.binary().to_owned())
        .chain(SEARCH_AND_API.iter().map(|b| (*b).to_owned()))
        .collect();
    println!(
        "{STARTS} starts each; binaries from {}; store: moto on {endpoint}",
        release.display()
    );
    println!(
        "{:<16} {:>10} {:>10} {:>12} {:>12} {:>12} {:>12}",
        "function",
        "binary MB",
        "zip MB",
        "init p50 ms",
        "init p90 ms",
        "first p50 ms",
        "first p90 ms"
    );
    for binary in binaries {
        let path = release.join(&binary);
        assert!(
            path.is_file(),
            "{} is missing: run `cargo build --release -p trip-saga -p trip-local --bins` first (make bench does)",
            path.display()
        );
        let mut inits = Vec::new();
        let mut firsts = Vec::new();
        for _ in 0..STARTS {
            let (init, first) = start(&path, &binary, &table.name, &endpoint).await;
            inits.push(init);
            firsts.push(first);
        }
        println!(
            "{binary:<16} {:>10.2} {:>10.2} {:>12.2} {:>12.2} {:>12.2} {:>12.2}",
            megabytes(std::fs::metadata(&path).expect("the binary").len()),
            megabytes(zipped_size(&path)),
            percentile(&mut inits, 50),
            percentile(&mut inits, 90),
            percentile(&mut firsts, 50),
            percentile(&mut firsts, 90),
        );
    }
}

/// One cold start: (init, first response), in milliseconds.
async fn start(path: &Path, binary: &str, table: &str, endpoint: &str) -> (f64, f64) {
    let api = RuntimeApi::start([payload(binary)])
        .await
        .expect("a Runtime API");
    let started = Instant::now();
    let mut child = Command::new(path)
        .env_clear()
        .env("AWS_LAMBDA_RUNTIME_API", api.address())
        .env("AWS_LAMBDA_FUNCTION_NAME", binary)
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "1")
        .env("TABLE_NAME", table)
        .env("SEARCH_TABLE_NAME", format!("{table}-search"))
        .env(
            "DEAD_LETTER_QUEUE_URL",
            format!("{endpoint}/000000000000/dlq"),
        )
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_REGION", kernel::testing::REGION)
        .env("AWS_ACCESS_KEY_ID", "local")
        .env("AWS_SECRET_ACCESS_KEY", "local")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the binary starts");
    let log = api.wait_until(|log| !log.answers.is_empty(), WAIT).await;
    let _ = child.kill();
    let _ = child.wait();
    let log = log.unwrap_or_else(|| panic!("{binary} did not answer within {WAIT:?}"));
    let init = log.first_next.expect("a next") - started;
    let first = log.answers[0].at - started;
    if binary == "create-trip" {
        assert!(
            !log.answers[0].is_error,
            "create-trip failed: {}",
            log.answers[0].body
        );
    }
    (millis(init), millis(first))
}

fn payload(binary: &str) -> Value {
    if binary != "create-trip" {
        return json!({});
    }
    let trip_id = kernel::TripId::new();
    json!({
        "input": {
            "trip_id": trip_id,
            "flight": { "flight_number": "NH106", "date": "2026-12-01", "passengers": 2 },
            "hotel": { "hotel": "TOKYO01", "stay": { "start": "2026-12-01", "end": "2026-12-04" }, "guests": 2 },
            "payment": { "card": "tok_visa_4242" }
        },
        "results": {},
        "context": {
            "saga": "TripBooking", "execution_id": "arn:aws:states:us-east-1:0:execution:trip:bench",
            "execution_name": "bench", "state_name": "CreateTrip",
            "idempotency_key": format!("{trip_id}:CreateTrip"), "retry_count": 0
        }
    })
}

fn release_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"),
        PathBuf::from,
    );
    target.join("release")
}

/// The deployment package: `bootstrap`, deflated.
fn zipped_size(path: &Path) -> u64 {
    let bytes = std::fs::read(path).expect("the binary");
    let mut zip = zip::ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = zip::write::SimpleFileOptions::default()
        .compression_method(zip::CompressionMethod::Deflated)
        .unix_permissions(0o755);
    zip.start_file("bootstrap", options).expect("a zip entry");
    zip.write_all(&bytes).expect("zipping");
    let written = zip.finish().expect("a zip").into_inner();
    u64::try_from(written.len()).unwrap_or(u64::MAX)
}

#[allow(clippy::cast_precision_loss)] // sizes of a few MB
fn megabytes(bytes: u64) -> f64 {
    bytes as f64 / 1_000_000.0
}

fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}

fn percentile(values: &mut [f64], p: usize) -> f64 {
    values.sort_by(f64::total_cmp);
    let index = (values.len() * p).div_ceil(100).saturating_sub(1);
    values[index.min(values.len() - 1)]
}
