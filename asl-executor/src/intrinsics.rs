//! Intrinsic functions (`States.Format(...)` and friends), parsed once at compile time.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde_json::Value;

use crate::context::StateContext;
use crate::error::{StatesError, names};
use crate::path::{JsonPath, Root, Selection};

/// Step Functions caps `States.ArrayRange` output at 1000 items.
const MAX_RANGE_ITEMS: i64 = 1000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Func {
    Format,
    StringToJson,
    JsonToString,
    Array,
    ArrayPartition,
    ArrayContains,
    ArrayRange,
    ArrayGetItem,
    ArrayLength,
    ArrayUnique,
    Base64Encode,
    Base64Decode,
    Hash,
    JsonMerge,
    MathRandom,
    MathAdd,
    StringSplit,
    Uuid,
}

impl Func {
    fn from_name(name: &str) -> Option<(Self, usize, usize)> {
        // (function, minimum arguments, maximum arguments)
        Some(match name {
            "States.Format" => (Func::Format, 1, usize::MAX),
            "States.StringToJson" => (Func::StringToJson, 1, 1),
            "States.JsonToString" => (Func::JsonToString, 1, 1),
            "States.Array" => (Func::Array, 0, usize::MAX),
            "States.ArrayPartition" => (Func::ArrayPartition, 2, 2),
            "States.ArrayContains" => (Func::ArrayContains, 2, 2),
            "States.ArrayRange" => (Func::ArrayRange, 3, 3),
            "States.ArrayGetItem" => (Func::ArrayGetItem, 2, 2),
            "States.ArrayLength" => (Func::ArrayLength, 1, 1),
            "States.ArrayUnique" => (Func::ArrayUnique, 1, 1),
            "States.Base64Encode" => (Func::Base64Encode, 1, 1),
            "States.Base64Decode" => (Func::Base64Decode, 1, 1),
            "States.Hash" => (Func::Hash, 2, 2),
            "States.JsonMerge" => (Func::JsonMerge, 3, 3),
            "States.MathRandom" => (Func::MathRandom, 2, 3),
            "States.MathAdd" => (Func::MathAdd, 2, 2),
            "States.StringSplit" => (Func::StringSplit, 2, 2),
            "States.UUID" => (Func::Uuid, 0, 0),
            _ => return None,
        })
    }
}

#[derive(Debug, Clone)]
enum Arg {
    Literal(Value),
    Path(JsonPath),
    Call(Intrinsic),
}

/// A compiled intrinsic function call.
#[derive(Debug, Clone)]
pub(crate) struct Intrinsic {
    func: Func,
    name: Box<str>,
    args: Vec<Arg>,
}

impl Intrinsic {
    /// True when `text` looks like an intrinsic call rather than a path.
    pub(crate) fn looks_like_call(text: &str) -> bool {
        text.trim_start().starts_with("States.")
    }

    pub(crate) fn parse(text: &str) -> Result<Self, String> {
        let mut parser = Parser { src: text, pos: 0 };
        let call = parser.call()?;
        parser.skip_ws();
        if parser.pos != text.len() {
            return Err(format!(
                "unexpected `{}` after intrinsic call",
                &text[parser.pos..]
            ));
        }
        Ok(call)
    }

    pub(crate) fn eval(
        &self,
        input: &Value,
        ctx: &StateContext<'_>,
        rng: &mut StdRng,
    ) -> Result<Value, StatesError> {
        let mut args = Vec::with_capacity(self.args.len());
        for arg in &self.args {
            args.push(match arg {
                Arg::Literal(v) => v.clone(),
                Arg::Path(path) => {
                    let found = match path.root() {
                        Root::Input => path.select(input).map(Selection::into_owned),
                        Root::Context => ctx.select(path),
                    };
                    found.ok_or_else(|| {
                        fail(format!(
                            "{}: the path `{path}` did not match anything",
                            self.name
                        ))
                    })?
                }
                Arg::Call(inner) => inner.eval(input, ctx, rng)?,
            });
        }
        apply(self.func, &self.name, args, rng)
    }
}

fn fail(cause: String) -> StatesError {
    StatesError::new(names::INTRINSIC_FAILURE, cause)
}

struct Parser<'s> {
    src: &'s str,
    pos: usize,
}

impl Parser<'_> {
    fn rest(&self) -> &str {
        &self.src[self.pos..]
    }

    fn skip_ws(&mut self) {
        let trimmed = self.rest().trim_start();
        self.pos = self.src.len() - trimmed.len();
    }

    fn eat(&mut self, c: char) -> bool {
        self.skip_ws();
        if self.rest().starts_with(c) {
            self.pos += c.len_utf8();
            true
        } else {
            false
        }
    }

    fn call(&mut self) -> Result<Intrinsic, String> {
        self.skip_ws();
        let name_len = self
            .rest()
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '.'))
            .unwrap_or(self.rest().len());
        let name = &self.rest()[..name_len];
        let (func, min, max) =
            Func::from_name(name).ok_or_else(|| format!("unknown intrinsic function `{name}`"))?;
        let name: Box<str> = name.into();
        self.pos += name_len;
        if !self.eat('(') {
            return Err(format!("expected `(` after `{name}`"));
        }
        let mut args = Vec::new();
        if !self.eat(')') {
            loop {
                args.push(self.arg()?);
                if self.eat(')') {
                    break;
                }
                if !self.eat(',') {
                    return Err(format!("expected `,` or `)` in arguments of `{name}`"));
                }
            }
        }
        if args.len() < min || args.len() > max {
            return Err(format!(
                "`{name}` takes {} argument(s), got {}",
                if min == max {
                    min.to_string()
                } else if max == usize::MAX {
                    format!("at least {min}")
                } else {
                    format!("{min} to {max}")
                },
                args.len()
            ));
        }
        Ok(Intrinsic { func, name, args })
    }

    fn arg(&mut self) -> Result<Arg, String> {
        self.skip_ws();
        let rest = self.rest();
        if rest.starts_with('\'') {
            return self.string().map(|s| Arg::Literal(Value::String(s)));
        }
        if rest.starts_with("States.") {
            return self.call().map(Arg::Call);
        }
        if rest.starts_with('$') {
            let len = path_len(rest);
            let path = JsonPath::parse(rest[..len].trim_end())?;
            self.pos += len;
            return Ok(Arg::Path(path));
        }
        let len = rest.find([',', ')']).unwrap_or(rest.len());
        let token = rest[..len].trim();
        let value = match token {
            "true" => Value::Bool(true),
            "false" => Value::Bool(false),
            "null" => Value::Null,
            _ => serde_json::from_str::<serde_json::Number>(token)
                .map(Value::Number)
                .map_err(|_| format!("unexpected argument `{token}`"))?,
        };
        self.pos += len;
        Ok(Arg::Literal(value))
    }

    /// Reads a single-quoted literal. `\'` and `\\` are unescaped here; `\{` and `\}` are kept
    /// so that `States.Format` can tell an escaped brace from a placeholder.
    fn string(&mut self) -> Result<String, String> {
        self.pos += 1;
        let mut out = String::new();
        let mut chars = self.rest().char_indices();
        while let Some((i, c)) = chars.next() {
            match c {
                '\'' => {
                    self.pos += i + 1;
                    return Ok(out);
                }
                '\\' => match chars.next() {
                    Some((_, e @ ('\'' | '\\'))) => out.push(e),
                    Some((_, e)) => {
                        out.push('\\');
                        out.push(e);
                    }
                    None => break,
                },
                _ => out.push(c),
            }
        }
        Err("unterminated string literal".into())
    }
}

/// Length of a path argument: up to the next top-level `,` or `)` (brackets may contain both).
fn path_len(s: &str) -> usize {
    let mut depth = 0usize;
    let mut quote: Option<char> = None;
    for (i, c) in s.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (None, '\'' | '"') if depth > 0 => quote = Some(c),
            (None, '[') => depth += 1,
            (None, ']') => depth = depth.saturating_sub(1),
            (None, ',' | ')') if depth == 0 => return i,
            // Anything else, including characters inside quotes, is part of the path.
            _ => {}
        }
    }
    s.len()
}

/// Evaluates one intrinsic function on its evaluated arguments.
#[expect(
    clippy::too_many_lines,
    reason = "the dispatch table of the 18 intrinsic functions, one short arm each, sharing the \
              argument reader (`next`) and the error prefix (`bad`); split by family, a reader \
              would see half the table and the shared set-up repeated"
)]
fn apply(func: Func, name: &str, args: Vec<Value>, rng: &mut StdRng) -> Result<Value, StatesError> {
    let bad = |what: &str| fail(format!("{name}: {what}"));
    // Variadic functions take the whole list; the others read their arguments in order.
    let variadic = matches!(func, Func::Format | Func::Array);
    let (head, tail) = if variadic && !args.is_empty() {
        let mut args = args;
        let tail = if func == Func::Format {
            args.split_off(1)
        } else {
            std::mem::take(&mut args)
        };
        (args, tail)
    } else {
        (args, Vec::new())
    };
    let mut it = head.into_iter();
    let mut next = || it.next().unwrap_or(Value::Null);
    Ok(match func {
        Func::Format => {
            let template = next();
            let Value::String(template) = template else {
                return Err(bad("the template must be a string"));
            };
            Value::String(format_template(&template, &tail).map_err(|e| bad(&e))?)
        }
        Func::StringToJson => {
            let s = as_str(&next()).ok_or_else(|| bad("the argument must be a string"))?;
            serde_json::from_str(&s).map_err(|e| bad(&format!("invalid JSON: {e}")))?
        }
        Func::JsonToString => Value::String(next().to_string()),
        Func::Array => Value::Array(tail),
        Func::ArrayPartition => {
            let items =
                as_array(next()).ok_or_else(|| bad("the first argument must be an array"))?;
            let size = as_int(&next())
                .filter(|n| *n > 0)
                .ok_or_else(|| bad("the chunk size must be a positive integer"))?;
            let size = usize::try_from(size).unwrap_or(usize::MAX);
            Value::Array(
                items
                    .chunks(size)
                    .map(|c| Value::Array(c.to_vec()))
                    .collect(),
            )
        }
        Func::ArrayContains => {
            let items =
                as_array(next()).ok_or_else(|| bad("the first argument must be an array"))?;
            let needle = next();
            Value::Bool(items.contains(&needle))
        }
        Func::ArrayRange => {
            let (start, end, step) = (as_int(&next()), as_int(&next()), as_int(&next()));
            let (Some(start), Some(end), Some(step)) = (start, end, step) else {
                return Err(bad("start, end and step must be integers"));
            };
            if step == 0 {
                return Err(bad("step must not be zero"));
            }
            let mut out = Vec::new();
            let mut x = start;
            while (step > 0 && x <= end) || (step < 0 && x >= end) {
                if i64::try_from(out.len()).unwrap_or(i64::MAX) >= MAX_RANGE_ITEMS {
                    return Err(bad("the range has more than 1000 items"));
                }
                out.push(Value::from(x));
                x += step;
            }
            Value::Array(out)
        }
        Func::ArrayGetItem => {
            let items =
                as_array(next()).ok_or_else(|| bad("the first argument must be an array"))?;
            let index = as_int(&next())
                .and_then(|i| usize::try_from(i).ok())
                .ok_or_else(|| bad("the index must be a non-negative integer"))?;
            items
                .into_iter()
                .nth(index)
                .ok_or_else(|| bad("the index is out of bounds"))?
        }
        Func::ArrayLength => {
            let items = as_array(next()).ok_or_else(|| bad("the argument must be an array"))?;
            Value::from(items.len())
        }
        Func::ArrayUnique => {
            let items = as_array(next()).ok_or_else(|| bad("the argument must be an array"))?;
            let mut out: Vec<Value> = Vec::with_capacity(items.len());
            for item in items {
                if !out.contains(&item) {
                    out.push(item);
                }
            }
            Value::Array(out)
        }
        Func::Base64Encode => {
            let s = as_str(&next()).ok_or_else(|| bad("the argument must be a string"))?;
            Value::String(BASE64.encode(s.as_bytes()))
        }
        Func::Base64Decode => {
            let s = as_str(&next()).ok_or_else(|| bad("the argument must be a string"))?;
            let bytes = BASE64
                .decode(s.as_bytes())
                .map_err(|e| bad(&format!("invalid base64: {e}")))?;
            Value::String(
                String::from_utf8(bytes).map_err(|_| bad("the decoded data is not UTF-8"))?,
            )
        }
        Func::Hash => {
            let data = next();
            let data = match data {
                Value::String(s) => s,
                Value::Null => return Err(bad("the data must not be null")),
                other => other.to_string(),
            };
            let algorithm = as_str(&next()).ok_or_else(|| bad("the algorithm must be a string"))?;
            Value::String(hash(&algorithm, data.as_bytes()).ok_or_else(|| {
                bad("the algorithm must be one of MD5, SHA-1, SHA-256, SHA-384, SHA-512")
            })?)
        }
        Func::JsonMerge => {
            let (a, b, deep) = (next(), next(), next());
            let (Value::Object(mut a), Value::Object(b)) = (a, b) else {
                return Err(bad("both arguments must be JSON objects"));
            };
            if deep != Value::Bool(false) {
                return Err(bad("only shallow merging (false) is supported"));
            }
            a.extend(b);
            Value::Object(a)
        }
        Func::MathRandom => {
            let (start, end) = (as_int(&next()), as_int(&next()));
            let (Some(start), Some(end)) = (start, end) else {
                return Err(bad("start and end must be integers"));
            };
            // Both bounds are inclusive, as in LocalStack's AWS-recorded behaviour
            // (`randint(start, end)`) and aws-local-stepfunctions.
            if start > end {
                return Err(bad("start must not be greater than end"));
            }
            let seed = next();
            if seed.is_null() {
                Value::from(rng.random_range(start..=end))
            } else {
                let seed = as_int(&seed).ok_or_else(|| bad("the seed must be an integer"))?;
                let mut seeded = StdRng::seed_from_u64(seed.cast_unsigned());
                Value::from(seeded.random_range(start..=end))
            }
        }
        Func::MathAdd => {
            let (a, b) = (as_int(&next()), as_int(&next()));
            let (Some(a), Some(b)) = (a, b) else {
                return Err(bad("both arguments must be integers"));
            };
            Value::from(a.checked_add(b).ok_or_else(|| bad("the sum overflows"))?)
        }
        Func::StringSplit => {
            let s = as_str(&next()).ok_or_else(|| bad("the first argument must be a string"))?;
            let delimiters =
                as_str(&next()).ok_or_else(|| bad("the delimiter must be a string"))?;
            // Every character of the second argument is a delimiter and empty pieces are
            // dropped, as in AWS's example `StringSplit("This.is+a,test=string", ".+,=")`.
            Value::Array(
                s.split(|c| delimiters.contains(c))
                    .filter(|p| !p.is_empty())
                    .map(|p| Value::String(p.to_owned()))
                    .collect(),
            )
        }
        Func::Uuid => {
            let bytes: [u8; 16] = rng.random();
            Value::String(
                uuid::Builder::from_random_bytes(bytes)
                    .into_uuid()
                    .to_string(),
            )
        }
    })
}

fn as_str(v: &Value) -> Option<String> {
    v.as_str().map(str::to_owned)
}

fn as_array(v: Value) -> Option<Vec<Value>> {
    match v {
        Value::Array(items) => Some(items),
        _ => None,
    }
}

fn as_int(v: &Value) -> Option<i64> {
    v.as_i64().or_else(|| {
        v.as_f64()
            .filter(|f| f.fract() == 0.0 && f.abs() < 9.0e15)
            .map(|f| {
                #[allow(clippy::cast_possible_truncation)]
                let i = f as i64;
                i
            })
    })
}

fn hash(algorithm: &str, data: &[u8]) -> Option<String> {
    use sha2::Digest as _;
    const HEX: &[u8; 16] = b"0123456789abcdef";
    let bytes: Vec<u8> = match algorithm {
        "MD5" => md5::Md5::digest(data).to_vec(),
        "SHA-1" => sha1::Sha1::digest(data).to_vec(),
        "SHA-256" => sha2::Sha256::digest(data).to_vec(),
        "SHA-384" => sha2::Sha384::digest(data).to_vec(),
        "SHA-512" => sha2::Sha512::digest(data).to_vec(),
        _ => return None,
    };
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 0x0f)]));
    }
    Some(out)
}

/// Fills `{}` placeholders; `\{` and `\}` are literal braces.
fn format_template(template: &str, values: &[Value]) -> Result<String, String> {
    let mut out = String::with_capacity(template.len());
    let mut values = values.iter();
    let mut chars = template.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' if matches!(chars.peek(), Some('{' | '}' | '\\')) => {
                out.extend(chars.next());
            }
            '{' if chars.peek() == Some(&'}') => {
                chars.next();
                let value = values
                    .next()
                    .ok_or("the template has more placeholders than arguments")?;
                match value {
                    Value::String(s) => out.push_str(s),
                    other => out.push_str(&other.to_string()),
                }
            }
            _ => out.push(c),
        }
    }
    if values.next().is_some() {
        return Err("the template has fewer placeholders than arguments".into());
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::context::ExecutionInfo;
    use serde_json::json;

    fn eval(expr: &str, input: &Value) -> Result<Value, StatesError> {
        let info = ExecutionInfo::default();
        let ctx = StateContext {
            execution: &info,
            state_name: "S",
            entered_ms: 0,
            retry_count: 0,
            map_item: None,
        };
        let mut rng = StdRng::seed_from_u64(7);
        Intrinsic::parse(expr).unwrap().eval(input, &ctx, &mut rng)
    }

    #[test]
    fn parse_rejects_unknown_functions_and_wrong_arity() {
        assert!(Intrinsic::parse("States.Nope(1)").is_err());
        assert!(Intrinsic::parse("States.ArrayLength()").is_err());
        assert!(Intrinsic::parse("States.MathAdd(1, 2, 3)").is_err());
        assert!(Intrinsic::parse("States.Format('unterminated)").is_err());
        assert!(Intrinsic::parse("States.UUID() trailing").is_err());
    }

    #[test]
    fn paths_may_contain_commas_and_parentheses_inside_brackets() {
        let input = json!({"a,b": [1, 2], "c)": 3});
        assert_eq!(eval("States.ArrayLength($['a,b'])", &input), Ok(json!(2)));
        assert_eq!(eval("States.Array($['c)'])", &input), Ok(json!([3])));
    }

    #[test]
    fn format_handles_escapes_and_counts_placeholders() {
        let input = json!({"n": 1, "o": {"k": true}});
        assert_eq!(
            eval(r"States.Format('\{{}\} {} it\'s', $.n, $.o)", &input),
            Ok(json!(r#"{1} {"k":true} it's"#))
        );
        let too_few = eval("States.Format('{} {}', $.n)", &input).unwrap_err();
        assert_eq!(too_few.error, names::INTRINSIC_FAILURE);
        assert!(eval("States.Format('{}', $.n, $.n)", &input).is_err());
    }

    #[test]
    fn failures_are_intrinsic_failures() {
        let input = json!({"xs": [1], "s": "x"});
        for expr in [
            "States.ArrayGetItem($.xs, 3)",
            "States.ArrayPartition($.xs, 0)",
            "States.ArrayRange(1, 5000, 1)",
            "States.ArrayRange(1, 5, 0)",
            "States.Base64Decode('***')",
            "States.Hash($.s, 'CRC32')",
            "States.JsonMerge($.xs, $.xs, false)",
            "States.MathRandom(5, 1)",
            "States.MathAdd($.s, 1)",
            "States.ArrayLength($.missing)",
        ] {
            let e = eval(expr, &input).unwrap_err();
            assert_eq!(e.error, names::INTRINSIC_FAILURE, "{expr}");
        }
    }

    #[test]
    fn remaining_functions_compute_aws_results() {
        let input = json!({"a": {"x": 1}, "b": {"y": 2}});
        assert_eq!(
            eval("States.JsonMerge($.a, $.b, false)", &input),
            Ok(json!({"x": 1, "y": 2}))
        );
        assert_eq!(
            eval(
                "States.StringSplit('This.is+a,test=string', '.+,=')",
                &input
            ),
            Ok(json!(["This", "is", "a", "test", "string"]))
        );
        assert_eq!(
            eval("States.ArrayRange(10, 1, -4)", &input),
            Ok(json!([10, 6, 2]))
        );
        assert_eq!(
            eval("States.Hash('hello', 'SHA-512')", &input)
                .unwrap()
                .as_str()
                .map(str::len),
            Some(128)
        );
        let seeded = eval("States.MathRandom(1, 1000, 42)", &input).unwrap();
        assert_eq!(
            eval("States.MathRandom(1, 1000, 42)", &input).unwrap(),
            seeded
        );
        let uuid = eval("States.UUID()", &input).unwrap();
        let parsed = uuid::Uuid::parse_str(uuid.as_str().unwrap()).unwrap();
        assert_eq!(parsed.get_version_num(), 4);
    }
}
