//! Tests of the record writer: routing by key group through its table.
//! (The buffer timeout is tested in virtual time under turmoil, in
//! `tests/tests/buffer_timeout.rs`.)

use super::NetworkEnvironment;
use super::record_writer::RecordWriterDelegate;
use super::result_partition::BufferLimits;
use crate::events::{HostCtx, NoEvents, TokioClock};
use crate::graph::{JobId, Partitioner};
use crate::ids::ResourceId;
use crate::net::TcpNetwork;
use crate::operators::{KeySelector, Value};
use crate::rng::SeededRng;
use crate::rpc::{ExecutionAttemptId, Location, ResultPartitionDescriptor, StreamElement};
use std::sync::Arc;

const ADDR: &str = "tm-a:6121";

/// A TaskManager's network environment, with its host context.
fn env() -> (Arc<NetworkEnvironment>, HostCtx) {
    let ctx = HostCtx {
        host: "tm-a".into(),
        net: Arc::new(TcpNetwork::insecure()),
        events: Arc::new(NoEvents),
        clock: Arc::new(TokioClock::start()),
        seed: 7,
    };
    (NetworkEnvironment::new(ctx.clone(), ADDR.into(), 4), ctx)
}

fn attempt() -> ExecutionAttemptId {
    ExecutionAttemptId {
        job: JobId(1),
        vertex: 0,
        subtask: 0,
        attempt: 0,
    }
}

/// A writer for one edge to local consumers `consumers` (in deployment order).
fn writer(
    net: &NetworkEnvironment,
    partitioner: Partitioner,
    consumers: &[u32],
    limits: BufferLimits,
) -> RecordWriterDelegate {
    let here = Location {
        resource_id: ResourceId::new("tm-a"),
        data_addr: ADDR.into(),
    };
    let out = ResultPartitionDescriptor {
        edge: 0,
        partitioner,
        consumer_parallelism: consumers.len() as u32,
        channels: consumers.iter().map(|&to| (to, here.clone())).collect(),
    };
    RecordWriterDelegate::new(attempt(), &[out], net, SeededRng::new(1), limits, 100)
}

/// Flink's `KeyGroupRangeAssignment`, worked out here from its formulas
/// rather than through the runtime's functions: key group
/// `hash(key) % maxParallelism` (maxParallelism 128), then operator index
/// `keyGroup * parallelism / maxParallelism`. The key's hash is the one
/// the runtime has always used in place of Flink's murmur of `hashCode()`:
/// FNV-1a 64 over a tag byte and the key's bytes (0 and 8 little-endian
/// bytes for a number, 1 and UTF-8 for text).
fn flink_subtask(key: &Value, parallelism: u32) -> u32 {
    let mut bytes = Vec::new();
    match key {
        Value::Int(i) => {
            bytes.push(0);
            bytes.extend(i.to_le_bytes());
        }
        Value::Str(s) => {
            bytes.push(1);
            bytes.extend(s.as_bytes());
        }
        Value::Pair(..) => unreachable!("the test keys are numbers and text"),
    }
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    let key_group = (h % 128) as u32;
    key_group * parallelism / 128
}

fn keys() -> Vec<Value> {
    let mut keys: Vec<Value> = (-300..700).map(Value::Int).collect();
    keys.extend(["to", "be", "or", "not", "", "flink", "résumé"].map(Value::text));
    keys
}

/// Every record a writer holds, by consumer subtask.
fn routed(w: &mut RecordWriterDelegate) -> Vec<(u32, Value)> {
    let mut out = Vec::new();
    for p in w.partitions_mut() {
        for c in &p.subpartitions {
            for e in c.pending() {
                if let StreamElement::Record(v) = e {
                    out.push((c.to, v.clone()));
                }
            }
        }
    }
    out
}

/// Hash partitioning by the whole record (`keyBy(x -> x)`) and by a pair's
/// `f0` (`keyBy(t -> t.f0)`) sends every key to the subtask Flink's
/// assignment names, at every parallelism up to 9, whatever the order in
/// which the deployment lists the consumers.
#[tokio::test]
async fn hash_routing_follows_the_key_group_assignment() {
    let (net, _) = env();
    for parallelism in 1..=9u32 {
        let forward: Vec<u32> = (0..parallelism).collect();
        let reversed: Vec<u32> = forward.iter().rev().copied().collect();
        for consumers in [forward, reversed] {
            for selector in [KeySelector::Value, KeySelector::F0] {
                let mut w = writer(
                    &net,
                    Partitioner::Hash(selector),
                    &consumers,
                    BufferLimits {
                        records: 1 << 20,
                        bytes: 1 << 40,
                    },
                );
                for k in keys() {
                    let record = match selector {
                        KeySelector::Value => k.clone(),
                        KeySelector::F0 => Value::pair(k.clone(), 1),
                    };
                    w.write(0, record);
                }
                let got = routed(&mut w);
                assert_eq!(got.len(), keys().len());
                for (to, record) in got {
                    let key = match (&record, selector) {
                        (Value::Pair(k, _), KeySelector::F0) => k.to_value(),
                        _ => record.clone(),
                    };
                    assert_eq!(
                        to,
                        flink_subtask(&key, parallelism),
                        "{record} at p={parallelism}, {selector:?}, consumers {consumers:?}"
                    );
                }
            }
        }
    }
}
