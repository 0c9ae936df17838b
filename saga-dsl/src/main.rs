//! `saga-dsl`: writes every saga's ASL, Mermaid diagram and function manifest to `generated/`;
//! with `--check`, fails and names each file that is stale, missing or orphaned; `report` prints
//! what each path through each saga costs on Step Functions.
//!
//! The workspace is the one the current directory is in, found as cargo finds it, and every run
//! prints it first.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use saga_dsl::cli;

/// Generates the artefacts of every `saga!` in the workspace, or reports their budget.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,
    /// Compare instead of writing; exit 1 if anything is out of date.
    #[arg(long)]
    check: bool,
    /// The workspace to search (default: the Cargo workspace of the current directory).
    #[arg(long, global = true)]
    root: Option<PathBuf>,
    /// Where the artefacts go (default: `<root>/generated`).
    #[arg(long)]
    out: Option<PathBuf>,
}

#[derive(Subcommand)]
enum Command {
    /// For each saga and each path through its state machine: state transitions and Lambda
    /// invocations (without retries and with every retrier exhausted), history events, cost per
    /// 1,000 executions, and the largest payload a Task can receive.
    Report {
        /// Only the saga with this name (e.g. `TripBooking`).
        #[arg(long)]
        saga: Option<String>,
    },
}

fn main() -> ExitCode {
    let args = Args::parse();
    let root = match workspace(args.root.as_deref()) {
        Ok(root) => root,
        Err(error) => {
            eprintln!("error: {error}");
            return ExitCode::FAILURE;
        }
    };
    match args.command {
        // clap's `args_conflicts_with_subcommands` would refuse `--root` too, which both take.
        Some(Command::Report { .. }) if args.check || args.out.is_some() => {
            eprintln!("error: --check and --out are for generating files; `report` takes neither");
            ExitCode::FAILURE
        }
        Some(Command::Report { saga }) => {
            println!("workspace: {}", root.display());
            report(&root, saga.as_deref())
        }
        None => {
            println!("workspace: {}", root.display());
            generate(&root, args.root.is_some(), args.check, args.out)
        }
    }
}

/// `--root` made absolute, or the workspace of the current directory.
fn workspace(root: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(root) = root {
        return root
            .canonicalize()
            .map_err(|e| format!("--root {}: {e}", root.display()));
    }
    let here =
        std::env::current_dir().map_err(|e| format!("cannot read the current directory: {e}"))?;
    cli::workspace::find_root(&here).map_err(|e| e.to_string())
}

fn report(root: &Path, saga: Option<&str>) -> ExitCode {
    match cli::reports(root, saga) {
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
        Ok(reports) => {
            // A report is often piped into `head` or `less`: a reader that goes away early is
            // no failure.
            let mut stdout = std::io::stdout().lock();
            let written = reports
                .iter()
                .try_for_each(|report| writeln!(stdout, "\n{report}"));
            match written {
                Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
                    eprintln!("error: {e}");
                    ExitCode::FAILURE
                }
                _ => ExitCode::SUCCESS,
            }
        }
    }
}

fn generate(root: &Path, custom_root: bool, check: bool, out: Option<PathBuf>) -> ExitCode {
    // Messages name the directory as the user would type it.
    let (out, shown, regenerate) = match out {
        Some(out) => {
            let shown = format!("{}", out.display());
            let regenerate = format!("cargo run -p saga-dsl -- --out {shown}");
            (out, shown, regenerate)
        }
        None if custom_root => (
            root.join("generated"),
            format!("{}", root.join("generated").display()),
            format!("cargo run -p saga-dsl -- --root {}", root.display()),
        ),
        None => (
            root.join("generated"),
            "generated/".to_owned(),
            "cargo run -p saga-dsl".to_owned(),
        ),
    };
    match cli::run(root, &out, check) {
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
        Ok(outcome) if check => {
            for name in &outcome.changed {
                eprintln!("stale: {}", out.join(name).display());
            }
            for name in &outcome.missing {
                eprintln!("missing: {}", out.join(name).display());
            }
            for name in &outcome.orphaned {
                eprintln!(
                    "orphaned (no saga generates it): {}",
                    out.join(name).display()
                );
            }
            if outcome.is_clean() {
                println!("{shown} is up to date ({} files)", outcome.unchanged.len());
                ExitCode::SUCCESS
            } else {
                eprintln!("{shown} is out of date: run `{regenerate}` and commit the result");
                ExitCode::FAILURE
            }
        }
        Ok(outcome) => {
            for name in outcome.changed.iter().chain(&outcome.missing) {
                println!("wrote {}", out.join(name).display());
            }
            for name in &outcome.orphaned {
                println!("removed {}", out.join(name).display());
            }
            println!("{} file(s) unchanged", outcome.unchanged.len());
            ExitCode::SUCCESS
        }
    }
}
