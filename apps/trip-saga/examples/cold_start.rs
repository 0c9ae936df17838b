//! Cold start and size of every Lambda function, as deployed: the release binaries
//! (`opt-level = "z"`, LTO, stripped: what cargo-lambda builds) in `target/release/`, each
//! started `STARTS` times under a local Lambda Runtime API with a DynamoDB-compatible server on
//! loopback (dynoxide, `kernel::testing::Engine`: a conditional write takes it well under a
//! millisecond, where moto's Python took tens, so the first response measures the function).
//!
//! - init: exec → the first `GET …/invocation/next` (Lambda's `Init Duration`);
//! - first response: exec → the answer to the first invocation. `create-trip` gets a real
//!   `CreateTrip` request (one conditional write to the table); the other functions an empty
//!   payload, which they refuse without touching the store (the runtime path alone);
//! - binary and zip sizes (the zip holds `bootstrap`, deflated, as cargo-lambda packages it);
//! - the same for `cold-start-floor`, a Lambda that only echoes its payload: the floor of the
//!   runtime, the allocator and the loader, under which no function can start.
//!
//! Each function is started `STARTS` times without the telemetry variables and `STARTS` times
//! with them pointed at a collector on loopback (alternately), and both are reported.
//!
//! Then `create-trip` again under three telemetry configurations (`kernel::telemetry`): none
//! (what every row above ran with), the exporters pointed at a collector on loopback (an
//! OTLP/HTTP endpoint answering like the Datadog extension, and a DogStatsD socket), and
//! pointed at a collector that is down (the port refuses connections), each with the real
//! request and with a refused (empty) payload, which leaves out the store's share of the first
//! response. The first response includes the flush of the invocation's spans, which Lambda
//! would otherwise freeze.
//!
//! ```sh
//! make bench   # builds the release binaries first; or:
//! cargo build --release -p trip-saga -p trip-local --bins && cargo run -p trip-saga --example cold_start
//! # one binary, against a build of it kept from before a change (in /tmp/before/create-trip):
//! cargo run -p trip-saga --example cold_start -- --only create-trip --baseline /tmp/before
//! ```
//!
//! An example, not a `cargo bench` target: the harness only starts processes and waits on
//! sockets, and the bench profile would rebuild the whole SDK at `opt-level = 3` for nothing.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use saga_runtime::testing::RuntimeApi;

#[path = "../tests/support/invocation.rs"]
mod invocation;
use serde_json::{Value, json};

const STARTS: usize = 20;
const WAIT: Duration = Duration::from_secs(30);
/// Every Lambda function of the system: the saga's ten (`generated/trip_booking.functions.json`)
/// and the API's and search's three (`generated/trip_search_functions.json`, `get-trip`).
const SEARCH_AND_API: [&str; 3] = ["get-trip", "search-trips", "project-trips"];
/// Not a function: a Lambda that only echoes, on the same runtime and profile
/// (`src/bin/cold-start-floor.rs`). What every function's start costs before any of our code.
const FLOOR: &str = "cold-start-floor";

fn main() {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    runtime.block_on(bench());
}

/// The binary whose start is measured under each telemetry configuration: the one that gets a
/// real request.
const TELEMETRY_BINARY: &str = "create-trip";

async fn bench() {
    let args = Args::parse();
    let release = args.binaries.clone().unwrap_or_else(release_dir);
    let server = kernel::testing::shared_server_of(kernel::testing::Engine::Dynoxide);
    let table = kernel::testing::test_table_on(server).await;
    let endpoint = server.endpoint().to_owned();
    let binaries: Vec<String> = trip_saga::trip_booking::Function::ALL
        .iter()
        .map(|f| f.binary().to_owned())
        .chain(SEARCH_AND_API.iter().map(|b| (*b).to_owned()))
        .chain(std::iter::once(FLOOR.to_owned()))
        .filter(|b| args.only.as_ref().is_none_or(|only| only.contains(b)))
        .collect();
    let collector = Collector::start().await;
    let live = Telemetry::To(collector.endpoint(), collector.dogstatsd());
    println!(
        "{STARTS} starts each, without then with the exporters (a collector on loopback), \
         interleaved; binaries from {}; store: dynoxide on {endpoint}",
        release.display()
    );
    println!(
        "{:<16} {:>9} {:>7} | {:>8} {:>8} {:>9} {:>9} | {:>8} {:>8} {:>9} {:>9} {:>7}",
        "function",
        "binary MB",
        "zip MB",
        "init p50",
        "init p90",
        "first p50",
        "first p90",
        "init p50",
        "init p90",
        "first p50",
        "first p90",
        "exports"
    );
    for binary in &binaries {
        let path = release.join(binary);
        assert!(
            path.is_file(),
            "{} is missing: run `cargo build --release -p trip-saga -p trip-local --bins` first (make bench does)",
            path.display()
        );
        let request = Request::of(binary);
        let (mut inits, mut firsts) = (Vec::new(), Vec::new());
        let (mut traced_inits, mut traced_firsts) = (Vec::new(), Vec::new());
        let before = collector.exports();
        // Alternated, so that a machine whose load drifts weighs on both columns alike.
        for _ in 0..STARTS {
            let (init, first) = start(
                &path,
                binary,
                request,
                &table.name,
                &endpoint,
                &Telemetry::None,
            )
            .await;
            inits.push(init);
            firsts.push(first);
            let (init, first) = start(&path, binary, request, &table.name, &endpoint, &live).await;
            traced_inits.push(init);
            traced_firsts.push(first);
        }
        println!(
            "{binary:<16} {:>9.2} {:>7.2} | {:>8.2} {:>8.2} {:>9.2} {:>9.2} | {:>8.2} {:>8.2} {:>9.2} {:>9.2} {:>7}",
            megabytes(std::fs::metadata(&path).expect("the binary").len()),
            megabytes(zipped_size(&path)),
            percentile(&mut inits, 50),
            percentile(&mut inits, 90),
            percentile(&mut firsts, 50),
            percentile(&mut firsts, 90),
            percentile(&mut traced_inits, 50),
            percentile(&mut traced_inits, 90),
            percentile(&mut traced_firsts, 50),
            percentile(&mut traced_firsts, 90),
            collector.exports() - before,
        );
    }
    println!(
        "(ms; the second group with OTEL_EXPORTER_OTLP_ENDPOINT and DD_DOGSTATSD_URL set; \
         exports: OTLP posts the collector received from those {STARTS} starts)"
    );
    if binaries.iter().any(|b| b == TELEMETRY_BINARY) {
        let baseline = args.baseline.as_ref().map(|dir| dir.join(TELEMETRY_BINARY));
        telemetry_bench(
            &release.join(TELEMETRY_BINARY),
            baseline.as_deref(),
            &table.name,
            &endpoint,
            &collector,
        )
        .await;
    }
}

/// Starts per row of the telemetry comparison, taken in rounds of one start per row (in a new
/// order each round) so that a machine whose load drifts (other builds, the store) weighs on every
/// row alike.
const TELEMETRY_ROUNDS: usize = 48;

/// `TELEMETRY_BINARY`'s start with no exporter, with a live collector, and with a dead one; and,
/// with `--baseline DIR`, the same binary built without telemetry, for comparison.
async fn telemetry_bench(
    path: &Path,
    baseline: Option<&Path>,
    table: &str,
    endpoint: &str,
    collector: &Collector,
) {
    let dead = dead_port();
    let live = Telemetry::To(collector.endpoint(), collector.dogstatsd());
    let down = Telemetry::To(
        format!("http://127.0.0.1:{dead}"),
        format!("udp://127.0.0.1:{dead}"),
    );
    let mut rows: Vec<Row<'_>> = Vec::new();
    // The real request's first answer waits on the store as well; the refused one (an empty
    // payload) isolates what the exporter adds: its set-up, and one export of one span.
    for request in [Request::Real, Request::Refused] {
        if let Some(baseline) = baseline {
            rows.push(Row::new(
                "baseline binary, no variables",
                baseline,
                request,
                &Telemetry::None,
            ));
        }
        rows.push(Row::new("no variables", path, request, &Telemetry::None));
        rows.push(Row::new("collector on loopback", path, request, &live));
        rows.push(Row::new("collector down (refused)", path, request, &down));
    }
    let mut order: Vec<usize> = (0..rows.len()).collect();
    let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
    for _ in 0..TELEMETRY_ROUNDS {
        // A start right after a real request shares the machine with the store finishing it: each
        // round runs the rows in a new order, so that every row follows every other alike.
        shuffle(&mut order, &mut seed);
        for &index in &order {
            let row = &mut rows[index];
            let before = collector.exports();
            let (init, first) = start(
                row.path,
                TELEMETRY_BINARY,
                row.request,
                table,
                endpoint,
                row.telemetry,
            )
            .await;
            row.inits.push(init);
            row.firsts.push(first);
            row.exports += collector.exports() - before;
        }
    }
    println!();
    println!(
        "{TELEMETRY_BINARY} by telemetry configuration, {TELEMETRY_ROUNDS} starts each, interleaved:"
    );
    println!(
        "{:<48} {:>12} {:>12} {:>12} {:>12} {:>8}",
        "binary and telemetry, first request",
        "init p50 ms",
        "init p90 ms",
        "first p50 ms",
        "first p90 ms",
        "exports"
    );
    for row in &mut rows {
        println!(
            "{:<48} {:>12.2} {:>12.2} {:>12.2} {:>12.2} {:>8}",
            format!("{}, {}", row.name, row.request.label()),
            percentile(&mut row.inits, 50),
            percentile(&mut row.inits, 90),
            percentile(&mut row.firsts, 50),
            percentile(&mut row.firsts, 90),
            row.exports,
        );
    }
}

/// Fisher-Yates with xorshift64: a fixed sequence of orders, no dependency for it.
fn shuffle(order: &mut [usize], seed: &mut u64) {
    for i in (1..order.len()).rev() {
        *seed ^= *seed << 13;
        *seed ^= *seed >> 7;
        *seed ^= *seed << 17;
        let j = usize::try_from(*seed % (i as u64 + 1)).unwrap_or(0);
        order.swap(i, j);
    }
}

/// One row of the telemetry comparison and its measurements.
struct Row<'a> {
    name: &'static str,
    path: &'a Path,
    request: Request,
    telemetry: &'a Telemetry,
    inits: Vec<f64>,
    firsts: Vec<f64>,
    exports: usize,
}

impl<'a> Row<'a> {
    fn new(name: &'static str, path: &'a Path, request: Request, telemetry: &'a Telemetry) -> Self {
        Self {
            name,
            path,
            request,
            telemetry,
            inits: Vec::new(),
            firsts: Vec::new(),
            exports: 0,
        }
    }
}

/// What the first invocation gets.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Request {
    /// `CreateTrip`'s real request (create-trip only; the others refuse any payload here).
    Real,
    /// An empty payload, refused before the store is touched.
    Refused,
}

impl Request {
    fn of(binary: &str) -> Self {
        if binary == TELEMETRY_BINARY {
            Self::Real
        } else {
            Self::Refused
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Real => "real request",
            Self::Refused => "refused payload",
        }
    }
}

/// Where a started function sends its telemetry.
enum Telemetry {
    /// Nowhere: no variable set.
    None,
    /// `OTEL_EXPORTER_OTLP_ENDPOINT` and `DD_DOGSTATSD_URL`.
    To(String, String),
}

/// An OTLP/HTTP endpoint that accepts every export, as the extension does, and counts them; and
/// a socket for DogStatsD datagrams.
struct Collector {
    address: std::net::SocketAddr,
    exports: Arc<AtomicUsize>,
    dogstatsd: tokio::net::UdpSocket,
}

impl Collector {
    async fn start() -> Self {
        let exports = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&exports);
        let app = axum::Router::new().route(
            "/v1/traces",
            axum::routing::post(move || {
                counted.fetch_add(1, Ordering::SeqCst);
                // An empty ExportTraceServiceResponse: everything accepted.
                async {
                    (
                        [("content-type", "application/x-protobuf")],
                        Vec::<u8>::new(),
                    )
                }
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a port");
        let address = listener.local_addr().expect("an address");
        tokio::spawn(async move { axum::serve(listener, app).await });
        let dogstatsd = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .expect("a UDP port");
        Self {
            address,
            exports,
            dogstatsd,
        }
    }

    fn endpoint(&self) -> String {
        format!("http://{}", self.address)
    }

    fn dogstatsd(&self) -> String {
        format!("udp://{}", self.dogstatsd.local_addr().expect("an address"))
    }

    fn exports(&self) -> usize {
        self.exports.load(Ordering::SeqCst)
    }
}

/// A loopback port nothing listens on.
fn dead_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a port");
    listener.local_addr().expect("an address").port()
}

/// One cold start: (init, first response), in milliseconds.
async fn start(
    path: &Path,
    binary: &str,
    request: Request,
    table: &str,
    endpoint: &str,
    telemetry: &Telemetry,
) -> (f64, f64) {
    let api = RuntimeApi::start([payload(request)])
        .await
        .expect("a Runtime API");
    let started = Instant::now();
    let mut command = Command::new(path);
    command.env_clear();
    if let Telemetry::To(otlp, dogstatsd) = telemetry {
        command
            .env("OTEL_EXPORTER_OTLP_ENDPOINT", otlp)
            .env("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
            .env("OTEL_SERVICE_NAME", "trip-saga")
            .env("DD_DOGSTATSD_URL", dogstatsd);
    }
    let mut child = command
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
    if request == Request::Real {
        assert!(
            !log.answers[0].is_error,
            "create-trip failed: {}",
            log.answers[0].body
        );
    }
    (millis(init), millis(first))
}

fn payload(request: Request) -> Value {
    if request == Request::Refused {
        return json!({});
    }
    invocation::create_trip(kernel::TripId::new(), "bench")
}

/// `--binaries DIR` (default: the release directory), `--only NAME,NAME…`, and `--baseline DIR`
/// (where another build of the telemetry binary is, e.g. from before a change).
struct Args {
    binaries: Option<PathBuf>,
    only: Option<Vec<String>>,
    baseline: Option<PathBuf>,
}

impl Args {
    fn parse() -> Self {
        let mut args = Self {
            binaries: None,
            only: None,
            baseline: None,
        };
        let mut given = std::env::args().skip(1);
        while let Some(arg) = given.next() {
            let mut value = || {
                given
                    .next()
                    .unwrap_or_else(|| panic!("{arg} needs a value"))
            };
            match arg.as_str() {
                "--binaries" => args.binaries = Some(PathBuf::from(value())),
                "--baseline" => args.baseline = Some(PathBuf::from(value())),
                "--only" => {
                    args.only = Some(value().split(',').map(ToOwned::to_owned).collect());
                }
                other => panic!(
                    "unknown argument {other}: --binaries DIR, --only NAME[,NAME…], --baseline DIR"
                ),
            }
        }
        args
    }
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
