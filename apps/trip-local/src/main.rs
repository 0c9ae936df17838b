//! `trip-local`: the trip booking saga on this machine. See `trip-local --help`.

mod nosql_workbench;

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use kernel::TripId;
use serde_json::Value;
use trip_local::api::schema::{Rejection, RequestDecoder};
use trip_local::api::{self, Api};
use trip_local::demo::{
    self, Console, GOOD_CARD, inventory_check, inventory_lines, outcome_lines, path_header,
    run_demo, summary, trip_request,
};
use trip_local::execution::Saga;
use trip_local::faults::FaultPlan;
use trip_local::functions::Observer;
use trip_local::search::{LocalSearch, ReplayTarget};
use trip_local::store::{self, HOTEL, ROOMY_FLIGHT, Store};

/// Runs the real trip booking saga on this machine: the generated state machine on a local
/// interpreter, the real handlers in-process, an in-memory store or a DynamoDB endpoint.
#[derive(Debug, Parser)]
#[command(name = "trip-local", version)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    /// Use the DynamoDB adapters against this endpoint (e.g. http://localhost:8000), with dummy
    /// credentials and region us-east-1, instead of the in-memory store.
    #[arg(long, global = true, value_name = "URL", conflicts_with = "aws_table")]
    dynamodb_endpoint: Option<String>,
    /// Use the DynamoDB adapters on this table of your AWS account (a deployed stack's
    /// `TableName` output), with the credentials and region of your environment, as the Lambda
    /// functions do. The table must exist; e.g. `--aws-table <TableName> seed`.
    #[arg(long, global = true, value_name = "TABLE")]
    aws_table: Option<String>,
    /// The single table on the DynamoDB endpoint; created when it does not exist.
    #[arg(long, global = true, default_value = "trips")]
    table: String,
    /// Really sleep through retry back-offs and delays instead of advancing a virtual clock
    /// (the escalation scenario then takes tens of seconds).
    #[arg(long, global = true)]
    real_time: bool,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Seven trips on one store, one per path through the saga, then a summary and an inventory
    /// check (the default).
    Demo,
    /// Put the demo catalogue on sale (two flights, two hotels) and exit; stock already there is
    /// kept as it is.
    Seed,
    /// One trip with faults injected around the handlers.
    Run {
        /// STATE=ERROR[:TIMES[:MESSAGE]], STATE=lose-response[:TIMES] or
        /// STATE=delay:DURATION[:TIMES]; TIMES is a number or `always`. Repeatable.
        /// E.g. ReserveHotel=StoreThrottled:2, CancelHotel=StoreUnavailable:always,
        /// ReserveFlight=lose-response:1, ProcessPayment=delay:5s.
        #[arg(long = "fault", value_name = "FAULT")]
        faults: Vec<String>,
        /// The trip request (JSON, the saga's input); a missing `trip_id` is generated. Default:
        /// two passengers on NH106 and three nights at TOKYO01, paid with tok_visa_4242.
        #[arg(long, value_name = "FILE")]
        request: Option<PathBuf>,
    },
    /// The trip booking API on http://127.0.0.1:PORT, with API Gateway's contract: POST /trips,
    /// GET /trips/{id}, GET /health, GET /openapi.json. Prints curl lines to try; Ctrl-C stops.
    Serve {
        /// The port to listen on (0: any free port).
        #[arg(long, default_value_t = 3000)]
        port: u16,
        /// A fault in every execution the API starts, as for `run` (repeatable), e.g.
        /// ReserveHotel=delay:5s with --real-time, to follow an execution while it runs.
        #[arg(long = "fault", value_name = "FAULT")]
        faults: Vec<String>,
    },
    /// Stand in for the Datadog extension: print the traces and metrics that runs export.
    ///
    /// Receives OTLP/HTTP traces on 127.0.0.1:PORT and DogStatsD metrics on
    /// 127.0.0.1:DOGSTATSD_PORT, and prints each trace as a tree and each metric line as they
    /// arrive, until Ctrl-C. Point a run at it with OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318
    /// DD_DOGSTATSD_URL=udp://127.0.0.1:8125.
    OtlpReceiver {
        /// The OTLP/HTTP port (4318 is OTLP's).
        #[arg(long, default_value_t = 4318)]
        port: u16,
        /// The DogStatsD port (8125 is the extension's); 0 turns the metrics receiver off.
        #[arg(long, default_value_t = 8125)]
        dogstatsd_port: u16,
    },
    /// Re-drive the stream consumer's dead-letter queue into the search table, once the cause of
    /// its letters is fixed: the poison records the consumer set aside, and the batches the
    /// event source mapping gave up on (read back from the stream, which keeps them 24 hours).
    /// What still cannot be projected stays in the queue and is listed with the reason (exit
    /// status 1). Safe to run again and beside the live consumer. On a DynamoDB endpoint (one
    /// that serves SQS too, as moto does) it replays `<table>-search-dead-letters` into
    /// `<table>-search`; for a deployed stack, give its outputs.
    ReplayDeadLetters {
        /// The search table: the stack's `SearchTableName` output (on an endpoint, default
        /// `<table>-search`).
        #[arg(long, value_name = "TABLE")]
        search_table: Option<String>,
        /// The dead-letter queue of a deployed stack: its `SearchDeadLetterQueueUrl` output.
        #[arg(long, value_name = "URL")]
        queue_url: Option<String>,
    },
    /// Print the API's OpenAPI document (generated from the Rust types).
    Openapi {
        /// Write it to FILE instead, e.g. generated/trip_api.openapi.json.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the single table's definition (keys, stream, TTL, billing) as the infrastructure
    /// reads it.
    Table {
        /// Write it to FILE instead, e.g. generated/trip_table.json.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the search table's definition (key, status index, TTL) as the infrastructure reads
    /// it.
    SearchTable {
        /// Write it to FILE instead, e.g. generated/trip_search_table.json.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the search side's Lambda functions (stream consumer, query) as the infrastructure
    /// deploys them.
    SearchFunctions {
        /// Write it to FILE instead, e.g. generated/trip_search_functions.json.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the request body's schema in JSON Schema draft 4 (API Gateway's request model).
    ApiModel {
        /// Write it to FILE instead, e.g. generated/trip_api.request.draft4.json.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print API Gateway's mapping templates for POST /trips, with examples of both sides.
    Gateway {
        /// Write it to FILE instead, e.g. generated/trip_api.gateway.json.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the table actions each function of the saga needs (its IAM grants).
    TableAccess {
        /// Write it to FILE instead, e.g. generated/trip_table_access.json.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
    /// Print the single table as a NoSQL Workbench data model ("Import data model"): its keys
    /// and indexes, and a facet per kind of item holding the items the services really write,
    /// read back after two trips booked on a DynamoDB endpoint (ids and times made fixed).
    /// Without --dynamodb-endpoint it starts moto_server (make setup installs it).
    NosqlWorkbench {
        /// Write it to FILE instead, e.g. generated/trip_table.nosql_workbench.json.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
    },
}

/// What to do once connected to the store.
enum Action {
    Demo,
    Seed,
    Run(FaultPlan, Value),
    Serve(u16, FaultPlan),
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("trip-local: {message}");
            ExitCode::from(2)
        }
    }
}

async fn run(cli: Cli) -> Result<ExitCode, String> {
    let store = match (cli.dynamodb_endpoint, cli.aws_table) {
        (Some(endpoint), _) => Store::DynamoDb {
            endpoint,
            table: cli.table,
        },
        (None, Some(table)) => Store::Aws { table },
        (None, None) => Store::InMemory,
    };
    // Parse everything before touching the store: a typo should not leave half a run behind.
    let action = match cli.command.unwrap_or(Command::Demo) {
        Command::Demo => Action::Demo,
        Command::Seed => Action::Seed,
        Command::Run { faults, request } => {
            let plan = FaultPlan::parse_all(&faults).map_err(|e| e.to_string())?;
            Action::Run(plan, read_request(request.as_deref())?)
        }
        Command::Serve { port, faults } => Action::Serve(
            port,
            FaultPlan::parse_all(&faults).map_err(|e| e.to_string())?,
        ),
        Command::OtlpReceiver {
            port,
            dogstatsd_port,
        } => {
            let dogstatsd = (dogstatsd_port != 0)
                .then(|| SocketAddr::from((Ipv4Addr::LOCALHOST, dogstatsd_port)));
            trip_local::telemetry::run_receiver((Ipv4Addr::LOCALHOST, port).into(), dogstatsd)
                .await
                .map_err(|e| format!("receiving telemetry: {e}"))?;
            return Ok(ExitCode::SUCCESS);
        }
        Command::ReplayDeadLetters {
            search_table,
            queue_url,
        } => {
            let target = replay_target(&store, search_table, queue_url)?;
            return replay_command(&target).await;
        }
        // The contract needs no store.
        Command::Openapi { out } => {
            return write_or_print(&api::openapi::openapi_json(), out.as_deref());
        }
        Command::Table { out } => {
            return write_or_print(&kernel::dynamo::table::definition_json(), out.as_deref());
        }
        Command::SearchTable { out } => {
            let json = search::infrastructure::dynamodb::definition_json();
            return write_or_print(&json, out.as_deref());
        }
        Command::SearchFunctions { out } => {
            return write_or_print(&api::search::functions_json(), out.as_deref());
        }
        Command::ApiModel { out } => {
            return write_or_print(&api::draft4::new_trip_draft4_json(), out.as_deref());
        }
        Command::Gateway { out } => {
            return write_or_print(&api::gateway::gateway_json(), out.as_deref());
        }
        Command::TableAccess { out } => {
            return write_or_print(&trip_saga::table_access::access_json(), out.as_deref());
        }
        Command::NosqlWorkbench { out } => {
            let endpoint = match &store {
                Store::DynamoDb { endpoint, .. } => Some(endpoint.as_str()),
                Store::InMemory => None,
                Store::Aws { .. } => return Err(
                    "nosql-workbench books sample trips: give it a local endpoint (--dynamodb-endpoint) or none, never an AWS table".into(),
                ),
            };
            let model = nosql_workbench::generate(endpoint).await?;
            return write_or_print(&model, out.as_deref());
        }
    };
    init_telemetry();
    let (context, search) = store::connect_with_search(&store)
        .await
        .map_err(|e| format!("connecting to the store ({store}): {e}"))?;
    let saga = Saga::new(context).in_real_time(cli.real_time);
    let console = Arc::new(Console::stdout());
    let time = if cli.real_time { "real" } else { "virtual" };
    console.line(&format!(
        "Trip booking saga, generated ASL on the local interpreter; store: {store}; time: {time}"
    ));
    match action {
        Action::Demo => demo_command(&saga, search.as_ref(), &console).await,
        Action::Seed => {
            store::seed(saga.context())
                .await
                .map_err(|e| format!("seeding the catalogue: {e}"))?;
            console.line("The demo catalogue is on sale (stock already there was kept).");
            Ok(ExitCode::SUCCESS)
        }
        Action::Run(plan, request) => run_command(&saga, &console, plan, request).await,
        Action::Serve(port, faults) => {
            let search = search.ok_or(
                "serve runs the API on a local store; on AWS, the deployed API answers (make deploy prints its URL)",
            )?;
            serve_command(saga, &search, faults, &store, &console, port).await
        }
    }
}

async fn serve_command(
    saga: Saga,
    search: &LocalSearch,
    faults: FaultPlan,
    store: &Store,
    console: &Console,
    port: u16,
) -> Result<ExitCode, String> {
    store::seed(saga.context())
        .await
        .map_err(|e| format!("seeding the catalogue: {e}"))?;
    let listener = listen(port).map_err(|e| format!("listening on 127.0.0.1:{port}: {e}"))?;
    let address = listener
        .local_addr()
        .map_err(|e| format!("reading the listening address: {e}"))?;
    let base = format!("http://{address}");
    let log = store::execution_log(store)
        .await
        .map_err(|e| format!("opening the execution log ({store}): {e}"))?;
    let api = Api::new(saga, search.service().clone(), store)
        .with_faults(faults)
        .with_log(log);
    let resumed = api
        .resume_unfinished()
        .await
        .map_err(|e| format!("reading the executions to resume: {e}"))?;
    if !resumed.is_empty() {
        console.line(&format!(
            "Resumed {} execution(s) that the last server left running.",
            resumed.len()
        ));
    }
    console.line("");
    console.line(&format!(
        "Trip booking API on {base} with the demo catalogue on sale:"
    ));
    for line in store::catalogue_lines() {
        console.line(&format!("  {line}"));
    }
    console.line(&format!(
        "Search table: {} (kept in step with the store's stream; records it cannot project wait in {}). Try:",
        search.table(),
        search.dead_letter_queue()
    ));
    console.line("");
    for line in api::curl_lines(&base, TripId::new()) {
        console.line(&format!("  {line}"));
    }
    console.line("");
    console.line(
        "Ctrl-C stops the server; running executions get 10 s to finish, and the next start on this store resumes any left.",
    );
    let shutdown = stop_signal();
    api::serve(listener, &api, shutdown)
        .await
        .map_err(|e| format!("serving on {base}: {e}"))?;
    let left = api.drain(DRAIN_PATIENCE).await;
    if left == 0 {
        console.line("Stopped; every execution it ran has ended.");
    } else {
        console.line(&format!(
            "Stopped with {left} execution(s) running; their last states are recorded, and the next `serve` on this store resumes them."
        ));
    }
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C, or SIGTERM (what `kill`, systemd and container runtimes send to stop a process).
/// Without a handler either still ends the process; it just skips the drain.
async fn stop_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {}
        () = terminate => {}
    }
}

/// Connections the kernel queues until the server accepts them. `TcpListener::bind` listens with
/// std's backlog of 128: a burst of more new connections than that (a load test at concurrency
/// 256) overflows it, the kernel drops the extra SYNs, and their clients send them again only
/// after a second, which showed as a maximum latency of about 1.05 s in every such run. Linux
/// caps it at `net.core.somaxconn` (4096 on current kernels).
const BACKLOG: u32 = 4096;

/// A listener on 127.0.0.1:`port` with [`BACKLOG`].
fn listen(port: u16) -> std::io::Result<tokio::net::TcpListener> {
    let socket = tokio::net::TcpSocket::new_v4()?;
    // A restart on the same port right after a stop finds it free, whatever waits in TIME_WAIT.
    socket.set_reuseaddr(true)?;
    socket.bind((std::net::Ipv4Addr::LOCALHOST, port).into())?;
    socket.listen(BACKLOG)
}

/// How long a stopping `serve` waits for its running executions.
const DRAIN_PATIENCE: std::time::Duration = std::time::Duration::from_secs(10);

/// The exporters the environment names, as in Lambda (`trip_local::telemetry::init_from_env`);
/// where they send, and what is misconfigured, goes to standard error, beside the report.
fn init_telemetry() {
    let installed = trip_local::telemetry::init_from_env();
    if let Some(endpoint) = &installed.traces_to {
        eprintln!("trip-local: spans to {endpoint}/v1/traces (OTLP/HTTP protobuf)");
    }
    if let Some(address) = &installed.metrics_to {
        eprintln!("trip-local: metrics to {address} (DogStatsD)");
    }
    for problem in &installed.problems {
        eprintln!("trip-local: {problem}");
    }
}

/// Where `replay-dead-letters` reads and writes, from the store flags and its own.
fn replay_target(
    store: &Store,
    search_table: Option<String>,
    queue_url: Option<String>,
) -> Result<ReplayTarget, String> {
    const DEPLOYED: &str = "for a deployed stack, give --search-table <SearchTableName> --queue-url <SearchDeadLetterQueueUrl> (its outputs)";
    match (store, queue_url) {
        (Store::DynamoDb { endpoint, table }, None) => Ok(ReplayTarget::Endpoint {
            endpoint: endpoint.clone(),
            table: table.clone(),
            search_table,
        }),
        (Store::DynamoDb { .. }, Some(_)) => Err(format!(
            "--queue-url names a deployed stack's queue; on a DynamoDB endpoint the queue is <table>-search-dead-letters ({DEPLOYED})"
        )),
        (Store::Aws { .. } | Store::InMemory, Some(queue_url)) => {
            let search_table =
                search_table.ok_or_else(|| format!("--search-table is missing: {DEPLOYED}"))?;
            Ok(ReplayTarget::Aws {
                search_table,
                queue_url,
            })
        }
        (Store::Aws { .. }, None) => Err(format!("--queue-url is missing: {DEPLOYED}")),
        (Store::InMemory, None) => Err(format!(
            "the in-memory store's dead letters live and die with the process that set them aside; replay the queue on a DynamoDB endpoint (--dynamodb-endpoint URL), or {DEPLOYED}"
        )),
    }
}

async fn replay_command(target: &ReplayTarget) -> Result<ExitCode, String> {
    let report = trip_local::search::replay_dead_letters(target)
        .await
        .map_err(|e| format!("replaying the dead letters: {e} (what was replayed is deleted; run it again to go on)"))?;
    println!("{report}");
    Ok(if report.is_clean() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// A generated document, to stdout or to `out`.
fn write_or_print(document: &str, out: Option<&std::path::Path>) -> Result<ExitCode, String> {
    match out {
        None => print!("{document}"),
        Some(path) => {
            std::fs::write(path, document)
                .map_err(|e| format!("writing {}: {e}", path.display()))?;
            println!("wrote {}", path.display());
        }
    }
    Ok(ExitCode::SUCCESS)
}

async fn demo_command(
    saga: &Saga,
    search: Option<&LocalSearch>,
    console: &Arc<Console>,
) -> Result<ExitCode, String> {
    let demo = run_demo(saga, console)
        .await
        .map_err(|e| format!("the store failed: {e}"))?;
    console.line("");
    console.line("Summary");
    for line in summary(&demo.runs) {
        console.line(&line);
    }
    console.line("");
    console.line(
        "Inventory check: what left the stock is held by confirmed trips or awaits an operator",
    );
    let checks = inventory_check(&demo);
    for line in inventory_lines(&checks) {
        console.line(&line);
    }
    let searched = if let Some(search) = search {
        search_section(saga, search, &demo, console).await?
    } else {
        console.line("");
        console.line("Search: on AWS the deployed stream consumer and GET /trips do it.");
        true
    };
    Ok(
        if checks.iter().all(demo::StockCheck::balances) && searched {
            ExitCode::SUCCESS
        } else {
            ExitCode::FAILURE
        },
    )
}

/// Books the rest of the week, waits for the stream consumer, and searches the week's
/// confirmed trips, three to a page; answers whether the search found exactly them.
async fn search_section(
    saga: &Saga,
    search: &LocalSearch,
    demo: &demo::DemoRun,
    console: &Arc<Console>,
) -> Result<bool, String> {
    console.line("");
    console.line("More trips over the following days (for the search):");
    let week = demo::book_week(saga, console)
        .await
        .map_err(|e| format!("the store failed: {e}"))?;
    search
        .caught_up()
        .await
        .map_err(|e| format!("the search projection: {e}"))?;
    let reports: Vec<_> = demo.runs.iter().map(|r| &r.report).chain(&week).collect();
    let check = demo::search_week(search.service(), &reports, 3)
        .await
        .map_err(|e| format!("the search table failed: {e}"))?;
    console.line("");
    console.line(&format!(
        "Search (from the stream, search table {}): GET /trips?status=CONFIRMED&departure_from={}&departure_to={}&limit=3",
        search.table(),
        check.from,
        check.to
    ));
    for line in demo::search_lines(&check) {
        console.line(&line);
    }
    Ok(check.holds())
}

async fn run_command(
    saga: &Saga,
    console: &Arc<Console>,
    plan: FaultPlan,
    request: Value,
) -> Result<ExitCode, String> {
    store::seed(saga.context())
        .await
        .map_err(|e| format!("seeding the catalogue: {e}"))?;
    console.line("");
    console.line(&format!("One trip, faults: {plan}"));
    console.line(&path_header());
    let observer: Arc<dyn Observer> = console.clone();
    let report = saga
        .run(request, plan, observer, 0)
        .await
        .map_err(|e| format!("reading the trip back: {e}"))?;
    for line in outcome_lines(&report) {
        console.line(&line);
    }
    let holdings = store::holdings(saga.context(), report.trip_id)
        .await
        .map_err(|e| format!("reading the reservations back: {e}"))?;
    console.line(&format!(
        "    holds:  {} seat(s), {} room(s) a night",
        holdings.seats, holdings.rooms
    ));
    Ok(if report.error().is_none() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn read_request(path: Option<&std::path::Path>) -> Result<Value, String> {
    let Some(path) = path else {
        return Ok(trip_request(TripId::new(), ROOMY_FLIGHT, HOTEL, GOOD_CARD));
    };
    let mut bytes = std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    // The saga's input may name its trip; the API's body may not (its id is the request's
    // Idempotency-Key): take the id out, and check the rest as the API would.
    let mut trip_id = TripId::new();
    if let Ok(Value::Object(mut fields)) = serde_json::from_slice::<Value>(&bytes)
        && let Some(id) = fields.shift_remove("trip_id")
    {
        trip_id = id
            .as_str()
            .and_then(|id| TripId::parse(id).ok())
            .ok_or_else(|| format!("{}: /trip_id: {id} is not a trip id", path.display()))?;
        bytes = Value::Object(fields).to_string().into_bytes();
    }
    // The API's own check: a request it would refuse never starts an execution here either
    // (every step would fail `Saga.InvalidPayload` and the compensations retry it in vain).
    match RequestDecoder::new().decode(&bytes, trip_id) {
        Ok(decoded) => serde_json::to_value(&decoded.request)
            .map_err(|e| format!("{} could not be re-encoded: {e}", path.display())),
        Err(Rejection::MalformedJson(violation)) => {
            Err(format!("{}: {}", path.display(), violation.message))
        }
        Err(Rejection::Invalid(violations)) => {
            let lines: Vec<String> = violations
                .iter()
                .map(|v| {
                    let at = if v.pointer.is_empty() {
                        "/"
                    } else {
                        &v.pointer
                    };
                    format!("  {at}: {}", v.message)
                })
                .collect();
            Err(format!(
                "{} is not a valid trip request:\n{}",
                path.display(),
                lines.join("\n")
            ))
        }
    }
}
