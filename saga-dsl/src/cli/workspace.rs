//! Which workspace a run acts on, found from the current directory as cargo finds it.
//!
//! The binary must not use the directory it was built from (`CARGO_MANIFEST_DIR`): with a shared
//! `CARGO_TARGET_DIR`, `cargo run -p saga-dsl` in one checkout can reuse a binary built in
//! another, which would then silently read and write that other checkout.

use std::fs;
use std::path::{Path, PathBuf};

/// Why no workspace was found.
#[derive(Debug)]
pub enum RootError {
    /// Neither the directory nor any parent has a `Cargo.toml`.
    NoManifest {
        /// Where the search started.
        start: PathBuf,
    },
    /// A `Cargo.toml` on the way could not be read or is not TOML.
    Unreadable {
        /// The manifest.
        manifest: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

impl std::fmt::Display for RootError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            RootError::NoManifest { start } => write!(
                f,
                "no Cargo.toml in {} or any parent directory: run saga-dsl inside a Cargo workspace, or pass --root",
                start.display()
            ),
            RootError::Unreadable { manifest, reason } => {
                write!(f, "cannot read {}: {reason}", manifest.display())
            }
        }
    }
}

impl std::error::Error for RootError {}

/// The workspace that cargo would use from `start` (an absolute directory): the nearest
/// `Cargo.toml` above or at `start`, then, unless it declares `[workspace]` itself, the nearest
/// parent `Cargo.toml` that declares one; without any, the package of the nearest manifest.
///
/// Cargo searches the same way (`find_root_manifest_for_wd`, then
/// `find_workspace_root_with_loader` in cargo's `core/workspace.rs`): the *nearest* enclosing
/// workspace, not the outermost, so a workspace nested in another is used on its own. Unlike
/// cargo, this does not check that the workspace lists the package among its members (cargo
/// would refuse to build it).
///
/// # Errors
/// No `Cargo.toml` at or above `start`, or one that cannot be read.
pub fn find_root(start: &Path) -> Result<PathBuf, RootError> {
    let nearest = start
        .ancestors()
        .find(|dir| dir.join("Cargo.toml").is_file())
        .ok_or_else(|| RootError::NoManifest {
            start: start.to_path_buf(),
        })?;
    for dir in nearest.ancestors() {
        let manifest = dir.join("Cargo.toml");
        if manifest.is_file() && declares_workspace(&manifest)? {
            return Ok(dir.to_path_buf());
        }
    }
    Ok(nearest.to_path_buf())
}

fn declares_workspace(manifest: &Path) -> Result<bool, RootError> {
    let unreadable = |reason: String| RootError::Unreadable {
        manifest: manifest.to_path_buf(),
        reason,
    };
    let text = fs::read_to_string(manifest).map_err(|e| unreadable(e.to_string()))?;
    let table: toml::Table = text
        .parse()
        .map_err(|e: toml::de::Error| unreadable(e.to_string()))?;
    Ok(table.get("workspace").is_some_and(toml::Value::is_table))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PACKAGE: &str = "[package]\nname = \"p\"\nversion = \"0.1.0\"\n";

    fn write(path: &Path, text: &str) {
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(path, text).unwrap();
    }

    #[test]
    fn a_member_deep_down_belongs_to_the_workspace_above_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write(
            &root.join("Cargo.toml"),
            "[workspace]\nmembers = [\"apps/*\"]\n",
        );
        write(&root.join("apps/a/Cargo.toml"), PACKAGE);
        fs::create_dir_all(root.join("apps/a/src/deep")).unwrap();
        assert_eq!(find_root(&root.join("apps/a/src/deep")).unwrap(), root);
        assert_eq!(find_root(&root.join("apps")).unwrap(), root);
        assert_eq!(find_root(root).unwrap(), root);
    }

    #[test]
    fn a_package_outside_any_workspace_is_its_own_root() {
        let dir = tempfile::tempdir().unwrap();
        let package = dir.path().join("alone");
        write(&package.join("Cargo.toml"), PACKAGE);
        fs::create_dir_all(package.join("src")).unwrap();
        assert_eq!(find_root(&package.join("src")).unwrap(), package);
    }

    #[test]
    fn the_nearest_workspace_wins_as_in_cargo() {
        let dir = tempfile::tempdir().unwrap();
        let outer = dir.path();
        write(&outer.join("Cargo.toml"), "[workspace]\nmembers = []\n");
        let inner = outer.join("vendor/tool");
        write(
            &inner.join("Cargo.toml"),
            &format!("{PACKAGE}\n[workspace]\n"),
        );
        assert_eq!(find_root(&inner).unwrap(), inner);
    }

    #[test]
    fn no_manifest_is_an_error_that_says_where_the_search_started() {
        let dir = tempfile::tempdir().unwrap();
        let error = find_root(dir.path()).unwrap_err();
        assert!(matches!(error, RootError::NoManifest { .. }), "{error:?}");
        let message = error.to_string();
        assert!(
            message.contains(&dir.path().display().to_string()),
            "{message}"
        );
        assert!(message.contains("--root"), "{message}");
    }

    #[test]
    fn a_broken_manifest_is_named() {
        let dir = tempfile::tempdir().unwrap();
        write(&dir.path().join("Cargo.toml"), "[package\n");
        let error = find_root(dir.path()).unwrap_err();
        assert!(error.to_string().contains("Cargo.toml"), "{error}");
    }
}
