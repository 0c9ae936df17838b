//! Choice rules, compiled into a tree of typed comparisons.

use std::borrow::Cow;
use std::cmp::Ordering;

use serde_json::{Map, Value};

use crate::clock::parse_timestamp;
use crate::context::StateContext;
use crate::error::{StatesError, names};
use crate::path::{JsonPath, Root, Selection};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Kind {
    String,
    Numeric,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cmp {
    Eq,
    Lt,
    Gt,
    Le,
    Ge,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TypeTest {
    Null,
    Present,
    Numeric,
    String,
    Boolean,
    Timestamp,
}

#[derive(Debug, Clone)]
pub(crate) enum Operand {
    Literal(Value),
    Path(JsonPath),
}

/// A compiled boolean expression of a Choice state.
#[derive(Debug, Clone)]
pub(crate) enum Rule {
    And(Vec<Rule>),
    Or(Vec<Rule>),
    Not(Box<Rule>),
    Compare {
        variable: JsonPath,
        kind: Kind,
        cmp: Cmp,
        operand: Operand,
    },
    Matches {
        variable: JsonPath,
        pattern: Vec<PatternPart>,
    },
    Is {
        variable: JsonPath,
        test: TypeTest,
        expected: bool,
    },
}

/// A piece of a `StringMatches` pattern.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PatternPart {
    Literal(String),
    Star,
}

const STRUCTURAL_KEYS: [&str; 3] = ["Variable", "Next", "Comment"];

impl Rule {
    /// Compiles one rule object; `Next` is ignored here (the caller reads it from top-level rules).
    pub(crate) fn compile(obj: &Map<String, Value>) -> Result<Self, String> {
        if let Some(list) = obj.get("And").or_else(|| obj.get("Or")) {
            let Value::Array(items) = list else {
                return Err("`And`/`Or` must be an array of rules".into());
            };
            let rules = items
                .iter()
                .map(|r| r.as_object().ok_or("a rule must be an object".to_string()))
                .map(|r| r.and_then(Self::compile))
                .collect::<Result<Vec<_>, _>>()?;
            return Ok(if obj.contains_key("And") {
                Rule::And(rules)
            } else {
                Rule::Or(rules)
            });
        }
        if let Some(inner) = obj.get("Not") {
            let inner = inner.as_object().ok_or("`Not` must hold a rule object")?;
            return Ok(Rule::Not(Box::new(Self::compile(inner)?)));
        }
        let variable = obj
            .get("Variable")
            .and_then(Value::as_str)
            .ok_or("a comparison rule needs a string `Variable`")?;
        let variable = JsonPath::parse(variable)?;
        let mut operators = obj
            .iter()
            .filter(|(k, _)| !STRUCTURAL_KEYS.contains(&k.as_str()));
        let (op, operand) = operators
            .next()
            .ok_or("a comparison rule needs an operator such as `StringEquals`")?;
        if let Some((extra, _)) = operators.next() {
            return Err(format!(
                "a rule has one operator, found `{op}` and `{extra}`"
            ));
        }
        compile_operator(variable, op, operand)
    }

    pub(crate) fn eval(&self, input: &Value, ctx: &StateContext<'_>) -> Result<bool, StatesError> {
        match self {
            Rule::And(rules) => {
                for r in rules {
                    if !r.eval(input, ctx)? {
                        return Ok(false);
                    }
                }
                Ok(true)
            }
            Rule::Or(rules) => {
                for r in rules {
                    if r.eval(input, ctx)? {
                        return Ok(true);
                    }
                }
                Ok(false)
            }
            Rule::Not(r) => Ok(!r.eval(input, ctx)?),
            Rule::Is {
                variable,
                test,
                expected,
            } => {
                let value = lookup(variable, input, ctx);
                let actual = match (test, &value) {
                    (TypeTest::Present, v) => v.is_some(),
                    (_, None) => return Err(invalid_path(variable)),
                    (TypeTest::Null, Some(v)) => v.is_null(),
                    (TypeTest::Numeric, Some(v)) => v.is_number(),
                    (TypeTest::String, Some(v)) => v.is_string(),
                    (TypeTest::Boolean, Some(v)) => v.is_boolean(),
                    (TypeTest::Timestamp, Some(v)) => {
                        v.as_str().and_then(parse_timestamp).is_some()
                    }
                };
                Ok(actual == *expected)
            }
            Rule::Matches { variable, pattern } => {
                let value = lookup(variable, input, ctx).ok_or_else(|| invalid_path(variable))?;
                Ok(value.as_str().is_some_and(|s| wildcard_match(pattern, s)))
            }
            Rule::Compare {
                variable,
                kind,
                cmp,
                operand,
            } => {
                let value = lookup(variable, input, ctx).ok_or_else(|| invalid_path(variable))?;
                let other = match operand {
                    Operand::Literal(v) => Cow::Borrowed(v),
                    Operand::Path(p) => lookup(p, input, ctx).ok_or_else(|| invalid_path(p))?,
                };
                Ok(compare(*kind, &value, &other).is_some_and(|ord| cmp.holds(ord)))
            }
        }
    }
}

impl Cmp {
    fn holds(self, ord: Ordering) -> bool {
        match self {
            Cmp::Eq => ord == Ordering::Equal,
            Cmp::Lt => ord == Ordering::Less,
            Cmp::Gt => ord == Ordering::Greater,
            Cmp::Le => ord != Ordering::Greater,
            Cmp::Ge => ord != Ordering::Less,
        }
    }
}

/// Values of the wrong type never match (AWS compares only like with like).
fn compare(kind: Kind, a: &Value, b: &Value) -> Option<Ordering> {
    match kind {
        Kind::String => Some(a.as_str()?.cmp(b.as_str()?)),
        Kind::Numeric => {
            if !(a.is_number() && b.is_number()) {
                return None;
            }
            a.as_f64()?.partial_cmp(&b.as_f64()?)
        }
        Kind::Boolean => Some(a.as_bool()?.cmp(&b.as_bool()?)),
        Kind::Timestamp => Some(parse_timestamp(a.as_str()?)?.cmp(&parse_timestamp(b.as_str()?)?)),
    }
}

fn lookup<'v>(path: &JsonPath, input: &'v Value, ctx: &StateContext<'_>) -> Option<Cow<'v, Value>> {
    match path.root() {
        Root::Input => path.select(input).map(Selection::into_cow),
        Root::Context => ctx.select(path).map(Cow::Owned),
    }
}

fn invalid_path(path: &JsonPath) -> StatesError {
    StatesError::new(
        names::RUNTIME,
        format!(
            "Invalid path '{path}': The choice state's condition path references an invalid value."
        ),
    )
}

fn compile_operator(variable: JsonPath, op: &str, operand: &Value) -> Result<Rule, String> {
    let type_test = match op {
        "IsNull" => Some(TypeTest::Null),
        "IsPresent" => Some(TypeTest::Present),
        "IsNumeric" => Some(TypeTest::Numeric),
        "IsString" => Some(TypeTest::String),
        "IsBoolean" => Some(TypeTest::Boolean),
        "IsTimestamp" => Some(TypeTest::Timestamp),
        _ => None,
    };
    if let Some(test) = type_test {
        let expected = operand
            .as_bool()
            .ok_or_else(|| format!("`{op}` takes true or false"))?;
        return Ok(Rule::Is {
            variable,
            test,
            expected,
        });
    }
    if op == "StringMatches" {
        let pattern = operand
            .as_str()
            .ok_or("`StringMatches` takes a string pattern")?;
        return Ok(Rule::Matches {
            variable,
            pattern: parse_pattern(pattern),
        });
    }
    let (base, by_path) = match op.strip_suffix("Path") {
        Some(base) => (base, true),
        None => (op, false),
    };
    let (kind, rest) = [
        ("String", Kind::String),
        ("Numeric", Kind::Numeric),
        ("Boolean", Kind::Boolean),
        ("Timestamp", Kind::Timestamp),
    ]
    .into_iter()
    .find_map(|(prefix, kind)| base.strip_prefix(prefix).map(|rest| (kind, rest)))
    .ok_or_else(|| format!("unknown comparison operator `{op}`"))?;
    let cmp = match rest {
        "Equals" => Cmp::Eq,
        "LessThan" => Cmp::Lt,
        "GreaterThan" => Cmp::Gt,
        "LessThanEquals" => Cmp::Le,
        "GreaterThanEquals" => Cmp::Ge,
        _ => return Err(format!("unknown comparison operator `{op}`")),
    };
    if kind == Kind::Boolean && cmp != Cmp::Eq {
        return Err(format!("unknown comparison operator `{op}`"));
    }
    let operand = if by_path {
        let p = operand
            .as_str()
            .ok_or_else(|| format!("`{op}` takes a path string"))?;
        Operand::Path(JsonPath::parse(p)?)
    } else {
        let ok = match kind {
            Kind::String | Kind::Timestamp => operand.is_string(),
            Kind::Numeric => operand.is_number(),
            Kind::Boolean => operand.is_boolean(),
        };
        if !ok {
            return Err(format!(
                "`{op}` has an operand of the wrong type: {operand}"
            ));
        }
        Operand::Literal(operand.clone())
    };
    Ok(Rule::Compare {
        variable,
        kind,
        cmp,
        operand,
    })
}

/// `*` matches any run of characters; `\*` and `\\` are literal.
fn parse_pattern(pattern: &str) -> Vec<PatternPart> {
    let mut parts = Vec::new();
    let mut lit = String::new();
    let mut chars = pattern.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => lit.extend(chars.next()),
            '*' => {
                if !lit.is_empty() {
                    parts.push(PatternPart::Literal(std::mem::take(&mut lit)));
                }
                parts.push(PatternPart::Star);
            }
            _ => lit.push(c),
        }
    }
    if !lit.is_empty() {
        parts.push(PatternPart::Literal(lit));
    }
    parts
}

fn wildcard_match(parts: &[PatternPart], text: &str) -> bool {
    match parts.split_first() {
        None => text.is_empty(),
        Some((PatternPart::Literal(l), rest)) => text
            .strip_prefix(l.as_str())
            .is_some_and(|t| wildcard_match(rest, t)),
        Some((PatternPart::Star, rest)) => text
            .char_indices()
            .map(|(i, _)| i)
            .chain(std::iter::once(text.len()))
            .any(|i| wildcard_match(rest, &text[i..])),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_aws() {
        let m = |p: &str, t: &str| wildcard_match(&parse_pattern(p), t);
        assert!(m("log-*.txt", "log-2024.txt"));
        assert!(m("*", ""));
        assert!(m("a*b*c", "aXXbYc"));
        assert!(!m("a*b", "aXc"));
        assert!(m(r"lit\*", "lit*"));
        assert!(!m(r"lit\*", "literal"));
    }

    #[test]
    fn rejects_unknown_or_ill_typed_operators() {
        let compile = |v: Value| Rule::compile(v.as_object().unwrap());
        assert!(compile(serde_json::json!({"Variable": "$.a", "StringEqual": "x"})).is_err());
        assert!(compile(serde_json::json!({"Variable": "$.a", "NumericEquals": "1"})).is_err());
        assert!(compile(serde_json::json!({"Variable": "$.a", "BooleanLessThan": true})).is_err());
        assert!(compile(serde_json::json!({"Variable": "$.a", "IsNull": true})).is_ok());
    }
}
