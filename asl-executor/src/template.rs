//! Payload templates (`Parameters`, `ResultSelector`, `ItemSelector`), compiled once.

use rand::rngs::StdRng;
use serde_json::{Map, Value};

use crate::context::StateContext;
use crate::error::{StatesError, names};
use crate::intrinsics::Intrinsic;
use crate::path::{JsonPath, Root, Selection};

/// A compiled payload template. Sub-trees without any `.$` field are kept as plain values so
/// evaluating them is a single clone.
#[derive(Debug, Clone)]
pub(crate) enum Template {
    Static(Value),
    Object(Vec<(String, Template)>),
    Array(Vec<Template>),
    Path { key: Box<str>, path: JsonPath },
    Intrinsic(Intrinsic),
}

impl Template {
    pub(crate) fn compile(value: &Value) -> Result<Self, String> {
        if !has_dynamic_field(value) {
            return Ok(Template::Static(value.clone()));
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
                Template::Object(fields)
            }
            Value::Array(items) => {
                Template::Array(items.iter().map(Self::compile).collect::<Result<_, _>>()?)
            }
            other => Template::Static(other.clone()),
        })
    }

    fn dynamic(key: &str, expr: &str) -> Result<Self, String> {
        if Intrinsic::looks_like_call(expr) {
            Intrinsic::parse(expr)
                .map(Template::Intrinsic)
                .map_err(|e| format!("field `{key}`: {e}"))
        } else {
            JsonPath::parse(expr)
                .map(|path| Template::Path {
                    key: key.into(),
                    path,
                })
                .map_err(|e| format!("field `{key}`: {e}"))
        }
    }

    pub(crate) fn eval(
        &self,
        input: &Value,
        ctx: &StateContext<'_>,
        rng: &mut StdRng,
    ) -> Result<Value, StatesError> {
        Ok(match self {
            Template::Static(v) => v.clone(),
            Template::Object(fields) => {
                let mut map = Map::with_capacity(fields.len());
                for (key, t) in fields {
                    map.insert(key.clone(), t.eval(input, ctx, rng)?);
                }
                Value::Object(map)
            }
            Template::Array(items) => Value::Array(
                items
                    .iter()
                    .map(|t| t.eval(input, ctx, rng))
                    .collect::<Result<_, _>>()?,
            ),
            Template::Path { key, path } => {
                let found = match path.root() {
                    Root::Input => path.select(input).map(Selection::into_owned),
                    Root::Context => path.select(&ctx.to_value()).map(Selection::into_owned),
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
            Template::Intrinsic(call) => call.eval(input, ctx, rng)?,
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
