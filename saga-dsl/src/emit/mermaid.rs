//! A Mermaid flowchart of a saga: the happy path down the middle, compensations beside it.

use std::fmt::Write;

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
    let _ = writeln!(w, "    _start([\"Start\"])");
    for step in &saga.steps {
        let _ = writeln!(w, "    {}[\"{}\"]", step.action.name, step.action.state);
    }
    let _ = writeln!(w, "    _succeeded([\"Succeeded\"])");
    let chain: Vec<_> = saga
        .steps
        .iter()
        .rev()
        .filter_map(|s| s.compensation.as_ref())
        .collect();
    for c in &chain {
        let _ = writeln!(w, "    {}[/\"{}\"/]", c.function.name, c.function.state);
    }
    if !chain.is_empty() {
        let _ = writeln!(w, "    _check{{\"CheckCompensations\"}}");
        let escalation = saga
            .escalation
            .as_ref()
            .map_or("Escalate", |e| e.state.as_str());
        let _ = writeln!(w, "    _escalate[[\"{escalation}\"]]");
        let _ = writeln!(w, "    _compensation_failed([\"CompensationFailed\"])");
    }
    let _ = writeln!(w, "    _compensated([\"Compensated\"])");

    let mut previous = "_start".to_owned();
    for step in &saga.steps {
        let _ = writeln!(w, "    {previous} --> {}", step.action.name);
        previous.clone_from(&step.action.name);
    }
    let _ = writeln!(w, "    {previous} --> _succeeded");
    for (index, step) in saga.steps.iter().enumerate() {
        let entry = saga.steps[..=index]
            .iter()
            .rev()
            .find_map(|s| s.compensation.as_ref())
            .map_or("_compensated", |c| c.function.name.as_str());
        let _ = writeln!(w, "    {} -. error .-> {entry}", step.action.name);
    }
    for (position, c) in chain.iter().enumerate() {
        let next = chain
            .get(position + 1)
            .map_or("_check", |n| n.function.name.as_str());
        let _ = writeln!(w, "    {} --> {next}", c.function.name);
    }
    if !chain.is_empty() {
        let _ = writeln!(w, "    _check -- all undone --> _compensated");
        let _ = writeln!(w, "    _check -- some failed --> _escalate");
        let _ = writeln!(w, "    _escalate --> _compensation_failed");
        let names: Vec<&str> = chain.iter().map(|c| c.function.name.as_str()).collect();
        let _ = writeln!(w, "    classDef compensation fill:#fdecea,stroke:#c0392b");
        let _ = writeln!(w, "    class {} compensation", names.join(","));
    }
    out
}
