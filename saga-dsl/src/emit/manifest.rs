//! The function manifest, `generated/<saga>.functions.json`: the serde form of the saga's
//! [`SagaInfo`](saga_model::SagaInfo), with the flat list of functions the infrastructure
//! deploys (one per entry; CDK fills `definitionSubstitutions[substitution_key]` with each
//! one's ARN, so no function list or ARN is maintained by hand).

use saga_model::Manifest;

use crate::model::Saga;

/// The manifest as written to `generated/<saga>.functions.json`.
pub fn to_json(saga: &Saga) -> String {
    let info = saga.info();
    let mut json =
        serde_json::to_string_pretty(&Manifest::of(&info)).expect("the manifest always serialises");
    json.push('\n');
    json
}
