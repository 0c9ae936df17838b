//! The largest payload a Task can receive: which typed parts it is sent, and how long the parts
//! that Step Functions' limits bound can be.

use saga_model::{SagaInfo, StepInfo};
use serde_json::{Map, Value, json};

use super::{action_retry_budget, aws, retried_function_budget};

/// What one Task receives: the typed parts (whose sizes only their types know) and the parts
/// Step Functions' limits bound.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Payload {
    /// The Task's state.
    pub task: String,
    /// On which path it receives this much, e.g. `after ConfirmTrip fails`.
    pub when: String,
    /// The execution input then each earlier step's output, in the order they are sent.
    pub typed: Vec<TypedPart>,
    /// How many `{ "Error", "Cause" }` objects it receives: the failure that started
    /// compensation, and for the escalation every compensation's.
    pub failures: usize,
    /// The characters of everything else, as compact JSON: the fixed context (execution ARN,
    /// execution name and the keys derived from it at their longest), keys and punctuation.
    pub fixed_chars: usize,
}

/// A part of a payload whose size depends on a declared type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TypedPart {
    /// The type, as declared.
    pub type_name: String,
    /// What it is: `input`, or the step whose output it is.
    pub source: String,
}

impl Payload {
    /// At most how many characters the parts bounded by Step Functions' limits take: the fixed
    /// part and the failures' `Error` and `Cause`.
    pub fn bounded_chars(&self) -> usize {
        self.fixed_chars + self.failures * (aws::ERROR_CHARS + aws::CAUSE_CHARS)
    }
}

/// The Task that receives the most. Every payload the generator sends is the execution input, the
/// outputs of the steps before the failing one (or before the action itself), then the failure,
/// the failures of the compensations (the escalation only) and the context. Sizes of the typed
/// parts are unknown, so Tasks are compared by what they receive: more typed parts first, then
/// more failures, then the longer fixed part; the first of equals wins.
pub fn largest_payload(saga: &SagaInfo) -> Payload {
    let mut candidates: Vec<Payload> = saga
        .steps
        .iter()
        .enumerate()
        .map(|(index, _)| action_payload(saga, index))
        .collect();
    let last = saga.steps.len() - 1;
    let last_step = saga.steps[last].name();
    for compensated in saga.compensated_after(last) {
        candidates.push(compensation_payload(saga, compensated, last_step));
    }
    if saga.escalation.is_some() && saga.compensated_after(last).next().is_some() {
        candidates.push(escalation_payload(saga, last_step));
    }
    let key = |p: &Payload| (p.typed.len(), p.failures, p.fixed_chars);
    candidates
        .into_iter()
        .reduce(|best, next| if key(&next) > key(&best) { next } else { best })
        .expect("a saga has at least one step")
}

fn action_payload(saga: &SagaInfo, index: usize) -> Payload {
    let step = &saga.steps[index];
    let mut payload = Map::new();
    let typed = typed_parts(saga, index, &mut payload);
    payload.insert(
        "context".to_owned(),
        context(saga, step.state(), action_retry_budget(step)),
    );
    Payload {
        task: step.state().to_owned(),
        when: if index == 0 {
            "first".to_owned()
        } else {
            format!("after {}", saga.steps[index - 1].name())
        },
        fixed_chars: fixed_chars(&payload, typed.len()),
        typed,
        failures: 0,
    }
}

fn compensation_payload(saga: &SagaInfo, compensated: &StepInfo, failed: &str) -> Payload {
    let compensation = compensated
        .compensation
        .as_ref()
        .expect("compensated_after yields compensated steps");
    let state = &compensation.function.state;
    let mut payload = Map::new();
    let typed = typed_parts(saga, saga.steps.len() - 1, &mut payload);
    payload.insert("failure".to_owned(), failure());
    payload.insert(
        "action_idempotency_key".to_owned(),
        json!(format!("{}:{}", compensated.state(), longest_name())),
    );
    payload.insert(
        "context".to_owned(),
        context(saga, state, retried_function_budget(&compensation.retry)),
    );
    Payload {
        task: state.to_string(),
        when: format!("after {failed} fails"),
        fixed_chars: fixed_chars(&payload, typed.len()),
        typed,
        failures: 1,
    }
}

fn escalation_payload(saga: &SagaInfo, failed: &str) -> Payload {
    let escalation = saga.escalation.as_ref().expect("called with an escalation");
    let state = &escalation.function.state;
    let last = saga.steps.len() - 1;
    let mut payload = Map::new();
    let typed = typed_parts(saga, last, &mut payload);
    payload.insert("failure".to_owned(), failure());
    // A failed pivot guard escalates before any other compensation runs, so the guard and the
    // others are never undone together: the largest `undone` is the others (or the guard alone).
    let others = saga.compensated_after(last).filter(|s| !s.pivot).count();
    let undone: Map<String, Value> = saga
        .compensated_after(last)
        .filter(|step| !(step.pivot && others > 0))
        .map(|step| {
            let name = &step
                .compensation
                .as_ref()
                .expect("compensated")
                .function
                .name;
            (name.to_string(), failure())
        })
        .collect();
    let failures = 1 + undone.len();
    payload.insert("undone".to_owned(), Value::Object(undone));
    payload.insert(
        "context".to_owned(),
        context(saga, state, retried_function_budget(&escalation.retry)),
    );
    Payload {
        task: state.to_string(),
        when: format!("after {failed} fails and every compensation fails"),
        fixed_chars: fixed_chars(&payload, typed.len()),
        typed,
        failures,
    }
}

/// Adds `input` and `results` (the outputs of the steps before `before`) to `payload`, each typed
/// value as `null`, and names them.
fn typed_parts(saga: &SagaInfo, before: usize, payload: &mut Map<String, Value>) -> Vec<TypedPart> {
    let mut typed = vec![TypedPart {
        type_name: saga.input.to_string(),
        source: "input".to_owned(),
    }];
    payload.insert("input".to_owned(), Value::Null);
    let mut results = Map::new();
    for step in &saga.steps[..before] {
        // Each action's Task keeps `{ "output": <the function's result> }` (its ResultSelector)
        // under its logical name.
        results.insert(step.name().to_owned(), json!({ "output": null }));
        typed.push(TypedPart {
            type_name: step.output.to_string(),
            source: step.name().to_owned(),
        });
    }
    payload.insert("results".to_owned(), Value::Object(results));
    typed
}

/// A caught error, its texts empty: [`Payload::bounded_chars`] adds their limits.
fn failure() -> Value {
    json!({ "Error": "", "Cause": "" })
}

/// The context every Task is sent, each value at its longest.
fn context(saga: &SagaInfo, state: &str, retry_budget: u32) -> Value {
    json!({
        "saga": saga.name,
        "execution_id": "a".repeat(aws::EXECUTION_ARN_CHARS),
        "execution_name": longest_name(),
        "state_name": state,
        "idempotency_key": format!("{}:{state}", longest_name()),
        "retry_count": retry_budget,
    })
}

fn longest_name() -> String {
    "n".repeat(aws::NAME_CHARS)
}

/// The characters of `payload` as compact JSON, less the `null` that stands for each typed part.
fn fixed_chars(payload: &Map<String, Value>, typed: usize) -> usize {
    let text = Value::Object(payload.clone()).to_string();
    text.chars().count() - typed * "null".len()
}
