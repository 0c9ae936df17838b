//! JSON → [`Machine`]: one pass that resolves names to indexes and parses every path,
//! template and intrinsic, so execution never touches definition strings again.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::{
    Catcher, Expr, IoPath, Kind, Machine, ResultHandling, ResultPath, Retrier, State, TaskTimeout,
    Transition, WaitFor,
};
use crate::choice::Rule;
use crate::clock::parse_timestamp;
use crate::error::{DefinitionError, names};
use crate::intrinsics::Intrinsic;
use crate::path::JsonPath;
use crate::template::Template;

type Obj = Map<String, Value>;

/// Compiles a machine object (`StartAt` + `States`); `at` names it in error messages.
pub(crate) fn compile_machine(def: &Value, at: &str) -> Result<Machine, DefinitionError> {
    let obj = def
        .as_object()
        .ok_or_else(|| DefinitionError::invalid(at, "a state machine must be a JSON object"))?;
    if obj.get("QueryLanguage").and_then(Value::as_str) == Some("JSONata") {
        return Err(DefinitionError::invalid(
            at,
            "QueryLanguage JSONata is not supported; use JSONPath",
        ));
    }
    let states = obj
        .get("States")
        .and_then(Value::as_object)
        .ok_or_else(|| DefinitionError::invalid(at, "missing `States` object"))?;
    if states.is_empty() {
        return Err(DefinitionError::invalid(at, "`States` must not be empty"));
    }
    let index: HashMap<&str, usize> = states
        .keys()
        .enumerate()
        .map(|(i, k)| (k.as_str(), i))
        .collect();
    let start = str_field(obj, "StartAt", at)?
        .ok_or_else(|| DefinitionError::invalid(at, "missing `StartAt`"))?;
    let start_at = *index.get(start).ok_or_else(|| {
        DefinitionError::invalid(
            at,
            format!("`StartAt` names `{start}`, which is not a state"),
        )
    })?;
    let timeout_seconds = u64_field(obj, "TimeoutSeconds", at)?;
    let mut compiled = Vec::with_capacity(states.len());
    for (name, state) in states {
        let loc = format!("{at}.States.{name}");
        let state = state
            .as_object()
            .ok_or_else(|| DefinitionError::invalid(&loc, "a state must be a JSON object"))?;
        compiled.push(compile_state(name, state, &index, &loc)?);
    }
    check_reachable(&compiled, start_at, at)?;
    Ok(Machine {
        start_at,
        states: compiled,
        timeout_seconds,
    })
}

/// Every state must be reachable from `StartAt`; Step Functions rejects the definition
/// otherwise, and so do we, so a machine that runs here also deploys.
fn check_reachable(states: &[State], start_at: usize, at: &str) -> Result<(), DefinitionError> {
    let mut seen = vec![false; states.len()];
    let mut todo = vec![start_at];
    while let Some(i) = todo.pop() {
        if std::mem::replace(&mut seen[i], true) {
            continue;
        }
        let state = &states[i];
        if let Transition::Next(n) = state.next {
            todo.push(n);
        }
        match &state.kind {
            Kind::Choice { choices, default } => {
                todo.extend(choices.iter().map(|(_, n)| *n));
                todo.extend(*default);
            }
            Kind::Task { handling, .. }
            | Kind::Parallel { handling, .. }
            | Kind::Map { handling, .. } => todo.extend(handling.catch.iter().map(|c| c.next)),
            _ => {}
        }
    }
    let unreachable: Vec<&str> = states
        .iter()
        .zip(&seen)
        .filter(|(_, seen)| !**seen)
        .map(|(s, _)| &*s.name)
        .collect();
    if unreachable.is_empty() {
        Ok(())
    } else {
        Err(DefinitionError::invalid(
            at,
            format!(
                "unreachable state(s) {}: every state must be reachable from `StartAt`",
                unreachable.join(", ")
            ),
        ))
    }
}

struct Ctx<'a> {
    obj: &'a Obj,
    index: &'a HashMap<&'a str, usize>,
    loc: &'a str,
}

impl Ctx<'_> {
    fn err(&self, message: impl Into<String>) -> DefinitionError {
        DefinitionError::invalid(self.loc, message)
    }

    fn target(&self, name: &str, field: &str) -> Result<usize, DefinitionError> {
        self.index.get(name).copied().ok_or_else(|| {
            self.err(format!(
                "`{field}` names `{name}`, which is not a state in this scope"
            ))
        })
    }

    fn str(&self, key: &str) -> Result<Option<&str>, DefinitionError> {
        str_field(self.obj, key, self.loc)
    }

    fn path(&self, key: &str) -> Result<Option<JsonPath>, DefinitionError> {
        self.str(key)?
            .map(|p| JsonPath::parse(p).map_err(|e| self.err(format!("`{key}`: {e}"))))
            .transpose()
    }

    fn io_path(&self, key: &str) -> Result<IoPath, DefinitionError> {
        match self.obj.get(key) {
            None => Ok(IoPath::Identity),
            Some(Value::Null) => Ok(IoPath::Empty),
            Some(Value::String(p)) => {
                let path = JsonPath::parse(p).map_err(|e| self.err(format!("`{key}`: {e}")))?;
                Ok(if path.is_identity() {
                    IoPath::Identity
                } else {
                    IoPath::Path(path)
                })
            }
            Some(_) => Err(self.err(format!("`{key}` must be a path string or null"))),
        }
    }

    fn template(&self, key: &str) -> Result<Option<Template>, DefinitionError> {
        self.obj
            .get(key)
            .map(|v| Template::compile(v).map_err(|e| self.err(format!("`{key}`: {e}"))))
            .transpose()
    }

    fn handling(&self) -> Result<ResultHandling, DefinitionError> {
        Ok(ResultHandling {
            result_selector: self.template("ResultSelector")?,
            result_path: result_path(self.obj.get("ResultPath"), self.loc)?,
            retry: self.retriers()?,
            catch: self.catchers()?,
        })
    }

    fn retriers(&self) -> Result<Vec<Retrier>, DefinitionError> {
        let Some(list) = self.obj.get("Retry") else {
            return Ok(Vec::new());
        };
        let list = list
            .as_array()
            .ok_or_else(|| self.err("`Retry` must be an array"))?;
        let mut out = Vec::with_capacity(list.len());
        for (i, r) in list.iter().enumerate() {
            let loc = format!("{}.Retry[{i}]", self.loc);
            let r = r
                .as_object()
                .ok_or_else(|| DefinitionError::invalid(&loc, "a retrier must be an object"))?;
            let errors = error_equals(r, &loc, i + 1 == list.len())?;
            let max_attempts = u64_field(r, "MaxAttempts", &loc)?.unwrap_or(3);
            let backoff_rate = f64_field(r, "BackoffRate", &loc)?.unwrap_or(2.0);
            if backoff_rate < 1.0 {
                return Err(DefinitionError::invalid(
                    &loc,
                    "`BackoffRate` must be at least 1.0",
                ));
            }
            let jitter = str_field(r, "JitterStrategy", &loc)?.unwrap_or("NONE");
            if jitter != "FULL" && jitter != "NONE" {
                return Err(DefinitionError::invalid(
                    &loc,
                    format!("`JitterStrategy` must be FULL or NONE, not `{jitter}`"),
                ));
            }
            out.push(Retrier {
                errors,
                interval_seconds: f64_field(r, "IntervalSeconds", &loc)?.unwrap_or(1.0),
                max_attempts: u32::try_from(max_attempts).unwrap_or(u32::MAX),
                backoff_rate,
                max_delay_seconds: f64_field(r, "MaxDelaySeconds", &loc)?,
                full_jitter: jitter == "FULL",
            });
        }
        Ok(out)
    }

    fn catchers(&self) -> Result<Vec<Catcher>, DefinitionError> {
        let Some(list) = self.obj.get("Catch") else {
            return Ok(Vec::new());
        };
        let list = list
            .as_array()
            .ok_or_else(|| self.err("`Catch` must be an array"))?;
        let mut out = Vec::with_capacity(list.len());
        for (i, c) in list.iter().enumerate() {
            let loc = format!("{}.Catch[{i}]", self.loc);
            let c = c
                .as_object()
                .ok_or_else(|| DefinitionError::invalid(&loc, "a catcher must be an object"))?;
            let errors = error_equals(c, &loc, i + 1 == list.len())?;
            let next = str_field(c, "Next", &loc)?
                .ok_or_else(|| DefinitionError::invalid(&loc, "a catcher needs `Next`"))?;
            out.push(Catcher {
                errors,
                result_path: result_path(c.get("ResultPath"), &loc)?,
                next: self.target(next, "Next")?,
                next_name: next.into(),
            });
        }
        Ok(out)
    }

    fn expr(&self, literal: &str, path: &str) -> Result<Option<Expr>, DefinitionError> {
        match (self.str(literal)?, self.str(path)?) {
            (Some(_), Some(_)) => Err(self.err(format!("use `{literal}` or `{path}`, not both"))),
            (Some(s), None) => Ok(Some(Expr::Literal(s.to_owned()))),
            (None, Some(p)) if Intrinsic::looks_like_call(p) => Intrinsic::parse(p)
                .map(|c| Some(Expr::Intrinsic(c)))
                .map_err(|e| self.err(format!("`{path}`: {e}"))),
            (None, Some(p)) => JsonPath::parse(p)
                .map(|p| Some(Expr::Path(p)))
                .map_err(|e| self.err(format!("`{path}`: {e}"))),
            (None, None) => Ok(None),
        }
    }
}

fn compile_state(
    name: &str,
    obj: &Obj,
    index: &HashMap<&str, usize>,
    loc: &str,
) -> Result<State, DefinitionError> {
    let cx = Ctx { obj, index, loc };
    let ty = cx.str("Type")?.ok_or_else(|| cx.err("missing `Type`"))?;
    // Variables and JSONata fields change data flow; ignoring them would run a different
    // machine than AWS, so refuse them outright.
    for unsupported in ["Assign", "Arguments", "Output", "QueryLanguage"] {
        if obj.contains_key(unsupported) {
            return Err(cx.err(format!(
                "`{unsupported}` (variables / JSONata) is not supported by this interpreter"
            )));
        }
    }
    let terminal_by_type = matches!(ty, "Choice" | "Succeed" | "Fail");
    let next = match (cx.str("Next")?, obj.get("End").and_then(Value::as_bool)) {
        _ if terminal_by_type => {
            if obj.contains_key("Next") || obj.contains_key("End") {
                return Err(cx.err(format!("a {ty} state must not have `Next` or `End`")));
            }
            Transition::End
        }
        (Some(_), Some(true)) => return Err(cx.err("a state has `Next` or `End`, not both")),
        (Some(n), _) => Transition::Next(cx.target(n, "Next")?),
        (None, Some(true)) => Transition::End,
        (None, _) => return Err(cx.err("a non-terminal state needs `Next` or `\"End\": true`")),
    };
    let kind = match ty {
        "Pass" => Kind::Pass {
            parameters: cx.template("Parameters")?,
            result: obj.get("Result").cloned(),
            result_path: result_path(obj.get("ResultPath"), loc)?,
        },
        "Task" => compile_task(&cx)?,
        "Choice" => compile_choice(&cx)?,
        "Wait" => compile_wait(&cx)?,
        "Succeed" => Kind::Succeed,
        "Fail" => Kind::Fail {
            error: cx.expr("Error", "ErrorPath")?,
            cause: cx.expr("Cause", "CausePath")?,
        },
        "Parallel" => {
            let branches = obj
                .get("Branches")
                .and_then(Value::as_array)
                .ok_or_else(|| cx.err("a Parallel state needs a `Branches` array"))?;
            Kind::Parallel {
                branches: branches
                    .iter()
                    .enumerate()
                    .map(|(i, b)| compile_machine(b, &format!("{loc}.Branches[{i}]")).map(Arc::new))
                    .collect::<Result<_, _>>()?,
                parameters: cx.template("Parameters")?,
                handling: cx.handling()?,
            }
        }
        "Map" => compile_map(&cx)?,
        other => return Err(cx.err(format!("unknown state type `{other}`"))),
    };
    Ok(State {
        name: name.into(),
        input_path: cx.io_path("InputPath")?,
        output_path: cx.io_path("OutputPath")?,
        next,
        kind,
    })
}

fn compile_task(cx: &Ctx<'_>) -> Result<Kind, DefinitionError> {
    let resource = cx
        .str("Resource")?
        .ok_or_else(|| cx.err("a Task state needs `Resource`"))?;
    let timeout = match (
        u64_field(cx.obj, "TimeoutSeconds", cx.loc)?,
        cx.path("TimeoutSecondsPath")?,
    ) {
        (Some(_), Some(_)) => {
            return Err(cx.err("use `TimeoutSeconds` or `TimeoutSecondsPath`, not both"));
        }
        (Some(s), None) => Some(TaskTimeout::Seconds(s)),
        (None, Some(p)) => Some(TaskTimeout::Path(p)),
        (None, None) => None,
    };
    Ok(Kind::Task {
        resource: resource.into(),
        parameters: cx.template("Parameters")?,
        timeout,
        handling: cx.handling()?,
    })
}

fn compile_choice(cx: &Ctx<'_>) -> Result<Kind, DefinitionError> {
    let choices = cx
        .obj
        .get("Choices")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .ok_or_else(|| cx.err("a Choice state needs a non-empty `Choices` array"))?;
    let mut compiled = Vec::with_capacity(choices.len());
    for (i, c) in choices.iter().enumerate() {
        let loc = format!("{}.Choices[{i}]", cx.loc);
        let c = c
            .as_object()
            .ok_or_else(|| DefinitionError::invalid(&loc, "a choice rule must be an object"))?;
        let next = str_field(c, "Next", &loc)?.ok_or_else(|| {
            DefinitionError::invalid(&loc, "a top-level choice rule needs `Next`")
        })?;
        let rule = Rule::compile(c).map_err(|e| DefinitionError::invalid(&loc, e))?;
        compiled.push((rule, cx.target(next, "Next")?));
    }
    let default = cx
        .str("Default")?
        .map(|d| cx.target(d, "Default"))
        .transpose()?;
    Ok(Kind::Choice {
        choices: compiled,
        default,
    })
}

fn compile_wait(cx: &Ctx<'_>) -> Result<Kind, DefinitionError> {
    let mut found = Vec::new();
    if let Some(s) = u64_field(cx.obj, "Seconds", cx.loc)? {
        found.push(WaitFor::Seconds(s));
    }
    if let Some(p) = cx.path("SecondsPath")? {
        found.push(WaitFor::SecondsPath(p));
    }
    if let Some(t) = cx.str("Timestamp")? {
        let ms = parse_timestamp(t)
            .ok_or_else(|| cx.err(format!("`Timestamp` `{t}` is not an RFC 3339 timestamp")))?;
        found.push(WaitFor::Timestamp(ms));
    }
    if let Some(p) = cx.path("TimestampPath")? {
        found.push(WaitFor::TimestampPath(p));
    }
    if found.len() != 1 {
        return Err(cx.err(
            "a Wait state needs exactly one of Seconds, SecondsPath, Timestamp, TimestampPath",
        ));
    }
    Ok(Kind::Wait(found.remove(0)))
}

fn compile_map(cx: &Ctx<'_>) -> Result<Kind, DefinitionError> {
    if cx.obj.contains_key("ItemReader") || cx.obj.contains_key("ResultWriter") {
        return Err(cx.err("distributed Map (`ItemReader`/`ResultWriter`) is not supported"));
    }
    let processor = cx
        .obj
        .get("ItemProcessor")
        .or_else(|| cx.obj.get("Iterator"))
        .ok_or_else(|| cx.err("a Map state needs `ItemProcessor` (or legacy `Iterator`)"))?;
    let processor = compile_machine(processor, &format!("{}.ItemProcessor", cx.loc))?;
    let item_selector = match (cx.template("ItemSelector")?, cx.template("Parameters")?) {
        (Some(_), Some(_)) => {
            return Err(cx.err("use `ItemSelector` or legacy `Parameters`, not both"));
        }
        (a, b) => a.or(b),
    };
    Ok(Kind::Map {
        processor: Arc::new(processor),
        items_path: cx.path("ItemsPath")?,
        item_selector,
        handling: cx.handling()?,
    })
}

fn result_path(value: Option<&Value>, loc: &str) -> Result<ResultPath, DefinitionError> {
    match value {
        None => Ok(ResultPath::Replace),
        Some(Value::Null) => Ok(ResultPath::Discard),
        Some(Value::String(p)) => {
            let path = JsonPath::parse_reference(p)
                .map_err(|e| DefinitionError::invalid(loc, format!("`ResultPath`: {e}")))?;
            Ok(if path.is_identity() {
                ResultPath::Replace
            } else {
                ResultPath::Path(path)
            })
        }
        Some(_) => Err(DefinitionError::invalid(
            loc,
            "`ResultPath` must be a path string or null",
        )),
    }
}

/// `ErrorEquals` must be non-empty, and `States.ALL` must appear alone in the last rule.
fn error_equals(obj: &Obj, loc: &str, is_last: bool) -> Result<Vec<String>, DefinitionError> {
    let errors: Vec<String> = obj
        .get("ErrorEquals")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .filter(|v: &Vec<String>| !v.is_empty())
        .ok_or_else(|| {
            DefinitionError::invalid(loc, "`ErrorEquals` must be a non-empty array of strings")
        })?;
    if errors.iter().any(|e| e == names::ALL) && (errors.len() > 1 || !is_last) {
        return Err(DefinitionError::invalid(
            loc,
            "`States.ALL` must appear alone, in the last retrier or catcher",
        ));
    }
    Ok(errors)
}

fn str_field<'a>(obj: &'a Obj, key: &str, loc: &str) -> Result<Option<&'a str>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(DefinitionError::invalid(
            loc,
            format!("`{key}` must be a string"),
        )),
    }
}

fn u64_field(obj: &Obj, key: &str, loc: &str) -> Result<Option<u64>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v.as_u64().map(Some).ok_or_else(|| {
            DefinitionError::invalid(loc, format!("`{key}` must be a non-negative integer"))
        }),
    }
}

fn f64_field(obj: &Obj, key: &str, loc: &str) -> Result<Option<f64>, DefinitionError> {
    match obj.get(key) {
        None => Ok(None),
        Some(v) => v.as_f64().filter(|f| *f >= 0.0).map(Some).ok_or_else(|| {
            DefinitionError::invalid(loc, format!("`{key}` must be a non-negative number"))
        }),
    }
}
