//! A trace as text: its spans as a tree, each under its parent, in order of start.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write;

use super::receiver::ReceivedSpan;

/// The attributes a span's line shows, in this order (its name is the step's state already).
const SHOWN: [&str; 3] = ["retry_count", "outcome", "trip_id"];

/// Every trace among `spans`, in order of its first span's start, each as the lines of its tree.
pub fn render_traces(spans: &[ReceivedSpan]) -> Vec<String> {
    let mut traces: BTreeMap<&str, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in spans {
        traces.entry(&span.trace_id).or_default().push(span);
    }
    let mut traces: Vec<Vec<&ReceivedSpan>> = traces.into_values().collect();
    traces.sort_by_key(|spans| spans.iter().map(|s| s.start_unix_nanos).min());
    traces
        .iter()
        .flat_map(|spans| render_trace(spans))
        .collect()
}

/// One trace's tree. A span whose parent was not received hangs under a line that names the
/// missing parent: for a saga execution, its root span, which nobody exports.
pub fn render_trace(spans: &[&ReceivedSpan]) -> Vec<String> {
    let Some(first) = spans.first() else {
        return Vec::new();
    };
    let start = spans.iter().map(|s| s.start_unix_nanos).min().unwrap_or(0);
    let end = spans
        .iter()
        .map(|s| s.end_unix_nanos)
        .max()
        .unwrap_or(start);
    let ids: BTreeSet<&str> = spans.iter().map(|s| s.span_id.as_str()).collect();
    let mut children: BTreeMap<Option<&str>, Vec<&ReceivedSpan>> = BTreeMap::new();
    for span in spans {
        children
            .entry(span.parent_span_id.as_deref())
            .or_default()
            .push(span);
    }
    for siblings in children.values_mut() {
        siblings.sort_by_key(|s| (s.start_unix_nanos, s.span_id.clone()));
    }
    let mut lines = vec![format!(
        "trace {}: {} span(s), {} from the first start to the last end",
        first.trace_id,
        spans.len(),
        millis(end.saturating_sub(start))
    )];
    let tree = Tree {
        children: &children,
        start,
    };
    let missing: Vec<Option<&str>> = children
        .keys()
        .filter(|parent| parent.is_none_or(|p| !ids.contains(p)))
        .copied()
        .collect();
    for parent in missing {
        match parent {
            Some(id) => {
                let execution = children[&parent]
                    .iter()
                    .find_map(|s| s.attribute("execution_id"))
                    .map(|arn| format!(" of {arn}"))
                    .unwrap_or_default();
                lines.push(format!("└─ {id} (root span{execution}, not exported)"));
                tree.render(parent, "   ", &mut lines);
            }
            None => tree.render(None, "", &mut lines),
        }
    }
    lines
}

struct Tree<'a> {
    children: &'a BTreeMap<Option<&'a str>, Vec<&'a ReceivedSpan>>,
    start: u64,
}

impl Tree<'_> {
    fn render(&self, parent: Option<&str>, indent: &str, lines: &mut Vec<String>) {
        let Some(spans) = self.children.get(&parent) else {
            return;
        };
        for (i, span) in spans.iter().enumerate() {
            let last = i + 1 == spans.len();
            let (branch, next) = if last {
                ("└─ ", "   ")
            } else {
                ("├─ ", "│  ")
            };
            lines.push(format!("{indent}{branch}{}", self.line(span)));
            self.render(Some(&span.span_id), &format!("{indent}{next}"), lines);
        }
    }

    fn line(&self, span: &ReceivedSpan) -> String {
        let mut line = format!(
            "{} [{}] span {} at +{} for {}",
            span.name,
            span.service,
            span.span_id,
            millis(span.start_unix_nanos.saturating_sub(self.start)),
            millis(span.end_unix_nanos.saturating_sub(span.start_unix_nanos)),
        );
        for key in SHOWN {
            if let Some(value) = span.attribute(key) {
                let _ = write!(line, " {key}={value}");
            }
        }
        if let Some(error) = &span.error {
            let _ = write!(line, " error=\"{error}\"");
        }
        line
    }
}

#[allow(clippy::cast_precision_loss)] // durations of minutes at most
fn millis(nanos: u64) -> String {
    format!("{:.1} ms", nanos as f64 / 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(
        id: &str,
        parent: &str,
        name: &str,
        start_ms: u64,
        attributes: &[(&str, &str)],
    ) -> ReceivedSpan {
        ReceivedSpan {
            trace_id: "t1".into(),
            span_id: id.into(),
            parent_span_id: Some(parent.into()),
            name: name.into(),
            service: "trip-local".into(),
            start_unix_nanos: start_ms * 1_000_000,
            end_unix_nanos: (start_ms + 2) * 1_000_000,
            attributes: attributes
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect(),
            error: None,
        }
    }

    #[test]
    fn steps_hang_under_the_missing_root_and_services_under_their_step() {
        let spans = [
            span(
                "b",
                "root",
                "ReserveFlight",
                10,
                &[("retry_count", "0"), ("outcome", "ok")],
            ),
            span(
                "a",
                "root",
                "CreateTrip",
                0,
                &[("execution_id", "arn:x"), ("trip_id", "t-1")],
            ),
            span("c", "a", "create", 1, &[("trip_id", "t-1")]),
        ];
        let lines = render_traces(&spans);
        assert_eq!(
            lines,
            [
                "trace t1: 3 span(s), 12.0 ms from the first start to the last end",
                "└─ root (root span of arn:x, not exported)",
                "   ├─ CreateTrip [trip-local] span a at +0.0 ms for 2.0 ms trip_id=t-1",
                "   │  └─ create [trip-local] span c at +1.0 ms for 2.0 ms trip_id=t-1",
                "   └─ ReserveFlight [trip-local] span b at +10.0 ms for 2.0 ms retry_count=0 outcome=ok",
            ]
        );
    }
}
