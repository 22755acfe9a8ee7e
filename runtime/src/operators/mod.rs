//! Built-in operators: what a node of the StreamGraph *does*.
//!
//! Flink users write user functions (`MapFunction`, `FilterFunction`, …) and
//! hand them to DataStream calls. mini-flink's job files are written by hand,
//! so the functions are built in and named: `fn = "key_mod"`. This module
//! holds the record type ([`Value`]), the operator kinds ([`OperatorKind`])
//! with their arguments, and the named functions with the record types they
//! accept, so a job file that maps words with `is_even` is refused before it
//! is submitted, the way Flink's type extraction refuses a mistyped program.
//!
//! What an operator *does* at runtime, with its state, lives with the task
//! that runs it: [`crate::taskmanager::task::operators`] (the
//! `StreamOperator`s), [`crate::taskmanager::task::source`] and
//! [`crate::taskmanager::task::sink`].

mod value;

pub use value::{
    Key, MAX_PARALLELISM, Value, key_group, key_group_of_value, operator_index_for_key_group,
};

use serde::{Deserialize, Serialize};
use std::fmt;

/// The shape of the records on a stream, checked when a job is compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ValueType {
    /// [`Value::Int`].
    Int,
    /// [`Value::Str`].
    Str,
    /// [`Value::Pair`].
    Pair,
    /// Several shapes meet (a union of different streams): only functions
    /// that accept anything may follow.
    Any,
}

impl fmt::Display for ValueType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ValueType::Int => "numbers",
            ValueType::Str => "text",
            ValueType::Pair => "(key, count) pairs",
            ValueType::Any => "mixed records",
        })
    }
}

/// A function applied to records it does not accept (found when the job is
/// compiled, like Flink's type extraction).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{function} needs {needs} but its input carries {input}")]
pub struct TypeMismatch {
    /// The function or operator, as the message names it (``map fn `double` ``).
    pub function: String,
    /// The record type it accepts.
    pub needs: ValueType,
    /// The record type its input carries.
    pub input: ValueType,
}

/// Which part of a record a `hash` partitioning (Flink's `keyBy`) keys on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum KeySelector {
    /// The whole record (`keyBy(x -> x)`).
    Value,
    /// The first field of a pair (`keyBy(t -> t.f0)`).
    F0,
}

impl KeySelector {
    /// Parses the `key = "…"` of a job file.
    pub fn parse(s: &str) -> Option<KeySelector> {
        match s {
            "value" => Some(KeySelector::Value),
            "f0" => Some(KeySelector::F0),
            _ => None,
        }
    }

    /// The spelling used in job files and plans.
    pub fn as_str(self) -> &'static str {
        match self {
            KeySelector::Value => "value",
            KeySelector::F0 => "f0",
        }
    }

    /// Extracts the key of a record.
    #[inline]
    pub fn key_of(self, v: &Value) -> Key {
        match (self, v) {
            (KeySelector::F0, Value::Pair(k, _)) => k.clone(),
            _ => Key::from_value(v.clone()),
        }
    }

    /// The key group of a record's key, without building the key.
    #[inline]
    pub fn key_group_of(self, v: &Value) -> u32 {
        match (self, v) {
            (KeySelector::F0, Value::Pair(k, _)) => key_group(k),
            _ => key_group_of_value(v),
        }
    }
}

/// A named function for `map`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum MapFn {
    /// Passes the record on unchanged.
    Identity,
    /// `x -> (x % modulus, 1)`: turns numbers into keyed ones.
    KeyMod {
        /// The number of distinct keys.
        modulus: i64,
    },
    /// `x -> (x, 1)`: pairs anything with a count of one (wordcount's "Pair").
    ToPair,
    /// `x -> 2x`.
    Double,
    /// Upper-cases text.
    Upper,
}

/// A named function for `filter`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FilterFn {
    /// Keeps even numbers.
    IsEven,
    /// Keeps odd numbers.
    IsOdd,
    /// Keeps non-empty text.
    NonEmpty,
}

/// A named function for `flat_map`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FlatMapFn {
    /// Splits text into lower-case words (letters and digits).
    Tokenize,
    /// Splits text at whitespace, keeping case and punctuation.
    SplitWhitespace,
}

/// A named function for keyed `reduce` over `(key, n)` pairs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReduceFn {
    /// Adds the counts.
    Sum,
    /// Keeps the smallest count.
    Min,
    /// Keeps the largest count.
    Max,
}

/// What an operator does, with its arguments.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum OperatorKind {
    /// Source: the numbers `from..=to`, split evenly over the subtasks
    /// (Flink's `fromSequence`).
    Sequence {
        /// First number.
        from: i64,
        /// Last number (inclusive).
        to: i64,
    },
    /// Source: lines of text, split over the subtasks line by line.
    Words {
        /// The lines.
        lines: Vec<String>,
    },
    /// Source: `count` keyed records `(key, 1)` over `keys` keys, at most
    /// `rate` records per second per subtask (0 = as fast as possible).
    Generator {
        /// Size of the key space.
        keys: u64,
        /// Records in all (split over the subtasks).
        count: u64,
        /// Records per second per subtask; 0 means unthrottled.
        rate: u64,
    },
    /// One record in, one out.
    Map(MapFn),
    /// One record in, zero or one out.
    Filter(FilterFn),
    /// One record in, any number out.
    FlatMap(FlatMapFn),
    /// Keyed rolling sum of the pair's count (`sum(1)`).
    Sum,
    /// Keyed rolling count of records: emits `(key, n)`.
    Count,
    /// Keyed rolling reduce of pairs.
    Reduce(ReduceFn),
    /// Keyed count per tumbling processing-time window of `size_ms`.
    WindowCount {
        /// Window length in milliseconds of (virtual) time.
        size_ms: u64,
    },
    /// Sink that drops everything (`DiscardingSink`).
    Discard {
        /// Most records per second per subtask (a slow sink, to show
        /// back-pressure); 0 = as fast as possible.
        rate: u64,
    },
    /// Sink that prints every record (`print()`).
    Print {
        /// Most records per second per subtask (a slow sink, to show
        /// back-pressure); 0 = as fast as possible.
        rate: u64,
    },
    /// Sink whose records are returned to the client (`collect()`).
    Collect {
        /// Most records per second per subtask (a slow sink, to show
        /// back-pressure); 0 = as fast as possible.
        rate: u64,
    },
}

/// The families of kinds, for checks that do not care about arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KindClass {
    /// Has no inputs.
    Source,
    /// Stateless, one input.
    Transform,
    /// Needs a keyed (hash-partitioned) input and keeps state per key.
    Keyed,
    /// Has no outputs.
    Sink,
}

/// Every kind a job file may name, in the order the help text lists them.
pub const KIND_NAMES: &[&str] = &[
    "sequence",
    "words",
    "generator",
    "map",
    "filter",
    "flat_map",
    "sum",
    "count",
    "reduce",
    "window_count",
    "discard",
    "print",
    "collect",
];

/// Every `fn` a `map` may name.
pub const MAP_FN_NAMES: &[&str] = &["identity", "key_mod", "to_pair", "double", "upper"];
/// Every `fn` a `filter` may name.
pub const FILTER_FN_NAMES: &[&str] = &["is_even", "is_odd", "non_empty"];
/// Every `fn` a `flat_map` may name.
pub const FLAT_MAP_FN_NAMES: &[&str] = &["tokenize", "split_whitespace"];
/// Every `fn` a `reduce` may name.
pub const REDUCE_FN_NAMES: &[&str] = &["sum", "min", "max"];

impl OperatorKind {
    /// The job-file spelling of this kind.
    pub fn kind_name(&self) -> &'static str {
        match self {
            OperatorKind::Sequence { .. } => "sequence",
            OperatorKind::Words { .. } => "words",
            OperatorKind::Generator { .. } => "generator",
            OperatorKind::Map(_) => "map",
            OperatorKind::Filter(_) => "filter",
            OperatorKind::FlatMap(_) => "flat_map",
            OperatorKind::Sum => "sum",
            OperatorKind::Count => "count",
            OperatorKind::Reduce(_) => "reduce",
            OperatorKind::WindowCount { .. } => "window_count",
            OperatorKind::Discard { .. } => "discard",
            OperatorKind::Print { .. } => "print",
            OperatorKind::Collect { .. } => "collect",
        }
    }

    /// Source, transformation, keyed operator or sink.
    pub fn class(&self) -> KindClass {
        match self {
            OperatorKind::Sequence { .. }
            | OperatorKind::Words { .. }
            | OperatorKind::Generator { .. } => KindClass::Source,
            OperatorKind::Map(_) | OperatorKind::Filter(_) | OperatorKind::FlatMap(_) => {
                KindClass::Transform
            }
            OperatorKind::Sum
            | OperatorKind::Count
            | OperatorKind::Reduce(_)
            | OperatorKind::WindowCount { .. } => KindClass::Keyed,
            OperatorKind::Discard { .. }
            | OperatorKind::Print { .. }
            | OperatorKind::Collect { .. } => KindClass::Sink,
        }
    }

    /// The name Flink's DataStream API would give this operator when the
    /// program does not name it.
    pub fn default_name(&self) -> &'static str {
        match self {
            OperatorKind::Sequence { .. } => "Source: Sequence",
            OperatorKind::Words { .. } => "Source: Words",
            OperatorKind::Generator { .. } => "Source: Generator",
            OperatorKind::Map(_) => "Map",
            OperatorKind::Filter(_) => "Filter",
            OperatorKind::FlatMap(_) => "Flat Map",
            OperatorKind::Sum => "Keyed Aggregation",
            OperatorKind::Count => "Count",
            OperatorKind::Reduce(_) => "Keyed Reduce",
            OperatorKind::WindowCount { .. } => "Window Count",
            OperatorKind::Discard { .. } => "Sink: Discard",
            OperatorKind::Print { .. } => "Sink: Print to Std. Out",
            OperatorKind::Collect { .. } => "Sink: Collect",
        }
    }

    /// The record type this operator emits, given the type of its input
    /// (`None` for sources), or why the input does not fit.
    pub fn output_type(&self, input: Option<ValueType>) -> Result<ValueType, TypeMismatch> {
        use ValueType::*;
        let need = |want: ValueType, what: &str| -> Result<(), TypeMismatch> {
            match input {
                Some(t) if t == want => Ok(()),
                Some(t) => Err(TypeMismatch {
                    function: what.to_string(),
                    needs: want,
                    input: t,
                }),
                None => Ok(()),
            }
        };
        match self {
            OperatorKind::Sequence { .. } => Ok(Int),
            OperatorKind::Words { .. } => Ok(Str),
            OperatorKind::Generator { .. } => Ok(Pair),
            OperatorKind::Map(f) => match f {
                MapFn::Identity => Ok(input.unwrap_or(Any)),
                MapFn::KeyMod { .. } => need(Int, "map fn `key_mod`").map(|_| Pair),
                MapFn::ToPair => Ok(Pair),
                MapFn::Double => need(Int, "map fn `double`").map(|_| Int),
                MapFn::Upper => need(Str, "map fn `upper`").map(|_| Str),
            },
            OperatorKind::Filter(f) => match f {
                FilterFn::IsEven | FilterFn::IsOdd => need(Int, "filter fn").map(|_| Int),
                FilterFn::NonEmpty => need(Str, "filter fn `non_empty`").map(|_| Str),
            },
            OperatorKind::FlatMap(_) => need(Str, "flat_map").map(|_| Str),
            OperatorKind::Sum | OperatorKind::Reduce(_) => {
                need(Pair, self.kind_name()).map(|_| Pair)
            }
            OperatorKind::Count | OperatorKind::WindowCount { .. } => Ok(Pair),
            OperatorKind::Discard { .. }
            | OperatorKind::Print { .. }
            | OperatorKind::Collect { .. } => Ok(input.unwrap_or(Any)),
        }
    }
}

impl MapFn {
    /// Applies the function to one record.
    #[inline]
    pub fn apply(self, v: Value) -> Value {
        match (self, v) {
            (MapFn::Identity, v) => v,
            (MapFn::KeyMod { modulus }, Value::Int(x)) => {
                Value::Pair(Key::Int(x.rem_euclid(modulus)), 1)
            }
            (MapFn::ToPair, v) => Value::Pair(Key::from_value(v), 1),
            (MapFn::Double, Value::Int(x)) => Value::Int(x.wrapping_mul(2)),
            (MapFn::Upper, Value::Str(s)) => Value::Str(s.to_uppercase().into()),
            // Types are checked when the job is compiled; a record of another
            // shape can only come from a union of mixed streams and passes.
            (_, v) => v,
        }
    }
}

impl FilterFn {
    /// Whether the record passes.
    #[inline]
    pub fn test(self, v: &Value) -> bool {
        match (self, v) {
            (FilterFn::IsEven, Value::Int(x)) => x % 2 == 0,
            (FilterFn::IsOdd, Value::Int(x)) => x % 2 != 0,
            (FilterFn::NonEmpty, Value::Str(s)) => !s.is_empty(),
            _ => false,
        }
    }
}

impl FlatMapFn {
    /// Emits the records one input record expands to.
    pub fn apply(self, v: &Value, mut emit: impl FnMut(Value)) {
        let Value::Str(s) = v else { return };
        match self {
            FlatMapFn::Tokenize => s
                .split(|c: char| !c.is_alphanumeric())
                .filter(|w| !w.is_empty())
                .for_each(|w| emit(Value::Str(w.to_lowercase().into()))),
            FlatMapFn::SplitWhitespace => s
                .split_whitespace()
                .for_each(|w| emit(Value::Str(w.into()))),
        }
    }
}

impl ReduceFn {
    /// Combines the accumulated count with a new one.
    pub fn combine(self, acc: i64, x: i64) -> i64 {
        match self {
            ReduceFn::Sum => acc.wrapping_add(x),
            ReduceFn::Min => acc.min(x),
            ReduceFn::Max => acc.max(x),
        }
    }
}

/// The records of a `generator` source: record `i` has key
/// `mix(i) % keys`, so keys look random yet a replay from an offset
/// produces exactly the same records (which checkpoints rely on).
pub fn generator_record(i: u64, keys: u64) -> Value {
    let mut x = i.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^= x >> 31;
    Value::Pair(Key::Int((x % keys.max(1)) as i64), 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Tokenize lower-cases and drops punctuation, like wordcount examples.
    #[test]
    fn tokenize_splits_words() {
        let mut out = Vec::new();
        FlatMapFn::Tokenize.apply(&Value::Str("To be, or NOT to be".into()), |v| out.push(v));
        let words: Vec<String> = out.iter().map(|v| v.to_string()).collect();
        assert_eq!(words, ["to", "be", "or", "not", "to", "be"]);
    }

    /// A generator replays the same records from the same offsets.
    #[test]
    fn generator_is_a_pure_function_of_the_index() {
        assert_eq!(generator_record(42, 1000), generator_record(42, 1000));
        let Value::Pair(k, 1) = generator_record(7, 10) else {
            panic!("generator emits pairs")
        };
        assert!(matches!(k, Key::Int(x) if (0..10).contains(&x)));
    }
}
