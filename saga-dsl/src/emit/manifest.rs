//! The function manifest: which Lambda functions a saga needs, for the infrastructure to read.
//!
//! CDK builds one function per entry and fills `definitionSubstitutions[substitution_key]` with
//! its ARN, so no function list or ARN is maintained by hand.

use serde::Serialize;

use crate::emit::asl::generated_marker;
use crate::model::Saga;

/// `generated/<saga>.functions.json`.
#[derive(Debug, Serialize)]
pub struct Manifest<'a> {
    /// Says that the file is generated (JSON has no comments).
    pub generated: String,
    /// The saga's name.
    pub saga: &'a str,
    /// The saga's module and file stem.
    pub module: &'a str,
    /// The state machine definition beside this file.
    pub definition: String,
    /// One entry per function.
    pub functions: Vec<FunctionEntry<'a>>,
}

/// One Lambda function.
#[derive(Debug, Serialize)]
pub struct FunctionEntry<'a> {
    /// The logical name.
    pub name: &'a str,
    /// `action`, `compensation` or `escalation`.
    pub kind: &'static str,
    /// The ASL state that invokes it.
    pub state: &'a str,
    /// The `${…}` placeholder in the definition.
    pub substitution_key: String,
    /// The Cargo package that builds it.
    #[serde(rename = "crate")]
    pub crate_name: &'a str,
    /// The Cargo binary target (`src/bin/<binary>.rs`).
    pub binary: String,
    /// The Rust function it runs.
    pub handler: &'a str,
}

/// The manifest of `saga`.
pub fn manifest(saga: &Saga) -> Manifest<'_> {
    Manifest {
        generated: generated_marker(saga),
        saga: &saga.name,
        module: &saga.module,
        definition: format!("{}.asl.json", saga.module),
        functions: saga
            .functions()
            .map(|f| FunctionEntry {
                name: &f.name,
                kind: f.kind.as_str(),
                state: &f.state,
                substitution_key: f.substitution_key(),
                crate_name: &saga.crate_name,
                binary: f.binary(),
                handler: &f.handler,
            })
            .collect(),
    }
}

/// The manifest as written to `generated/<saga>.functions.json`.
pub fn to_json(saga: &Saga) -> String {
    let mut json =
        serde_json::to_string_pretty(&manifest(saga)).expect("the manifest always serialises");
    json.push('\n');
    json
}
