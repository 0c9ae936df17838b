//! A Mermaid flowchart of a saga: the happy path down the middle, compensations beside it.

use std::fmt::Write;

use saga_model::states::{
    CHECK_COMPENSATIONS, CHECK_FAILURE, CHECK_PIVOT, COMPENSATED, COMPENSATION_FAILED, ESCALATE,
    ESCALATION_FAILED, START, STEP_FAILED,
};

use crate::emit::asl::generated_marker;
use crate::model::Saga;

/// `generated/<saga>.mmd`.
pub fn flowchart(saga: &Saga) -> String {
    let mut out = String::new();
    let w = &mut out;
    // Node ids of the fixed states start with `_`, which a saga's logical names never produce
    // in practice; labels carry the real state names.
    let _ = writeln!(w, "%% {}", generated_marker(saga));
    let _ = writeln!(w, "flowchart TD");
    let _ = writeln!(w, "    _start([\"{START}\"])");
    for step in &saga.steps {
        let _ = writeln!(w, "    {}[\"{}\"]", step.action.ident, step.action.state);
    }
    let _ = writeln!(w, "    _succeeded([\"Succeeded\"])");
    let chain: Vec<_> = saga
        .steps
        .iter()
        .rev()
        .filter_map(|s| s.compensation.as_ref())
        .collect();
    for c in &chain {
        let _ = writeln!(w, "    {}[/\"{}\"/]", c.function.ident, c.function.state);
    }
    let pivot = saga.steps.iter().position(|s| s.pivot);
    if pivot.is_some() {
        let _ = writeln!(w, "    _check_pivot{{\"{CHECK_PIVOT}\"}}");
    }
    if !chain.is_empty() {
        let _ = writeln!(w, "    _check{{\"{CHECK_COMPENSATIONS}\"}}");
        let escalation = saga
            .escalation
            .as_ref()
            .map_or(ESCALATE, |e| e.function.state.as_str());
        let _ = writeln!(w, "    _escalate[[\"{escalation}\"]]");
        let _ = writeln!(w, "    _compensation_failed([\"{COMPENSATION_FAILED}\"])");
        if saga.escalation.is_some() {
            let _ = writeln!(w, "    _escalation_failed([\"{ESCALATION_FAILED}\"])");
        }
    }
    let _ = writeln!(w, "    _check_failure{{\"{CHECK_FAILURE}\"}}");
    let _ = writeln!(w, "    _step_failed[\"{STEP_FAILED}\"]");
    let _ = writeln!(w, "    _compensated([\"{COMPENSATED}\"])");

    let mut previous = "_start".to_owned();
    for step in &saga.steps {
        let _ = writeln!(w, "    {previous} --> {}", step.action.ident);
        previous = step.action.ident.to_string();
    }
    let _ = writeln!(w, "    {previous} --> _succeeded");
    for (index, step) in saga.steps.iter().enumerate() {
        if pivot.is_some_and(|p| index > p) {
            let _ = writeln!(w, "    {} -. error .-> _escalate", step.action.ident);
            continue;
        }
        let entry = saga.steps[..=index]
            .iter()
            .rev()
            .find_map(|s| s.compensation.as_ref())
            .map_or_else(
                || "_check_failure".to_owned(),
                |c| c.function.ident.to_string(),
            );
        let _ = writeln!(w, "    {} -. error .-> {entry}", step.action.ident);
    }
    let guard = pivot.and_then(|p| saga.steps[p].compensation.as_ref());
    for (position, c) in chain.iter().enumerate() {
        let next = chain
            .get(position + 1)
            .map_or_else(|| "_check".to_owned(), |n| n.function.ident.to_string());
        if guard.is_some_and(|g| g.function.ident == c.function.ident) {
            let on = pivot
                .and_then(|p| saga.steps.get(p + 1))
                .map_or_else(|| "_succeeded".to_owned(), |s| s.action.ident.to_string());
            let _ = writeln!(w, "    {} --> _check_pivot", c.function.ident);
            let _ = writeln!(w, "    {} -. error .-> _check", c.function.ident);
            let _ = writeln!(w, "    _check_pivot -- committed --> {on}");
            let _ = writeln!(w, "    _check_pivot -- locked --> {next}");
        } else {
            let _ = writeln!(w, "    {} --> {next}", c.function.ident);
        }
    }
    if !chain.is_empty() {
        let _ = writeln!(w, "    _check -- all undone --> _check_failure");
        let _ = writeln!(w, "    _check -- some failed --> _escalate");
        let _ = writeln!(w, "    _escalate --> _compensation_failed");
        if saga.escalation.is_some() {
            let _ = writeln!(w, "    _escalate -. error .-> _escalation_failed");
        }
    }
    let _ = writeln!(w, "    _check_failure -- States.* error --> _step_failed");
    let _ = writeln!(w, "    _check_failure -- step's error --> _compensated");
    let _ = writeln!(w, "    _step_failed --> _compensated");
    if !chain.is_empty() {
        let names: Vec<String> = chain.iter().map(|c| c.function.ident.to_string()).collect();
        let _ = writeln!(w, "    classDef compensation fill:#fdecea,stroke:#c0392b");
        let _ = writeln!(w, "    class {} compensation", names.join(","));
    }
    out
}
