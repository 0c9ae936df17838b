//! Finds every `saga!` in the source of a workspace's packages.

use std::fs;
use std::path::{Path, PathBuf};

use syn::visit::Visit;

use crate::{Compiled, Origin};

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
    /// 1-based line of the saga's name in `file`.
    pub line: usize,
    /// 1-based column of the saga's name.
    pub column: usize,
    /// The compiled saga.
    pub compiled: Compiled,
}

impl Found {
    /// `file:line:column` of the saga's name, as compilers print locations.
    pub fn location(&self) -> String {
        format!("{}:{}:{}", self.file.display(), self.line, self.column)
    }
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
        let Some(package) = package_names(&manifest)? else {
            continue;
        };
        let src = package_dir.join("src");
        if !src.is_dir() {
            continue;
        }
        for file in rust_files(&src)? {
            let text = fs::read_to_string(&file)?;
            let relative = file.strip_prefix(root).unwrap_or(&file).to_path_buf();
            let module = file
                .strip_prefix(&src)
                .ok()
                .and_then(|in_src| module_of(&package, in_src, src.join("lib.rs").is_file()));
            scan_file(
                &relative,
                &text,
                &package.name,
                module.as_deref(),
                &mut discovery,
            );
        }
    }
    discovery
        .sagas
        .sort_by(|a, b| a.compiled.saga.module.cmp(&b.compiled.saga.module));
    Ok(discovery)
}

/// Compiles every `saga!` in one file's text. `module` is the Rust module the file defines
/// (`trip_saga::saga`), when known; a `saga!` inside an inline `mod` adds to it.
pub fn scan_file(
    file: &Path,
    text: &str,
    crate_name: &str,
    module: Option<&str>,
    discovery: &mut Discovery,
) {
    let Ok(syntax) = syn::parse_file(text) else {
        // A file that is not valid Rust fails `cargo build` with rustc's own message; we have
        // nothing to add.
        return;
    };
    let mut finder = SagaMacros::default();
    finder.visit_file(&syntax);
    for (tokens, inline) in finder.found {
        let declared_in = module.map(|module| {
            std::iter::once(module.to_owned())
                .chain(inline)
                .collect::<Vec<_>>()
                .join("::")
        });
        let origin = Origin {
            crate_name: crate_name.to_owned(),
            declared_in,
        };
        match crate::compile(tokens, origin) {
            Ok(compiled) => {
                // Read now: a span's location is only meaningful on the thread that parsed
                // the file (proc-macro2 keeps its source map per thread).
                let start = compiled.saga.ident.span().start();
                discovery.sagas.push(Found {
                    file: file.to_path_buf(),
                    line: start.line,
                    column: start.column + 1,
                    compiled,
                });
            }
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

/// Every `saga!` of a file, with the inline modules it is nested in.
#[derive(Default)]
struct SagaMacros {
    found: Vec<(proc_macro2::TokenStream, Vec<String>)>,
    inline: Vec<String>,
}

impl<'ast> Visit<'ast> for SagaMacros {
    fn visit_item_mod(&mut self, item: &'ast syn::ItemMod) {
        self.inline.push(item.ident.to_string());
        syn::visit::visit_item_mod(self, item);
        self.inline.pop();
    }

    fn visit_macro(&mut self, mac: &'ast syn::Macro) {
        if mac.path.segments.last().is_some_and(|s| s.ident == "saga") {
            self.found.push((mac.tokens.clone(), self.inline.clone()));
        }
        syn::visit::visit_macro(self, mac);
    }
}

/// A package's name and the name of its library target.
struct PackageNames {
    name: String,
    lib: Option<String>,
}

/// The module a file under `src/` defines, by Cargo's layout conventions: `lib.rs` (or, without
/// one, `main.rs`) is the crate root, `a/b.rs` and `a/b/mod.rs` are `a::b`, and `bin/x.rs` and
/// `bin/x/main.rs` are the roots of the binary crate `x`. `None` for what the conventions do not
/// place (a `#[path]` attribute can move a module anywhere).
fn module_of(package: &PackageNames, in_src: &Path, has_lib: bool) -> Option<String> {
    let parts: Vec<&str> = in_src
        .iter()
        .map(|p| p.to_str())
        .collect::<Option<Vec<_>>>()?;
    let snake = |name: &str| name.replace('-', "_");
    let (crate_ident, rest) = match parts.as_slice() {
        ["bin", binary, rest @ ..] => {
            let binary = binary.strip_suffix(".rs").unwrap_or(binary);
            (snake(binary), rest.to_vec())
        }
        [_, ..] if has_lib => (
            snake(package.lib.as_deref().unwrap_or(&package.name)),
            parts.clone(),
        ),
        [_, ..] => (snake(&package.name), parts.clone()),
        [] => return None,
    };
    let mut path = vec![crate_ident];
    let count = rest.len();
    for (i, part) in rest.iter().enumerate() {
        let last = i + 1 == count;
        let part = if last {
            part.strip_suffix(".rs")?
        } else {
            part
        };
        let is_root = last && (part == "mod" || (i == 0 && (part == "lib" || part == "main")));
        if !is_root {
            path.push((*part).to_owned());
        }
    }
    Some(path.join("::"))
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

fn package_names(manifest: &Path) -> std::io::Result<Option<PackageNames>> {
    let text = fs::read_to_string(manifest)?;
    let value: toml::Table = text.parse().map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("{}: {e}", manifest.display()),
        )
    })?;
    let lib = value
        .get("lib")
        .and_then(|l| l.get("name"))
        .and_then(toml::Value::as_str)
        .map(ToOwned::to_owned);
    Ok(value
        .get("package")
        .and_then(|p| p.get("name"))
        .and_then(toml::Value::as_str)
        .map(|name| PackageNames {
            name: name.to_owned(),
            lib,
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn module(package: &str, lib: Option<&str>, file: &str, has_lib: bool) -> Option<String> {
        let names = PackageNames {
            name: package.to_owned(),
            lib: lib.map(ToOwned::to_owned),
        };
        module_of(&names, Path::new(file), has_lib)
    }

    #[test]
    fn files_map_to_the_modules_cargo_gives_them() {
        let cases = [
            ("lib.rs", true, "trip_saga"),
            ("saga.rs", true, "trip_saga::saga"),
            ("handlers/mod.rs", true, "trip_saga::handlers"),
            ("handlers/trip.rs", true, "trip_saga::handlers::trip"),
            ("main.rs", false, "trip_saga"),
            ("sagas/booking.rs", false, "trip_saga::sagas::booking"),
            ("bin/reserve-flight.rs", true, "reserve_flight"),
            ("bin/ops/main.rs", true, "ops"),
            ("bin/ops/page.rs", true, "ops::page"),
        ];
        for (file, has_lib, expected) in cases {
            assert_eq!(
                module("trip-saga", None, file, has_lib).as_deref(),
                Some(expected),
                "{file}"
            );
        }
        assert_eq!(
            module("trip-saga", Some("booking"), "saga.rs", true).as_deref(),
            Some("booking::saga")
        );
    }
}
