//! The record type: small values that move or copy without allocating.
//!
//! Flink serialises records with a `TypeSerializer` per type and keeps
//! them on the heap as Java objects; here a record is a [`Value`] of at
//! most a few words: numbers and `(key, count)` pairs are stored inline,
//! text is a shared string (`Arc<str>`), so a pair is built, keyed, routed
//! and summed without touching the allocator, and cloning a text record
//! (a broadcast, a chain with two successors) bumps a counter.
//!
//! A pair's key is a [`Key`]: the same three shapes, with a pair nested in
//! a pair kept behind an `Arc` (rare: `to_pair` applied to pairs). On the
//! wire, in checkpoints and in JSON a `Key` is exactly the [`Value`] it
//! stands for, so formats did not change when keys moved inline.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;
use std::sync::Arc;

/// One record flowing through the dataflow.
///
/// Three shapes are enough for the classic teaching pipelines: numbers from
/// a sequence, words from text, and `(key, count)` pairs (Flink's `Tuple2`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum Value {
    /// A whole number (`Long` in Flink).
    Int(i64),
    /// A piece of text (`String`), shared rather than copied.
    Str(#[serde(with = "shared_str")] Arc<str>),
    /// A key and a number (`Tuple2<K, Long>`): `f0` is the key, `f1` the count.
    Pair(Key, i64),
}

/// The key of a pair (its `f0`): a [`Value`] stored inline when it is a
/// number or text.
///
/// Ordered, hashed, printed and serialised exactly as the [`Value`] it
/// stands for ([`Key::to_value`]), so state snapshots sort the same way.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Key {
    /// A number key.
    Int(i64),
    /// A text key.
    Str(Arc<str>),
    /// A pair as a key (always a [`Value::Pair`]).
    Nested(Arc<Value>),
}

impl Key {
    /// The key that stands for `v`.
    #[inline]
    pub fn from_value(v: Value) -> Key {
        match v {
            Value::Int(i) => Key::Int(i),
            Value::Str(s) => Key::Str(s),
            p @ Value::Pair(..) => Key::Nested(Arc::new(p)),
        }
    }

    /// The record this key stands for.
    #[inline]
    pub fn to_value(&self) -> Value {
        match self {
            Key::Int(i) => Value::Int(*i),
            Key::Str(s) => Value::Str(s.clone()),
            Key::Nested(v) => (**v).clone(),
        }
    }

    fn encoded_len(&self) -> usize {
        match self {
            Key::Int(i) => 1 + varint(zigzag(*i)),
            Key::Str(s) => 1 + varint(s.len() as u64) + s.len(),
            Key::Nested(v) => v.encoded_len(),
        }
    }

    fn hash_into(&self, h: &mut crate::graph::ids::Fnv64) {
        match self {
            Key::Int(i) => hash_int(*i, h),
            Key::Str(s) => hash_str(s, h),
            Key::Nested(v) => v.hash_into(h),
        }
    }
}

impl From<Value> for Key {
    fn from(v: Value) -> Key {
        Key::from_value(v)
    }
}

impl From<i64> for Key {
    fn from(i: i64) -> Key {
        Key::Int(i)
    }
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Int(i) => write!(f, "{i}"),
            Key::Str(s) => write!(f, "{s}"),
            Key::Nested(v) => write!(f, "{v}"),
        }
    }
}

impl Serialize for Key {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Key::Int(i) => s.serialize_newtype_variant("Value", 0, "Int", i),
            Key::Str(t) => s.serialize_newtype_variant("Value", 1, "Str", &**t),
            Key::Nested(v) => v.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for Key {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Key, D::Error> {
        Value::deserialize(d).map(Key::from_value)
    }
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Int(i) => write!(f, "{i}"),
            Value::Str(s) => write!(f, "{s}"),
            Value::Pair(k, v) => write!(f, "({k},{v})"),
        }
    }
}

/// Text as serde sees it: a plain string (so formats match `String`).
mod shared_str {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::sync::Arc;

    pub fn serialize<S: Serializer>(s: &Arc<str>, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(s)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Arc<str>, D::Error> {
        String::deserialize(d).map(Arc::from)
    }
}

#[inline]
fn varint(x: u64) -> usize {
    ((64 - x.leading_zeros() as usize).max(1)).div_ceil(7)
}

#[inline]
fn zigzag(i: i64) -> u64 {
    ((i << 1) ^ (i >> 63)) as u64
}

fn hash_int(i: i64, h: &mut crate::graph::ids::Fnv64) {
    h.write(&[0]);
    h.write(&i.to_le_bytes());
}

fn hash_str(s: &str, h: &mut crate::graph::ids::Fnv64) {
    h.write(&[1]);
    h.write(s.as_bytes());
}

impl Value {
    /// A pair `(key, n)`.
    #[inline]
    pub fn pair(key: impl Into<Key>, n: i64) -> Value {
        Value::Pair(key.into(), n)
    }

    /// A text record.
    pub fn text(s: &str) -> Value {
        Value::Str(s.into())
    }

    /// The record's size on the wire (postcard: a tag byte, varints, and
    /// length-prefixed text), counted without encoding it.
    #[inline]
    pub fn encoded_len(&self) -> usize {
        match self {
            Value::Int(i) => 1 + varint(zigzag(*i)),
            Value::Str(s) => 1 + varint(s.len() as u64) + s.len(),
            // The common pair first: `Key::encoded_len` is recursive, so
            // it is never inlined.
            Value::Pair(Key::Int(k), n) => 2 + varint(zigzag(*k)) + varint(zigzag(*n)),
            Value::Pair(k, n) => 1 + k.encoded_len() + varint(zigzag(*n)),
        }
    }

    /// Feeds the record to the stable hash behind key groups.
    fn hash_into(&self, h: &mut crate::graph::ids::Fnv64) {
        match self {
            Value::Int(i) => hash_int(*i, h),
            Value::Str(s) => hash_str(s, h),
            Value::Pair(k, n) => {
                h.write(&[2]);
                k.hash_into(h);
                h.write(&n.to_le_bytes());
            }
        }
    }
}

/// Flink's default maximum parallelism, which fixes the number of key groups.
pub const MAX_PARALLELISM: u32 = 128;

/// The key group of a key (Flink: `murmurHash(key.hashCode()) % maxParallelism`),
/// computed with a stable hash (FNV-1a over the key's tag and bytes) so
/// every run and every host agrees.
#[inline]
pub fn key_group(key: &Key) -> u32 {
    let mut h = crate::graph::ids::Fnv64::new();
    key.hash_into(&mut h);
    (h.finish() % u64::from(MAX_PARALLELISM)) as u32
}

/// The key group of a whole record used as a key (`keyBy(x -> x)`).
pub fn key_group_of_value(v: &Value) -> u32 {
    let mut h = crate::graph::ids::Fnv64::new();
    v.hash_into(&mut h);
    (h.finish() % u64::from(MAX_PARALLELISM)) as u32
}

/// The subtask a key group belongs to (Flink's
/// `KeyGroupRangeAssignment.computeOperatorIndexForKeyGroup`).
pub fn operator_index_for_key_group(key_group: u32, parallelism: u32) -> u32 {
    key_group * parallelism / MAX_PARALLELISM
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Key groups spread over subtasks in contiguous ranges, as in Flink.
    #[test]
    fn key_groups_map_to_contiguous_subtask_ranges() {
        assert_eq!(operator_index_for_key_group(0, 2), 0);
        assert_eq!(operator_index_for_key_group(63, 2), 0);
        assert_eq!(operator_index_for_key_group(64, 2), 1);
        assert_eq!(operator_index_for_key_group(127, 2), 1);
    }

    /// The size estimate matches postcard's real encoding.
    #[test]
    fn encoded_len_matches_postcard() {
        for v in [
            Value::Int(0),
            Value::Int(-70000),
            Value::text("hello"),
            Value::pair(Value::text("to"), 300),
            Value::pair(Value::pair(7, 1), -3),
            Value::pair(999, 1),
            Value::pair(-1, i64::MIN),
            Value::pair(i64::MAX, 123_456),
        ] {
            assert_eq!(
                v.encoded_len(),
                postcard::to_allocvec(&v).unwrap().len(),
                "{v}"
            );
        }
    }

    /// A key is stored, ordered, hashed and serialised as the record it
    /// stands for.
    #[test]
    fn a_key_is_its_value() {
        for v in [
            Value::Int(-5),
            Value::text("to"),
            Value::pair(Value::text("be"), 2),
        ] {
            let k = Key::from_value(v.clone());
            assert_eq!(k.to_value(), v);
            assert_eq!(key_group(&k), key_group_of_value(&v));
            assert_eq!(
                postcard::to_allocvec(&k).unwrap(),
                postcard::to_allocvec(&v).unwrap()
            );
            assert_eq!(
                serde_json::to_string(&k).unwrap(),
                serde_json::to_string(&v).unwrap()
            );
            let back: Key = postcard::from_bytes(&postcard::to_allocvec(&v).unwrap()).unwrap();
            assert_eq!(back, k);
        }
        let mut keys = [Key::text_for_test("b"), Key::Int(3), Key::Int(-1)];
        keys.sort();
        let values: Vec<Value> = keys.iter().map(Key::to_value).collect();
        let mut sorted = values.clone();
        sorted.sort();
        assert_eq!(values, sorted);
    }

    impl Key {
        fn text_for_test(s: &str) -> Key {
            Key::Str(s.into())
        }
    }
}
