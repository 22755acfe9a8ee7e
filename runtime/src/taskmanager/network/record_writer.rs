//! Record writers: the end of an operator chain that routes each record to
//! a consumer subtask.
//!
//! Flink's `RecordWriter` (`ChannelSelectorRecordWriter`, and
//! `BroadcastRecordWriter` for broadcast) asks the edge's partitioner for
//! the target channel and writes the record into that subpartition of its
//! `ResultPartition`. A task with several output edges holds one writer per
//! edge behind a `RecordWriterDelegate` (`MultipleRecordWriters`); here
//! [`RecordWriterDelegate`] also owns the task's seeded random generator,
//! which only the `shuffle` partitioner draws from.
//!
//! - **In**: records from the [`crate::taskmanager::task::operator_chain`],
//!   barriers and `EndOfPartition` from the task.
//! - **Out**: elements in the [`ResultPartition`]s; sizes in bytes for the
//!   task's counters.

use super::channel::ChannelError;
use super::result_partition::{BufferLimits, Flushed, ResultPartition, ResultSubpartition};
use crate::events::HostCtx;
use crate::graph::Partitioner;
use crate::operators::{Key, KeySelector, MAX_PARALLELISM, Value, operator_index_for_key_group};
use crate::rng::SeededRng;
use crate::rpc::{
    ChannelKey, CheckpointBarrier, ExecutionAttemptId, ResultPartitionDescriptor, StreamElement,
};
use tokio::sync::mpsc;

/// One output edge: routes records to subpartitions by the partitioner.
#[derive(Debug)]
pub struct RecordWriter {
    partitioner: Partitioner,
    round_robin: usize,
    /// Hash partitioning: key group → subpartition (its position in
    /// `partition.subpartitions`), Flink's `KeyGroupRangeAssignment`
    /// worked out once for the edge instead of once per record.
    key_group_table: Vec<u16>,
    /// Key groups of recently routed whole-number keys.
    key_groups: KeyGroupCache,
    /// Where the records go.
    pub partition: ResultPartition,
}

/// Slots of a [`KeyGroupCache`]: the whole-number keys `0..SLOTS` never
/// collide, so the usual small dense keys are each hashed once.
const KEY_GROUP_SLOTS: usize = 2048;

/// The key groups of recently routed whole-number keys, direct-mapped by
/// the key's low bits. A key's group is the stable FNV-1a hash of its
/// bytes ([`KeySelector::key_group_of`]), which costs more per record than
/// the rest of the routing; the cache only remembers its answers, so the
/// routing is exactly that of the hash.
#[derive(Debug)]
struct KeyGroupCache {
    keys: Vec<i64>,
    /// The key group of `keys[i]`, or [`Self::EMPTY`].
    groups: Vec<u8>,
}

impl KeyGroupCache {
    const EMPTY: u8 = u8::MAX;

    /// An empty cache; one that holds nothing unless `used`.
    fn new(used: bool) -> Self {
        let n = if used { KEY_GROUP_SLOTS } else { 0 };
        KeyGroupCache {
            keys: vec![0; n],
            groups: vec![Self::EMPTY; n],
        }
    }

    /// The key group of `v`'s key under `k`.
    #[inline]
    fn key_group(&mut self, k: KeySelector, v: &Value) -> u32 {
        let int = match (k, v) {
            (KeySelector::F0, Value::Pair(Key::Int(i), _))
            | (KeySelector::Value, Value::Int(i)) => *i,
            _ => return k.key_group_of(v),
        };
        let slot = (int as usize) & (KEY_GROUP_SLOTS - 1);
        if let (Some(&key), Some(&group)) = (self.keys.get(slot), self.groups.get(slot))
            && group != Self::EMPTY
            && key == int
        {
            return u32::from(group);
        }
        let group = k.key_group_of(v);
        if let (Some(key), Some(g)) = (self.keys.get_mut(slot), self.groups.get_mut(slot)) {
            *key = int;
            *g = group as u8;
        }
        group
    }
}

/// The subpartition of every key group: key group `kg` belongs to consumer
/// subtask `operator_index_for_key_group(kg, consumer_parallelism)`, found
/// among `consumers` (the consumer subtask of each subpartition, in order;
/// the first subpartition if the deployment lacks that consumer).
pub fn key_group_table(consumers: &[u32], consumer_parallelism: u32) -> Vec<u16> {
    (0..MAX_PARALLELISM)
        .map(|kg| {
            let idx = operator_index_for_key_group(kg, consumer_parallelism);
            consumers.iter().position(|&to| to == idx).unwrap_or(0) as u16
        })
        .collect()
}

impl RecordWriter {
    /// Routes one record; returns its size in bytes (times the copies for a
    /// broadcast).
    #[inline]
    pub fn write(&mut self, v: Value, rng: &mut SeededRng) -> u64 {
        let channels = &mut self.partition.subpartitions;
        let n = channels.len();
        if n == 0 {
            return 0;
        }
        let size = v.encoded_len() as u64;
        let target = match self.partitioner {
            Partitioner::Forward | Partitioner::Global => 0,
            Partitioner::Rebalance | Partitioner::Rescale => {
                self.round_robin = (self.round_robin + 1) % n;
                self.round_robin
            }
            Partitioner::Shuffle => rng.below(n as u64) as usize,
            Partitioner::Hash(k) => {
                self.key_group_table[self.key_groups.key_group(k, &v) as usize] as usize
            }
            Partitioner::Broadcast => {
                for c in channels.iter_mut() {
                    c.add(v.clone(), size);
                }
                return size * n as u64;
            }
        };
        channels[target].add(v, size);
        size
    }
}

/// All record writers of a task, one per output edge (Flink's
/// `RecordWriterDelegate`).
#[derive(Debug)]
pub struct RecordWriterDelegate {
    writers: Vec<RecordWriter>,
    rng: SeededRng,
    limits: BufferLimits,
    /// The buffer timeout, ms.
    buffer_timeout_ms: u64,
    /// Since when (ms) some buffer has held records without being sent.
    pending_since: Option<u64>,
}

impl RecordWriterDelegate {
    /// Opens the producer half of every channel of every output of a
    /// deployed attempt; a round robin starts at the producer's subtask
    /// index, as Flink's does. Buffers are full at `limits`; a partly
    /// filled one is sent after `buffer_timeout_ms`.
    pub fn new(
        attempt: ExecutionAttemptId,
        outputs: &[ResultPartitionDescriptor],
        net: &super::NetworkEnvironment,
        rng: SeededRng,
        limits: BufferLimits,
        buffer_timeout_ms: u64,
    ) -> Self {
        let writers = outputs
            .iter()
            .map(|out| {
                let subpartitions = out
                    .channels
                    .iter()
                    .map(|(to, loc)| {
                        let key = ChannelKey {
                            job: attempt.job,
                            attempt: attempt.attempt,
                            edge: out.edge,
                            from: attempt.subtask,
                            to: *to,
                        };
                        let (tx, remote) = net.output_channel(key, loc);
                        ResultSubpartition::new(*to, tx, remote, limits)
                    })
                    .collect();
                let consumers: Vec<u32> = out.channels.iter().map(|(to, _)| *to).collect();
                RecordWriter {
                    partitioner: out.partitioner,
                    key_group_table: key_group_table(&consumers, out.consumer_parallelism),
                    key_groups: KeyGroupCache::new(matches!(out.partitioner, Partitioner::Hash(_))),
                    round_robin: attempt.subtask as usize,
                    partition: ResultPartition {
                        edge: out.edge,
                        subpartitions,
                    },
                }
            })
            .collect();
        RecordWriterDelegate {
            writers,
            rng,
            limits,
            buffer_timeout_ms,
            pending_since: None,
        }
    }

    /// Records per buffer.
    pub fn buffer_records(&self) -> usize {
        self.limits.records
    }

    /// Routes one record through writer `w`; returns its size in bytes.
    #[inline]
    pub fn write(&mut self, w: usize, v: Value) -> u64 {
        self.writers[w].write(v, &mut self.rng)
    }

    /// Writes every record of `batch` to writer `w`, in order, leaving the
    /// batch empty; the bytes written.
    #[inline]
    pub fn write_batch(&mut self, w: usize, batch: &mut Vec<Value>) -> u64 {
        let writer = &mut self.writers[w];
        let rng = &mut self.rng;
        batch.drain(..).map(|v| writer.write(v, rng)).sum()
    }

    /// Every partition, in output order.
    pub fn partitions_mut(&mut self) -> impl Iterator<Item = &mut ResultPartition> {
        self.writers.iter_mut().map(|w| &mut w.partition)
    }

    /// Appends an element (barrier, end of partition) to every subpartition.
    pub fn broadcast(&mut self, el: StreamElement) {
        for p in self.partitions_mut() {
            p.broadcast(el.clone());
        }
    }

    /// Lets an unaligned barrier overtake everything buffered (see
    /// [`ResultPartition::overtake`]); returns the overtaken records as
    /// `(edge, consumer subtask, records)`.
    pub fn overtake(&mut self, b: CheckpointBarrier) -> Vec<(u32, u32, Vec<Value>)> {
        let mut stored = Vec::new();
        for p in self.partitions_mut() {
            let edge = p.edge;
            stored.extend(
                p.overtake(b)
                    .into_iter()
                    .map(|(to, records)| (edge, to, records)),
            );
        }
        stored
    }

    /// Puts records restored from an unaligned checkpoint in front of the
    /// subpartition they were overtaken in.
    pub fn restore_in_flight(&mut self, edge: u32, to: u32, records: Vec<Value>) {
        if let Some(c) = self
            .partitions_mut()
            .filter(|p| p.edge == edge)
            .flat_map(|p| p.subpartitions.iter_mut())
            .find(|c| c.to == to)
        {
            for v in records {
                c.push(StreamElement::Record(v));
            }
        }
    }

    /// Sends every full buffer (with `all`, every non-empty one); without
    /// `all`, also every partly filled one once the buffer timeout passed
    /// ([`RecordWriterDelegate::flush_timed_out`]).
    pub async fn flush(
        &mut self,
        all: bool,
        ctx: &HostCtx,
        backpressured_ms: &mut u64,
    ) -> Result<(), ChannelError> {
        for w in self.writers.iter_mut() {
            w.partition.flush(all, ctx, backpressured_ms).await?;
        }
        if all {
            self.pending_since = None;
        } else {
            self.flush_timed_out(ctx, backpressured_ms).await?;
        }
        Ok(())
    }

    /// Whether some buffer holds records not yet sent.
    pub fn has_pending(&self) -> bool {
        self.writers
            .iter()
            .any(|w| w.partition.subpartitions.iter().any(|c| c.has_pending()))
    }

    // ANCHOR: buffer_timeout
    /// The buffer timeout (Flink's `execution.buffer-timeout`): once some
    /// buffer has held records for `timeout_ms` (by the task's clock, so
    /// virtual in the simulator), every partly filled buffer is sent, so a
    /// slow stream still moves while the task is busy elsewhere. Checked
    /// between batches; returns whether it flushed.
    pub async fn flush_timed_out(
        &mut self,
        ctx: &HostCtx,
        backpressured_ms: &mut u64,
    ) -> Result<bool, ChannelError> {
        if !self.has_pending() {
            self.pending_since = None;
            return Ok(false);
        }
        let now = ctx.now_ms();
        let since = *self.pending_since.get_or_insert(now);
        if now.saturating_sub(since) < self.buffer_timeout_ms {
            return Ok(false);
        }
        for w in self.writers.iter_mut() {
            w.partition.flush(true, ctx, backpressured_ms).await?;
        }
        self.pending_since = None;
        Ok(true)
    }
    // ANCHOR_END: buffer_timeout

    /// Like [`RecordWriterDelegate::flush`], but stops at the first message
    /// on `interrupt` that arrives while a channel is full, and returns it.
    pub async fn flush_interruptible<T>(
        &mut self,
        all: bool,
        ctx: &HostCtx,
        backpressured_ms: &mut u64,
        interrupt: &mut mpsc::UnboundedReceiver<T>,
    ) -> Result<Option<T>, ChannelError> {
        for w in self.writers.iter_mut() {
            let flushed = w
                .partition
                .flush_interruptible(all, ctx, backpressured_ms, interrupt)
                .await?;
            if let Flushed::Interrupted(msg) = flushed {
                return Ok(msg);
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cache answers what the hash answers, for dense keys, for keys
    /// that share a slot (`i` and `i + 2048`, negatives), asked in turns so
    /// that each evicts the other, and for keys it does not cache.
    #[test]
    fn the_key_group_cache_agrees_with_the_hash() {
        let mut cache = KeyGroupCache::new(true);
        let ints = (-3000..5000).chain((0..64).flat_map(|i| [i, i + 2048, i - 2048]));
        for round in 0..2 {
            for i in ints.clone() {
                let pair = Value::Pair(Key::Int(i), round);
                assert_eq!(
                    cache.key_group(KeySelector::F0, &pair),
                    KeySelector::F0.key_group_of(&pair)
                );
                let int = Value::Int(i);
                assert_eq!(
                    cache.key_group(KeySelector::Value, &int),
                    KeySelector::Value.key_group_of(&int)
                );
            }
        }
        let text = Value::text("a key");
        assert_eq!(
            cache.key_group(KeySelector::Value, &text),
            KeySelector::Value.key_group_of(&text)
        );
    }
}
