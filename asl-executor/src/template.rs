//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`), compiled once.

use rand::rngs::StdRng;
use serde_json::{Map, Value};

use crate::context::StateContext;
use crate::error::{StatesError, names};
use crate::intrinsics::Intrinsic;
use crate::path::{JsonPath, Root, Selection};

/// A compiled payload template.
#[derive(Debug, Clone)]
pub(crate) struct Template {
    root: Node,
    /// Whether [`Template::eval_owned`] may move the selected values out of its input: every
    /// dynamic field is a definite `$` path and none lies inside another.
    movable: bool,
}

/// Sub-trees without any `.$` field are kept as plain values so evaluating them is a single
/// clone.
#[derive(Debug, Clone)]
enum Node {
    Static(Value),
    Object(Vec<(String, Node)>),
    Array(Vec<Node>),
    Path { key: Box<str>, path: JsonPath },
    Intrinsic(Intrinsic),
}

impl Template {
    pub(crate) fn compile(value: &Value) -> Result<Self, String> {
        let root = Node::compile(value)?;
        let mut paths = Vec::new();
        let movable = root.input_paths(&mut paths)
            && paths.iter().enumerate().all(|(i, a)| {
                paths
                    .iter()
                    .skip(i + 1)
                    .all(|b| !a.is_prefix_of(b) && !b.is_prefix_of(a))
            });
        Ok(Self { root, movable })
    }

    pub(crate) fn eval(
        &self,
        input: &Value,
        ctx: &StateContext<'_>,
        rng: &mut StdRng,
    ) -> Result<Value, StatesError> {
        self.root.eval(input, ctx, rng)
    }

    /// Like [`Template::eval`], for an input that is not needed afterwards: a task result
    /// under `ResultSelector`. Selected values are moved out rather than cloned (the
    /// `Payload` of a Lambda response is most of it).
    pub(crate) fn eval_owned(
        &self,
        mut input: Value,
        ctx: &StateContext<'_>,
        rng: &mut StdRng,
    ) -> Result<Value, StatesError> {
        // A path that matches nothing must report the input as it was, so all are checked
        // before the first value is moved.
        if !self.movable || !self.root.all_present(&input) {
            return self.root.eval(&input, ctx, rng);
        }
        Ok(self.root.take(&mut input))
    }
}

impl Node {
    fn compile(value: &Value) -> Result<Self, String> {
        if !has_dynamic_field(value) {
            return Ok(Node::Static(value.clone()));
        }
        Ok(match value {
            Value::Object(map) => {
                let mut fields = Vec::with_capacity(map.len());
                for (key, v) in map {
                    if let Some(stripped) = key.strip_suffix(".$") {
                        let Value::String(expr) = v else {
                            return Err(format!(
                                "field `{key}` ends in `.$` so its value must be a path or \
                                 intrinsic function string"
                            ));
                        };
                        fields.push((stripped.to_owned(), Self::dynamic(key, expr)?));
                    } else {
                        fields.push((key.clone(), Self::compile(v)?));
                    }
                }
                Node::Object(fields)
            }
            Value::Array(items) => {
                Node::Array(items.iter().map(Self::compile).collect::<Result<_, _>>()?)
            }
            other => Node::Static(other.clone()),
        })
    }

    fn dynamic(key: &str, expr: &str) -> Result<Self, String> {
        if Intrinsic::looks_like_call(expr) {
            Intrinsic::parse(expr)
                .map(Node::Intrinsic)
                .map_err(|e| format!("field `{key}`: {e}"))
        } else {
            JsonPath::parse(expr)
                .map(|path| Node::Path {
                    key: key.into(),
                    path,
                })
                .map_err(|e| format!("field `{key}`: {e}"))
        }
    }

    /// Collects the paths of the dynamic fields; false if one is not a definite `$` path.
    fn input_paths<'t>(&'t self, out: &mut Vec<&'t JsonPath>) -> bool {
        match self {
            Node::Static(_) => true,
            Node::Object(fields) => fields.iter().all(|(_, n)| n.input_paths(out)),
            Node::Array(items) => items.iter().all(|n| n.input_paths(out)),
            Node::Path { path, .. } => {
                out.push(path);
                path.root() == Root::Input && path.is_definite()
            }
            Node::Intrinsic(_) => false,
        }
    }

    fn all_present(&self, input: &Value) -> bool {
        match self {
            Node::Static(_) | Node::Intrinsic(_) => true,
            Node::Object(fields) => fields.iter().all(|(_, n)| n.all_present(input)),
            Node::Array(items) => items.iter().all(|n| n.all_present(input)),
            Node::Path { path, .. } => path.select(input).is_some(),
        }
    }

    /// Evaluates a movable template whose paths are all present (see [`Template::eval_owned`]).
    fn take(&self, input: &mut Value) -> Value {
        match self {
            Node::Static(v) => v.clone(),
            Node::Object(fields) => {
                let mut map = Map::with_capacity(fields.len());
                for (key, n) in fields {
                    map.insert(key.clone(), n.take(input));
                }
                Value::Object(map)
            }
            Node::Array(items) => Value::Array(items.iter().map(|n| n.take(input)).collect()),
            Node::Path { path, .. } => path.take(input).unwrap_or_default(),
            Node::Intrinsic(_) => unreachable!("a movable template has no intrinsic"),
        }
    }

    fn eval(
        &self,
        input: &Value,
        ctx: &StateContext<'_>,
        rng: &mut StdRng,
    ) -> Result<Value, StatesError> {
        Ok(match self {
            Node::Static(v) => v.clone(),
            Node::Object(fields) => {
                let mut map = Map::with_capacity(fields.len());
                for (key, t) in fields {
                    map.insert(key.clone(), t.eval(input, ctx, rng)?);
                }
                Value::Object(map)
            }
            Node::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| t.eval(input, ctx, rng))
                    .collect::<Result<_, _>>()?,
            ),
            Node::Path { key, path } => {
                let found = match path.root() {
                    Root::Input => path.select(input).map(Selection::into_owned),
                    Root::Context => ctx.select(path),
                };
                // The spec names this States.ParameterPathFailure, but AWS reports (and we
                // follow) States.Runtime, which Retry and Catch never see.
                found.ok_or_else(|| {
                    StatesError::new(
                        names::RUNTIME,
                        format!(
                            "The JSONPath '{path}' specified for the field '{key}' could not be \
                             found in the input '{input}'"
                        ),
                    )
                })?
            }
            Node::Intrinsic(call) => call.eval(input, ctx, rng)?,
        })
    }
}

fn has_dynamic_field(value: &Value) -> bool {
    match value {
        Value::Object(map) => map
            .iter()
            .any(|(k, v)| k.ends_with(".$") || has_dynamic_field(v)),
        Value::Array(items) => items.iter().any(has_dynamic_field),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;
    use serde_json::json;

    use super::*;
    use crate::context::ExecutionInfo;

    fn both(
        template: &Value,
        input: &Value,
    ) -> (Result<Value, StatesError>, Result<Value, StatesError>) {
        let template = Template::compile(template).unwrap();
        let info = ExecutionInfo::default();
        let ctx = StateContext {
            execution: &info,
            state_name: "S",
            entered_ms: 0,
            retry_count: 0,
            map_item: None,
        };
        let mut rng = StdRng::seed_from_u64(0);
        let borrowed = template.eval(input, &ctx, &mut rng);
        let owned = template.eval_owned(input.clone(), &ctx, &mut rng);
        (borrowed, owned)
    }

    /// Moving values out of the input must give what cloning them gives, errors included.
    #[test]
    fn owned_evaluation_matches_borrowed_evaluation() {
        let input = json!({"x": {"y": [1, 2]}, "z": "s", "Payload": {"p": true}});
        for template in [
            json!({"output.$": "$.Payload"}),
            json!({"a.$": "$.x", "b.$": "$.z", "c": {"d.$": "$.x.y[1]"}}),
            json!({"a.$": "$.x", "b.$": "$.x"}),
            json!({"a.$": "$.x", "b.$": "$.x.y"}),
            json!({"all.$": "$", "z.$": "$.z"}),
            json!({"all.$": "$"}),
            json!({"a.$": "$.x.y[*]", "b.$": "$.x.y"}),
            json!({"a.$": "$.z", "n.$": "$$.State.Name", "f.$": "States.Format('{}', $.z)"}),
            json!({"a.$": "$.x", "missing.$": "$.nope"}),
            json!([{"a.$": "$.z"}, "static"]),
        ] {
            let (borrowed, owned) = both(&template, &input);
            assert_eq!(owned, borrowed, "{template}");
        }
    }
}
