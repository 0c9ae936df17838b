//! The context object (`$$`), built only when a definition actually reads it.

use serde_json::{Map, Value, json};

use crate::clock::format_millis;

/// Execution-wide facts exposed under `$$.Execution` and `$$.StateMachine`.
#[derive(Debug, Default)]
pub(crate) struct ExecutionInfo {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) input: Value,
    pub(crate) start_time: String,
    pub(crate) state_machine_id: String,
    pub(crate) state_machine_name: String,
}

/// The per-state view of the context object.
///
/// Holding references instead of a `Value` keeps the hot path free of allocations: the JSON
/// document is materialised only by [`StateContext::to_value`], i.e. when a `$$` path is read.
#[derive(Clone, Copy)]
pub(crate) struct StateContext<'a> {
    pub(crate) execution: &'a ExecutionInfo,
    pub(crate) state_name: &'a str,
    pub(crate) entered_ms: i64,
    pub(crate) retry_count: u32,
    pub(crate) map_item: Option<(usize, &'a Value)>,
}

impl StateContext<'_> {
    pub(crate) fn to_value(self) -> Value {
        let exec = self.execution;
        let mut root = Map::new();
        root.insert(
            "Execution".into(),
            json!({
                "Id": exec.id,
                "Input": exec.input,
                "Name": exec.name,
                "StartTime": exec.start_time,
            }),
        );
        root.insert(
            "State".into(),
            json!({
                "EnteredTime": format_millis(self.entered_ms),
                "Name": self.state_name,
                "RetryCount": self.retry_count,
            }),
        );
        root.insert(
            "StateMachine".into(),
            json!({"Id": exec.state_machine_id, "Name": exec.state_machine_name}),
        );
        if let Some((index, value)) = self.map_item {
            root.insert(
                "Map".into(),
                json!({"Item": {"Index": index, "Value": value}}),
            );
        }
        Value::Object(root)
    }
}
