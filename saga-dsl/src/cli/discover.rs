//! Finds every `saga!` in the source of a workspace's packages.

use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

use crate::Compiled;

/// Directories never searched: build output, dependencies, generated files, tooling.
const SKIPPED_DIRS: [&str; 6] = [
    "target",
    "node_modules",
    "generated",
    ".git",
    ".venv",
    "cdk.out",
];

/// A `saga!` found in a source file, compiled.
pub struct Found {
    /// The file that declares it, relative to the workspace root.
    pub file: PathBuf,
    /// The compiled saga.
    pub compiled: Compiled,
}

/// A `saga!` that does not compile, located in its file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    /// The file, relative to the workspace root.
    pub file: PathBuf,
    /// 1-based line.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// The source line the error points at.
    pub source_line: String,
    /// The same message the compile error shows.
    pub message: String,
}

impl std::fmt::Display for Invalid {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let gutter = self.line.to_string().len();
        writeln!(f, "error: {}", self.message)?;
        writeln!(
            f,
            "{:gutter$}--> {}:{}:{}",
            "",
            self.file.display(),
            self.line,
            self.column
        )?;
        writeln!(f, "{:gutter$} |", "")?;
        writeln!(f, "{} | {}", self.line, self.source_line)?;
        write!(f, "{:gutter$} | {:>col$}", "", "^", col = self.column)
    }
}

/// What a search of the workspace found.
#[derive(Default)]
pub struct Discovery {
    /// Sagas that compiled.
    pub sagas: Vec<Found>,
    /// Every error of every saga that did not.
    pub invalid: Vec<Invalid>,
}

/// Searches `src/` of every Cargo package under `root`.
///
/// # Errors
/// When a directory or file cannot be read, or a `Cargo.toml` has no package name.
pub fn discover(root: &Path) -> std::io::Result<Discovery> {
    let mut discovery = Discovery::default();
    for manifest in package_manifests(root)? {
        let package_dir = manifest.parent().expect("a manifest is in a directory");
        let Some(crate_name) = package_name(&manifest)? else {
            continue;
        };
        let src = package_dir.join("src");
        if !src.is_dir() {
            continue;
        }
        for file in rust_files(&src)? {
            let text = fs::read_to_string(&file)?;
            let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
            scan_file(&relative, &text, &crate_name, &mut discovery);
        }
    }
    discovery
        .sagas
        .sort_by(|a, b| a.compiled.saga.module.cmp(&b.compiled.saga.module));
    Ok(discovery)
}

/// Compiles every `saga!` in one file's text.
pub fn scan_file(file: &Path, text: &str, crate_name: &str, discovery: &mut Discovery) {
    let Ok(syntax) = syn::parse_file(text) else {
        // A file that is not valid Rust fails `cargo build` with rustc's own message; we have
        // nothing to add.
        return;
    };
    let mut finder = SagaMacros::default();
    finder.visit_file(&syntax);
    for tokens in finder.found {
        match crate::compile(tokens, crate_name) {
            Ok(compiled) => discovery.sagas.push(Found {
                file: file.to_path_buf(),
                compiled,
            }),
            Err(error) => discovery
                .invalid
                .extend(error.into_iter().map(|e| locate(file, text, &e))),
        }
    }
}

fn locate(file: &Path, text: &str, error: &syn::Error) -> Invalid {
    let start = error.span().start();
    Invalid {
        file: file.to_path_buf(),
        line: start.line,
        column: start.column + 1,
        source_line: text
            .lines()
            .nth(start.line.saturating_sub(1))
            .unwrap_or_default()
            .to_owned(),
        message: error.to_string(),
    }
}

#[derive(Default)]
struct SagaMacros {
    found: Vec<proc_macro2::TokenStream>,
}

impl<'ast> Visit<'ast> for SagaMacros {
    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if mac.path.segments.last().is_some_and(|s| s.ident == "saga") {
            self.found.push(mac.tokens.clone());
        }
        syn::visit::visit_macro(self, mac);
    }
}

fn package_manifests(root: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut manifests = Vec::new();
    let walker = walkdir::WalkDir::new(root)
        .sort_by_file_name()
        .into_iter()
        .filter_entry(|entry| {
            !(entry.file_type().is_dir()
                && entry.depth() > 0
                && entry
                    .file_name()
                    .to_str()
                    .is_some_and(|name| SKIPPED_DIRS.contains(&name) || name.starts_with('.')))
        });
    for entry in walker {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_file() && entry.file_name() == "Cargo.toml" {
            manifests.push(entry.into_path());
        }
    }
    Ok(manifests)
}

fn package_name(manifest: &Path) -> std::io::Result<Option<String>> {
    let text = fs::read_to_string(manifest)?;
    let value: toml::Table = text.parse().map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {e}", manifest.display()),
        )
    })?;
    Ok(value
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .map(ToOwned::to_owned))
}

fn rust_files(src: &Path) -> std::io::Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in walkdir::WalkDir::new(src).sort_by_file_name() {
        let entry = entry.map_err(std::io::Error::other)?;
        if entry.file_type().is_file() && entry.path().extension().is_some_and(|e| e == "rs") {
            files.push(entry.into_path());
        }
    }
    Ok(files)
}
