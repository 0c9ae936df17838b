//! Builds a Task's payload from the generated ASL, as Step Functions would, so that the tests
//! feed the entrypoints exactly what the state machine sends.

use serde_json::{Map, Value};

/// The context object (`$$`) of a test execution.
pub(crate) struct Execution {
    pub(crate) name: String,
    pub(crate) id: String,
}

impl Execution {
    pub(crate) fn named(name: &str) -> Self {
        Execution {
            name: name.to_owned(),
            id: format!("arn:aws:states:eu-west-1:123456789012:execution:saga:{name}"),
        }
    }
}

/// Resolves `Parameters.Payload` of `state` in `asl` against the execution state `data`.
pub(crate) fn payload(
    asl: &str,
    state: &str,
    data: &Value,
    execution: &Execution,
    retry_count: u32,
) -> Value {
    let asl: Value = serde_json::from_str(asl).expect("the ASL is JSON");
    let template = &asl["States"][state]["Parameters"]["Payload"];
    assert!(
        template.is_object(),
        "state `{state}` has no Parameters.Payload"
    );
    resolve(template, data, execution, state, retry_count)
}

fn resolve(
    template: &Value,
    data: &Value,
    execution: &Execution,
    state: &str,
    retry_count: u32,
) -> Value {
    let Value::Object(fields) = template else {
        return template.clone();
    };
    let mut out = Map::new();
    for (key, value) in fields {
        match key.strip_suffix(".$") {
            Some(key) => {
                let expr = value.as_str().expect("a `.$` value is a string");
                out.insert(
                    key.to_owned(),
                    evaluate(expr, data, execution, state, retry_count),
                );
            }
            None => {
                out.insert(
                    key.clone(),
                    resolve(value, data, execution, state, retry_count),
                );
            }
        }
    }
    Value::Object(out)
}

/// The expressions the generator emits: `$.a.b`, `$$.Execution.Name|Id`, `$$.State.Name|RetryCount`
/// and `States.Format('…', args…)`.
fn evaluate(
    expr: &str,
    data: &Value,
    execution: &Execution,
    state: &str,
    retry_count: u32,
) -> Value {
    if let Some(rest) = expr.strip_prefix("States.Format(") {
        let inner = rest.strip_suffix(')').expect("closed call");
        let (template, args) = inner.split_once("',").expect("a template then arguments");
        let template = template.trim_start_matches('\'');
        let mut text = template.to_owned();
        for arg in args.split(',') {
            let value = evaluate(arg.trim(), data, execution, state, retry_count);
            text = text.replacen("{}", value.as_str().expect("string argument"), 1);
        }
        return Value::String(text);
    }
    match expr {
        "$$.Execution.Name" => Value::String(execution.name.clone()),
        "$$.Execution.Id" => Value::String(execution.id.clone()),
        "$$.State.Name" => Value::String(state.to_owned()),
        "$$.State.RetryCount" => Value::from(retry_count),
        "$" => data.clone(),
        path => {
            let mut node = data;
            for segment in path.strip_prefix("$.").expect("a JSONPath").split('.') {
                node = &node[segment];
            }
            assert!(
                !node.is_null(),
                "path `{path}` selects nothing: Step Functions would fail with States.Runtime"
            );
            node.clone()
        }
    }
}
