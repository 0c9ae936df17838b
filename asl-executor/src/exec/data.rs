//! InputPath, OutputPath and ResultPath: the data flow around every state.

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::definition::{IoPath, ResultPath};
use crate::error::{StatesError, names};
use crate::path::{JsonPath, Selection};

pub(super) fn no_results(path: &JsonPath, field: &str) -> StatesError {
    StatesError::new(
        names::RUNTIME,
        format!("Invalid path '{path}' in {field}: No results for path"),
    )
}

pub(super) fn select_required(
    path: &JsonPath,
    doc: &Value,
    field: &str,
) -> Result<Value, StatesError> {
    path.select(doc)
        .map(Selection::into_owned)
        .ok_or_else(|| no_results(path, field))
}

/// The effective input, borrowed from the raw input when `InputPath` selects one value: a
/// Task attempt usually only reads it through `Parameters`, and the raw input must survive
/// for `ResultPath` and the catchers anyway.
pub(super) fn input_ref<'v>(io: &IoPath, raw: &'v Value) -> Result<Cow<'v, Value>, StatesError> {
    match io {
        IoPath::Identity => Ok(Cow::Borrowed(raw)),
        IoPath::Empty => Ok(Cow::Owned(Value::Object(Map::new()))),
        IoPath::Path(p) => p
            .select(raw)
            .map(Selection::into_cow)
            .ok_or_else(|| no_results(p, "InputPath")),
    }
}

pub(super) fn take_input(io: &IoPath, raw: Value) -> Result<Value, StatesError> {
    match io {
        IoPath::Identity => Ok(raw),
        _ => input_ref(io, &raw).map(Cow::into_owned),
    }
}

pub(super) fn apply_output_path(io: &IoPath, value: Value) -> Result<Value, StatesError> {
    match io {
        IoPath::Identity => Ok(value),
        IoPath::Empty => Ok(Value::Object(Map::new())),
        IoPath::Path(p) => select_required(p, &value, "OutputPath"),
    }
}

pub(super) fn result_path_failure(path: &JsonPath, doc: &Value) -> StatesError {
    StatesError::new(
        names::RESULT_PATH_MATCH_FAILURE,
        format!("Unable to apply ResultPath '{path}' to input '{doc}'"),
    )
}

/// Checks, without touching the input, that `ResultPath` can be applied: the catcher that
/// handles a failure still needs the unmodified raw input.
pub(super) fn check_result_path(rp: &ResultPath, raw: &Value) -> Result<(), StatesError> {
    match rp {
        ResultPath::Path(p) if !p.can_assign(raw) => Err(result_path_failure(p, raw)),
        _ => Ok(()),
    }
}

pub(super) fn apply_result_path(
    rp: &ResultPath,
    raw: Value,
    result: Value,
) -> Result<Value, StatesError> {
    match rp {
        ResultPath::Replace => Ok(result),
        ResultPath::Discard => Ok(raw),
        ResultPath::Path(p) => {
            check_result_path(rp, &raw)?;
            let mut doc = raw;
            p.assign(&mut doc, result)
                .map_err(|()| result_path_failure(p, &Value::Null))?;
            Ok(doc)
        }
    }
}

pub(super) fn seconds_at_path(path: &JsonPath, input: &Value) -> Result<u64, StatesError> {
    select_required(path, input, "SecondsPath")?
        .as_u64()
        .ok_or_else(|| {
            StatesError::new(
                names::RUNTIME,
                format!("The path '{path}' must point to a non-negative integer number of seconds"),
            )
        })
}
