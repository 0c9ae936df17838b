//! JSONPath as Step Functions uses it, compiled once into segments.
//!
//! Step Functions accepts the Jayway subset of JSONPath. We support the parts that occur in
//! real definitions: dot and bracket members, indexes, `*`, slices `[a:b]`, union-free deep scan
//! `..name`, and the context-object root `$$`. Filters (`[?(...)]`) are rejected at compile time
//! rather than silently mis-evaluated.

use std::borrow::Cow;
use std::fmt;

use serde_json::{Map, Value};

/// Which document a path reads from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Root {
    /// `$`: the state's input (or whichever value the field applies to).
    Input,
    /// `$$`: the context object.
    Context,
}

#[derive(Debug, Clone, PartialEq)]
enum Segment {
    Field(Box<str>),
    Index(usize),
    Wildcard,
    Slice {
        start: Option<i64>,
        end: Option<i64>,
    },
    Descendant(Box<str>),
}

/// A pre-parsed JSONPath.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct JsonPath {
    source: Box<str>,
    root: Root,
    segments: Box<[Segment]>,
    definite: bool,
}

/// What a path selected: a single value, or (for paths with `*`, slices or `..`) a list.
pub(crate) enum Selection<'v> {
    One(&'v Value),
    Many(Vec<&'v Value>),
}

impl<'v> Selection<'v> {
    /// Borrows a single match; only a list of matches needs a new array.
    pub(crate) fn into_cow(self) -> Cow<'v, Value> {
        match self {
            Selection::One(v) => Cow::Borrowed(v),
            many @ Selection::Many(_) => Cow::Owned(many.into_owned()),
        }
    }

    pub(crate) fn into_owned(self) -> Value {
        match self {
            Selection::One(v) => v.clone(),
            Selection::Many(vs) => Value::Array(vs.into_iter().cloned().collect()),
        }
    }
}

impl fmt::Display for JsonPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

impl JsonPath {
    /// Parses `$...` or `$$...`.
    pub(crate) fn parse(source: &str) -> Result<Self, String> {
        let (root, rest) = if let Some(rest) = source.strip_prefix("$$") {
            (Root::Context, rest)
        } else if let Some(rest) = source.strip_prefix('$') {
            (Root::Input, rest)
        } else {
            return Err(format!("path `{source}` must start with `$`"));
        };
        let segments = parse_segments(rest).map_err(|e| format!("invalid path `{source}`: {e}"))?;
        let definite = segments
            .iter()
            .all(|s| matches!(s, Segment::Field(_) | Segment::Index(_)));
        Ok(Self {
            source: source.into(),
            root,
            segments: segments.into_boxed_slice(),
            definite,
        })
    }

    /// Parses a reference path (ResultPath): input-rooted, members and indexes only.
    pub(crate) fn parse_reference(source: &str) -> Result<Self, String> {
        let path = Self::parse(source)?;
        if path.root != Root::Input || !path.definite {
            return Err(format!(
                "`{source}` is not a reference path: only `$`, members and indexes are allowed"
            ));
        }
        Ok(path)
    }

    pub(crate) fn root(&self) -> Root {
        self.root
    }

    /// True for `$` alone, which lets callers move a value instead of cloning it.
    pub(crate) fn is_identity(&self) -> bool {
        self.root == Root::Input && self.segments.is_empty()
    }

    /// True when the path selects at most one value (members and indexes only).
    pub(crate) fn is_definite(&self) -> bool {
        self.definite
    }

    /// Whether `other` starts with this path, i.e. selects inside what this one selects.
    pub(crate) fn is_prefix_of(&self, other: &JsonPath) -> bool {
        self.root == other.root && other.segments.starts_with(&self.segments)
    }

    /// Moves the value at this definite path out of `doc`, leaving `null` behind.
    pub(crate) fn take(&self, doc: &mut Value) -> Option<Value> {
        debug_assert!(
            self.definite,
            "only a definite path selects one value to move"
        );
        let mut cur = doc;
        for seg in &*self.segments {
            cur = match (seg, cur) {
                (Segment::Field(name), Value::Object(map)) => member_mut(map, name)?,
                (Segment::Index(i), Value::Array(items)) => items.get_mut(*i)?,
                _ => return None,
            };
        }
        Some(std::mem::take(cur))
    }

    /// Evaluates the path; `None` means it matched nothing (a definite path that is absent).
    pub(crate) fn select<'v>(&self, doc: &'v Value) -> Option<Selection<'v>> {
        self.select_after(0, doc)
    }

    /// Number of segments after the root.
    pub(crate) fn len(&self) -> usize {
        self.segments.len()
    }

    /// The member name of segment `i`, when that segment is a plain member.
    pub(crate) fn field_at(&self, i: usize) -> Option<&str> {
        match self.segments.get(i) {
            Some(Segment::Field(name)) => Some(name),
            _ => None,
        }
    }

    /// Evaluates the segments after the first `skip` on `doc`. When those `skip` segments are
    /// members leading to `doc`, this equals [`JsonPath::select`] on the enclosing document,
    /// which lets the context object answer `$$.Execution.Input.x` without being built.
    pub(crate) fn select_after<'v>(&self, skip: usize, doc: &'v Value) -> Option<Selection<'v>> {
        let segments = self.segments.get(skip..).unwrap_or_default();
        if self.definite {
            let mut cur = doc;
            for seg in segments {
                cur = match (seg, cur) {
                    (Segment::Field(name), Value::Object(map)) => member(map, name)?,
                    (Segment::Index(i), Value::Array(items)) => items.get(*i)?,
                    _ => return None,
                };
            }
            return Some(Selection::One(cur));
        }
        let mut current = vec![doc];
        for seg in segments {
            let mut next = Vec::new();
            for v in current {
                step(seg, v, &mut next);
            }
            current = next;
        }
        Some(Selection::Many(current))
    }

    /// Whether [`JsonPath::assign`] would succeed on `doc`: every existing value along the
    /// path is an object (or, for an index, an array long enough); missing members are fine.
    pub(crate) fn can_assign(&self, doc: &Value) -> bool {
        let mut cur = Some(doc);
        for seg in &*self.segments {
            cur = match (cur, seg) {
                // Below a member we would create, only further members can follow.
                (None, Segment::Index(_)) => return false,
                (None, _) => None,
                (Some(Value::Object(map)), Segment::Field(name)) => member(map, name),
                (Some(Value::Array(items)), Segment::Index(i)) if *i < items.len() => items.get(*i),
                _ => return false,
            };
        }
        true
    }

    /// Writes `value` at this reference path, creating missing intermediate objects.
    ///
    /// Fails (Step Functions' `States.ResultPathMatchFailure`) when an existing intermediate
    /// value is not an object, or an index is out of range.
    pub(crate) fn assign(&self, doc: &mut Value, value: Value) -> Result<(), ()> {
        let Some((last, parents)) = self.segments.split_last() else {
            *doc = value;
            return Ok(());
        };
        let mut cur = doc;
        for seg in parents {
            cur = match seg {
                Segment::Field(name) => {
                    let Value::Object(map) = cur else {
                        return Err(());
                    };
                    // `Map::entry` would allocate the key even when it is present.
                    if member(map, name).is_none() {
                        map.insert(name.to_string(), Value::Object(Map::new()));
                    }
                    member_mut(map, name).ok_or(())?
                }
                Segment::Index(i) => {
                    let Value::Array(items) = cur else {
                        return Err(());
                    };
                    items.get_mut(*i).ok_or(())?
                }
                _ => return Err(()),
            };
        }
        match (last, cur) {
            (Segment::Field(name), Value::Object(map)) => {
                match member_mut(map, name) {
                    Some(slot) => *slot = value,
                    None => {
                        map.insert(name.to_string(), value);
                    }
                }
                Ok(())
            }
            (Segment::Index(i), Value::Array(items)) => {
                *items.get_mut(*i).ok_or(())? = value;
                Ok(())
            }
            _ => Err(()),
        }
    }
}

/// Objects up to this size are searched key by key: comparing a few short keys costs less
/// than hashing the name (serde_json's maps use SipHash), and most ASL documents are small.
const LINEAR_SEARCH_MAX: usize = 8;

fn member<'v>(map: &'v Map<String, Value>, name: &str) -> Option<&'v Value> {
    if map.len() <= LINEAR_SEARCH_MAX {
        map.iter().find_map(|(k, v)| (k == name).then_some(v))
    } else {
        map.get(name)
    }
}

fn member_mut<'v>(map: &'v mut Map<String, Value>, name: &str) -> Option<&'v mut Value> {
    if map.len() <= LINEAR_SEARCH_MAX {
        map.iter_mut().find_map(|(k, v)| (k == name).then_some(v))
    } else {
        map.get_mut(name)
    }
}

fn step<'v>(seg: &Segment, v: &'v Value, out: &mut Vec<&'v Value>) {
    match (seg, v) {
        (Segment::Field(name), Value::Object(map)) => out.extend(member(map, name)),
        (Segment::Index(i), Value::Array(items)) => out.extend(items.get(*i)),
        (Segment::Wildcard, Value::Object(map)) => out.extend(map.values()),
        (Segment::Wildcard, Value::Array(items)) => out.extend(items.iter()),
        (Segment::Slice { start, end }, Value::Array(items)) => {
            let len = i64::try_from(items.len()).unwrap_or(i64::MAX);
            let clamp = |x: i64| if x < 0 { (len + x).max(0) } else { x.min(len) };
            let from = clamp(start.unwrap_or(0));
            let to = clamp(end.unwrap_or(len));
            if from < to {
                let (from, to) = (
                    usize::try_from(from).unwrap_or(0),
                    usize::try_from(to).unwrap_or(0),
                );
                out.extend(items[from..to].iter());
            }
        }
        (Segment::Descendant(name), _) => descend(name, v, out),
        _ => {}
    }
}

fn descend<'v>(name: &str, v: &'v Value, out: &mut Vec<&'v Value>) {
    match v {
        Value::Object(map) => {
            if let Some(hit) = map.get(name) {
                out.push(hit);
            }
            for child in map.values() {
                descend(name, child, out);
            }
        }
        Value::Array(items) => {
            for child in items {
                descend(name, child, out);
            }
        }
        _ => {}
    }
}

fn parse_segments(mut rest: &str) -> Result<Vec<Segment>, String> {
    let mut segments = Vec::new();
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix("..") {
            let (name, tail) = split_name(after);
            if name.is_empty() {
                return Err("`..` must be followed by a member name".into());
            }
            segments.push(Segment::Descendant(name.into()));
            rest = tail;
        } else if let Some(after) = rest.strip_prefix('.') {
            if let Some(tail) = after.strip_prefix('*') {
                segments.push(Segment::Wildcard);
                rest = tail;
                continue;
            }
            let (name, tail) = split_name(after);
            if name.is_empty() {
                return Err("empty member name after `.`".into());
            }
            segments.push(Segment::Field(name.into()));
            rest = tail;
        } else if let Some(after) = rest.strip_prefix('[') {
            let (segment, tail) = parse_bracket(after)?;
            segments.push(segment);
            rest = tail;
        } else {
            return Err(format!("unexpected `{rest}`"));
        }
    }
    Ok(segments)
}

fn split_name(s: &str) -> (&str, &str) {
    let end = s.find(['.', '[']).unwrap_or(s.len());
    s.split_at(end)
}

fn parse_bracket(s: &str) -> Result<(Segment, &str), String> {
    if let Some(quote) = s.chars().next().filter(|c| *c == '\'' || *c == '"') {
        let body = &s[1..];
        let close = body
            .find(quote)
            .ok_or_else(|| "unterminated quoted member".to_string())?;
        let tail = body[close + 1..]
            .strip_prefix(']')
            .ok_or_else(|| "expected `]` after quoted member".to_string())?;
        return Ok((Segment::Field(body[..close].into()), tail));
    }
    let close = s.find(']').ok_or_else(|| "missing `]`".to_string())?;
    let inner = s[..close].trim();
    let tail = &s[close + 1..];
    if inner == "*" {
        return Ok((Segment::Wildcard, tail));
    }
    if inner.starts_with('?') || inner.starts_with('(') {
        return Err("filter and script expressions are not supported".into());
    }
    if let Some((a, b)) = inner.split_once(':') {
        let bound = |x: &str| -> Result<Option<i64>, String> {
            let x = x.trim();
            if x.is_empty() {
                Ok(None)
            } else {
                x.parse()
                    .map(Some)
                    .map_err(|_| format!("bad slice bound `{x}`"))
            }
        };
        return Ok((
            Segment::Slice {
                start: bound(a)?,
                end: bound(b)?,
            },
            tail,
        ));
    }
    let index = inner
        .parse::<usize>()
        .map_err(|_| format!("bad index `{inner}`"))?;
    Ok((Segment::Index(index), tail))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sel(path: &str, doc: &Value) -> Option<Value> {
        JsonPath::parse(path)
            .unwrap()
            .select(doc)
            .map(Selection::into_owned)
    }

    #[test]
    fn selects_members_indexes_and_wildcards() {
        let doc = json!({"a": {"b": [10, 20, {"c": 3}]}, "x y": 1});
        assert_eq!(sel("$", &doc), Some(doc.clone()));
        assert_eq!(sel("$.a.b[1]", &doc), Some(json!(20)));
        assert_eq!(sel("$.a.b[2].c", &doc), Some(json!(3)));
        assert_eq!(sel("$['x y']", &doc), Some(json!(1)));
        assert_eq!(sel("$.a.b[*]", &doc), Some(json!([10, 20, {"c": 3}])));
        assert_eq!(sel("$.a.b[0:2]", &doc), Some(json!([10, 20])));
        assert_eq!(sel("$..c", &doc), Some(json!([3])));
        assert_eq!(sel("$.missing", &doc), None);
        assert_eq!(sel("$.a.b[9]", &doc), None);
    }

    #[test]
    fn rejects_malformed_paths() {
        for bad in ["a.b", "$.", "$[", "$[?(@.a)]", "$.a[x]", "$['a"] {
            assert!(JsonPath::parse(bad).is_err(), "{bad} should be rejected");
        }
        assert!(JsonPath::parse_reference("$.a[*]").is_err());
        assert!(JsonPath::parse_reference("$$.Execution").is_err());
    }

    #[test]
    fn assign_creates_intermediate_objects() {
        let mut doc = json!({"keep": 1});
        JsonPath::parse_reference("$.a.b.c")
            .unwrap()
            .assign(&mut doc, json!(true))
            .unwrap();
        assert_eq!(doc, json!({"keep": 1, "a": {"b": {"c": true}}}));
        let path = JsonPath::parse_reference("$.a.b.c").unwrap();
        assert!(path.can_assign(&json!({"a": {}})));
        assert!(path.can_assign(&json!({})));
        assert!(!path.can_assign(&json!({"a": {"b": 1}})));
        assert!(!path.can_assign(&json!("scalar")));
        assert!(
            !JsonPath::parse_reference("$.x[0]")
                .unwrap()
                .can_assign(&json!({}))
        );
        let mut scalar = json!({"a": 5});
        assert!(
            JsonPath::parse_reference("$.a.b")
                .unwrap()
                .assign(&mut scalar, json!(1))
                .is_err()
        );
    }
}
