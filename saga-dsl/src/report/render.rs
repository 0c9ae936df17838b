//! The report as plain text: a header, a one-line legend, an aligned table of the paths, then the
//! history and payload limits. Nothing in it varies between runs, so it can be snapshot-tested.

use std::fmt::{self, Write as _};

use super::{Counts, Path, Payload, Report, aws};

const HEADERS: [&str; 6] = [
    "path",
    "ends",
    "transitions",
    "Lambda calls",
    "history events",
    "USD per 1,000 executions",
];

pub(super) fn report(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    if report.declared_in.is_empty() {
        writeln!(f, "{}", report.saga)?;
    } else {
        writeln!(f, "{} ({})", report.saga, report.declared_in)?;
    }
    writeln!(
        f,
        "a / b: without retries / with every retrier exhausted; Step Functions Standard at {} per 1,000 state transitions, each retry billed as one",
        dollars(aws::MILLIDOLLARS_PER_1000_TRANSITIONS)
    )?;
    writeln!(f)?;
    table(&report.paths, f)?;
    writeln!(f)?;
    history(report, f)?;
    payload(&report.largest_payload, f)
}

fn table(paths: &[Path], f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let rows: Vec<Row> = paths
        .iter()
        .map(|path| Row {
            label: path.label.clone(),
            end: path.end.as_str(),
            numbers: [
                pair(path.transitions(), |n| n.to_string()),
                pair(path.invocations(), |n| n.to_string()),
                pair(path.history_events(), |n| n.to_string()),
                pair(path.cost_per_1000_executions(), dollars),
            ],
        })
        .collect();
    let width = |cell: &dyn Fn(&Row) -> usize, header: &str| {
        rows.iter().map(cell).max().unwrap_or(0).max(header.len())
    };
    let label = width(&|r| r.label.chars().count(), HEADERS[0]);
    let end = width(&|r| r.end.len(), HEADERS[1]);
    // Each number column is `a / b`: the a's and the b's right-aligned on their own, so that the
    // slashes line up.
    let numbers: [(usize, usize); 4] = std::array::from_fn(|column| {
        let a = rows
            .iter()
            .map(|r| r.numbers[column].0.len())
            .max()
            .unwrap_or(0);
        let b = rows
            .iter()
            .map(|r| r.numbers[column].1.len())
            .max()
            .unwrap_or(0);
        let header = HEADERS[column + 2].len();
        // A header wider than its numbers widens the a's.
        (a.max(header.saturating_sub(b + 3)), b)
    });
    let mut header = format!("{:<label$}  {:<end$}", HEADERS[0], HEADERS[1]);
    for (column, (a, b)) in numbers.iter().enumerate() {
        write!(
            header,
            "  {:>width$}",
            HEADERS[column + 2],
            width = a + 3 + b
        )?;
    }
    writeln!(f, "{}", header.trim_end())?;
    for row in &rows {
        let mut text = format!("{:<label$}  {:<end$}", row.label, row.end);
        for ((a, b), (a_width, b_width)) in row.numbers.iter().zip(numbers) {
            write!(text, "  {a:>a_width$} / {b:>b_width$}")?;
        }
        writeln!(f, "{}", text.trim_end())?;
    }
    Ok(())
}

/// One line of the table.
struct Row {
    label: String,
    end: &'static str,
    /// Transitions, Lambda calls, history events and cost: without retries, worst case.
    numbers: [(String, String); 4],
}

fn pair(counts: Counts, show: impl Fn(u64) -> String) -> (String, String) {
    (show(counts.without_retries), show(counts.worst_case))
}

fn history(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    let longest = report.longest_history();
    let events = longest.history_events().worst_case;
    // Tenths of a percent, rounded up so that the share is never understated.
    let tenths = (events * 1000).div_ceil(aws::HISTORY_EVENTS_LIMIT);
    writeln!(
        f,
        "most history events: {} of the {} a Standard execution may write ({}.{}%), when {}",
        thousands(events),
        thousands(aws::HISTORY_EVENTS_LIMIT),
        tenths / 10,
        tenths % 10,
        longest.label
    )
}

fn payload(payload: &Payload, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(
        f,
        "largest Task payload: {}, {} (Step Functions accepts at most {} bytes, UTF-8):",
        payload.task,
        payload.when,
        thousands(aws::PAYLOAD_BYTES_LIMIT)
    )?;
    let typed: Vec<String> = payload
        .typed
        .iter()
        .map(|part| format!("{} ({})", part.type_name, part.source))
        .collect();
    writeln!(f, "  sizes of {}", typed.join(" + "))?;
    let failures = match payload.failures {
        0 => String::new(),
        1 => format!(
            "a failure (Error at most {}, Cause at most {} characters) and ",
            thousands(aws::ERROR_CHARS as u64),
            thousands(aws::CAUSE_CHARS as u64)
        ),
        n => format!(
            "{n} failures (Error at most {}, Cause at most {} characters each) and ",
            thousands(aws::ERROR_CHARS as u64),
            thousands(aws::CAUSE_CHARS as u64)
        ),
    };
    writeln!(
        f,
        "  + at most {} characters: {failures}{} of context, keys and punctuation",
        thousands(payload.bounded_chars() as u64),
        thousands(payload.fixed_chars as u64)
    )
}

/// `$0.150` from thousandths of a dollar.
fn dollars(millidollars: u64) -> String {
    format!("${}.{:03}", millidollars / 1000, millidollars % 1000)
}

/// `25,000`.
fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_print_as_people_read_them() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(25_000), "25,000");
        assert_eq!(thousands(1_262_144), "1,262,144");
        assert_eq!(dollars(150), "$0.150");
        assert_eq!(dollars(25), "$0.025");
        assert_eq!(dollars(12_345), "$12.345");
    }
}
