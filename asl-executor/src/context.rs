//! The context object (`$$`), built only when a definition actually reads it.

use serde_json::{Map, Value, json};

use crate::clock::format_millis;
use crate::path::{JsonPath, Selection};

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
    /// Reads a `$$` path. The leaves definitions read (`$$.Execution.Name`,
    /// `$$.State.RetryCount`, `$$.Map.Item.Value` …) are answered from the fields directly;
    /// only other shapes (`$$`, `$$.Execution`, wildcards) build the whole document.
    pub(crate) fn select(&self, path: &JsonPath) -> Option<Value> {
        let exec = self.execution;
        let text = |s: &str| Some(Value::String(s.to_owned()));
        let leaf = path.len() == 2;
        match (path.field_at(0), path.field_at(1)) {
            (Some("Execution"), Some("Input")) => {
                return path.select_after(2, &exec.input).map(Selection::into_owned);
            }
            (Some("Execution"), Some("Id")) if leaf => return text(&exec.id),
            (Some("Execution"), Some("Name")) if leaf => return text(&exec.name),
            (Some("Execution"), Some("StartTime")) if leaf => return text(&exec.start_time),
            (Some("State"), Some("Name")) if leaf => return text(self.state_name),
            (Some("State"), Some("EnteredTime")) if leaf => {
                return Some(Value::String(format_millis(self.entered_ms)));
            }
            (Some("State"), Some("RetryCount")) if leaf => return Some(self.retry_count.into()),
            (Some("StateMachine"), Some("Id")) if leaf => return text(&exec.state_machine_id),
            (Some("StateMachine"), Some("Name")) if leaf => return text(&exec.state_machine_name),
            (Some("Map"), Some("Item")) => match (self.map_item, path.field_at(2)) {
                (Some((_, value)), Some("Value")) => {
                    return path.select_after(3, value).map(Selection::into_owned);
                }
                (Some((index, _)), Some("Index")) if path.len() == 3 => {
                    return Some(index.into());
                }
                _ => {}
            },
            _ => {}
        }
        path.select(&self.to_value()).map(Selection::into_owned)
    }

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

#[cfg(test)]
mod tests {
    use super::*;

    /// The shortcuts of [`StateContext::select`] must answer exactly what reading the built
    /// document would.
    #[test]
    fn direct_reads_match_the_built_document() {
        let info = ExecutionInfo {
            id: "arn:aws:states:us-east-1:1:execution:M:e".into(),
            name: "e".into(),
            input: json!({"a": {"b": [1, 2, {"c": 3}]}}),
            start_time: "2024-01-01T00:00:00Z".into(),
            state_machine_id: "arn:aws:states:us-east-1:1:stateMachine:M".into(),
            state_machine_name: "M".into(),
        };
        let item = json!({"k": ["v", "w"]});
        let paths = [
            "$$",
            "$$.Execution",
            "$$.Execution.Id",
            "$$.Execution.Name",
            "$$.Execution.StartTime",
            "$$.Execution.Input",
            "$$.Execution.Input.a.b[2].c",
            "$$.Execution.Input.a.b[*]",
            "$$.Execution.Input.missing",
            "$$.Execution.Name.x",
            "$$.Execution.Other",
            "$$.State.Name",
            "$$.State.EnteredTime",
            "$$.State.RetryCount",
            "$$.State.Name.x",
            "$$.StateMachine.Id",
            "$$.StateMachine.Name",
            "$$.Map.Item.Index",
            "$$.Map.Item.Value",
            "$$.Map.Item.Value.k[1]",
            "$$.Map.Item.Value..k",
            "$$.Map.Item.Index.x",
            "$$.Map.Item",
            "$$.Map.Item.Value[*]",
            "$$.*.Name",
        ];
        for map_item in [None, Some((4, &item))] {
            let ctx = StateContext {
                execution: &info,
                state_name: "S",
                entered_ms: 1_704_067_200_123,
                retry_count: 2,
                map_item,
            };
            let doc = ctx.to_value();
            for source in paths {
                let path = JsonPath::parse(source).unwrap();
                let expected = path.select(&doc).map(Selection::into_owned);
                assert_eq!(
                    ctx.select(&path),
                    expected,
                    "{source} (map item {map_item:?})"
                );
            }
        }
    }
}
