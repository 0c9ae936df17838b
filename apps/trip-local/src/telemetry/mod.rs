//! Telemetry on one machine: the local runs export what the Lambda functions export
//! (`kernel::telemetry`), and [`run_receiver`] (`trip-local otlp-receiver`) stands in for the
//! Datadog extension, printing each trace as a tree and each metric as it arrives.
//!
//! ```sh
//! cargo run -p trip-local -- otlp-receiver &          # 127.0.0.1:4318 (OTLP/HTTP), :8125 (DogStatsD)
//! OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 DD_DOGSTATSD_URL=udp://127.0.0.1:8125 \
//!   cargo run -p trip-local -- run
//! ```
//!
//! The receiver is a library too, which the telemetry tests run in-process:
//!
//! ```
//! use trip_local::telemetry::Receiver;
//!
//! # tokio::runtime::Runtime::new()?.block_on(async {
//! let receiver = Receiver::start(([127, 0, 0, 1], 0).into()).await?;
//! assert!(receiver.endpoint().starts_with("http://127.0.0.1:"));
//! assert!(receiver.received().spans().is_empty());
//! # Ok::<(), std::io::Error>(())
//! # })?;
//! # Ok::<(), std::io::Error>(())
//! ```

mod receiver;
mod tree;

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::time::Duration;

use kernel::telemetry::Config;
use kernel::tracing_setup::{Installed, LogOutput};

pub use receiver::{PROTOBUF, Received, ReceivedSpan, Receiver, router};
pub use tree::{render_trace, render_traces};

/// The exporters and logs of a local run, from the environment as a Lambda function reads it:
/// spans to `OTEL_EXPORTER_OTLP_ENDPOINT`, metrics to `DD_DOGSTATSD_URL`, and the JSON log lines
/// on standard error when `RUST_LOG` is set (standard output is the run's report). Then every
/// step of the saga adds its trip id to its span and flushes it, as in Lambda.
pub fn init_from_env() -> Installed {
    let logs = if std::env::var_os("RUST_LOG").is_some() {
        LogOutput::Stderr
    } else {
        LogOutput::Off
    };
    let installed = kernel::tracing_setup::init(&Config::from_env(), logs);
    trip_saga::configure_step_tracing();
    installed
}

/// How long a trace must be quiet before the receiver prints it: the steps of a local run
/// export one after the other, milliseconds apart.
const QUIET: Duration = Duration::from_millis(700);

/// Receives OTLP/HTTP on `otlp` and, when given, DogStatsD on `dogstatsd`, and prints what
/// arrives on standard output until interrupted: each metric line as it comes, each trace as a
/// tree once no span of it has arrived for a moment (again, whole, if more come later).
///
/// # Errors
/// When an address cannot be bound.
pub async fn run_receiver(otlp: SocketAddr, dogstatsd: Option<SocketAddr>) -> std::io::Result<()> {
    let receiver = Receiver::start(otlp).await?;
    println!(
        "OTLP/HTTP receiver on {}/v1/traces: export with OTEL_EXPORTER_OTLP_ENDPOINT={}",
        receiver.endpoint(),
        receiver.endpoint()
    );
    if let Some(address) = dogstatsd {
        let socket = tokio::net::UdpSocket::bind(address).await?;
        println!(
            "DogStatsD receiver on udp://{}: send with DD_DOGSTATSD_URL=udp://{}",
            socket.local_addr()?,
            socket.local_addr()?
        );
        tokio::spawn(async move {
            let mut buffer = vec![0; 65_536];
            while let Ok(n) = socket.recv(&mut buffer).await {
                for line in String::from_utf8_lossy(&buffer[..n]).lines() {
                    println!("metric {line}");
                }
            }
        });
    }
    println!("Ctrl-C stops it.");
    let printing = print_traces(receiver.received().clone());
    tokio::select! {
        () = printing => {}
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(())
}

/// Prints each trace whose spans have stopped arriving.
async fn print_traces(received: Received) {
    // Per trace: how many spans were printed, and how many there were at the last look.
    let mut seen: BTreeMap<String, (usize, usize)> = BTreeMap::new();
    loop {
        received.next_export(QUIET).await;
        let spans = received.spans();
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for span in &spans {
            *counts.entry(&span.trace_id).or_default() += 1;
        }
        for (trace_id, count) in counts {
            let (printed, last) = seen.entry(trace_id.to_owned()).or_default();
            // Quiet: no new span since the last look, and some not printed yet.
            if count == *last && count > *printed {
                let trace: Vec<&ReceivedSpan> =
                    spans.iter().filter(|s| s.trace_id == trace_id).collect();
                println!();
                for line in render_trace(&trace) {
                    println!("{line}");
                }
                *printed = count;
            }
            *last = count;
        }
    }
}
