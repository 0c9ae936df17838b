//! A real DynamoDB-compatible server for tests, started on a free loopback port: moto's
//! `moto_server` or [dynoxide](https://crates.io/crates/dynoxide-rs).
//!
//! ```no_run
//! # async fn test() {
//! let table = kernel::testing::test_table().await; // a fresh, uniquely named single table
//! table.client.list_tables().send().await.unwrap();
//! # }
//! ```
//!
//! One server per test binary and engine ([`shared_server`], [`shared_server_of`]): starting moto
//! takes about a second, a table per test keeps tests independent. Each test gets its own
//! [`Client`], because an SDK client's connections belong to the tokio runtime that opened them
//! and every `#[tokio::test]` has its own.
//!
//! **Two engines.** [`shared_server`] runs the engine `$TEST_DYNAMODB` names (`moto`, the default,
//! or `dynoxide`), so every DynamoDB suite can be run on either; the test command runs them on
//! moto and the crowd tests on dynoxide ([`Engine`] says why).
//!
//! Each binary is looked up in its variable (`$MOTO_SERVER`, `$DYNOXIDE`), then where
//! `make setup` installs it in the workspace (or any ancestor directory of the crate under test),
//! then `PATH`. If it is missing or does not start, the test fails with a message that says how to
//! install it: a test that silently skips would report a green build that tested nothing.
//!
//! moto handles requests on parallel threads without a lock around a table, and undoes a cancelled
//! transaction by restoring a copy of the whole table taken before it, wiping out transactions that
//! committed meanwhile: 100 concurrent conditional decrements of 10 seats let 12 through. DynamoDB
//! applies each request atomically, and that is what our inventory relies on, so the harness puts
//! a lock around moto's WSGI application (a `sitecustomize.py` on `PYTHONPATH` that wraps
//! `werkzeug.serving.run_simple`): requests still arrive concurrently and in any order, each one is
//! applied whole. The server prints a marker when the lock is in place and the harness refuses to
//! run without it. dynoxide needs none of this: it applies each request in a SQLite transaction.
//!
//! The server runs under a small `sh` watchdog that holds a pipe from this process and kills the
//! server when the pipe closes. Rust never runs destructors of statics, so this is what stops the
//! shared server when the test binary exits, however it exits (even `SIGKILL`).
//!
//! Its memory is bounded ([`MEMORY_LIMIT_KIB`] of address space, `ulimit -v`): moto keeps every
//! stream record and copies tables per transaction, so a runaway test would otherwise grow it
//! until the machine swaps. Over the limit, the server's allocations fail and the test fails with
//! them, loudly, instead.

pub mod actions;

use std::io::Read;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::Client;

/// The region every test client uses; moto keeps each region's tables apart.
pub const REGION: &str = "us-east-1";

/// The DynamoDB-compatible servers the tests run against.
///
/// moto (Python, PyPI) is the reference the contract suites were written against: its behaviour
/// for every request this project sends was checked against DynamoDB's documentation. It applies
/// one request at a time here (see the module docs) and copies every table a transaction touches,
/// stream records included, so each transaction costs more as a table grows: 200 bookings at once
/// did not finish in 25 minutes. dynoxide (Rust, crates.io) keeps tables in an in-memory SQLite
/// database, applies each request in one SQLite transaction and is checked against DynamoDB
/// by a public conformance suite; the crowd tests (hundreds of bookings at once) run on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    /// `moto_server`, from `moto[server]` on PyPI.
    Moto,
    /// `dynoxide`, from `dynoxide-rs` on crates.io.
    Dynoxide,
}

impl Engine {
    /// The engine `$TEST_DYNAMODB` names: `moto` (also when unset) or `dynoxide`.
    ///
    /// # Errors
    /// When the variable names anything else.
    pub fn from_env() -> Result<Self, String> {
        match std::env::var("TEST_DYNAMODB") {
            Err(std::env::VarError::NotPresent) => Self::named(None),
            Ok(name) => Self::named(Some(&name)),
            Err(error) => Err(format!("TEST_DYNAMODB: {error}")),
        }
    }

    /// The engine a value of `$TEST_DYNAMODB` names; moto when there is none.
    ///
    /// # Errors
    /// When `name` is neither `moto` nor `dynoxide`.
    pub fn named(name: Option<&str>) -> Result<Self, String> {
        match name {
            None | Some("moto") => Ok(Self::Moto),
            Some("dynoxide") => Ok(Self::Dynoxide),
            Some(other) => Err(format!(
                "TEST_DYNAMODB={other:?}: expected \"moto\" or \"dynoxide\""
            )),
        }
    }

    /// The server's command name.
    pub const fn binary(self) -> &'static str {
        match self {
            Self::Moto => "moto_server",
            Self::Dynoxide => "dynoxide",
        }
    }

    /// The variable that names the binary, the workspace path `make setup` installs it at, and
    /// how to get it; the last is printed by a test that cannot start it.
    const fn install(self) -> (&'static str, &'static str, &'static str) {
        match self {
            Self::Moto => ("MOTO_SERVER", ".venv/bin/moto_server", INSTALL_HINT),
            Self::Dynoxide => ("DYNOXIDE", ".tools/bin/dynoxide", DYNOXIDE_INSTALL_HINT),
        }
    }
}

/// How to get moto when it is missing; also printed by the failing test.
pub const INSTALL_HINT: &str = "run `make setup` (scripts/setup.sh installs tools/requirements-test.txt, \
     moto[server]==5.2.1, into .venv/ at the workspace root), or set MOTO_SERVER to a moto_server binary";

/// How to get dynoxide when it is missing; also printed by the failing test.
pub const DYNOXIDE_INSTALL_HINT: &str = "run `make setup` (scripts/setup.sh runs `cargo install \
     dynoxide-rs --version 3.2.0 --locked` into .tools/ at the workspace root), or set DYNOXIDE to a \
     dynoxide binary";

const STARTUP_TIMEOUT: Duration = Duration::from_secs(30);

/// The address space moto may use, in KiB (4 GiB): about ten times what the test suites need.
pub const MEMORY_LIMIT_KIB: u64 = 4 * 1024 * 1024;

/// Starts moto and kills it (by closing its watchdog's pipe) when dropped.
const WATCHDOG: &str = r#"exec 3<&0
ulimit -v "$MOTO_MEMORY_LIMIT_KIB" || exit 97
"$0" "$@" </dev/null 3<&- &
child=$!
{ read -r _ <&3; kill "$child" 2>/dev/null; } </dev/null &
wait "$child""#;

/// Makes moto apply one request at a time (see the module docs). Python imports `sitecustomize`
/// at start-up, before `moto.server` imports `run_simple`, so moto gets the wrapped one.
const SERIALISE_REQUESTS: &str = r"# Written by kernel::testing: apply one moto request at a time, as DynamoDB applies each atomically.
import sys
import threading

try:
    import werkzeug.serving as _serving
except ImportError:
    pass
else:
    _run_simple = _serving.run_simple

    def _serialised_run_simple(hostname, port, application, *args, **kwargs):
        lock = threading.Lock()

        def serialised(environ, start_response):
            with lock:
                # Drain the response inside the lock: the work may happen while iterating.
                return list(application(environ, start_response))

        print(SERIALISED_MARKER, file=sys.stderr, flush=True)
        return _run_simple(hostname, port, serialised, *args, **kwargs)

    _serving.run_simple = _serialised_run_simple
";

/// What the patched server prints once the lock is in place.
const SERIALISED_MARKER: &str = "kernel-testing: moto requests serialised";

/// A running DynamoDB-compatible server. Dropping it stops the server.
#[derive(Debug)]
pub struct TestServer {
    engine: Engine,
    watchdog: Child,
    endpoint: String,
    log: PathBuf,
    _log_file: tempfile::TempPath,
    _python_path: tempfile::TempDir,
}

impl TestServer {
    /// Starts a server of `engine` on a free loopback port and waits until it accepts
    /// connections.
    ///
    /// # Errors
    /// When the server cannot be found or does not come up within 30 s; the message includes
    /// the server's output.
    pub fn start(engine: Engine) -> Result<Self, String> {
        let binary = find_binary(engine)?;
        // The port is free when we look and taken by the server a moment later; another process
        // may win the race in between, so try a few ports before giving up.
        let mut last_error = String::new();
        for _ in 0..3 {
            match Self::start_on(engine, &binary, free_port()?) {
                Ok(server) => return Ok(server),
                Err(error) => last_error = error,
            }
        }
        Err(last_error)
    }

    fn start_on(engine: Engine, binary: &Path, port: u16) -> Result<Self, String> {
        let log_file = tempfile::Builder::new()
            .prefix("dynamodb-server-")
            .suffix(".log")
            .tempfile()
            .map_err(|e| format!("creating the server's log file: {e}"))?;
        let (file, log) = log_file.into_parts();
        let stderr = file
            .try_clone()
            .map_err(|e| format!("the server's log file: {e}"))?;
        let python_path = tempfile::Builder::new()
            .prefix("moto-site-")
            .tempdir()
            .map_err(|e| format!("creating moto's sitecustomize directory: {e}"))?;
        let mut command = Command::new("sh");
        command.arg("-c").arg(WATCHDOG).arg(binary);
        match engine {
            Engine::Moto => {
                let script = SERIALISE_REQUESTS
                    .replace("SERIALISED_MARKER", &format!("{SERIALISED_MARKER:?}"));
                std::fs::write(python_path.path().join("sitecustomize.py"), script)
                    .map_err(|e| format!("writing moto's sitecustomize.py: {e}"))?;
                let mut search_path = vec![python_path.path().to_path_buf()];
                search_path.extend(
                    std::env::var_os("PYTHONPATH")
                        .iter()
                        .flat_map(std::env::split_paths),
                );
                let search_path =
                    std::env::join_paths(search_path).map_err(|e| format!("PYTHONPATH: {e}"))?;
                command
                    .args(["-H", "127.0.0.1", "-p", &port.to_string()])
                    .env("PYTHONPATH", search_path);
            }
            Engine::Dynoxide => {
                command.args(["--host", "127.0.0.1", "--port", &port.to_string()]);
            }
        }
        let watchdog = command
            .env("MOTO_MEMORY_LIMIT_KIB", MEMORY_LIMIT_KIB.to_string())
            .stdin(Stdio::piped())
            .stdout(file)
            .stderr(stderr)
            .spawn()
            .map_err(|e| format!("starting {}: {e}", binary.display()))?;
        let log_path = log.to_path_buf();
        let mut server = Self {
            engine,
            watchdog,
            endpoint: format!("http://127.0.0.1:{port}"),
            log: log_path,
            _log_file: log,
            _python_path: python_path,
        };
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        let deadline = Instant::now() + STARTUP_TIMEOUT;
        loop {
            if TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
                // The marker is printed before the socket is bound, so it is in the log by now.
                if engine == Engine::Moto && !server.output().contains(SERIALISED_MARKER) {
                    return Err(format!(
                        "moto_server ({}) started without the request lock (is it a Python moto with \
                         werkzeug, honouring PYTHONPATH?); concurrent tests would not be meaningful:\n{}",
                        binary.display(),
                        server.output()
                    ));
                }
                return Ok(server);
            }
            if let Ok(Some(status)) = server.watchdog.try_wait() {
                return Err(format!(
                    "{} exited with {status} before listening on port {port}:\n{}",
                    binary.display(),
                    server.output()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "{} did not listen on port {port} within {}s:\n{}",
                    binary.display(),
                    STARTUP_TIMEOUT.as_secs(),
                    server.output()
                ));
            }
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Which server this is.
    pub const fn engine(&self) -> Engine {
        self.engine
    }

    /// `http://127.0.0.1:<port>`.
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// A DynamoDB client for this server: dummy credentials, region [`REGION`].
    pub fn client(&self) -> Client {
        crate::dynamo::local_client(&self.endpoint, REGION, "kernel-testing")
    }

    /// What the server printed so far (its request log and errors).
    pub fn output(&self) -> String {
        let mut text = String::new();
        if let Ok(mut file) = std::fs::File::open(&self.log) {
            let _ = file.read_to_string(&mut text);
        }
        text
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        // Closing the pipe makes the watchdog kill the server; then reap the watchdog.
        drop(self.watchdog.stdin.take());
        let _ = self.watchdog.wait();
    }
}

/// The server shared by every test of this binary, of the engine `$TEST_DYNAMODB` names
/// ([`Engine::from_env`]), started on first use.
///
/// # Panics
/// When the variable names no engine or the server cannot start, with the reason and how to
/// install it.
pub fn shared_server() -> &'static TestServer {
    shared_server_of(Engine::from_env().unwrap_or_else(|error| panic!("{error}")))
}

/// The server of `engine` shared by every test of this binary, started on first use: for tests
/// that need one engine whatever `$TEST_DYNAMODB` says.
///
/// # Panics
/// When the server cannot start, with the reason and how to install it.
pub fn shared_server_of(engine: Engine) -> &'static TestServer {
    static MOTO: OnceLock<TestServer> = OnceLock::new();
    static DYNOXIDE: OnceLock<TestServer> = OnceLock::new();
    let server = match engine {
        Engine::Moto => &MOTO,
        Engine::Dynoxide => &DYNOXIDE,
    };
    server.get_or_init(|| {
        TestServer::start(engine)
            .unwrap_or_else(|error| panic!("cannot start {}: {error}", engine.binary()))
    })
}

/// A uniquely named single table on the shared server, and a client for it.
#[derive(Debug, Clone)]
pub struct TestTable {
    /// A client for the shared server, owned by the calling test's runtime.
    pub client: Client,
    /// The table's name.
    pub name: String,
}

/// Creates a fresh single table ([`crate::dynamo::create_table`]) on the shared server.
///
/// # Panics
/// When the server cannot start or the table cannot be created.
pub async fn test_table() -> TestTable {
    test_table_on(shared_server()).await
}

/// Creates a fresh single table ([`crate::dynamo::create_table`]) on `server`.
///
/// # Panics
/// When the table cannot be created.
pub async fn test_table_on(server: &TestServer) -> TestTable {
    let client = server.client();
    let name = format!("test-{}", uuid::Uuid::new_v4().simple());
    crate::dynamo::create_table(&client, &name)
        .await
        .unwrap_or_else(|e| {
            panic!(
                "creating table {name} on {}: {e}\n{}",
                server.endpoint(),
                server.output()
            )
        });
    TestTable { client, name }
}

fn free_port() -> Result<u16, String> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .map_err(|e| format!("finding a free port: {e}"))?;
    listener
        .local_addr()
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

/// The engine's variable (`$MOTO_SERVER`, `$DYNOXIDE`), then its place in a workspace above the
/// crate under test or this crate, then `PATH`.
fn find_binary(engine: Engine) -> Result<PathBuf, String> {
    let (variable, in_workspace, hint) = engine.install();
    if let Some(path) = std::env::var_os(variable) {
        let path = PathBuf::from(path);
        return if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{variable}={} is not a file; {hint}",
                path.display()
            ))
        };
    }
    let crate_dirs = [
        std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from),
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR"))),
    ];
    let installed = crate_dirs
        .iter()
        .flatten()
        .flat_map(|dir| dir.ancestors())
        .map(|dir| dir.join(in_workspace))
        .find(|candidate| candidate.is_file());
    let on_path = || {
        std::env::var_os("PATH")
            .iter()
            .flat_map(std::env::split_paths)
            .map(|dir| dir.join(engine.binary()))
            .find(|candidate| candidate.is_file())
    };
    installed
        .or_else(on_path)
        .ok_or_else(|| format!("{} not found; {hint}", engine.binary()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ENGINES: [Engine; 2] = [Engine::Moto, Engine::Dynoxide];

    #[test]
    fn a_server_stops_when_dropped() {
        for engine in ENGINES {
            a_server_of_stops_when_dropped(engine);
        }
    }

    fn a_server_of_stops_when_dropped(engine: Engine) {
        let server = TestServer::start(engine).unwrap();
        assert_eq!(server.engine(), engine);
        let port = server
            .endpoint()
            .rsplit(':')
            .next()
            .unwrap()
            .parse::<u16>()
            .unwrap();
        let address = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        assert!(TcpStream::connect_timeout(&address, Duration::from_secs(1)).is_ok());
        drop(server);
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect_timeout(&address, Duration::from_millis(200)).is_ok() {
            assert!(
                Instant::now() < deadline,
                "{engine:?} still listening after drop"
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    #[test]
    fn servers_run_with_bounded_memory() {
        for engine in ENGINES {
            runs_with_bounded_memory(engine);
        }
    }

    #[test]
    fn an_engine_is_named_or_refused() {
        assert_eq!(Engine::named(None), Ok(Engine::Moto));
        assert_eq!(Engine::named(Some("moto")), Ok(Engine::Moto));
        assert_eq!(Engine::named(Some("dynoxide")), Ok(Engine::Dynoxide));
        let refused = Engine::named(Some("dynamodb-local")).unwrap_err();
        assert!(refused.contains("\"dynamodb-local\""), "{refused}");
    }

    fn runs_with_bounded_memory(engine: Engine) {
        let server = TestServer::start(engine).unwrap();
        let watchdog = server.watchdog.id().to_string();
        // The server is the watchdog's child: its limits are the kernel's record of `ulimit -v`.
        let child = std::fs::read_dir("/proc")
            .unwrap()
            .filter_map(Result::ok)
            .find(|entry| {
                std::fs::read_to_string(entry.path().join("stat")).is_ok_and(|stat| {
                    // `pid (comm) state ppid …`; comm may hold spaces, so split after it.
                    stat.rsplit(')')
                        .next()
                        .and_then(|rest| rest.split_whitespace().nth(1))
                        == Some(watchdog.as_str())
                })
            })
            .expect("the server runs under its watchdog");
        let limits = std::fs::read_to_string(child.path().join("limits")).unwrap();
        let address_space = limits
            .lines()
            .find(|line| line.starts_with("Max address space"))
            .unwrap();
        let bytes = (MEMORY_LIMIT_KIB * 1024).to_string();
        assert_eq!(
            address_space.split_whitespace().nth(3),
            Some(bytes.as_str()),
            "{address_space}"
        );
    }
}
