//! `trip-local serve` as a process, for the tests that need the real binary and its listener.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A server process, killed if the test ends first (a failed assertion must not leave it
/// running).
pub(crate) struct Server(pub(crate) Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts `trip-local <options> serve --port 0 <extra>` and reads what it prints up to the line
/// that says how to stop it; gives the server, its address (`127.0.0.1:<port>`) and that text.
/// The rest of its output is read and dropped, or the server would block on a full pipe.
pub(crate) fn serve(options: &[&str], extra: &[&str]) -> (Server, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_trip-local"))
        .args(options)
        .args(["serve", "--port", "0"])
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut printed = String::new();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    while stdout.read_line(&mut line).unwrap() > 0 {
        printed.push_str(&std::mem::take(&mut line));
        if printed.contains("Ctrl-C") {
            break;
        }
    }
    std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
    let server = Server(child);
    let address = printed
        .split("API on http://")
        .nth(1)
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap_or_else(|| panic!("no address in:\n{printed}"))
        .to_owned();
    (server, address, printed)
}
