//! The Amazon States Language document of a saga.
//!
//! Shape of every execution's state (the JSON passed from state to state):
//!
//! ```text
//! { "input": <saga input>,                 written once by `Start`, never overwritten
//!   "results": { "<Step>": { "output": … } },          each action's output, by logical name
//!   "failure": { "Error": …, "Cause": … },              the error that started compensation
//!   "compensations": { "<Compensation>": { "output": … } },
//!   "compensation_failures": { "<Compensation>": { "Error": …, "Cause": … } },
//!   "escalation": … }
//! ```
//!
//! Each Task writes only its own slot (`ResultSelector` + `ResultPath`), so the state stays small
//! and nothing earlier is lost.

use serde::Serialize;
use serde::ser::{SerializeMap, Serializer};
use serde_json::{Value, json};

use saga_model::reserved::INVALID_PAYLOAD;
use saga_model::states::{
    CHECK_COMPENSATIONS, CHECK_FAILURE, CHECK_PIVOT, COMMITTED, COMPENSATED, COMPENSATION_FAILED,
    ESCALATE, ESCALATION_FAILED, START, STEP_FAILED,
};

use crate::model::{Jitter, RetryPolicy, Saga, Step};

/// The optimised Lambda integration; its result wraps the function's output in `Payload`.
pub const LAMBDA_INVOKE: &str = "arn:aws:states:::lambda:invoke";

/// Errors of the Lambda service itself, retried on every Task as AWS recommends.
pub const LAMBDA_SERVICE_ERRORS: [&str; 4] = [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
];

/// A state machine definition.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct StateMachine {
    /// Says that the file is generated.
    pub comment: String,
    /// The first state.
    pub start_at: String,
    /// The execution's timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// The states, in a stable order: start, steps, compensations, then the terminal states.
    pub states: States,
}

/// Named states in insertion order.
#[derive(Debug, Default)]
pub struct States(pub Vec<(String, State)>);

impl Serialize for States {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (name, state) in &self.0 {
            map.serialize_entry(name, state)?;
        }
        map.end()
    }
}

/// The state types the generator emits.
#[derive(Debug, Serialize)]
#[serde(tag = "Type")]
pub enum State {
    /// A Lambda invocation.
    Task(Task),
    /// Reshapes the state.
    Pass(Pass),
    /// Branches on the state.
    Choice(Choice),
    /// Ends the execution in failure.
    Fail(Fail),
    /// Ends the execution successfully.
    Succeed(Succeed),
}

/// `"Type": "Succeed"`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Succeed {
    /// What the success means.
    pub comment: String,
}

/// `"Type": "Task"`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Task {
    /// The step's doc comment.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
    /// Always [`LAMBDA_INVOKE`].
    pub resource: String,
    /// `FunctionName` and `Payload`.
    pub parameters: Value,
    /// Keeps only the function's output.
    pub result_selector: Value,
    /// Where the output goes.
    pub result_path: String,
    /// The Task's timeout.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub timeout_seconds: Option<u32>,
    /// Retriers, tried in order.
    pub retry: Vec<Retrier>,
    /// Catchers, tried in order.
    pub catch: Vec<Catcher>,
    /// What comes next.
    #[serde(flatten)]
    pub transition: Transition,
}

/// `"Type": "Pass"`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Pass {
    /// What the state is for.
    pub comment: String,
    /// The value it produces.
    pub parameters: Value,
    /// Where it goes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub result_path: Option<String>,
    /// What comes next.
    #[serde(flatten)]
    pub transition: Transition,
}

/// `"Type": "Choice"`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Choice {
    /// What the choice decides.
    pub comment: String,
    /// Rules, first match wins.
    pub choices: Vec<Value>,
    /// When no rule matches.
    pub default: String,
}

/// `"Type": "Fail"`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Fail {
    /// What the failure means.
    pub comment: String,
    /// A fixed error name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// The error name, read from the state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_path: Option<String>,
    /// A fixed cause.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause: Option<String>,
    /// The cause, read from the state.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cause_path: Option<String>,
}

/// `Next` or `End`.
#[derive(Debug)]
pub enum Transition {
    /// `"Next": name`
    Next(String),
    /// `"End": true`
    End,
}

impl Serialize for Transition {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(1))?;
        match self {
            Transition::Next(next) => map.serialize_entry("Next", next)?,
            Transition::End => map.serialize_entry("End", &true)?,
        }
        map.end()
    }
}

/// One entry of `Retry`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Retrier {
    /// Error names this retrier handles.
    pub error_equals: Vec<String>,
    /// Seconds before the first retry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval_seconds: Option<u32>,
    /// Retries after the first attempt.
    pub max_attempts: u32,
    /// Interval multiplier.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backoff_rate: Option<f64>,
    /// Cap of one interval.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max_delay_seconds: Option<u32>,
    /// `FULL` or `NONE`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jitter_strategy: Option<&'static str>,
}

/// One entry of `Catch`.
#[derive(Debug, Serialize)]
#[serde(rename_all = "PascalCase")]
pub struct Catcher {
    /// Error names this catcher handles.
    pub error_equals: Vec<String>,
    /// Where the error object is stored.
    pub result_path: String,
    /// Where execution continues.
    pub next: String,
}

/// The first line of the `Comment`: what made this file and how to change it.
pub fn generated_marker(saga: &Saga) -> String {
    saga_model::generated_marker(&saga.name, &saga.origin.crate_name)
}

/// The saga's state machine.
pub fn state_machine(saga: &Saga) -> StateMachine {
    let mut states = States::default();
    states.0.push((START.to_owned(), State::Pass(start(saga))));
    for (index, step) in saga.steps.iter().enumerate() {
        states.0.push((
            step.action.state.clone(),
            State::Task(action_task(saga, index)),
        ));
    }
    let chain = compensation_chain(saga);
    for (position, step) in chain.iter().enumerate() {
        let next = chain
            .get(position + 1)
            .map_or(CHECK_COMPENSATIONS, |s| compensation_state(s));
        if step.pivot {
            // The guard decides between going on and compensating; when it cannot decide, nothing
            // may be undone (the pivot may have taken effect): straight to the escalation.
            states.0.push((
                compensation_state(step).to_owned(),
                State::Task(compensation_task(
                    saga,
                    step,
                    CHECK_PIVOT,
                    CHECK_COMPENSATIONS,
                )),
            ));
            states.0.push((
                CHECK_PIVOT.to_owned(),
                State::Choice(check_pivot(saga, step, next)),
            ));
        } else {
            states.0.push((
                compensation_state(step).to_owned(),
                State::Task(compensation_task(saga, step, next, next)),
            ));
        }
    }
    if saga.has_compensations() {
        let escalation = saga
            .escalation
            .as_ref()
            .map_or(ESCALATE, |e| e.function.state.as_str());
        states.0.push((
            CHECK_COMPENSATIONS.to_owned(),
            State::Choice(check_compensations(&chain, escalation)),
        ));
        match &saga.escalation {
            Some(escalation) => states.0.push((
                escalation.function.state.clone(),
                State::Task(escalation_task(saga)),
            )),
            None => states
                .0
                .push((ESCALATE.to_owned(), State::Pass(escalation_record()))),
        }
    }
    if saga.steps.last().is_some_and(|s| s.pivot) {
        states.0.push((
            COMMITTED.to_owned(),
            State::Succeed(Succeed {
                comment: "The pivot's guard found that the pivot took effect after all: the saga is done.".to_owned(),
            }),
        ));
    }
    states
        .0
        .push((CHECK_FAILURE.to_owned(), State::Choice(check_failure())));
    states
        .0
        .push((STEP_FAILED.to_owned(), State::Pass(step_failed(saga))));
    states
        .0
        .push((COMPENSATED.to_owned(), State::Fail(compensated())));
    if saga.has_compensations() {
        states.0.push((
            COMPENSATION_FAILED.to_owned(),
            State::Fail(compensation_failed(saga)),
        ));
    }
    if saga.escalation.is_some() {
        states.0.push((
            ESCALATION_FAILED.to_owned(),
            State::Fail(escalation_failed(saga)),
        ));
    }
    let mut comment = generated_marker(saga);
    if !saga.doc.is_empty() {
        comment.push(' ');
        comment.push_str(&saga.doc.join(" "));
    }
    StateMachine {
        comment,
        start_at: START.to_owned(),
        timeout_seconds: Some(saga.timeout_seconds),
        states,
    }
}

/// The definition as it is written to `generated/<saga>.asl.json` and embedded in the crate.
pub fn to_json(saga: &Saga) -> String {
    let mut json = serde_json::to_string_pretty(&state_machine(saga))
        .expect("the ASL model always serialises");
    json.push('\n');
    json
}

fn start(saga: &Saga) -> Pass {
    let mut parameters = json!({ "input.$": "$", "results": {} });
    if saga.has_compensations() {
        parameters["compensations"] = json!({});
        parameters["compensation_failures"] = json!({});
    }
    Pass {
        comment: "Keeps the execution input under $.input so that no result can overwrite it."
            .to_owned(),
        parameters,
        result_path: None,
        transition: Transition::Next(saga.steps[0].action.state.clone()),
    }
}

fn action_task(saga: &Saga, index: usize) -> Task {
    let step = &saga.steps[index];
    let mut retry = vec![retrier(
        LAMBDA_SERVICE_ERRORS
            .iter()
            .map(ToString::to_string)
            .collect(),
        &step.retry,
    )];
    if !step.transient_errors.is_empty() {
        retry.push(retrier(
            step.transient_errors
                .iter()
                .map(ToString::to_string)
                .collect(),
            &step.retry,
        ));
    }
    let payload = json!({
        "input.$": "$.input",
        "results.$": "$.results",
        "context": context(saga),
    });
    Task {
        comment: (!step.doc.is_empty()).then(|| step.doc.join(" ")),
        resource: LAMBDA_INVOKE.to_owned(),
        parameters: invoke(&step.action.substitution_key(), &payload),
        result_selector: json!({ "output.$": "$.Payload" }),
        result_path: format!("$.results.{}", step.action.ident),
        timeout_seconds: step.timeout_seconds,
        retry,
        catch: vec![Catcher {
            error_equals: vec!["States.ALL".to_owned()],
            result_path: "$.failure".to_owned(),
            next: compensation_entry(saga, index),
        }],
        transition: saga.steps.get(index + 1).map_or(Transition::End, |next| {
            Transition::Next(next.action.state.clone())
        }),
    }
}

/// After the pivot's guard: on when the pivot took effect (the next step, or the end), else the
/// compensations of the steps before it.
fn check_pivot(saga: &Saga, pivot: &Step, compensate: &str) -> Choice {
    let guard = &pivot
        .compensation
        .as_ref()
        .expect("a pivot has a guard")
        .function
        .ident;
    let index = saga
        .steps
        .iter()
        .position(|s| s.pivot)
        .expect("called for the pivot");
    let on = saga
        .steps
        .get(index + 1)
        .map_or(COMMITTED, |next| next.action.state.as_str());
    Choice {
        comment: format!(
            "Goes on when {guard} found that {} took effect after all; otherwise it can no longer take effect, and the earlier steps are undone.",
            pivot.action.state
        ),
        choices: vec![json!({
            "Variable": format!("$.compensations.{guard}.output.committed"),
            "BooleanEquals": true,
            "Next": on,
        })],
        default: compensate.to_owned(),
    }
}

fn compensation_task(saga: &Saga, step: &Step, next: &str, on_failure: &str) -> Task {
    let compensation = step
        .compensation
        .as_ref()
        .expect("the chain holds compensated steps only");
    let payload = json!({
        "input.$": "$.input",
        "results.$": "$.results",
        "failure.$": "$.failure",
        "action_idempotency_key.$": format!("States.Format('{{}}:{}', $$.Execution.Name)", step.action.state),
        "context": context(saga),
    });
    Task {
        comment: Some(if step.pivot {
            format!(
                "The pivot's guard: settles whether {} took effect (its response may have been lost), so that it can no longer take effect if it did not.",
                step.action.state
            )
        } else {
            format!(
                "Undoes {}. Runs for the failing step too, since its action may have taken effect before it failed.",
                step.action.state
            )
        }),
        resource: LAMBDA_INVOKE.to_owned(),
        parameters: invoke(&compensation.function.substitution_key(), &payload),
        result_selector: json!({ "output.$": "$.Payload" }),
        result_path: format!("$.compensations.{}", compensation.function.ident),
        timeout_seconds: Some(compensation.timeout_seconds),
        retry: retry_everything(&compensation.retry),
        catch: vec![Catcher {
            error_equals: vec!["States.ALL".to_owned()],
            result_path: format!("$.compensation_failures.{}", compensation.function.ident),
            next: on_failure.to_owned(),
        }],
        transition: Transition::Next(next.to_owned()),
    }
}

fn escalation_task(saga: &Saga) -> Task {
    let escalation = saga
        .escalation
        .as_ref()
        .expect("called only with an escalation");
    let payload = json!({
        "input.$": "$.input",
        "results.$": "$.results",
        "failure.$": "$.failure",
        "undone.$": "$.compensation_failures",
        "context": context(saga),
    });
    Task {
        comment: Some("Some compensations failed after all their retries: hands what is left undone to an operator.".to_owned()),
        resource: LAMBDA_INVOKE.to_owned(),
        parameters: invoke(&escalation.function.substitution_key(), &payload),
        result_selector: json!({ "output.$": "$.Payload" }),
        result_path: "$.escalation".to_owned(),
        timeout_seconds: Some(escalation.timeout_seconds),
        retry: retry_everything(&escalation.retry),
        catch: vec![Catcher {
            error_equals: vec!["States.ALL".to_owned()],
            result_path: "$.escalation_failure".to_owned(),
            next: ESCALATION_FAILED.to_owned(),
        }],
        transition: Transition::Next(COMPENSATION_FAILED.to_owned()),
    }
}

fn escalation_record() -> Pass {
    Pass {
        comment: "Some compensations failed after all their retries: records what is left undone."
            .to_owned(),
        parameters: json!({ "undone.$": "$.compensation_failures", "failure.$": "$.failure" }),
        result_path: Some("$.escalation".to_owned()),
        transition: Transition::Next(COMPENSATION_FAILED.to_owned()),
    }
}

fn check_compensations(chain: &[&Step], escalation: &str) -> Choice {
    let rules: Vec<Value> = chain
        .iter()
        .map(|step| {
            let name = &step
                .compensation
                .as_ref()
                .expect("compensated")
                .function
                .ident;
            json!({ "Variable": format!("$.compensation_failures.{name}"), "IsPresent": true })
        })
        .collect();
    let choice = if let [only] = rules.as_slice() {
        let mut rule = only.clone();
        rule["Next"] = json!(escalation);
        rule
    } else {
        json!({ "Or": rules, "Next": escalation })
    };
    Choice {
        comment: "Escalates when any compensation failed after all its retries.".to_owned(),
        choices: vec![choice],
        default: CHECK_FAILURE.to_owned(),
    }
}

/// Step Functions' own errors (`States.Timeout`, `States.TaskFailed`, …) are not re-raised by
/// name: the ASL specification reserves the `States.` prefix, and some engines (moto) refuse a
/// `Fail` state that raises one and end with `States.Runtime` instead.
fn check_failure() -> Choice {
    Choice {
        comment: "Fails with the step's own error, unless it is an error of Step Functions itself (States.*), which no Fail state may raise.".to_owned(),
        choices: vec![json!({
            "Variable": "$.failure.Error",
            "StringMatches": "States.*",
            "Next": STEP_FAILED,
        })],
        default: COMPENSATED.to_owned(),
    }
}

fn step_failed(saga: &Saga) -> Pass {
    Pass {
        comment: format!(
            "Names a States.* failure {}.{STEP_FAILED}; the original error leads the cause.",
            saga.name
        ),
        parameters: json!({
            "Error": format!("{}.{STEP_FAILED}", saga.name),
            "Cause.$": "States.Format('{}: {}', $.failure.Error, $.failure.Cause)",
        }),
        result_path: Some("$.failure".to_owned()),
        transition: Transition::Next(COMPENSATED.to_owned()),
    }
}

fn compensated() -> Fail {
    Fail {
        comment: "A step failed and every completed step was undone; the execution fails with that step's error.".to_owned(),
        error: None,
        error_path: Some("$.failure.Error".to_owned()),
        cause: None,
        cause_path: Some("$.failure.Cause".to_owned()),
    }
}

fn compensation_failed(saga: &Saga) -> Fail {
    Fail {
        comment: "A step failed and some of its compensations could not be completed.".to_owned(),
        error: Some(format!("{}.{COMPENSATION_FAILED}", saga.name)),
        error_path: None,
        cause: Some("A compensation failed after all its retries; $.escalation records what is left undone.".to_owned()),
        cause_path: None,
    }
}

fn escalation_failed(saga: &Saga) -> Fail {
    Fail {
        comment: "A step failed, some of its compensations could not be completed, and the escalation failed too: nobody was told.".to_owned(),
        error: Some(format!("{}.{ESCALATION_FAILED}", saga.name)),
        error_path: None,
        cause: Some("A compensation failed after all its retries and so did the escalation; $.compensation_failures lists what is left undone and $.escalation_failure why the escalation failed.".to_owned()),
        cause_path: None,
    }
}

/// The compensation chain, newest first.
fn compensation_chain(saga: &Saga) -> Vec<&Step> {
    saga.steps
        .iter()
        .rev()
        .filter(|s| s.compensation.is_some())
        .collect()
}

/// Where a failure of step `index` goes: its own compensation, or the nearest earlier one, or
/// straight to `CheckFailure` when nothing before it can be undone.
fn compensation_entry(saga: &Saga, index: usize) -> String {
    if saga.steps[..index].iter().any(|s| s.pivot) {
        // After the pivot the saga only goes forward: a step that fails for good is an
        // operator's to finish, never a reason to undo what the pivot committed.
        return saga
            .escalation
            .as_ref()
            .map_or(ESCALATE, |e| e.function.state.as_str())
            .to_owned();
    }
    saga.steps[..=index]
        .iter()
        .rev()
        .find(|s| s.compensation.is_some())
        .map_or_else(
            || CHECK_FAILURE.to_owned(),
            |s| compensation_state(s).to_owned(),
        )
}

fn compensation_state(step: &Step) -> &str {
    &step
        .compensation
        .as_ref()
        .expect("compensated")
        .function
        .state
}

fn invoke(substitution_key: &str, payload: &Value) -> Value {
    json!({ "FunctionName": format!("${{{substitution_key}}}"), "Payload": payload })
}

/// Who is running, and the key that makes a retried invocation harmless.
fn context(saga: &Saga) -> Value {
    json!({
        "saga": saga.name,
        "execution_id.$": "$$.Execution.Id",
        "execution_name.$": "$$.Execution.Name",
        "state_name.$": "$$.State.Name",
        "idempotency_key.$": "States.Format('{}:{}', $$.Execution.Name, $$.State.Name)",
        "retry_count.$": "$$.State.RetryCount",
    })
}

fn retrier(error_equals: Vec<String>, policy: &RetryPolicy) -> Retrier {
    Retrier {
        error_equals,
        interval_seconds: Some(policy.interval_seconds),
        max_attempts: policy.max_attempts,
        backoff_rate: Some(policy.backoff_rate),
        max_delay_seconds: Some(policy.max_delay_seconds),
        jitter_strategy: Some(match policy.jitter {
            Jitter::Full => "FULL",
            Jitter::None => "NONE",
        }),
    }
}

/// A compensation's or the escalation's retriers: every error with `policy`, except a payload
/// that does not decode, which the same payload would fail again: retrying it would only delay
/// the escalation by the whole schedule.
fn retry_everything(policy: &RetryPolicy) -> Vec<Retrier> {
    vec![
        Retrier {
            error_equals: vec![INVALID_PAYLOAD.to_owned()],
            interval_seconds: None,
            max_attempts: 0,
            backoff_rate: None,
            max_delay_seconds: None,
            jitter_strategy: None,
        },
        retrier(vec!["States.ALL".to_owned()], policy),
    ]
}
