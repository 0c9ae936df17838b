//! `saga-dsl`: writes every saga's ASL, Mermaid diagram and function manifest to `generated/`;
//! with `--check`, fails and names each file that is stale, missing or orphaned.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;

/// Generates the artefacts of every `saga!` in the workspace.
#[derive(Parser)]
#[command(version, about)]
struct Args {
    /// Compare instead of writing; exit 1 if anything is out of date.
    #[arg(long)]
    check: bool,
    /// The workspace to search (default: the one this tool belongs to).
    #[arg(long)]
    root: Option<PathBuf>,
    /// Where the artefacts go (default: `<root>/generated`).
    #[arg(long)]
    out: Option<PathBuf>,
}

fn main() -> ExitCode {
    let args = Args::parse();
    let custom_root = args.root.is_some();
    let root = args.root.unwrap_or_else(|| {
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("..")
            .canonicalize()
            .expect("workspace root exists")
    });
    // Messages name the directory as the user would type it.
    let (out, shown, regenerate) = match args.out {
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
    match saga_dsl::cli::run(&root, &out, args.check) {
        Err(error) => {
            eprintln!("{error}");
            ExitCode::FAILURE
        }
        Ok(outcome) if args.check => {
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
