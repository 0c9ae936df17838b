//! Compact copies of JSON values for the history.
//!
//! A full history keeps every state's input and output, and those documents grow with each
//! state. Cloning a `Value` costs one allocation per string, array and object (two per object
//! with `preserve_order`) and hashes every key again, while most histories are never read.
//! Instead, each value is written once into one growing byte buffer per execution and its
//! `Value` is rebuilt only when the history is read. The encoding is private and exact:
//! numbers keep their integer or float representation and objects their key order.

use std::ops::Range;

use serde_json::{Map, Number, Value};

const NULL: u8 = 0;
const FALSE: u8 = 1;
const TRUE: u8 = 2;
const UNSIGNED: u8 = 3;
const SIGNED: u8 = 4;
const FLOAT: u8 = 5;
const STRING: u8 = 6;
const ARRAY: u8 = 7;
const OBJECT: u8 = 8;

/// Where one encoded value sits in its [`Snapshots`] buffer. Events that carry the same
/// document (a state's output is the next state's input) share one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(Range<usize>);

/// The encoded values of one execution, back to back.
#[derive(Debug, Clone, Default)]
pub(crate) struct Snapshots {
    bytes: Vec<u8>,
}

impl Snapshots {
    pub(crate) fn with_capacity(bytes: usize) -> Self {
        Self {
            bytes: Vec::with_capacity(bytes),
        }
    }

    /// Bytes written so far.
    pub(crate) fn len(&self) -> usize {
        self.bytes.len()
    }

    pub(crate) fn encode(&mut self, value: &Value) -> Snapshot {
        let start = self.bytes.len();
        write_value(&mut self.bytes, value);
        Snapshot(start..self.bytes.len())
    }

    pub(crate) fn decode(&self, snapshot: &Snapshot) -> Value {
        let mut reader = Reader {
            bytes: &self.bytes[snapshot.0.clone()],
        };
        reader.value()
    }
}

fn write_len(buf: &mut Vec<u8>, len: usize) {
    // LEB128: lengths are nearly always below 128, i.e. one byte.
    let mut n = u64::try_from(len).expect("usize fits in u64");
    loop {
        let low = n.to_le_bytes()[0] & 0x7f;
        n >>= 7;
        if n == 0 {
            buf.push(low);
            return;
        }
        buf.push(low | 0x80);
    }
}

fn write_str(buf: &mut Vec<u8>, s: &str) {
    write_len(buf, s.len());
    buf.extend_from_slice(s.as_bytes());
}

fn write_value(buf: &mut Vec<u8>, value: &Value) {
    match value {
        Value::Null => buf.push(NULL),
        Value::Bool(false) => buf.push(FALSE),
        Value::Bool(true) => buf.push(TRUE),
        Value::Number(n) => {
            if let Some(u) = n.as_u64() {
                buf.push(UNSIGNED);
                buf.extend_from_slice(&u.to_le_bytes());
            } else if let Some(i) = n.as_i64() {
                buf.push(SIGNED);
                buf.extend_from_slice(&i.to_le_bytes());
            } else {
                buf.push(FLOAT);
                let f = n.as_f64().unwrap_or_default();
                buf.extend_from_slice(&f.to_bits().to_le_bytes());
            }
        }
        Value::String(s) => {
            buf.push(STRING);
            write_str(buf, s);
        }
        Value::Array(items) => {
            buf.push(ARRAY);
            write_len(buf, items.len());
            for item in items {
                write_value(buf, item);
            }
        }
        Value::Object(map) => {
            buf.push(OBJECT);
            write_len(buf, map.len());
            for (key, item) in map {
                write_str(buf, key);
                write_value(buf, item);
            }
        }
    }
}

/// Reads what [`write_value`] wrote; the bytes never come from elsewhere, so malformed input
/// is a bug and panics.
struct Reader<'b> {
    bytes: &'b [u8],
}

impl Reader<'_> {
    fn take(&mut self, n: usize) -> &[u8] {
        let (head, tail) = self.bytes.split_at(n);
        self.bytes = tail;
        head
    }

    fn byte(&mut self) -> u8 {
        self.take(1)[0]
    }

    fn word(&mut self) -> [u8; 8] {
        self.take(8).try_into().expect("8 bytes")
    }

    fn len(&mut self) -> usize {
        let mut n = 0u64;
        let mut shift = 0;
        loop {
            let b = self.byte();
            n |= u64::from(b & 0x7f) << shift;
            if b & 0x80 == 0 {
                return usize::try_from(n).expect("a length written from a usize");
            }
            shift += 7;
        }
    }

    fn string(&mut self) -> String {
        let len = self.len();
        String::from_utf8(self.take(len).to_vec()).expect("written from a str")
    }

    fn value(&mut self) -> Value {
        match self.byte() {
            NULL => Value::Null,
            FALSE => Value::Bool(false),
            TRUE => Value::Bool(true),
            UNSIGNED => Value::Number(u64::from_le_bytes(self.word()).into()),
            SIGNED => Value::Number(i64::from_le_bytes(self.word()).into()),
            FLOAT => {
                let f = f64::from_bits(u64::from_le_bytes(self.word()));
                Number::from_f64(f).map_or(Value::Null, Value::Number)
            }
            STRING => Value::String(self.string()),
            ARRAY => {
                let len = self.len();
                Value::Array((0..len).map(|_| self.value()).collect())
            }
            OBJECT => {
                let len = self.len();
                let mut map = Map::with_capacity(len);
                for _ in 0..len {
                    let key = self.string();
                    map.insert(key, self.value());
                }
                Value::Object(map)
            }
            tag => unreachable!("snapshot tag {tag} is never written"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn round_trips_exactly() {
        let doc = json!({
            "z": null, "a": [true, false, 0, 18_446_744_073_709_551_615_u64, -9_223_372_036_854_775_808_i64],
            "f": [0.1, -2.5e-300, 1.0], "s": "é\"\n", "empty": {}, "long": "x".repeat(300),
            "nested": {"b": {"c": [[], {}]}}
        });
        let mut snapshots = Snapshots::default();
        let first = snapshots.encode(&json!([1]));
        let snapshot = snapshots.encode(&doc);
        let decoded = snapshots.decode(&snapshot);
        assert_eq!(snapshots.decode(&first), json!([1]));
        assert_eq!(decoded, doc);
        // Key order and number representation survive, not only equality.
        assert_eq!(decoded.to_string(), doc.to_string());
    }
}
