//! Stream operators: what one chained operator does to a record, and the
//! state it owns.
//!
//! Flink's `StreamOperator` (with `OneInputStreamOperator.processElement`,
//! `snapshotState`/`initializeState`, and processing-time timers through
//! the `InternalTimerService`) is the runtime face of a user function.
//! [`StreamOperator`] is that interface; each built-in operator is one type
//! that owns its own state:
//!
//! | type | Flink class | state |
//! |---|---|---|
//! | [`StreamMap`] | `StreamMap` | none |
//! | [`StreamFilter`] | `StreamFilter` | none |
//! | [`StreamFlatMap`] | `StreamFlatMap` | none |
//! | [`StreamGroupedReduce`] | `StreamGroupedReduceOperator` (`sum`, `reduce`, `count`) | a value per key |
//! | [`WindowOperator`] | `WindowOperator` with tumbling processing-time windows and a count | a count per window and key, and a timer per window |
//!
//! Sources and sinks implement the same trait in [`super::source`] and
//! [`super::sink`]; the [`super::operator_chain`] builds one operator per
//! chained node and hands records from one to the next.
//!
//! - **In**: one record at a time with its [`Output`] (which also holds the
//!   chain's [`OperatorContext`]); timers.
//! - **Out**: emitted records handed to [`Output::collect`]; state as an
//!   [`OperatorSnapshot`].

pub use super::stream_operator::{Batch, OperatorContext, Output, StreamOperator};
use crate::jobmanager::checkpoint::snapshot::OperatorSnapshot;
use crate::operators::{FilterFn, FlatMapFn, Key, KeySelector, MapFn, ReduceFn, Value};
use std::collections::{BTreeMap, HashMap};

/// `map`: one record in, one out.
#[derive(Debug)]
pub struct StreamMap(pub MapFn);

impl StreamOperator for StreamMap {
    #[inline]
    fn process(&mut self, record: Value, out: &mut Output<'_>) {
        out.collect(self.0.apply(record));
    }

    fn process_batch(&mut self, batch: &mut Batch, out: &mut Output<'_>) {
        for v in batch.iter_mut() {
            *v = self.0.apply(std::mem::replace(v, Value::Int(0)));
        }
        out.collect_batch(batch);
    }
}

/// `filter`: one record in, zero or one out.
#[derive(Debug)]
pub struct StreamFilter(pub FilterFn);

impl StreamOperator for StreamFilter {
    #[inline]
    fn process(&mut self, record: Value, out: &mut Output<'_>) {
        if self.0.test(&record) {
            out.collect(record);
        }
    }

    fn process_batch(&mut self, batch: &mut Batch, out: &mut Output<'_>) {
        batch.retain(|v| self.0.test(v));
        out.collect_batch(batch);
    }
}

/// `flat_map`: one record in, any number out.
#[derive(Debug)]
pub struct StreamFlatMap(pub FlatMapFn);

impl StreamOperator for StreamFlatMap {
    #[inline]
    fn process(&mut self, record: Value, out: &mut Output<'_>) {
        self.0.apply(&record, |v| out.collect(v));
    }
}

/// The hasher of keyed state: fast and with a fixed seed, so nothing about
/// a run depends on a per-process random seed (state is never iterated in
/// hash order anyway: snapshots sort their keys).
pub type StateHasher = foldhash::fast::FixedState;

/// Keyed state: one number per key (Flink's `ValueState<Long>` on the heap
/// keyed state backend, a hash map), snapshotted in key order so
/// checkpoints are byte-for-byte deterministic. Number keys, the common
/// case, live in a map of their own keyed by the plain `i64`.
#[derive(Debug, Default)]
pub struct KeyedState {
    ints: HashMap<i64, i64, StateHasher>,
    others: HashMap<Key, i64, StateHasher>,
}

impl KeyedState {
    /// The value of a key.
    pub fn get(&self, key: &Key) -> Option<i64> {
        match key {
            Key::Int(i) => self.ints.get(i).copied(),
            _ => self.others.get(key).copied(),
        }
    }

    /// Sets the value of a key.
    pub fn put(&mut self, key: Key, v: i64) {
        match key {
            Key::Int(i) => self.ints.insert(i, v),
            _ => self.others.insert(key, v),
        };
    }

    /// Folds `f` into the value of `key` (absent: `None`) and returns the
    /// new value, with one hash lookup.
    #[inline]
    pub fn update(&mut self, key: &Key, f: impl FnOnce(Option<i64>) -> i64) -> i64 {
        use std::collections::hash_map::Entry;
        if let Key::Int(i) = key {
            return match self.ints.entry(*i) {
                Entry::Occupied(mut o) => {
                    let v = f(Some(*o.get()));
                    *o.get_mut() = v;
                    v
                }
                Entry::Vacant(e) => *e.insert(f(None)),
            };
        }
        if let Some(v) = self.others.get_mut(key) {
            *v = f(Some(*v));
            return *v;
        }
        let v = f(None);
        self.others.insert(key.clone(), v);
        v
    }

    /// Every key and value, in key order, for a snapshot (numbers sort
    /// before text and pairs, as [`Value`]'s order has it).
    pub fn snapshot(&self) -> OperatorSnapshot {
        let mut ints: Vec<(i64, i64)> = self.ints.iter().map(|(k, v)| (*k, *v)).collect();
        ints.sort_unstable();
        let mut others: Vec<(Value, i64)> = self
            .others
            .iter()
            .map(|(k, v)| (k.to_value(), *v))
            .collect();
        others.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        let mut keyed: Vec<(Value, i64)> =
            ints.into_iter().map(|(k, v)| (Value::Int(k), v)).collect();
        keyed.extend(others);
        OperatorSnapshot {
            keyed,
            ..OperatorSnapshot::default()
        }
    }

    /// Replaces everything with a snapshot's keyed state.
    pub fn restore(&mut self, snapshot: &OperatorSnapshot) {
        *self = KeyedState::default();
        for (k, v) in &snapshot.keyed {
            self.put(Key::from_value(k.clone()), *v);
        }
    }
}

/// The count of a `(key, n)` pair, 1 for any other record.
fn count_of(v: &Value) -> i64 {
    match v {
        Value::Pair(_, n) => *n,
        _ => 1,
    }
}

/// How a keyed aggregation folds a record into its key's value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Aggregate {
    /// `sum` and `reduce`: combines the pair's count with the value so far.
    Reduce(ReduceFn),
    /// `count`: one more record.
    Count,
}

impl Aggregate {
    /// The key's new value after `record`, from its value so far.
    #[inline]
    fn fold(self, acc: Option<i64>, record: &Value) -> i64 {
        match self {
            Aggregate::Reduce(f) => {
                let n = count_of(record);
                match acc {
                    Some(a) => f.combine(a, n),
                    None => n,
                }
            }
            Aggregate::Count => acc.unwrap_or(0) + 1,
        }
    }
}

/// Keyed rolling `sum`, `reduce` and `count`: emits `(key, value so far)`
/// per record.
#[derive(Debug)]
pub struct StreamGroupedReduce {
    key: KeySelector,
    aggregate: Aggregate,
    state: KeyedState,
}

impl StreamGroupedReduce {
    /// An aggregation keyed by `key`; `sum` is `Aggregate::Reduce(ReduceFn::Sum)`.
    pub fn new(key: KeySelector, aggregate: Aggregate) -> Self {
        StreamGroupedReduce {
            key,
            aggregate,
            state: KeyedState::default(),
        }
    }
}

impl StreamOperator for StreamGroupedReduce {
    #[inline]
    fn process(&mut self, record: Value, out: &mut Output<'_>) {
        let key = self.key.key_of(&record);
        let aggregate = self.aggregate;
        let acc = self.state.update(&key, |old| aggregate.fold(old, &record));
        out.collect(Value::Pair(key, acc));
    }

    fn process_batch(&mut self, batch: &mut Batch, out: &mut Output<'_>) {
        let aggregate = self.aggregate;
        for v in batch.iter_mut() {
            let key = self.key.key_of(v);
            let acc = self.state.update(&key, |old| aggregate.fold(old, v));
            *v = Value::Pair(key, acc);
        }
        out.collect_batch(batch);
    }

    fn snapshot(&self) -> OperatorSnapshot {
        self.state.snapshot()
    }

    fn restore(&mut self, snapshot: &OperatorSnapshot) {
        self.state.restore(snapshot);
    }
}

/// `window_count`: a keyed count per tumbling processing-time window; a
/// window's counts are emitted when its end time passes (its timer).
#[derive(Debug)]
pub struct WindowOperator {
    key: KeySelector,
    size_ms: u64,
    /// Window start → key → count.
    windows: BTreeMap<u64, BTreeMap<Key, i64>>,
}

impl WindowOperator {
    /// Windows of `size_ms`, keyed by `key`.
    pub fn new(key: KeySelector, size_ms: u64) -> Self {
        WindowOperator {
            key,
            size_ms,
            windows: BTreeMap::new(),
        }
    }
}

impl StreamOperator for WindowOperator {
    fn process(&mut self, record: Value, out: &mut Output<'_>) {
        let now = out.ctx().now_ms;
        let start = now - now % self.size_ms;
        let key = self.key.key_of(&record);
        *self
            .windows
            .entry(start)
            .or_default()
            .entry(key)
            .or_insert(0) += 1;
    }

    fn snapshot(&self) -> OperatorSnapshot {
        OperatorSnapshot {
            windows: self
                .windows
                .iter()
                .map(|(s, m)| (*s, m.iter().map(|(k, v)| (k.to_value(), *v)).collect()))
                .collect(),
            ..OperatorSnapshot::default()
        }
    }

    fn restore(&mut self, snapshot: &OperatorSnapshot) {
        self.windows = snapshot
            .windows
            .iter()
            .map(|(s, m)| {
                let counts = m.iter().map(|(k, v)| (Key::from_value(k.clone()), *v));
                (*s, counts.collect())
            })
            .collect();
    }

    fn next_timer(&self) -> Option<u64> {
        self.windows.keys().next().map(|s| s + self.size_ms)
    }

    fn on_timer(&mut self, now: Option<u64>, out: &mut Output<'_>) {
        let size_ms = self.size_ms;
        let due: Vec<u64> = self
            .windows
            .keys()
            .copied()
            .filter(|s| now.is_none_or(|now| s + size_ms <= now))
            .collect();
        for start in due {
            let counts = self.windows.remove(&start).unwrap_or_default();
            for (k, n) in counts {
                out.collect(Value::Pair(k, n));
            }
        }
    }
}
